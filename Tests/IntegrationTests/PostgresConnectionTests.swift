import Core
import Foundation
import XCTest

final class PostgresConnectionTests: XCTestCase {
    func testParametersRoundTripAsDataNeverAsSQL() throws {
        let db = try TestStack.connection()
        let id = UUID()
        let when = Date(timeIntervalSince1970: 1_795_737_925.25)
        let hostile = "'; DROP TABLE tenants; --"
        let row = try XCTUnwrap(try db.query(
            "SELECT $1::text AS t, $2::int AS n, $3::uuid AS u, $4::timestamptz AS ts, $5::text[] AS tags, $6::text AS missing, $7::bool AS b",
            [hostile, 42, id, when, ["a b", "ไทย", "q\"x"], nil, true]).first)
        XCTAssertEqual(try row.decode("t", as: String.self), hostile)
        XCTAssertEqual(try row.decode("n", as: Int.self), 42)
        XCTAssertEqual(try row.decode("u", as: UUID.self), id)
        XCTAssertEqual(try row.decode("ts", as: Date.self).timeIntervalSince1970, when.timeIntervalSince1970, accuracy: 1e-6)
        XCTAssertEqual(try row.decode("tags", as: [String].self), ["a b", "ไทย", "q\"x"])
        XCTAssertNil(try row.decodeIfPresent("missing", as: String.self))
        XCTAssertEqual(try row.decode("b", as: Bool.self), true)
        XCTAssertThrowsError(try row.decode("missing", as: String.self))
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM pg_tables WHERE tablename = 'tenants'").first?.decode("n", as: Int.self), 1)
    }

    func testANULInATextParameterBecomesAReplacementCharacterNotACutOff() throws {
        let db = try TestStack.connection()
        let row = try XCTUnwrap(try db.query("SELECT $1::text AS t, $2::text[] AS a, $3::timestamptz AS far",
                                             ["a\u{0}b", ["x\u{0}", "y"], Date(timeIntervalSince1970: 1e22)]).first)
        XCTAssertEqual(try row.decode("t", as: String.self), "a\u{FFFD}b")
        XCTAssertEqual(try row.decode("a", as: [String].self), ["x\u{FFFD}", "y"], "the array literal stays whole")
        XCTAssertEqual(row["far"], "infinity", "a date past PostgreSQL's range does not trap the process")
    }

    func testServerErrorsCarrySQLState() throws {
        let db = try TestStack.connection()
        XCTAssertThrowsError(try db.query("SELECT 1/0")) { error in
            XCTAssertEqual((error as? PostgresError)?.sqlState, "22012")
        }
        // The connection is still usable afterwards.
        XCTAssertEqual(try db.query("SELECT 2 AS v").first?.decode("v", as: Int.self), 2)
    }

    func testTransactionCommitsOrRollsBackOnThrow() throws {
        let db = try TestStack.connection()
        try db.runScript("CREATE TEMP TABLE tx_probe (v int)")
        struct Boom: Error {}
        XCTAssertThrowsError(try db.transaction {
            try db.query("INSERT INTO tx_probe VALUES ($1)", [1])
            throw Boom()
        })
        XCTAssertFalse(db.isInTransaction)
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM tx_probe").first?.decode("n", as: Int.self), 0)
        try db.transaction { try db.query("INSERT INTO tx_probe VALUES ($1)", [2]) }
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM tx_probe").first?.decode("n", as: Int.self), 1)
        // A statement error inside the transaction rolls it back too.
        XCTAssertThrowsError(try db.transaction {
            try db.query("INSERT INTO tx_probe VALUES ($1)", [3])
            try db.query("SELECT 1/0")
        })
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM tx_probe").first?.decode("n", as: Int.self), 1)
    }

    func testPreparedStatementsArePreparedOnceAndReused() throws {
        let db = try TestStack.connection()
        let statement = PreparedStatement("test_add", "SELECT $1::int + $2::int AS sum")
        XCTAssertEqual(try db.query(statement, [1, 2]).first?.decode("sum", as: Int.self), 3)
        XCTAssertEqual(try db.query(statement, [40, 2]).first?.decode("sum", as: Int.self), 42)
        let prepared = try db.query("SELECT count(*) AS n FROM pg_prepared_statements WHERE name = 'test_add'")
        XCTAssertEqual(try prepared.first?.decode("n", as: Int.self), 1)
    }

