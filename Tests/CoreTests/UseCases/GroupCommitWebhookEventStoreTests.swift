import Foundation
import XCTest
@testable import Core

final class GroupCommitWebhookEventStoreTests: XCTestCase {
    struct Refused: Error {}
    struct Down: Error {}
    struct TimedOut: Error {}

    /// A store that keeps event ids, takes `commitMilliseconds` a commit (so that requests pile up behind one, as they
    /// do behind a WAL flush), refuses any batch holding the event id `poison`, and is down while `down` is set.
    final class Lane: WebhookCommitLane, @unchecked Sendable {
        let commitMilliseconds: UInt32
        let lock = NSLock()
        var stored: Set<String> = []
        var batches: [[String]] = []
        var wakeUps = 0
        var down = false
        var timesOut = false
        var inFlight = 0
        var mostInFlight = 0
        /// The thread each commit ran on.
        var committedOn: [ObjectIdentifier] = []
        /// Runs at the start of the first commit (to hold it until the test's other requests have queued).
        var beforeFirstCommit: (() -> Void)?

        init(commitMilliseconds: UInt32 = 0) { self.commitMilliseconds = commitMilliseconds }

        func storeReportingNew(_ events: [IncomingWebhookEvent]) throws -> [Bool] {
            let ids = events.map(\.record.providerEventID)
            if let hold = lock.withLock({ () -> (() -> Void)? in defer { beforeFirstCommit = nil }; return beforeFirstCommit }) {
                hold()
            }
            lock.withLock {
                batches.append(ids)
                committedOn.append(ObjectIdentifier(Thread.current))
                inFlight += 1
                mostInFlight = max(mostInFlight, inFlight)
            }
            defer { lock.withLock { inFlight -= 1 } }
            if commitMilliseconds > 0 { usleep(commitMilliseconds * 1000) }
            return try lock.withLock {
                if down { throw Down() }
                if timesOut { throw TimedOut() }
                if ids.contains("poison") { throw Refused() }
                return ids.map { stored.insert($0).inserted }  // the first of two copies in a batch is the new one
            }
        }

        func failsEveryRequest(_ error: any Error) -> Bool { error is Down }
        func retryReportingNew(_ events: [IncomingWebhookEvent]) throws -> [Bool] { try storeReportingNew(events) }
        func committed() { lock.withLock { wakeUps += 1 } }
    }

    static func events(_ ids: [String], payload: String = "{}") -> [IncomingWebhookEvent] {
        ids.map {
            IncomingWebhookEvent(tenantID: UUID(), channelAccountID: nil, channel: .line,
                                 record: WebhookEventRecord(accountExternalID: "U1", providerEventID: $0,
                                                            eventType: "message.text", payload: payload))
        }
    }

    /// Holds `lane`'s first commit until `count` requests have called the store, and a little longer, so that they
    /// are all queued behind it. Call `arrive()` just before each request's `store`.
    final class Queue: @unchecked Sendable {
        private let lock = NSLock()
        private var arrived = 0
        private var firstCommitStarted = false
        func arrive() { lock.withLock { arrived += 1 } }
        func wait(until count: Int) { while lock.withLock({ arrived }) < count { usleep(1_000) } }
        /// Until the lane's first commit has taken its batch (so what arrives next queues behind it).
        func waitForFirstCommit() { while !lock.withLock({ firstCommitStarted }) { usleep(1_000) } }
        func hold(_ lane: Lane, until count: Int) {
            lane.beforeFirstCommit = { [self] in
                lock.withLock { firstCommitStarted = true }
                while lock.withLock({ arrived }) < count { usleep(1_000) }
                usleep(30_000)
            }
        }
    }

    /// A group commit over `lanes` with its committers running, closed (and its committers ended) when the test ends.
    func running(_ lanes: [Lane], retryBudget: Duration = .milliseconds(1_500)) -> GroupCommitWebhookEventStore {
        let store = GroupCommitWebhookEventStore(lanes: lanes, retryBudget: retryBudget)
        let ended = DispatchGroup()
        for index in 0..<store.laneCount {
            ended.enter()
            Thread.detachNewThread {
                store.runCommitter(index)
                ended.leave()
            }
        }
        addTeardownBlock {
            store.close()
            XCTAssertEqual(ended.wait(timeout: .now() + 5), .success, "the committers ended once closed")
        }
        return store
    }

    /// Runs `body(thread)` on `threads` threads at once and waits for all of them.
    static func concurrently(_ threads: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for index in 0..<threads {
            group.enter()
            Thread.detachNewThread {
                body(index)
                group.leave()
            }
        }
        group.wait()
    }

