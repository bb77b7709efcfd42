import Core
import FoundationEssentials
import Logging

/// Drains `message.outbound.requested` jobs a batch at a time: each delivers one message through
/// DeliverOutboundMessage.
/// Delivered → job done; a timeout or 5xx → another attempt with backoff and jitter (dead letter and FAILED after
/// the last); a rate limit → put back without using an attempt; a permanent refusal → FAILED with the provider's
/// reason and straight to the dead letter. Jobs of one conversation run one at a time, in order (the queue's
/// ordering key), so a retrying message holds back its own conversation only.
struct OutboundProcessor {
    static let topic = PostgresOutboundStore.topic

    let queue: any JobQueue
    let store: any DeliveryStore
    let deliver: DeliverOutboundMessage
    let realtime: any RealtimePublisher
    let metrics: WorkerMetrics
    let batchSize: Int
    let leaseSeconds: Int
    let workerName: String
    let logger: Logger

    func runOnce() throws -> Int {
        let jobs = try queue.claim(topic: Self.topic, limit: batchSize, leaseSeconds: leaseSeconds, worker: workerName)
        guard !jobs.isEmpty else { return 0 }
        var messages: [(job: QueueJob, message: MessageRef)] = []
        for job in jobs {
            guard let payload = try? JSONValue.parse(job.payload),
                  let messageID = payload["messageId"]?.stringValue.flatMap(UUID.init)
            else {
                try queue.deadLetter(job, error: "job payload has no messageId")
                metrics.jobsDeadLettered.increment()
                continue
            }
            messages.append((job, MessageRef(messageID: messageID, tenantID: job.tenantID)))
        }
        // One statement loads the batch and one takes its rate-limit slots; the pushes are marked SENT together
        // after the batch (`deliver.record`), and the finished jobs DONE in one statement. If the worker dies before,
        // they run again: a message found SENT is skipped, and a repeated LINE push is answered 409 under its
        // retry key, so nothing is delivered twice.
        let prepared = try oneByOneOnFailure(messages, { try deliver.prepare($0.map(\.message)) }, "could not prepare")
        var sent: [(job: QueueJob, outcome: DeliverOutboundMessage.Outcome)] = []
        do {
            for (index, item) in messages.enumerated() {
                if ProcessSignals.stopRequested != 0 {
                    // Stopping: give back what was not started, so another worker takes it at once.
                    try queue.release(messages[index...].map(\.job))
                    break
                }
                guard let ready = prepared[index] else { continue }
                if let outcome = try send(item.job, ready) { sent.append((item.job, outcome)) }
            }
        } catch {
            // The cycle ends and the lane gives the rest back; what went out is recorded first if the database
            // lets us, so a re-run finds those messages SENT instead of sending them again.
            try? finish(sent)
            throw error
        }
        try finish(sent)
        return jobs.count
    }

    /// Marks the delivered pushes SENT, tells dashboards, and completes the jobs.
    func finish(_ sent: [(job: QueueJob, outcome: DeliverOutboundMessage.Outcome)]) throws {
        let recorded = try oneByOneOnFailure(sent.map { (job: $0.job, message: $0.outcome) },
                                             { try deliver.record($0.map(\.message)) }, "could not record")
        var done: [(job: QueueJob, outcome: DeliverOutboundMessage.Outcome)] = []
        for (item, outcome) in zip(sent, recorded) { if let outcome { done.append((item.job, outcome)) } }
        // Published before the completion: if that fails, the re-run finds the messages SENT and says nothing.
        for item in done { delivered(item.job, item.outcome) }
        try queue.complete(done.map(\.job))
    }

    /// Runs a batch step; if it fails for any reason but a lost database, runs it again one item at a time, so a
    /// single bad row (one that cannot be read or written) is retried on its own and holds back no other job.
    /// Answers each item's result, nil for one that failed (its job is then scheduled for another attempt).
    func oneByOneOnFailure<Item, Result>(_ items: [(job: QueueJob, message: Item)],
                                         _ step: ([(job: QueueJob, message: Item)]) throws -> [Result],
                                         _ what: String) throws -> [Result?] {
        guard !items.isEmpty else { return [] }
        do {
            return try step(items)
        } catch let error as PostgresError where error.isUnavailable {
            throw error
        } catch {
            logger.warning("batch step failed; one job at a time", metadata: ["step": "\(what)", "error": "\(error)"])
        }
        return try items.map { item in
            do {
                return try step([item])[0]
            } catch let error as PostgresError where error.isUnavailable {
                throw error
            } catch {
                metrics.jobsFailed.increment()
                var log = logger
                log[metadataKey: "queueJobId"] = "\(item.job.id)"
                // Every job here had its messageId checked when the batch was claimed.
                if let messageID = (try? JSONValue.parse(item.job.payload))?["messageId"]?.stringValue.flatMap(UUID.init) {
                    try retry(item.job, messageID: messageID, reason: "\(what): \(error)", log: log)
                }
                return nil
            }
        }
    }

