import Core
import Foundation
import VipsImages
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
    /// Names this process's leases and its connections (`WorkerSessions`), so a successor can tell it has gone.
    let name = WorkerSessions.uniqueWorkerName()
    let metrics = WorkerMetrics()
    let heartbeats = LoopHeartbeats()
    /// Shared by the outbound lanes, for accounts configured by env vars alone.
    let limiter = LocalRateLimiter()

    var settings: PostgresConnection.Settings {
        .init(url: config.database.url, applicationName: WorkerSessions.applicationName(worker: name),
              statementTimeoutMilliseconds: config.database.statementTimeoutMilliseconds,
              idleInTransactionTimeoutMilliseconds: config.database.idleInTransactionTimeoutMilliseconds,
              systemScope: true)
    }

    func run() {
        logger.info("worker started", metadata: [
            "name": "\(name)", "pollIntervalMs": "\(config.worker.pollIntervalMilliseconds)",
            "inboundLanes": "\(config.worker.inboundConcurrency)", "outboundLanes": "\(config.worker.outboundConcurrency)"])
        if let port = config.worker.healthPort {
            do {
                try HealthServer(host: config.worker.healthHost, port: port, metrics: metrics, heartbeats: heartbeats,
                                 stallSeconds: stallSeconds, settings: settings, logger: logger).start()
            } catch {
                logger.critical("the health endpoints could not start", metadata: ["error": "\(error)"])
            }
        }
        let realtime = Self.realtimePublisher(config, logger: logger)
        let inboundWake = DispatchSemaphore(value: 0)
        let outboundWake = DispatchSemaphore(value: 0)
        let finished = DispatchGroup()
        let inbound = config.worker.inboundConcurrency
        let outbound = config.worker.outboundConcurrency
        let housekeepingLane = lane(named: "housekeeping", wake: DispatchSemaphore(value: 0))
        finished.enter()
        Thread { housekeeping(housekeepingLane, realtime: realtime); finished.leave() }.start()
        let imageWake = DispatchSemaphore(value: 0)
        // Without libvips there are no image lanes, and inbound lanes record LINE images without media (as before
        // lanes existed) rather than leave them waiting for a fetch nobody makes.
        let imagesAvailable = (try? VipsImageProcessor()) != nil
        if !imagesAvailable { logger.error("libvips could not start: LINE images are recorded without their content") }
        for index in 0..<(imagesAvailable ? Self.imageLanes : 0) {
            let worker = LineImageLane(config: config, lane: lane(named: "images\(index)", wake: imageWake), metrics: metrics,
                                       realtime: realtime)
            finished.enter()
            Thread { worker.run(); finished.leave() }.start()
        }
        let lookups = ProfileLookups()
        for index in 0..<Self.profileLanes {
            let worker = ProfileLane(config: config, lane: lane(named: "profiles\(index)", wake: lookups.ready),
                                     lookups: lookups, realtime: realtime)
            finished.enter()
            Thread { worker.run(); finished.leave() }.start()
        }
        let commentWake = DispatchSemaphore(value: 0)
        let comments = CommentTextLane(config: config, lane: lane(named: "comments", wake: commentWake), metrics: metrics,
                                       realtime: realtime)
        finished.enter()
        Thread { comments.run(); finished.leave() }.start()
        for index in 0..<inbound {
            let worker = InboundLane(config: config, lane: lane(named: "in\(index)", wake: inboundWake), metrics: metrics,
                                     realtime: realtime, lookups: lookups, imageWake: imagesAvailable ? imageWake : nil,
                                     commentWake: commentWake)
            finished.enter()
            Thread { worker.run(); finished.leave() }.start()
        }
        for index in 0..<outbound {
            let worker = OutboundLane(config: config, lane: lane(named: "out\(index)", wake: outboundWake), metrics: metrics,
                                      limiter: limiter, realtime: realtime)
            finished.enter()
            Thread { worker.run(); finished.leave() }.start()
        }
        // As many lanes as the relayed jobs need (each claims its share of the batch), of the kind they are for:
        // waking every lane for every event made each idle lane run an empty claim per message.
        let inboundShare = max(1, (config.worker.inboundBatchSize + inbound - 1) / max(inbound, 1))
        let outboundShare = max(1, (config.worker.outboundBatchSize + outbound - 1) / max(outbound, 1))
        let wakeLanes = { (relayed: [String: Int]) in
            for (topic, count) in relayed {
                switch topic {
                case PostgresWebhookEventStore.topic:
                    for _ in 0..<min(inbound, (count + inboundShare - 1) / inboundShare) { inboundWake.signal() }
                case PostgresOutboundStore.topic:
                    for _ in 0..<min(outbound, (count + outboundShare - 1) / outboundShare) { outboundWake.signal() }
                default:
                    for _ in 0..<inbound { inboundWake.signal() }
                    for _ in 0..<outbound { outboundWake.signal() }
                }
            }
        }
        relayLoop(wakeLanes: wakeLanes)
        // Let sleeping lanes see the stop flag.
        for _ in 0..<inbound { inboundWake.signal() }
        for _ in 0..<outbound { outboundWake.signal() }
        for _ in 0..<Self.profileLanes { lookups.ready.signal() }
        for _ in 0..<Self.imageLanes { imageWake.signal() }
        commentWake.signal()
        finished.wait()
        (realtime as? BackgroundRealtimePublisher)?.flush()
        logger.info("worker stopped")
    }

    /// A job dead-lettered because its worker died during its last attempt never reaches the code that settles a
    /// failure: what waited on it is settled here, so that nothing stays QUEUED or "arriving" for ever. A delivery
    /// fails with a reason (it may have gone out: the agent decides); a LINE image is kept without its content.
    /// An inbound event stays unprocessed, listed with the dead letters for a replay.
    func settleAbandoned(_ job: QueueJob, db: PostgresConnection, realtime: any RealtimePublisher) throws {
        let payload = try? JSONValue.parse(job.payload)
        logger.error("a job was dead-lettered after its worker stopped during its last attempt",
                     metadata: ["queueJobId": "\(job.id)", "topic": "\(job.topic)"])
        switch job.topic {
        case OutboundProcessor.topic:
            guard let messageID = payload?["messageId"]?.stringValue.flatMap(UUID.init) else { return }
            try OutboundProcessor.markFailed(
                job, messageID: messageID, code: "worker_stopped",
                reason: "The worker stopped during the last delivery attempt. It may have reached the customer; "
                    + "check before resending.",
                store: PostgresDeliveryStore(connection: db), realtime: realtime)
        case AttachInboundLineImage.topic:
            guard let lineMessageID = payload?["lineMessageId"]?.stringValue else { return }
            let media = InboundMedia(error: "worker_stopped", errorReason: "the worker stopped while fetching the image")
            if let record = try PostgresInbox(connection: db).attachLineImage(tenantID: job.tenantID, lineMessageID: lineMessageID,
                                                                               media: media) {
                realtime.publish(RealtimeEvent(type: "conversation.updated", tenantID: job.tenantID,
                                               conversationID: record.conversationID, messageID: record.messageID,
                                               leadID: record.leadID))
            }
        case AttachCommentText.topic:
            // The placeholder stays; the comment no longer reads as waiting for its text.
            guard let commentID = payload?["commentId"]?.stringValue else { return }
            _ = try PostgresInbox(connection: db).attachCommentText(tenantID: job.tenantID, commentID: commentID, text: nil)
        default:
            break
        }
    }

    /// Lanes that look up customers' profiles for the inbound lanes (see ProfileLookups).
    static let profileLanes = 2
    /// Lanes that fetch, re-encode and store inbound LINE images (see AttachInboundLineImage): two, so one slow
    /// download does not hold up the next, and no more, so libvips never takes more than two threads of CPU.
    static let imageLanes = 2

    /// Lease heartbeats, rescue of expired leases, pruning and the pipeline's numbers for `/metrics`, on a thread
    /// and connection of their own: inline in the relay they held up every wake-up for the 10–30 ms their counts
    /// take on a large queue table.
    func housekeeping(_ lane: Lane, realtime: any RealtimePublisher) {
        var lastRescue = 0.0
        var lastObservation = 0.0
        var nextRetention = 0.0
        var predecessorsChecked = false
        lane.run { db in
            // Once, at start: a worker restarted after a crash takes back its predecessor's jobs and batches now
            // (that process has no connection left), not when their leases run out.
            if !predecessorsChecked {
                let jobs = try PostgresJobQueue(connection: db).rescueJobsOfStoppedWorkers(except: name)
                let events = try PostgresOutbox(connection: db).rescueEventsOfStoppedWorkers(except: name)
                if jobs.count + events > 0 {
                    logger.warning("took back the leases of a stopped worker", metadata: [
                        "jobs": "\(jobs.count)", "outboxEvents": "\(events)"])
                }
                for abandoned in jobs where abandoned.deadLettered {
                    try settleAbandoned(abandoned.job, db: db, realtime: realtime)
                }
                predecessorsChecked = true
            }
            // Heartbeat first (this worker's jobs keep their leases), then take back the jobs of workers whose
            // leases ran out, and prune what has expired.
            if Self.now() - lastRescue > min(5, Double(config.worker.outboxProcessingTimeoutSeconds) / 3) {
                _ = try PostgresJobQueue(connection: db).extendLeases(
                    worker: name + "/", leaseSeconds: config.worker.outboxProcessingTimeoutSeconds)
                let jobs = try PostgresJobQueue(connection: db).rescueExpiredLeases()
                let rescued = try PostgresOutbox(connection: db).rescueExpiredLeases() + jobs.count
                if rescued > 0 { logger.warning("expired leases rescued", metadata: ["count": "\(rescued)"]) }
                for abandoned in jobs where abandoned.deadLettered {
                    try settleAbandoned(abandoned.job, db: db, realtime: realtime)
                }
                try PostgresMaintenance(connection: db).pruneExpired()
                lastRescue = Self.now()
            }
            // History past WORKER_RETENTION_DAYS, a bounded batch every 10 minutes (every 5 s while it keeps
            // finding full batches, as after a long time without; after a failure, not before the next period).
            if Self.now() >= nextRetention {
                nextRetention = Self.now() + 600
                let pruned = try PostgresMaintenance(connection: db).pruneHistory(olderThanDays: config.worker.retentionDays)
                if pruned > 0 { logger.info("pruned pipeline history", metadata: ["rows": "\(pruned)"]) }
                if pruned >= 5_000 { nextRetention = Self.now() + 5 }
            }
            if Self.now() - lastObservation > Double(config.worker.observabilityPollMilliseconds) / 1000 {
                observe(db)
                lastObservation = Self.now()
            }
            return 0
        }
    }

    func lane(named suffix: String, wake: DispatchSemaphore) -> Lane {
        Lane(name: "\(name)/\(suffix)", settings: settings, pollIntervalMilliseconds: config.worker.pollIntervalMilliseconds,
             logger: logger, wake: wake, heartbeats: heartbeats)
    }

    /// A loop that has not gone round for this long makes `/ready` fail. Lanes tick at least every poll interval
    /// while idle; a delivery waits at most for one provider timeout.
    var stallSeconds: Double { max(60, Double(config.worker.pollIntervalMilliseconds) * 10 / 1000) }

    private func relayLoop(wakeLanes: ([String: Int]) -> Void) {
        var listener: PostgresConnection?
        var work: PostgresConnection?
        var wasDown = false
        var lastActivity = ContinuousClock.now
        while ProcessSignals.stopRequested == 0 {
            heartbeats.tick("relay")
            do {
                if listener == nil {
                    let connection = try PostgresConnection(settings: settings)
                    try connection.listen(PostgresWorkerWakeUp.channel)
                    listener = connection
                }
                if work == nil { work = try PostgresConnection(settings: settings) }
                if wasDown { logger.info("database reachable again"); wasDown = false }
                let db = work!
                let relayed = try OutboxRelay(
                    outbox: PostgresOutbox(connection: db), queue: PostgresJobQueue(connection: db),
                    batchSize: config.worker.outboxBatchSize, leaseSeconds: config.worker.outboxProcessingTimeoutSeconds,
                    workerName: name, logger: logger).runOnce()
                let count = relayed.values.reduce(0, +)
                metrics.outboxRelayed.increment(by: Int64(count))
                if count > 0 {
                    lastActivity = .now
                    wakeLanes(relayed)
                    // A short batch took everything there was: claim again after the linger poll (or a
                    // notification), not at once. Under a steady flow an immediate claim found nothing, and made
                    // half of the relay's statements (each walks the claim index) for no event.
                    if count < config.worker.outboxBatchSize {
                        _ = try listener!.waitForNotifications(timeoutMilliseconds: WorkerWakeUpTiming.lingerPollMilliseconds)
                    }
                } else {
                    // Nothing to relay: sleep until a producer notifies, or the backstop fires. Producers coalesce
                    // their wake-ups, so for a while after activity poll briefly instead (WorkerWakeUpTiming).
                    let lingering = ContinuousClock.now - lastActivity < WorkerWakeUpTiming.relayLinger
                    let woken = try listener!.waitForNotifications(timeoutMilliseconds: lingering
                        ? WorkerWakeUpTiming.lingerPollMilliseconds : config.worker.pollIntervalMilliseconds)
                    if !woken.isEmpty { lastActivity = .now }
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

    /// Queue and outbox depth and lag, and dead letters, for `/metrics` (shared state: every worker reports it).
    private func observe(_ db: PostgresConnection) {
        metrics.sampleRate(now: Self.now())
        guard let stats = try? PostgresMaintenance(connection: db).pipelineStats() else { return }
        metrics.queueDepth.set(Double(stats.queueDepth))
        metrics.queueLagSeconds.set(stats.queueLagSeconds)
        metrics.outboxDepth.set(Double(stats.outboxDepth))
        metrics.outboxLagSeconds.set(stats.outboxLagSeconds)
        metrics.deadLetters.set(Double(stats.deadLetters))
    }

    /// nchan when HUBCHAT_REALTIME_PUBLISH_URL is set, else nowhere: one publisher for every lane, on a queue of its
    /// own, so no lane waits on the fan-out.
    static func realtimePublisher(_ config: HubChatConfig, logger: Logger) -> any RealtimePublisher & Sendable {
        guard let url = config.realtimePublishURL, let http = try? CurlHTTPClient() else { return NoRealtimePublisher() }
        return BackgroundRealtimePublisher(target: NchanRealtimePublisher(http: http, baseURL: url, logger: logger))
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// One inbound thread: its own connection and HTTP client; claims `webhook.received` jobs until there are none, then
/// waits to be woken (or the poll interval). Profile and comment text lookups and LINE images are handed to lanes of
/// their own.
struct InboundLane: Sendable {
    let config: HubChatConfig
    let lane: Lane
    let metrics: WorkerMetrics
    let realtime: any RealtimePublisher & Sendable
    let lookups: ProfileLookups
    /// Wakes the image lanes when a LINE image's fetch is handed over; nil when there are none.
    let imageWake: DispatchSemaphore?
    /// Wakes the comment text lane when a comment's text lookup is handed over.
    let commentWake: DispatchSemaphore

    /// The lanes share WORKER_INBOUND_BATCH_SIZE: a lane that claimed a whole batch would make
    /// the last job of it wait for every job before it while other lanes sit idle.
    var batchSize: Int {
        max(1, (config.worker.inboundBatchSize + config.worker.inboundConcurrency - 1) / config.worker.inboundConcurrency)
    }

    func run() {
        // Used only to remove an unsent image's files when image lanes fetch them (deferLineImage), else to fetch.
        let lineImages = makeLineImageStore(config, lane: lane)
        let profiles: (any ProviderProfiles)? = makeProviderProfiles(config, lane: lane, what: "profile and comment lookups")
        lane.run { db in
            let process = ProcessInboundEvent(
                inbox: PostgresInbox(connection: db), profiles: profiles,
                defaultAccounts: config.defaultChannelAccounts, lineImages: lineImages, realtime: realtime,
                deferProfileLookup: lookups.submit,
                deferLineImage: imageWake.map { wake in
                    { request in
                        try PostgresJobQueue(connection: db).enqueue([try request.job()])
                        wake.signal()
                    }
                },
                deferCommentText: { request in
                    try PostgresJobQueue(connection: db).enqueue([try request.job()])
                    commentWake.signal()
                }, logger: lane.logger)
            let taken = try InboundProcessor(
                queue: PostgresJobQueue(connection: db), process: process, batchSize: batchSize,
                leaseSeconds: config.worker.outboxProcessingTimeoutSeconds, workerName: lane.name, logger: lane.logger,
                metrics: metrics).runOnce()
            if taken >= batchSize { lookups.inboundHasBacklog() }
            return taken
        }
    }
}

/// Inbound LINE images: libvips, the local media directory, LINE's content API.
func makeLineImageStore(_ config: HubChatConfig, lane: Lane) -> StoreInboundLineImage? {
    do {
        let media = config.media
        return StoreInboundLineImage(
            http: try CurlHTTPClient(), images: try VipsImageProcessor(),
            storage: LocalMediaStorage(media),
            settings: .init(dataAPIBaseURL: config.providers.lineDataAPIBaseURL, bucket: media.inboundBucket,
                            urlMode: media.inboundURLMode, signedURLTTLSeconds: media.inboundSignedURLTTLSeconds,
                            maxBytes: media.inboundMaxBytes))
    } catch {
        lane.logger.error("inbound images are disabled", metadata: ["error": "\(error)"])
        return nil
    }
}