    func testARequestAloneIsStoredAtOnceAndWakesTheWorkerOnlyWhenNew() throws {
        let lane = Lane()
        let store = running([lane])
        XCTAssertEqual(try store.store(Self.events(["a", "b"])), 2)
        XCTAssertEqual(try store.store(Self.events(["a", "b"])), 0, "a redelivery")
        XCTAssertEqual(try store.store([]), 0)
        XCTAssertEqual(lane.batches, [["a", "b"], ["a", "b"]])
        XCTAssertEqual(lane.wakeUps, 1)
        XCTAssertEqual(store.statistics.commits, 2)
    }

    /// Eight threads, each posting 30 deliveries of two events, a third of them redeliveries of the thread's previous
    /// one: far fewer commits than deliveries, every event stored once, and each delivery told how many of its own
    /// events were new.
    func testConcurrentDeliveriesShareCommitsAndEachHearsItsOwnCount() {
        let lane = Lane(commitMilliseconds: 2)
        let store = running([lane])
        let counts = NSLock()
        nonisolated(unsafe) var reported = 0
        nonisolated(unsafe) var wrong: [String] = []
        Self.concurrently(8) { thread in
            var previous: [String] = []
            for n in 0..<30 {
                let ids = n % 3 == 2 ? previous : ["t\(thread)-\(n)-a", "t\(thread)-\(n)-b"]
                let expected = n % 3 == 2 ? 0 : 2
                do {
                    let new = try store.store(Self.events(ids))
                    counts.withLock {
                        reported += new
                        if new != expected { wrong.append("\(ids): \(new)") }
                    }
                } catch {
                    counts.withLock { wrong.append("\(ids): \(error)") }
                }
                previous = ids
            }
        }
        XCTAssertEqual(wrong, [])
        XCTAssertEqual(reported, 8 * 20 * 2)
        XCTAssertEqual(lane.stored.count, 8 * 20 * 2)
        XCTAssertEqual(lane.batches.reduce(0) { $0 + $1.count }, 8 * 30 * 2, "every delivery went to the store once")
        XCTAssertLessThan(lane.batches.count, 8 * 30 / 2, "deliveries that arrived together were committed together")
        XCTAssertEqual(lane.mostInFlight, 1, "one lane carries one commit at a time")
        XCTAssertEqual(store.statistics.commits, lane.batches.count)
    }

    /// Every commit of a lane runs on that lane's committer, never on a request's thread: when a commit ends, the
    /// next one starts from a thread already running instead of one that must first be woken and scheduled.
    func testEveryCommitRunsOnItsLanesCommitterThread() {
        let lane = Lane(commitMilliseconds: 1)
        let store = running([lane])
        let requestThreads = NSLock()
        nonisolated(unsafe) var requesters: Set<ObjectIdentifier> = []
        Self.concurrently(6) { thread in
            requestThreads.withLock { _ = requesters.insert(ObjectIdentifier(Thread.current)) }
            for n in 0..<10 { _ = try? store.store(Self.events(["c\(thread)-\(n)"])) }
        }
        XCTAssertEqual(lane.stored.count, 60)
        XCTAssertEqual(Set(lane.committedOn).count, 1, "one thread committed everything")
        XCTAssertTrue(Set(lane.committedOn).isDisjoint(with: requesters), "no request thread committed")
    }

    /// A value the database refuses fails its own delivery only: the batch it was in is tried again one delivery at
    /// a time, and the others are stored.
    func testARefusedDeliveryFailsAloneAndTheRestOfItsBatchIsStored() {
        let lane = Lane()
        let store = running([lane])
        let queue = Queue()
        queue.hold(lane, until: 6)  // the first commit is in flight while the others, the poison among them, queue
        let results = NSLock()
        nonisolated(unsafe) var outcomes: [Int: Result<Int, any Error>] = [:]
        Self.concurrently(6) { thread in
            let ids = thread == 3 ? ["poison"] : ["ok-\(thread)"]
            if thread == 3 { queue.wait(until: 1); usleep(5_000) }  // never the first, which commits alone
            queue.arrive()
            let outcome = Result<Int, any Error> { try store.store(Self.events(ids)) }
            results.withLock { outcomes[thread] = outcome }
        }
        XCTAssertTrue(lane.batches.contains { $0.count > 1 && $0.contains("poison") }, "the poison shared a batch")
        for thread in 0..<6 where thread != 3 {
            XCTAssertEqual(try outcomes[thread]?.get(), 1, "delivery \(thread)")
        }
        XCTAssertThrowsError(try outcomes[3]?.get()) { XCTAssertTrue($0 is Refused) }
        XCTAssertEqual(lane.stored, Set((0..<6).filter { $0 != 3 }.map { "ok-\($0)" }))
    }

