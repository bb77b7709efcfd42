import FoundationEssentials

/// A change to a lead, applied in one statement.
public struct LeadChange: Sendable, Equatable {
    public var status: LeadStatus?
    public var tags: [String]?
    public var assignedSalesID: UUID?
    /// Counts as activity even when no column changes (a note): moves the lead to the top of the list.
    public var touch: Bool

    public init(status: LeadStatus? = nil, tags: [String]? = nil, assignedSalesID: UUID? = nil, touch: Bool = false) {
        self.status = status
        self.tags = tags
        self.assignedSalesID = assignedSalesID
        self.touch = touch
    }
}

/// One line of a lead's history (`activity_logs`).
public struct ActivityEntry: Sendable, Equatable {
    public let leadID: UUID
    public let actorAgentID: UUID?
    public let type: String
    public let metadata: JSONValue

    public init(leadID: UUID, actorAgentID: UUID?, type: String, metadata: JSONValue) {
        self.leadID = leadID
        self.actorAgentID = actorAgentID
        self.type = type
        self.metadata = metadata
    }
}

/// One line of a lead's history as the API shows it.
public struct ActivityItem: Encodable, Sendable, Equatable {
    public let id: UUID
    public let type: String
    public let actorType: String
    public let actorAgentId: UUID?
    public let conversationId: UUID?
    public let messageId: UUID?
    /// What happened: e.g. {from, to} for STATUS_CHANGED, {note} for NOTE_ADDED.
    public let metadata: JSONValue
    public let createdAt: Date
    public let sortKey: PageCursor

    public init(id: UUID, type: String, actorType: String, actorAgentId: UUID?, conversationId: UUID?, messageId: UUID?,
                metadata: JSONValue, createdAt: Date, sortKey: PageCursor) {
        self.id = id
        self.type = type
        self.actorType = actorType
        self.actorAgentId = actorAgentId
        self.conversationId = conversationId
        self.messageId = messageId
        self.metadata = metadata
        self.createdAt = createdAt
        self.sortKey = sortKey
    }

    enum CodingKeys: String, CodingKey { case id, type, actorType, actorAgentId, conversationId, messageId, metadata, createdAt }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeID(id, forKey: .id)
        try c.encode(type, forKey: .type)
        try c.encode(actorType, forKey: .actorType)
        try c.encodeID(actorAgentId, forKey: .actorAgentId)
        try c.encodeID(conversationId, forKey: .conversationId)
        try c.encodeID(messageId, forKey: .messageId)
        try c.encode(metadata, forKey: .metadata)
        try c.encode(createdAt, forKey: .createdAt)
    }
}

/// Leads of one tenant. Calls run inside the request's tenant-scoped transaction; every statement also names
/// the tenant, so row-level security is the second line, not the only one.
public protocol LeadRepository {
    /// Up to `page.limit + 1` leads, newest activity first, after the page's cursor.
    func leads(tenantID: UUID, filter: LeadFilter, page: PageRequest) throws -> [Lead]
    /// `lockForUpdate` holds the row until the transaction ends, so two changes to one lead take turns. The lock
    /// still lets rows that refer to the lead be written meanwhile (a send's activity, an inbound message), so those
    /// never wait on it while holding their conversation.
    func lead(tenantID: UUID, id: UUID, lockForUpdate: Bool) throws -> Lead?
    func apply(_ change: LeadChange, tenantID: UUID, id: UUID) throws -> Lead
    /// Points the lead's conversations at its (new) agent, so "my conversations" follows the lead.
    func assignConversations(tenantID: UUID, leadID: UUID, agentID: UUID) throws
    func record(_ entry: ActivityEntry, tenantID: UUID) throws
    /// Up to `page.limit + 1` lines of the lead's history, newest first.
    func activity(tenantID: UUID, leadID: UUID, page: PageRequest) throws -> [ActivityItem]
    /// The agent, when it exists in this tenant.
    func agent(tenantID: UUID, id: UUID) throws -> Membership?
    /// The ACTIVE agent of this tenant with the fewest open (non-final) leads, for automatic assignment. Concurrent
    /// automatic assignments of one tenant wait for each other until the caller's transaction ends, so each counts
    /// the loads the ones before it left.
    func leastLoadedActiveAgent(tenantID: UUID) throws -> Membership?
}

/// Conversations and their messages, for one tenant.
public protocol ConversationRepository {
    func conversations(tenantID: UUID, filter: ConversationFilter, page: PageRequest) throws -> [ConversationSummary]
    func conversationExists(tenantID: UUID, id: UUID) throws -> Bool
    /// Up to `page.limit + 1` messages, newest first.
    func messages(tenantID: UUID, conversationID: UUID, page: PageRequest) throws -> [Message]
    /// Unread to zero; nil when the tenant has no such conversation.
    func markRead(tenantID: UUID, id: UUID) throws -> MarkedRead?
}

public struct MarkedRead: Encodable, Sendable, Equatable {
    public let conversationId: String
    public let unreadCount: Int
    public let lastReadAt: Date
    public let ok: Bool

    public init(conversationId: UUID, lastReadAt: Date) {
        self.conversationId = conversationId.uuidString.lowercased()
        self.unreadCount = 0
        self.lastReadAt = lastReadAt
        self.ok = true
    }
}

/// The dashboard's aggregates.
public protocol DashboardMetricsQuery {
    func metrics(tenantID: UUID, periodDays: Int) throws -> DashboardMetrics
}
