import FoundationEssentials

/// Something a dashboard should show without reloading: published after the change committed.
public struct RealtimeEvent: Sendable, Equatable, Encodable {
    public let type: String
    public let tenantID: UUID
    public let conversationID: UUID?
    public let messageID: UUID?

    public init(type: String, tenantID: UUID, conversationID: UUID?, messageID: UUID?) {
        self.type = type
        self.tenantID = tenantID
        self.conversationID = conversationID
        self.messageID = messageID
    }
}

/// Fans realtime events out to open dashboards (nginx's nchan in the dashboard issue).
/// Best effort: a dashboard that misses one catches up on its next fetch.
public protocol RealtimePublisher {
    func publish(_ event: RealtimeEvent)
}

/// The default until a fan-out engine is configured: publishes nowhere.
public struct NoRealtimePublisher: RealtimePublisher {
    public init() {}
    public func publish(_ event: RealtimeEvent) {}
}
