import Core
import Foundation
import XCTest

/// Live updates through nginx's nchan: a browser subscribes with its token; only its tenant's events reach it.
final class RealtimeTests: XCTestCase {
    /// An EventSource connection read with plain sockets: the status line, then `data:` lines as they come.
    final class Subscription {
        let fd: Int32
        private(set) var received = ""

        init(tenant: UUID, token: String) throws {
            let url = URL(string: try TestStack.baseURL)!
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(url.port!).bigEndian)
            inet_pton(AF_INET, url.host!, &address.sin_addr)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { throw NSError(domain: "connect", code: Int(errno)) }
            var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let request = "GET /api/realtime?tenant=\(tenant.uuidString.lowercased())&access_token=\(token) HTTP/1.1\r\n"
                + "Host: localhost\r\nAccept: text/event-stream\r\n\r\n"
            _ = Array(request.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        }

        deinit { close(fd) }

        /// Reads for up to `seconds`, until `condition` holds on what arrived.
        @discardableResult
        func read(for seconds: Double, until condition: (String) -> Bool = { _ in false }) -> String {
            let deadline = Date().addingTimeInterval(seconds)
            var buffer = [UInt8](repeating: 0, count: 8192)
            while Date() < deadline && !condition(received) {
                let n = recv(fd, &buffer, buffer.count, 0)
                if n > 0 { received += String(decoding: buffer[0..<n], as: UTF8.self) } else if n == 0 { break }
            }
            return received
        }

        var status: Int? { Int(received.split(separator: " ").dropFirst().first ?? "") }
    }

