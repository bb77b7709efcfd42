import Core

/// `GET /api/leads/:id`.
struct GetLead: Route {
    static let method = "GET"
    static let pattern = "/api/leads/:id"
    static let group = RouteGroup.api

    func handle(_ request: Request, _ context: RequestContext) throws -> Response {
        let caller = try context.caller(request)
        let id = try request.uuidParameter("id")
        return try context.run(as: caller) { principal, db in
            try .json(ListLeads(leads: PostgresLeadRepository(connection: db)).one(principal, id: id))
        }
    }
}