    func testSessionTimeoutsAreSetAndEnforced() throws {
        let db = try TestStack.connection(statementTimeoutMilliseconds: 300)
        XCTAssertEqual(try db.query("SHOW statement_timeout").first?["statement_timeout"], "300ms")
        XCTAssertEqual(try db.query("SHOW idle_in_transaction_session_timeout").first?["idle_in_transaction_session_timeout"], "10s")
        XCTAssertEqual(try db.query("SHOW TimeZone").first?["TimeZone"], "UTC")
        XCTAssertThrowsError(try db.query("SELECT pg_sleep(2)")) { error in
            XCTAssertTrue((error as? PostgresError)?.isStatementTimeout ?? false, "\(error)")
        }
    }

    /// A server that vanishes over TCP is noticed within a minute, not after the kernel's retries; a URL that says
    /// otherwise is obeyed.
    func testTCPConnectionsGiveUpOnASilentServerAndTheURLMayOverride() throws {
        let db = try TestStack.connection()
        XCTAssertEqual(db.option("tcp_user_timeout"), "30000")
        XCTAssertEqual(db.option("keepalives_idle"), "30")
        let url = try TestStack.value("DATABASE_URL")
        let own = try PostgresConnection(settings: .init(
            url: url + (url.contains("?") ? "&" : "?") + "keepalives_idle=7", applicationName: "hubchat-tests"))
        XCTAssertEqual(own.option("keepalives_idle"), "7")
        XCTAssertEqual(own.option("application_name"), "hubchat-tests")
    }

