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

/// Leads of one tenant. Calls run inside the request's tenant-scoped transaction; every statement also names
/// the tenant, so row-level security is the second line, not the only one.
public protocol LeadRepository {
    /// Up to `page.limit + 1` leads, newest activity first, after the page's cursor.
    func leads(tenantID: UUID, filter: LeadFilter, page: PageRequest) throws -> [Lead]
    /// `lockForUpdate` holds the row until the transaction ends, so two changes to one lead take turns.
    func lead(tenantID: UUID, id: UUID, lockForUpdate: Bool) throws -> Lead?
    func apply(_ change: LeadChange, tenantID: UUID, id: UUID) throws -> Lead
    /// Points the lead's conversations at its (new) agent, so "my conversations" follows the lead.
    func assignConversations(tenantID: UUID, leadID: UUID, agentID: UUID) throws
    func record(_ entry: ActivityEntry, tenantID: UUID) throws
    /// The agent, when it exists in this tenant.
    func agent(tenantID: UUID, id: UUID) throws -> Membership?
    /// The ACTIVE agent of this tenant with the fewest open (non-final) leads, for automatic assignment.
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
