import Crypto
import FoundationEssentials

/// One provider event as the webhook handler stores it in `webhook_events`: cut out of its batch,
/// keyed by the provider's own id so that redeliveries collapse onto the first row.
public struct WebhookEventRecord: Sendable, Equatable {
    /// The channel account the payload names: LINE `destination`, or Meta `entry[].id`.
    public let accountExternalID: String
    /// LINE `webhookEventId`, Messenger/IG `mid`, `comment:<id>`, or `sha256:<hex>` of the event.
    public let providerEventID: String
    /// For logs and filters, e.g. "message.text", "follow", "messaging.echo", "changes.feed.comment.add".
    public let eventType: String
    /// The event's own JSON (compact, sorted keys), which `normalize(eventJSON:)` reads back.
    public let payload: String

    public init(accountExternalID: String, providerEventID: String, eventType: String, payload: String) {
        self.accountExternalID = accountExternalID
        self.providerEventID = Self.keyable(providerEventID)
        self.eventType = eventType
        self.payload = payload
    }
}

extension WebhookEventRecord {
    /// Longest provider id kept as it is. Real ids are far shorter (LINE's are 26 characters); a longer one is
    /// stored as `sha256:<hex>` of itself, which still collapses redeliveries, because a unique index entry cannot
    /// exceed about 2.7 KB and the batch must not fail on one forged id.
    static let maxKeyLength = 200

    static func keyable(_ id: String) -> String {
        id.utf8.count <= maxKeyLength ? id : "sha256:" + Hex.encode(SHA256.hash(data: Array(id.utf8)))
    }
}

/// What the worker should do with one stored event.
public enum InboundNormalization: Sendable, Equatable {
    /// A customer message for the inbox.
    case message(InboundMessage)
    /// One provider message that the inbox shows as several, in order (a Messenger or Instagram message with
    /// several attachments: one message each, the text with the first). Each part has its own provider id
    /// (`<mid>`, `<mid>#2`, …), so recording them again inserts nothing twice.
    case messages([InboundMessage])
    /// Something a customer did that is worth logging but is not a message (follow, postback, …).
    case activity(InboundActivity)
    /// The customer took back or edited a message they had sent (LINE `unsend`, Meta `is_deleted`, Meta
    /// `message_edit`).
    case revised(InboundRevision)
    /// Nothing to do (echoes, reads, reactions, the page's own comments, unknown types); the reason
    /// goes to logs so that a dropped event can be explained.
    case ignored(reason: String)
}

extension InboundNormalization {
    /// The name of an id the inbox would key on that is longer than `WebhookEventRecord.maxKeyLength`, if any.
    public var oversizedID: String? {
        func check(_ ids: [(String, String?)]) -> String? {
            ids.first { ($0.1?.utf8.count ?? 0) > WebhookEventRecord.maxKeyLength }?.0
        }
        switch self {
        case .message(let m):
            return check([("the sender id", m.externalUserID), ("the thread id", m.threadID), ("the message id", m.providerMessageID)])
        case .messages(let parts):
            return parts.lazy.compactMap { InboundNormalization.message($0).oversizedID }.first
        case .activity(let a):
            return check([("the sender id", a.externalUserID)])
        case .revised(let r):
            return check([("the sender id", r.externalUserID), ("the message id", r.providerMessageID)])
        case .ignored:
            return nil
        }
    }

    /// A LINE image whose content is fetched from LINE's content API.
    public var hasLineImage: Bool {
        if case .message(let m) = self { return m.channel == .line && m.messageType == InboundMessageType.image && m.lineContentMessageID != nil }
        return false
    }

    /// A message the inbox records in several steps (see `messages`).
    public var hasSeveralParts: Bool {
        if case .messages(let parts) = self { return parts.count > 1 }
        return false
    }
}

/// The values `messages.message_type` accepts that inbound normalization produces.
public enum InboundMessageType {
    public static let text = "TEXT"
    public static let image = "IMAGE"
    public static let sticker = "STICKER"
    public static let video = "VIDEO"
    public static let audio = "AUDIO"
    public static let file = "FILE"
    public static let location = "LOCATION"
    public static let unsupported = "UNSUPPORTED"
}

