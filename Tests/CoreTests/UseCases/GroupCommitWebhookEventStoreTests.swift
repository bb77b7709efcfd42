import Foundation
import XCTest
@testable import Core

final class GroupCommitWebhookEventStoreTests: XCTestCase {
    struct Refused: Error {}
    struct Down: Error {}

    /// A store that keeps event ids, takes `commitMilliseconds` a commit (so that requests pile up behind one, as they
    /// do behind a WAL flush), refuses any batch holding the event id `poison`, and is down while `down` is set.
    final class Lane: WebhookCommitLane, @unchecked Sendable {
        let commitMilliseconds: UInt32
        let lock = NSLock()
        var stored: Set<String> = []
        var batches: [[String]] = []
        var wakeUps = 0
        var down = false
        var inFlight = 0
        var mostInFlight = 0

        init(commitMilliseconds: UInt32 = 0) { self.commitMilliseconds = commitMilliseconds }

        func storeReportingNew(_ events: [IncomingWebhookEvent]) throws -> [Bool] {
            let ids = events.map(\.record.providerEventID)
            lock.withLock {
                batches.append(ids)
                inFlight += 1
                mostInFlight = max(mostInFlight, inFlight)
            }
            defer { lock.withLock { inFlight -= 1 } }
            if commitMilliseconds > 0 { usleep(commitMilliseconds * 1000) }
            return try lock.withLock {
                if down { throw Down() }
                if ids.contains("poison") { throw Refused() }
                return ids.map { stored.insert($0).inserted }  // the first of two copies in a batch is the new one
            }
        }

        func failsEveryRequest(_ error: any Error) -> Bool { error is Down }
        func committed() { lock.withLock { wakeUps += 1 } }
    }

    static func events(_ ids: [String]) -> [IncomingWebhookEvent] {
        ids.map {
            IncomingWebhookEvent(tenantID: UUID(), channelAccountID: nil, channel: .line,
                                 record: WebhookEventRecord(accountExternalID: "U1", providerEventID: $0,
                                                            eventType: "message.text", payload: "{}"))
        }
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
        let store = GroupCommitWebhookEventStore(lanes: [lane])
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
        let store = GroupCommitWebhookEventStore(lanes: [lane])
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

    /// A value the database refuses fails its own delivery only: the batch it was in is tried again one delivery at
    /// a time, and the others are stored.
    func testARefusedDeliveryFailsAloneAndTheRestOfItsBatchIsStored() {
        let lane = Lane(commitMilliseconds: 5)
        let store = GroupCommitWebhookEventStore(lanes: [lane])
        let results = NSLock()
        nonisolated(unsafe) var outcomes: [Int: Result<Int, any Error>] = [:]
        Self.concurrently(6) { thread in
            // The first delivery's commit is in flight while the others, the poison among them, queue behind it.
            if thread > 0 { usleep(1_000) }
            let ids = thread == 3 ? ["poison"] : ["ok-\(thread)"]
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
        let store = GroupCommitWebhookEventStore(lanes: [lane])
        let results = NSLock()
        nonisolated(unsafe) var failures = 0
        Self.concurrently(6) { thread in
            do { _ = try store.store(Self.events(["d-\(thread)"])) } catch { results.withLock { failures += 1 } }
        }
        XCTAssertEqual(failures, 6)
        XCTAssertEqual(lane.batches.reduce(0) { $0 + $1.count }, 6, "no delivery was tried twice")
        XCTAssertEqual(lane.wakeUps, 0)
    }

    /// With two lanes, two commits run at once, and the work still reaches the store exactly once.
    func testTwoLanesCommitSideBySide() {
        let lanes = [Lane(commitMilliseconds: 3), Lane(commitMilliseconds: 3)]
        let store = GroupCommitWebhookEventStore(lanes: lanes)
        Self.concurrently(8) { thread in
            for n in 0..<20 { _ = try? store.store(Self.events(["t\(thread)-\(n)"])) }
        }
        XCTAssertEqual(lanes[0].stored.union(lanes[1].stored).count, 160)
        XCTAssertTrue(lanes[0].stored.isDisjoint(with: lanes[1].stored))
        XCTAssertFalse(lanes[0].batches.isEmpty || lanes[1].batches.isEmpty, "both lanes were used")
    }
}
