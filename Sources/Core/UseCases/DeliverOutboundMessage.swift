import FoundationEssentials
import Logging
import Synchronization

/// Delivers one queued outbound message through its channel (the worker's `message.outbound.requested` job).
///
/// Idempotent: a message that is no longer QUEUED is left alone, so a repeated job sends nothing. A LINE push
/// carries the message id as `X-Line-Retry-Key`, so even an attempt whose answer was lost cannot deliver twice.
/// Facebook comment threads are answered first by a Private Reply, then (once, best effort) a public reply under
/// the comment, and from then on through Messenger.
public struct DeliverOutboundMessage {
    /// Posted under the comment after the Private Reply: "Excuse me, I'll reply via Inbox".
    public static let publicReplyText = "ขออนุญาตตอบกลับทาง Inbox นะครับ"
    /// LINE reply tokens expire about a minute after the event; past this age, push.
    public static let lineReplyTokenMaxAgeSeconds = 50

    let store: any DeliveryStore
    let line: LineMessagingClient
    let meta: MetaSendClient
    let previews: (any LinePreviewMaker)?
    let ownLimit: RateLimit
    let localLimiter: LocalRateLimiter
    let defaultAccounts: [Channel: ChannelAccount]
    let useLineReplyTokens: Bool
    let now: () -> Date
    let logger: Logger

    public init(store: any DeliveryStore, line: LineMessagingClient, meta: MetaSendClient, previews: (any LinePreviewMaker)?,
                ownLimit: RateLimit, localLimiter: LocalRateLimiter, defaultAccounts: [Channel: ChannelAccount],
                useLineReplyTokens: Bool = true, now: @escaping () -> Date = Date.init, logger: Logger) {
        self.store = store
        self.line = line
        self.meta = meta
        self.previews = previews
        self.ownLimit = ownLimit
        self.localLimiter = localLimiter
        self.defaultAccounts = defaultAccounts
        self.useLineReplyTokens = useLineReplyTokens
        self.now = now
        self.logger = logger
    }

    public struct Outcome: Sendable, Equatable {
        public let result: DeliveryResult
        /// The message as it was loaded (nil when it no longer exists).
        public let delivery: OutboundDelivery?
        /// True when this attempt changed the message's status (worth a realtime event).
        public let changedStatus: Bool
        /// Delivered by a request the provider deduplicates (a LINE push under its retry key), and not yet marked
        /// SENT: `record` marks a batch of these in one statement. Anything else is marked as soon as it went out.
        public let awaitsRecord: Bool

        init(result: DeliveryResult, delivery: OutboundDelivery?, changedStatus: Bool, awaitsRecord: Bool = false) {
            self.result = result
            self.delivery = delivery
            self.changedStatus = changedStatus
            self.awaitsRecord = awaitsRecord
        }
    }

    /// A message of a batch, loaded and with its rate-limit slot decided, ready for `send`.
    public struct Prepared: Sendable {
        public let message: MessageRef
        let delivery: OutboundDelivery?
        /// Already settled before any provider call (gone, no longer QUEUED, no account, rate-limited).
        let settled: Outcome?
        let account: ChannelAccount?
        let token: String
    }

