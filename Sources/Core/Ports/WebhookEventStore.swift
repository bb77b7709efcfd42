import FoundationEssentials

/// A provider event on its way into `webhook_events`, with the account that resolved its tenant.
public struct IncomingWebhookEvent: Sendable, Equatable {
    public let tenantID: UUID
    public let channelAccountID: UUID?
    public let channel: Channel
    public let record: WebhookEventRecord

    public init(tenantID: UUID, channelAccountID: UUID?, channel: Channel, record: WebhookEventRecord) {
        self.tenantID = tenantID
        self.channelAccountID = channelAccountID
        self.channel = channel
        self.record = record
    }
}

/// Stores a batch of webhook events and one outbox event per new one, atomically.
public protocol WebhookEventStore {
    /// Returns how many events were new; duplicates (redeliveries) change nothing.
    func store(_ events: [IncomingWebhookEvent]) throws -> Int
}

/// Tells the worker there is work, after the work has been committed. Best effort: a lost
/// wake-up only costs the worker's polling interval.
public protocol WorkerWakeUp {
    func wake()
}
