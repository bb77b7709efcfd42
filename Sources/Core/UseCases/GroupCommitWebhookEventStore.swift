import Dispatch

/// One way of storing webhook events that a group commit can share: it owns a database session, stores the events
/// of several requests in one transaction and says which of them were new.
public protocol WebhookCommitLane: AnyObject {
    /// Stores `events` atomically; for each, by position, whether it was new (not a redelivery).
    func storeReportingNew(_ events: [IncomingWebhookEvent]) throws -> [Bool]
    /// Whether a failure is the store's own (the database is down), which every request of the batch would meet
    /// alone too, rather than something one request's events may have caused (a value refused, a statement too
    /// slow for its timeout, a lock conflict).
    func failsEveryRequest(_ error: any Error) -> Bool
    /// After a commit that stored something new: tell the worker.
    func committed()
    /// As `storeReportingNew`, for one request of a batch that failed: gives up quickly on a lock another session
    /// holds, so that a request blocked behind one does not spend the time the others of its batch need.
    func retryReportingNew(_ events: [IncomingWebhookEvent]) throws -> [Bool]
}

/// Group commit for the webhook path. The threads of a responder process each serve one request; when several
/// reach the store at once, the first to find a lane free stores everything that is waiting in one statement and one
/// durable commit, and each request gets its own answer. Nothing waits for a batch to fill: a request alone is
/// stored at once, and batches form only from requests that arrived while a commit was in flight. Under load that
/// turns many small transactions into a few larger ones, which is where PostgreSQL's time went (each commit's
/// round trip, snapshot, locks and WAL record; docs/benchmarks.md measures it).
///
/// Every request still answers only after its own events are durable. When a batch fails for a reason that is not
/// the store's (a value the database refuses), each request of it is tried alone, so only its sender hears of it.
public final class GroupCommitWebhookEventStore: WebhookEventStore, @unchecked Sendable {
    /// Bounds on one statement's size (a request larger than either is stored alone); what is left waits for the
    /// next commit.
    public static let maxEventsPerCommit = 256
    public static let maxPayloadBytesPerCommit = 1 << 20

    /// A request waiting for its events to be stored. It sleeps on its own semaphore, woken when its outcome is in
    /// or when a lane is handed to it to lead the next commit, so a commit wakes only the threads it concerns. It is
    /// woken after the lock is released (`unlockAndWake`): a thread woken while the lock is still held would go
    /// straight back to sleep on the lock, two context switches instead of one (under load that was most of the
    /// pool's sleeps).
    private final class Waiter {
        let events: [IncomingWebhookEvent]
        let wake = DispatchSemaphore(value: 0)
        // Guarded by the store's lock.
        var outcome: Result<Int, any Error>?
        var lane: (any WebhookCommitLane)?
        init(_ events: [IncomingWebhookEvent]) { self.events = events }
    }

    private let lock = ThreadLock()
    // Guarded by `lock`. A lane is idle only while nobody waits.
    private var waiting: [Waiter] = []
    private var toWake: [Waiter] = []
    private var idle: [any WebhookCommitLane]
    private var counts = (commits: 0, events: 0)

    /// How long, after a failed batch, its requests are still tried one at a time (about one statement's timeout:
    /// when everything times out, as behind a table lock, the batch fails in twice that, not once per request).
    let retryBudget: Duration

    public init(lanes: [any WebhookCommitLane], retryBudget: Duration = .milliseconds(1_500)) {
        precondition(!lanes.isEmpty, "a group commit needs at least one lane")
        idle = lanes
        self.retryBudget = retryBudget
    }

    /// Commits so far and the events they carried (the mean batch size is what the group commit buys).
    public var statistics: (commits: Int, events: Int) {
        lock.lock()
        defer { lock.unlock() }
        return counts
    }

    public func store(_ events: [IncomingWebhookEvent]) throws -> Int {
        guard !events.isEmpty else { return 0 }
        let mine = Waiter(events)
        lock.lock()
        waiting.append(mine)
        if let lane = idle.popLast() { mine.lane = lane }
        while mine.outcome == nil {
            if let lane = mine.lane {
                mine.lane = nil
                lead(mine, on: lane)
            } else {
                unlockAndWake()
                mine.wake.wait()
                lock.lock()
            }
        }
        // Handed a lane after another lane's commit had already carried this request: pass it on.
        if let lane = mine.lane {
            mine.lane = nil
            handOver(lane)
        }
        let outcome = mine.outcome!
        unlockAndWake()
        return try outcome.get()
    }