    /// A store that is down fails every delivery of the batch at once (each would meet it alone), without a retry
    /// per delivery that would hold the last one up for as many timeouts.
    func testAStoreThatIsDownFailsTheWholeBatchWithoutRetryingEachDelivery() {
        let lane = Lane(commitMilliseconds: 5)
        lane.down = true
        let store = running([lane])
        let results = NSLock()
        nonisolated(unsafe) var failures = 0
        Self.concurrently(6) { thread in
            do { _ = try store.store(Self.events(["d-\(thread)"])) } catch { results.withLock { failures += 1 } }
        }
        XCTAssertEqual(failures, 6)
        XCTAssertEqual(lane.batches.reduce(0) { $0 + $1.count }, 6, "no delivery was tried twice")
        XCTAssertEqual(lane.wakeUps, 0)
    }

    /// When every statement times out (a table locked behind a migration), the batch's requests are tried alone
    /// only within the retry budget: the batch fails in about twice a statement's time, not once per request.
    func testRetriesAloneStopAtTheBudgetWhenEverythingTimesOut() {
        let lane = Lane(commitMilliseconds: 40)
        lane.timesOut = true
        let store = running([lane], retryBudget: .milliseconds(60))
        let queue = Queue()
        queue.hold(lane, until: 8)
        let results = NSLock()
        nonisolated(unsafe) var failures = 0
        Self.concurrently(8) { thread in
            if thread > 0 { queue.waitForFirstCommit() }  // the first request alone, then the others behind it
            queue.arrive()
            do { _ = try store.store(Self.events(["t-\(thread)"])) } catch { results.withLock { failures += 1 } }
        }
        XCTAssertEqual(failures, 8)
        // The first request alone, the other seven together, then at most two of them alone (40 ms each, 60 ms).
        let alone = lane.batches.dropFirst(2)
        XCTAssertEqual(lane.batches.dropFirst().first?.count, 7)
        XCTAssertTrue((1...2).contains(alone.count), "\(alone.count) retried alone")
    }

    /// With two lanes, two commits run at once (never two on one lane, never an empty one), and the work still
    /// reaches the store exactly once.
    func testTwoLanesCommitSideBySide() {
        let lanes = [Lane(commitMilliseconds: 3), Lane(commitMilliseconds: 3)]
        let store = running(lanes)
        let results = NSLock()
        nonisolated(unsafe) var reported = 0
        Self.concurrently(8) { thread in
            for n in 0..<20 {
                let new = (try? store.store(Self.events(["t\(thread)-\(n)"]))) ?? -1000
                results.withLock { reported += new }
            }
        }
        XCTAssertEqual(reported, 160)
        XCTAssertEqual(lanes[0].stored.union(lanes[1].stored).count, 160)
        XCTAssertTrue(lanes[0].stored.isDisjoint(with: lanes[1].stored))
        XCTAssertFalse(lanes[0].batches.isEmpty || lanes[1].batches.isEmpty, "both lanes were used")
        XCTAssertEqual(lanes.map(\.mostInFlight), [1, 1])
        XCTAssertFalse(lanes.contains { $0.batches.contains(where: \.isEmpty) }, "no empty commit")
        XCTAssertEqual(store.statistics.commits, lanes[0].batches.count + lanes[1].batches.count)
    }

    /// Commits are bounded (256 events, 1 MB of payloads): a queue longer than that is stored over several commits,
    /// and every request still hears its own count.
    func testALongQueueIsStoredInBoundedCommits() {
        let lane = Lane()
        let store = running([lane])
        let queue = Queue()
        queue.hold(lane, until: 8)
        let big = String(repeating: "x", count: 300_000)
        let results = NSLock()
        nonisolated(unsafe) var reported: [Int: Int] = [:]
        Self.concurrently(8) { thread in
            // Threads 0-3: 100 small events each; 4-7: one event of 300 kB each.
            let events = thread < 4 ? Self.events((0..<100).map { "s\(thread)-\($0)" })
                                    : Self.events(["b\(thread)"], payload: big)
            queue.arrive()
            let new = (try? store.store(events)) ?? -1
            results.withLock { reported[thread] = new }
        }
        XCTAssertEqual(reported, [0: 100, 1: 100, 2: 100, 3: 100, 4: 1, 5: 1, 6: 1, 7: 1])
        XCTAssertEqual(lane.stored.count, 404)
        XCTAssertFalse(lane.batches.contains { $0.count > GroupCommitWebhookEventStore.maxEventsPerCommit })
        XCTAssertFalse(lane.batches.contains { $0.filter { $0.hasPrefix("b") }.count > 3 }, "at most 1 MB of payloads")
        XCTAssertFalse(lane.batches.contains(where: \.isEmpty))
    }
}
