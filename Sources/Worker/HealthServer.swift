import Core
import Foundation
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// When each of the worker's loops last went round; `/ready` fails when one has not for too long.
final class LoopHeartbeats: Sendable {
    private let ticks = Mutex<[String: Double]>([:])

    func tick(_ loop: String) { ticks.withLock { $0[loop] = WorkerLoop.now() } }

    /// Loops that have not ticked within `seconds`.
    func stalled(after seconds: Double) -> [String] {
        let now = WorkerLoop.now()
        return ticks.withLock { $0.filter { now - $0.value > seconds }.map(\.key).sorted() }
    }
}

/// `GET /ready` and `GET /metrics` on WORKER_HEALTH_PORT: a small blocking HTTP/1.1 server on its own thread
/// (one request per connection; probes and scrapes are rare and tiny).
/// `/ready` is honest: 503 when the database does not answer or a loop has stalled.
struct HealthServer {
    let host: String
    let port: Int
    let metrics: WorkerMetrics
    let heartbeats: LoopHeartbeats
    let stallSeconds: Double
    let settings: PostgresConnection.Settings
    let logger: Logger

    /// Listens on its own thread. A port that is taken (an old worker still stopping, another service) is tried
    /// again every 5 s rather than leaving this worker without `/ready` and `/metrics` for good.
    func start() throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw Failure(description: "bad WORKER_HEALTH_HOST \(host)") }
        let server = self, bindTo = address
        Thread {
            var reported = false
            while true {
                do {
                    let fd = try server.listen(on: bindTo)
                    logger.info("health endpoints listening", metadata: ["url": "http://\(host):\(port)"])
                    server.serve(fd)
                } catch {
                    if !reported {
                        logger.critical("the health endpoints could not start; retrying every 5 s",
                                        metadata: ["error": "\(error)"])
                        reported = true
                    }
                    sleep(5)
                }
            }
        }.start()
    }

    private func listen(on address: sockaddr_in) throws -> Int32 {
        var address = address
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, 64) == 0 else {
            let code = errno
            close(fd)
            throw Failure(description: "cannot listen on \(host):\(port): errno \(code)")
        }
        return fd
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    private func serve(_ listener: Int32) {
        var database: PostgresConnection?
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { if errno == EINTR { continue } else { usleep(100_000); continue } }
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = buffer.withUnsafeMutableBytes { read(client, $0.baseAddress, $0.count) }
            let requestLine = n > 0 ? String(decoding: buffer[0..<n].prefix { $0 != 13 && $0 != 10 }, as: UTF8.self) : ""
            let parts = requestLine.split(separator: " ")
            let path = parts.count > 1 ? String(parts[1].prefix { $0 != "?" }) : ""
            let (status, type, body): (Int, String, String)
            switch (parts.first.map(String.init), path) {
            case ("GET", "/metrics"):
                (status, type, body) = (200, "text/plain; version=0.0.4; charset=utf-8", metrics.render())
            case ("GET", "/ready"):
                (status, type, body) = ready(&database)
            case ("GET", "/live"):
                (status, type, body) = (200, "application/json", #"{"status":"ok"}"#)
            default:
                (status, type, body) = (404, "application/json", #"{"error":{"code":"not_found","message":"GET /ready or /metrics"}}"#)
            }
            let reason = status == 200 ? "OK" : status == 503 ? "Service Unavailable" : "Not Found"
            let response = Array("HTTP/1.1 \(status) \(reason)\r\nContent-Type: \(type)\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)".utf8)
            response.withUnsafeBytes { _ = send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            close(client)
        }
    }

    private func ready(_ database: inout PostgresConnection?) -> (Int, String, String) {
        var problems: [String] = []
        do {
            if database == nil { database = try PostgresConnection(settings: settings) }
            try PostgresHealthProbe(connection: database!).ping()
        } catch DatabaseHealthFailure.readOnly {
            problems.append("database is read-only")
        } catch {
            database = nil
            problems.append("database unreachable")
        }
        let stalled = heartbeats.stalled(after: stallSeconds)
        if !stalled.isEmpty { problems.append("stalled loops: " + stalled.joined(separator: ", ")) }
        if problems.isEmpty { return (200, "application/json", #"{"status":"ready"}"#) }
        let list = problems.map { "\"\($0)\"" }.joined(separator: ",")
        return (503, "application/json", #"{"status":"not_ready","problems":[\#(list)]}"#)
    }
}
