import Foundation
import XCTest

final class WorkerLifecycleTests: XCTestCase {
    func testTheStackWorkerIsRunning() throws {
        let pid = try String(contentsOfFile: try TestStack.runDir + "/pids/worker.pid", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(kill(try XCTUnwrap(Int32(pid)), 0), 0, "worker is not running")
    }

    func testWorkerListensAndStopsCleanlyOnSIGTERM() throws {
        let worker = try ChildProcess(try TestStack.binDir + "/hubchat-worker", [])
        defer { if worker.isRunning { kill(worker.pid, SIGKILL); worker.wait() } }
        let db = try TestStack.connection()
        XCTAssertTrue(try TestStack.eventually(within: 5) {
            let row = try db.query("""
                SELECT count(*) AS n FROM pg_stat_activity
                 WHERE application_name = 'hubchat-worker' AND pid <> pg_backend_pid()
                """).first
            // The stack's worker holds two connections (listener, work); this one opens its own two.
            return try (row?.decode("n", as: Int.self) ?? 0) >= 4
        })
        kill(worker.pid, SIGTERM)
        XCTAssertTrue(TestStack.eventually(within: 3) { !worker.isRunning }, "worker did not stop on SIGTERM")
        XCTAssertEqual(worker.wait(), 0)
    }
}
