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
    let profiles: (any ProviderProfiles)?
    let defaultAccounts: [Channel: ChannelAccount]
    /// How long a fetched profile is trusted before it is looked up again.
    let profileTTLSeconds: Double
    /// Downloads and stores LINE images; nil leaves them without media.
    let lineImages: StoreInboundLineImage?
    let realtime: any RealtimePublisher
    /// When set, a needed profile lookup is handed over here (the worker runs them on threads of their own) instead
    /// of being done inline, so a provider's profile API never holds up the inbox.
    let deferProfileLookup: (@Sendable (ProfileLookup) -> Void)?
    /// When set, a LINE image's message is recorded at once and its content fetched by a job handed over here
    /// (AttachInboundLineImage), instead of inline.
    let deferLineImage: ((AttachInboundLineImage.Request) throws -> Void)?
    /// When set, a Facebook comment whose webhook left its text out is recorded at once (with its placeholder) and
    /// the text looked up by a job handed over here (AttachCommentText), instead of inline.
    let deferCommentText: ((AttachCommentText.Request) throws -> Void)?
    let logger: Logger

    public init(inbox: any InboxRecorder, profiles: (any ProviderProfiles)? = nil,
                defaultAccounts: [Channel: ChannelAccount] = [:], profileTTLSeconds: Double = 86_400,
                lineImages: StoreInboundLineImage? = nil, realtime: any RealtimePublisher = NoRealtimePublisher(),
                deferProfileLookup: (@Sendable (ProfileLookup) -> Void)? = nil,
                deferLineImage: ((AttachInboundLineImage.Request) throws -> Void)? = nil,
                deferCommentText: ((AttachCommentText.Request) throws -> Void)? = nil, logger: Logger) {
        self.deferProfileLookup = deferProfileLookup
        self.deferLineImage = deferLineImage
        self.deferCommentText = deferCommentText
        self.lineImages = lineImages
        self.realtime = realtime
        self.inbox = inbox
        self.profiles = profiles
        self.defaultAccounts = defaultAccounts
        self.profileTTLSeconds = profileTTLSeconds
        self.logger = logger
    }

    /// The job payload names the webhook event and the account the provider addressed:
    /// `{"webhookEventId", "channel", "accountExternalId"}`.
    ///
    /// `whenRecorded` runs once the message is committed, before the best-effort profile lookup: the worker
    /// completes the job there, so the customer's next event (held back by the job's ordering key) never waits on
    /// a provider's profile API.
    public func callAsFunction(jobPayload: String, whenRecorded: () throws -> Void = {}) throws -> Outcome {
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
        let normalized: InboundNormalization
        do {
            switch event.channel {
            case .line: normalized = try LineWebhook.normalize(eventJSON: event.payload)
            case .facebook, .instagram:
                normalized = try MetaWebhook.normalize(eventJSON: event.payload, channel: event.channel,
                                                       accountExternalID: payload.accountExternalId ?? event.accountExternalID ?? "")
            }
        } catch {
            if event.processed { return .alreadyProcessed }
            try inbox.markProcessed(event: event, note: "unreadable event: \(error)")
            return .ignored("unreadable event")
        }
        // No provider's ids come near 200 bytes (LINE's are 33 characters, Meta's about 20 digits); a forged one that
        // did would fail the inbox's unique indexes on every retry. It stays stored, marked, and is not recorded.
        if let oversized = normalized.oversizedID {
            try inbox.markProcessed(event: event, note: "\(oversized) is longer than any provider's")
            return .ignored("an id longer than any provider's")
        }
        // The event row is marked processed with its (first) message. A message in several parts is recorded part
        // by part, each idempotently, so a run cut short after its first part must still record the rest; a LINE
        // image's fetch is handed over after its message commits, so a run cut short in between must hand it over
        // again (both idempotent: the message is not inserted twice, the job has one key per LINE message).
        if event.processed, !normalized.hasSeveralParts, !(deferLineImage != nil && normalized.hasLineImage) {
            // A run cut short after its message committed may not have applied a revision held for it.
            if case .message(let message) = normalized { try applyHeldRevisions(for: message, tenantID: event.tenantID) }
            return .alreadyProcessed
        }
        switch normalized {
        case .message(let message):
            return try record([message], event: event, whenRecorded: whenRecorded)
        case .messages(let parts):
            return try record(parts, event: event, whenRecorded: whenRecorded)
        case .activity(let activity):
            let leadID = try inbox.recordActivity(activity, event: event)
            try lookUpProfile(after: activity, leadID: leadID, event: event)
            return .activity
        case .revised(let revision):
            guard let record = try inbox.recordRevision(revision, event: event) else {
                // Its message may still come (a redelivery after the take-back): then recording it applies this.
                if try inbox.holdRevision(revision, event: event) {
                    try inbox.markProcessed(event: event, note: "held until its message arrives")
                    return .ignored("held until its message arrives")
                }
                try inbox.markProcessed(event: event, note: "no message to revise")
                return .ignored("no message to revise")
            }
            revised(record, by: revision, tenantID: event.tenantID)
            return .recorded(record)
        case .ignored(let reason):
            try inbox.markProcessed(event: event, note: reason)
            return .ignored(reason)
        }
    }
}

