import Core

/// `GET /api/conversations/:id`: one row of the inbox list (a deep link opens it without paging to find it).
struct GetConversation: Route {
    static let method = "GET"
    static let pattern = "/api/conversations/:id"
    static let group = RouteGroup.api

    func handle(_ request: Request, _ context: RequestContext) throws -> Response {
        let caller = try context.caller(request)
        let id = try request.uuidParameter("id")
        return try context.run(as: caller) { principal, db in
            try .json(ListConversations(conversations: PostgresConversationRepository(connection: db)).one(principal, id: id))
        }
    }
}
