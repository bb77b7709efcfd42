import FoundationEssentials

/// Something a dashboard should show without reloading: published after the change committed. Dashboards react by
/// refetching what the event names, so an event carries ids, never content.
public struct RealtimeEvent: Sendable, Equatable, Encodable {
    public let type: String
    public let tenantID: UUID
    public let conversationID: UUID?
    public let messageID: UUID?
    public let leadID: UUID?
    /// A message's new delivery status (message.status).
    public let status: String?

    public init(type: String, tenantID: UUID, conversationID: UUID? = nil, messageID: UUID? = nil, leadID: UUID? = nil,
                status: String? = nil) {
        self.type = type
        self.tenantID = tenantID
        self.conversationID = conversationID
        self.messageID = messageID
        self.leadID = leadID
        self.status = status
    }

    enum CodingKeys: String, CodingKey { case type, tenantId, conversationId, messageId, leadId, status }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        try c.encodeID(tenantID, forKey: .tenantId)
        if let conversationID { try c.encodeID(conversationID, forKey: .conversationId) }
        if let messageID { try c.encodeID(messageID, forKey: .messageId) }
        if let leadID { try c.encodeID(leadID, forKey: .leadId) }
        if let status { try c.encode(status, forKey: .status) }
    }

    /// The fan-out channel of a tenant: a browser may only subscribe to its own tenant's.
    public var channel: String { RealtimeChannel.tenant(tenantID) }
}

/// The channels a dashboard's stream listens on: its tenant's, where events are published, and its member's, which
/// carries nothing and exists to be deleted: deleting it ends every stream of that member at once.
public enum RealtimeChannel {
    public static func tenant(_ id: UUID) -> String { "tenant-" + id.uuidString.lowercased() }
    /// A `sales_agents` row's own channel.
    public static func member(_ agentID: UUID) -> String { "member-" + agentID.uuidString.lowercased() }
    /// The member channel of a stream: its agent's, or for a caller whose role came from its token (no row, nothing
    /// to deactivate) one named after the tenant, which nothing deletes.
    public static func member(of principal: Principal) -> String { member(principal.agentID ?? principal.tenantID) }
}

/// Fans realtime events out to open dashboards (nginx's nchan by default; it scales out over Redis).
/// Best effort: a dashboard that misses one catches up on its next fetch.
public protocol RealtimePublisher {
    func publish(_ event: RealtimeEvent)
    /// Ends the open streams of an agent who may no longer see the tenant's events (deactivated), so the browser
    /// subscribes again, and is refused. Best effort, like publishing.
    func endStreams(ofAgent agentID: UUID)
}

/// When no fan-out engine is configured: publishes nowhere.
public struct NoRealtimePublisher: RealtimePublisher, Sendable {
    public init() {}
    public func publish(_ event: RealtimeEvent) {}
    public func endStreams(ofAgent agentID: UUID) {}
}
