import Core
import Logging

/// Moves committed outbox events into the job queue: claim a batch under a lease, enqueue
/// (a job that exists already is not added twice, so a relay that died after enqueueing
/// and before marking does no harm), mark dispatched. A failed enqueue backs the batch off.
struct OutboxRelay {
    let outbox: any OutboxSource
    let queue: any JobQueue
    let batchSize: Int
    let leaseSeconds: Int
    let workerName: String
    let logger: Logger

    /// Relays one batch; returns how many events it moved, by topic.
    func runOnce() throws -> [String: Int] {
        let events = try outbox.claim(limit: batchSize, leaseSeconds: leaseSeconds, worker: workerName)
        guard !events.isEmpty else { return [:] }
        let jobs = events.map {
            NewQueueJob(tenantID: $0.tenantID, topic: $0.topic, payload: $0.payload, idempotencyKey: $0.idempotencyKey,
                        orderingKey: $0.orderingKey, sourceOutboxEventID: $0.id, orderingSeq: $0.seq)
        }
        do {
            try queue.enqueue(jobs)
        } catch let error as PostgresError where error.isUnavailable {
            throw error  // leases expire and the batch comes back
        } catch {
            logger.error("relay could not enqueue a batch; backing off", metadata: ["error": "\(error)", "events": "\(events.count)"])
            for event in events {
                try outbox.fail(event, delaySeconds: Backoff.delay(afterAttempt: event.attempts), error: "\(error)")
            }
            return [:]
        }
        try outbox.markDispatched(events.map(\.id))
        return events.reduce(into: [:]) { $0[$1.topic, default: 0] += 1 }
    }
}
