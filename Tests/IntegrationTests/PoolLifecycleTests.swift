import Foundation
import XCTest

/// A pool of its own, outside nginx, to watch the supervisor start and stop.
final class PoolLifecycleTests: XCTestCase {
    /// A pool of `processes` responders of `group` on a temporary socket.
    private func startPool(group: String, processes: Int,
                           environment: [String: String] = [:]) throws -> (ChildProcess, String) {
        let socket = NSTemporaryDirectory() + "hubchat-pool-\(UUID().uuidString.prefix(8)).sock"
        let pool = try ChildProcess(try TestStack.binDir + "/hubchat-fcgi",
                                    ["serve", "--group", group, "--socket", socket, "--processes", "\(processes)"],
                                    environment: environment)
        return (pool, socket)
    }

    func testPoolStartsItsRespondersAndStopsCleanlyOnSIGTERM() throws {
        let (pool, socket) = try startPool(group: "api", processes: 3)
        defer { if pool.isRunning { kill(pool.pid, SIGKILL); pool.wait() } }

        XCTAssertTrue(TestStack.eventually(within: 5) { FileManager.default.fileExists(atPath: socket) })
        XCTAssertTrue(TestStack.eventually(within: 5) { Self.children(of: pool.pid).count == 3 })
        let responders = Self.children(of: pool.pid)

        kill(pool.pid, SIGTERM)
        XCTAssertTrue(TestStack.eventually(within: 8) { !pool.isRunning }, "pool did not stop on SIGTERM")
        XCTAssertEqual(pool.wait(), 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: socket), "socket left behind")
        for pid in responders { XCTAssertNotEqual(kill(pid, 0), 0, "responder \(pid) still alive") }
    }

    /// A supervisor killed outright (kill -9, the OOM killer) takes its responders with it: orphans would go on
    /// serving the old socket, each holding a database connection, beside the pool that replaces it.
    func testRespondersEndWhenTheirPoolIsKilled() throws {
        let (pool, socket) = try startPool(group: "api", processes: 2)
        defer { if pool.isRunning { kill(pool.pid, SIGKILL); pool.wait() }; unlink(socket) }
        XCTAssertTrue(TestStack.eventually(within: 5) { Self.children(of: pool.pid).count == 2 })
        let responders = Self.children(of: pool.pid)
        kill(pool.pid, SIGKILL)
        pool.wait()
        XCTAssertTrue(TestStack.eventually(within: 10) { responders.allSatisfy(Self.isGone) },
                      "responders outlived their pool: \(responders.filter { !Self.isGone($0) })")
    }

    /// Reloads in quick succession (a deploy script retried) end responders that had not finished starting, killed
    /// by the SIGTERM itself: the pool replaces them at once, not after a crash back-off that left it empty for
    /// seconds. Also the webhook pool's threaded responders.
    func testQuickReloadsLeaveThePoolServing() throws {
        let (pool, socket) = try startPool(group: "webhooks", processes: 2)
        defer { if pool.isRunning { kill(pool.pid, SIGKILL); pool.wait() }; unlink(socket) }
        XCTAssertTrue(TestStack.eventually(within: 5) { Self.children(of: pool.pid).count == 2 })
        let first = Set(Self.children(of: pool.pid))
        for _ in 0..<20 {
            kill(pool.pid, SIGHUP)
            usleep(5_000)
        }
        // A crash back-off would sleep 0.2, 0.4, 0.8 … s for each responder that died young.
        XCTAssertTrue(TestStack.eventually(within: 0.7) {
            let now = Self.children(of: pool.pid)
            return now.count == 2 && first.isDisjoint(with: now)
        }, "pool not back to 2 new responders: \(Self.children(of: pool.pid))")
        kill(pool.pid, SIGTERM)
        XCTAssertTrue(TestStack.eventually(within: 8) { !pool.isRunning }, "pool did not stop on SIGTERM")
    }

    /// A webhook pool of one responder process (the default), stopped when the test ends, and that responder's pid.
    private func startOneResponderPool(environment: [String: String] = [:]) throws -> (ChildProcess, String, Int32) {
        let (pool, socket) = try startPool(group: "webhooks", processes: 1, environment: environment)
        addTeardownBlock { if pool.isRunning { kill(pool.pid, SIGKILL); pool.wait() }; unlink(socket) }
        XCTAssertTrue(TestStack.eventually(within: 5) { Self.children(of: pool.pid).count == 1 })
        return (pool, socket, Self.children(of: pool.pid).first ?? -1)
    }

    /// The status of a GET served on `socket` (any status: only that the pool answers).
    static func answer(_ socket: String) throws -> Int {
        try FastCGIClient(socketPath: socket).get("/api/webhook/facebook", keepConnection: false).status
    }

    static func hasOneNewResponder(_ pool: ChildProcess, replacing old: Int32) -> Bool {
        let now = children(of: pool.pid)
        return now.count == 1 && !now.contains(old)
    }

    /// A pool of one process (the webhook pool's default) must not go without a responder accepting while its only
    /// one retires: the replacement starts when the old one stops accepting, not when it has finished the requests in
    /// hand and exited. Here a request left half-sent holds the old responder for as long as the test wants.
    func testARetiringResponderIsReplacedBeforeItExits() throws {
        let (pool, socket, old) = try startOneResponderPool(environment: ["HUBCHAT_FCGI_MAX_REQUESTS": "2"])

        var holder: FastCGIClient? = try FastCGIClient(socketPath: socket)
        try holder?.beginWithoutFinishing()
        for _ in 0..<2 {  // the budget's two requests, served beside the one in hand
            XCTAssertNotEqual(try Self.answer(socket), 0)
        }
        XCTAssertTrue(TestStack.eventually(within: 3) { Self.children(of: pool.pid).count == 2 },
                      "no replacement while the old responder finishes: \(Self.children(of: pool.pid))")
        XCTAssertTrue(Self.children(of: pool.pid).contains(old), "the old responder was still finishing its request")
        XCTAssertNotEqual(try Self.answer(socket), 0,
                          "the replacement serves")

        holder = nil  // the request in hand ends; the old responder exits and is not replaced a second time
        XCTAssertTrue(TestStack.eventually(within: 5) { Self.hasOneNewResponder(pool, replacing: old) },
                      "pool not back to one new responder: \(Self.children(of: pool.pid))")
        usleep(300_000)
        XCTAssertEqual(Self.children(of: pool.pid).count, 1)
    }

    /// The same on a reload: the new responder starts before the old one is told to stop, and the old one is told
    /// once the new one is ready (well before the pool's 5 s limit for that).
    func testAReloadStartsTheReplacementBeforeTheOldResponderExits() throws {
        let (pool, socket, old) = try startOneResponderPool()
        // Served, so the old responder is in its accept loop and takes the half-sent request that follows.
        XCTAssertNotEqual(try Self.answer(socket), 0)

        var holder: FastCGIClient? = try FastCGIClient(socketPath: socket)
        try holder?.beginWithoutFinishing()
        usleep(100_000)
        kill(pool.pid, SIGHUP)
        XCTAssertTrue(TestStack.eventually(within: 3) { Self.children(of: pool.pid).count == 2 },
                      "no replacement while the old responder finishes: \(Self.children(of: pool.pid))")
        XCTAssertNotEqual(try Self.answer(socket), 0)

        holder = nil
        XCTAssertTrue(TestStack.eventually(within: 5) { Self.hasOneNewResponder(pool, replacing: old) },
                      "pool not back to one new responder: \(Self.children(of: pool.pid))")
    }

    /// A reload with nothing in hand: the old responder is gone as soon as its replacement is ready, not after the
    /// pool's time limit for readiness (5 s).
    func testAReloadStopsTheOldResponderOnceTheNewOneIsReady() throws {
        let (pool, socket, old) = try startOneResponderPool()
        usleep(300_000)  // the old responder ready too
        kill(pool.pid, SIGHUP)
        XCTAssertTrue(TestStack.eventually(within: 4) { Self.isGone(old) }, "the old responder still runs")
        XCTAssertEqual(Self.children(of: pool.pid).count, 1)
        XCTAssertNotEqual(try Self.answer(socket), 0)
    }

    /// Six replacements ready at about the same moment: every notice reaches the pool (they queue), so every old
    /// responder is gone well before the time limit (a notice lost would leave its responder running for 5 s).
    func testEveryReplacementsReadinessIsHeardOnAReloadOfManyResponders() throws {
        let (pool, socket) = try startPool(group: "api", processes: 6)
        defer { if pool.isRunning { kill(pool.pid, SIGKILL); pool.wait() }; unlink(socket) }
        XCTAssertTrue(TestStack.eventually(within: 5) { Self.children(of: pool.pid).count == 6 })
        let old = Self.children(of: pool.pid)
        usleep(500_000)  // all ready
        kill(pool.pid, SIGHUP)
        XCTAssertTrue(TestStack.eventually(within: 4) { old.allSatisfy(Self.isGone) },
                      "old responders still running: \(old.filter { !Self.isGone($0) })")
        XCTAssertTrue(TestStack.eventually(within: 2) { Self.children(of: pool.pid).count == 6 })
    }

    /// Not running: no such process, or a zombie its new parent has not reaped yet.
    static func isGone(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return true }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
    }

    func testPoolRefusesAMissingSocketArgument() throws {
        let pool = try ChildProcess(try TestStack.binDir + "/hubchat-fcgi", ["serve", "--group", "api"])
        XCTAssertEqual(pool.wait(), 2)
    }

    static func children(of pid: Int32) -> [Int32] {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").compactMap { Int32($0) }
    }
}
