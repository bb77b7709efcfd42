import Core
import Foundation
import Synchronization
import XCTest

/// Sends through the API, delivered by the worker to the provider simulator.
final class OutboundDeliveryTests: XCTestCase {
    func testLineTextImageAndPdfArePushedWithTheMessageIdAsRetryKey() throws {
        let f = try OutboundFixture.make()
        let text = try f.send(f.lineConversation, lead: f.lineLead, channel: "LINE", ["content": "สวัสดีครับ ราคา 1,200 บาท"])
        XCTAssertEqual(text.status, 202, text.text)
        XCTAssertEqual(text.object["status"] as? String, "QUEUED")
        let textID = try XCTUnwrap(text.object["messageId"] as? String)
        let image = try f.send(f.lineConversation, lead: f.lineLead, channel: "LINE", [
            "type": "image", "mediaUrl": "https://93.184.216.34/catalogue.jpg", "previewUrl": "https://93.184.216.34/thumb.jpg",
            "mimeType": "image/jpeg", "content": "catalogue"])
        XCTAssertEqual(image.status, 202, image.text)
        let pdf = try f.send(f.lineConversation, lead: f.lineLead, channel: "LINE", [
            "type": "document_pdf", "mediaUrl": "https://93.184.216.34/quote.pdf", "mimeType": "application/pdf",
            "fileName": "quote.pdf"])
        XCTAssertEqual(pdf.status, 202, pdf.text)

        for response in [text, image, pdf] {
            let id = try XCTUnwrap(response.object["messageId"] as? String)
            let settled = try f.settledStatus(id)
            XCTAssertEqual(settled["status"], "SENT", "\(settled)")
            XCTAssertNotNil(settled["providerId"] ?? nil)
        }
        let pushes = try f.providerRequests("/v2/bot/message/push")
        XCTAssertEqual(pushes.count, 3, "one push each; the expired reply token was tried first and refused")
        let first = try XCTUnwrap(pushes.first)
        XCTAssertEqual((first["headers"] as? [String: String])?["x-line-retry-key"], textID)
        XCTAssertEqual((first["headers"] as? [String: String])?["authorization"], "Bearer line-token-\(f.tag)")
        let body = try XCTUnwrap(first["body"] as? [String: Any])
        XCTAssertEqual(body["to"] as? String, f.lineUser)
        XCTAssertEqual(((body["messages"] as? [[String: Any]])?.first)?["text"] as? String, "สวัสดีครับ ราคา 1,200 บาท")
        let imageMessages = try XCTUnwrap((pushes[1]["body"] as? [String: Any])?["messages"] as? [[String: Any]])
        XCTAssertEqual(imageMessages.map { $0["type"] as? String }, ["text", "image"])
        XCTAssertEqual(imageMessages[1]["previewImageUrl"] as? String, "https://93.184.216.34/thumb.jpg")
        let pdfMessage = try XCTUnwrap(((pushes[2]["body"] as? [String: Any])?["messages"] as? [[String: Any]])?.first)
        XCTAssertEqual(pdfMessage["type"] as? String, "template")
        XCTAssertTrue((pdfMessage["altText"] as? String)?.contains("quote.pdf") ?? false)

        // The thread shows them, newest first, with their delivery status.
        let thread = try f.api.call("GET", "/api/conversations/\(f.lineConversation)/messages")
        XCTAssertEqual(thread.data.count, 3)
        XCTAssertEqual(Set(thread.data.compactMap { $0["deliveryStatus"] as? String }), ["SENT"])
    }

