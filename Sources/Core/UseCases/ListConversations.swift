import FoundationEssentials

/// `GET /api/conversations`, `GET /api/conversations/:id/messages`, `POST /api/conversations/:id/mark-read`.
public struct ListConversations {
    let conversations: any ConversationRepository

    public init(conversations: any ConversationRepository) { self.conversations = conversations }

    public func page(_ principal: Principal, filter: ConversationFilter, page: PageRequest) throws
        -> Page<ConversationSummary>
    {
        let rows = try conversations.conversations(tenantID: principal.tenantID, filter: filter, page: page)
        return Page(rows: rows, limit: page.limit, cursor: \.sortKey)
    }

    public func one(_ principal: Principal, id: UUID) throws -> ConversationSummary {
        var filter = ConversationFilter()
        filter.conversationID = id
        guard let found = try conversations.conversations(tenantID: principal.tenantID, filter: filter,
                                                         page: PageRequest(limit: 1)).first
        else { throw AppError.notFound("Conversation") }
        return found
    }

    /// Newest first; 404 when the tenant has no such conversation (another tenant's id included).
    public func messages(_ principal: Principal, conversationID: UUID, page: PageRequest) throws -> Page<Message> {
        let rows = try conversations.messages(tenantID: principal.tenantID, conversationID: conversationID, page: page)
        if rows.isEmpty, try !conversations.conversationExists(tenantID: principal.tenantID, id: conversationID) {
            throw AppError.notFound("Conversation")
        }
        return Page(rows: rows, limit: page.limit, cursor: \.sortKey)
    }

    public func markRead(_ principal: Principal, conversationID: UUID) throws -> MarkedRead {
        guard let marked = try conversations.markRead(tenantID: principal.tenantID, id: conversationID) else {
            throw AppError.notFound("Conversation")
        }
        return marked
    }
}
