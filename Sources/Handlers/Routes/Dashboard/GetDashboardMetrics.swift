import Core

/// `GET /api/dashboard/metrics` (Manager, Admin).
struct GetDashboardMetricsRoute: Route {
    static let method = "GET"
    static let pattern = "/api/dashboard/metrics"
    static let group = RouteGroup.api

    func handle(_ request: Request, _ context: RequestContext) throws -> Response {
        let caller = try context.caller(request)
        return try context.run(as: caller, roles: AgentRole.managers) { principal, db in
            try .json(GetDashboardMetrics(query: PostgresDashboardMetrics(connection: db)).run(principal))
        }
    }
}