    /// The tenant's own stored image goes out with a fresh signature, whatever link the agent gave (expired, or
    /// without one): the provider fetches it after the send, and nginx refuses a link without a valid signature.
    func testOwnStoredMediaGoesOutFreshlySigned() throws {
        let f = try OutboundFixture.make()
        let storage = LocalMediaStorage(root: try TestStack.value("HUBCHAT_MEDIA_DIR"), publicBaseURL: try TestStack.baseURL,
                                        signingSecret: try TestStack.value("HUBCHAT_MEDIA_SIGNING_SECRET"))
        let base = "\(f.api.tenantID.uuidString.lowercased())/2026-11-27/\(UUID().uuidString.lowercased())"
        for name in [base + ".jpg", base + ".preview.jpg"] {
            try storage.put(bucket: "message-images", path: name, bytes: Array("jpeg bytes".utf8), contentType: "image/jpeg")
        }
        let prefix = try TestStack.baseURL + "/media/message-images/"
        let sent = try f.send(f.lineConversation, lead: f.lineLead, channel: "LINE", [
            "type": "image", "mediaUrl": prefix + base + ".jpg", "previewUrl": prefix + base + ".preview.jpg?md5=AAAA&expires=1000",
            "mimeType": "image/jpeg"])
        XCTAssertEqual(sent.status, 202, sent.text)
        XCTAssertEqual(try f.settledStatus(try XCTUnwrap(sent.object["messageId"] as? String))["status"], "SENT")
        let image = try XCTUnwrap(((try f.providerRequests("/v2/bot/message/push").last?["body"] as? [String: Any])?["messages"]
            as? [[String: Any]])?.first { $0["type"] as? String == "image" })
        for key in ["originalContentUrl", "previewImageUrl"] {
            let url = try XCTUnwrap(image[key] as? String, key)
            XCTAssertTrue(url.contains("md5=") && !url.contains("expires=1000"), "\(key): \(url)")
            XCTAssertEqual(try CurlHTTPClient().send(HTTPRequest(url: url)).text, "jpeg bytes", "\(key) loads")
        }
        // Whatever the type, a URL under our media prefix must be a file this tenant stored.
        for fields: [String: Any] in [["type": "image", "mediaUrl": prefix + base + "-gone.jpg", "mimeType": "image/jpeg"],
                                      ["content": "text", "mediaUrl": "https://169.254.169.254/latest/meta-data"],
                                      ["type": "document_pdf", "mediaUrl": "https://93.184.216.34/q.pdf", "fileName": "q.pdf",
                                       "previewUrl": prefix + "0a9d2c44-5e5b-4c1e-8f0e-2b6b4a1c7e55/x.jpg"]] {
            let refused = try f.send(f.lineConversation, lead: f.lineLead, channel: "LINE", fields)
            XCTAssertEqual(refused.status, 400, "\(fields): \(refused.text)")
        }
    }

    func testAFreshLineReplyTokenIsUsedOnceThenPush() throws {
        let f = try OutboundFixture.make()
        let db = try TestStack.connection()
        try db.query("UPDATE conversations SET line_reply_token = $2, line_reply_token_received_at = now() WHERE id = $1",
                     [f.lineConversation, "fresh-\(f.tag)"])
        let first = try f.send(f.lineConversation, lead: f.lineLead, channel: "LINE", ["content": "one"])
        XCTAssertEqual(try f.settledStatus(first.object["messageId"] as! String)["status"], "SENT")
        let second = try f.send(f.lineConversation, lead: f.lineLead, channel: "LINE", ["content": "two"])
        XCTAssertEqual(try f.settledStatus(second.object["messageId"] as! String)["status"], "SENT")
        let replies = try TestStack.simulatorRequests().filter {
            ($0["path"] as? String) == "/v2/bot/message/reply" && (($0["body"] as? [String: Any])?["replyToken"] as? String) == "fresh-\(f.tag)"
        }
        XCTAssertEqual(replies.count, 1, "the token is spent by the first send")
        XCTAssertNil((replies[0]["headers"] as? [String: String])?["x-line-retry-key"])
        XCTAssertEqual(try f.providerRequests("/v2/bot/message/push").count, 1)
    }

