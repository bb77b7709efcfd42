import Core
import FoundationEssentials
import Logging

/// Drains `message.outbound.requested` jobs: each delivers one message through DeliverOutboundMessage.
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
        // Delivered jobs are marked DONE together at the end of the batch (one statement). If the worker dies before,
        // they run again and find their messages SENT already: nothing is sent twice.
        var delivered: [QueueJob] = []
        defer { try? queue.complete(delivered) }
        for (index, job) in jobs.enumerated() {
            if ProcessSignals.stopRequested != 0 {
                // Stopping: give back what was not started, so another worker takes it at once.
                try queue.release(Array(jobs[index...]))
                break
            }
            if try handle(job) { delivered.append(job) }
        }
        return jobs.count
    }

    /// Handles one job; true when it is done and only needs marking so.
    @discardableResult
    func handle(_ job: QueueJob) throws -> Bool {
        var log = logger
        log[metadataKey: "queueJobId"] = "\(job.id)"
        log[metadataKey: "tenantId"] = "\(job.tenantID)"
        guard let payload = try? JSONValue.parse(job.payload), let messageID = payload["messageId"]?.stringValue.flatMap(UUID.init)
        else {
            try queue.deadLetter(job, error: "job payload has no messageId")
            metrics.jobsDeadLettered.increment()
            return false
        }
        log[metadataKey: "messageId"] = "\(messageID)"
        let outcome: DeliverOutboundMessage.Outcome
        do {
            outcome = try deliver.run(messageID: messageID, tenantID: job.tenantID)
        } catch let error as PostgresError where error.isUnavailable {
            throw error  // the lane gives the batch back once the database answers again
        } catch {
            metrics.jobsFailed.increment()
            try retry(job, messageID: messageID, reason: "\(error)", log: log)
            return false
        }
        if let conversation = outcome.delivery?.conversationID { log[metadataKey: "conversationId"] = "\(conversation)" }
        switch outcome.result {
        case .delivered(let providerID):
            metrics.jobFinished()
            if outcome.changedStatus {
                metrics.messagesDelivered.increment()
                publish(job, outcome, status: "SENT")
                log.debug("message delivered", metadata: ["providerMessageId": "\(providerID ?? "-")", "attempt": "\(job.attempts)"])
            }
            return true
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
        return false
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
        try store.markFailed(messageID: messageID, tenantID: job.tenantID, code: code, reason: reason)
        metrics.jobsDeadLettered.increment()
        let conversation = (try? JSONValue.parse(job.payload))?["conversationId"]?.stringValue.flatMap(UUID.init)
        realtime.publish(RealtimeEvent(type: "message.status", tenantID: job.tenantID, conversationID: conversation,
                                       messageID: messageID, status: "FAILED"))
        log.error("delivery gave up; dead-lettered", metadata: ["code": "\(code)", "error": "\(reason)"])
    }

    func publish(_ job: QueueJob, _ outcome: DeliverOutboundMessage.Outcome, status: String) {
        realtime.publish(RealtimeEvent(type: "message.status", tenantID: job.tenantID,
                                       conversationID: outcome.delivery?.conversationID,
                                       messageID: outcome.delivery?.messageID, leadID: outcome.delivery?.leadID, status: status))
    }
}
