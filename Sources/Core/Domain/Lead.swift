import FoundationEssentials

/// A lead as the API shows it.
public struct Lead: Encodable, Sendable, Equatable {
    public let id: UUID
    public let tenantId: UUID
    public let contactId: UUID?
    public let sourceChannel: Channel
    public let externalUserId: String
    public let name: String?
    public let phone: String?
    public let email: String?
    public let status: LeadStatus
    public let statusChangedAt: Date
    public let assignedSalesId: UUID?
    public let assignedAt: Date?
    public let tags: [String]
    public let score: Int
    public let lastContactAt: Date?
    public let createdAt: Date
    public let updatedAt: Date
    /// What a PATCH may set `status` to next (besides the current status), so a client never has to guess.
    public var allowedNextStatuses: [LeadStatus] { status.allowedNext }
    /// The keyset position (updated_at in microseconds), not part of the JSON.
    public let sortKey: PageCursor

    public init(id: UUID, tenantId: UUID, contactId: UUID?, sourceChannel: Channel, externalUserId: String,
                name: String?, phone: String?, email: String?, status: LeadStatus, statusChangedAt: Date,
                assignedSalesId: UUID?, assignedAt: Date?, tags: [String], score: Int, lastContactAt: Date?,
                createdAt: Date, updatedAt: Date, sortKey: PageCursor) {
        self.id = id
        self.tenantId = tenantId
        self.contactId = contactId
        self.sourceChannel = sourceChannel
        self.externalUserId = externalUserId
        self.name = name
        self.phone = phone
        self.email = email
        self.status = status
        self.statusChangedAt = statusChangedAt
        self.assignedSalesId = assignedSalesId
        self.assignedAt = assignedAt
        self.tags = tags
        self.score = score
        self.lastContactAt = lastContactAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.sortKey = sortKey
    }

    enum CodingKeys: String, CodingKey {
        case id, tenantId, contactId, sourceChannel, externalUserId, name, phone, email, status, statusChangedAt,
             assignedSalesId, assignedAt, tags, score, lastContactAt, createdAt, updatedAt, allowedNextStatuses
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeID(id, forKey: .id)
        try c.encodeID(tenantId, forKey: .tenantId)
        try c.encodeID(contactId, forKey: .contactId)
        try c.encode(sourceChannel.rawValue, forKey: .sourceChannel)
        try c.encode(externalUserId, forKey: .externalUserId)
        try c.encode(name, forKey: .name)
        try c.encode(phone, forKey: .phone)
        try c.encode(email, forKey: .email)
        try c.encode(status, forKey: .status)
        try c.encode(statusChangedAt, forKey: .statusChangedAt)
        try c.encodeID(assignedSalesId, forKey: .assignedSalesId)
        try c.encode(assignedAt, forKey: .assignedAt)
        try c.encode(tags, forKey: .tags)
        try c.encode(score, forKey: .score)
        try c.encode(lastContactAt, forKey: .lastContactAt)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
        try c.encode(allowedNextStatuses, forKey: .allowedNextStatuses)
    }
}

/// Filters of `GET /api/leads`.
public struct LeadFilter: Sendable, Equatable {
    public var status: LeadStatus?
    public var channel: Channel?
    public var assignment: AssignmentFilter?
    /// On `updated_at`, the lead's last activity (the list's own sort key).
    public var lastActivityFrom: Date?
    public var lastActivityTo: Date?

    public init(status: LeadStatus? = nil, channel: Channel? = nil, assignment: AssignmentFilter? = nil,
                lastActivityFrom: Date? = nil, lastActivityTo: Date? = nil) {
        self.status = status
        self.channel = channel
        self.assignment = assignment
        self.lastActivityFrom = lastActivityFrom
        self.lastActivityTo = lastActivityTo
    }
}

/// `assignedSalesId=<agent id>` or `assignedSalesId=unassigned`.
public enum AssignmentFilter: Sendable, Equatable {
    case agent(UUID)
    case unassigned
}
