import Core
import Dispatch
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The worker's main loop. The main thread relays the outbox into the queue, rescues expired
/// leases and sleeps on LISTEN/NOTIFY (the poll interval is the backstop); it wakes the
/// inbound lanes, `WORKER_INBOUND_CONCURRENCY` threads that each claim and process jobs on
/// their own connection. Claims skip each other's locked rows, within a worker and across
/// workers. On SIGTERM every thread finishes the job in hand and the process exits.
struct WorkerLoop {
    let config: HubChatConfig
    let logger: Logger
    let name = "worker-\(getpid())"

    var settings: PostgresConnection.Settings {
        .init(url: config.database.url, applicationName: "hubchat-worker",
              statementTimeoutMilliseconds: config.database.statementTimeoutMilliseconds,
              idleInTransactionTimeoutMilliseconds: config.database.idleInTransactionTimeoutMilliseconds,
              systemScope: true)
    }

    func run() {
        logger.info("worker started", metadata: [
            "name": "\(name)", "pollIntervalMs": "\(config.worker.pollIntervalMilliseconds)",
            "inboundLanes": "\(config.worker.inboundConcurrency)"])
        let wake = DispatchSemaphore(value: 0)
        let finished = DispatchGroup()
        let lanes = config.worker.inboundConcurrency
        for lane in 0..<lanes {
            let worker = InboundLane(config: config, settings: settings, workerName: "\(name)/\(lane)", logger: logger, wake: wake)
            finished.enter()
            let thread = Thread { worker.run(); finished.leave() }
            thread.start()
        }
        relayLoop(wakeLanes: { for _ in 0..<lanes { wake.signal() } })
        for _ in 0..<lanes { wake.signal() }  // let sleeping lanes see the stop flag
        finished.wait()
        logger.info("worker stopped")
    }

    private func relayLoop(wakeLanes: () -> Void) {
        var listener: PostgresConnection?
        var work: PostgresConnection?
        var wasDown = false
        var lastRescue = 0.0
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
                if Self.now() - lastRescue > 5 {
                    let rescued = try PostgresOutbox(connection: db).rescueExpiredLeases()
                        + PostgresJobQueue(connection: db).rescueExpiredLeases()
                    if rescued > 0 { logger.warning("expired leases rescued", metadata: ["count": "\(rescued)"]) }
                    lastRescue = Self.now()
                }
                let relayed = try OutboxRelay(
                    outbox: PostgresOutbox(connection: db), queue: PostgresJobQueue(connection: db),
                    batchSize: config.worker.outboxBatchSize, leaseSeconds: config.worker.outboxProcessingTimeoutSeconds,
                    workerName: name, logger: logger).runOnce()
                if relayed > 0 {
                    wakeLanes()
                } else {
                    // Nothing to relay: sleep until a producer notifies, or the backstop fires.
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
                logger.error("relay cycle failed", metadata: ["error": "\(error)"])
                usleep(UInt32(config.worker.pollIntervalMilliseconds * 1000))
            }
        }
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// One inbound thread: its own connection, HTTP client and image pipeline; claims
/// `webhook.received` jobs until there are none, then waits to be woken (or the poll interval).
struct InboundLane: Sendable {
    let config: HubChatConfig
    let settings: PostgresConnection.Settings
    let workerName: String
    let logger: Logger
    let wake: DispatchSemaphore

    /// The lanes share WORKER_INBOUND_BATCH_SIZE: a lane that claimed a whole batch would make
    /// the last job of it wait for every job before it while other lanes sit idle.
    var batchSize: Int {
        max(1, (config.worker.inboundBatchSize + config.worker.inboundConcurrency - 1) / config.worker.inboundConcurrency)
    }

    func run() {
        var db: PostgresConnection?
        var wasDown = false
        let lineImages = makeLineImageStore()
        let profiles: (any ProviderProfiles)? = (try? CurlHTTPClient()).map {
            HTTPProviderProfiles(http: $0, lineAPIBaseURL: config.providers.lineAPIBaseURL,
                                 graphBaseURL: config.providers.metaGraphBaseURL, graphVersion: config.providers.metaGraphVersion)
        }
        while ProcessSignals.stopRequested == 0 {
            do {
                if db == nil { db = try PostgresConnection(settings: settings) }
                if wasDown { wasDown = false }
                let process = ProcessInboundEvent(
                    inbox: PostgresInbox(connection: db!), profiles: profiles,
                    defaultAccounts: config.defaultChannelAccounts, lineImages: lineImages, logger: logger)
                let processed = try InboundProcessor(
                    queue: PostgresJobQueue(connection: db!), process: process, batchSize: batchSize,
                    leaseSeconds: config.worker.outboxProcessingTimeoutSeconds, workerName: workerName, logger: logger).runOnce()
                if processed == 0 {
                    _ = wake.wait(timeout: .now() + .milliseconds(config.worker.pollIntervalMilliseconds))
                }
            } catch let error as PostgresError where error.isUnavailable {
                if !wasDown { logger.error("inbound lane lost the database; retrying", metadata: ["error": "\(error)"]) }
                wasDown = true
                db = nil
                usleep(UInt32(min(config.worker.pollIntervalMilliseconds * 5, 2_000) * 1000))
            } catch {
                logger.error("inbound cycle failed", metadata: ["error": "\(error)"])
                usleep(UInt32(config.worker.pollIntervalMilliseconds * 1000))
            }
        }
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
}

import Foundation