    /// Loads a batch of messages in one statement and takes their rate-limit slots in another (per account, as many
    /// as it has QUEUED messages here); a message its account had no slot left for is settled as rate-limited.
    /// Answers in the order given.
    public func prepare(_ messages: [MessageRef]) throws -> [Prepared] {
        var loaded: [UUID: OutboundDelivery] = [:]
        for d in try store.deliveries(messages) { loaded[d.messageID] = d }
        var prepared: [Prepared] = messages.map { ref in
            guard let d = loaded[ref.messageID], d.tenantID == ref.tenantID else {
                return Prepared(message: ref, delivery: nil, settled: Outcome(result: .delivered(providerMessageID: nil),
                                                                              delivery: nil, changedStatus: false),
                                account: nil, token: "")
            }
            guard d.deliveryStatus == "QUEUED" else {
                return Prepared(message: ref, delivery: d, settled: Outcome(result: .delivered(providerMessageID: nil),
                                                                            delivery: d, changedStatus: false),
                                account: nil, token: "")
            }
            guard let account = d.account ?? defaultAccounts[d.channel], let token = account.credentials.accessToken,
                  !token.isEmpty
            else {
                let reason = "This tenant has no \(d.channel.rawValue) account with an access token."
                return Prepared(message: ref, delivery: d,
                                settled: Outcome(result: .permanent(code: "no_channel_account", reason: reason),
                                                 delivery: d, changedStatus: false),
                                account: nil, token: "")
            }
            return Prepared(message: ref, delivery: d, settled: nil, account: account, token: token)
        }
        // Our own limit and the provider's ceiling, shared by every worker through the store; accounts configured by
        // env vars alone (no row to count against) are limited per process.
        var wanted: [UUID: SlotRequest] = [:]
        for p in prepared where p.settled == nil {
            guard let account = p.account, let id = account.id else { continue }
            let limits = [ownLimit, RateLimit.providerCeiling(account.channel)]
            wanted[id] = SlotRequest(tenantID: account.tenantID, accountID: id, wanted: (wanted[id]?.wanted ?? 0) + 1,
                                     limits: limits)
        }
        var grants = try store.acquireSendSlots(Array(wanted.values))
        for (index, p) in prepared.enumerated() where p.settled == nil {
            guard let account = p.account, let d = p.delivery else { continue }
            let wait: Double?
            if let id = account.id {
                let grant = grants[id] ?? SlotGrant(granted: 0, waitSeconds: 1)
                if grant.granted > 0 {
                    grants[id] = SlotGrant(granted: grant.granted - 1, waitSeconds: grant.waitSeconds)
                    wait = nil
                } else {
                    wait = grant.waitSeconds ?? 1
                }
            } else {
                wait = localLimiter.acquire(key: account.channel.rawValue,
                                            limits: [ownLimit, RateLimit.providerCeiling(account.channel)])
            }
            if let wait {
                let reason = "outbound rate limit of the \(d.channel.rawValue) account"
                prepared[index] = Prepared(message: p.message, delivery: d,
                                           settled: Outcome(result: .rateLimited(seconds: wait, reason: reason),
                                                            delivery: d, changedStatus: false),
                                           account: account, token: p.token)
            }
        }
        return prepared
    }

    /// Sends one prepared message through its channel. A Messenger, Instagram or reply-token send is marked SENT
    /// before this returns (Meta has no idempotency key, and a reply token works once, so that mark is the only
    /// record that it went out); a LINE push is left for `record`, since repeating it under the same retry key
    /// delivers nothing twice.
    public func send(_ p: Prepared) throws -> Outcome {
        if let settled = p.settled { return settled }
        guard let d = p.delivery, let account = p.account else {
            return Outcome(result: .delivered(providerMessageID: nil), delivery: nil, changedStatus: false)
        }
        if let unconfirmed = Self.interruptedEarlier(d) {
            return Outcome(result: unconfirmed, delivery: d, changedStatus: false)
        }
        let result: DeliveryResult
        var pushed = false
        switch d.channel {
        case .line: (result, pushed) = try deliverLINE(d, token: p.token)
        case .facebook: result = try deliverFacebook(d, token: p.token, pageID: d.providerPageID ?? account.externalAccountID)
        case .instagram: result = try deliverDirect(d, token: p.token, node: "me")
        }
        guard case .delivered(let id) = result else {
            return Outcome(result: result, delivery: d, changedStatus: false)
        }
        if pushed { return Outcome(result: result, delivery: d, changedStatus: false, awaitsRecord: true) }
        let changed = try store.markSent(messageID: d.messageID, tenantID: d.tenantID, providerMessageID: id)
        return Outcome(result: result, delivery: d, changedStatus: changed)
    }

    /// Marks the batch's pushed messages SENT in one durable statement; answers the outcomes with `changedStatus`
    /// set. If this never happens (the worker dies first), the jobs run again and LINE answers their repeated retry
    /// keys with 409: delivered once.
    public func record(_ outcomes: [Outcome]) throws -> [Outcome] {
        let marks: [SentMark] = outcomes.compactMap { outcome in
            guard outcome.awaitsRecord, let d = outcome.delivery, case .delivered(let id) = outcome.result else { return nil }
            return SentMark(messageID: d.messageID, tenantID: d.tenantID, providerMessageID: id)
        }
        guard !marks.isEmpty else { return outcomes }
        let changed = try store.markSent(marks)
        return outcomes.map { outcome in
            guard outcome.awaitsRecord, let d = outcome.delivery else { return outcome }
            return Outcome(result: outcome.result, delivery: d, changedStatus: changed.contains(d.messageID))
        }
    }

