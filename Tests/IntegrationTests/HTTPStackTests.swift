import Core
import Foundation
import XCTest

/// The real path: HTTP → nginx → FastCGI pool → PostgreSQL.
final class HTTPStackTests: XCTestCase {
    func testHealthThroughNginx() throws {
        let response = try TestStack.http("GET", "/api/health")
        XCTAssertEqual(response.status, 200)
        let body = try TestStack.json(response)
        XCTAssertEqual(body["status"] as? String, "ok")
        XCTAssertEqual(body["database"] as? String, "ok")
        XCTAssertEqual(body["version"] as? String, HubChatVersion.current)
        XCTAssertEqual(response.headers["content-type"], "application/json")
        XCTAssertEqual(response.headers["x-request-id"]?.count, 32)
        XCTAssertEqual(response.headers["x-content-type-options"], "nosniff")
        XCTAssertNotNil(response.headers["content-security-policy"])
    }

    func testUnknownRouteAndWrongMethodAnswerJSON() throws {
        let missing = try TestStack.http("GET", "/api/does-not-exist")
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual((try TestStack.json(missing)["error"] as? [String: Any])?["code"] as? String, "not_found")
        let wrong = try TestStack.http("DELETE", "/api/health")
        XCTAssertEqual(wrong.status, 405)
        XCTAssertEqual(wrong.headers["allow"], "GET")
        XCTAssertEqual((try TestStack.json(wrong)["error"] as? [String: Any])?["code"] as? String, "method_not_allowed")
    }

    func testOversizedBodyGetsJSON413() throws {
        let response = try TestStack.http("POST", "/api/health", body: [UInt8](repeating: 0x41, count: 2 * 1024 * 1024))
        XCTAssertEqual(response.status, 413)
        let error = try XCTUnwrap(try TestStack.json(response)["error"] as? [String: Any])
        XCTAssertEqual(error["code"] as? String, "payload_too_large")
        XCTAssertEqual((error["requestId"] as? String)?.count, 32)
    }

