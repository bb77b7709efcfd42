import Core

/// `GET /api/conversations/:id/messages`: the thread, newest first, a page at a time.
struct GetConversationMessages: Route {
    static let method = "GET"
    static let pattern = "/api/conversations/:id/messages"
    static let group = RouteGroup.api

    func handle(_ request: Request, _ context: RequestContext) throws -> Response {
        let caller = try context.caller(request)
        let id = try request.uuidParameter("id")
        let page = try PageRequest(query: request.query)
        return try context.run(as: caller) { principal, db in
            try .json(ListConversations(conversations: PostgresConversationRepository(connection: db))
                .messages(principal, conversationID: id, page: page, media: context.mediaStorage))
        }
    }
}