/// A customer's message, in the provider-neutral shape the inbox stores.
public struct InboundMessage: Sendable, Equatable {
    public var channel: Channel
    /// LINE userId, Messenger PSID, Instagram IGSID, a commenter's `from.id`, or `comment:<id>` when Meta left
    /// the commenter out.
    public var externalUserID: String
    /// The conversation key: LINE userId (or groupId/roomId), the PSID, the comment id, `ig:user:<IGSID>`.
    public var threadID: String
    /// LINE message id, Messenger/IG mid, or comment id.
    public var providerMessageID: String
    /// One of `InboundMessageType`.
    public var messageType: String
    /// Inbox text; never empty (non-text messages carry a placeholder such as "[Sticker]").
    public var text: String
    /// A provider HTTPS URL of the attachment (Meta CDN); nil when there is none.
    public var mediaURL: String?
    /// LINE message id whose binary is fetched from the content API (image, video, audio, file).
    public var lineContentMessageID: String?
    public var occurredAt: Date
    public var senderDisplayName: String?
    public var senderProfileImageURL: String?
    /// LINE's single-use, short-lived reply token.
    public var replyToken: String?
    /// nil, "MESSENGER_DM" or "FACEBOOK_COMMENT" (`conversations.provider_thread_type`).
    public var threadType: String?
    public var facebookPageID: String?
    public var facebookPostID: String?
    public var facebookCommentID: String?
    /// A comment whose payload carried no text: fetch it with Graph `/{comment-id}?fields=message`.
    public var needsCommentTextLookup: Bool
    /// Anything else worth keeping (sticker ids, coordinates, file name and size, reply-to ids).
    public var metadata: [String: String]

    /// The party of a Facebook comment whose author Meta did not name: `comment:<comment id>`.
    public static let hiddenCommenterPrefix = "comment:"
    /// The name shown for a commenter Meta did not name, until their Messenger profile (after a Private Reply) does.
    public static let hiddenCommenterName = "Facebook user"
    /// Metadata marking a sender the provider did not name (there is no profile to look up).
    public static let hiddenSenderKey = "senderHidden"
    public var senderIsHidden: Bool { metadata[Self.hiddenSenderKey] == "true" }

    public init(
        channel: Channel, externalUserID: String, threadID: String, providerMessageID: String,
        messageType: String, text: String, mediaURL: String? = nil, lineContentMessageID: String? = nil,
        occurredAt: Date, senderDisplayName: String? = nil, senderProfileImageURL: String? = nil,
        replyToken: String? = nil, threadType: String? = nil, facebookPageID: String? = nil,
        facebookPostID: String? = nil, facebookCommentID: String? = nil, needsCommentTextLookup: Bool = false,
        metadata: [String: String] = [:]
    ) {
        self.channel = channel
        self.externalUserID = externalUserID
        self.threadID = threadID
        self.providerMessageID = providerMessageID
        self.messageType = messageType
        self.text = text
        self.mediaURL = mediaURL
        self.lineContentMessageID = lineContentMessageID
        self.occurredAt = occurredAt
        self.senderDisplayName = ProviderProfile.boundedName(senderDisplayName)
        self.senderProfileImageURL = senderProfileImageURL
        self.replyToken = replyToken
        self.threadType = threadType
        self.facebookPageID = facebookPageID
        self.facebookPostID = facebookPostID
        self.facebookCommentID = facebookCommentID
        self.needsCommentTextLookup = needsCommentTextLookup
        self.metadata = metadata
    }
}

/// A non-message customer event (LINE follow/unfollow/join/leave/postback).
/// A message its sender changed after sending it.
public struct InboundRevision: Sendable, Equatable {
    public enum Change: Sendable, Equatable {
        /// Taken back. LINE asks that the content then be removed out of respect for the user's intention; the inbox
        /// keeps the row (and the thread's shape) but not what it said. The message's parts (`<id>#2`, …) go with it.
        case unsent
        /// Edited: the message now says `text` (Messenger allows five edits; `count` is the provider's `num_edit`).
        case edited(text: String, count: Int?)
    }

    public var channel: Channel
    public var externalUserID: String
    /// The provider's id of the message (LINE `unsend.messageId`, Meta `mid`).
    public var providerMessageID: String
    public var change: Change
    public var occurredAt: Date

    public init(channel: Channel, externalUserID: String, providerMessageID: String, change: Change, occurredAt: Date) {
        self.channel = channel
        self.externalUserID = externalUserID
        self.providerMessageID = providerMessageID
        self.change = change
        self.occurredAt = occurredAt
    }
}

