import Core
import Foundation
import XCTest

/// Jobs of one ordering key run one at a time, in their producers' order, whichever relay moved them and when.
final class QueueOrderingTests: XCTestCase {
    func testAJobWaitsForAnEarlierEventOfItsKeyThatIsStillInTheOutbox() throws {
        let db = try TestStack.connection()
        let tenant = UUID()
        try db.query("INSERT INTO tenants (id, name) VALUES ($1, $2)", [tenant, "Ordering \(tenant)"])
        // A topic of its own: claims are per topic, so nothing another test (or run) left behind can answer.
        let topic = "test.ordering.\(UUID().uuidString.prefix(8).lowercased())", key = "conversation:\(UUID())"
        // The earlier event: still in the outbox (due later, so no relay takes it during the test).
        let earlier: Int64 = try db.query("""
            INSERT INTO outbox_events (tenant_id, topic, payload, idempotency_key, ordering_key, available_at)
            VALUES ($1, $2, '{}', $3, $4, now() + interval '1 hour') RETURNING seq
            """, [tenant, topic, "first-\(key)", key]).first!.decode("seq")
        let later: Int64 = try db.query("SELECT nextval('pipeline_seq') AS seq").first!.decode("seq")
        let queue = PostgresJobQueue(connection: db)
        // Another relay already moved the later event.
        try queue.enqueue([NewQueueJob(tenantID: tenant, topic: topic, payload: #"{"n":2}"#, idempotencyKey: "second-\(key)",
                                       orderingKey: key, orderingSeq: later)])
        XCTAssertEqual(try queue.claim(topic: topic, limit: 10, leaseSeconds: 30, worker: "test"), [],
                       "the later job waits while the earlier event is in the outbox")

        // The earlier event is relayed (its job keeps the event's seq): it runs first, then the later one.
        try db.query("UPDATE outbox_events SET status = 'DISPATCHED', dispatched_at = now() WHERE seq = $1", [earlier])
        try queue.enqueue([NewQueueJob(tenantID: tenant, topic: topic, payload: #"{"n":1}"#, idempotencyKey: "first-\(key)",
                                       orderingKey: key, orderingSeq: earlier)])
        let first = try queue.claim(topic: topic, limit: 10, leaseSeconds: 30, worker: "test")
        XCTAssertEqual(first.map(\.payload), [#"{"n": 1}"#])
        try queue.complete(first)
        let second = try queue.claim(topic: topic, limit: 10, leaseSeconds: 30, worker: "test")
        XCTAssertEqual(second.map(\.payload), [#"{"n": 2}"#])
        try queue.complete(second)  // nothing left behind for the queue's metrics
    }

    func testJobsEnqueuedTogetherKeepTheOrderGiven() throws {
        let db = try TestStack.connection()
        let tenant = UUID()
        try db.query("INSERT INTO tenants (id, name) VALUES ($1, $2)", [tenant, "Ordering \(tenant)"])
        // A topic of its own: claims are per topic, so nothing another test (or run) left behind can answer.
        let topic = "test.ordering.\(UUID().uuidString.prefix(8).lowercased())", key = "conversation:\(UUID())"
        let queue = PostgresJobQueue(connection: db)
        try queue.enqueue((1...5).map {
            NewQueueJob(tenantID: tenant, topic: topic, payload: #"{"n":\#($0)}"#, idempotencyKey: "\(key)-\($0)", orderingKey: key)
        })
        var order: [String] = []
        while let job = try queue.claim(topic: topic, limit: 10, leaseSeconds: 30, worker: "test").first {
            order.append(job.payload)
            try queue.complete(job)
        }
        XCTAssertEqual(order, (1...5).map { #"{"n": \#($0)}"# })
    }
}