    /// A reply LINE never confirmed may have reached the customer, and a reply has no retry key: it is not pushed
    /// again (the customer would read it twice); the message fails with a reason that says so.
    func testAnUnconfirmedLineReplyIsNotSentAgain() throws {
        let f = try OutboundFixture.make()
        let db = try TestStack.connection()
        try db.query("UPDATE conversations SET line_reply_token = $2, line_reply_token_received_at = now() WHERE id = $1",
                     [f.lineConversation, "slow-\(f.tag)"])
        try OutboundFixture.fault(["pathPrefix": "/v2/bot/message/reply", "delayMs": 6_500, "count": 1])
        let sent = try f.send(f.lineConversation, lead: f.lineLead, channel: "LINE", ["content": "only once"])
        try assertFailedUnconfirmed(f, sent, code: "line_reply_unconfirmed")
        XCTAssertEqual(try f.providerRequests("/v2/bot/message/push").count, 0, "the reply was pushed again")
    }

    /// A reply LINE answers with a 5xx may have been processed all the same: it is not pushed again either.
    func testALineReplyAnsweredWithA5xxIsNotPushedAgain() throws {
        let f = try OutboundFixture.make()
        try TestStack.connection().query(
            "UPDATE conversations SET line_reply_token = $2, line_reply_token_received_at = now() WHERE id = $1",
            [f.lineConversation, "five-\(f.tag)"])
        try OutboundFixture.fault(["pathPrefix": "/v2/bot/message/reply", "status": 500, "count": 1])
        let sent = try f.send(f.lineConversation, lead: f.lineLead, channel: "LINE", ["content": "once at most"])
        try assertFailedUnconfirmed(f, sent, code: "line_reply_unconfirmed")
        XCTAssertEqual(try f.providerRequests("/v2/bot/message/push").count, 0, "the reply was pushed after LINE's 500")
    }

    /// The send settles as FAILED with `code` (after OUTBOUND_SEND_TIMEOUT_SECONDS, 5 s in the tests), and nothing follows it at once.
    func assertFailedUnconfirmed(_ f: OutboundFixture, _ sent: HTTPResponse, code: String) throws {
        let settled = try f.settledStatus(sent.object["messageId"] as! String, within: 25)
        XCTAssertEqual(settled["status"], "FAILED")
        XCTAssertEqual(settled["errorCode"], code)
        usleep(500_000)
    }

    /// Meta's Send API has no idempotency key: a send it did not confirm is not sent again.
    func testAnUnconfirmedMessengerSendIsNotSentAgain() throws {
        let f = try OutboundFixture.make()
        try OutboundFixture.fault(["pathPrefix": "/v25.0/me/messages", "delayMs": 6_500, "count": 1])
        let sent = try f.send(f.dmConversation, lead: f.dmLead, channel: "FACEBOOK",
                              ["content": "only once", "facebookTargetType": "MESSENGER", "facebookTargetId": f.psid])
        XCTAssertEqual(sent.status, 202, sent.text)
        try assertFailedUnconfirmed(f, sent, code: "meta_send_unconfirmed")
        XCTAssertEqual(try f.providerRequests("/messages").count, 1, "the send was made again")
    }

    func testMessengerTextAndAttachmentsInTheWindowAndTheHumanAgentTagAfter24Hours() throws {
        let f = try OutboundFixture.make(lastInboundHoursAgo: 30)
        let text = try f.send(f.dmConversation, lead: f.dmLead, channel: "FACEBOOK",
                              ["content": "Still interested?", "facebookTargetType": "MESSENGER", "facebookTargetId": f.psid])
        XCTAssertEqual(text.status, 202, text.text)
        XCTAssertEqual(try f.settledStatus(text.object["messageId"] as! String)["status"], "SENT")
        let image = try f.send(f.dmConversation, lead: f.dmLead, channel: "FACEBOOK", [
            "type": "image", "mediaUrl": "https://93.184.216.34/a.png", "mimeType": "image/png", "content": "colour chart"])
        XCTAssertEqual(try f.settledStatus(image.object["messageId"] as! String)["status"], "SENT")
        let sends = try f.providerRequests("/messages")
        XCTAssertEqual(sends.count, 3, "text, then the image and its caption")
        for send in sends {
            let body = try XCTUnwrap(send["body"] as? [String: Any])
            XCTAssertEqual((body["recipient"] as? [String: Any])?["id"] as? String, f.psid)
            XCTAssertEqual(body["messaging_type"] as? String, "MESSAGE_TAG")
            XCTAssertEqual(body["tag"] as? String, "HUMAN_AGENT")
            XCTAssertEqual((send["headers"] as? [String: String])?["authorization"], "Bearer fb-token-\(f.tag)")
        }
        let attachment = try XCTUnwrap(((sends[1]["body"] as? [String: Any])?["message"] as? [String: Any])?["attachment"] as? [String: Any])
        XCTAssertEqual(attachment["type"] as? String, "image")
    }

