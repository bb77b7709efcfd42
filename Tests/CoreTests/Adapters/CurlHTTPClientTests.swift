import Foundation
import XCTest
@testable import Core

/// The libcurl wrapper against sockets of the test's own, on loopback.
final class CurlHTTPClientTests: XCTestCase {
    func testRefusesSchemesOtherThanHTTP() throws {
        let client = try CurlHTTPClient()
        for url in ["file:///etc/passwd", "gopher://x", "ftp://x"] {
            XCTAssertThrowsError(try client.send(HTTPRequest(url: url))) { error in
                guard case .invalidRequest = error as? HTTPClientError else { return XCTFail("\(error)") }
            }
        }
    }

    func testAServerThatNeverAnswersTimesOut() throws {
        let (fd, port) = try Self.listeningSocket()  // accepts into the backlog, never answers
        defer { close(fd) }
        let started = Date()
        XCTAssertThrowsError(try CurlHTTPClient().send(HTTPRequest(url: "http://127.0.0.1:\(port)/", timeoutMilliseconds: 300))) {
            guard case .timedOut = $0 as? HTTPClientError else { return XCTFail("\($0)") }
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
    }

    /// Nothing was sent, and callers may rely on that (a LINE reply is sent again only then).
    func testAClosedPortIsNotSent() throws {
        let (fd, port) = try Self.listeningSocket()
        close(fd)  // nothing listens there now
        XCTAssertThrowsError(try CurlHTTPClient().send(HTTPRequest(url: "http://127.0.0.1:\(port)/"))) {
            guard case .notSent = $0 as? HTTPClientError else { return XCTFail("\($0)") }
        }
    }

    func testReadsStatusHeadersAndBody() throws {
        let (fd, port) = try Self.listeningSocket()
        defer { close(fd) }
        Self.serveOnce(fd) { client in
            let reply = "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 5\r\nConnection: close\r\n\r\nslow!"
            _ = Array(reply.utf8).withUnsafeBytes { send(client, $0.baseAddress, $0.count, 0) }
        }
        let response = try CurlHTTPClient().send(HTTPRequest(method: "POST", url: "http://127.0.0.1:\(port)/x",
                                                             headers: [("Content-Type", "application/json")], body: Array("{}".utf8)))
        XCTAssertEqual(response.status, 429)
        XCTAssertEqual(response.headers["retry-after"], "7")
        XCTAssertEqual(response.text, "slow!")
    }

    func testABodyOverTheLimitStopsTheTransfer() throws {
        for declared in [true, false] {
            let (fd, port) = try Self.listeningSocket()
            defer { close(fd) }
            Self.serveOnce(fd) { client in
                let head = declared ? "Content-Length: 100000\r\n" : "Transfer-Encoding: chunked\r\n"
                _ = Array("HTTP/1.1 200 OK\r\n\(head)Connection: close\r\n\r\n".utf8).withUnsafeBytes {
                    send(client, $0.baseAddress, $0.count, 0)
                }
                let chunk = [UInt8](repeating: 0x61, count: 10_000)
                for _ in 0..<10 {
                    let framed = declared ? chunk : Array("2710\r\n".utf8) + chunk + Array("\r\n".utf8)
                    guard framed.withUnsafeBytes({ send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) > 0 else { break }
                }
            }
            XCTAssertThrowsError(try CurlHTTPClient().send(HTTPRequest(url: "http://127.0.0.1:\(port)/big", maxResponseBytes: 25_000))) {
                guard case .responseTooLarge(25_000) = $0 as? HTTPClientError else { return XCTFail("\($0)") }
            }
        }
    }

    /// Accepts one connection on `fd`, reads the request, lets `respond` answer, then closes.
    static func serveOnce(_ fd: Int32, _ respond: @escaping @Sendable (Int32) -> Void) {
        Thread {
            let client = accept(fd, nil, nil)
            var buffer = [UInt8](repeating: 0, count: 4096)
            _ = recv(client, &buffer, buffer.count, 0)
            respond(client)
            close(client)
        }.start()
    }

    static func listeningSocket() throws -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> Int32 in
                guard bind(fd, p, length) == 0 else { return -1 }
                return getsockname(fd, p, &length)
            }
        }
        guard bound == 0, listen(fd, 16) == 0 else { throw NSError(domain: "socket", code: Int(errno)) }
        return (fd, UInt16(bigEndian: address.sin_port))
    }
}