extension ProcessInboundEvent {
    /// Records a message (or the parts of one, in order): the visible message first, the sender's profile after.
    func record(_ parts: [InboundMessage], event: StoredWebhookEvent, whenRecorded: () throws -> Void) throws -> Outcome {
        guard var message = parts.first else { return .ignored("a message without parts") }
        let context = try inbox.lookupContext(event: event, externalUserID: message.externalUserID)
        let token = context.accessToken ?? defaultAccounts[message.channel]?.credentials.accessToken
        var commentText: AttachCommentText.Request?
        if message.needsCommentTextLookup, deferCommentText != nil, let commentID = message.facebookCommentID {
            message.metadata["textStatus"] = "pending"
            commentText = AttachCommentText.Request(tenantId: event.tenantID, channelAccountId: event.channelAccountID,
                                                    commentId: commentID)
        } else {
            fillCommentText(&message, event: event, token: token)
        }
        var first: InboundRecord?
        var inserted: [InboundRecord] = []
        var images: [AttachInboundLineImage.Request] = []
        for var part in [message] + parts.dropFirst() {
            var media: InboundMedia?
            if part.channel == .line, part.messageType == "IMAGE", let contentID = part.lineContentMessageID, let token {
                if deferLineImage != nil {
                    part.metadata["mediaStatus"] = "pending"
                    images.append(AttachInboundLineImage.Request(tenantId: event.tenantID, channelAccountId: event.channelAccountID,
                                                                 lineMessageId: contentID))
                } else if let lineImages {
                    media = lineImages(tenantID: event.tenantID, lineMessageID: contentID, accessToken: token)
                    if let error = media?.error {
                        logger.warning("LINE image kept without media", metadata: ["error": "\(error)", "tenantId": "\(event.tenantID)"])
                    }
                }
            }
            let record = try inbox.recordMessage(part, event: event, media: media)
            if record.inserted { inserted.append(record) }
            first = first ?? record
        }
        guard let first else { return .ignored("a message without parts") }
        // Before the job completes: a run cut short here hands the fetch over again (one job per LINE message).
        for image in images { try deferLineImage?(image) }
        if let commentText { try deferCommentText?(commentText) }
        // Before dashboards hear of the message, so that what the customer took back is never shown.
        try applyHeldRevisions(for: message, tenantID: event.tenantID)
        for record in inserted {  // after the commit, and only for what is new
            realtime.publish(RealtimeEvent(type: "message.received", tenantID: event.tenantID,
                                           conversationID: record.conversationID, messageID: record.messageID,
                                           leadID: record.leadID))
        }
        try whenRecorded()
        // The message is visible first; the sender's profile follows.
        if let lookup = profileLookup(for: message, event: event, context: context, token: token, record: first) {
            if let deferProfileLookup { deferProfileLookup(lookup) } else { try refreshProfile(lookup) }
        }
        return .recorded(first)
    }

    /// A take-back or an edit that arrived before this message (see `InboxRecorder.holdRevision`) applies now, and
    /// is let go. An unsent LINE image is not fetched: its job finds the message no longer waiting for content.
    func applyHeldRevisions(for message: InboundMessage, tenantID: UUID) throws {
        for held in try inbox.heldRevisions(tenantID: tenantID, channel: message.channel,
                                             providerMessageID: message.providerMessageID) {
            if let record = try inbox.recordRevision(held.revision, event: held.event) {
                revised(record, by: held.revision, tenantID: tenantID)
            }
            try inbox.releaseHeldRevision(held)
        }
    }

    /// After a revision committed: an unsent LINE image's stored files go with what the message said (nothing is
    /// stored for other messages), and dashboards hear of the change.
    func revised(_ record: InboundRecord, by revision: InboundRevision, tenantID: UUID) {
        if revision.change == .unsent, revision.channel == .line, let lineImages {
            do {
                try lineImages.remove(tenantID: tenantID, lineMessageID: revision.providerMessageID)
            } catch {
                logger.warning("an unsent image's files could not be removed", metadata: ["error": "\(error)"])
            }
        }
        realtime.publish(RealtimeEvent(type: "conversation.updated", tenantID: tenantID,
                                       conversationID: record.conversationID, messageID: record.messageID,
                                       leadID: record.leadID))
    }

    /// Best effort: a comment's text when the webhook left it out (it is the message's content).
    func fillCommentText(_ message: inout InboundMessage, event: StoredWebhookEvent, token: String?) {
        guard message.needsCommentTextLookup, let commentID = message.facebookCommentID, let profiles, let token else { return }
        do {
            if let text = try profiles.commentText(commentID: commentID, accessToken: token), !text.isEmpty {
                message.text = text
                message.needsCommentTextLookup = false
            }
        } catch {
            logger.warning("comment text lookup failed; keeping the placeholder",
                           metadata: ["error": "\(error)", "tenantId": "\(event.tenantID)"])
        }
    }