public struct InboundActivity: Sendable, Equatable {
    /// Kinds that say the customer left (blocked the account, removed the bot, left the group): logged on the lead
    /// they have, never making one (schema/0018).
    public static let departures: Set<String> = ["UNFOLLOW", "LEAVE", "MEMBER_LEFT"]

    public var channel: Channel
    /// LINE userId; for join/leave (the bot entering a group) the groupId or roomId.
    public var externalUserID: String
    /// FOLLOW, UNFOLLOW, JOIN, LEAVE, POSTBACK.
    public var kind: String
    public var occurredAt: Date
    /// Kind-specific values (postback data and params, isUnblocked, replyToken, source type).
    public var detail: [String: String]

    public init(channel: Channel, externalUserID: String, kind: String, occurredAt: Date, detail: [String: String] = [:]) {
        self.channel = channel
        self.externalUserID = externalUserID
        self.kind = kind
        self.occurredAt = occurredAt
        self.detail = detail
    }
}

/// Helpers both providers' parsers share.
enum WebhookSupport {
    /// A webhook body as a JSON object, or `AppError` 400 `invalid_payload` saying why not.
    static func rootObject(_ body: [UInt8], invalid: (String) -> AppError) throws -> JSONValue {
        try rootObject(body, spansOf: nil, invalid: invalid).root
    }

    /// The root object, and where the elements of its array `member` lie in the body.
    static func rootObject(_ body: [UInt8], spansOf member: String?, invalid: (String) -> AppError) throws
        -> (root: JSONValue, spans: [Range<Int>])
    {
        let parsed: (JSONValue, [Range<Int>])
        do {
            parsed = try member.map { try JSONValue.parse(body, spansOf: $0) } ?? (JSONValue.parse(body), [])
        } catch let error as JSONValue.ParseError {
            throw invalid("The body is not valid JSON (\(error)).")
        }
        guard case .object = parsed.0 else { throw invalid("The body is not a JSON object.") }
        return parsed
    }

    /// `sha256:<hex>` of a value's canonical text: a stable id for events the provider gives none.
    static func hashID(_ value: JSONValue) -> String {
        "sha256:" + Hex.encode(SHA256.hash(data: Array(value.serialized().utf8)))
    }

    /// A provider epoch in seconds or milliseconds (told apart by size: 1e11 s is the year 5138,
    /// 1e11 ms is 1973). A time outside the plausible window (before 2000, or more than a day ahead of
    /// `now`: microseconds, a typo, `1e22`, `"inf"`) is no time at all, so the caller's fallback applies: one
    /// bad field must neither sort a conversation to the top forever nor fail the event.
    static func date(epoch value: JSONValue?, now: Date = Date()) -> Date? {
        guard let number = value?.doubleValue ?? value?.stringValue.flatMap(Double.init), number.isFinite, number > 0
        else { return nil }
        let seconds = number >= 1e11 ? number / 1000 : number
        guard seconds >= plausibleEpochFloor, seconds <= now.timeIntervalSince1970 + 86_400 else { return nil }
        return Date(timeIntervalSince1970: seconds)
    }

    /// 2000-01-01T00:00:00Z: no provider event is older.
    static let plausibleEpochFloor: Double = 946_684_800

    /// The event JSON the worker hands back; it must be an object.
    static func parseEvent(_ eventJSON: String) throws -> JSONValue {
        let value: JSONValue
        do {
            value = try JSONValue.parse(eventJSON)
        } catch let error as JSONValue.ParseError {
            throw AppError.badRequest("The event is not valid JSON (\(error)).", code: "invalid_payload")
        }
        guard case .object = value else {
            throw AppError.badRequest("The event is not a JSON object.", code: "invalid_payload")
        }
        return value
    }

    /// A non-empty string member, or nil.
    static func text(_ value: JSONValue?) -> String? {
        guard let s = value?.stringValue, !s.isEmpty else { return nil }
        return s
    }

    /// An HTTPS URL (case-insensitive scheme), or nil: only these are shown to browsers as media.
    static func httpsURL(_ value: JSONValue?) -> String? {
        guard let s = text(value), s.lowercased().hasPrefix("https://"), s.count > 8 else { return nil }
        return s
    }

    /// A scalar member as metadata text (strings as is, whole numbers without a fraction).
    static func scalarText(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let s)?: return s
        case .number(let d)?: return JSONValue.format(d)
        case .bool(let b)?: return b ? "true" : "false"
        default: return nil
        }
    }
}
