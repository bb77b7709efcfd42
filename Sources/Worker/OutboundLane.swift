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
    let settings: PostgresConnection.Settings
    let workerName: String
    let logger: Logger
    let wake: DispatchSemaphore
    let heartbeats: LoopHeartbeats
    let metrics: WorkerMetrics
    let limiter: LocalRateLimiter

    /// The lanes share WORKER_OUTBOUND_BATCH_SIZE (see InboundLane).
    var batchSize: Int {
        max(1, (config.worker.outboundBatchSize + config.worker.outboundConcurrency - 1) / config.worker.outboundConcurrency)
    }

    func run() {
        guard let http = try? CurlHTTPClient() else {
            logger.critical("outbound lane has no HTTP client; not delivering")
            return
        }
        let provider = MeasuredHTTPClient(inner: http, metrics: metrics)
        let media = config.media
        let storage = LocalMediaStorage(root: media.directory, publicBaseURL: media.publicBaseURL, signingSecret: media.signingSecret)
        let previews: VipsLinePreviews? = (try? VipsImageProcessor()).map {
            VipsLinePreviews(images: $0, storage: storage, http: http,
                             guardURL: MediaURLGuard(resolver: SystemHostResolver(), trustedPrefix: storage.publicMediaPrefix),
                             bucket: media.imageBucket, mode: media.imageURLMode, ttlSeconds: media.imageSignedURLTTLSeconds,
                             maxSourceBytes: media.uploadMaxBytes)
        }
        var db: PostgresConnection?
        var wasDown = false
        while ProcessSignals.stopRequested == 0 {
            heartbeats.tick(workerName)
            do {
                if db == nil { db = try PostgresConnection(settings: settings) }
                if wasDown { wasDown = false }
                let store = PostgresDeliveryStore(connection: db!)
                let deliver = DeliverOutboundMessage(
                    store: store,
                    line: LineMessagingClient(http: provider, baseURL: config.providers.lineAPIBaseURL),
                    meta: MetaSendClient(http: provider, baseURL: config.providers.metaGraphBaseURL,
                                         version: config.providers.metaGraphVersion),
                    previews: previews,
                    ownLimit: RateLimit(bucket: "outbound", requests: config.limits.outboundRequestsPerWindow,
                                        windowSeconds: config.limits.outboundWindowSeconds),
                    localLimiter: limiter, defaultAccounts: config.defaultChannelAccounts,
                    useLineReplyTokens: config.worker.lineUseReplyTokens, logger: logger)
                let processed = try OutboundProcessor(
                    queue: PostgresJobQueue(connection: db!), store: store, deliver: deliver, realtime: NoRealtimePublisher(),
                    metrics: metrics, batchSize: batchSize, leaseSeconds: config.worker.outboxProcessingTimeoutSeconds,
                    workerName: workerName, logger: logger).runOnce()
                if processed == 0 {
                    _ = wake.wait(timeout: .now() + .milliseconds(config.worker.pollIntervalMilliseconds))
                }
            } catch let error as PostgresError where error.isUnavailable {
                if !wasDown { logger.error("outbound lane lost the database; retrying", metadata: ["error": "\(error)"]) }
                wasDown = true
                db = nil
                usleep(UInt32(min(config.worker.pollIntervalMilliseconds * 5, 2_000) * 1000))
            } catch {
                logger.error("outbound cycle failed", metadata: ["error": "\(error)"])
                usleep(UInt32(config.worker.pollIntervalMilliseconds * 1000))
            }
        }
    }
}
