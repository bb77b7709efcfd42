import Core
import Foundation
import XCTest

/// Who may call the REST API, and what another tenant's ids reveal (nothing).
final class AuthAndTenancyTests: XCTestCase {
    func testBadTokensAre401() throws {
        let f = try APIFixture.make(leadCount: 1, messageCount: 0)
        let now = Int(Date().timeIntervalSince1970)
        let email = f.email("admin")
        let tokens: [String: String] = [
            "expired": SignedToken.hs256(#"{"email":"\#(email)","aud":"authenticated","exp":\#(now - 300)}"#),
            "wrong signature": SignedToken.hs256(#"{"email":"\#(email)","aud":"authenticated","exp":\#(now + 300)}"#,
                                                 secret: "not-the-secret"),
            "wrong audience": SignedToken.hs256(#"{"email":"\#(email)","aud":"another-app","exp":\#(now + 300)}"#),
            "not yet valid": SignedToken.hs256(#"{"email":"\#(email)","aud":"authenticated","exp":\#(now + 900),"nbf":\#(now + 600)}"#),
            "alg none": Base64URL.encode(Array(#"{"alg":"none","typ":"JWT"}"#.utf8)) + "."
                + Base64URL.encode(Array(#"{"email":"\#(email)","aud":"authenticated","exp":\#(now + 300)}"#.utf8)) + ".",
            "garbage": "abc.def.ghi",
        ]
        for (name, token) in tokens {
            let response = try f.call("GET", "/api/leads", token: token)
            XCTAssertEqual(response.status, 401, "\(name): \(response.text)")
            XCTAssertNil(response.object["data"], name)
        }
        let missing = try TestStack.http("GET", "/api/leads", headers: [("x-tenant-id", f.tenantID.uuidString)])
        XCTAssertEqual(missing.status, 401)
        XCTAssertEqual(missing.errorCode, "missing_token")
    }

    func testTenantHeaderIsRequiredAndChecked() throws {
        let f = try APIFixture.make(leadCount: 1, messageCount: 0)
        let noTenant = try TestStack.http("GET", "/api/leads", headers: [("Authorization", "Bearer " + (try f.token("admin")))])
        XCTAssertEqual(noTenant.status, 400)
        XCTAssertEqual(noTenant.errorCode, "missing_tenant")
        let badTenant = try TestStack.http("GET", "/api/leads", headers: [
            ("Authorization", "Bearer " + (try f.token("admin"))), ("x-tenant-id", "not-a-uuid")])
        XCTAssertEqual(badTenant.status, 400)
        XCTAssertTrue((badTenant.error["message"] as? String)?.contains("x-tenant-id") ?? false, badTenant.text)
    }

    func testMembershipAndRoles() throws {
        let f = try APIFixture.make(leadCount: 1, messageCount: 0)
        let other = try APIFixture.make(leadCount: 1, messageCount: 0)
        // A valid token of another tenant's admin, naming this tenant.
        let stranger = try f.call("GET", "/api/leads", token: try other.token("admin"))
        XCTAssertEqual(stranger.status, 403)
        XCTAssertEqual(try f.call("GET", "/api/leads", as: "gone").status, 403, "INACTIVE agents are refused")
        XCTAssertEqual(try f.call("GET", "/api/leads", as: "sales").status, 200)
        XCTAssertEqual(try f.call("GET", "/api/dashboard/metrics", as: "sales").status, 403)
        XCTAssertEqual(try f.call("GET", "/api/dashboard/metrics", as: "manager").status, 200)
        XCTAssertEqual(try f.call("GET", "/api/dashboard/metrics", as: "admin").status, 200)
        let assign = #"{"salesAgentId":"\#(f.sales.uuidString)"}"#
        XCTAssertEqual(try f.call("POST", "/api/leads/\(f.leads[0])/assign", as: "sales", json: assign).status, 403)
        XCTAssertEqual(try f.call("POST", "/api/leads/\(f.leads[0])/assign", as: "sales", json: #"{"mode":"SOMETIMES"}"#).status,
                       403, "the role is refused before the body is read")
        XCTAssertEqual(try f.call("POST", "/api/leads/\(f.leads[0])/assign", as: "manager", json: assign).status, 200)
    }

    func testMeSaysWhoTheCallerIs() throws {
        let f = try APIFixture.make(leadCount: 0, messageCount: 0)
        let me = try f.call("GET", "/api/me", as: "sales")
        XCTAssertEqual(me.status, 200, me.text)
        XCTAssertEqual(me.object["agentId"] as? String, f.sales.uuidString.lowercased())
        XCTAssertEqual(me.object["role"] as? String, "SALES")
        XCTAssertEqual(me.object["name"] as? String, "sales")
        XCTAssertEqual(me.object["email"] as? String, f.email("sales"))
        XCTAssertEqual(try f.call("GET", "/api/me", as: "gone").status, 403)
    }

    func testUserMetadataGrantsNothingAndAppMetadataOnlyForTheTenantItNames() throws {
        let f = try APIFixture.make(leadCount: 1, messageCount: 0)
        let exp = Int(Date().timeIntervalSince1970) + 300
        let tenant = f.tenantID.uuidString.lowercased()
        let userClaimed = SignedToken.hs256(
            #"{"email":"outsider@x.test","aud":"authenticated","exp":\#(exp),"user_metadata":{"role":"ADMIN","tenant_id":"\#(tenant)"}}"#)
        XCTAssertEqual(try f.call("GET", "/api/leads", token: userClaimed).status, 403)
        let unscoped = SignedToken.hs256(
            #"{"email":"outsider@x.test","aud":"authenticated","exp":\#(exp),"app_metadata":{"role":"ADMIN"}}"#)
        XCTAssertEqual(try f.call("GET", "/api/leads", token: unscoped).status, 403)
        let scoped = SignedToken.hs256(
            #"{"email":"ops@x.test","aud":"authenticated","exp":\#(exp),"app_metadata":{"role":"MANAGER","tenant_id":"\#(tenant)"}}"#)
        XCTAssertEqual(try f.call("GET", "/api/dashboard/metrics", token: scoped).status, 200)
        let otherTenant = try APIFixture.make(leadCount: 0, messageCount: 0)
        XCTAssertEqual(try otherTenant.call("GET", "/api/leads", token: scoped).status, 403)
    }

    func testAnotherTenantsIdsAre404AndNeverListed() throws {
        let a = try APIFixture.make(leadCount: 2, messageCount: 2)
        let b = try APIFixture.make(leadCount: 2, messageCount: 2)
        let lead = b.leads[0], conversation = b.conversations[0]
        for (method, path, json) in [
            ("GET", "/api/leads/\(lead)", nil),
            ("PATCH", "/api/leads/\(lead)", #"{"status":"LOST"}"#),
            ("POST", "/api/leads/\(lead)/assign", #"{"salesAgentId":"\#(a.sales.uuidString)"}"#),
            ("GET", "/api/conversations/\(conversation)/messages", nil),
            ("GET", "/api/conversations/\(conversation)", nil),
            ("GET", "/api/leads/\(lead)/activity", nil),
            ("POST", "/api/conversations/\(conversation)/mark-read", nil),
        ] as [(String, String, String?)] {
            let response = try a.call(method, path, json: json)
            XCTAssertEqual(response.status, 404, "\(method) \(path): \(response.text)")
            XCTAssertFalse(response.text.contains("Lead 0") || response.text.contains("m0"), response.text)
        }
        // Assigning A's lead to B's agent reads like a missing agent.
        let crossAgent = try a.call("POST", "/api/leads/\(a.leads[0])/assign", json: #"{"salesAgentId":"\#(b.sales.uuidString)"}"#)
        XCTAssertEqual(crossAgent.status, 400)
        // Filters naming B's ids find nothing.
        XCTAssertEqual(try a.call("GET", "/api/conversations?leadId=\(lead)").data.count, 0)
        XCTAssertEqual(try a.call("GET", "/api/leads?assignedSalesId=\(b.sales)").data.count, 0)
        // Nothing of B changed, and A's lists hold only A's rows.
        let db = try TestStack.connection()
        XCTAssertEqual(try db.query("SELECT status FROM leads WHERE id = $1", [lead]).first?["status"], "NEW")
        XCTAssertEqual(try db.query("SELECT unread_count FROM conversations WHERE id = $1", [conversation]).first?["unread_count"], "2")
        let listed = Set(try a.call("GET", "/api/leads?limit=100").data.compactMap { $0["id"] as? String })
        XCTAssertEqual(listed, Set(a.leads.map { $0.uuidString.lowercased() }))
        let threads = Set(try a.call("GET", "/api/conversations?limit=100").data.compactMap { $0["id"] as? String })
        XCTAssertEqual(threads, Set(a.conversations.map { $0.uuidString.lowercased() }))
    }

    func testRowLevelSecurityHidesOtherTenantsEvenFromAQueryThatForgetsTheFilter() throws {
        let a = try APIFixture.make(leadCount: 2, messageCount: 0)
        _ = try APIFixture.make(leadCount: 2, messageCount: 0)
        let db = try TestStack.connection(systemScope: false)
        let seen: Int = try db.transaction(tenant: a.tenantID) {
            try db.query("SELECT count(*)::int8 AS n, count(DISTINCT tenant_id)::int8 AS t FROM leads").first!.decode("t")
        }
        XCTAssertEqual(seen, 1)
    }
}
