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
    /// Opens its database session ahead of the first commit, so a fresh process does not make its first requests
    /// wait for it (best effort: a failure is met again, and reported, by the first commit).
    func open()
}

extension WebhookCommitLane {
    public func open() {}
}

/// Group commit for the webhook path. The threads of a responder process each serve one request; a request whose
/// events are ready joins a queue and sleeps. Each commit lane (a database session) has a thread of its own, the
/// committer (`runCommitter`), that stores everything queued in one statement and one durable commit, answers each
/// request with its own count, and goes straight on to what queued meanwhile. Nothing waits for a batch to fill: a
/// request alone is stored as soon as a committer is free, and batches form from requests that arrived while a commit
/// was in flight. Under load that turns many small transactions into a few larger ones, which is where PostgreSQL's
/// time went (each commit's round trip, snapshot, locks and WAL record; docs/benchmarks.md measures it).
///
/// Why a thread per lane rather than the request thread that finds the lane free leading the commit (the first
/// design): the lane then passed from one request thread to the next, which had to be woken and wait for a core
/// before it could send, so on busy cores the lane stood idle between commits. A committer is already running when a
/// commit ends; measured, one process's throughput rose by about a fifth with the same batches (docs/benchmarks.md).
///
/// Every request still answers only after its own events are durable. When a batch fails for a reason that is not
/// the store's (a value the database refuses), each request of it is tried alone, so only its sender hears of it.
public final class GroupCommitWebhookEventStore: WebhookEventStore, @unchecked Sendable {
    /// Bounds on one statement's size (a request larger than either is stored alone); what is left waits for the
    /// next commit.
    public static let maxEventsPerCommit = 256
    public static let maxPayloadBytesPerCommit = 1 << 20

    /// A request waiting for its events to be stored, asleep on its own semaphore until its outcome is in. It is
    /// woken after the lock is released (`unlockAndWake`): a thread woken while the lock is still held would go
    /// straight back to sleep on it, two context switches instead of one.
    private final class Waiter {
        let events: [IncomingWebhookEvent]
        let wake = DispatchSemaphore(value: 0)
        // Set under the store's lock before `wake` is signalled.
        var outcome: Result<Int, any Error>?
        init(_ events: [IncomingWebhookEvent]) { self.events = events }
    }

    private let lanes: [any WebhookCommitLane]
    private let lock = ThreadLock()
    // Guarded by `lock`.
    private var waiting: [Waiter] = []
    private var toWake: [DispatchSemaphore] = []
    private var sleepingCommitters: [DispatchSemaphore] = []
    private var closed = false
    private var counts = (commits: 0, events: 0)

    /// How long, after a failed batch, its requests are still tried one at a time (about one statement's timeout:
    /// when everything times out, as behind a table lock, the batch fails in twice that, not once per request).
    let retryBudget: Duration

    /// Requests are stored once a thread runs `runCommitter(i)` for each lane `i` in `0..<laneCount`.
    public init(lanes: [any WebhookCommitLane], retryBudget: Duration = .milliseconds(1_500)) {
        precondition(!lanes.isEmpty, "a group commit needs at least one lane")
        self.lanes = lanes
        self.retryBudget = retryBudget
    }

    public var laneCount: Int { lanes.count }

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
        precondition(!closed, "a request reached the group commit after it was closed")
        waiting.append(mine)
        if let committer = sleepingCommitters.popLast() { toWake.append(committer) }
        unlockAndWake()
        mine.wake.wait()
        return try mine.outcome!.get()  // set before the signal, which orders it before this read
    }

    /// The committer of lane `index`: stores what waits, answers it, and goes on while anything waits; sleeps when
    /// nothing does. Returns once `close()` was called and nothing waits. With `whenOpen`, the lane opens its session
    /// first, then says so.
    public func runCommitter(_ index: Int, whenOpen: (() -> Void)? = nil) {
        let lane = lanes[index]
        if let whenOpen {
            lane.open()
            whenOpen()
        }
        let wake = DispatchSemaphore(value: 0)
        lock.lock()
        while !(closed && waiting.isEmpty) {
            guard !waiting.isEmpty else {
                sleepingCommitters.append(wake)
                unlockAndWake()
                wake.wait()
                lock.lock()
                continue
            }
            let batch = takeBatch()
            counts.commits += 1
            counts.events += batch.reduce(0) { $0 + $1.events.count }
            unlockAndWake()
            // The worker's wake-up (at most one per process every 20 ms), after the batch's requests are answered.
            if commit(batch, on: lane) { lane.committed() }
            lock.lock()
        }
        lock.unlock()
    }

    /// Ends the committers once what waits is stored; call after the last request thread has returned.
    public func close() {
        lock.lock()
        closed = true
        toWake += sleepingCommitters
        sleepingCommitters.removeAll()
        unlockAndWake()
    }

    /// Called without the lock; returns whether anything new was stored.
    private func commit(_ batch: [Waiter], on lane: any WebhookCommitLane) -> Bool {
        do {
            let new = try lane.storeReportingNew(batch.flatMap(\.events))
            var offset = 0
            lock.lock()
            for waiter in batch {
                answer(waiter, .success(new[offset..<offset + waiter.events.count].count(where: { $0 })))
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
                answer(waiter, outcome)
                unlockAndWake()
            }
            return storedAny
        } catch {
            lock.lock()
            for waiter in batch { answer(waiter, .failure(error)) }
            unlockAndWake()
            return false
        }
    }

    /// Called with the lock held.
    private func answer(_ waiter: Waiter, _ outcome: Result<Int, any Error>) {
        waiter.outcome = outcome
        toWake.append(waiter.wake)
    }

    /// Releases the lock, then wakes the threads that were answered (or committers given work) while it was held.
    private func unlockAndWake() {
        let woken = toWake
        toWake.removeAll(keepingCapacity: true)
        lock.unlock()
        for semaphore in woken { semaphore.signal() }
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