    /// A message whose earlier attempt stopped mid-request (the worker died while a Meta send or a LINE reply was
    /// in flight; see `DeliveryStore.markSending`) may have reached the customer, and neither request can be
    /// repeated safely: it fails with the reason, and the agent decides. A Private Reply is the exception: Meta
    /// refuses a second one to the same comment, so `deliverFacebook` simply asks again.
    static func interruptedEarlier(_ d: OutboundDelivery) -> DeliveryResult? {
        guard let part = d.sendingPart, d.deliveredParts[part] == nil else { return nil }
        let went = d.deliveredParts.keys.sorted()
        let why = "The worker stopped while this message was being sent, before the provider answered. "
            + (went.isEmpty ? "It" : "Its \(went.joined(separator: " and ")) went out; its \(part)")
            + " may have reached the customer, so it was not sent again. Check the conversation before resending."
        switch part {
        case privateReplyPart: return nil
        case lineReplyPart: return .permanent(code: "line_reply_unconfirmed", reason: why)
        default: return .permanent(code: "meta_send_unconfirmed", reason: why)
        }
    }

    static let lineReplyPart = "lineReply"
    static let privateReplyPart = "privateReply"

    /// After a request with no idempotency key got an answer that did not deliver: a later attempt may send again.
    /// (An unconfirmed send stays marked; its message fails anyway.)
    func settleSending(_ d: OutboundDelivery, _ result: DeliveryResult) throws {
        if case .permanent(let code, _) = result, code.hasSuffix("_unconfirmed") { return }
        try store.clearSending(messageID: d.messageID, tenantID: d.tenantID)
    }

    // MARK: LINE

    /// The result, and whether it went by push (under its retry key) rather than with a reply token.
    func deliverLINE(_ d: OutboundDelivery, token: String) throws -> (DeliveryResult, pushed: Bool) {
        var preview: String?
        if d.type == .image, d.previewURL == nil, let previews {
            do { preview = try previews.previewURL(for: d) } catch {
                logger.warning("could not make a LINE preview; using the original", metadata: [
                    "messageId": "\(d.messageID)", "error": "\(error)"])
            }
        }
        let messages = LineMessagingClient.messages(for: d, previewURL: preview)
        if useLineReplyTokens, d.lineReplyToken != nil,
           let replyToken = try store.takeLineReplyToken(conversationID: d.conversationID, tenantID: d.tenantID,
                                                         maxAgeSeconds: Self.lineReplyTokenMaxAgeSeconds,
                                                         for: d.messageID) {
            // Taking the token marked the message as sending its reply (a reply has no retry key).
            switch line.reply(token: replyToken, messages: messages, accessToken: token) {
            case .sent(let result):
                if case .delivered = result {} else { try settleSending(d, result) }
                return (result, false)
            case .tokenRefused:  // expired or used: push instead
                try store.clearSending(messageID: d.messageID, tenantID: d.tenantID)
            }
        }
        return (line.push(to: d.conversation.channelThreadID, messages: messages, retryKey: d.messageID, accessToken: token), true)
    }

    // MARK: Facebook and Instagram

    func deliverFacebook(_ d: OutboundDelivery, token: String, pageID: String) throws -> DeliveryResult {
        if d.sendingPart == Self.privateReplyPart && !d.conversation.awaitsPrivateReply {
            // This message went out as the Private Reply, and the worker stopped before marking it SENT: sending it
            // again by Messenger would show it twice.
            return .delivered(providerMessageID: nil)
        }
        guard d.conversation.awaitsPrivateReply else { return try deliverDirect(d, token: token, node: "me") }
        guard d.type == .text else {
            return .permanent(code: "comment_reply_text_only", reason: "The first reply to a comment must be text.")
        }
        guard let commentID = d.conversation.providerCommentID else {
            return .permanent(code: "missing_comment_id", reason: "The conversation has no comment id to reply to.")
        }
        let commentAt = d.conversation.lastInboundAt ?? d.conversation.createdAt
        guard now().timeIntervalSince(commentAt) <= MessagingWindow.humanAgentSeconds else {
            return .permanent(code: "outside_messaging_window", reason: "A Private Reply is allowed within 7 days of the comment.")
        }
        try store.markSending(messageID: d.messageID, tenantID: d.tenantID, part: Self.privateReplyPart)
        var (result, code, recipientID) = meta.sendPrivateReply(
            node: pageID.isEmpty || pageID == "*" ? "me" : pageID, commentID: commentID, text: d.content,
            accessToken: token)
        if code == MetaSendClient.alreadyRepliedCode {
            if d.sendingPart == Self.privateReplyPart {
                // This message's earlier attempt sent it and its answer was lost (the mark says it was in flight).
                result = .delivered(providerMessageID: nil)
            } else {
                result = .permanent(code: "private_reply_already_sent", reason: "Meta says this comment already has its "
                    + "Private Reply (sent from the Page's inbox or another tool), so this message did not go out. "
                    + "Write in Messenger once the customer answers.")
            }
        }
        if case .permanent(let code, let why) = result, code == "meta_send_unconfirmed" {
            // Safe to ask again, unlike a DM: Meta refuses a second Private Reply to one comment, and the mark stays,
            // so the next attempt reads that refusal as this one having gone out.
            return .retry(reason: "Private Reply not confirmed; asking again. \(why)")
        }
        guard case .delivered = result else {
            // A 5xx may have delivered it too: the mark stays for the retry, which reads Meta's refusal as sent.
            if case .retry = result { return result }
            try settleSending(d, result)
            return result
        }
        // Later sends are Messenger DMs, which go to the PSID Meta answered with (a commenter's id is no PSID).
        try store.markPrivateReplySent(conversationID: d.conversationID, tenantID: d.tenantID, commentID: commentID,
                                       recipientID: recipientID)
        // Once, best effort: a failed public reply is recorded and never holds up the message.
        let (publicReply, _) = meta.replyToComment(commentID, text: Self.publicReplyText, accessToken: token)
        switch publicReply {
        case .delivered(let id):
            try store.markPublicReplySent(conversationID: d.conversationID, tenantID: d.tenantID, providerCommentID: id, error: nil)
        case .retry(let reason), .rateLimited(_, let reason), .permanent(_, let reason):
            logger.warning("the public comment reply failed; not retried", metadata: [
                "conversationId": "\(d.conversationID)", "error": "\(reason)"])
            try store.markPublicReplySent(conversationID: d.conversationID, tenantID: d.tenantID, providerCommentID: nil,
                                          error: reason)
        }
        return result
    }

