import FoundationEssentials

/// A stored webhook event as the worker reads it back.
public struct StoredWebhookEvent: Sendable, Equatable {
    public let id: UUID
    public let tenantID: UUID
    public let channel: Channel
    public let channelAccountID: UUID?
    /// The account id the provider named (LINE destination, page id, Instagram account id).
    public let accountExternalID: String?
    public let payload: String
    public let processed: Bool
}

/// What recording an inbound message did.
public struct InboundRecord: Sendable, Equatable {
    public let conversationID: UUID
    public let leadID: UUID
    public let messageID: UUID?
    /// False when the message was recorded before (a re-run of the same event): nothing changed.
    public let inserted: Bool
}

/// The inbox, as inbound processing writes it. Each call is one transaction and is idempotent:
/// the same event recorded twice changes nothing the second time.
public protocol InboxRecorder {
    func webhookEvent(id: UUID) throws -> StoredWebhookEvent?
    /// The account's access token and when the customer's profile was last fetched.
    func lookupContext(event: StoredWebhookEvent, externalUserID: String) throws -> InboundLookupContext
    /// `media`: what storing the message's image produced (URLs, size, or error metadata).
    func recordMessage(_ message: InboundMessage, event: StoredWebhookEvent, media: InboundMedia?) throws -> InboundRecord
    /// A profile the provider returned: non-empty values replace the identity's, the contact's
    /// and the conversations' snapshots, and name the lead if nobody has; the fetch time is recorded. True when an
    /// identity was found.
    func updateProfile(event: StoredWebhookEvent, externalUserID: String, profile: ProviderProfile) throws -> Bool
    /// Logs the activity on the customer's lead (a departure makes no lead); answers the lead, if any.
    @discardableResult
    func recordActivity(_ activity: InboundActivity, event: StoredWebhookEvent) throws -> UUID?
    /// Applies a revision: an unsent message loses what it said (content, media, raw payload), an edited one says
    /// its new text; the conversation's preview follows when it was the latest; one activity on the lead; the event
    /// is marked processed. Nil when no message of that id changed now (unknown, already unsent, or the same text:
    /// a re-run changes nothing).
    func recordRevision(_ revision: InboundRevision, event: StoredWebhookEvent) throws -> InboundRecord?
    /// Keeps a revision whose message has not arrived (providers do not keep order across retries) until it does.
    /// False when a message of that id is there (so there was nothing to change, and nothing is held). Holding the
    /// same revision again changes nothing; of two edits held, the later (higher count) stays.
    func holdRevision(_ revision: InboundRevision, event: StoredWebhookEvent) throws -> Bool
    /// The revisions held for a message (edits before a take-back), each with the event that carried it.
    func heldRevisions(tenantID: UUID, channel: Channel, providerMessageID: String) throws -> [HeldRevision]
    /// Lets a held revision go once it has been applied.
    func releaseHeldRevision(_ held: HeldRevision) throws
    func markProcessed(event: StoredWebhookEvent, note: String?) throws
    /// Whether a LINE image's message still waits for its content (not attached yet, not unsent).
    func lineImagePending(tenantID: UUID, lineMessageID: String) throws -> Bool
    /// The channel account's access token (nil: no such account, or none stored).
    func accessToken(tenantID: UUID, channelAccountID: UUID?) throws -> String?
    /// Attaches a fetched LINE image (or the error that kept it) to its message while the message still waits for it
    /// (`mediaStatus: pending`). Nil when none does (unsent meanwhile, or attached before).
    func attachLineImage(tenantID: UUID, lineMessageID: String, media: InboundMedia) throws -> InboundRecord?
    /// Whether a Facebook comment's message still waits for its text (`textStatus: pending`).
    func commentTextPending(tenantID: UUID, commentID: String) throws -> Bool
    /// Ends a comment's wait for its text: with `text`, the message says it (and the thread's preview, while the
    /// comment is the newest message); with nil, the placeholder stays. Nil when no message waits.
    func attachCommentText(tenantID: UUID, commentID: String, text: String?) throws -> InboundRecord?
}

/// A revision that arrived before its message, and the webhook event that carried it.
public struct HeldRevision: Sendable, Equatable {
    public let revision: InboundRevision
    public let event: StoredWebhookEvent

    public init(revision: InboundRevision, event: StoredWebhookEvent) {
        self.revision = revision
        self.event = event
    }
}

public struct InboundLookupContext: Sendable, Equatable {
    public let accessToken: String?
    public let profileFetchedAt: Date?

    public init(accessToken: String?, profileFetchedAt: Date?) {
        self.accessToken = accessToken
        self.profileFetchedAt = profileFetchedAt
    }
}
