import Core
import Crypto
import Foundation
import XCTest

/// A tenant of its own for one test: agents of every role, leads with conversations and messages, and tokens.
/// Seeded straight into PostgreSQL (the REST API has no create routes for these), then driven through nginx.
struct APIFixture {
    let tenantID: UUID
    let admin: UUID, manager: UUID, sales: UUID, otherSales: UUID, inactive: UUID
    var leads: [UUID] = []
    var conversations: [UUID] = []
    /// Messages of conversations[0], oldest first.
    var messages: [UUID] = []

    static let secret: String = ProcessInfo.processInfo.environment["HUBCHAT_JWT_SECRET"] ?? ""

    /// `leadCount` leads, each with one LINE conversation whose last message is `i` minutes old (so lead 0 and
    /// conversation 0 are the newest), and `messageCount` messages in conversation 0.
    static func make(leadCount: Int = 3, messageCount: Int = 5) throws -> APIFixture {
        _ = try TestStack.baseURL
        let db = try TestStack.connection()
        let tenant = UUID()
        let tag = tenant.uuidString.prefix(8).lowercased()
        try db.query("INSERT INTO tenants (id, name) VALUES ($1, $2)", [tenant, "Test \(tag)"])
        func agent(_ name: String, _ role: String, _ status: String = "ACTIVE") throws -> UUID {
            try db.query("""
                INSERT INTO sales_agents (tenant_id, name, email, role, status) VALUES ($1, $2, $3, $4, $5) RETURNING id
                """, [tenant, name, "\(name)@\(tag).test", role, status]).first!.decode("id")
        }
        var f = APIFixture(tenantID: tenant, admin: try agent("admin", "ADMIN"), manager: try agent("manager", "MANAGER"),
                           sales: try agent("sales", "SALES"), otherSales: try agent("sales2", "SALES"),
                           inactive: try agent("gone", "MANAGER", "INACTIVE"))
        for i in 0..<leadCount {
            let contact: UUID = try db.query("""
                INSERT INTO contacts (tenant_id, display_name, profile_image_url) VALUES ($1, $2, $3) RETURNING id
                """, [tenant, "Contact \(i)", "https://img.example/c\(i).png"]).first!.decode("id")
            let identity: UUID = try db.query("""
                INSERT INTO contact_identities (tenant_id, contact_id, channel, external_user_id, display_name, profile_image_url)
                VALUES ($1, $2, 'LINE', $3, $4, $5) RETURNING id
                """, [tenant, contact, "U\(tag)\(i)", "Identity \(i)", "https://img.example/i\(i).png"]).first!.decode("id")
            let lead: UUID = try db.query("""
                INSERT INTO leads (tenant_id, contact_id, source_channel, external_user_id, name, updated_at)
                VALUES ($1, $2, 'LINE', $3, $4, now() - make_interval(mins => $5)) RETURNING id
                """, [tenant, contact, "U\(tag)\(i)", "Lead \(i)", i]).first!.decode("id")
            let conversation: UUID = try db.query("""
                INSERT INTO conversations (tenant_id, lead_id, contact_id, contact_identity_id, channel, channel_thread_id,
                                           participant_display_name, participant_profile_image_url, last_message_at,
                                           last_message_preview, last_message_type, last_message_direction, unread_count)
                VALUES ($1, $2, $3, $4, 'LINE', $5, $6, $7, now() - make_interval(mins => $8), $9, 'TEXT', 'INBOUND', 2)
                RETURNING id
                """, [tenant, lead, contact, identity, "U\(tag)\(i)", "Participant \(i)", "https://img.example/p\(i).png",
                      i, "hello \(i)"]).first!.decode("id")
            f.leads.append(lead)
            f.conversations.append(conversation)
        }
        for m in 0..<messageCount where !f.conversations.isEmpty {
            f.messages.append(try f.insertMessage(db, conversation: f.conversations[0], secondsAgo: 600 - m * 10, text: "m\(m)"))
        }
        return f
    }

    func insertMessage(_ db: PostgresConnection, conversation: UUID, secondsAgo: Int, text: String) throws -> UUID {
        try db.query("""
            INSERT INTO messages (tenant_id, conversation_id, channel, direction, sender_type, content, delivery_status,
                                  created_at)
            VALUES ($1, $2, 'LINE', 'INBOUND', 'CUSTOMER', $3, 'RECEIVED', now() - make_interval(secs => $4))
            RETURNING id
            """, [tenantID, conversation, text, secondsAgo]).first!.decode("id")
    }

    func email(_ name: String) -> String { "\(name)@\(tenantID.uuidString.prefix(8).lowercased()).test" }

    func token(_ name: String) throws -> String {
        try JWTMinter(secret: Self.secret).mint(subject: name, email: email(name), tenantID: nil, ttlSeconds: 600)
    }

    /// A request as `agent` (admin, manager, sales, sales2, gone) of this tenant.
    func call(_ method: String, _ path: String, as agent: String = "admin", json: String? = nil,
              tenant: UUID? = nil, token: String? = nil) throws -> HTTPResponse {
        var headers = [("Authorization", "Bearer " + (try token ?? self.token(agent))),
                       ("x-tenant-id", (tenant ?? tenantID).uuidString.lowercased())]
        if json != nil { headers.append(("Content-Type", "application/json")) }
        return try TestStack.http(method, path, body: Array((json ?? "").utf8), headers: headers)
    }
}

extension HTTPResponse {
    var object: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
    var data: [[String: Any]] { object["data"] as? [[String: Any]] ?? [] }
    var nextCursor: String? { (object["pageInfo"] as? [String: Any])?["nextCursor"] as? String }
    var errorCode: String? { (object["error"] as? [String: Any])?["code"] as? String }
    var error: [String: Any] { object["error"] as? [String: Any] ?? [:] }
}

/// Signs arbitrary claims with the stack's HS256 secret (for expired, foreign-audience and similar tokens).
enum SignedToken {
    static func hs256(header: String = #"{"alg":"HS256","typ":"JWT"}"#, _ claims: String, secret: String = APIFixture.secret) -> String {
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(claims.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return input + "." + Base64URL.encode(Array(mac))
    }
}
