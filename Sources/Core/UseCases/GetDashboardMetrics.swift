/// `GET /api/dashboard/metrics` (Manager, Admin).
public struct GetDashboardMetrics {
    public static let periodDays = 30
    let query: any DashboardMetricsQuery

    public init(query: any DashboardMetricsQuery) { self.query = query }

    public func run(_ principal: Principal) throws -> DashboardMetrics {
        try principal.require(AgentRole.managers)
        return try query.metrics(tenantID: principal.tenantID, periodDays: Self.periodDays)
    }
}
