import Core
import Foundation
import XCTest

final class ConversationsAPITests: XCTestCase {
    func testTheListCarriesEverythingTheInboxShows() throws {
        let f = try APIFixture.make(leadCount: 3, messageCount: 0)
        let response = try f.call("GET", "/api/conversations", as: "sales")
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(response.data.compactMap { $0["id"] as? String }, f.conversations.map { $0.uuidString.lowercased() })
        let first = response.data[0]
        XCTAssertEqual(first["participantDisplayName"] as? String, "Participant 0")
        XCTAssertEqual(first["participantProfileImageUrl"] as? String, "https://img.example/p0.png")
        XCTAssertEqual(first["contactDisplayName"] as? String, "Contact 0")
        XCTAssertEqual(first["contactProfileImageUrl"] as? String, "https://img.example/c0.png")
        XCTAssertEqual(first["contactIdentityDisplayName"] as? String, "Identity 0")
        XCTAssertEqual(first["contactIdentityProfileImageUrl"] as? String, "https://img.example/i0.png")
        XCTAssertEqual(first["leadId"] as? String, f.leads[0].uuidString.lowercased())
        XCTAssertEqual(first["leadStatus"] as? String, "NEW")
        XCTAssertEqual(first["lastMessagePreview"] as? String, "hello 0")
        XCTAssertEqual(first["unreadCount"] as? Int, 2)
        XCTAssertEqual(try f.call("GET", "/api/conversations?channel=line&status=OPEN").data.count, 3)
        XCTAssertEqual(try f.call("GET", "/api/conversations?status=CLOSED").data.count, 0)
        XCTAssertEqual(try f.call("GET", "/api/conversations?leadId=\(f.leads[1])").data.count, 1)
        XCTAssertEqual(try f.call("GET", "/api/conversations?status=open").status, 200)
        let one = try f.call("GET", "/api/conversations/\(f.conversations[2])")
        XCTAssertEqual(one.status, 200, one.text)
        XCTAssertEqual(one.object["participantDisplayName"] as? String, "Participant 2")
        XCTAssertEqual(try f.call("GET", "/api/conversations/\(UUID())").status, 404)
        XCTAssertEqual(try f.call("GET", "/api/conversations?status=ARCHIVED").status, 400)
        XCTAssertEqual(try f.call("GET", "/api/conversations?assignedSalesId=someone").status, 400)
    }

    func testMessagesNewestFirstAndMarkRead() throws {
        let f = try APIFixture.make(leadCount: 2, messageCount: 5)
        let thread = try f.call("GET", "/api/conversations/\(f.conversations[0])/messages?limit=3")
        XCTAssertEqual(thread.status, 200, thread.text)
        XCTAssertEqual(thread.data.compactMap { $0["content"] as? String }, ["m4", "m3", "m2"])
        let rest = try f.call("GET", "/api/conversations/\(f.conversations[0])/messages?limit=3&cursor=\(try XCTUnwrap(thread.nextCursor))")
        XCTAssertEqual(rest.data.compactMap { $0["content"] as? String }, ["m1", "m0"])
        XCTAssertNil(rest.nextCursor)
        XCTAssertEqual(rest.data[0]["deliveryStatus"] as? String, "RECEIVED")

        XCTAssertTrue(rest.data[0].keys.contains("mediaStatus") && rest.data[0]["mediaStatus"] is NSNull)
        XCTAssertTrue(rest.data[0]["revision"] is NSNull)
        // An image still being fetched, and messages the customer unsent or edited, say so.
        let db = try TestStack.connection()
        try db.query("""
            UPDATE messages SET metadata = metadata || CASE content WHEN 'm0' THEN '{"mediaStatus":"pending"}'::jsonb
                                                                     WHEN 'm1' THEN '{"unsent":true}'::jsonb
                                                                     ELSE '{"edited":true}'::jsonb END
             WHERE tenant_id = $1 AND conversation_id = $2 AND content IN ('m0', 'm1', 'm2')
            """, [f.tenantID, f.conversations[0]])
        let revised = try f.call("GET", "/api/conversations/\(f.conversations[0])/messages").data
        let byContent = Dictionary(uniqueKeysWithValues: revised.map { ($0["content"] as? String ?? "", $0) })
        XCTAssertEqual(byContent["m0"]?["mediaStatus"] as? String, "PENDING")
        XCTAssertEqual(byContent["m1"]?["revision"] as? String, "UNSENT")
        XCTAssertEqual(byContent["m2"]?["revision"] as? String, "EDITED")
        XCTAssertTrue(byContent["m3"]?["revision"] is NSNull)

        let empty = try f.call("GET", "/api/conversations/\(f.conversations[1])/messages")
        XCTAssertEqual(empty.status, 200)
        XCTAssertEqual(empty.data.count, 0)
        XCTAssertEqual(try f.call("GET", "/api/conversations/\(UUID())/messages").status, 404)

        let marked = try f.call("POST", "/api/conversations/\(f.conversations[0])/mark-read", as: "sales")
        XCTAssertEqual(marked.status, 200, marked.text)
        XCTAssertEqual(marked.object["unreadCount"] as? Int, 0)
        XCTAssertEqual(try f.call("GET", "/api/conversations?leadId=\(f.leads[0])").data.first?["unreadCount"] as? Int, 0)
        XCTAssertNotNil(try f.call("GET", "/api/conversations?leadId=\(f.leads[0])").data.first?["lastReadAt"] as? String)
        let unknown = try f.call("POST", "/api/conversations/\(UUID())/mark-read")
        XCTAssertEqual(unknown.status, 404)
        XCTAssertEqual(unknown.errorCode, "not_found")
    }

