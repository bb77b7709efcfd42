import Core
import VipsImages
import Dispatch
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// One outbound thread: its own connection and HTTP clients; claims `message.outbound.requested` jobs until there
/// are none, then waits to be woken (or the poll interval).
struct OutboundLane: Sendable {
    let config: HubChatConfig
    let lane: Lane
    let metrics: WorkerMetrics
    let limiter: LocalRateLimiter
    let realtime: any RealtimePublisher & Sendable

    /// The lanes share WORKER_OUTBOUND_BATCH_SIZE (see InboundLane).
    var batchSize: Int {
        max(1, (config.worker.outboundBatchSize + config.worker.outboundConcurrency - 1) / config.worker.outboundConcurrency)
    }

    func run() {
        guard let http = try? CurlHTTPClient() else {
            lane.logger.critical("outbound lane has no HTTP client; not delivering")
            return
        }
        let provider = MeasuredHTTPClient(inner: http, metrics: metrics)
        let media = config.media
        let storage = LocalMediaStorage(media)
        let previews: VipsLinePreviews? = (try? VipsImageProcessor()).map {
            VipsLinePreviews(images: $0, storage: storage, http: http,
                             guardURL: MediaURLGuard(resolver: SystemHostResolver(), trustedPrefix: storage.publicMediaPrefix),
                             bucket: media.imageBucket, mode: media.imageURLMode, ttlSeconds: media.imageSignedURLTTLSeconds,
                             maxSourceBytes: media.uploadMaxBytes)
        }
        let timeout = config.providers.sendTimeoutSeconds * 1000
        let line = LineMessagingClient(http: provider, baseURL: config.providers.lineAPIBaseURL, timeoutMilliseconds: timeout)
        let meta = MetaSendClient(http: provider, baseURL: config.providers.metaGraphBaseURL,
                                  version: config.providers.metaGraphVersion, timeoutMilliseconds: timeout)
        let ownLimit = RateLimit(bucket: "outbound", requests: config.limits.outboundRequestsPerWindow,
                                 windowSeconds: config.limits.outboundWindowSeconds)
        lane.run { db in
            let store = PostgresDeliveryStore(connection: db)
            let deliver = DeliverOutboundMessage(
                store: store, line: line, meta: meta, previews: previews, ownLimit: ownLimit, localLimiter: limiter,
                defaultAccounts: config.defaultChannelAccounts, useLineReplyTokens: config.worker.lineUseReplyTokens,
                logger: lane.logger)
            return try OutboundProcessor(
                queue: PostgresJobQueue(connection: db), store: store, deliver: deliver, realtime: realtime,
                metrics: metrics, batchSize: batchSize, leaseSeconds: config.worker.outboxProcessingTimeoutSeconds,
                workerName: lane.name, logger: lane.logger).runOnce()
        }
    }
}
