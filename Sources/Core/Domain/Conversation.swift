import FoundationEssentials

/// A conversation as the inbox list shows it: the thread, its preview and unread count, and every name and image
/// the dashboard's fallback chains need (participant snapshot, contact, the matching identity), plus the lead's
/// id and status — one row of one query, so a page costs no further calls.
public struct ConversationSummary: Encodable, Sendable, Equatable {
    public let id: UUID
    public let leadId: UUID
    public let leadStatus: LeadStatus
    public let leadName: String?
    public let contactId: UUID?
    public let channel: Channel
    public let channelThreadId: String
    public let status: String
    public let assignedAgentId: UUID?
    public let participantDisplayName: String?
    public let participantProfileImageUrl: String?
    public let contactDisplayName: String?
    public let contactProfileImageUrl: String?
    public let contactIdentityId: UUID?
    public let contactIdentityExternalUserId: String?
    public let contactIdentityDisplayName: String?
    public let contactIdentityProfileImageUrl: String?
    public let lastMessageAt: Date
    public let lastMessagePreview: String?
    public let lastMessageType: String?
    public let lastMessageDirection: String?
    public let unreadCount: Int
    public let lastReadAt: Date?
    /// The customer's last message: Meta's 24 h / 7 day messaging windows start here.
    public let lastInboundAt: Date?
    public let providerThreadType: String?
    public let providerPostId: String?
    public let providerCommentId: String?
    public let privateReplySentAt: Date?
    public let publicReplySentAt: Date?
    public let convertedToDmAt: Date?
    public let createdAt: Date
    public let sortKey: PageCursor

    public init(id: UUID, leadId: UUID, leadStatus: LeadStatus, leadName: String?, contactId: UUID?, channel: Channel,
                channelThreadId: String, status: String, assignedAgentId: UUID?, participantDisplayName: String?,
                participantProfileImageUrl: String?, contactDisplayName: String?, contactProfileImageUrl: String?,
                contactIdentityId: UUID?, contactIdentityExternalUserId: String?, contactIdentityDisplayName: String?,
                contactIdentityProfileImageUrl: String?, lastMessageAt: Date, lastMessagePreview: String?,
                lastMessageType: String?, lastMessageDirection: String?, unreadCount: Int, lastReadAt: Date?,
                lastInboundAt: Date?, providerThreadType: String?, providerPostId: String?, providerCommentId: String?,
                privateReplySentAt: Date?, publicReplySentAt: Date?, convertedToDmAt: Date?, createdAt: Date,
                sortKey: PageCursor) {
        self.id = id
        self.leadId = leadId
        self.leadStatus = leadStatus
        self.leadName = leadName
        self.contactId = contactId
        self.channel = channel
        self.channelThreadId = channelThreadId
        self.status = status
        self.assignedAgentId = assignedAgentId
        self.participantDisplayName = participantDisplayName
        self.participantProfileImageUrl = participantProfileImageUrl
        self.contactDisplayName = contactDisplayName
        self.contactProfileImageUrl = contactProfileImageUrl
        self.contactIdentityId = contactIdentityId
        self.contactIdentityExternalUserId = contactIdentityExternalUserId
        self.contactIdentityDisplayName = contactIdentityDisplayName
        self.contactIdentityProfileImageUrl = contactIdentityProfileImageUrl
        self.lastMessageAt = lastMessageAt
        self.lastMessagePreview = lastMessagePreview
        self.lastMessageType = lastMessageType
        self.lastMessageDirection = lastMessageDirection
        self.unreadCount = unreadCount
        self.lastReadAt = lastReadAt
        self.lastInboundAt = lastInboundAt
        self.providerThreadType = providerThreadType
        self.providerPostId = providerPostId
        self.providerCommentId = providerCommentId
        self.privateReplySentAt = privateReplySentAt
        self.publicReplySentAt = publicReplySentAt
        self.convertedToDmAt = convertedToDmAt
        self.createdAt = createdAt
        self.sortKey = sortKey
    }

