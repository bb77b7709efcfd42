import Core
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The worker's main loop: relay, process, rescue expired leases, sleep until woken.
struct WorkerLoop {
    let config: HubChatConfig
    let logger: Logger
    let name = "worker-\(getpid())"

    private var settings: PostgresConnection.Settings {
        .init(url: config.database.url, applicationName: "hubchat-worker",
              statementTimeoutMilliseconds: config.database.statementTimeoutMilliseconds,
              idleInTransactionTimeoutMilliseconds: config.database.idleInTransactionTimeoutMilliseconds,
              systemScope: true)
    }

    func run() {
        logger.info("worker started", metadata: ["name": "\(name)", "pollIntervalMs": "\(config.worker.pollIntervalMilliseconds)"])
        var listener: PostgresConnection?
        var work: PostgresConnection?
        var wasDown = false
        var lastRescue = 0.0
        let lineImages = makeLineImageStore()
        let profiles: (any ProviderProfiles)? = (try? CurlHTTPClient()).map {
            HTTPProviderProfiles(http: $0, lineAPIBaseURL: config.providers.lineAPIBaseURL,
                                 graphBaseURL: config.providers.metaGraphBaseURL, graphVersion: config.providers.metaGraphVersion)
        }
        while ProcessSignals.stopRequested == 0 {
            do {
                if listener == nil {
                    let connection = try PostgresConnection(settings: settings)
                    try connection.listen(PostgresWorkerWakeUp.channel)
                    listener = connection
                }
                if work == nil { work = try PostgresConnection(settings: settings) }
                if wasDown { logger.info("database reachable again"); wasDown = false }
                let db = work!
                let queue = PostgresJobQueue(connection: db)
                if Self.now() - lastRescue > 5 {
                    let rescued = try PostgresOutbox(connection: db).rescueExpiredLeases() + queue.rescueExpiredLeases()
                    if rescued > 0 { logger.warning("expired leases rescued", metadata: ["count": "\(rescued)"]) }
                    lastRescue = Self.now()
                }
                let relayed = try OutboxRelay(
                    outbox: PostgresOutbox(connection: db), queue: queue, batchSize: config.worker.outboxBatchSize,
                    leaseSeconds: config.worker.outboxProcessingTimeoutSeconds, workerName: name, logger: logger).runOnce()
                let process = ProcessInboundEvent(
                    inbox: PostgresInbox(connection: db), profiles: profiles,
                    defaultAccounts: config.defaultChannelAccounts, lineImages: lineImages, logger: logger)
                let processed = try InboundProcessor(
                    queue: queue, process: process,
                    batchSize: config.worker.inboundBatchSize, leaseSeconds: config.worker.outboxProcessingTimeoutSeconds,
                    workerName: name, logger: logger).runOnce()
                if relayed == 0 && processed == 0 {
                    // Nothing to do: sleep until a producer notifies, or the backstop fires.
                    _ = try listener!.waitForNotifications(timeoutMilliseconds: config.worker.pollIntervalMilliseconds)
                }
            } catch let error as PostgresError where error.isUnavailable {
                if !wasDown { logger.error("database unavailable; retrying", metadata: ["error": "\(error)"]) }
                wasDown = true
                listener = nil
                work = nil
                usleep(UInt32(min(config.worker.pollIntervalMilliseconds * 5, 2_000) * 1000))
            } catch {
                // A statement failed for another reason (a bug, a constraint): keep the
                // connections, say so, and try again after the poll interval.
                logger.error("worker cycle failed", metadata: ["error": "\(error)"])
                usleep(UInt32(config.worker.pollIntervalMilliseconds * 1000))
            }
        }
        logger.info("worker stopped")
    }

    /// Inbound LINE images: libvips, the local media directory, LINE's content API.
    private func makeLineImageStore() -> StoreInboundLineImage? {
        do {
            let media = config.media
            return StoreInboundLineImage(
                http: try CurlHTTPClient(), images: try VipsImageProcessor(),
                storage: LocalMediaStorage(root: media.directory, publicBaseURL: media.publicBaseURL,
                                           signingSecret: media.signingSecret),
                settings: .init(dataAPIBaseURL: config.providers.lineDataAPIBaseURL, bucket: media.inboundBucket,
                                urlMode: media.inboundURLMode, signedURLTTLSeconds: media.inboundSignedURLTTLSeconds,
                                maxBytes: media.inboundMaxBytes))
        } catch {
            logger.error("inbound images are disabled", metadata: ["error": "\(error)"])
            return nil
        }
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
