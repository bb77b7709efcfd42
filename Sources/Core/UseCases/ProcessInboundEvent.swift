import FoundationEssentials
import Logging

/// Turns one stored webhook event into inbox state: identity, contact, lead, conversation,
/// message, unread count, activity. Safe to run any number of times for the same event.
public struct ProcessInboundEvent {
    public enum Outcome: Sendable, Equatable {
        case recorded(InboundRecord)
        case activity
        case ignored(String)
        case alreadyProcessed
    }

    let inbox: any InboxRecorder
    let logger: Logger

    public init(inbox: any InboxRecorder, logger: Logger) {
        self.inbox = inbox
        self.logger = logger
    }

    /// The job payload names the webhook event and the account the provider addressed:
    /// `{"webhookEventId", "channel", "accountExternalId"}`.
    public func callAsFunction(jobPayload: String) throws -> Outcome {
        struct Payload: Decodable { let webhookEventId: UUID; let accountExternalId: String? }
        let payload: Payload
        do {
            payload = try JSONCoding.decoder.decode(Payload.self, from: Data(jobPayload.utf8))
        } catch {
            throw PermanentJobFailure("job payload has no webhookEventId")
        }
        guard let event = try inbox.webhookEvent(id: payload.webhookEventId) else {
            throw PermanentJobFailure("webhook event \(payload.webhookEventId) does not exist")
        }
        if event.processed { return .alreadyProcessed }
        let normalized: InboundNormalization
        do {
            switch event.channel {
            case .line: normalized = try LineWebhook.normalize(eventJSON: event.payload)
            case .facebook, .instagram:
                normalized = try MetaWebhook.normalize(eventJSON: event.payload, channel: event.channel,
                                                       accountExternalID: payload.accountExternalId ?? event.accountExternalID ?? "")
            }
        } catch {
            try inbox.markProcessed(event: event, note: "unreadable event: \(error)")
            return .ignored("unreadable event")
        }
        switch normalized {
        case .message(let message):
            return .recorded(try inbox.recordMessage(message, event: event))
        case .activity(let activity):
            try inbox.recordActivity(activity, event: event)
            return .activity
        case .ignored(let reason):
            try inbox.markProcessed(event: event, note: reason)
            return .ignored(reason)
        }
    }
}

/// A job that can never succeed (bad payload, missing row): dead-letter it at once.
public struct PermanentJobFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