    enum CodingKeys: String, CodingKey {
        case id, leadId, leadStatus, leadName, contactId, channel, channelThreadId, status, assignedAgentId,
             participantDisplayName, participantProfileImageUrl, contactDisplayName, contactProfileImageUrl,
             contactIdentityId, contactIdentityExternalUserId, contactIdentityDisplayName,
             contactIdentityProfileImageUrl, lastMessageAt, lastMessagePreview, lastMessageType, lastMessageDirection,
             unreadCount, lastReadAt, lastInboundAt, providerThreadType, providerPostId, providerCommentId,
             privateReplySentAt, publicReplySentAt, convertedToDmAt, createdAt
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeID(id, forKey: .id)
        try c.encodeID(leadId, forKey: .leadId)
        try c.encode(leadStatus, forKey: .leadStatus)
        try c.encode(leadName, forKey: .leadName)
        try c.encodeID(contactId, forKey: .contactId)
        try c.encode(channel, forKey: .channel)
        try c.encode(channelThreadId, forKey: .channelThreadId)
        try c.encode(status, forKey: .status)
        try c.encodeID(assignedAgentId, forKey: .assignedAgentId)
        try c.encode(participantDisplayName, forKey: .participantDisplayName)
        try c.encode(participantProfileImageUrl, forKey: .participantProfileImageUrl)
        try c.encode(contactDisplayName, forKey: .contactDisplayName)
        try c.encode(contactProfileImageUrl, forKey: .contactProfileImageUrl)
        try c.encodeID(contactIdentityId, forKey: .contactIdentityId)
        try c.encode(contactIdentityExternalUserId, forKey: .contactIdentityExternalUserId)
        try c.encode(contactIdentityDisplayName, forKey: .contactIdentityDisplayName)
        try c.encode(contactIdentityProfileImageUrl, forKey: .contactIdentityProfileImageUrl)
        try c.encode(lastMessageAt, forKey: .lastMessageAt)
        try c.encode(lastMessagePreview, forKey: .lastMessagePreview)
        try c.encode(lastMessageType, forKey: .lastMessageType)
        try c.encode(lastMessageDirection, forKey: .lastMessageDirection)
        try c.encode(unreadCount, forKey: .unreadCount)
        try c.encode(lastReadAt, forKey: .lastReadAt)
        try c.encode(lastInboundAt, forKey: .lastInboundAt)
        try c.encode(providerThreadType, forKey: .providerThreadType)
        try c.encode(providerPostId, forKey: .providerPostId)
        try c.encode(providerCommentId, forKey: .providerCommentId)
        try c.encode(privateReplySentAt, forKey: .privateReplySentAt)
        try c.encode(publicReplySentAt, forKey: .publicReplySentAt)
        try c.encode(convertedToDmAt, forKey: .convertedToDmAt)
        try c.encode(createdAt, forKey: .createdAt)
    }
}

/// Filters of `GET /api/conversations`.
public struct ConversationFilter: Sendable, Equatable {
    public var status: String?
    public var channel: Channel?
    public var assignment: AssignmentFilter?
    public var leadID: UUID?
    /// One conversation (GET /api/conversations/{id}).
    public var conversationID: UUID?

    public static let statuses = ["OPEN", "PENDING", "CLOSED"]

    public init(status: String? = nil, channel: Channel? = nil, assignment: AssignmentFilter? = nil, leadID: UUID? = nil) {
        self.status = status
        self.channel = channel
        self.assignment = assignment
        self.leadID = leadID
    }
}

