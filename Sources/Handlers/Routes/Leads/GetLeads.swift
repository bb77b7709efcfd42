import Core

/// `GET /api/leads`: newest activity first, filtered by status, channel, agent and activity window.
struct GetLeads: Route {
    static let method = "GET"
    static let pattern = "/api/leads"
    static let group = RouteGroup.api

    func handle(_ request: Request, _ context: RequestContext) throws -> Response {
        let caller = try context.caller(request)
        let filter = LeadFilter(
            status: try request.queryEnum("status", LeadStatus.self),
            channel: try request.queryEnum("channel", Channel.self),
            assignment: try request.queryAssignment("assignedSalesId"),
            lastActivityFrom: try request.queryDate("lastActivityFrom"),
            lastActivityTo: try request.queryDate("lastActivityTo", endOfDay: true))
        let page = try PageRequest(query: request.query)
        return try context.run(as: caller) { principal, db in
            try .json(ListLeads(leads: PostgresLeadRepository(connection: db)).page(principal, filter: filter, page: page))
        }
    }
}