    func testTheCommentFlowPrivateReplyThenPublicReplyThenMessenger() throws {
        let f = try OutboundFixture.make()
        let image = try f.send(f.commentConversation, lead: f.commentLead, channel: "FACEBOOK", [
            "type": "image", "mediaUrl": "https://93.184.216.34/a.jpg", "mimeType": "image/jpeg"])
        XCTAssertEqual(image.status, 422, image.text)
        XCTAssertEqual(image.errorCode, "comment_reply_text_only")

        let first = try f.send(f.commentConversation, lead: f.commentLead, channel: "FACEBOOK",
                               ["content": "ส่งรายละเอียดทาง Inbox นะครับ", "facebookTargetType": "COMMENT", "facebookTargetId": f.commentID])
        XCTAssertEqual(first.status, 202, first.text)
        XCTAssertEqual(try f.settledStatus(first.object["messageId"] as! String)["status"], "SENT")
        let privateReply = try XCTUnwrap(try f.providerRequests("/messages").first)
        XCTAssertEqual(((privateReply["body"] as? [String: Any])?["recipient"] as? [String: Any])?["comment_id"] as? String, f.commentID)
        XCTAssertTrue((privateReply["path"] as? String)?.hasSuffix("/page\(f.tag)/messages") ?? false)
        let publicReply = try XCTUnwrap(try f.providerRequests("/comments").first)
        XCTAssertEqual(publicReply["path"] as? String, "/v25.0/\(f.commentID)/comments")
        XCTAssertEqual((publicReply["body"] as? [String: Any])?["message"] as? String, DeliverOutboundMessage.publicReplyText)

        let db = try TestStack.connection()
        let conversation = try XCTUnwrap(try db.query("""
            SELECT private_reply_sent_at IS NOT NULL AS replied, public_reply_sent_at IS NOT NULL AS public,
                   converted_to_dm_at IS NOT NULL AS dm, provider_external_user_id AS psid
              FROM conversations WHERE id = $1
            """, [f.commentConversation]).first)
        XCTAssertEqual([conversation["replied"], conversation["public"], conversation["dm"]], ["t", "t", "t"])
        // The Private Reply's answer names the commenter's PSID; a commenter's own id is no PSID.
        let psid = try XCTUnwrap(conversation["psid"] ?? nil)
        XCTAssertNotEqual(psid, "commenter\(f.tag)")

        // DM-ready: a second comment target is refused, attachments now work and go to the commenter's PSID by Messenger.
        let again = try f.send(f.commentConversation, lead: f.commentLead, channel: "FACEBOOK",
                               ["content": "again", "facebookTargetType": "COMMENT", "facebookTargetId": f.commentID])
        XCTAssertEqual(again.status, 409, again.text)
        let later = try f.send(f.commentConversation, lead: f.commentLead, channel: "FACEBOOK", [
            "type": "image", "mediaUrl": "https://93.184.216.34/a.jpg", "mimeType": "image/jpeg"])
        XCTAssertEqual(later.status, 202, later.text)
        XCTAssertEqual(try f.settledStatus(later.object["messageId"] as! String)["status"], "SENT")
        let dm = try XCTUnwrap(try f.providerRequests("/messages").last)
        XCTAssertEqual(((dm["body"] as? [String: Any])?["recipient"] as? [String: Any])?["id"] as? String, psid)
        XCTAssertEqual(try f.providerRequests("/comments").count, 1, "the public reply is sent once")
    }