    /// Stores what waits, answers each request of the batch as soon as its outcome is known, and hands the lane to
    /// the next waiting request (or leaves it idle). Called, and returns, with the lock held.
    private func lead(_ leader: Waiter, on lane: any WebhookCommitLane) {
        // Handed this lane while waiting, then carried by another lane's commit, with nobody left: nothing to do.
        guard !waiting.isEmpty else { return handOver(lane) }
        let batch = takeBatch()
        counts.commits += 1
        counts.events += batch.reduce(0) { $0 + $1.events.count }
        unlockAndWake()
        let storedAny = commit(batch, on: lane, leader: leader)
        if storedAny { lane.committed() }  // the worker's wake-up (at most one per process every 20 ms)
        lock.lock()
        handOver(lane)
    }

    /// Called without the lock; returns whether anything new was stored.
    private func commit(_ batch: [Waiter], on lane: any WebhookCommitLane, leader: Waiter) -> Bool {
        do {
            let new = try lane.storeReportingNew(batch.flatMap(\.events))
            var offset = 0
            lock.lock()
            for waiter in batch {
                answer(waiter, .success(new[offset..<offset + waiter.events.count].count(where: { $0 })), leader: leader)
                offset += waiter.events.count
            }
            unlockAndWake()
            return new.contains(true)
        } catch where batch.count > 1 && !lane.failsEveryRequest(error) {
            // Perhaps one request's doing (a value the database refuses, a statement too slow, a lock conflict): each
            // alone, smallest first, each answered as soon as it is stored, so only the culprit fails (a retry gives
            // up quickly on a lock); within the retry budget, so that a database everything times out on fails the
            // batch in bounded time.
            let deadline = ContinuousClock.now + retryBudget
            var storedAny = false
            let bySize = batch.map { ($0, $0.events.reduce(0) { $0 + $1.record.payload.utf8.count }) }.sorted { $0.1 < $1.1 }
            for (waiter, _) in bySize {
                let outcome = ContinuousClock.now < deadline
                    ? Result<Int, any Error> { try lane.retryReportingNew(waiter.events).count(where: { $0 }) }
                    : .failure(error)
                if ((try? outcome.get()) ?? 0) > 0 { storedAny = true }
                lock.lock()
                answer(waiter, outcome, leader: leader)
                unlockAndWake()
            }
            return storedAny
        } catch {
            lock.lock()
            for waiter in batch { answer(waiter, .failure(error), leader: leader) }
            unlockAndWake()
            return false
        }
    }

    /// Called with the lock held. The leader reads its own outcome when `lead` returns.
    private func answer(_ waiter: Waiter, _ outcome: Result<Int, any Error>, leader: Waiter) {
        waiter.outcome = outcome
        if waiter !== leader { toWake.append(waiter) }
    }

    /// Releases the lock, then wakes the threads that were answered or handed a lane while it was held.
    private func unlockAndWake() {
        let woken = toWake
        toWake.removeAll(keepingCapacity: true)
        lock.unlock()
        for waiter in woken { waiter.wake.signal() }
    }

    /// Called with the lock held.
    private func handOver(_ lane: any WebhookCommitLane) {
        if let next = waiting.first(where: { $0.lane == nil }) {
            next.lane = lane
            toWake.append(next)
        } else {
            idle.append(lane)
        }
    }

    /// The oldest waiting requests, up to the size bounds (always at least one). Called with the lock held.
    private func takeBatch() -> [Waiter] {
        var (events, bytes, end) = (0, 0, 0)
        while end < waiting.count {
            let size = waiting[end].events.reduce(0) { $0 + $1.record.payload.utf8.count }
            if end > 0 && (events + waiting[end].events.count > Self.maxEventsPerCommit
                           || bytes + size > Self.maxPayloadBytesPerCommit) { break }
            events += waiting[end].events.count
            bytes += size
            end += 1
        }
        let batch = Array(waiting[..<end])
        waiting.removeFirst(end)
        return batch
    }
}
