import Core
import Foundation
import XCTest

/// A tenant with LINE, Facebook and Instagram accounts (tokens in the database) and one conversation of each
/// kind: LINE, Messenger DM, Facebook comment, Instagram. Tests send through the API and read what the provider
/// simulator received.
struct OutboundFixture {
    var api: APIFixture
    let tag: String
    let lineConversation: UUID, lineLead: UUID, lineUser: String
    let dmConversation: UUID, dmLead: UUID, psid: String
    let commentConversation: UUID, commentLead: UUID, commentID: String
    let igConversation: UUID, igLead: UUID, igsid: String

    static func make(lastInboundHoursAgo: Double = 1) throws -> OutboundFixture {
        let api = try APIFixture.make(leadCount: 0, messageCount: 0)
        let db = try TestStack.connection()
        let t = api.tenantID
        let tag = String(t.uuidString.prefix(8)).lowercased()
        for (channel, external, credentials) in [
            ("LINE", "Ubot\(tag)", #"{"channelSecret":"s","channelAccessToken":"line-token-\#(tag)"}"#),
            ("FACEBOOK", "page\(tag)", #"{"appSecret":"s","pageAccessToken":"fb-token-\#(tag)"}"#),
            ("INSTAGRAM", "ig\(tag)", #"{"appSecret":"s","pageAccessToken":"ig-token-\#(tag)"}"#),
        ] {
            try db.query("""
                INSERT INTO channel_accounts (tenant_id, channel, external_account_id, credentials) VALUES ($1, $2, $3, $4::jsonb)
                """, [t, channel, external, PostgresJSON(credentials)])
        }
        func conversation(_ channel: String, thread: String, user: String, type: String?, comment: String?) throws -> (UUID, UUID) {
            let lead: UUID = try db.query("""
                INSERT INTO leads (tenant_id, source_channel, external_user_id, name) VALUES ($1, $2, $3, $3) RETURNING id
                """, [t, channel, user]).first!.decode("id")
            let id: UUID = try db.query("""
                INSERT INTO conversations (tenant_id, lead_id, channel, channel_thread_id, provider_thread_type,
                                           provider_comment_id, provider_external_user_id, provider_page_id, last_inbound_at,
                                           line_reply_token, line_reply_token_received_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() - make_interval(secs => $9::float8),
                        CASE WHEN $3 = 'LINE' THEN 'expired-token-' || $4 END, now())
                RETURNING id
                """, [t, lead, channel, thread, type, comment, channel == "LINE" ? nil : user,
                      channel == "FACEBOOK" ? "page\(tag)" : nil, lastInboundHoursAgo * 3600]).first!.decode("id")
            return (id, lead)
        }
        let lineUser = "U\(tag)line"
        let (line, lineLead) = try conversation("LINE", thread: lineUser, user: lineUser, type: nil, comment: nil)
        let psid = "psid\(tag)"
        let (dm, dmLead) = try conversation("FACEBOOK", thread: "user:\(psid)", user: psid, type: "MESSENGER_DM", comment: nil)
        let commentID = "post\(tag)_comment1"
        let (comment, commentLead) = try conversation("FACEBOOK", thread: "comment:\(commentID)", user: "commenter\(tag)",
                                                      type: "FACEBOOK_COMMENT", comment: commentID)
        let igsid = "igsid\(tag)"
        let (ig, igLead) = try conversation("INSTAGRAM", thread: "ig:user:\(igsid)", user: igsid, type: nil, comment: nil)
        return OutboundFixture(api: api, tag: tag, lineConversation: line, lineLead: lineLead, lineUser: lineUser,
                               dmConversation: dm, dmLead: dmLead, psid: psid, commentConversation: comment,
                               commentLead: commentLead, commentID: commentID, igConversation: ig, igLead: igLead, igsid: igsid)
    }

    /// `POST /api/messages/send` as the sales agent.
    func send(_ conversation: UUID, lead: UUID, channel: String, _ fields: [String: Any] = [:],
              idempotencyKey: String? = nil) throws -> HTTPResponse {
        var body: [String: Any] = ["conversationId": conversation.uuidString, "leadId": lead.uuidString, "channel": channel,
                                   "type": "text"]
        for (k, v) in fields { body[k] = v }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
        var headers = [("Authorization", "Bearer " + (try api.token("sales"))),
                       ("x-tenant-id", api.tenantID.uuidString), ("Content-Type", "application/json")]
        if let idempotencyKey { headers.append(("Idempotency-Key", idempotencyKey)) }
        return try TestStack.http("POST", "/api/messages/send", body: Array(json.utf8), headers: headers)
    }

    /// The message's delivery status once it is no longer QUEUED (or QUEUED after `seconds`).
    func settledStatus(_ messageID: String, within seconds: Double = 10) throws -> [String: String?] {
        let db = try TestStack.connection()
        var row: [String: String?] = [:]
        _ = try TestStack.eventually(within: seconds) {
            let r = try db.query("""
                SELECT delivery_status, provider_message_id, error_code, error_reason FROM messages WHERE id = $1::uuid
                """, [messageID]).first
            row = ["status": r?["delivery_status"], "providerId": r?["provider_message_id"],
                   "errorCode": r?["error_code"], "errorReason": r?["error_reason"]]
            return r?["delivery_status"] != "QUEUED"
        }
        return row
    }

    /// What the simulator received for this fixture (its tokens and ids carry the tag).
    func providerRequests(_ path: String? = nil) throws -> [[String: Any]] {
        try TestStack.simulatorRequests().filter { request in
            let text = String(decoding: try JSONSerialization.data(withJSONObject: request), as: UTF8.self)
            return text.contains(tag) && (path.map { (request["path"] as? String)?.hasSuffix($0) ?? false } ?? true)
        }
    }

    /// Clears every simulator fault (best effort: a test's cleanup).
    static func clearFaults() {
        guard let simulator = try? TestStack.value("SIMULATOR_URL") else { return }
        _ = try? CurlHTTPClient().send(HTTPRequest(method: "DELETE", url: simulator + "/__faults"))
    }

    static func fault(_ fault: [String: Any]) throws {
        let body = try JSONSerialization.data(withJSONObject: fault)
        _ = try CurlHTTPClient().send(HTTPRequest(method: "POST", url: try TestStack.value("SIMULATOR_URL") + "/__faults",
                                                  headers: [("Content-Type", "application/json")], body: Array(body)))
    }
}
