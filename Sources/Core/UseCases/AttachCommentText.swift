import FoundationEssentials
import Logging

/// A Facebook comment's text when its webhook left it out, fetched after the comment is in the inbox. The comment
/// is recorded at once with its placeholder (`textStatus: pending` in its metadata), and a job of `topic` carries
/// the Graph lookup, so a slow or failing Graph API never holds up an inbound lane: every tenant's messages share
/// those lanes. Durable, leased and retried like any other job; after the last attempt the placeholder stays.
public struct AttachCommentText {
    public static let topic = "inbound.comment_text"

    /// Which comment, and which account's token looks it up (never the token itself).
    public struct Request: Codable, Sendable, Equatable {
        public let tenantId: UUID
        public let channelAccountId: UUID?
        public let commentId: String

        public init(tenantId: UUID, channelAccountId: UUID?, commentId: String) {
            self.tenantId = tenantId
            self.channelAccountId = channelAccountId
            self.commentId = commentId
        }

        /// The queue job for it: one per comment, however often its webhook event is processed.
        public func job() throws -> NewQueueJob {
            try NewQueueJob(tenantID: tenantId, topic: AttachCommentText.topic, encoding: self,
                            idempotencyKey: "comment-text:\(tenantId.uuidString.lowercased()):\(commentId)")
        }
    }

    let inbox: any InboxRecorder
    let profiles: any ProviderProfiles
    let defaultAccount: ChannelAccount?
    let realtime: any RealtimePublisher
    let logger: Logger

    public init(inbox: any InboxRecorder, profiles: any ProviderProfiles, defaultAccount: ChannelAccount?,
                realtime: any RealtimePublisher, logger: Logger) {
        self.inbox = inbox
        self.profiles = profiles
        self.defaultAccount = defaultAccount
        self.realtime = realtime
        self.logger = logger
    }

    /// Looks the text up and puts it in the comment's message (and the thread's preview while it is the newest).
    /// False when no message waits for it (attached before) or Graph has no text (a photo-only comment): the
    /// placeholder stays.
    @discardableResult
    public func callAsFunction(jobPayload: String, finalAttempt: Bool = true) throws -> Bool {
        let request = try NewQueueJob.decode(Request.self, payload: jobPayload, what: "comment text")
        guard try inbox.commentTextPending(tenantID: request.tenantId, commentID: request.commentId) else { return false }
        var text: String?
        if let token = try inbox.accessToken(tenantID: request.tenantId, channelAccountID: request.channelAccountId)
            ?? defaultAccount?.credentials.accessToken {
            do {
                text = try profiles.commentText(commentID: request.commentId, accessToken: token)
            } catch {
                guard finalAttempt else { throw TransientJobFailure(description: "comment text lookup failed: \(error)") }
                logger.warning("comment text lookup failed; keeping the placeholder",
                               metadata: ["error": "\(error)", "tenantId": "\(request.tenantId)"])
            }
        }
        let found = text.flatMap { $0.isEmpty ? nil : $0 }
        guard let record = try inbox.attachCommentText(tenantID: request.tenantId, commentID: request.commentId, text: found),
              found != nil
        else { return false }
        realtime.publish(RealtimeEvent(type: "conversation.updated", tenantID: request.tenantId,
                                       conversationID: record.conversationID, messageID: record.messageID,
                                       leadID: record.leadID))
        return true
    }
}
