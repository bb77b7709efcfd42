import FoundationEssentials

/// What an agent can send. The API takes the lower-case names of the original product (`text`, `image`,
/// `document_pdf`); messages store the upper-case ones.
public enum OutboundContentType: String, Sendable, CaseIterable {
    case text = "TEXT"
    case image = "IMAGE"
    case documentPDF = "DOCUMENT_PDF"
}

/// Which thread of a Facebook conversation a send aims at (the seed's helper fields).
public enum FacebookTarget: Sendable, Equatable {
    case messenger(psid: String)
    case comment(id: String)
}

/// `POST /api/messages/send`, validated for shape by the route.
public struct SendMessageRequest: Sendable, Equatable {
    public var leadID: UUID
    public var conversationID: UUID
    public var channel: Channel
    public var type: OutboundContentType
    public var content: String?
    public var mediaURL: String?
    public var previewURL: String?
    public var mimeType: String?
    public var fileName: String?
    public var fileSizeBytes: Int?
    public var width: Int?
    public var height: Int?
    public var facebookTarget: FacebookTarget?
    public var channelThreadID: String?

    public init(leadID: UUID, conversationID: UUID, channel: Channel, type: OutboundContentType, content: String? = nil,
                mediaURL: String? = nil, previewURL: String? = nil, mimeType: String? = nil, fileName: String? = nil,
                fileSizeBytes: Int? = nil, width: Int? = nil, height: Int? = nil, facebookTarget: FacebookTarget? = nil,
                channelThreadID: String? = nil) {
        self.leadID = leadID
        self.conversationID = conversationID
        self.channel = channel
        self.type = type
        self.content = content
        self.mediaURL = mediaURL
        self.previewURL = previewURL
        self.mimeType = mimeType
        self.fileName = fileName
        self.fileSizeBytes = fileSizeBytes
        self.width = width
        self.height = height
        self.facebookTarget = facebookTarget
        self.channelThreadID = channelThreadID
    }

    /// A stable text of every field, for the idempotency fingerprint.
    public var canonical: String {
        let target: String
        switch facebookTarget {
        case .messenger(let id)?: target = "MESSENGER:" + id
        case .comment(let id)?: target = "COMMENT:" + id
        case nil: target = ""
        }
        return [leadID.uuidString, conversationID.uuidString, channel.rawValue, type.rawValue, content ?? "", mediaURL ?? "",
                previewURL ?? "", mimeType ?? "", fileName ?? "", fileSizeBytes.map(String.init) ?? "",
                width.map(String.init) ?? "", height.map(String.init) ?? "", target, channelThreadID ?? ""]
            .joined(separator: "\u{1F}")
    }
}

/// Meta's messaging window, counted from the customer's last message: a normal reply within 24 hours, a human
/// agent's reply (tag HUMAN_AGENT) within 7 days, nothing after. LINE has no window.
public enum MessagingWindow: Sendable, Equatable {
    case standard
    case humanAgent
    case closed

    public static let standardSeconds: Double = 24 * 3600
    public static let humanAgentSeconds: Double = 7 * 24 * 3600

    public static func at(_ now: Date, lastCustomerMessage: Date?) -> MessagingWindow {
        guard let last = lastCustomerMessage else { return .closed }
        let age = now.timeIntervalSince(last)
        if age <= standardSeconds { return .standard }
        if age <= humanAgentSeconds { return .humanAgent }
        return .closed
    }
}

/// What the outbound rules need to know about a conversation.
public struct ConversationForSend: Sendable, Equatable {
    public let id: UUID
    public let tenantID: UUID
    public let leadID: UUID
    public let channel: Channel
    public let channelThreadID: String
    public let providerThreadType: String?
    public let providerCommentID: String?
    public let providerExternalUserID: String?
    public let privateReplySentAt: Date?
    public let lastInboundAt: Date?
    public let createdAt: Date

    public init(id: UUID, tenantID: UUID, leadID: UUID, channel: Channel, channelThreadID: String,
                providerThreadType: String?, providerCommentID: String?, providerExternalUserID: String?,
                privateReplySentAt: Date?, lastInboundAt: Date?, createdAt: Date) {
        self.id = id
        self.tenantID = tenantID
        self.leadID = leadID
        self.channel = channel
        self.channelThreadID = channelThreadID
        self.providerThreadType = providerThreadType
        self.providerCommentID = providerCommentID
        self.providerExternalUserID = providerExternalUserID
        self.privateReplySentAt = privateReplySentAt
        self.lastInboundAt = lastInboundAt
        self.createdAt = createdAt
    }

    /// A Facebook comment thread not yet answered: the next send is the Private Reply.
    public var awaitsPrivateReply: Bool {
        providerThreadType == "FACEBOOK_COMMENT" && privateReplySentAt == nil
    }

    /// Whether a send's `channelThreadId` names this conversation: its thread as stored, or one of the forms the
    /// earlier API used for it: `user:<PSID>` (`ig:user:<IGSID>` on Instagram) for the customer a DM goes to, and
    /// `comment:<id>` (or the bare comment id) for the comment a Facebook thread began with (still accepted once it has
    /// moved to Messenger).
    public func isNamed(byThread thread: String) -> Bool {
        if thread == channelThreadID { return true }
        if let recipient = directRecipientID {
            if channel == .facebook, thread == "user:\(recipient)" { return true }
            if channel == .instagram, thread == "ig:user:\(recipient)" { return true }
        }
        // A comment thread is named by its comment id also after it moved to the PSID (schema/0019).
        if channel == .facebook, let comment = providerCommentID, thread == comment || thread == "comment:\(comment)" {
            return true
        }
        return false
    }

    /// The Messenger PSID (or Instagram IGSID) a DM goes to. None for a comment whose author Meta left out (its
    /// customer is keyed `comment:<id>`) until the Private Reply's answer names them.
    public var directRecipientID: String? {
        if let id = providerExternalUserID, !id.isEmpty { return id.hasPrefix("comment:") ? nil : id }
        for prefix in ["ig:user:", "user:"] where channelThreadID.hasPrefix(prefix) {
            return String(channelThreadID.dropFirst(prefix.count))
        }
        return nil
    }
}
