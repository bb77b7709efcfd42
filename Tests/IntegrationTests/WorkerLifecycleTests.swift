import Core
import Foundation
import XCTest

final class WorkerLifecycleTests: XCTestCase {
    func testTheStackWorkerIsRunning() throws {
        let pid = try String(contentsOfFile: try TestStack.runDir + "/pids/worker.pid", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(kill(try XCTUnwrap(Int32(pid)), 0), 0, "worker is not running")
    }

    /// What the server says to an idle session (here the FATAL of an administrator ending it) reaches the log as a
    /// JSON line, not as libpq's plain text among them, and the worker carries on.
    func testServerMessagesToIdleSessionsAreLoggedAsJSON() throws {
        let db = try TestStack.connection()
        let log = try TestStack.runDir + "/logs/worker.log"
        func lines() -> [Substring] {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n")
        }
        let before = lines().count
        let ended: Int = try db.query("""
            SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity
             WHERE application_name LIKE 'hubchat-worker-%' AND pid <> pg_backend_pid()
            """).first!.decode("n")
        XCTAssertGreaterThan(ended, 0)
        XCTAssertTrue(TestStack.eventually(within: 10) {
            lines().dropFirst(before).contains { $0.contains("from PostgreSQL") && $0.contains("terminating connection") }
        }, "the server's FATAL was logged")
        let plain = lines().dropFirst(before).filter { !$0.hasPrefix("{") }
        XCTAssertEqual(plain, [], "every log line is JSON")
        let port = try TestStack.value("WORKER_HEALTH_PORT")
        XCTAssertTrue(TestStack.eventually(within: 15) {
            (try? CurlHTTPClient().send(HTTPRequest(url: "http://127.0.0.1:\(port)/ready", timeoutMilliseconds: 1_000)))?
                .status == 200
        }, "the worker is ready again")
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

    /// A health port that is taken when the worker starts (an old worker still stopping) is taken over once free:
    /// the worker does not run without `/ready` and `/metrics` for good.
    func testTheHealthEndpointsStartOnceTheirPortIsFree() throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let squatter = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)  // not the worker's
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(squatter, $0, length) == 0 && listen(squatter, 1) == 0 && getsockname(squatter, $0, &length) == 0
            }
        }
        XCTAssertTrue(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))

        let stackPort = getenv("WORKER_HEALTH_PORT").map { String(cString: $0) }
        setenv("WORKER_HEALTH_PORT", String(port), 1)
        let worker = try ChildProcess(try TestStack.binDir + "/hubchat-worker", [])
        if let stackPort { setenv("WORKER_HEALTH_PORT", stackPort, 1) } else { unsetenv("WORKER_HEALTH_PORT") }
        defer { if worker.isRunning { kill(worker.pid, SIGKILL); worker.wait() } }
        sleep(1)
        close(squatter)
        XCTAssertTrue(TestStack.eventually(within: 10) {
            let ready = try? CurlHTTPClient().send(HTTPRequest(url: "http://127.0.0.1:\(port)/ready", timeoutMilliseconds: 1_000))
            return ready.map { String(decoding: $0.body, as: UTF8.self).contains("\"status\"") } ?? false
        }, "the worker never took the health port over")
        kill(worker.pid, SIGTERM)
        XCTAssertEqual(worker.wait(), 0)
    }
}