    /// Keyset pages stay exact while new rows arrive at the top: no row twice, none skipped, even for rows that
    /// share a timestamp.
    func testPaginationIsStableWhileNewRowsArrive() throws {
        let f = try APIFixture.make(leadCount: 0, messageCount: 0)
        let db = try TestStack.connection()
        let lead: UUID = try db.query("""
            INSERT INTO leads (tenant_id, source_channel, external_user_id) VALUES ($1, 'LINE', 'Upaging') RETURNING id
            """, [f.tenantID]).first!.decode("id")
        // 23 conversations, in groups of three sharing one timestamp.
        var expected: [String] = []
        for i in 0..<23 {
            let id: UUID = try db.query("""
                INSERT INTO conversations (tenant_id, lead_id, channel, channel_thread_id, last_message_at)
                VALUES ($1, $2, 'LINE', $3, timestamptz '2026-01-01 00:00:00.123456+00' + make_interval(secs => $4))
                RETURNING id
                """, [f.tenantID, lead, "T\(i)", i / 3]).first!.decode("id")
            expected.append(id.uuidString.lowercased())
        }
        let conversation = try XCTUnwrap(UUID(uuidString: expected[0]))
        for m in 0..<23 {
            _ = try db.query("""
                INSERT INTO messages (tenant_id, conversation_id, channel, direction, sender_type, content, delivery_status, created_at)
                VALUES ($1, $2, 'LINE', 'INBOUND', 'CUSTOMER', $3, 'RECEIVED', timestamptz '2026-01-01' + make_interval(secs => $4))
                """, [f.tenantID, conversation, "p\(m)", m / 4])
        }

        var seen: [String] = []
        var messages: [String] = []
        var cursor: String?
        var messageCursor: String?
        var pages = 0
        repeat {
            let page = try f.call("GET", "/api/conversations?limit=5" + (cursor.map { "&cursor=\($0)" } ?? ""))
            XCTAssertEqual(page.status, 200, page.text)
            seen += page.data.compactMap { $0["id"] as? String }
            cursor = page.nextCursor
            let thread = try f.call("GET", "/api/conversations/\(conversation)/messages?limit=4"
                                    + (messageCursor.map { "&cursor=\($0)" } ?? ""))
            messages += thread.data.compactMap { $0["content"] as? String }
            messageCursor = thread.nextCursor
            // New activity lands at the top between page fetches.
            _ = try db.query("""
                INSERT INTO conversations (tenant_id, lead_id, channel, channel_thread_id) VALUES ($1, $2, 'LINE', $3)
                """, [f.tenantID, lead, "new-\(pages)"])
            _ = try f.insertMessage(db, conversation: conversation, secondsAgo: 0, text: "late \(pages)")
            pages += 1
        } while cursor != nil && pages < 20
        XCTAssertEqual(pages, 5)
        XCTAssertEqual(seen.count, Set(seen).count, "no conversation twice")
        XCTAssertEqual(Set(seen).subtracting(expected), [], "rows that arrived above the cursor wait for a refresh")
        XCTAssertEqual(Set(expected).subtracting(seen), [], "none skipped")
        while let next = messageCursor {
            let thread = try f.call("GET", "/api/conversations/\(conversation)/messages?limit=4&cursor=\(next)")
            messages += thread.data.compactMap { $0["content"] as? String }
            messageCursor = thread.nextCursor
        }
        XCTAssertEqual(messages.filter { $0.hasPrefix("p") }.count, 23)
        XCTAssertEqual(messages.count, Set(messages).count)
    }

