import FoundationEssentials

/// One queued outbound message with everything its delivery needs, read by the worker.
public struct OutboundDelivery: Sendable, Equatable {
    public let messageID: UUID
    public let tenantID: UUID
    public let conversationID: UUID
    public let leadID: UUID
    public let channel: Channel
    public let type: OutboundContentType
    public let content: String
    public let mediaURL: String?
    public let previewURL: String?
    public let mimeType: String?
    public let fileName: String?
    /// QUEUED until delivered; anything else means a repeated job, which must change nothing.
    public let deliveryStatus: String
    /// Provider ids of parts already delivered (a Messenger image with a caption is two sends).
    public let deliveredParts: [String: String]
    /// The part an earlier attempt was sending when it stopped without an answer (the worker died mid-call): a
    /// request with no idempotency key that may have reached the customer (see `DeliveryStore.markSending`).
    public let sendingPart: String?
    public let conversation: ConversationForSend
    public let lineReplyToken: String?
    public let lineReplyTokenReceivedAt: Date?
    public let providerPageID: String?
    /// The account that sends, with its token (nil when the tenant has none for this channel).
    public let account: ChannelAccount?

    public init(messageID: UUID, tenantID: UUID, conversationID: UUID, leadID: UUID, channel: Channel,
                type: OutboundContentType, content: String, mediaURL: String?, previewURL: String?, mimeType: String?,
                fileName: String?, deliveryStatus: String, deliveredParts: [String: String], sendingPart: String? = nil,
                conversation: ConversationForSend, lineReplyToken: String?, lineReplyTokenReceivedAt: Date?,
                providerPageID: String?, account: ChannelAccount?) {
        self.messageID = messageID
        self.tenantID = tenantID
        self.conversationID = conversationID
        self.leadID = leadID
        self.channel = channel
        self.type = type
        self.content = content
        self.mediaURL = mediaURL
        self.previewURL = previewURL
        self.mimeType = mimeType
        self.fileName = fileName
        self.deliveryStatus = deliveryStatus
        self.deliveredParts = deliveredParts
        self.sendingPart = sendingPart
        self.conversation = conversation
        self.lineReplyToken = lineReplyToken
        self.lineReplyTokenReceivedAt = lineReplyTokenReceivedAt
        self.providerPageID = providerPageID
        self.account = account
    }
}

/// How one delivery attempt ended.
public enum DeliveryResult: Sendable, Equatable {
    case delivered(providerMessageID: String?)
    /// Worth another attempt later (timeout, 5xx): uses up an attempt.
    case retry(reason: String)
    /// The provider (or our own limit) asked us to slow down: try again after `seconds`, without using an attempt.
    case rateLimited(seconds: Double, reason: String)
    /// The provider refused for good (policy, permissions, a closed window): dead letter with the reason.
    case permanent(code: String, reason: String)
}

