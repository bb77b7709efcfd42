import Crypto
import FoundationEssentials

/// `POST /api/messages/send`: checks every rule of a send, then writes the message (QUEUED), the conversation's
/// preview, the lead's activity and the outbox event in one transaction. Delivery happens in the worker.
public struct SendMessage {
    public static let idempotencyScope = "POST /api/messages/send"
    /// Images Messenger fetches by URL.
    public static let facebookImageMaxBytes = 8 * 1024 * 1024
    public static let maxFileBytes = 50 * 1024 * 1024

    let store: any OutboundStore
    let mediaGuard: MediaURLGuard
    let media: any MediaStorage
    let idempotencyTTLSeconds: Int
    let now: Date

    public init(store: any OutboundStore, mediaGuard: MediaURLGuard, media: any MediaStorage, idempotencyTTLSeconds: Int,
                now: Date = Date()) {
        self.store = store
        self.mediaGuard = mediaGuard
        self.media = media
        self.idempotencyTTLSeconds = idempotencyTTLSeconds
        self.now = now
    }

    public struct Outcome: Sendable, Equatable {
        public let receipt: SendReceipt
        /// True when an earlier request with the same Idempotency-Key answered this already.
        public let replayed: Bool
    }

    public func run(_ principal: Principal, _ asked: SendMessageRequest, idempotencyKey: String?) throws -> Outcome {
        var request = asked
        if let key = idempotencyKey {
            let fingerprint = Hex.encode(Array(SHA256.hash(data: Array(request.canonical.utf8))))
            switch try store.claimIdempotencyKey(tenantID: principal.tenantID, scope: Self.idempotencyScope, key: key,
                                                 fingerprint: fingerprint, agentID: principal.agentID,
                                                 ttlSeconds: idempotencyTTLSeconds) {
            case .replay(let receipt): return Outcome(receipt: receipt, replayed: true)
            case .conflict:
                throw AppError(status: 422, code: "idempotency_key_reused",
                               message: "This Idempotency-Key was used for a different request; use a new key.")
            case .claimed: break
            }
        }
        // Before the conversation is locked: resolving a URL's host takes a network round trip (up to the resolver's
        // timeout), which must not hold up the thread's inbound messages and other sends. (A claimed idempotency key
        // holds up only a duplicate of this very request; a replay answers before any lookup.)
        try checkMediaURLs(request, tenant: principal.tenantID)
        // The tenant's own stored media goes out with a fresh signature: the link given may have expired, or carry
        // none, and the provider fetches it later.
        request.mediaURL = request.mediaURL.map { media.renewed(url: $0, tenant: principal.tenantID) }
        request.previewURL = request.previewURL.map { media.renewed(url: $0, tenant: principal.tenantID) }
        guard let conversation = try store.conversationForSend(tenantID: principal.tenantID, id: request.conversationID) else {
            throw AppError.notFound("Conversation")
        }
        try checkTarget(request, conversation)
        try checkContent(request, conversation)
        try checkWindow(conversation)

        let id = try store.queue(QueuedOutboundMessage(
            tenantID: principal.tenantID, conversation: conversation, senderAgentID: principal.agentID,
            actorEmail: principal.email, request: request, preview: Self.preview(request)))
        let receipt = SendReceipt(messageId: id, conversationId: conversation.id)
        if let key = idempotencyKey {
            try store.rememberResponse(tenantID: principal.tenantID, scope: Self.idempotencyScope, key: key, receipt: receipt)
        }
        return Outcome(receipt: receipt, replayed: false)
    }

    /// The conversation must be the lead's, on the channel named, and the thread fields must name this thread.
    func checkTarget(_ r: SendMessageRequest, _ c: ConversationForSend) throws {
        guard c.leadID == r.leadID else { throw AppError.invalidField("leadId", "does not match the conversation's lead.") }
        guard c.channel == r.channel else {
            throw AppError.invalidField("channel", "the conversation is on \(c.channel.rawValue), not \(r.channel.rawValue).")
        }
        if let thread = r.channelThreadID, !c.isNamed(byThread: thread) {
            throw AppError.invalidField("channelThreadId", "does not match the conversation's thread.")
        }
        switch r.facebookTarget {
        case nil: break
        case .some where c.channel != .facebook:
            throw AppError.invalidField("facebookTargetType", "applies to Facebook conversations only.")
        case .comment(let id)?:
            guard id == c.providerCommentID else {
                throw AppError.invalidField("facebookTargetId", "does not match the conversation's comment.")
            }
            guard c.awaitsPrivateReply else {
                throw AppError.conflict("This comment was answered already; further replies go through Messenger.",
                                        code: "private_reply_already_sent")
            }
        case .messenger(let psid)?:
            guard psid == c.directRecipientID else {
                throw AppError.invalidField("facebookTargetId", "does not match the conversation's Messenger user.")
            }
        }
    }

    /// LINE's text message limit, and Meta's (Messenger and Instagram) for message.text.
    static let lineTextMaxUTF16 = 5000
    static let metaTextMaxUTF16 = 2000

