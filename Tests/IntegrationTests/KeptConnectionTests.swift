import Foundation
import XCTest

/// A responder serves one FastCGI connection at a time. When nginx keeps a connection open
/// but idle (upstream keepalive), the responder must hand it back as soon as another
/// connection waits, or that one waits for as long as nginx keeps the idle one.
final class KeptConnectionTests: XCTestCase {
    /// A REST pool of its own on a temporary socket (no nginx in front), ready to connect to.
    private func startAPIPool(processes: Int) throws -> (ChildProcess, String) {
        let socket = NSTemporaryDirectory() + "hubchat-kept-\(UUID().uuidString.prefix(8)).sock"
        let pool = try ChildProcess(try TestStack.binDir + "/hubchat-fcgi",
                                    ["serve", "--group", "api", "--socket", socket, "--processes", "\(processes)"])
        XCTAssertTrue(TestStack.eventually(within: 5) { FileManager.default.fileExists(atPath: socket) })
        return (pool, socket)
    }

    func testAnIdleKeptConnectionIsHandedBackWhenAnotherWaits() throws {
        let (pool, socket) = try startAPIPool(processes: 1)
        defer { kill(pool.pid, SIGTERM); pool.wait() }

        let first = try FastCGIClient(socketPath: socket)
        XCTAssertEqual(try first.get("/api/health/live", keepConnection: true).status, 200)
        // `first` stays open and idle, as in nginx's keepalive cache. The only responder must
        // still serve a second connection promptly.
        let second = try FastCGIClient(socketPath: socket, receiveTimeoutSeconds: 3)
        let started = Date()
        let answer = try second.get("/api/health/live", keepConnection: false)
        XCTAssertEqual(answer.status, 200)
        XCTAssertLessThan(Date().timeIntervalSince(started), 1.0)
        XCTAssertTrue(answer.body.contains(#""status":"ok""#))
    }

    /// Every idle responder wakes for a new connection; only the one that takes it may give up its kept connection.
    /// (When each woken responder closed its own, nginx's cache lost connections it still wanted: under load, resets
    /// and retried requests.)
    func testOnlyTheResponderThatTakesANewConnectionGivesUpItsKeptOne() throws {
        let (pool, socket) = try startAPIPool(processes: 2)
        defer { kill(pool.pid, SIGTERM); pool.wait() }

        // Two kept connections, idle, as in nginx's cache, one per responder: both connect before either is served, so
        // each free responder takes one.
        let first = try FastCGIClient(socketPath: socket)
        let second = try FastCGIClient(socketPath: socket)
        XCTAssertEqual(try first.get("/api/health/live", keepConnection: true).status, 200)
        XCTAssertEqual(try second.get("/api/health/live", keepConnection: true).status, 200)
        usleep(100_000)  // both responders back waiting, each with its kept connection
        let third = try FastCGIClient(socketPath: socket, receiveTimeoutSeconds: 3)
        let started = Date()
        XCTAssertEqual(try third.get("/api/health/live", keepConnection: false).status, 200)
        XCTAssertLessThan(Date().timeIntervalSince(started), 1.0)

        let stillKept = [first, second].filter { (try? $0.get("/api/health/live", keepConnection: true))?.status == 200 }
        XCTAssertGreaterThanOrEqual(stillKept.count, 1, "a responder closed its kept connection without taking the new one")
    }

    func testAnOversizedBodyIsRefusedAndItsConnectionClosed() throws {
        let (pool, socket) = try startAPIPool(processes: 1)
        defer { kill(pool.pid, SIGTERM); pool.wait() }
        let client = try FastCGIClient(socketPath: socket)
        // Announces 500 MB (nginx would never pass it; the responder must not trust it either).
        let answer = try client.get("/api/health/live", keepConnection: true, parameters: [("CONTENT_LENGTH", "500000000")])
        XCTAssertEqual(answer.status, 413)
        XCTAssertTrue(answer.body.contains(#""code":"payload_too_large""#))
        XCTAssertTrue(client.isClosedByPeer(), "the connection still holds an unread body")
    }
}

/// Just enough of the FastCGI protocol (as nginx speaks it) to send one GET and read the answer.
final class FastCGIClient {
    struct Answer { let status: Int; let body: String }
    struct Failure: Error { let what: String }

    private let fd: Int32

    init(socketPath: String, receiveTimeoutSeconds: Int = 5) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(socketPath.utf8)
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { close(fd); throw Failure(what: "connect: errno \(errno)") }
        var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func get(_ path: String, keepConnection: Bool, parameters extra: [(String, String)] = []) throws -> Answer {
        var out: [UInt8] = []
        out += Self.record(type: 1, [0, 1, keepConnection ? 1 : 0, 0, 0, 0, 0, 0])  // BEGIN_REQUEST, responder
        var params: [UInt8] = []
        for (name, value) in [("REQUEST_METHOD", "GET"), ("DOCUMENT_URI", path), ("QUERY_STRING", ""),
                              ("REQUEST_ID", "kept-connection-test")] + (extra.isEmpty ? [("CONTENT_LENGTH", "")] : extra) {
            params += [UInt8(name.utf8.count), UInt8(value.utf8.count)] + Array(name.utf8) + Array(value.utf8)
        }
        out += Self.record(type: 4, params) + Self.record(type: 4, []) + Self.record(type: 5, [])
        guard out.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == out.count else {
            throw Failure(what: "send")
        }
        var stdout: [UInt8] = []
        while true {
            let header = try read(8)
            let length = Int(header[4]) << 8 | Int(header[5])
            let content = try read(length + Int(header[6]))
            if header[1] == 6 { stdout += content.prefix(length) }  // STDOUT
            if header[1] == 3 { break }  // END_REQUEST
        }
        let text = String(decoding: stdout, as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")
        let statusLine = parts[0].split(separator: "\r\n").first { $0.hasPrefix("Status: ") } ?? ""
        return Answer(status: Int(statusLine.dropFirst(8).prefix(3)) ?? 0, body: parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    /// Sends only the start of a request (its BEGIN_REQUEST record): the responder that takes the connection waits for
    /// the rest, a request in hand for as long as this client stays connected.
    func beginWithoutFinishing() throws {
        let out = Self.record(type: 1, [0, 1, 0, 0, 0, 0, 0, 0])
        guard out.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == out.count else {
            throw Failure(what: "send")
        }
    }

    /// True when the responder closed the connection (the next read finds end of file).
    func isClosedByPeer() -> Bool {
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, 0) == 0
    }

    private func read(_ count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, count - got, 0) }
            guard n > 0 else { throw Failure(what: "no answer (recv \(n), errno \(errno))") }
            got += n
        }
        return buffer
    }

    private static func record(type: UInt8, _ content: [UInt8]) -> [UInt8] {
        [1, type, 0, 1, UInt8(content.count >> 8), UInt8(content.count & 0xff), 0, 0] + content
    }
}