    /// Sends one job's message and acts on a failure; answers the outcome when it was delivered (the job is then
    /// done once the batch is recorded).
    func send(_ job: QueueJob, _ prepared: DeliverOutboundMessage.Prepared) throws -> DeliverOutboundMessage.Outcome? {
        let messageID = prepared.message.messageID
        var log = logger
        log[metadataKey: "queueJobId"] = "\(job.id)"
        log[metadataKey: "tenantId"] = "\(job.tenantID)"
        log[metadataKey: "messageId"] = "\(messageID)"
        let outcome: DeliverOutboundMessage.Outcome
        do {
            outcome = try deliver.send(prepared)
        } catch let error as PostgresError where error.isUnavailable {
            throw error  // the lane gives the batch back once the database answers again
        } catch {
            metrics.jobsFailed.increment()
            try retry(job, messageID: messageID, reason: "\(error)", log: log)
            return nil
        }
        if let conversation = outcome.delivery?.conversationID { log[metadataKey: "conversationId"] = "\(conversation)" }
        switch outcome.result {
        case .delivered:
            return outcome
        case .retry(let reason):
            metrics.jobsFailed.increment()
            try retry(job, messageID: messageID, reason: reason, log: log)
        case .rateLimited(let seconds, let reason):
            metrics.jobsDeferred.increment()
            let delay = seconds + Double.random(in: 0...min(1, seconds / 4))
            if try queue.deferJob(job, delaySeconds: delay, reason: reason) {
                try failed(job, messageID: messageID, code: "rate_limited", reason: reason, log: log)
            } else {
                log.notice("delivery deferred by a rate limit", metadata: ["seconds": "\(Int(delay))", "reason": "\(reason)"])
            }
        case .permanent(let code, let reason):
            metrics.jobsFailed.increment()
            try store.markFailed(messageID: messageID, tenantID: job.tenantID, code: code, reason: reason)
            try queue.deadLetter(job, error: "\(code): \(reason)")
            metrics.jobsDeadLettered.increment()
            publish(job, outcome, status: "FAILED")
            log.error("delivery refused; dead-lettered", metadata: ["code": "\(code)", "error": "\(reason)"])
        }
        return nil
    }

    /// A delivered job, after its batch was recorded and completed.
    func delivered(_ job: QueueJob, _ outcome: DeliverOutboundMessage.Outcome) {
        metrics.jobFinished()
        guard outcome.changedStatus else { return }
        metrics.messagesDelivered.increment()
        publish(job, outcome, status: "SENT")
        if logger.logLevel <= .debug, case .delivered(let providerID) = outcome.result {
            logger.debug("message delivered", metadata: [
                "queueJobId": "\(job.id)", "messageId": "\(outcome.delivery?.messageID.uuidString ?? "-")",
                "providerMessageId": "\(providerID ?? "-")", "attempt": "\(job.attempts)"])
        }
    }

    func retry(_ job: QueueJob, messageID: UUID, reason: String, log: Logger) throws {
        if try queue.retry(job, delaySeconds: Backoff.delay(afterAttempt: job.attempts), error: reason) {
            try failed(job, messageID: messageID, code: "retries_exhausted", reason: reason, log: log)
        } else {
            metrics.jobsRetried.increment()
            log.warning("delivery failed; will retry", metadata: ["attempt": "\(job.attempts)", "error": "\(reason)"])
        }
    }

    func failed(_ job: QueueJob, messageID: UUID, code: String, reason: String, log: Logger) throws {
        try Self.markFailed(job, messageID: messageID, code: code, reason: reason, store: store, realtime: realtime)
        metrics.jobsDeadLettered.increment()
        log.error("delivery gave up; dead-lettered", metadata: ["code": "\(code)", "error": "\(reason)"])
    }

    /// The message of a dead-lettered job fails for good, and dashboards hear of it (also used by the lease rescue
    /// for a job whose worker died on its last attempt).
    static func markFailed(_ job: QueueJob, messageID: UUID, code: String, reason: String, store: any DeliveryStore,
                           realtime: any RealtimePublisher) throws {
        try store.markFailed(messageID: messageID, tenantID: job.tenantID, code: code, reason: reason)
        let conversation = (try? JSONValue.parse(job.payload))?["conversationId"]?.stringValue.flatMap(UUID.init)
        realtime.publish(RealtimeEvent(type: "message.status", tenantID: job.tenantID, conversationID: conversation,
                                       messageID: messageID, status: "FAILED"))
    }

    func publish(_ job: QueueJob, _ outcome: DeliverOutboundMessage.Outcome, status: String) {
        realtime.publish(RealtimeEvent(type: "message.status", tenantID: job.tenantID,
                                       conversationID: outcome.delivery?.conversationID,
                                       messageID: outcome.delivery?.messageID, leadID: outcome.delivery?.leadID, status: status))
    }
}
