import Core
import Foundation
import XCTest

/// `hubchat channel add` on an account that exists: what it was given changes, the rest stays.
final class ChannelCommandTests: XCTestCase {
    func testRotatingASecretKeepsTheAccessTokenAndName() throws {
        let f = try OutboundFixture.make()
        let destination = try XCTUnwrap(try TestStack.connection().query(
            "SELECT external_account_id FROM channel_accounts WHERE tenant_id = $1 AND channel = 'LINE'", [f.api.tenantID])
            .first?["external_account_id"])
        let before = try credentials(f, destination)
        XCTAssertNotNil(before.token)
        _ = try DeliveryFailureTests.cli(["channel", "add", "--tenant", f.api.tenantID.uuidString, "--channel", "LINE",
                                          "--external-id", destination, "--secret", "rotated-\(f.tag)"])
        let after = try credentials(f, destination)
        XCTAssertEqual(after.secret, "rotated-\(f.tag)")
        XCTAssertEqual(after.token, before.token, "the access token was not given, so it stays")
        XCTAssertEqual(after.name, before.name)
        // And the account still sends.
        let sent = try f.send(f.lineConversation, lead: f.lineLead, channel: "LINE", ["content": "after the rotation"])
        XCTAssertEqual(try f.settledStatus(try XCTUnwrap(sent.object["messageId"] as? String))["status"], "SENT")
    }

    func credentials(_ f: OutboundFixture, _ destination: String) throws -> (secret: String?, token: String?, name: String?) {
        let row = try XCTUnwrap(try TestStack.connection().query("""
            SELECT credentials->>'channelSecret' AS secret, credentials->>'channelAccessToken' AS token, display_name
              FROM channel_accounts WHERE tenant_id = $1 AND channel = 'LINE' AND external_account_id = $2
            """, [f.api.tenantID, destination]).first)
        return (row["secret"] ?? nil, row["token"] ?? nil, row["display_name"] ?? nil)
    }

    /// `hubchat agent add` run again to rename an agent keeps the role and status it was not given: a deactivated
    /// manager stays a deactivated manager.
    func testRenamingAnAgentKeepsTheirRoleAndStatus() throws {
        let f = try APIFixture.make(leadCount: 0, messageCount: 0)
        _ = try DeliveryFailureTests.cli(["agent", "add", "--tenant", f.tenantID.uuidString, "--email", f.email("gone"),
                                          "--name", "Renamed"])
        let row = try XCTUnwrap(try TestStack.connection().query(
            "SELECT name, role, status FROM sales_agents WHERE id = $1", [f.inactive]).first)
        XCTAssertEqual([row["name"], row["role"], row["status"]], ["Renamed", "MANAGER", "INACTIVE"])
        let added = try DeliveryFailureTests.cli(["agent", "add", "--tenant", f.tenantID.uuidString, "--email",
                                                  "new@\(f.tenantID.uuidString.prefix(8).lowercased()).test", "--name", "New"])
        let fresh = try XCTUnwrap(try TestStack.connection().query(
            "SELECT role, status FROM sales_agents WHERE id = $1::uuid", [added.trimmingCharacters(in: .whitespacesAndNewlines)]).first)
        XCTAssertEqual([fresh["role"], fresh["status"]], ["SALES", "ACTIVE"])
    }
}
