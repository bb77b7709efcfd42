import Core

/// `POST /api/conversations/:id/mark-read`: unread back to zero; 404 for an id the tenant does not have.
struct PostConversationMarkRead: Route {
    static let method = "POST"
    static let pattern = "/api/conversations/:id/mark-read"
    static let group = RouteGroup.api

    func handle(_ request: Request, _ context: RequestContext) throws -> Response {
        let caller = try context.caller(request)
        let id = try request.uuidParameter("id")
        let (marked, tenant) = try context.run(as: caller) { principal, db in
            (try ListConversations(conversations: PostgresConversationRepository(connection: db))
                .markRead(principal, conversationID: id), principal.tenantID)
        }
        context.realtime.publish(RealtimeEvent(type: "conversation.read", tenantID: tenant, conversationID: id))
        return try .json(marked)
    }
}