    /// The customer's Messenger answer to a Private Reply is filed on the comment's lead and conversation, where the
    /// agent wrote: no second lead or thread for the PSID Meta named.
    func testAPrivateReplyAnsweredInMessengerStaysOnTheCommentersLead() throws {
        try privateReplyAnsweredInMessenger(from: #""from":{"id":"8\#(Int.random(in: 100_000_000...999_999_999))","name":"Somsri"},"#)
    }

    /// Most commenters come without `from` (Meta names only people with a role on the Page): their lead shows a
    /// placeholder until the Messenger answer's profile names them, lead and thread alike.
    func testACommenterMetaDidNotNameIsNamedByTheirMessengerProfile() throws {
        let (_, conversation, lead, psid) = try privateReplyAnsweredInMessenger(from: "")
        let db = try TestStack.connection()
        XCTAssertTrue(try TestStack.eventually(within: 10) {
            try db.query("SELECT name FROM leads WHERE id = $1", [lead]).first?["name"] == "Meta user \(psid.suffix(4))"
        }, "the lead kept the placeholder")
        XCTAssertEqual(try db.query("SELECT participant_display_name AS n FROM conversations WHERE id = $1",
                                    [conversation]).first?["n"], "Meta user \(psid.suffix(4))")
    }

    @discardableResult
    func privateReplyAnsweredInMessenger(from: String) throws -> (OutboundFixture, UUID, UUID, String) {
        let f = try OutboundFixture.make()
        let db = try TestStack.connection()
        let page = "page\(f.tag)", commentID = "page\(f.tag)_post_\(Int.random(in: 100_000...999_999))"
        func deliver(_ entry: String) throws {
            let body = Array(#"{"object":"page","entry":[{"id":"\#(page)","time":1795737925000,\#(entry)}]}"#.utf8)
            XCTAssertEqual(try TestStack.http("POST", "/api/webhook/facebook", body: body, headers: [
                ("Content-Type", "application/json"), ("X-Hub-Signature-256", "sha256=" + WebhookIngestTests.hmacHex(body, secret: "s")),
            ]).status, 200)
        }
        try deliver("""
            "changes":[{"field":"feed","value":{"item":"comment","verb":"add","comment_id":"\(commentID)",
              "post_id":"\(page)_post",\(from)"message":"ราคาเท่าไหร่คะ","created_time":\(Int(Date().timeIntervalSince1970))}}]
            """)
        var thread: PostgresRow?
        _ = try TestStack.eventually(within: 10) {
            thread = try db.query("SELECT id, lead_id FROM conversations WHERE provider_comment_id = $1", [commentID]).first
            return thread != nil
        }
        let conversation: UUID = try XCTUnwrap(thread).decode("id"), lead: UUID = try XCTUnwrap(thread).decode("lead_id")

        let reply = try f.send(conversation, lead: lead, channel: "FACEBOOK",
                               ["content": "ส่งราคาทาง Inbox นะคะ", "facebookTargetType": "COMMENT", "facebookTargetId": commentID])
        XCTAssertEqual(reply.status, 202, reply.text)
        XCTAssertEqual(try f.settledStatus(reply.object["messageId"] as! String)["status"], "SENT")
        let moved = try XCTUnwrap(try db.query(
            "SELECT channel_thread_id, provider_external_user_id FROM conversations WHERE id = $1", [conversation]).first)
        let psid = try XCTUnwrap(moved["provider_external_user_id"] ?? nil)
        XCTAssertEqual(moved["channel_thread_id"], psid, "the thread moves to where Messenger files the customer's answers")

        let mid = "m_answer_\(WebhookIngestTests.hex(6))"
        try deliver("""
            "messaging":[{"sender":{"id":"\(psid)"},"recipient":{"id":"\(page)"},
              "timestamp":\(Int(Date().timeIntervalSince1970 * 1000)),"message":{"mid":"\(mid)","text":"ขอราคาส่งด้วยค่ะ"}}]
            """)
        var filed: PostgresRow?
        _ = try TestStack.eventually(within: 10) {
            filed = try db.query("SELECT conversation_id FROM messages WHERE provider_message_id = $1", [mid]).first
            return filed != nil
        }
        XCTAssertEqual(try XCTUnwrap(filed).decode("conversation_id", as: UUID.self), conversation)
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM leads WHERE tenant_id = $1 AND external_user_id = $2",
                                    [f.api.tenantID, psid]).first?.decode("n", as: Int.self), 0, "no second lead for the PSID")
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM conversations WHERE tenant_id = $1 AND lead_id <> $2 AND channel_thread_id = $3",
                                    [f.api.tenantID, lead, psid]).first?.decode("n", as: Int.self), 0)
        let state = try XCTUnwrap(try db.query("SELECT unread_count, last_message_preview FROM conversations WHERE id = $1",
                                               [conversation]).first)
        XCTAssertEqual(state["last_message_preview"], "ขอราคาส่งด้วยค่ะ")
        XCTAssertEqual(state["unread_count"], "2")
        let activity = try db.query("""
            SELECT count(*) AS n FROM activity_logs WHERE tenant_id = $1 AND lead_id = $2 AND type = 'MESSAGE_RECEIVED'
            """, [f.api.tenantID, lead]).first?.decode("n", as: Int.self)
        XCTAssertEqual(activity, 2)

        // The next agent message is a DM to the PSID from the same conversation.
        let next = try f.send(conversation, lead: lead, channel: "FACEBOOK", ["content": "ราคาส่ง 90 บาทค่ะ"])
        XCTAssertEqual(next.status, 202, next.text)
        XCTAssertEqual(try f.settledStatus(next.object["messageId"] as! String)["status"], "SENT")
        let dm = try XCTUnwrap(try f.providerRequests("/messages").last)
        XCTAssertEqual(((dm["body"] as? [String: Any])?["recipient"] as? [String: Any])?["id"] as? String, psid)
        return (f, conversation, lead, psid)
    }

    /// A PSID the tenant already knows (the customer wrote to the Page before they commented) keeps its own
    /// conversation and lead; the comment's thread stays where it is and still DMs that PSID.
    func testAPrivateReplyToAKnownMessengerCustomerMovesNothing() throws {
        let f = try OutboundFixture.make()
        let db = try TestStack.connection()
        let store = PostgresDeliveryStore(connection: db)
        // The comment's customer has a contact (as every recorded comment does); the PSID is someone known already.
        try db.query("""
            WITH c AS (INSERT INTO contacts (tenant_id) VALUES ($1) RETURNING id)
            UPDATE conversations SET contact_id = (SELECT id FROM c) WHERE id = $2
            """, [f.api.tenantID, f.commentConversation])
        try db.query("""
            WITH c AS (INSERT INTO contacts (tenant_id) VALUES ($1) RETURNING id)
            INSERT INTO contact_identities (tenant_id, contact_id, channel, external_user_id)
            SELECT $1, id, 'FACEBOOK', $2 FROM c
            """, [f.api.tenantID, "known\(f.tag)"])
        try store.markPrivateReplySent(conversationID: f.commentConversation, tenantID: f.api.tenantID,
                                       commentID: f.commentID, recipientID: "known\(f.tag)")
        let kept = try XCTUnwrap(try db.query(
            "SELECT channel_thread_id, provider_external_user_id FROM conversations WHERE id = $1", [f.commentConversation]).first)
        XCTAssertEqual(kept["channel_thread_id"], "comment:\(f.commentID)")
        XCTAssertEqual(kept["provider_external_user_id"], "known\(f.tag)")
        XCTAssertEqual(try db.query("SELECT lead_id FROM contact_identities WHERE tenant_id = $1 AND external_user_id = $2",
                                    [f.api.tenantID, "known\(f.tag)"]).first?["lead_id"] ?? nil, nil)
    }

    /// The customer's DM recorded in the very instant the Private Reply is (its thread insert not yet committed):
    /// recording the reply hits the thread's unique key, and tries again rather than losing the PSID Meta named
    /// (Meta would only answer "already replied" to the job's retry). The PSID, known by then, keeps its own thread.
    func testAPrivateReplyRecordedWhileTheCustomersDMIsKeepsThePSID() throws {
        let f = try OutboundFixture.make()
        let db = try TestStack.connection()
        try db.query("""
            WITH c AS (INSERT INTO contacts (tenant_id) VALUES ($1) RETURNING id)
            UPDATE conversations SET contact_id = (SELECT id FROM c) WHERE id = $2
            """, [f.api.tenantID, f.commentConversation])
        let psid = "racing\(f.tag)"
        let dm = try TestStack.connection()
        try dm.query("BEGIN")
        try dm.query("""
            INSERT INTO conversations (tenant_id, lead_id, channel, channel_thread_id) VALUES ($1, $2, 'FACEBOOK', $3)
            """, [f.api.tenantID, f.dmLead, psid])
        let failure = Mutex<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        let (tenant, conversation, comment) = (f.api.tenantID, f.commentConversation, f.commentID)
        Thread {
            do {
                try PostgresDeliveryStore(connection: try TestStack.connection()).markPrivateReplySent(
                    conversationID: conversation, tenantID: tenant, commentID: comment, recipientID: psid)
            } catch {
                failure.withLock { $0 = "\(error)" }
            }
            done.signal()
        }.start()
        usleep(500_000)  // the reply's statement now waits on the DM's uncommitted thread
        try dm.query("COMMIT")
        XCTAssertEqual(done.wait(timeout: .now() + 20), .success)
        XCTAssertNil(failure.withLock { $0 })
        let row = try XCTUnwrap(try db.query(
            "SELECT channel_thread_id, provider_external_user_id FROM conversations WHERE id = $1", [f.commentConversation]).first)
        XCTAssertEqual(row["provider_external_user_id"], psid, "the PSID is the DM recipient")
        XCTAssertEqual(row["channel_thread_id"], "comment:\(f.commentID)")
    }

    func testInstagramTextAndItsRules() throws {
        let f = try OutboundFixture.make()
        let text = try f.send(f.igConversation, lead: f.igLead, channel: "INSTAGRAM", ["content": "hello from the shop"])
        XCTAssertEqual(text.status, 202, text.text)
        XCTAssertEqual(try f.settledStatus(text.object["messageId"] as! String)["status"], "SENT")
        let sent = try XCTUnwrap(try f.providerRequests("/me/messages").first)
        XCTAssertEqual(((sent["body"] as? [String: Any])?["recipient"] as? [String: Any])?["id"] as? String, f.igsid)
        XCTAssertEqual((sent["body"] as? [String: Any])?["messaging_type"] as? String, "RESPONSE")
        let image = try f.send(f.igConversation, lead: f.igLead, channel: "INSTAGRAM", [
            "type": "image", "mediaUrl": "https://93.184.216.34/a.jpg", "mimeType": "image/jpeg"])
        XCTAssertEqual(image.status, 422)
    }

    func testTheMetaWindowRefusesBeforeAnythingIsQueued() throws {
        let f = try OutboundFixture.make(lastInboundHoursAgo: 24 * 8)
        for (conversation, lead, channel) in [(f.dmConversation, f.dmLead, "FACEBOOK"), (f.igConversation, f.igLead, "INSTAGRAM"),
                                              (f.commentConversation, f.commentLead, "FACEBOOK")] {
            let response = try f.send(conversation, lead: lead, channel: channel, ["content": "too late"])
            XCTAssertEqual(response.status, 422, response.text)
            XCTAssertEqual(response.errorCode, "outside_messaging_window")
        }
        let line = try f.send(f.lineConversation, lead: f.lineLead, channel: "LINE", ["content": "LINE has no window"])
        XCTAssertEqual(line.status, 202)
        let db = try TestStack.connection()
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM messages WHERE tenant_id = $1", [f.api.tenantID]).first?["n"], "1")
    }

    func testValidationAndSSRF() throws {
        let f = try OutboundFixture.make()
        let cases: [([String: Any], String)] = [
            (["content": ""], "content"),
            (["content": String(repeating: "ก", count: 4001)], "content"),
            (["content": String(repeating: "😀", count: 3000)], "content"),  // 6,000 UTF-16 units: over LINE's 5,000
            (["channel": "FACEBOOK", "content": "x"], "channel"),
            (["leadId": f.dmLead.uuidString, "content": "x"], "leadId"),
            (["channelThreadId": "Uother", "content": "x"], "channelThreadId"),
            (["type": "video", "content": "x"], "type"),
            (["type": "image", "mediaUrl": "http://93.184.216.34/a.jpg", "mimeType": "image/jpeg"], "mediaUrl"),
            (["type": "image", "mediaUrl": "https://127.0.0.1/a.jpg", "mimeType": "image/jpeg"], "mediaUrl"),
            (["type": "image", "mediaUrl": "https://[::1]/a.jpg", "mimeType": "image/jpeg"], "mediaUrl"),
            (["type": "image", "mediaUrl": "https://[::ffff:10.0.0.1]/a.jpg", "mimeType": "image/jpeg"], "mediaUrl"),
            (["type": "image", "mediaUrl": "https://169.254.169.254/latest/meta-data", "mimeType": "image/jpeg"], "mediaUrl"),
            (["type": "image", "mediaUrl": "https://192.168.1.10/a.jpg", "mimeType": "image/jpeg"], "mediaUrl"),
            (["type": "image", "mediaUrl": "https://localhost/a.jpg", "mimeType": "image/jpeg"], "mediaUrl"),
            (["type": "image", "mediaUrl": "https://user:pw@93.184.216.34/a.jpg", "mimeType": "image/jpeg"], "mediaUrl"),
            (["type": "image", "mediaUrl": "https://0x7f000001/a.jpg", "mimeType": "image/jpeg"], "mediaUrl"),
            (["type": "image", "mediaUrl": "https://93.184.216.34/a.webp", "mimeType": "image/webp"], "mimeType"),
            (["type": "document_pdf", "mediaUrl": "https://93.184.216.34/a.pdf", "mimeType": "application/pdf"], "fileName"),
            (["content": "x", "bogus": 1], "bogus"),
        ]
        for (fields, field) in cases {
            let response = try f.send(f.lineConversation, lead: f.lineLead, channel: (fields["channel"] as? String) ?? "LINE", fields)
            XCTAssertEqual(response.status, 400, "\(fields): \(response.text)")
            XCTAssertEqual((response.error["details"] as? [String: [String]])?["field"], [field], "\(fields): \(response.text)")
        }
        // Messenger takes 2,000 in one text: more is refused up front, not failed by Meta after a 202.
        let long = try f.send(f.dmConversation, lead: f.dmLead, channel: "FACEBOOK", [
            "content": String(repeating: "a", count: 2001), "facebookTargetType": "MESSENGER", "facebookTargetId": f.psid])
        XCTAssertEqual(long.status, 400, long.text)
        XCTAssertEqual((long.error["details"] as? [String: [String]])?["field"], ["content"])
        let other = try OutboundFixture.make()
        let foreign = try f.send(other.lineConversation, lead: other.lineLead, channel: "LINE", ["content": "x"])
        XCTAssertEqual(foreign.status, 404)
        let db = try TestStack.connection()
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM messages WHERE tenant_id = $1", [f.api.tenantID]).first?["n"], "0")
    }

    func testAnIdempotencyKeyReturnsTheSameMessage() throws {
        let f = try OutboundFixture.make()
        let key = "send-\(UUID())"
        let first = try f.send(f.lineConversation, lead: f.lineLead, channel: "LINE", ["content": "only once"], idempotencyKey: key)
        let again = try f.send(f.lineConversation, lead: f.lineLead, channel: "LINE", ["content": "only once"], idempotencyKey: key)
        XCTAssertEqual(first.status, 202)
        XCTAssertEqual(again.status, 202)
        XCTAssertEqual(first.object["messageId"] as? String, again.object["messageId"] as? String)
        XCTAssertEqual(again.headers["idempotent-replayed"], "true")
        let changed = try f.send(f.lineConversation, lead: f.lineLead, channel: "LINE", ["content": "different"], idempotencyKey: key)
        XCTAssertEqual(changed.status, 422)
        _ = try f.settledStatus(first.object["messageId"] as! String)
        XCTAssertEqual(try f.providerRequests("/v2/bot/message/push").count, 1)
    }
}