    func testDashboardMetricsCountWhatIsThere() throws {
        let f = try APIFixture.make(leadCount: 4, messageCount: 3)
        let db = try TestStack.connection()
        try db.query("UPDATE leads SET status = 'ASSIGNED', assigned_sales_id = $2 WHERE id = ANY($1::uuid[])",
                     [PostgresTextArray([f.leads[0].uuidString, f.leads[1].uuidString]), f.sales])
        try db.query("UPDATE leads SET status = 'CONTACTED' WHERE id = $1", [f.leads[1]])
        try db.query("UPDATE conversations SET assigned_agent_id = $2 WHERE id = $1", [f.conversations[0], f.sales])
        try db.query("UPDATE conversations SET status = 'CLOSED' WHERE id = $1", [f.conversations[3]])
        _ = try db.query("""
            INSERT INTO messages (tenant_id, conversation_id, channel, direction, sender_type, content, delivery_status, created_at)
            VALUES ($1, $2, 'LINE', 'OUTBOUND', 'SALES', 'reply', 'SENT', now()),
                   ($1, $2, 'LINE', 'INBOUND', 'CUSTOMER', 'old', 'RECEIVED', now() - interval '40 days')
            """, [f.tenantID, f.conversations[0]])

        let response = try f.call("GET", "/api/dashboard/metrics", as: "manager")
        XCTAssertEqual(response.status, 200, response.text)
        let m = response.object
        XCTAssertEqual(m["periodDays"] as? Int, 30)
        XCTAssertEqual(m["leadsByStatus"] as? [String: Int],
                       ["NEW": 2, "ASSIGNED": 1, "CONTACTED": 1, "QUALIFIED": 0, "PROPOSAL_SENT": 0, "NEGOTIATION": 0,
                        "WON": 0, "LOST": 0])
        let omni = try XCTUnwrap(m["omniSummary"] as? [String: Int])
        XCTAssertEqual(omni["inbound30d"], 3, "the 40-day-old message is outside the period")
        XCTAssertEqual(omni["outbound30d"], 1)
        XCTAssertEqual(omni["openConversations"], 3)
        XCTAssertEqual(omni["activeContacts"], 4)
        XCTAssertEqual(omni["totalLeads"], 4)
        XCTAssertEqual(m["inboundByChannel30d"] as? [String: Int], ["LINE": 3, "FACEBOOK": 0, "INSTAGRAM": 0])
        let agents = try XCTUnwrap(m["leadsPerSales"] as? [[String: Any]])
        let sales = try XCTUnwrap(agents.first { $0["id"] as? String == f.sales.uuidString.lowercased() })
        XCTAssertEqual(sales["assignedLeads"] as? Int, 2)
        XCTAssertEqual(sales["contactedLeads"] as? Int, 1)
        XCTAssertEqual(sales["activeConversations"] as? Int, 1)
        XCTAssertEqual(sales["conversionRate"] as? Double, 0)
        XCTAssertNil(agents.first { $0["id"] as? String == f.inactive.uuidString.lowercased() }, "inactive, holding no leads")
        let funnel = try XCTUnwrap(m["conversionFunnel"] as? [[String: Any]])
        XCTAssertEqual(funnel.map { $0["status"] as? String }, LeadStatus.allCases.map(\.rawValue))
        XCTAssertEqual(funnel[1]["reached"] as? Int, 2)
    }

    /// A signed link stored with a message expires (an upload's lasts 30 days by default), yet the thread must still
    /// show the image: the messages route signs our links again, and the same link twice so the browser's cache holds.
    func testAnExpiredSignedImageLinkIsRenewedWhenTheThreadIsRead() throws {
        let f = try APIFixture.make(leadCount: 1, messageCount: 0)
        let expiredStorage = LocalMediaStorage(
            root: try TestStack.value("HUBCHAT_MEDIA_DIR"), publicBaseURL: try TestStack.baseURL,
            signingSecret: try TestStack.value("HUBCHAT_MEDIA_SIGNING_SECRET"), clock: { Date().addingTimeInterval(-40 * 86_400) })
        let path = "\(f.tenantID.uuidString.lowercased())/2026-10-01/\(UUID().uuidString.lowercased()).jpg"
        try expiredStorage.put(bucket: "message-images", path: path, bytes: Array("old image".utf8), contentType: "image/jpeg")
        let stale = expiredStorage.url(bucket: "message-images", path: path, mode: .signed, ttlSeconds: 30 * 86_400)
        XCTAssertEqual(try CurlHTTPClient().send(HTTPRequest(url: stale)).status, 410, "the stored link has expired")
        let db = try TestStack.connection()
        try db.query("""
            INSERT INTO messages (tenant_id, conversation_id, channel, direction, sender_type, message_type, content,
                                  media_url, preview_url, mime_type, delivery_status)
            VALUES ($1, $2, 'LINE', 'OUTBOUND', 'SALES', 'IMAGE', '', $3, $4, 'image/jpeg', 'SENT')
            """, [f.tenantID, f.conversations[0], stale, "https://cdn.example/elsewhere.jpg"])

        let first = try f.call("GET", "/api/conversations/\(f.conversations[0])/messages", as: "sales")
        XCTAssertEqual(first.status, 200, first.text)
        let renewed = try XCTUnwrap(first.data.first?["mediaUrl"] as? String)
        XCTAssertNotEqual(renewed, stale)
        XCTAssertEqual(try CurlHTTPClient().send(HTTPRequest(url: renewed)).text, "old image")
        XCTAssertEqual(first.data.first?["previewUrl"] as? String, "https://cdn.example/elsewhere.jpg", "not ours: as stored")
        let again = try f.call("GET", "/api/conversations/\(f.conversations[0])/messages", as: "sales")
        XCTAssertEqual(again.data.first?["mediaUrl"] as? String, renewed)
    }