    func testATenantsDashboardGetsItsOwnEventsAndNoOneElses() throws {
        let a = try APIFixture.make(leadCount: 1, messageCount: 0)
        let b = try APIFixture.make(leadCount: 1, messageCount: 0)
        let streamA = try Subscription(tenant: a.tenantID, token: try a.token("sales"))
        let streamB = try Subscription(tenant: b.tenantID, token: try b.token("sales"))
        streamA.read(for: 2) { $0.contains("\r\n\r\n") }
        streamB.read(for: 2) { $0.contains("\r\n\r\n") }
        XCTAssertEqual(streamA.status, 200, streamA.received)
        XCTAssertTrue(streamA.received.lowercased().contains("content-type: text/event-stream"), streamA.received)

        XCTAssertEqual(try b.call("POST", "/api/conversations/\(b.conversations[0])/mark-read", as: "sales").status, 200)
        XCTAssertEqual(try a.call("POST", "/api/conversations/\(a.conversations[0])/mark-read", as: "sales").status, 200)
        let started = Date()
        let got = streamA.read(for: 3) { $0.contains(a.conversations[0].uuidString.lowercased()) }
        XCTAssertTrue(got.contains("\"type\":\"conversation.read\""), got)
        XCTAssertTrue(got.contains(a.conversations[0].uuidString.lowercased()), got)
        XCTAssertLessThan(Date().timeIntervalSince(started), 1.0, "within a second")
        XCTAssertFalse(got.contains(b.tenantID.uuidString.lowercased()), "tenant B's event reached tenant A: \(got)")
        XCTAssertFalse(got.contains(b.conversations[0].uuidString.lowercased()))
        let gotB = streamB.read(for: 1) { $0.contains(b.conversations[0].uuidString.lowercased()) }
        XCTAssertTrue(gotB.contains(b.conversations[0].uuidString.lowercased()), gotB)
        XCTAssertFalse(gotB.contains(a.tenantID.uuidString.lowercased()))

        // A lead change reaches the dashboard too.
        XCTAssertEqual(try a.call("PATCH", "/api/leads/\(a.leads[0])", json: #"{"status":"ASSIGNED"}"#).status, 200)
        XCTAssertTrue(streamA.read(for: 3) { $0.contains("lead.updated") }.contains(a.leads[0].uuidString.lowercased()))
    }

    /// Deactivating an agent ends the streams their open dashboards hold, not only their next subscription: the
    /// stream closes, and subscribing again is refused. Another agent's stream of the same tenant goes on.
    func testDeactivatingAnAgentEndsTheirOpenStream() throws {
        let f = try APIFixture.make(leadCount: 1, messageCount: 0)
        let sales = try Subscription(tenant: f.tenantID, token: try f.token("sales"))
        let manager = try Subscription(tenant: f.tenantID, token: try f.token("manager"))
        sales.read(for: 2) { $0.contains("\r\n\r\n") }
        manager.read(for: 2) { $0.contains("\r\n\r\n") }
        XCTAssertEqual(sales.status, 200, sales.received)
        XCTAssertEqual(manager.status, 200, manager.received)
        let token = try f.token("sales")

        _ = try DeliveryFailureTests.cli(["agent", "add", "--tenant", f.tenantID.uuidString, "--email", f.email("sales"),
                                          "--name", "sales", "--role", "SALES", "--status", "INACTIVE"])
        let ended = sales.read(for: 5) { $0.contains("410") }
        XCTAssertTrue(ended.contains("410"), "the deactivated agent's stream goes on: \(ended)")
        XCTAssertEqual(try Subscription(tenant: f.tenantID, token: token).read(for: 2) { $0.contains("\r\n\r\n") }
                           .split(separator: " ").dropFirst().first, "403")

        XCTAssertEqual(try f.call("PATCH", "/api/leads/\(f.leads[0])", as: "manager", json: #"{"note":"still live"}"#).status, 200)
        XCTAssertTrue(manager.read(for: 3) { $0.contains("lead.updated") }.contains("lead.updated"),
                      "another agent's stream of the tenant still carries events")
    }

    func testSubscribingNeedsAValidTokenOfAMemberOfThatTenant() throws {
        let a = try APIFixture.make(leadCount: 0, messageCount: 0)
        let b = try APIFixture.make(leadCount: 0, messageCount: 0)
        for (tenant, token, expected) in [(a.tenantID, try b.token("admin"), 403), (a.tenantID, "forged.token.value", 401),
                                          (a.tenantID, try a.token("gone"), 403)] {
            let stream = try Subscription(tenant: tenant, token: token)
            stream.read(for: 2) { $0.contains("\r\n\r\n") }
            XCTAssertEqual(stream.status, expected, stream.received)
        }
        // Another tenant's channel id cannot be smuggled in through the tenant parameter.
        let smuggled = try Subscription(tenant: a.tenantID, token: try a.token("admin"))
        _ = smuggled
        let direct = try TestStack.http("GET", "/api/realtime/authorize")
        XCTAssertEqual(direct.status, 404, "the authorize route is internal to nginx")
        // Refusals are JSON like every other error, and a malformed tenant id is a refusal, not a server error.
        let stream = [("Accept", "text/event-stream")]
        let forged = try TestStack.http("GET", "/api/realtime?tenant=\(a.tenantID.uuidString.lowercased())&access_token=forged",
                                        headers: stream)
        XCTAssertEqual(forged.status, 401)
        XCTAssertTrue(forged.text.contains(#""code":"unauthorized""#), forged.text)
        let malformed = try TestStack.http("GET", "/api/realtime?tenant=not-a-uuid&access_token=\(try a.token("admin"))",
                                           headers: stream)
        XCTAssertEqual(malformed.status, 403, malformed.text)
        XCTAssertTrue(malformed.text.contains(#""code":"forbidden""#), malformed.text)
        // A request that is neither an EventSource nor a WebSocket is told how to subscribe (nchan's own answer is an
        // empty 403).
        let plain = try TestStack.http("GET", "/api/realtime?tenant=\(a.tenantID.uuidString.lowercased())&access_token=\(try a.token("admin"))")
        XCTAssertEqual(plain.status, 406, plain.text)
        XCTAssertEqual(plain.headers["content-type"], "application/json")
        XCTAssertTrue(plain.text.contains(#""code":"not_acceptable""#), plain.text)
    }

    func testAnInboundMessageAndItsDeliveryReachTheDashboard() throws {
        let f = try OutboundFixture.make()
        let stream = try Subscription(tenant: f.api.tenantID, token: try f.api.token("sales"))
        stream.read(for: 2) { $0.contains("\r\n\r\n") }
        let sent = try f.send(f.lineConversation, lead: f.lineLead, channel: "LINE", ["content": "live"])
        let id = try XCTUnwrap(sent.object["messageId"] as? String)
        let got = stream.read(for: 5) { $0.contains("\"status\":\"SENT\"") }
        XCTAssertTrue(got.contains("message.created"), got)
        XCTAssertTrue(got.contains("message.status") && got.contains(id), got)
    }
}
