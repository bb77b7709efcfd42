import Core
import Foundation
import XCTest

/// The worker's retention of finished pipeline history (WORKER_RETENTION_DAYS).
final class MaintenanceTests: XCTestCase {
    func testOnlyFinishedHistoryOlderThanTheRetentionIsPruned() throws {
        let db = try TestStack.connection()
        let tenant = UUID()
        try db.query("INSERT INTO tenants (id, name) VALUES ($1, $2)", [tenant, "Retention \(tenant)"])
        let topic = "test.retention", tag = tenant.uuidString.prefix(8).lowercased()
        func job(_ key: String, _ status: String, finishedDaysAgo days: Int) throws {
            try db.query("""
                INSERT INTO queue_jobs (tenant_id, topic, payload, idempotency_key, status, finished_at, dead_lettered_at)
                VALUES ($1, $2, '{}', $3, $4, CASE WHEN $4 = 'DONE' THEN now() - make_interval(days => $5) END,
                        CASE WHEN $4 = 'DEAD_LETTER' THEN now() - make_interval(days => $5) END)
                """, [tenant, topic, "\(tag)-\(key)", status, days])
        }
        try job("old-done", "DONE", finishedDaysAgo: 40)
        try job("new-done", "DONE", finishedDaysAgo: 1)
        try job("old-dead", "DEAD_LETTER", finishedDaysAgo: 40)
        for (key, status) in [("old-dispatched", "DISPATCHED"), ("old-dead", "DEAD_LETTER")] {
            try db.query("""
                INSERT INTO outbox_events (tenant_id, topic, payload, idempotency_key, status, created_at, dispatched_at,
                                           dead_lettered_at)
                VALUES ($1, $2, '{}', $3, $4, now() - interval '40 days',
                        CASE WHEN $4 = 'DISPATCHED' THEN now() - interval '40 days' END,
                        CASE WHEN $4 = 'DEAD_LETTER' THEN now() - interval '40 days' END)
                """, [tenant, topic, "\(tag)-\(key)", status])
        }
        for (key, processed) in [("old-processed", true), ("old-unprocessed", false)] {
            try db.query("""
                INSERT INTO webhook_events (tenant_id, channel, provider_event_id, event_type, payload, received_at,
                                            processed_at)
                VALUES ($1, 'LINE', $2, 'message.text', '{}', now() - interval '40 days',
                        CASE WHEN $3 THEN now() - interval '40 days' END)
                """, [tenant, "\(tag)-\(key)", processed])
        }

        XCTAssertGreaterThanOrEqual(try PostgresMaintenance(connection: db).pruneHistory(olderThanDays: 30), 0)
        XCTAssertEqual(try PostgresMaintenance(connection: db).pruneHistory(olderThanDays: 0), 0, "0 keeps everything")
        func keys(_ sql: String) throws -> [String] {
            try db.query(sql, [tenant]).rows.map { String(($0["k"] ?? "").dropFirst(tag.count + 1)) }.sorted()
        }
        XCTAssertEqual(try keys("SELECT idempotency_key AS k FROM queue_jobs WHERE tenant_id = $1"), ["new-done", "old-dead"])
        XCTAssertEqual(try keys("SELECT idempotency_key AS k FROM outbox_events WHERE tenant_id = $1"), ["old-dead"])
        XCTAssertEqual(try keys("SELECT provider_event_id AS k FROM webhook_events WHERE tenant_id = $1"), ["old-unprocessed"])
    }
}