    func testMalformedRequestsGetJSON400() throws {
        // A malformed escape reaches the responder, which refuses it.
        let query = try TestStack.http("GET", "/api/health?limit=%zz")
        XCTAssertEqual(query.status, 400)
        XCTAssertEqual((try TestStack.json(query)["error"] as? [String: Any])?["code"] as? String, "invalid_query")

        // A request nginx cannot parse never reaches a responder but still answers JSON.
        let raw = try Self.rawExchange("GET /api/health HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n")
        XCTAssertTrue(raw.hasPrefix("HTTP/1.1 400"), raw)
        XCTAssertTrue(raw.contains("application/json"), raw)
        XCTAssertTrue(raw.contains(#""code":"bad_request""#), raw)

        // Requests whose line nginx cannot parse have no URI at all; they answer JSON too, never an HTML 500.
        for (line, status) in [("GET /api/leads/x%00 HTTP/1.1", "400"), ("GET /% HTTP/1.1", "400"),
                               ("GET /api/../../etc/passwd HTTP/1.1", "400"), ("G@T /api/health HTTP/1.1", "400"),
                               ("GET /api/health HTTP/2.5", "505"),
                               ("GET /" + String(repeating: "a", count: 70_000) + " HTTP/1.1", "414")] {
            let answer = try Self.rawExchange(line + "\r\nHost: x\r\nConnection: close\r\n\r\n")
            XCTAssertTrue(answer.hasPrefix("HTTP/1.1 \(status)"), "\(line.prefix(60)): \(answer.prefix(200))")
            XCTAssertTrue(answer.contains("application/json"), "\(line.prefix(60)): \(answer.prefix(300))")
        }
    }

    func testStaticFilesAreServed() throws {
        let page = try TestStack.http("GET", "/")
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.headers["content-type"]?.hasPrefix("text/html") ?? false)
    }

    func testKilledResponderIsReplacedAndNoRequestFails() throws {
        let before = try TestStack.responderPIDs(pool: "api")
        XCTAssertGreaterThan(before.count, 1)
        let victim = try XCTUnwrap(before.first)
        kill(victim, SIGKILL)
        var statuses: [Int: Int] = [:]
        for _ in 0..<200 { statuses[try TestStack.http("GET", "/api/health").status, default: 0] += 1 }
        XCTAssertEqual(statuses, [200: 200])
        XCTAssertTrue(try TestStack.eventually(within: 5) {
            let now = try TestStack.responderPIDs(pool: "api")
            return now.count == before.count && !now.contains(victim)
        })
    }

    func testRespondersAreRecycledAfterTheirRequestBudget() throws {
        // scripts/test runs the pools with HUBCHAT_FCGI_MAX_REQUESTS=300.
        let before = try TestStack.responderPIDs(pool: "api")
        var failures = 0
        for _ in 0..<1_500 where try TestStack.http("GET", "/api/health").status != 200 { failures += 1 }
        XCTAssertEqual(failures, 0)
        // A recycled responder's replacement starts before it stops: for a moment the pool has one more.
        XCTAssertTrue(try TestStack.eventually(within: 5) { try TestStack.responderPIDs(pool: "api").count == before.count })
        let after = try TestStack.responderPIDs(pool: "api")
        XCTAssertEqual(after.count, before.count)
        XCTAssertNotEqual(after, before, "no responder was recycled")
    }

    func testHealthIs503WhileTheDatabaseIsDownThenRecovers() throws {
        try TestStack.control("pg-stop")
        defer { try? TestStack.control("pg-start") }
        let down = try TestStack.http("GET", "/api/health")
        XCTAssertEqual(down.status, 503)
        XCTAssertEqual(try TestStack.json(down)["database"] as? String, "unavailable")
        // The realtime subscription's authorizer cannot check the membership either: a JSON 503 to retry, not a 500.
        let tenant = try TestStack.value("HUBCHAT_TENANT_ID"), token = try TestStack.value("HUBCHAT_TOKEN")
        let stream = try TestStack.http("GET", "/api/realtime?tenant=\(tenant)&access_token=\(token)",
                                        headers: [("Accept", "text/event-stream")])
        XCTAssertEqual(stream.status, 503, stream.text)
        XCTAssertEqual((try TestStack.json(stream)["error"] as? [String: Any])?["code"] as? String, "unavailable")
        try TestStack.control("pg-start")
        XCTAssertTrue(try TestStack.eventually(within: 10) { try TestStack.http("GET", "/api/health").status == 200 })
    }

    /// A server that answers but refuses writes (a standby after a failover, a managed database that went read-only
    /// when its disk filled): webhooks get a 503 the provider retries, and health says why.
    func testAReadOnlyDatabaseAnswers503AndHealthSaysSo() throws {
        try TestStack.control("pg-read-only")
        defer { try? TestStack.control("pg-read-write") }
        XCTAssertTrue(try TestStack.eventually(within: 5) { try TestStack.http("GET", "/api/health").status == 503 })
        XCTAssertEqual(try TestStack.json(try TestStack.http("GET", "/api/health"))["database"] as? String, "read_only")
        let body = WebhookIngestTests.lineBody(destination: try TestStack.value("LINE_DESTINATION"), events: [
            WebhookIngestTests.lineMessage(user: "U" + WebhookIngestTests.hex(16), id: "ro", message: #"{"id":"ro1","type":"text","text":"hi"}"#),
        ])
        let webhook = try TestStack.http("POST", "/api/webhook/line", body: body, headers: [
            ("Content-Type", "application/json"),
            ("x-line-signature", WebhookIngestTests.lineSignature(body, secret: try TestStack.value("LINE_CHANNEL_SECRET"))),
        ])
        XCTAssertEqual(webhook.status, 503, webhook.text)
        XCTAssertEqual((try TestStack.json(webhook)["error"] as? [String: Any])?["code"] as? String, "database_unavailable")
        let ready = try CurlHTTPClient().send(HTTPRequest(method: "GET", url: try TestStack.value("WORKER_READY_URL")))
        XCTAssertEqual(ready.status, 503)
        XCTAssertTrue(String(decoding: ready.body, as: UTF8.self).contains("database is read-only"))
        try TestStack.control("pg-read-write")
        XCTAssertTrue(try TestStack.eventually(within: 10) { try TestStack.http("GET", "/api/health").status == 200 })
    }

    /// Sends bytes over a plain TCP connection and returns what came back.
    static func rawExchange(_ request: String) throws -> String {
        let url = URL(string: try TestStack.baseURL)!
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(url.port!).bigEndian)
        inet_pton(AF_INET, url.host!, &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        XCTAssertEqual(connected, 0)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = Array(request.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            received += buffer[0..<n]
        }
        return String(decoding: received, as: UTF8.self)
    }
}