    /// A profile lookup a recorded message or activity calls for: the payload lacks the customer's name or picture,
    /// and the cached profile is missing or older than the TTL.
    public struct ProfileLookup: Sendable, Equatable {
        public let channel: Channel
        public let externalUserID: String
        /// What the payload said already (a comment's from.name is current): only what it lacks is looked up.
        public let payloadHasName: Bool
        public let payloadHasPicture: Bool
        public let event: StoredWebhookEvent
        public let token: String
        /// Whom dashboards hear about: the conversation when a message brought the lookup, else the lead.
        public let conversationID: UUID?
        public let leadID: UUID?

        /// One pending lookup per customer is enough.
        public var customerKey: String { "\(event.tenantID)/\(channel.rawValue)/\(externalUserID)" }
    }

    func profileLookup(for message: InboundMessage, event: StoredWebhookEvent, context: InboundLookupContext,
                       token: String?, record: InboundRecord) -> ProfileLookup? {
        guard !message.senderIsHidden else { return nil }
        // A commenter's id is not a Messenger PSID: the Graph API answers no profile for it with a Page token, so
        // the comment's own from.name is all there is.
        if message.threadType == "FACEBOOK_COMMENT" { return nil }
        return profileLookup(channel: message.channel, externalUserID: message.externalUserID,
                             payloadHasName: !(message.senderDisplayName ?? "").isEmpty,
                             payloadHasPicture: !(message.senderProfileImageURL ?? "").isEmpty, event: event,
                             context: context, token: token, conversationID: record.conversationID, leadID: record.leadID)
    }

    func profileLookup(channel: Channel, externalUserID: String, payloadHasName: Bool, payloadHasPicture: Bool,
                       event: StoredWebhookEvent, context: InboundLookupContext, token: String?, conversationID: UUID?,
                       leadID: UUID?) -> ProfileLookup? {
        guard profiles != nil, let token, !(payloadHasName && payloadHasPicture) else { return nil }
        if let fetched = context.profileFetchedAt, Date().timeIntervalSince(fetched) < profileTTLSeconds { return nil }
        return ProfileLookup(channel: channel, externalUserID: externalUserID, payloadHasName: payloadHasName,
                             payloadHasPicture: payloadHasPicture, event: event, token: token,
                             conversationID: conversationID, leadID: leadID)
    }

    /// Who followed, pressed a button or added the bot to a group is a customer with a lead, often before any
    /// message: their name and picture are looked up as for a message's sender. Departures are not (the customer
    /// blocked the account or it left the group: the profile API answers nothing, and the lead is theirs already).
    func lookUpProfile(after activity: InboundActivity, leadID: UUID?, event: StoredWebhookEvent) throws {
        guard profiles != nil, let leadID, !InboundActivity.departures.contains(activity.kind) else { return }
        let context = try inbox.lookupContext(event: event, externalUserID: activity.externalUserID)
        guard let lookup = profileLookup(
            channel: activity.channel, externalUserID: activity.externalUserID, payloadHasName: false,
            payloadHasPicture: false, event: event, context: context,
            token: context.accessToken ?? defaultAccounts[activity.channel]?.credentials.accessToken,
            conversationID: nil, leadID: leadID)
        else { return }
        if let deferProfileLookup { deferProfileLookup(lookup) } else { try refreshProfile(lookup) }
    }

    /// Best effort, never fatal: the customer's name and picture from the provider (only HTTPS pictures are kept);
    /// a new non-empty one updates identity, contact, lead and conversations, and dashboards hear of it.
    public func refreshProfile(_ lookup: ProfileLookup) throws {
        guard let profiles else { return }
        let fetched: ProviderProfile
        do {
            fetched = try profiles.profile(channel: lookup.channel, externalUserID: lookup.externalUserID,
                                           accessToken: lookup.token)
        } catch {
            logger.warning("profile lookup failed; continuing without it",
                           metadata: ["error": "\(error)", "tenantId": "\(lookup.event.tenantID)"])
            return
        }
        let picture = fetched.pictureURL.flatMap { $0.hasPrefix("https://") ? $0 : nil }
        let profile = ProviderProfile(displayName: lookup.payloadHasName ? nil : fetched.displayName,
                                      pictureURL: lookup.payloadHasPicture ? nil : picture)
        if try inbox.updateProfile(event: lookup.event, externalUserID: lookup.externalUserID, profile: profile) {
            realtime.publish(RealtimeEvent(type: lookup.conversationID == nil ? "lead.updated" : "conversation.updated",
                                           tenantID: lookup.event.tenantID, conversationID: lookup.conversationID,
                                           leadID: lookup.leadID))
        }
    }
}

/// A job that can never succeed (bad payload, missing row): dead-letter it at once.
public struct PermanentJobFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A job's attempt that may pass later (a provider's timeout, 5xx or 429): the job is retried with backoff, and only
/// its last attempt settles what the job was for.
public struct TransientJobFailure: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}
