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
    /// The thread a page at a time. Our signed media links are renewed: the one stored with a message expires (30
    /// days for an upload by default), and an old image must still show.
    public func messages(_ principal: Principal, conversationID: UUID, page: PageRequest,
                         media: any MediaStorage) throws -> Page<Message> {
        var rows = try conversations.messages(tenantID: principal.tenantID, conversationID: conversationID, page: page)
        if rows.isEmpty, try !conversations.conversationExists(tenantID: principal.tenantID, id: conversationID) {
            throw AppError.notFound("Conversation")
        }
        for i in rows.indices {
            rows[i].mediaUrl = rows[i].mediaUrl.map { media.renewed(url: $0, tenant: principal.tenantID) }
            rows[i].previewUrl = rows[i].previewUrl.map { media.renewed(url: $0, tenant: principal.tenantID) }
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
