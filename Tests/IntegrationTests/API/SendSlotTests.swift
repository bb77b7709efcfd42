import Core
import Foundation
import Synchronization
import XCTest

/// Rate-limit slots taken a batch at a time (`hubchat_acquire_send_slots`): partial grants, every limit of the
/// account counted alike, and exact under concurrency, since every lane of every worker counts on the same rows.
final class SendSlotTests: XCTestCase {
    /// A fresh tenant with one LINE account; answers (tenant, account).
    func account() throws -> (UUID, UUID) {
        let db = try TestStack.connection()
        let tenant = UUID()
        try db.query("INSERT INTO tenants (id, name) VALUES ($1, $2)", [tenant, "Slots \(tenant)"])
        let account: UUID = try db.query("""
            INSERT INTO channel_accounts (tenant_id, channel, external_account_id, credentials)
            VALUES ($1, 'LINE', $2, '{}'::jsonb) RETURNING id
            """, [tenant, "Uslots\(tenant.uuidString.prefix(8))"]).first!.decode("id")
        return (tenant, account)
    }

    func testGrantsWhatEveryLimitHasRoomForAndCountsOnlyThat() throws {
        let (tenant, account) = try account()
        let store = PostgresDeliveryStore(connection: try TestStack.connection())
        let limits = [RateLimit(bucket: "outbound", requests: 5, windowSeconds: 3600),
                      RateLimit(bucket: "provider", requests: 7, windowSeconds: 3600)]
        func take(_ wanted: Int) throws -> SlotGrant {
            try XCTUnwrap(store.acquireSendSlots([SlotRequest(tenantID: tenant, accountID: account, wanted: wanted,
                                                              limits: limits)])[account])
        }
        XCTAssertEqual(try take(3), SlotGrant(granted: 3, waitSeconds: nil))
        let partial = try take(4)
        XCTAssertEqual(partial.granted, 2, "the tighter limit (5) had 2 left")
        XCTAssertGreaterThan(try XCTUnwrap(partial.waitSeconds), 0)
        XCTAssertLessThanOrEqual(try XCTUnwrap(partial.waitSeconds), 3600)
        XCTAssertEqual(try take(1).granted, 0)
        let counts = try TestStack.connection().query("""
            SELECT bucket, request_count FROM rate_limit_windows WHERE channel_account_id = $1 ORDER BY bucket
            """, [account]).rows.map { "\($0["bucket"] ?? "")=\($0["request_count"] ?? "")" }
        XCTAssertEqual(counts, ["outbound=5", "provider=5"], "only granted slots are counted, on every limit")
    }

    func testSeveralAccountsInOneCall() throws {
        let (t1, a1) = try account()
        let (t2, a2) = try account()
        let store = PostgresDeliveryStore(connection: try TestStack.connection())
        let limits = [RateLimit(bucket: "outbound", requests: 2, windowSeconds: 3600)]
        // a1's window exists after this; a2's does not, so the next call opens it and asks again for a2 alone.
        XCTAssertEqual(try store.acquireSendSlots([SlotRequest(tenantID: t1, accountID: a1, wanted: 1, limits: limits)])[a1]?.granted, 1)
        let grants = try store.acquireSendSlots([SlotRequest(tenantID: t1, accountID: a1, wanted: 1, limits: limits),
                                                 SlotRequest(tenantID: t2, accountID: a2, wanted: 3, limits: limits)])
        XCTAssertEqual(grants[a1]?.granted, 1)
        XCTAssertEqual(grants[a2]?.granted, 2)
        XCTAssertNil(grants[a1]?.waitSeconds)
        XCTAssertNotNil(grants[a2]?.waitSeconds)
        let counts = try TestStack.connection().query("""
            SELECT request_count FROM rate_limit_windows WHERE channel_account_id = ANY($1::uuid[]) ORDER BY channel_account_id = $2
            """, [PostgresTextArray([a1.postgresText, a2.postgresText]), a1]).rows.map { $0["request_count"] ?? "" }
        XCTAssertEqual(counts, ["2", "2"], "a1 was counted once per grant, not again when a2's window was opened")
    }

    func testConcurrentCallersNeverGrantMoreThanTheLimit() throws {
        let (tenant, account) = try account()
        let limits = [RateLimit(bucket: "outbound", requests: 50, windowSeconds: 3600),
                      RateLimit(bucket: "provider", requests: 1_000, windowSeconds: 3600)]
        let granted = Mutex(0)
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            do {
                let store = PostgresDeliveryStore(connection: try TestStack.connection())
                for _ in 0..<10 {
                    let grant = try store.acquireSendSlots([SlotRequest(tenantID: tenant, accountID: account, wanted: 3,
                                                                        limits: limits)])[account]
                    granted.withLock { $0 += grant?.granted ?? 0 }
                }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        XCTAssertEqual(failures.withLock { $0 }, [])
        XCTAssertEqual(granted.withLock { $0 }, 50, "6 callers × 10 × 3 wanted, 50 allowed")
    }
}
