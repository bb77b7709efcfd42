import Core

/// `GET /api/leads/:id/activity`: the lead's history (status changes, assignments, notes, messages), newest first.
struct GetLeadActivity: Route {
    static let method = "GET"
    static let pattern = "/api/leads/:id/activity"
    static let group = RouteGroup.api

    func handle(_ request: Request, _ context: RequestContext) throws -> Response {
        let caller = try context.caller(request)
        let id = try request.uuidParameter("id")
        let page = try PageRequest(query: request.query)
        return try context.run(as: caller) { principal, db in
            try .json(ListLeads(leads: PostgresLeadRepository(connection: db)).activity(principal, leadID: id, page: page))
        }
    }
}
