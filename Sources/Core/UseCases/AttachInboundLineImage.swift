import FoundationEssentials
import Logging

/// A LINE image's content, fetched after its message is in the inbox. The message is recorded at once (with
/// `mediaStatus: pending`), and a job of `topic` carries the fetch: the download, the re-encoding and the storing of
/// original and thumbnail then never hold up an inbound lane (a slow content API, or a burst of photos that libvips
/// spends real CPU on, would otherwise stall every customer's messages behind them). The job is durable, leased and
/// retried like any other; a failure keeps the message with error metadata, as before.
public struct AttachInboundLineImage {
    public static let topic = "inbound.line_image"

    /// What the job carries: which message, and which account's token fetches it (never the token itself).
    public struct Request: Codable, Sendable, Equatable {
        public let tenantId: UUID
        public let channelAccountId: UUID?
        public let lineMessageId: String

        public init(tenantId: UUID, channelAccountId: UUID?, lineMessageId: String) {
            self.tenantId = tenantId
            self.channelAccountId = channelAccountId
            self.lineMessageId = lineMessageId
        }

        /// The queue job for it: one per LINE message, however often its inbound event is processed.
        public func job() throws -> NewQueueJob {
            try NewQueueJob(tenantID: tenantId, topic: AttachInboundLineImage.topic, encoding: self,
                            idempotencyKey: "line-image:\(lineMessageId)")
        }
    }

    let inbox: any InboxRecorder
    let lineImages: StoreInboundLineImage
    let defaultAccount: ChannelAccount?
    let realtime: any RealtimePublisher
    let logger: Logger

    public init(inbox: any InboxRecorder, lineImages: StoreInboundLineImage, defaultAccount: ChannelAccount?,
                realtime: any RealtimePublisher, logger: Logger) {
        self.inbox = inbox
        self.lineImages = lineImages
        self.defaultAccount = defaultAccount
        self.realtime = realtime
        self.logger = logger
    }

    /// A download that may pass later (timeout, 5xx, 429): the job is retried with backoff, and only its last
    /// attempt keeps the message with the error.
    public typealias TransientFailure = TransientJobFailure

    /// Fetches and stores the image, then attaches it (or the error) to its message. False when there was nothing
    /// to attach to (the message was unsent meanwhile, or this ran before): then nothing is downloaded either.
    @discardableResult
    public func callAsFunction(jobPayload: String, finalAttempt: Bool = true) throws -> Bool {
        let request = try NewQueueJob.decode(Request.self, payload: jobPayload, what: "image")
        // An image the customer took back (or one attached before) is not fetched at all.
        guard try inbox.lineImagePending(tenantID: request.tenantId, lineMessageID: request.lineMessageId) else { return false }
        let token = try inbox.accessToken(tenantID: request.tenantId, channelAccountID: request.channelAccountId)
            ?? defaultAccount?.credentials.accessToken
        let media = token.map { lineImages(tenantID: request.tenantId, lineMessageID: request.lineMessageId, accessToken: $0) }
            ?? InboundMedia(error: "no_access_token", errorReason: "the LINE channel account has no access token")
        if media.transient, !finalAttempt {
            throw TransientFailure(description: "\(media.error ?? "download_failed"): \(media.errorReason ?? "")")
        }
        if let error = media.error {
            logger.warning("LINE image kept without media", metadata: ["error": "\(error)", "tenantId": "\(request.tenantId)"])
        }
        guard let record = try inbox.attachLineImage(tenantID: request.tenantId, lineMessageID: request.lineMessageId,
                                                     media: media) else {
            // Unsent while it was being fetched: what was just stored goes too.
            try lineImages.remove(tenantID: request.tenantId, lineMessageID: request.lineMessageId)
            return false
        }
        realtime.publish(RealtimeEvent(type: "conversation.updated", tenantID: request.tenantId,
                                       conversationID: record.conversationID, messageID: record.messageID,
                                       leadID: record.leadID))
        return true
    }
}
