import FoundationEssentials

/// What `POST /api/messages/send` answers (and what an `Idempotency-Key` replays).
public struct SendReceipt: Codable, Sendable, Equatable {
    public let messageId: String
    public let conversationId: String
    public let status: String

    public init(messageId: UUID, conversationId: UUID, status: String = "QUEUED") {
        self.messageId = messageId.uuidString.lowercased()
        self.conversationId = conversationId.uuidString.lowercased()
        self.status = status
    }
}

/// An outbound message ready to be written, with everything the row, the preview and the outbox event need.
public struct QueuedOutboundMessage: Sendable, Equatable {
    public let tenantID: UUID
    public let conversation: ConversationForSend
    public let senderAgentID: UUID?
    public let actorEmail: String
    public let request: SendMessageRequest
    public let preview: String
}

/// The outcome of claiming an `Idempotency-Key`.
public enum IdempotencyClaim: Sendable, Equatable {
    /// First use: go ahead, then `rememberResponse`.
    case claimed
    /// Seen before with the same request: answer this again.
    case replay(SendReceipt)
    /// Seen before with a different request.
    case conflict
}

/// The send side of outbound, in the request's tenant-scoped transaction.
public protocol OutboundStore {
    /// The conversation, locked until the transaction ends (sends to one conversation take turns).
    func conversationForSend(tenantID: UUID, id: UUID) throws -> ConversationForSend?
    func claimIdempotencyKey(tenantID: UUID, scope: String, key: String, fingerprint: String, agentID: UUID?,
                             ttlSeconds: Int) throws -> IdempotencyClaim
    func rememberResponse(tenantID: UUID, scope: String, key: String, receipt: SendReceipt) throws
    /// Message (QUEUED), conversation preview, activity and outbox event, in one statement. Returns the message id.
    func queue(_ message: QueuedOutboundMessage) throws -> UUID
}
