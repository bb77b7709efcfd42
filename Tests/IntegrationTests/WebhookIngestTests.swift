import Core
import Crypto
import Foundation
import XCTest

/// Webhooks end to end: signed provider deliveries through nginx into the webhook pool, the
/// worker turning them into inbox state in the real database.
final class WebhookIngestTests: XCTestCase {
    var db: PostgresConnection!
    var tenant: UUID!
    var lineSecret: String!
    var lineDestination: String!

    override func setUpWithError() throws {
        db = try TestStack.connection()
        tenant = try XCTUnwrap(UUID(uuidString: try TestStack.value("HUBCHAT_TENANT_ID")))
        lineSecret = try TestStack.value("LINE_CHANNEL_SECRET")
        lineDestination = try TestStack.value("LINE_DESTINATION")
    }

    // MARK: LINE

    func testASignedLINEBatchBecomesOneLeadConversationAndMessages() throws {
        let user = "U" + Self.hex(16)
        let imageID = String(UInt64.random(in: 100_000_000_000...999_999_999_999))
        let body = Self.lineBody(destination: lineDestination, events: [
            Self.lineMessage(user: user, id: "t1", message: #"{"id":"m1-\#(user)","type":"text","text":"สวัสดีครับ ราคาเท่าไหร่"}"#),
            Self.lineMessage(user: user, id: "t2", message: #"{"id":"m2-\#(user)","type":"sticker","packageId":"446","stickerId":"1988"}"#),
            Self.lineMessage(user: user, id: "t3", message: #"{"id":"\#(imageID)","type":"image","contentProvider":{"type":"line"}}"#),
            #"{"type":"follow","webhookEventId":"t4-\#(user)","timestamp":1795737925000,"source":{"type":"user","userId":"\#(user)"},"replyToken":"r","mode":"active","deliveryContext":{"isRedelivery":false}}"#,
        ])
        let response = try postLINE(body, signature: Self.lineSignature(body, secret: lineSecret))
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(try TestStack.json(response)["stored"] as? Int, 4)

        // One customer's events are processed in order, one at a time: wait for the third, and for the profile,
        // which the worker looks up beside the inbox once the first message is in.
        let conversation = try waitForConversation(thread: user) {
            (try? $0.decode("unread_count", as: Int.self)) == 3 && ($0["participant_profile_image_url"] ?? nil) != nil
        }
        XCTAssertEqual(try conversation.decode("unread_count", as: Int.self), 3)
        // The name came from LINE's profile API (the simulator), looked up once for three messages.
        XCTAssertEqual(conversation["participant_display_name"], "LINE user \(user.suffix(6))")
        XCTAssertEqual(conversation["participant_profile_image_url"], "https://profile.line-scdn.net/\(user)")
        let lookups = try TestStack.simulatorRequests().filter { ($0["path"] as? String) == "/v2/bot/profile/\(user)" }
        XCTAssertEqual(lookups.count, 1)
        XCTAssertEqual((lookups.first?["headers"] as? [String: String])?["authorization"],
                       "Bearer \(try TestStack.value("LINE_CHANNEL_ACCESS_TOKEN"))")
        XCTAssertEqual(try messageCount(conversation: try conversation.decode("id")), 3)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM leads WHERE tenant_id = $1 AND external_user_id = $2", [tenant, user]), 1)
        XCTAssertEqual(try db.query("SELECT name FROM leads WHERE tenant_id = $1 AND external_user_id = $2", [tenant, user])
                        .first?["name"] ?? nil, "LINE user \(user.suffix(6))", "the lead takes the name its profile gave")
        XCTAssertEqual(try count("SELECT count(*) AS n FROM contact_identities WHERE tenant_id = $1 AND external_user_id = $2",
                                 [tenant, user]), 1)
        XCTAssertTrue(TestStack.eventually(within: 5) {
            (try? self.count("""
                SELECT count(*) AS n FROM activity_logs a JOIN leads l ON l.id = a.lead_id
                 WHERE l.external_user_id = $1 AND a.type = 'FOLLOW'
                """, [user])) == 1
        })

        // The image was fetched from LINE's content API (by an image lane, after the message was in), stored as
        // original + thumbnail, and is served by nginx at the stored URLs.
        var found: PostgresRow?
        XCTAssertTrue(TestStack.eventually(within: 10) {
            found = try? self.db.query("""
                SELECT media_url, preview_url, width, height, mime_type, metadata::text AS metadata
                  FROM messages WHERE provider_message_id = $1 AND metadata->>'mediaStatus' IS NULL
                """, [imageID]).first
            return found != nil
        })
        let image = try XCTUnwrap(found)
        let tenantPath = tenant.uuidString.lowercased()
        XCTAssertEqual(image["media_url"], try TestStack.baseURL + "/media/inbound-media/inbound/\(tenantPath)/line/original/\(imageID).jpg",
                       image["metadata"] ?? "")
        XCTAssertEqual(image["preview_url"], try TestStack.baseURL + "/media/inbound-media/inbound/\(tenantPath)/line/thumb/\(imageID).jpg")
        XCTAssertEqual(image["mime_type"], "image/jpeg")
        XCTAssertNotNil(image["width"])
        for url in [image["media_url"], image["preview_url"]] {
            let served = try CurlHTTPClient().send(HTTPRequest(url: try XCTUnwrap(url)))
            XCTAssertEqual(served.status, 200)
            XCTAssertEqual(Array(served.body.prefix(2)), [0xFF, 0xD8], "not a JPEG")
        }

        // A redelivery of the same batch answers 200 and changes nothing.
        let again = try postLINE(body, signature: Self.lineSignature(body, secret: lineSecret))
        XCTAssertEqual(again.status, 200)
        XCTAssertEqual(try TestStack.json(again)["stored"] as? Int, 0)
        usleep(500_000)
        let after = try waitForConversation(thread: user)
        XCTAssertEqual(try after.decode("unread_count", as: Int.self), 3)
        XCTAssertEqual(try messageCount(conversation: try after.decode("id")), 3)
    }

    func testForgedMissingAndMalformedDeliveriesStoreNothing() throws {
        let user = "U" + Self.hex(16)
        let body = Self.lineBody(destination: lineDestination, events: [
            Self.lineMessage(user: user, id: "f1", message: #"{"id":"f1-\#(user)","type":"text","text":"hi"}"#),
        ])
        let forged = try postLINE(body, signature: Self.lineSignature(body, secret: "not-the-secret"))
        XCTAssertEqual(forged.status, 401)
        XCTAssertEqual((try TestStack.json(forged)["error"] as? [String: Any])?["code"] as? String, "invalid_signature")
        XCTAssertEqual(try postLINE(body, signature: nil).status, 401)
        // The same delivery with one word changed, signed as the original: still valid JSON, refused.
        let tampered = Array(String(decoding: body, as: UTF8.self).replacingOccurrences(of: #""text":"hi""#, with: #""text":"ho""#).utf8)
        XCTAssertNotEqual(tampered, body)
        XCTAssertEqual(try postLINE(tampered, signature: Self.lineSignature(body, secret: lineSecret)).status, 401)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM webhook_events WHERE provider_event_id = $1", ["f1-\(user)"]), 0)

        let malformed = Array(#"{"destination": "x", "events": [ {"#.utf8)
        XCTAssertEqual(try postLINE(malformed, signature: Self.lineSignature(malformed, secret: lineSecret)).status, 400)

        let unknown = Self.lineBody(destination: "U" + Self.hex(16), events: [])
        let unknownResponse = try postLINE(unknown, signature: Self.lineSignature(unknown, secret: lineSecret))
        XCTAssertEqual(unknownResponse.status, 404)
        XCTAssertEqual((try TestStack.json(unknownResponse)["error"] as? [String: Any])?["code"] as? String,
                       "unknown_channel_account")
    }

    /// A slow LINE content API holds up nothing but the image: the image's message is in at once (its media pending),
    /// another customer's text right behind it too, and the image is attached when the download ends.
    func testASlowContentAPIHoldsUpOnlyTheImage() throws {
        defer { OutboundFixture.clearFaults() }
        let imageID = String(UInt64.random(in: 100_000_000_000...999_999_999_999))
        try OutboundFixture.fault(["pathPrefix": "/v2/bot/message/\(imageID)/content", "delayMs": 5000])
        let (photographer, writer) = ("U" + Self.hex(16), "U" + Self.hex(16))
        let body = Self.lineBody(destination: lineDestination, events: [
            Self.lineMessage(user: photographer, id: "p1", message: #"{"id":"\#(imageID)","type":"image","contentProvider":{"type":"line"}}"#),
            Self.lineMessage(user: writer, id: "w1", message: #"{"id":"w1-\#(writer)","type":"text","text":"hello"}"#),
        ])
        XCTAssertEqual(try postLINE(body, signature: Self.lineSignature(body, secret: lineSecret)).status, 200)
        _ = try waitForConversation(thread: writer)
        _ = try waitForConversation(thread: photographer)
        XCTAssertEqual(try db.query("SELECT metadata->>'mediaStatus' AS s FROM messages WHERE provider_message_id = $1",
                                    [imageID]).first?["s"], "pending", "the message is in while its download still runs")
        XCTAssertTrue(TestStack.eventually(within: 10) {
            (try? self.db.query("SELECT media_url FROM messages WHERE provider_message_id = $1", [imageID]).first?["media_url"] ?? nil) != nil
        }, "the image arrives once the download ends")
        XCTAssertNil(try db.query("SELECT metadata->>'mediaStatus' AS s FROM messages WHERE provider_message_id = $1",
                                  [imageID]).first?["s"] ?? nil)
    }

    /// A slow Graph API holds up nothing but the comment whose text it looks up: the comment is in at once with its
    /// placeholder, another customer's LINE message right behind it too, and the text replaces the placeholder when
    /// Graph answers again (the lookup is retried).
    func testASlowGraphAPIHoldsUpOnlyTheCommentsText() throws {
        let page = try TestStack.value("FACEBOOK_PAGE_ID")
        let secret = try TestStack.value("FACEBOOK_APP_SECRET")
        defer { OutboundFixture.clearFaults() }
        let commentID = "\(page)_\(Int.random(in: 1_000_000...9_999_999))"
        try OutboundFixture.fault(["pathPrefix": "/v25.0/\(commentID)", "delayMs": 10000])
        let comments = Array("""
            {"object":"page","entry":[{"id":"\(page)","time":1795737925000,"changes":[
              {"field":"feed","value":{"item":"comment","verb":"add","comment_id":"\(commentID)","post_id":"\(page)_111",
               "from":{"id":"8\(Int.random(in: 100_000_000...999_999_999))","name":"Malee"},"created_time":1795737925}}]}]}
            """.utf8)
        XCTAssertEqual(try TestStack.http("POST", "/api/webhook/facebook", body: comments, headers: [
            ("Content-Type", "application/json"), ("X-Hub-Signature-256", "sha256=" + Self.hmacHex(comments, secret: secret)),
        ]).status, 200)
        let writer = "U" + Self.hex(16)
        let line = Self.lineBody(destination: lineDestination, events: [
            Self.lineMessage(user: writer, id: "g1", message: #"{"id":"g1-\#(writer)","type":"text","text":"right behind"}"#),
        ])
        XCTAssertEqual(try postLINE(line, signature: Self.lineSignature(line, secret: lineSecret)).status, 200)
        _ = try waitForConversation(thread: writer)
        let comment = try waitForConversation(thread: commentID)
        XCTAssertEqual(comment["last_message_preview"], "[Comment]")
        XCTAssertEqual(try db.query("SELECT metadata->>'textStatus' AS s FROM messages WHERE provider_message_id = $1",
                                    [commentID]).first?["s"], "pending")

        OutboundFixture.clearFaults()
        let answered = try waitForConversation(thread: commentID, within: 20) { $0["last_message_preview"] != "[Comment]" }
        XCTAssertEqual(answered["last_message_preview"], "Comment text of \(commentID)")
        XCTAssertNil(try db.query("SELECT metadata->>'textStatus' AS s FROM messages WHERE provider_message_id = $1",
                                  [commentID]).first?["s"] ?? nil)
    }

    /// A customer who leaves (unfollow, i.e. a block) is logged on the lead they have, without moving its last
    /// contact; one HubChat never heard from makes no lead at all.
    func testAnUnfollowMakesNoLeadAndMovesNoLastContact() throws {
        let (stranger, customer) = ("U" + Self.hex(16), "U" + Self.hex(16))
        func unfollow(_ user: String, at ms: Int) -> String {
            #"{"type":"unfollow","webhookEventId":"uf\#(ms)-\#(user)","timestamp":\#(ms),"source":{"type":"user","userId":"\#(user)"},"mode":"active","deliveryContext":{"isRedelivery":false}}"#
        }
        let first = Self.lineBody(destination: lineDestination, events: [
            Self.lineMessage(user: customer, id: "hi", message: #"{"id":"hi-\#(customer)","type":"text","text":"hello"}"#),
        ])
        XCTAssertEqual(try postLINE(first, signature: Self.lineSignature(first, secret: lineSecret)).status, 200)
        _ = try waitForConversation(thread: customer)
        let contactBefore: Date = try db.query("SELECT last_contact_at FROM leads WHERE external_user_id = $1", [customer])
            .first!.decode("last_contact_at")

        let later = 1_795_737_925_000 + 3_600_000
        let leaving = Self.lineBody(destination: lineDestination, events: [unfollow(stranger, at: later), unfollow(customer, at: later)])
        XCTAssertEqual(try postLINE(leaving, signature: Self.lineSignature(leaving, secret: lineSecret)).status, 200)
        XCTAssertTrue(TestStack.eventually(within: 10) {
            (try? self.count("""
                SELECT count(*) AS n FROM activity_logs a JOIN leads l ON l.id = a.lead_id
                 WHERE l.external_user_id = $1 AND a.type = 'UNFOLLOW'
                """, [customer])) == 1
        }, "the customer's unfollow is logged on their lead")
        XCTAssertTrue(TestStack.eventually(within: 5) {
            (try? self.count("SELECT count(*) AS n FROM webhook_events WHERE provider_event_id = $1 AND processed_at IS NOT NULL",
                             ["uf\(later)-\(stranger)"])) == 1
        })
        XCTAssertEqual(try count("SELECT count(*) AS n FROM leads WHERE external_user_id = $1", [stranger]), 0,
                       "a stranger's unfollow made a lead")
        let contactAfter: Date = try db.query("SELECT last_contact_at FROM leads WHERE external_user_id = $1", [customer])
            .first!.decode("last_contact_at")
        XCTAssertEqual(contactAfter, contactBefore, "leaving is no contact")
    }

    /// A delivery held up by a lock is answered 503 inside LINE's 2 s (HUBCHAT_WEBHOOK_STATEMENT_TIMEOUT_MS, 1.5 s),
    /// not after the REST pool's 5 s, and LINE's redelivery then goes through.
    func testAWebhookHeldUpByALockAnswersBusyWithinLinesTimeout() throws {
        let holder = try TestStack.connection()
        let tenant: UUID = try holder.query("SELECT tenant_id FROM channel_accounts WHERE channel = 'LINE' AND external_account_id = $1",
                                            [lineDestination]).first!.decode("tenant_id")
        let user = "U" + Self.hex(16)
        let body = Self.lineBody(destination: lineDestination, events: [
            Self.lineMessage(user: user, id: "lk", message: #"{"id":"lk-\#(user)","type":"text","text":"held up"}"#),
        ])
        try holder.query("BEGIN")
        try holder.query("SELECT id FROM tenants WHERE id = $1 FOR UPDATE", [tenant])
        let started = Date()
        let busy = try postLINE(body, signature: Self.lineSignature(body, secret: lineSecret))
        let waited = Date().timeIntervalSince(started)
        try holder.query("ROLLBACK")
        XCTAssertEqual(busy.status, 503, busy.text)
        XCTAssertEqual((try TestStack.json(busy)["error"] as? [String: Any])?["code"] as? String, "database_busy")
        XCTAssertLessThan(waited, 4, "the webhook pool waited out the REST pool's statement timeout")
        XCTAssertEqual(try postLINE(body, signature: Self.lineSignature(body, secret: lineSecret)).status, 200)
        _ = try waitForConversation(thread: user)
    }

    /// Fields no real delivery has, but a forged-looking or buggy one can: a NUL inside an id, an id too long for a
    /// unique index, a timestamp past any calendar. The batch is stored and its good events land; nothing answers 500.
    func testHostileIDsAndTimestampsAreStoredNotFailed() throws {
        let user = "U" + Self.hex(16)
        let body = Self.lineBody(destination: lineDestination, events: [
            #"{"type":"message","webhookEventId":"nul\u0000-\#(user)","timestamp":1e22,"source":{"type":"user","userId":"\#(user)"},"message":{"id":"n1-\#(user)","type":"text","text":"first"},"mode":"active"}"#,
            #"{"type":"message","webhookEventId":"\#(String(repeating: "L", count: 5_000))-\#(user)","timestamp":"inf","source":{"type":"user","userId":"\#(user)"},"message":{"id":"n2-\#(user)","type":"text","text":"second"},"mode":"active"}"#,
        ])
        let response = try postLINE(body, signature: Self.lineSignature(body, secret: lineSecret))
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(try TestStack.json(response)["stored"] as? Int, 2)
        // A sender id too long for any index (random, so it does not compress): stored, acknowledged, not recorded.
        let huge = "U" + Self.hex(3_000)
        let forged = Self.lineBody(destination: lineDestination, events: [
            Self.lineMessage(user: huge, id: "h1", message: #"{"id":"h1-\#(user)","type":"text","text":"huge"}"#),
        ])
        let forgedResponse = try postLINE(forged, signature: Self.lineSignature(forged, secret: lineSecret))
        XCTAssertEqual(forgedResponse.status, 200, forgedResponse.text)
        XCTAssertEqual(try TestStack.json(forgedResponse)["stored"] as? Int, 1)
        let conversation = try waitForConversation(thread: user) { (try? $0.decode("unread_count", as: Int.self)) == 2 }
        XCTAssertEqual(try messageCount(conversation: try conversation.decode("id")), 2)
        let latest: Date = try conversation.decode("last_message_at")
        XCTAssertLessThan(abs(latest.timeIntervalSinceNow), 120, "an impossible timestamp falls back to the time it arrived")
        XCTAssertEqual(try count("SELECT count(*) AS n FROM webhook_events WHERE provider_event_id = $1", ["nul\u{FFFD}-\(user)"]), 1)
        let again = try postLINE(body, signature: Self.lineSignature(body, secret: lineSecret))
        XCTAssertEqual(try TestStack.json(again)["stored"] as? Int, 0, "both still deduplicate")
        let forgedKey = "sha256:" + SHA256.hash(data: Data("h1-\(huge)".utf8)).map { String(format: "%02x", $0) }.joined()
        XCTAssertTrue(TestStack.eventually(within: 5) {
            (try? self.db.query("SELECT last_error FROM webhook_events WHERE provider_event_id = $1 AND processed_at IS NOT NULL",
                                [forgedKey]).first?["last_error"] ?? nil)?.contains("longer than any provider") == true
        }, "the forged event is marked, not retried")
    }

    /// Deliveries that reach the webhook pool together are committed together (one process's threads share a group
    /// commit), yet each is answered for its own events: 12 threads post 8 deliveries each, every delivery posted by
    /// two threads at once (LINE redelivering while the first attempt is in flight). Every event is stored once,
    /// with one outbox event, and the deliveries' "stored" counts add up to exactly the events there were.
    func testConcurrentDeliveriesAndTheirRedeliveriesAreEachStoredOnce() throws {
        let run = Self.hex(8)
        let bodies: [[UInt8]] = (0..<48).map { n in
            let user = "U\(run)\(n)"
            return Self.lineBody(destination: lineDestination, events: [
                Self.lineMessage(user: user, id: "cc\(n)a", message: #"{"id":"cc\#(n)a-\#(run)","type":"text","text":"สวัสดี \#(n)"}"#),
                Self.lineMessage(user: user, id: "cc\(n)b", message: #"{"id":"cc\#(n)b-\#(run)","type":"text","text":"ขอราคา \#(n)"}"#),
            ])
        }
        let secret: String = lineSecret
        let results = NSLock()
        nonisolated(unsafe) var stored = 0
        nonisolated(unsafe) var failures: [String] = []
        let group = DispatchGroup()
        for thread in 0..<12 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                // Threads t and t + 6 post the same eight deliveries, in opposite orders.
                let mine = Array(bodies[(thread % 6) * 8..<(thread % 6 + 1) * 8])
                for body in thread < 6 ? mine : mine.reversed() {
                    do {
                        let response = try TestStack.http("POST", "/api/webhook/line", body: body, headers: [
                            ("Content-Type", "application/json"), ("x-line-signature", Self.lineSignature(body, secret: secret))])
                        let count = try TestStack.json(response)["stored"] as? Int
                        results.withLock {
                            if response.status != 200 || count == nil { failures.append("\(response.status) \(response.text)") }
                            stored += count ?? 0
                        }
                    } catch {
                        results.withLock { failures.append("\(error)") }
                    }
                }
            }
        }
        group.wait()
        XCTAssertEqual(failures, [])
        XCTAssertEqual(stored, 96, "each event counted as new by exactly one of its two deliveries")
        XCTAssertEqual(try count("SELECT count(*) AS n FROM webhook_events WHERE provider_event_id LIKE $1", ["cc%-U\(run)%"]), 96)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM outbox_events WHERE idempotency_key LIKE $1", ["LINE:cc%-U\(run)%"]), 96)
        // received_at is its transaction's start (now()), shared by the rows of one commit (the worker has rewritten
        // the rows since, so their xmin no longer tells): some commit carried more than one delivery (two events each).
        XCTAssertGreaterThan(try count("""
            SELECT max(n) AS n FROM (SELECT count(*) AS n FROM webhook_events WHERE provider_event_id LIKE $1
                                      GROUP BY received_at) commits
            """, ["cc%-U\(run)%"]), 2, "deliveries that arrived together were committed together")
        XCTAssertTrue(TestStack.eventually(within: 20) {
            (try? self.count("SELECT count(*) AS n FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                                + "WHERE c.channel_thread_id LIKE $1", ["U\(run)%"])) == 96
        }, "and each became one message")
    }

    /// A failed batch's requests are retried one at a time; a retry blocked behind a lock another session holds on
    /// one of its events (a stuck transaction) gives up within the retry lock timeout instead of spending the
    /// statement's, which the rest of its batch needs, and is answered 503 like a timeout (a transient conflict).
    func testARetryBlockedByALockGivesUpQuicklyAndTheOthersAreStored() throws {
        let user = "U" + Self.hex(16)
        func event(_ id: String) -> IncomingWebhookEvent {
            let json = Self.lineMessage(user: user, id: id, message: #"{"id":"\#(id)-\#(user)","type":"text","text":"hi"}"#)
            return IncomingWebhookEvent(tenantID: tenant, channelAccountID: nil, channel: .line, record: WebhookEventRecord(
                accountExternalID: lineDestination, providerEventID: "\(id)-\(user)", eventType: "message.text", payload: json))
        }
        let holder = try TestStack.connection()
        try holder.query("BEGIN")
        try holder.query("""
            INSERT INTO webhook_events (tenant_id, channel, provider_event_id, event_type, payload)
            VALUES ($1, 'LINE', $2, 'message.text', '{}')
            """, [tenant, "held-\(user)"])
        defer { _ = try? holder.query("ROLLBACK") }
        let session = try TestStack.connection()
        let lane = PostgresWebhookCommitLane(connection: { session })
        let started = Date()
        XCTAssertThrowsError(try lane.retryReportingNew([event("held")])) {
            XCTAssertEqual(($0 as? PostgresError)?.isTransientConflict, true, "\($0)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 1.0, "gave up on the lock in about 200 ms")
        XCTAssertEqual(try lane.retryReportingNew([event("free")]), [true], "the session is usable at once")
        _ = try holder.query("ROLLBACK")
        XCTAssertEqual(try lane.retryReportingNew([event("held")]), [true], "stored once the lock is gone")
    }

    /// The store statement as one group commit runs it: the first of two copies of an event in one statement is the
    /// new one (a redelivery that raced its original into the same commit), each event is reported by position, and
    /// the outbox takes the events in the order they came (one customer's order), whatever their ids' order.
    func testOneStatementStoresTheFirstCopyAndQueuesEventsInArrivalOrder() throws {
        let user = "U" + Self.hex(16)
        func event(_ id: String, _ text: String) -> IncomingWebhookEvent {
            let json = Self.lineMessage(user: user, id: id, message: #"{"id":"\#(id)-\#(user)","type":"text","text":"\#(text)"}"#)
            return IncomingWebhookEvent(tenantID: tenant, channelAccountID: nil, channel: .line, record: WebhookEventRecord(
                accountExternalID: lineDestination, providerEventID: "\(id)-\(user)", eventType: "message.text", payload: json))
        }
        // Ids in descending order, so that key order and arrival order differ.
        let batch = [event("z3", "first"), event("y2", "second"), event("z3", "first again"), event("x1", "third")]
        XCTAssertEqual(try PostgresWebhookEventStore(connection: db).storeReportingNew(batch), [true, true, false, true])
        XCTAssertEqual(try PostgresWebhookEventStore(connection: db).storeReportingNew(Array(batch.prefix(2))), [false, false])
        let queued = try db.query("SELECT idempotency_key FROM outbox_events WHERE idempotency_key LIKE $1 ORDER BY seq",
                                  ["%-\(user)"]).rows.map { $0["idempotency_key"] ?? "" }
        XCTAssertEqual(queued, ["LINE:z3-\(user)", "LINE:y2-\(user)", "LINE:x1-\(user)"])
        let stored = try db.query("SELECT payload->'message'->>'text' AS text FROM webhook_events WHERE provider_event_id = $1",
                                  ["z3-\(user)"]).first?["text"] ?? nil
        XCTAssertEqual(stored, "first", "the first copy is the one kept")
    }

    /// The usual LINE start: a friend adds the account, then writes. The follow's profile lookup named the lead
    /// before any conversation existed; the conversation the first message opens shows that name and picture too
    /// (it showed none until the profile was due again).
    func testAConversationOpenedAfterAFollowShowsTheFollowersProfile() throws {
        let user = "U" + Self.hex(16)
        let follow = Self.lineBody(destination: lineDestination, events: [
            #"{"type":"follow","webhookEventId":"fo-\#(user)","timestamp":1795737924000,"source":{"type":"user","userId":"\#(user)"},"replyToken":"r-fo","mode":"active","follow":{"isUnblocked":false}}"#,
        ])
        XCTAssertEqual(try postLINE(follow, signature: Self.lineSignature(follow, secret: lineSecret)).status, 200)
        XCTAssertTrue(TestStack.eventually(within: 10) {
            (try? self.count("SELECT count(*) AS n FROM leads WHERE tenant_id = $1 AND external_user_id = $2 AND name IS NOT NULL",
                             [self.tenant, user])) == 1
        }, "the follow's lookup names the lead")
        let message = Self.lineBody(destination: lineDestination, events: [
            #"{"type":"message","webhookEventId":"fm-\#(user)","timestamp":1795737926000,"source":{"type":"user","userId":"\#(user)"},"message":{"id":"fm-\#(user)","type":"text","text":"สวัสดีครับ"},"replyToken":"r-fm","mode":"active"}"#,
        ])
        XCTAssertEqual(try postLINE(message, signature: Self.lineSignature(message, secret: lineSecret)).status, 200)
        let conversation = try waitForConversation(thread: user) { (try? $0.decode("unread_count", as: Int.self)) == 1 }
        XCTAssertEqual(conversation["participant_display_name"], "LINE user \(user.suffix(6))")
        XCTAssertNotNil(conversation["participant_profile_image_url"] ?? nil)
    }

    /// A LINE group chat is one customer: every member's message lands in the group's conversation and lead, the
    /// member who spoke is kept on the message, and the name and picture come from the group summary.
    func testALINEGroupIsOneConversationWhoeverSpeaks() throws {
        let group = "C" + Self.hex(16)
        let (first, second) = ("U" + Self.hex(16), "U" + Self.hex(16))
        func said(_ user: String, _ id: String, _ text: String) -> String {
            #"{"type":"message","webhookEventId":"\#(id)-\#(group)","timestamp":1795737925000,"source":{"type":"group","groupId":"\#(group)","userId":"\#(user)"},"message":{"id":"\#(id)-\#(group)","type":"text","text":"\#(text)"},"replyToken":"r-\#(id)","mode":"active"}"#
        }
        let body = Self.lineBody(destination: lineDestination, events: [
            #"{"type":"join","webhookEventId":"j-\#(group)","timestamp":1795737924000,"source":{"type":"group","groupId":"\#(group)"},"replyToken":"r-j","mode":"active"}"#,
            said(first, "g1", "ขอราคาส่งครับ"), said(second, "g2", "100 ชิ้นค่ะ"),
        ])
        let response = try postLINE(body, signature: Self.lineSignature(body, secret: lineSecret))
        XCTAssertEqual(response.status, 200, response.text)
        let conversation = try waitForConversation(thread: group) {
            (try? $0.decode("unread_count", as: Int.self)) == 2 && ($0["participant_display_name"] ?? nil) != nil
        }
        XCTAssertEqual(conversation["participant_display_name"], "LINE group \(group.suffix(6))")
        XCTAssertEqual(try count("SELECT count(*) AS n FROM leads WHERE tenant_id = $1 AND external_user_id = ANY($2)",
                                 [tenant, [group, first, second]]), 1, "one lead, the group's")
        let speakers = try db.query("SELECT metadata->>'senderUserId' AS who FROM messages WHERE conversation_id = $1 ORDER BY content",
                                    [try conversation.decode("id", as: UUID.self)]).rows.map { $0["who"] ?? "" }
        XCTAssertEqual(Set(speakers), [first, second])
        XCTAssertTrue(TestStack.eventually(within: 5) {
            (try? self.count("""
                SELECT count(*) AS n FROM activity_logs a JOIN leads l ON l.id = a.lead_id
                 WHERE l.external_user_id = $1 AND a.type = 'JOIN'
                """, [group])) == 1
        })
    }

    func testTheConsoleVerifyPingIsAcknowledged() throws {
        let ping = Self.lineBody(destination: lineDestination, events: [])
        let response = try postLINE(ping, signature: Self.lineSignature(ping, secret: lineSecret))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(try TestStack.json(response)["received"] as? Int, 0)
    }

    func testEachTenantGetsItsOwnChannelAccountsEvents() throws {
        let admin = AdministrationRepository(connection: db)
        let other = try admin.upsertTenant(id: nil, name: "Second shop")
        defer { _ = try? db.query("DELETE FROM tenants WHERE id = $1", [other]) }
        let destination = "U" + Self.hex(16)
        let secret = Self.hex(16)
        try admin.upsertChannelAccount(tenantID: other, channel: "LINE", externalAccountID: destination, displayName: "B",
                                       credentials: try PostgresJSON(encoding: ["channelSecret": secret]))
        let user = "U" + Self.hex(16)
        let body = Self.lineBody(destination: destination, events: [
            Self.lineMessage(user: user, id: "x1", message: #"{"id":"x1-\#(user)","type":"text","text":"from B"}"#),
        ])
        // Signed with the first tenant's secret: refused.
        XCTAssertEqual(try postLINE(body, signature: Self.lineSignature(body, secret: lineSecret)).status, 401)
        XCTAssertEqual(try postLINE(body, signature: Self.lineSignature(body, secret: secret)).status, 200)
        let conversation = try waitForConversation(thread: user)
        XCTAssertEqual(try conversation.decode("tenant_id", as: UUID.self), other)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM conversations WHERE tenant_id = $1 AND channel_thread_id = $2",
                                 [tenant, user]), 0)
    }

    /// LINE gives one person the same user id at every channel of a provider: writing to two Official Accounts of
    /// one tenant makes two conversations (each answered through its own account) on one lead.
    func testOnePersonWritingToTwoLINEAccountsHasAConversationWithEach() throws {
        let admin = AdministrationRepository(connection: db)
        let second = "U" + Self.hex(16), secret = Self.hex(16)
        try admin.upsertChannelAccount(tenantID: tenant, channel: "LINE", externalAccountID: second, displayName: "Second OA",
                                       credentials: try PostgresJSON(encoding: ["channelSecret": secret]))
        defer { _ = try? db.query("UPDATE channel_accounts SET is_active = false WHERE external_account_id = $1", [second]) }
        let user = "U" + Self.hex(16)
        let toFirst = Self.lineBody(destination: lineDestination, events: [
            Self.lineMessage(user: user, id: "a1", message: #"{"id":"a1-\#(user)","type":"text","text":"to the first"}"#),
        ])
        let toSecond = Self.lineBody(destination: second, events: [
            Self.lineMessage(user: user, id: "b1", message: #"{"id":"b1-\#(user)","type":"text","text":"to the second"}"#),
        ])
        XCTAssertEqual(try postLINE(toFirst, signature: Self.lineSignature(toFirst, secret: lineSecret)).status, 200)
        XCTAssertEqual(try postLINE(toSecond, signature: Self.lineSignature(toSecond, secret: secret)).status, 200)
        XCTAssertTrue(TestStack.eventually(within: 10) {
            (try? self.count("SELECT count(*) AS n FROM conversations WHERE tenant_id = $1 AND channel_thread_id = $2",
                             [self.tenant, user])) == 2
        })
        let rows = try db.query("""
            SELECT c.unread_count, c.lead_id, a.external_account_id, c.last_message_preview
              FROM conversations c LEFT JOIN channel_accounts a ON a.id = c.channel_account_id
             WHERE c.tenant_id = $1 AND c.channel_thread_id = $2 ORDER BY c.last_message_preview
            """, [tenant, user]).rows
        XCTAssertEqual(rows.map { $0["last_message_preview"] ?? "" }, ["to the first", "to the second"])
        XCTAssertEqual(rows[1]["external_account_id"], second, "the second account's conversation is its own")
        XCTAssertNotEqual(rows[0]["external_account_id"], second)
        XCTAssertEqual(Set(rows.map { $0["lead_id"] ?? "" }).count, 1, "one person, one lead")
        XCTAssertEqual(rows.map { try? $0.decode("unread_count", as: Int.self) }, [1, 1])
    }

    /// A lead's last contact is kept to the minute: a message within a minute of it only reads the lead (no new row
    /// version, no list re-sort); a later one moves it forward.
    func testALeadsLastContactMovesAtMostOnceAMinute() throws {
        let user = "U" + Self.hex(16)
        let start = (Date().timeIntervalSince1970 - 600).rounded(.down)
        func send(_ id: String, after seconds: Double) throws {
            let event = #"{"type":"message","webhookEventId":"\#(id)-\#(user)","timestamp":\#(Int64((start + seconds) * 1000)),"source":{"type":"user","userId":"\#(user)"},"message":{"id":"\#(id)-\#(user)","type":"text","text":"\#(id)"},"mode":"active"}"#
            let body = Self.lineBody(destination: lineDestination, events: [event])
            XCTAssertEqual(try postLINE(body, signature: Self.lineSignature(body, secret: lineSecret)).status, 200)
        }
        func lead() throws -> (contact: Date, updated: Date) {
            let row = try XCTUnwrap(try db.query("SELECT last_contact_at, updated_at FROM leads WHERE tenant_id = $1 AND external_user_id = $2",
                                                 [tenant, user]).first)
            return (try row.decode("last_contact_at"), try row.decode("updated_at"))
        }
        try send("m1", after: 0)
        _ = try waitForConversation(thread: user) { (try? $0.decode("unread_count", as: Int.self)) == 1 }
        let first = try lead()
        XCTAssertEqual(first.contact.timeIntervalSince1970, start, accuracy: 0.001)
        try send("m2", after: 30)
        let conversation = try waitForConversation(thread: user) { (try? $0.decode("unread_count", as: Int.self)) == 2 }
        let last: Date = try conversation.decode("last_inbound_at")
        XCTAssertEqual(last.timeIntervalSince1970, start + 30, accuracy: 0.001, "the conversation stays exact")
        XCTAssertEqual(try lead().contact, first.contact, "within a minute the lead is only read")
        XCTAssertEqual(try lead().updated, first.updated)
        try send("m3", after: 75)
        _ = try waitForConversation(thread: user) { (try? $0.decode("unread_count", as: Int.self)) == 3 }
        XCTAssertEqual(try lead().contact.timeIntervalSince1970, start + 75, accuracy: 0.001)
        XCTAssertGreaterThan(try lead().updated, first.updated)
    }

    /// LINE asks that an unsent message's content be removed: the row stays (the thread keeps its shape), what it said
    /// and its raw payload go, the preview follows, and the lead's activity says so, once.
    func testAnUnsentMessageLosesWhatItSaid() throws {
        let user = "U" + Self.hex(16)
        let body = Self.lineBody(destination: lineDestination, events: [
            Self.lineMessage(user: user, id: "s1", message: #"{"id":"s1-\#(user)","type":"text","text":"my phone is 081-234-5678"}"#),
        ])
        XCTAssertEqual(try postLINE(body, signature: Self.lineSignature(body, secret: lineSecret)).status, 200)
        _ = try waitForConversation(thread: user) { ($0["last_message_preview"] ?? nil)?.contains("081") == true }
        let unsend = Self.lineBody(destination: lineDestination, events: [
            #"{"type":"unsend","webhookEventId":"u1-\#(user)","timestamp":1795737926000,"source":{"type":"user","userId":"\#(user)"},"unsend":{"messageId":"s1-\#(user)"},"mode":"active"}"#,
        ])
        XCTAssertEqual(try postLINE(unsend, signature: Self.lineSignature(unsend, secret: lineSecret)).status, 200)
        let conversation = try waitForConversation(thread: user) { $0["last_message_preview"] == "[Unsent by the customer]" }
        XCTAssertEqual(conversation["unread_count"], "0", "nothing is left to read")
        let message = try XCTUnwrap(try db.query("""
            SELECT content, raw_payload::text AS raw, metadata->>'unsent' AS unsent FROM messages WHERE provider_message_id = $1
            """, ["s1-\(user)"]).first)
        XCTAssertEqual(message["content"], "[Unsent by the customer]")
        XCTAssertNil(message["raw"] ?? nil, "the raw payload held the text too")
        let stored = try db.query("SELECT payload::text AS p FROM webhook_events WHERE provider_event_id = $1", ["s1-\(user)"]).first
        XCTAssertFalse((stored?["p"] ?? nil)?.contains("081") ?? true, "the stored webhook event held it as well")
        XCTAssertEqual(message["unsent"], "true")
        XCTAssertEqual(try count("SELECT count(*) AS n FROM activity_logs WHERE conversation_id = $1 AND type = 'MESSAGE_UNSENT'",
                                 [try conversation.decode("id", as: UUID.self)]), 1)
        // A second unsend of the same message (another event id) changes nothing.
        let again = Array(String(decoding: unsend, as: UTF8.self).replacingOccurrences(of: "u1-", with: "u2-").utf8)
        XCTAssertEqual(try postLINE(again, signature: Self.lineSignature(again, secret: lineSecret)).status, 200)
        XCTAssertTrue(TestStack.eventually(within: 5) {
            (try? self.count("SELECT count(*) AS n FROM webhook_events WHERE provider_event_id = $1 AND processed_at IS NOT NULL",
                             ["u2-\(user)"])) == 1
        })
        XCTAssertEqual(try count("SELECT count(*) AS n FROM activity_logs WHERE conversation_id = $1 AND type = 'MESSAGE_UNSENT'",
                                 [try conversation.decode("id", as: UUID.self)]), 1)

        // Taking back a message read already counts nothing off (reading did): one unread stays one.
        let more = Self.lineBody(destination: lineDestination, events: [
            Self.lineMessage(user: user, id: "s2", message: #"{"id":"s2-\#(user)","type":"text","text":"read this"}"#),
            Self.lineMessage(user: user, id: "s3", message: #"{"id":"s3-\#(user)","type":"text","text":"and this"}"#),
        ])
        XCTAssertEqual(try postLINE(more, signature: Self.lineSignature(more, secret: lineSecret)).status, 200)
        _ = try waitForConversation(thread: user) { $0["unread_count"] == "2" }
        try db.query("UPDATE conversations SET unread_count = 1, last_read_at = $2 WHERE id = $1",
                     [try conversation.decode("id", as: UUID.self), Date(timeIntervalSince1970: 1795737925.5)])
        let takeBack = Self.lineBody(destination: lineDestination, events: [
            #"{"type":"unsend","webhookEventId":"u3-\#(user)","timestamp":1795737927000,"source":{"type":"user","userId":"\#(user)"},"unsend":{"messageId":"s2-\#(user)"},"mode":"active"}"#,
        ])
        XCTAssertEqual(try postLINE(takeBack, signature: Self.lineSignature(takeBack, secret: lineSecret)).status, 200)
        XCTAssertTrue(TestStack.eventually(within: 5) {
            (try? self.count("SELECT count(*) AS n FROM webhook_events WHERE provider_event_id = $1 AND processed_at IS NOT NULL",
                             ["u3-\(user)"])) == 1
        })
        XCTAssertEqual(try count("SELECT unread_count AS n FROM conversations WHERE id = $1",
                                 [try conversation.decode("id", as: UUID.self)]), 1)
    }

    /// An unsent LINE image takes its stored files with it: its URL stops answering.
    func testAnUnsentImageIsRemovedFromStorage() throws {
        let user = "U" + Self.hex(16)
        let imageID = String(UInt64.random(in: 100_000_000_000...999_999_999_999))
        let body = Self.lineBody(destination: lineDestination, events: [
            Self.lineMessage(user: user, id: "i1", message: #"{"id":"\#(imageID)","type":"image","contentProvider":{"type":"line"}}"#),
        ])
        XCTAssertEqual(try postLINE(body, signature: Self.lineSignature(body, secret: lineSecret)).status, 200)
        var url: String?
        XCTAssertTrue(TestStack.eventually(within: 10) {
            url = try? self.db.query("SELECT media_url FROM messages WHERE provider_message_id = $1", [imageID]).first?["media_url"] ?? nil
            return url != nil
        })
        XCTAssertEqual(try CurlHTTPClient().send(HTTPRequest(url: try XCTUnwrap(url))).status, 200)
        let unsend = Self.lineBody(destination: lineDestination, events: [
            #"{"type":"unsend","webhookEventId":"iu-\#(user)","timestamp":1795737926000,"source":{"type":"user","userId":"\#(user)"},"unsend":{"messageId":"\#(imageID)"},"mode":"active"}"#,
        ])
        XCTAssertEqual(try postLINE(unsend, signature: Self.lineSignature(unsend, secret: lineSecret)).status, 200)
        XCTAssertTrue(TestStack.eventually(within: 10) {
            (try? CurlHTTPClient().send(HTTPRequest(url: url!)).status) == 404
        }, "the original is gone")
        XCTAssertNil(try db.query("SELECT media_url FROM messages WHERE provider_message_id = $1", [imageID]).first?["media_url"] ?? nil)
    }

    /// Messenger's message_edit: the message says its new text, the preview follows, one MESSAGE_EDITED activity.
    func testAnEditedMessengerMessageSaysItsNewText() throws {
        let page = try TestStack.value("FACEBOOK_PAGE_ID")
        let secret = try TestStack.value("FACEBOOK_APP_SECRET")
        let psid = "7" + String(Int.random(in: 100_000_000...999_999_999))
        func post(_ item: String) throws { try postMessenger(item, page: page, secret: secret) }
        try post(#"{"sender":{"id":"\#(psid)"},"recipient":{"id":"\#(page)"},"timestamp":1795737925000,"message":{"mid":"m_\#(psid)_e","text":"100 pcs"}}"#)
        _ = try waitForConversation(thread: psid) { $0["last_message_preview"] == "100 pcs" }
        let edit = #"{"sender":{"id":"\#(psid)"},"recipient":{"id":"\#(page)"},"timestamp":1795737930000,"message_edit":{"mid":"m_\#(psid)_e","text":"200 pcs","num_edit":1}}"#
        try post(edit)
        let conversation = try waitForConversation(thread: psid) { $0["last_message_preview"] == "200 pcs" }
        let message = try XCTUnwrap(try db.query(
            "SELECT content, metadata->>'edited' AS edited, metadata->>'editCount' AS n FROM messages WHERE provider_message_id = $1",
            ["m_\(psid)_e"]).first)
        XCTAssertEqual(message["content"], "200 pcs")
        XCTAssertEqual(message["edited"], "true")
        XCTAssertEqual(message["n"], "1")
        try post(edit)  // a redelivery of the edit changes nothing
        usleep(500_000)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM activity_logs WHERE conversation_id = $1 AND type = 'MESSAGE_EDITED'",
                                 [try conversation.decode("id", as: UUID.self)]), 1)
        XCTAssertEqual(try messageCount(conversation: try conversation.decode("id")), 1)
    }

    /// Providers do not keep order across retries: a take-back that comes before its message (the message's first
    /// delivery failed and was redelivered later) is held, and the message shows nothing of what it said.
    func testAnUnsendBeforeItsMessageIsAppliedWhenTheMessageComes() throws {
        let user = "U" + Self.hex(16)
        let unsend = Self.lineBody(destination: lineDestination, events: [
            #"{"type":"unsend","webhookEventId":"ub-\#(user)","timestamp":1795737926000,"source":{"type":"user","userId":"\#(user)"},"unsend":{"messageId":"sb-\#(user)"},"mode":"active"}"#,
        ])
        XCTAssertEqual(try postLINE(unsend, signature: Self.lineSignature(unsend, secret: lineSecret)).status, 200)
        XCTAssertTrue(TestStack.eventually(within: 10) {
            (try? self.count("SELECT count(*) AS n FROM held_revisions WHERE provider_message_id = $1", ["sb-\(user)"])) == 1
        }, "the take-back was not held")
        let body = Self.lineBody(destination: lineDestination, events: [
            Self.lineMessage(user: user, id: "sb", message: #"{"id":"sb-\#(user)","type":"text","text":"my address is 12 Sukhumvit"}"#),
        ])
        XCTAssertEqual(try postLINE(body, signature: Self.lineSignature(body, secret: lineSecret)).status, 200)
        let conversation = try waitForConversation(thread: user) { $0["last_message_preview"] == "[Unsent by the customer]" }
        let message = try XCTUnwrap(try db.query(
            "SELECT content, raw_payload::text AS raw FROM messages WHERE provider_message_id = $1", ["sb-\(user)"]).first)
        XCTAssertEqual(message["content"], "[Unsent by the customer]")
        XCTAssertNil(message["raw"] ?? nil)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM activity_logs WHERE conversation_id = $1 AND type = 'MESSAGE_UNSENT'",
                                 [try conversation.decode("id", as: UUID.self)]), 1)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM held_revisions WHERE provider_message_id = $1", ["sb-\(user)"]), 0,
                       "an applied revision is let go")
    }

    /// Messenger edits out of order: one before its message is held, and a late retry of an earlier edit does not
    /// replace a later one (num_edit decides).
    func testMessengerEditsOutOfOrderLeaveTheLatestText() throws {
        let page = try TestStack.value("FACEBOOK_PAGE_ID")
        let secret = try TestStack.value("FACEBOOK_APP_SECRET")
        let psid = "7" + String(Int.random(in: 100_000_000...999_999_999))
        func post(_ item: String) throws { try postMessenger(item, page: page, secret: secret) }
        func edit(_ count: Int, _ text: String, at seconds: Int) -> String {
            #"{"sender":{"id":"\#(psid)"},"recipient":{"id":"\#(page)"},"timestamp":\#(1_795_737_925_000 + seconds * 1000),"message_edit":{"mid":"m_\#(psid)_o","text":"\#(text)","num_edit":\#(count)}}"#
        }
        try post(edit(1, "price 500", at: 5))  // before the message itself
        XCTAssertTrue(TestStack.eventually(within: 10) {
            (try? self.count("SELECT count(*) AS n FROM held_revisions WHERE provider_message_id = $1", ["m_\(psid)_o"])) == 1
        }, "the early edit was not held")
        try post(#"{"sender":{"id":"\#(psid)"},"recipient":{"id":"\#(page)"},"timestamp":1795737925000,"message":{"mid":"m_\#(psid)_o","text":"price 5000"}}"#)
        _ = try waitForConversation(thread: psid) { $0["last_message_preview"] == "price 500" }
        try post(edit(3, "price 450", at: 9))
        _ = try waitForConversation(thread: psid) { $0["last_message_preview"] == "price 450" }
        try post(edit(2, "price 480", at: 7))  // a late retry of the second edit
        usleep(700_000)
        let message = try XCTUnwrap(try db.query(
            "SELECT content, metadata->>'editCount' AS n FROM messages WHERE provider_message_id = $1", ["m_\(psid)_o"]).first)
        XCTAssertEqual(message["content"], "price 450")
        XCTAssertEqual(message["n"], "3")
        XCTAssertEqual(try waitForConversation(thread: psid)["last_message_preview"], "price 450")
    }

    func testReprocessingAnEventRecordsNothingTwice() throws {
        let user = "U" + Self.hex(16)
        let body = Self.lineBody(destination: lineDestination, events: [
            Self.lineMessage(user: user, id: "r1", message: #"{"id":"r1-\#(user)","type":"text","text":"once"}"#),
        ])
        XCTAssertEqual(try postLINE(body, signature: Self.lineSignature(body, secret: lineSecret)).status, 200)
        let conversation = try waitForConversation(thread: user)
        let eventID: UUID = try XCTUnwrap(try db.query(
            "SELECT id FROM webhook_events WHERE provider_event_id = $1", ["r1-\(user)"]).first?.decode("id"))
        // As if the job ran again after a crash that lost its completion: the processed flag is
        // cleared and the same job payload is handled once more.
        try db.query("UPDATE webhook_events SET processed_at = NULL WHERE id = $1", [eventID])
        let process = ProcessInboundEvent(inbox: PostgresInbox(connection: db), logger: .init(label: "test"))
        let outcome = try process(jobPayload: #"{"webhookEventId":"\#(eventID.uuidString)"}"#)
        guard case .recorded(let record) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertFalse(record.inserted)
        let after = try waitForConversation(thread: user)
        XCTAssertEqual(try after.decode("unread_count", as: Int.self), 1)
        XCTAssertEqual(try messageCount(conversation: try conversation.decode("id")), 1)
        XCTAssertEqual(try process(jobPayload: #"{"webhookEventId":"\#(eventID.uuidString)"}"#), .alreadyProcessed)
    }

    func testSignedMediaURLsAreCheckedByNginx() throws {
        let storage = LocalMediaStorage(root: try TestStack.value("HUBCHAT_MEDIA_DIR"), publicBaseURL: try TestStack.baseURL,
                                        signingSecret: try TestStack.value("HUBCHAT_MEDIA_SIGNING_SECRET"))
        let path = "outbound/\(tenant.uuidString.lowercased())/\(Self.hex(8)).txt"
        try storage.put(bucket: "message-images", path: path, bytes: Array("signed content".utf8), contentType: "text/plain")
        let good = storage.url(bucket: "message-images", path: path, mode: .signed, ttlSeconds: 60)
        XCTAssertEqual(try CurlHTTPClient().send(HTTPRequest(url: good)).text, "signed content")
        let unsigned = storage.url(bucket: "message-images", path: path, mode: .public, ttlSeconds: 60)
        XCTAssertEqual(try CurlHTTPClient().send(HTTPRequest(url: unsigned)).status, 403)
        let forged = good.replacingOccurrences(of: "md5=", with: "md5=A")
        let refused = try CurlHTTPClient().send(HTTPRequest(url: forged))
        XCTAssertEqual(refused.status, 403)
        XCTAssertEqual(refused.headers["content-type"], "application/json", "the refusal is JSON, not the file's type")
        let expired = LocalMediaStorage(root: try TestStack.value("HUBCHAT_MEDIA_DIR"), publicBaseURL: try TestStack.baseURL,
                                        signingSecret: try TestStack.value("HUBCHAT_MEDIA_SIGNING_SECRET"),
                                        clock: { Date().addingTimeInterval(-3600) })
            .url(bucket: "message-images", path: path, mode: .signed, ttlSeconds: 60)
        XCTAssertEqual(try CurlHTTPClient().send(HTTPRequest(url: expired)).status, 410)
    }

    // MARK: Meta

    func testFacebookHandshakeAnswersOnlyTheRightToken() throws {
        let token = try TestStack.value("FACEBOOK_VERIFY_TOKEN")
        let ok = try TestStack.http("GET", "/api/webhook/facebook?hub.mode=subscribe&hub.verify_token=\(token)&hub.challenge=12345")
        XCTAssertEqual(ok.status, 200)
        XCTAssertEqual(ok.text, "12345")
        let wrong = try TestStack.http("GET", "/api/webhook/facebook?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1")
        XCTAssertEqual(wrong.status, 403)
        let instagram = try TestStack.http("GET", "/api/webhook/instagram?hub.mode=subscribe&hub.verify_token=\(token)&hub.challenge=77")
        XCTAssertEqual(instagram.text, "77")
    }

    func testMessengerCommentsAndInstagramLandWhileEchoesAndSelfCommentsDoNot() throws {
        let page = try TestStack.value("FACEBOOK_PAGE_ID")
        let secret = try TestStack.value("FACEBOOK_APP_SECRET")
        let psid = "7" + String(Int.random(in: 100_000_000...999_999_999))
        let commenter = "8" + String(Int.random(in: 100_000_000...999_999_999))
        let commentID = "\(page)_\(Int.random(in: 1_000_000...9_999_999))"
        let now = 1_795_737_925_000
        let body = Array("""
            {"object":"page","entry":[{"id":"\(page)","time":\(now),
              "messaging":[
                {"sender":{"id":"\(psid)"},"recipient":{"id":"\(page)"},"timestamp":\(now),
                 "message":{"mid":"m_\(psid)_1","text":"Is this still available?"}},
                {"sender":{"id":"\(page)"},"recipient":{"id":"\(psid)"},"timestamp":\(now + 1),
                 "message":{"mid":"m_\(psid)_echo","is_echo":true,"text":"Yes!"}}],
              "changes":[
                {"field":"feed","value":{"item":"comment","verb":"add","comment_id":"\(commentID)",
                 "post_id":"\(page)_111","from":{"id":"\(commenter)","name":"Somchai"},"message":"ขอราคาหน่อยครับ",
                 "created_time":1795737925}},
                {"field":"feed","value":{"item":"comment","verb":"add","comment_id":"\(commentID)9",
                 "post_id":"\(page)_111","from":{"id":"\(commenter)9","name":"Malee"},"created_time":1795737925}},
                {"field":"feed","value":{"item":"comment","verb":"add","comment_id":"\(page)_self\(psid)",
                 "post_id":"\(page)_111","from":{"id":"\(page)","name":"Demo Page"},"message":"Thanks all",
                 "created_time":1795737926}}]}]}
            """.utf8)
        let response = try TestStack.http("POST", "/api/webhook/facebook", body: body, headers: [
            ("Content-Type", "application/json"), ("X-Hub-Signature-256", "sha256=" + Self.hmacHex(body, secret: secret)),
        ])
        XCTAssertEqual(response.status, 200, response.text)

        let dm = try waitForConversation(thread: psid)
        XCTAssertEqual(try messageCount(conversation: try dm.decode("id")), 1)  // the echo is not a message
        let comment = try waitForConversation(thread: commentID)
        XCTAssertEqual(comment["provider_thread_type"], "FACEBOOK_COMMENT")
        XCTAssertEqual(comment["participant_display_name"], "Somchai")
        XCTAssertEqual(comment["last_message_preview"], "ขอราคาหน่อยครับ")
        // A comment webhook without text: the text comes from the Graph API (the simulator).
        let textless = try waitForConversation(thread: commentID + "9") { $0["last_message_preview"] != "[Comment]" }
        XCTAssertEqual(textless["last_message_preview"], "Comment text of \(commentID)9")
        XCTAssertEqual(try db.query("SELECT content, metadata->>'textStatus' AS s FROM messages WHERE provider_message_id = $1",
                                    [commentID + "9"]).first?["content"], "Comment text of \(commentID)9")
        usleep(300_000)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM leads WHERE tenant_id = $1 AND external_user_id = $2", [tenant, page]), 0,
                       "the page's own comment or echo became a lead")
        // A commenter's id is no PSID: the Graph API has no profile for it, so none is asked for.
        let lookups = try TestStack.simulatorRequests().filter { ($0["path"] as? String)?.contains(commenter) == true }
        XCTAssertEqual(lookups.count, 0, "a profile was looked up for a commenter: \(lookups)")

        let igAccount = try TestStack.value("INSTAGRAM_ACCOUNT_ID")
        let igUser = "9" + String(Int.random(in: 100_000_000...999_999_999))
        let ig = Array("""
            {"object":"instagram","entry":[{"id":"\(igAccount)","time":\(now),"messaging":[
              {"sender":{"id":"\(igUser)"},"recipient":{"id":"\(igAccount)"},"timestamp":\(now),
               "message":{"mid":"ig_\(igUser)_1","text":"hello from IG"}}]}]}
            """.utf8)
        let igResponse = try TestStack.http("POST", "/api/webhook/instagram", body: ig, headers: [
            ("Content-Type", "application/json"), ("X-Hub-Signature-256", "sha256=" + Self.hmacHex(ig, secret: secret)),
        ])
        XCTAssertEqual(igResponse.status, 200, igResponse.text)
        let igConversation = try waitForConversation(thread: "ig:user:\(igUser)")
        XCTAssertEqual(igConversation["channel"], "INSTAGRAM")
    }

    func testACommentWhoseAuthorMetaLeftOutIsACustomerOfItsOwn() throws {
        let page = try TestStack.value("FACEBOOK_PAGE_ID")
        let secret = try TestStack.value("FACEBOOK_APP_SECRET")
        let commentID = "\(page)_\(Int.random(in: 1_000_000...9_999_999))"
        let body = Array("""
            {"object":"page","entry":[{"id":"\(page)","time":1795737925000,"changes":[
              {"field":"feed","value":{"item":"comment","verb":"add","comment_id":"\(commentID)","post_id":"\(page)_111",
               "message":"ส่งต่างจังหวัดได้ไหมคะ","created_time":1795737925}}]}]}
            """.utf8)
        let response = try TestStack.http("POST", "/api/webhook/facebook", body: body, headers: [
            ("Content-Type", "application/json"), ("X-Hub-Signature-256", "sha256=" + Self.hmacHex(body, secret: secret)),
        ])
        XCTAssertEqual(response.status, 200, response.text)

        let conversation = try waitForConversation(thread: commentID)
        XCTAssertEqual(conversation["provider_thread_type"], "FACEBOOK_COMMENT")
        XCTAssertEqual(conversation["provider_comment_id"], commentID, "a Private Reply is addressed to the comment")
        XCTAssertEqual(conversation["participant_display_name"], "Facebook user")
        XCTAssertEqual(conversation["last_message_preview"], "ส่งต่างจังหวัดได้ไหมคะ")
        XCTAssertEqual(try count("SELECT count(*) AS n FROM leads WHERE tenant_id = $1 AND external_user_id = $2",
                                 [tenant, "comment:" + commentID]), 1)
        usleep(300_000)
        let lookups = try TestStack.simulatorRequests().filter { ($0["path"] as? String)?.contains("comment:") == true }
        XCTAssertEqual(lookups.count, 0, "a profile was looked up for a commenter Meta did not name")
    }

    func testAnEditedCommentSaysItsNewText() throws {
        let page = try TestStack.value("FACEBOOK_PAGE_ID")
        let secret = try TestStack.value("FACEBOOK_APP_SECRET")
        let commentID = "\(page)_\(Int.random(in: 1_000_000...9_999_999))"
        let commenter = "8" + String(Int.random(in: 100_000_000...999_999_999))
        func post(verb: String, text: String) throws {
            let body = Array("""
                {"object":"page","entry":[{"id":"\(page)","time":1795737925000,"changes":[
                  {"field":"feed","value":{"item":"comment","verb":"\(verb)","comment_id":"\(commentID)","post_id":"\(page)_111",
                   "from":{"id":"\(commenter)","name":"Somsri"},"message":"\(text)","created_time":1795737925}}]}]}
                """.utf8)
            let response = try TestStack.http("POST", "/api/webhook/facebook", body: body, headers: [
                ("Content-Type", "application/json"), ("X-Hub-Signature-256", "sha256=" + Self.hmacHex(body, secret: secret)),
            ])
            XCTAssertEqual(response.status, 200, response.text)
        }
        try post(verb: "add", text: "ราคา 1 ชิ้น")
        _ = try waitForConversation(thread: commentID) { $0["last_message_preview"] == "ราคา 1 ชิ้น" }
        try post(verb: "edited", text: "ราคา 2 ชิ้น")
        let conversation = try waitForConversation(thread: commentID) { $0["last_message_preview"] == "ราคา 2 ชิ้น" }
        XCTAssertEqual(try db.query("SELECT content FROM messages WHERE provider_message_id = $1", [commentID]).first?["content"] ?? nil,
                       "ราคา 2 ชิ้น")
        XCTAssertEqual(try messageCount(conversation: try conversation.decode("id")), 1)
    }

    /// A customer's edit that arrives while the comment's text is still being looked up is the text: the lookup
    /// that ends later does not put the old one back.
    func testAnEditWhileTheTextIsLookedUpWins() throws {
        let page = try TestStack.value("FACEBOOK_PAGE_ID")
        let secret = try TestStack.value("FACEBOOK_APP_SECRET")
        defer { OutboundFixture.clearFaults() }
        let commentID = "\(page)_\(Int.random(in: 1_000_000...9_999_999))"
        try OutboundFixture.fault(["pathPrefix": "/v25.0/\(commentID)", "delayMs": 2000, "count": 1])
        func post(verb: String, message: String) throws {
            let body = Array("""
                {"object":"page","entry":[{"id":"\(page)","time":1795737925000,"changes":[
                  {"field":"feed","value":{"item":"comment","verb":"\(verb)","comment_id":"\(commentID)","post_id":"\(page)_111",
                   "from":{"id":"81234","name":"Somsri"}\(message),"created_time":1795737925}}]}]}
                """.utf8)
            XCTAssertEqual(try TestStack.http("POST", "/api/webhook/facebook", body: body, headers: [
                ("Content-Type", "application/json"), ("X-Hub-Signature-256", "sha256=" + Self.hmacHex(body, secret: secret)),
            ]).status, 200)
        }
        try post(verb: "add", message: "")
        _ = try waitForConversation(thread: commentID)
        try post(verb: "edited", message: #","message":"แก้เป็น 3 ชิ้นค่ะ""#)
        _ = try waitForConversation(thread: commentID) { $0["last_message_preview"] == "แก้เป็น 3 ชิ้นค่ะ" }
        sleep(4)  // the delayed lookup answers (2 s) and its job ends
        let message = try XCTUnwrap(try db.query(
            "SELECT content, metadata->>'textStatus' AS s FROM messages WHERE provider_message_id = $1", [commentID]).first)
        XCTAssertEqual(message["content"], "แก้เป็น 3 ชิ้นค่ะ")
        XCTAssertNil(message["s"] ?? nil)
    }

    func testMetaSignatureIsCheckedBeforeAnythingIsStored() throws {
        let page = try TestStack.value("FACEBOOK_PAGE_ID")
        let mid = "m_forged_\(Self.hex(6))"
        let body = Array(#"{"object":"page","entry":[{"id":"\#(page)","time":1,"messaging":[{"sender":{"id":"1"},"recipient":{"id":"\#(page)"},"timestamp":1,"message":{"mid":"\#(mid)","text":"x"}}]}]}"#.utf8)
        let response = try TestStack.http("POST", "/api/webhook/facebook", body: body, headers: [
            ("X-Hub-Signature-256", "sha256=" + Self.hmacHex(body, secret: "wrong")),
        ])
        XCTAssertEqual(response.status, 401)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM webhook_events WHERE provider_event_id = $1", [mid]), 0)
    }

    // MARK: Helpers

    /// One signed Page delivery of a `messaging` item; asserts 200.
    func postMessenger(_ item: String, page: String, secret: String) throws {
        let body = Array(#"{"object":"page","entry":[{"id":"\#(page)","time":1795737925000,"messaging":[\#(item)]}]}"#.utf8)
        let response = try TestStack.http("POST", "/api/webhook/facebook", body: body, headers: [
            ("Content-Type", "application/json"), ("X-Hub-Signature-256", "sha256=" + Self.hmacHex(body, secret: secret)),
        ])
        XCTAssertEqual(response.status, 200, response.text)
    }

    func postLINE(_ body: [UInt8], signature: String?) throws -> HTTPResponse {
        var headers = [("Content-Type", "application/json")]
        if let signature { headers.append(("x-line-signature", signature)) }
        return try TestStack.http("POST", "/api/webhook/line", body: body, headers: headers)
    }

    func waitForConversation(thread: String, within seconds: Double = 10,
                             until done: (PostgresRow) -> Bool = { _ in true }) throws -> PostgresRow {
        var found: PostgresRow?
        _ = try TestStack.eventually(within: seconds) {
            found = try db.query("SELECT * FROM conversations WHERE channel_thread_id = $1", [thread]).first
            return found.map(done) ?? false
        }
        return try XCTUnwrap(found, "no conversation for \(thread) (is the worker running?)")
    }

    func messageCount(conversation: UUID) throws -> Int {
        try count("SELECT count(*) AS n FROM messages WHERE conversation_id = $1", [conversation])
    }

    func count(_ sql: String, _ params: [(any PostgresEncodable)?]) throws -> Int {
        try db.query(sql, params).first!.decode("n")
    }

    static func lineBody(destination: String, events: [String]) -> [UInt8] {
        Array(#"{"destination":"\#(destination)","events":[\#(events.joined(separator: ","))]}"#.utf8)
    }

    static func lineMessage(user: String, id: String, message: String) -> String {
        #"{"type":"message","message":\#(message),"webhookEventId":"\#(id)-\#(user)","deliveryContext":{"isRedelivery":false},"timestamp":1795737925000,"source":{"type":"user","userId":"\#(user)"},"replyToken":"rt-\#(id)","mode":"active"}"#
    }

    static func lineSignature(_ body: [UInt8], secret: String) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))).base64EncodedString()
    }

    static func hmacHex(_ body: [UInt8], secret: String) -> String {
        HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
            .map { String(format: "%02x", $0) }.joined()
    }

    static func hex(_ bytes: Int) -> String {
        (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }
}

/// The worker killed with SIGKILL while it works through a burst: its leased jobs come back
/// when the lease expires, and every event ends as exactly one message, counted once.
final class WorkerCrashTests: XCTestCase {
    func testKillingTheWorkerMidBatchLosesNothingAndCountsNothingTwice() throws {
        let db = try TestStack.connection()
        let secret = try TestStack.value("LINE_CHANNEL_SECRET")
        let destination = try TestStack.value("LINE_DESTINATION")
        let user = "U" + WebhookIngestTests.hex(16)
        let total = 150
        try TestStack.control("worker-stop")
        defer { try? TestStack.control("worker-start") }

        for batch in 0..<(total / 10) {
            let events = (0..<10).map { i -> String in
                let n = batch * 10 + i
                return WebhookIngestTests.lineMessage(
                    user: user, id: "crash\(n)", message: #"{"id":"crash\#(n)-\#(user)","type":"text","text":"message \#(n)"}"#)
            }
            let body = WebhookIngestTests.lineBody(destination: destination, events: events)
            let response = try TestStack.http("POST", "/api/webhook/line", body: body, headers: [
                ("Content-Type", "application/json"), ("x-line-signature", WebhookIngestTests.lineSignature(body, secret: secret)),
            ])
            XCTAssertEqual(response.status, 200)
        }

        try TestStack.control("worker-start")
        usleep(150_000)
        try TestStack.control("worker-kill")
        let doneBeforeCrash = try Self.messages(db, user)
        try TestStack.control("worker-start")

        let recovered = try TestStack.eventually(within: 40) { try Self.messages(db, user) == total }
        let recordedNow = try Self.messages(db, user)
        XCTAssertTrue(recovered, "only \(recordedNow) of \(total) messages after the restart")
        usleep(300_000)
        XCTAssertEqual(try Self.messages(db, user), total)
        let unread: Int = try XCTUnwrap(try db.query(
            "SELECT unread_count FROM conversations WHERE channel_thread_id = $1", [user]).first?.decode("unread_count"))
        XCTAssertEqual(unread, total)
        let stuck: Int = try db.query("""
            SELECT count(*) AS n FROM queue_jobs q JOIN webhook_events w ON w.id = (q.payload->>'webhookEventId')::uuid
             WHERE w.provider_event_id LIKE $1 AND q.status <> 'DONE'
            """, ["crash%-\(user)"]).first!.decode("n")
        XCTAssertEqual(stuck, 0)
        print("worker crash drill: \(doneBeforeCrash) of \(total) messages recorded before SIGKILL, \(total) after recovery")
    }

    static func messages(_ db: PostgresConnection, _ user: String) throws -> Int {
        try db.query("""
            SELECT count(*) AS n FROM messages m JOIN conversations c ON c.id = m.conversation_id
             WHERE c.channel_thread_id = $1
            """, [user]).first!.decode("n")
    }
}
