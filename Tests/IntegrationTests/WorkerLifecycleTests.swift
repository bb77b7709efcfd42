import Foundation
import XCTest

final class WorkerLifecycleTests: XCTestCase {
    func testTheStackWorkerIsRunning() throws {
        let pid = try String(contentsOfFile: try TestStack.runDir + "/pids/worker.pid", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(kill(try XCTUnwrap(Int32(pid)), 0), 0, "worker is not running")
    }

    func testWorkerListensAndStopsCleanlyOnSIGTERM() throws {
        let db = try TestStack.connection()
        func workerConnections() throws -> Int {
            try db.query("""
                SELECT count(*) AS n FROM pg_stat_activity WHERE application_name LIKE 'hubchat-worker-%'
                """).first!.decode("n")
        }
        let before = try workerConnections()
        let worker = try ChildProcess(try TestStack.binDir + "/hubchat-worker", [])
        defer { if worker.isRunning { kill(worker.pid, SIGKILL); worker.wait() } }
        // Its relay connections (listener and work) and at least one inbound lane's.
        XCTAssertTrue(try TestStack.eventually(within: 5) { try workerConnections() >= before + 3 })
        kill(worker.pid, SIGTERM)
        XCTAssertTrue(TestStack.eventually(within: 3) { !worker.isRunning }, "worker did not stop on SIGTERM")
        XCTAssertEqual(worker.wait(), 0)
    }
}