    /// A customer's file names itself only in the provider's payload (LINE's fileName and fileSize): the thread
    /// shows that name and size.
    func testACustomersFileShowsTheNameAndSizeTheProviderGave() throws {
        let f = try APIFixture.make(leadCount: 1, messageCount: 0)
        let db = try TestStack.connection()
        try db.query("""
            INSERT INTO messages (tenant_id, conversation_id, channel, direction, sender_type, message_type, content,
                                  delivery_status, metadata)
            VALUES ($1, $2, 'LINE', 'INBOUND', 'CUSTOMER', 'FILE', '[File] ใบเสนอราคา.pdf', 'RECEIVED',
                    '{"fileName":"ใบเสนอราคา.pdf","fileSize":"20480"}'),
                   ($1, $2, 'LINE', 'INBOUND', 'CUSTOMER', 'FILE', '[File]', 'RECEIVED', '{"fileSize":"12e99"}')
            """, [f.tenantID, f.conversations[0]])
        let thread = try f.call("GET", "/api/conversations/\(f.conversations[0])/messages", as: "sales")
        XCTAssertEqual(thread.status, 200, thread.text)
        let named = try XCTUnwrap(thread.data.first { $0["content"] as? String != "[File]" })
        XCTAssertEqual(named["fileName"] as? String, "ใบเสนอราคา.pdf")
        XCTAssertEqual(named["fileSizeBytes"] as? Int, 20_480)
        let odd = try XCTUnwrap(thread.data.first { $0["content"] as? String == "[File]" })
        XCTAssertTrue(odd["fileSizeBytes"] is NSNull, "a size that is no count is left out, not a failure")
    }

    /// In a LINE group chat each message says which member wrote it, and their name when the tenant knows them.
    func testAGroupChatMessageSaysWhichMemberWroteIt() throws {
        let f = try APIFixture.make(leadCount: 1, messageCount: 0)
        let db = try TestStack.connection()
        let (known, stranger) = ("U" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased(),
                                 "U" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased())
        let contact: UUID = try db.query("INSERT INTO contacts (tenant_id, display_name) VALUES ($1, 'Somchai') RETURNING id",
                                         [f.tenantID]).first!.decode("id")
        try db.query("""
            INSERT INTO contact_identities (tenant_id, contact_id, channel, external_user_id, display_name)
            VALUES ($1, $2, 'LINE', $3, 'Somchai K.')
            """, [f.tenantID, contact, known])
        for (who, text) in [(known, "from a known member"), (stranger, "from a stranger")] {
            try db.query("""
                INSERT INTO messages (tenant_id, conversation_id, channel, direction, sender_type, content, delivery_status, metadata)
                VALUES ($1, $2, 'LINE', 'INBOUND', 'CUSTOMER', $3, 'RECEIVED',
                        jsonb_build_object('sourceType', 'group', 'senderUserId', $4::text))
                """, [f.tenantID, f.conversations[0], text, who])
        }
        let thread = try f.call("GET", "/api/conversations/\(f.conversations[0])/messages", as: "sales")
        XCTAssertEqual(thread.status, 200, thread.text)
        let byText = Dictionary(uniqueKeysWithValues: thread.data.map { ($0["content"] as? String ?? "", $0) })
        XCTAssertEqual(byText["from a known member"]?["senderName"] as? String, "Somchai K.")
        XCTAssertEqual(byText["from a known member"]?["senderExternalId"] as? String, known)
        XCTAssertTrue(byText["from a stranger"]?["senderName"] is NSNull)
        XCTAssertEqual(byText["from a stranger"]?["senderExternalId"] as? String, stranger)
    }
}