/// The delivery side of outbound in the store (PostgreSQL by default). Each call is its own short transaction; the
/// batch calls serve a lane's whole claim in one round trip.
public protocol DeliveryStore {
    /// The messages named, with what their delivery needs (missing ones are left out), in no particular order.
    func deliveries(_ messages: [MessageRef]) throws -> [OutboundDelivery]
    /// Takes the conversation's LINE reply token if it arrived less than `maxAgeSeconds` ago and before the message
    /// was queued (the customer's message it answers); a token is handed out once, so two sends never use the same
    /// one. Taking it marks the message as sending its `lineReply` (see `markSending`). A token that came later is never used, so a message whose push may already have gone out (a batch
    /// given back before its SENT mark) is pushed again under its retry key, never also sent as a reply.
    func takeLineReplyToken(conversationID: UUID, tenantID: UUID, maxAgeSeconds: Int, for messageID: UUID) throws
        -> String?
    /// Records, durably, that a request with no idempotency key (a Meta send, a Private Reply) is about to go out for
    /// `part` of the message. If the attempt ends without an answer (the worker dies mid-call), the next attempt
    /// finds the mark and must not send again; an answer clears it (`clearSending`, `recordPart`, `markSent`).
    func markSending(messageID: UUID, tenantID: UUID, part: String) throws
    /// The attempt got an answer that says nothing was delivered: a later attempt may send again.
    func clearSending(messageID: UUID, tenantID: UUID) throws
    /// Records a delivered part (for messages sent in more than one request).
    func recordPart(messageID: UUID, tenantID: UUID, part: String, providerMessageID: String) throws
    /// QUEUED → SENT, with the provider's id; activity MESSAGE_SENT; durable when it returns. Answers the messages
    /// that changed (one no longer QUEUED is left alone).
    func markSent(_ marks: [SentMark]) throws -> Set<UUID>
    /// QUEUED → FAILED, with the provider's reason; activity MESSAGE_FAILED.
    func markFailed(messageID: UUID, tenantID: UUID, code: String, reason: String) throws
    /// The comment was answered by a Private Reply: later sends go through Messenger.
    /// The comment has its Private Reply; the conversation's DMs go to `recipientID` (the PSID Meta answered with)
    /// from now on, or to nobody when the answer was lost (the commenter's own id is no PSID).
    func markPrivateReplySent(conversationID: UUID, tenantID: UUID, commentID: String, recipientID: String?) throws
    func markPublicReplySent(conversationID: UUID, tenantID: UUID, providerCommentID: String?, error: String?) throws
    /// Takes up to `wanted` slots per account from every one of its limits, shared by every worker: answers, per
    /// account, how many were granted and, when fewer than wanted, the seconds until the window that refused has
    /// room. Only granted slots are counted.
    func acquireSendSlots(_ requests: [SlotRequest]) throws -> [UUID: SlotGrant]
}

extension DeliveryStore {
    @discardableResult
    public func markSent(messageID: UUID, tenantID: UUID, providerMessageID: String?) throws -> Bool {
        try !markSent([SentMark(messageID: messageID, tenantID: tenantID, providerMessageID: providerMessageID)]).isEmpty
    }
}

/// A message of a tenant (what an outbound job names).
public struct MessageRef: Sendable, Hashable {
    public let messageID: UUID
    public let tenantID: UUID

    public init(messageID: UUID, tenantID: UUID) {
        self.messageID = messageID
        self.tenantID = tenantID
    }
}

/// A message a provider accepted, to be marked SENT.
public struct SentMark: Sendable, Equatable {
    public let messageID: UUID
    public let tenantID: UUID
    public let providerMessageID: String?

    public init(messageID: UUID, tenantID: UUID, providerMessageID: String?) {
        self.messageID = messageID
        self.tenantID = tenantID
        self.providerMessageID = providerMessageID
    }
}

/// Slots wanted from one channel account's limits.
public struct SlotRequest: Sendable, Equatable {
    public let tenantID: UUID
    public let accountID: UUID
    public let wanted: Int
    public let limits: [RateLimit]

    public init(tenantID: UUID, accountID: UUID, wanted: Int, limits: [RateLimit]) {
        self.tenantID = tenantID
        self.accountID = accountID
        self.wanted = wanted
        self.limits = limits
    }
}

/// What an account's limits granted: `granted` slots, and when fewer than wanted, how long until there is room.
public struct SlotGrant: Sendable, Equatable {
    public let granted: Int
    public let waitSeconds: Double?

    public init(granted: Int, waitSeconds: Double?) {
        self.granted = granted
        self.waitSeconds = waitSeconds
    }
}

/// `requests` per `windowSeconds`, under a name (our own limit, the provider's).
public struct RateLimit: Sendable, Equatable {
    public let bucket: String
    public let requests: Int
    public let windowSeconds: Int

    public init(bucket: String, requests: Int, windowSeconds: Int) {
        self.bucket = bucket
        self.requests = requests
        self.windowSeconds = windowSeconds
    }

    /// Below the providers' published ceilings: LINE 2,000 push/reply requests per second per channel; Meta 300
    /// calls per second per Page or Instagram account.
    public static func providerCeiling(_ channel: Channel) -> RateLimit {
        switch channel {
        case .line: return RateLimit(bucket: "provider", requests: 1_800, windowSeconds: 1)
        case .facebook, .instagram: return RateLimit(bucket: "provider", requests: 250, windowSeconds: 1)
        }
    }
}