    /// A server that stops answering (frozen, its host stalled) cannot cancel the statement itself: the caller gives
    /// up a grace period after statement_timeout, answers "unavailable", and the next statement reconnects.
    func testAServerThatStopsAnsweringIsGivenUpOn() throws {
        let db = try TestStack.connection(statementTimeoutMilliseconds: 200)
        let backend = Int32(try db.query("SELECT pg_backend_pid() AS pid").first!.decode("pid", as: Int.self))
        kill(backend, SIGSTOP)
        defer { kill(backend, SIGCONT) }
        let started = Date()
        XCTAssertThrowsError(try db.query("SELECT 1")) { error in
            XCTAssertTrue((error as? PostgresError)?.isUnavailable ?? false, "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 30, "waited as if for ever")
        kill(backend, SIGCONT)
        XCTAssertEqual(try db.query("SELECT 2 AS n").first?.decode("n", as: Int.self), 2)
        XCTAssertEqual(db.reconnectCount, 1)
    }

    /// While the server cannot take connections (here: its postmaster frozen, so a connect waits out
    /// connect_timeout), a failed reconnect is not tried again for a moment: the calls of a burst fail at once
    /// instead of each waiting in turn.
    func testAFailedReconnectIsNotRetriedAtOnce() throws {
        let db = try TestStack.connection(statementTimeoutMilliseconds: 200)
        let backend = Int32(try db.query("SELECT pg_backend_pid() AS pid").first!.decode("pid", as: Int.self))
        let stat = try String(contentsOfFile: "/proc/\(backend)/stat", encoding: .utf8)
        let postmaster = try XCTUnwrap(Int32(stat.split(separator: ")").last!.split(separator: " ")[1]))
        kill(postmaster, SIGSTOP)
        kill(backend, SIGSTOP)
        defer { kill(postmaster, SIGCONT); kill(backend, SIGCONT) }
        XCTAssertThrowsError(try db.query("SELECT 1"))  // no answer: the connection is closed
        XCTAssertThrowsError(try db.query("SELECT 1"))  // the reconnect waits out connect_timeout, and fails
        let started = Date()
        XCTAssertThrowsError(try db.query("SELECT 1")) { error in
            XCTAssertTrue((error as? PostgresError)?.isUnavailable ?? false, "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 1, "the failed reconnect was tried again at once")
        kill(postmaster, SIGCONT)
        kill(backend, SIGCONT)
        XCTAssertTrue(try TestStack.eventually(within: 5) { (try? db.query("SELECT 2 AS n")) != nil })
    }

    func testListenReceivesNotifications() throws {
        let listener = try TestStack.connection()
        let sender = try TestStack.connection()
        try listener.listen("hubchat_test_wakeup")
        XCTAssertEqual(try listener.waitForNotifications(timeoutMilliseconds: 50), [])
        try sender.notify("hubchat_test_wakeup", payload: "hello")
        let got = try listener.waitForNotifications(timeoutMilliseconds: 2_000)
        XCTAssertEqual(got.map(\.payload), ["hello"])
        XCTAssertEqual(got.first?.channel, "hubchat_test_wakeup")
        XCTAssertThrowsError(try listener.listen("bad; name"))
    }

    /// A process sends at most one wake-up per coalescing window; the relay's linger covers the ones it skips.
    func testWakeUpsOfOneProcessAreCoalesced() throws {
        let listener = try TestStack.connection()
        try listener.listen(PostgresWorkerWakeUp.channel)
        let wake = PostgresWorkerWakeUp(connection: try TestStack.connection())
        Thread.sleep(forTimeInterval: 0.05)  // past any earlier wake-up's window
        _ = try listener.waitForNotifications(timeoutMilliseconds: 50)
        for _ in 0..<5 { wake.wake() }
        var got = try listener.waitForNotifications(timeoutMilliseconds: 1_000)
        got += try listener.waitForNotifications(timeoutMilliseconds: 100)
        XCTAssertEqual(got.count, 1, "five wake-ups within the window send one NOTIFY")
        XCTAssertLessThan(WorkerWakeUpTiming.coalesceWindow * 2, WorkerWakeUpTiming.relayLinger,
                          "the relay lingers well past the window")
        Thread.sleep(forTimeInterval: 0.05)
        wake.wake()
        XCTAssertEqual(try listener.waitForNotifications(timeoutMilliseconds: 1_000).count, 1, "a later one is sent")
    }

    func testReconnectsAndResubscribesAfterPostgresRestart() throws {
        let db = try TestStack.connection()
        let listener = try TestStack.connection()
        try listener.listen("hubchat_test_restart")
        XCTAssertEqual(try db.query("SELECT 1 AS v").first?.decode("v", as: Int.self), 1)
        try TestStack.control("pg-restart")
        // The first statement after the restart finds the dead socket and reconnects by itself.
        XCTAssertEqual(try db.query("SELECT 1 AS v").first?.decode("v", as: Int.self), 1)
        XCTAssertEqual(db.reconnectCount, 1)
        _ = try listener.waitForNotifications(timeoutMilliseconds: 10)
        try db.notify("hubchat_test_restart", payload: "after")
        XCTAssertEqual(try listener.waitForNotifications(timeoutMilliseconds: 2_000).map(\.payload), ["after"])
    }

    func testRowLevelSecurityAdmitsOnlyTheScopedTenant() throws {
        let system = try TestStack.connection(systemScope: true)
        let admin = AdministrationRepository(connection: system)
        let a = try admin.upsertTenant(id: nil, name: "RLS A")
        let b = try admin.upsertTenant(id: nil, name: "RLS B")
        defer { _ = try? system.query("DELETE FROM tenants WHERE id = ANY($1::uuid[])", [[a.postgresText, b.postgresText]]) }
        try admin.upsertAgent(tenantID: a, email: "a@rls.test", name: "A", role: "SALES", status: "ACTIVE")
        try admin.upsertAgent(tenantID: b, email: "b@rls.test", name: "B", role: "SALES", status: "ACTIVE")

        let app = try TestStack.connection(systemScope: false)
        // No scope at all: nothing is visible (fail closed).
        XCTAssertEqual(try app.query("SELECT count(*) AS n FROM sales_agents WHERE email LIKE '%@rls.test'")
            .first?.decode("n", as: Int.self), 0)
        // Scoped to A: only A's rows, even without a tenant filter in the statement.
        let emails = try app.transaction(tenant: a) {
            try app.query("SELECT email FROM sales_agents WHERE email LIKE '%@rls.test'").rows.map { try $0.decode("email", as: String.self) }
        }
        XCTAssertEqual(emails, ["a@rls.test"])
        // Writing B's row while scoped to A is refused.
        XCTAssertThrowsError(try app.transaction(tenant: a) {
            try app.query("INSERT INTO sales_agents (tenant_id, email, name) VALUES ($1, 'x@rls.test', 'X')", [b])
        }) { error in
            XCTAssertEqual((error as? PostgresError)?.sqlState, "42501", "\(error)")
        }
    }
}