/// One message of a thread.
public struct Message: Encodable, Sendable, Equatable {
    public let id: UUID
    public let conversationId: UUID
    public let channel: Channel
    public let direction: String
    public let senderType: String
    public let senderAgentId: UUID?
    public let messageType: String
    public let content: String
    public var mediaUrl: String?
    public var previewUrl: String?
    public let mimeType: String?
    public let fileName: String?
    public let fileSizeBytes: Int64?
    public let width: Int?
    public let height: Int?
    /// RECEIVED (inbound), QUEUED → SENT | FAILED (outbound).
    public let deliveryStatus: String
    public let providerMessageId: String?
    public let errorCode: String?
    public let errorReason: String?
    /// An inbound image's content: PENDING while it is being fetched, FAILED when it could not be (nil otherwise).
    public var mediaStatus: String?
    /// The customer changed it after sending: UNSENT (what it said is gone) or EDITED (it says the new text).
    public var revision: String?
    /// In a LINE group or room chat (one customer, many people): which member wrote it, by LINE user id, and their
    /// name when the tenant knows that user.
    public var senderExternalId: String?
    public var senderName: String?
    public let sentAt: Date?
    public let createdAt: Date
    public let sortKey: PageCursor

    public init(id: UUID, conversationId: UUID, channel: Channel, direction: String, senderType: String,
                senderAgentId: UUID?, messageType: String, content: String, mediaUrl: String?, previewUrl: String?,
                mimeType: String?, fileName: String?, fileSizeBytes: Int64?, width: Int?, height: Int?,
                deliveryStatus: String, providerMessageId: String?, errorCode: String?, errorReason: String?,
                sentAt: Date?, createdAt: Date, sortKey: PageCursor) {
        self.id = id
        self.conversationId = conversationId
        self.channel = channel
        self.direction = direction
        self.senderType = senderType
        self.senderAgentId = senderAgentId
        self.messageType = messageType
        self.content = content
        self.mediaUrl = mediaUrl
        self.previewUrl = previewUrl
        self.mimeType = mimeType
        self.fileName = fileName
        self.fileSizeBytes = fileSizeBytes
        self.width = width
        self.height = height
        self.deliveryStatus = deliveryStatus
        self.providerMessageId = providerMessageId
        self.errorCode = errorCode
        self.errorReason = errorReason
        self.sentAt = sentAt
        self.createdAt = createdAt
        self.sortKey = sortKey
    }

    enum CodingKeys: String, CodingKey {
        case id, conversationId, channel, direction, senderType, senderAgentId, messageType, content, mediaUrl,
             previewUrl, mimeType, fileName, fileSizeBytes, width, height, deliveryStatus, providerMessageId,
             errorCode, errorReason, mediaStatus, revision, senderExternalId, senderName, sentAt, createdAt
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeID(id, forKey: .id)
        try c.encodeID(conversationId, forKey: .conversationId)
        try c.encode(channel, forKey: .channel)
        try c.encode(direction, forKey: .direction)
        try c.encode(senderType, forKey: .senderType)
        try c.encodeID(senderAgentId, forKey: .senderAgentId)
        try c.encode(messageType, forKey: .messageType)
        try c.encode(content, forKey: .content)
        try c.encode(mediaUrl, forKey: .mediaUrl)
        try c.encode(previewUrl, forKey: .previewUrl)
        try c.encode(mimeType, forKey: .mimeType)
        try c.encode(fileName, forKey: .fileName)
        try c.encode(fileSizeBytes, forKey: .fileSizeBytes)
        try c.encode(width, forKey: .width)
        try c.encode(height, forKey: .height)
        try c.encode(deliveryStatus, forKey: .deliveryStatus)
        try c.encode(providerMessageId, forKey: .providerMessageId)
        try c.encode(errorCode, forKey: .errorCode)
        try c.encode(errorReason, forKey: .errorReason)
        try c.encode(mediaStatus, forKey: .mediaStatus)
        try c.encode(revision, forKey: .revision)
        try c.encode(senderExternalId, forKey: .senderExternalId)
        try c.encode(senderName, forKey: .senderName)
        try c.encode(sentAt, forKey: .sentAt)
        try c.encode(createdAt, forKey: .createdAt)
    }
}
