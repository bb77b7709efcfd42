import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// A unit of work for the worker. Payloads are JSON text so any engine can carry them.
public struct QueueJob: Sendable, Equatable {
    public let id: UUID
    public let tenantID: UUID
    public let topic: String
    public let payload: String
    public let idempotencyKey: String
    /// Attempts including the one now running.
    public let attempts: Int
    public let maxAttempts: Int
}

public struct NewQueueJob: Sendable, Equatable {
    public let tenantID: UUID
    public let topic: String
    public let payload: String
    public let idempotencyKey: String
    public let orderingKey: String?
    public let sourceOutboxEventID: UUID?
    /// The job's place among its ordering key's jobs: the source outbox event's sequence when relayed (so jobs keep
    /// their producers' order whichever relay moves them, and in whatever batches); nil draws a new one.
    public let orderingSeq: Int64?

    public init(tenantID: UUID, topic: String, payload: String, idempotencyKey: String, orderingKey: String? = nil,
                sourceOutboxEventID: UUID? = nil, orderingSeq: Int64? = nil) {
        self.tenantID = tenantID
        self.topic = topic
        self.payload = payload
        self.idempotencyKey = idempotencyKey
        self.orderingKey = orderingKey
        self.sourceOutboxEventID = sourceOutboxEventID
        self.orderingSeq = orderingSeq
    }

    /// A job whose payload is `request` as JSON (the follow-up jobs the worker hands itself: ids only).
    public init(tenantID: UUID, topic: String, encoding request: some Encodable, idempotencyKey: String) throws {
        self.init(tenantID: tenantID, topic: topic,
                  payload: String(decoding: try JSONCoding.encoder.encode(request), as: UTF8.self), idempotencyKey: idempotencyKey)
    }

    /// A job payload read back as `T`; one that does not read is a job that can never succeed.
    public static func decode<T: Decodable>(_ type: T.Type, payload: String, what: String) throws -> T {
        do {
            return try JSONCoding.decoder.decode(T.self, from: Data(payload.utf8))
        } catch {
            throw PermanentJobFailure("\(what) job payload is unreadable: \(error)")
        }
    }
}

/// The job queue (PostgreSQL by default; Redis Streams or Kafka could stand behind it).
/// Job life: PENDING → RUNNING (leased) → DONE, or back to PENDING later, or DEAD_LETTER.
public protocol JobQueue {
    /// Adds jobs; a job whose (tenant, topic, idempotency key) exists already is not added again.
    func enqueue(_ jobs: [NewQueueJob]) throws
    /// Leases up to `limit` due jobs of `topic` for `leaseSeconds`.
    func claim(topic: String, limit: Int, leaseSeconds: Int, worker: String) throws -> [QueueJob]
    func complete(_ job: QueueJob) throws
    /// Completes several jobs at once (a lane's finished batch).
    func complete(_ jobs: [QueueJob]) throws
    /// Schedules another attempt after `delaySeconds`, or dead-letters the job when its
    /// attempts are used up. Returns true when it was dead-lettered.
    @discardableResult
    func retry(_ job: QueueJob, delaySeconds: Double, error: String) throws -> Bool
    func deadLetter(_ job: QueueJob, error: String) throws
    /// Puts a job back for `delaySeconds` without using up an attempt (a rate limit, not a failure), up to the
    /// job's deferral budget; past it, this is a `retry`. Returns true when it was dead-lettered.
    @discardableResult
    func deferJob(_ job: QueueJob, delaySeconds: Double, reason: String) throws -> Bool
    /// Gives claimed jobs back untouched (a worker stopping before it started them).
    func release(_ jobs: [QueueJob]) throws
    /// Gives back every job `worker` still holds: after a cycle failed half-way (the database went away), what it
    /// had claimed must not stay RUNNING under a lease its process keeps extending.
    @discardableResult
    func releaseHeld(by worker: String) throws -> Int
    /// The heartbeat: extends the leases of every job `worker` holds, so a long job is not taken over while its
    /// worker lives, and a killed worker's jobs come back one short lease later.
    func extendLeases(worker: String, leaseSeconds: Int) throws -> Int
    /// Returns jobs whose lease expired (their worker died) to PENDING, or dead-letters those that had used their
    /// last attempt; the jobs, so that what waited on a dead-lettered one can be settled.
    func rescueExpiredLeases() throws -> [RescuedJob]
    /// Takes back at once, without waiting for their leases, the jobs of workers other than `worker` that are known
    /// to have stopped: a worker restarted after a crash finds its predecessor's jobs, whose leases would otherwise
    /// hold up their conversations for WORKER_OUTBOX_PROCESSING_TIMEOUT_SECONDS.
    func rescueJobsOfStoppedWorkers(except worker: String) throws -> [RescuedJob]
}

/// A job taken back from a worker that died holding it.
public struct RescuedJob: Sendable, Equatable {
    public let job: QueueJob
    /// It had used its last attempt: it will not run again (until a replay).
    public let deadLettered: Bool

    public init(job: QueueJob, deadLettered: Bool) {
        self.job = job
        self.deadLettered = deadLettered
    }
}

/// An event written by a handler in its own transaction, waiting to be relayed to the queue.
public struct OutboxEvent: Sendable, Equatable {
    public let id: UUID
    /// The producer's order (see NewQueueJob.orderingSeq).
    public let seq: Int64
    public let tenantID: UUID
    public let topic: String
    public let payload: String
    public let idempotencyKey: String
    public let orderingKey: String?
    public let attempts: Int
    public let maxAttempts: Int
}

/// The transactional outbox, as the relay sees it.
public protocol OutboxSource {
    func claim(limit: Int, leaseSeconds: Int, worker: String) throws -> [OutboxEvent]
    func markDispatched(_ ids: [UUID]) throws
    /// Schedules another attempt after `delaySeconds`, or dead-letters the event.
    func fail(_ event: OutboxEvent, delaySeconds: Double, error: String) throws
    func rescueExpiredLeases() throws -> Int
    /// As `JobQueue.rescueJobsOfStoppedWorkers`, for the relay's claimed batches.
    func rescueEventsOfStoppedWorkers(except worker: String) throws -> Int
}

/// Exponential backoff with full jitter: attempt 1 → up to 2 s, doubling, capped at 300 s.
public enum Backoff {
    public static func delay(afterAttempt attempt: Int, base: Double = 2, cap: Double = 300,
                             random: (ClosedRange<Double>) -> Double = { Double.random(in: $0) }) -> Double {
        let ceiling = min(cap, base * pow(2, Double(max(0, attempt - 1))))
        return random(ceiling / 2...ceiling)
    }
}