    /// The URLs the provider (and our worker) will fetch, whatever the type: public HTTPS hosts, or files the tenant
    /// stored with us (that exist).
    func checkMediaURLs(_ r: SendMessageRequest, tenant: UUID) throws {
        for (field, url) in [("mediaUrl", r.mediaURL), ("previewUrl", r.previewURL)] {
            guard let url else { continue }
            try mediaGuard.check(url, field: field, tenant: tenant)
            if mediaGuard.isOwnMedia(url, tenant: tenant), media.storedSize(url: url) == nil {
                throw AppError.invalidField(field, "names no file stored for this tenant.")
            }
        }
    }

    func checkContent(_ r: SendMessageRequest, _ c: ConversationForSend) throws {
        if r.type == .text {
            guard let text = r.content, !text.isEmpty else { throw AppError.invalidField("content", "is required for a text message.") }
        }
        // What the channel takes in one text (a caption too): refused here, not accepted and then failed by the
        // provider. Both count UTF-16 code units, so an emoji counts twice.
        if let text = r.content {
            let limit = c.channel == .line ? Self.lineTextMaxUTF16 : Self.metaTextMaxUTF16
            guard text.utf16.count <= limit else {
                throw AppError.invalidField("content", "is longer than \(c.channel.rawValue) takes in one message: at most "
                    + "\(limit) UTF-16 code units (an emoji counts as two), \(text.utf16.count) given.")
            }
        }
        if r.type != .text && c.awaitsPrivateReply {
            throw AppError(status: 422, code: "comment_reply_text_only",
                           message: "The first reply to a Facebook comment is a Private Reply, which can only be text. "
                               + "Send text first; images and files work once the conversation has moved to Messenger.")
        }
        if r.type != .text && c.channel == .instagram {
            throw AppError(status: 422, code: "unsupported_message_type",
                           message: "Instagram conversations take text messages only.")
        }
        switch r.type {
        case .text:
            break
        case .image:
            guard let url = r.mediaURL else { throw AppError.invalidField("mediaUrl", "is required for an image.") }
            let mime = r.mimeType?.lowercased()
            let allowed = c.channel == .line ? ["image/jpeg", "image/png"] : ["image/jpeg", "image/png", "image/webp", "image/gif"]
            guard let mime, allowed.contains(mime) else {
                throw AppError.invalidField("mimeType", "must be one of \(allowed.joined(separator: ", ")) for \(c.channel.rawValue).")
            }
            let size = r.fileSizeBytes ?? media.storedSize(url: url)
            if c.channel == .facebook, let size, size > Self.facebookImageMaxBytes {
                throw AppError.invalidField("fileSize", "Facebook fetches images of at most 8 MB.")
            }
        case .documentPDF:
            guard r.mediaURL != nil else { throw AppError.invalidField("mediaUrl", "is required for a PDF.") }
            guard r.mimeType == nil || r.mimeType?.lowercased() == "application/pdf" else {
                throw AppError.invalidField("mimeType", "must be application/pdf.")
            }
            guard r.fileName != nil else { throw AppError.invalidField("fileName", "is required for a PDF.") }
        }
        if let size = r.fileSizeBytes, size > Self.maxFileBytes {
            throw AppError.invalidField("fileSize", "must be at most 50 MB.")
        }
    }

    /// Meta refuses messages outside its window; say so now rather than queue a message that can only fail.
    func checkWindow(_ c: ConversationForSend) throws {
        guard c.channel != .line else { return }
        if !c.awaitsPrivateReply, c.directRecipientID == nil {
            throw AppError(status: 422, code: "no_messenger_recipient",
                           message: "Meta has not said who this customer is in Messenger (the comment's author was "
                               + "hidden, or the Private Reply's answer was lost). Reply in their Messenger "
                               + "conversation once they write.")
        }
        if c.awaitsPrivateReply {
            // A Private Reply is allowed within 7 days of the comment.
            let commentAt = c.lastInboundAt ?? c.createdAt
            guard now.timeIntervalSince(commentAt) <= MessagingWindow.humanAgentSeconds else {
                throw AppError(status: 422, code: "outside_messaging_window",
                               message: "This comment is more than 7 days old; Facebook no longer allows a Private Reply.")
            }
            return
        }
        if MessagingWindow.at(now, lastCustomerMessage: c.lastInboundAt) == .closed {
            throw AppError(status: 422, code: "outside_messaging_window",
                           message: "The customer's last message is more than 7 days old (or there is none); "
                               + "\(c.channel == .instagram ? "Instagram" : "Messenger") allows no reply until they write again.")
        }
    }

    static func preview(_ r: SendMessageRequest) -> String {
        switch r.type {
        case .text: return String((r.content ?? "").prefix(200))
        case .image: return r.content.map { "[image] " + $0.prefix(180) } ?? "[image]"
        case .documentPDF: return "[PDF] " + (r.fileName ?? "document").prefix(190)
        }
    }
}
