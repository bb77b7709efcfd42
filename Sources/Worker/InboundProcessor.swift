import Core
import Logging

/// Drains `webhook.received` jobs: each becomes inbox state through ProcessInboundEvent.
/// Success completes the job; a permanent failure dead-letters it at once; anything else is
/// retried with backoff until its attempts run out. A lost database ends the cycle: the lane
/// gives back what it holds once the database answers again (a dead worker's leases expire).
struct InboundProcessor {
    let queue: any JobQueue
    let process: ProcessInboundEvent
    let batchSize: Int
    let leaseSeconds: Int
    let workerName: String
    let logger: Logger
    let metrics: WorkerMetrics

    func runOnce() throws -> Int {
        let jobs = try queue.claim(topic: PostgresWebhookEventStore.topic, limit: batchSize, leaseSeconds: leaseSeconds,
                                   worker: workerName)
        for job in jobs {
            var log = logger
            log[metadataKey: "queueJobId"] = "\(job.id)"
            log[metadataKey: "tenantId"] = "\(job.tenantID)"
            // Completed as soon as its message is committed (before the profile lookup), else when it is done.
            var completed = false
            do {
                let outcome = try process(jobPayload: job.payload, whenRecorded: {
                    try queue.complete(job)
                    completed = true
                })
                if !completed { try queue.complete(job) }
                metrics.jobFinished()
                if case .recorded(let record) = outcome {
                    log.debug("inbound message recorded", metadata: [
                        "conversationId": "\(record.conversationID)", "messageId": "\(record.messageID.map { "\($0)" } ?? "-")",
                        "inserted": "\(record.inserted)"])
                }
            } catch let error as PostgresError where error.isUnavailable {
                throw error
            } catch where completed {
                // Only the best-effort profile update failed; the message is in and the job is done.
                metrics.jobFinished()
                log.warning("profile update failed after the message was recorded", metadata: ["error": "\(error)"])
            } catch {
                try settleFailedJob(job, error: error, queue: queue, metrics: metrics, log: log, kind: "inbound")
            }
        }
        return jobs.count
    }
}

/// A job that failed: dead-lettered at once when it can never succeed (PermanentJobFailure), otherwise retried with
/// backoff until its attempts run out.
func settleFailedJob(_ job: QueueJob, error: any Error, queue: any JobQueue, metrics: WorkerMetrics, log: Logger,
                     kind: String) throws {
    if let permanent = error as? PermanentJobFailure {
        log.error("\(kind) job dead-lettered", metadata: ["error": "\(permanent)"])
        try queue.deadLetter(job, error: permanent.description)
        metrics.jobsDeadLettered.increment()
        return
    }
    let dead = try queue.retry(job, delaySeconds: Backoff.delay(afterAttempt: job.attempts), error: "\(error)")
    metrics.jobsFailed.increment()
    if dead { metrics.jobsDeadLettered.increment() } else { metrics.jobsRetried.increment() }
    log.warning(dead ? "\(kind) job dead-lettered after its last attempt" : "\(kind) job failed; will retry",
                metadata: ["error": "\(error)", "attempt": "\(job.attempts)"])
}

/// Claims one job of `topic` and runs `body` on it: completed when it returns, settled (retried or dead-lettered)
/// when it throws, except when the database is unavailable (the lane retries the cycle). The follow-up lanes'
/// loop (images, comment text). Answers how many jobs it took.
func runOneJob(topic: String, queue: PostgresJobQueue, lane: Lane, leaseSeconds: Int, metrics: WorkerMetrics, kind: String,
               _ body: (QueueJob) throws -> Void) throws -> Int {
    let jobs = try queue.claim(topic: topic, limit: 1, leaseSeconds: leaseSeconds, worker: lane.name)
    for job in jobs {
        var log = lane.logger
        log[metadataKey: "queueJobId"] = "\(job.id)"
        log[metadataKey: "tenantId"] = "\(job.tenantID)"
        do {
            try body(job)
            try queue.complete(job)
            metrics.jobFinished()
        } catch let error as PostgresError where error.isUnavailable {
            throw error
        } catch {
            try settleFailedJob(job, error: error, queue: queue, metrics: metrics, log: log, kind: kind)
        }
    }
    return jobs.count
}