    /// A Messenger or Instagram DM: within 24 h of the customer's last message a standard response, within 7 days
    /// with the HUMAN_AGENT tag, never after. An attachment with a caption is two sends; a part that went out is
    /// recorded so a retry sends only what is left.
    func deliverDirect(_ d: OutboundDelivery, token: String, node: String) throws -> DeliveryResult {
        guard let recipient = d.conversation.directRecipientID else {
            return .permanent(code: "missing_recipient", reason: "The conversation has no Messenger or Instagram user id.")
        }
        let window = MessagingWindow.at(now(), lastCustomerMessage: d.conversation.lastInboundAt)
        guard window != .closed else {
            return .permanent(code: "outside_messaging_window",
                              reason: "The customer's last message is more than 7 days old; Meta allows no reply.")
        }
        var parts: [(name: String, message: JSONValue)] = []
        switch d.type {
        case .text:
            parts.append(("text", ["text": .string(d.content)]))
        case .image, .documentPDF:
            let kind = d.type == .image ? "image" : "file"
            parts.append(("attachment", ["attachment": ["type": .string(kind),
                                                        "payload": ["url": .string(d.mediaURL ?? ""), "is_reusable": true]]]))
            if !d.content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                parts.append(("caption", ["text": .string(d.content)]))
            }
        }
        var last: String?
        for part in parts {
            if let done = d.deliveredParts[part.name] { last = done; continue }
            try store.markSending(messageID: d.messageID, tenantID: d.tenantID, part: part.name)
            let (result, _) = meta.sendMessage(node: node, recipient: ["id": .string(recipient)], message: part.message,
                                               window: window, accessToken: token)
            guard case .delivered(let id) = result else {
                try settleSending(d, result)
                return result
            }
            last = id
            if parts.count > 1, let id {
                try store.recordPart(messageID: d.messageID, tenantID: d.tenantID, part: part.name, providerMessageID: id)
            }
        }
        return .delivered(providerMessageID: last)
    }
}

/// Makes the ≤ 1 MB preview LINE needs beside an image, when the sender gave none.
public protocol LinePreviewMaker {
    func previewURL(for delivery: OutboundDelivery) throws -> String
}

/// Fixed-window counters in memory, for accounts that have no row to count against (env-only defaults).
public final class LocalRateLimiter: Sendable {
    private let state = Mutex<[String: (window: Int, count: Int)]>([:])
    let clock: @Sendable () -> Double

    public init(clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) { self.clock = clock }

    /// nil when every limit has room (and the request is counted), else the seconds until the refusing window ends.
    public func acquire(key: String, limits: [RateLimit]) -> Double? {
        let now = clock()
        return state.withLock { counts in
            for limit in limits {
                let window = Int(now) / limit.windowSeconds
                let entry = counts[key + "/" + limit.bucket]
                if let entry, entry.window == window, entry.count >= limit.requests {
                    return Double((window + 1) * limit.windowSeconds) - now
                }
            }
            for limit in limits {
                let window = Int(now) / limit.windowSeconds
                let name = key + "/" + limit.bucket
                let entry = counts[name]
                counts[name] = (window, entry?.window == window ? entry!.count + 1 : 1)
            }
            return nil
        }
    }
}
