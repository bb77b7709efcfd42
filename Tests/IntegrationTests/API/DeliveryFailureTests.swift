import Core
import Foundation
import XCTest

/// What delivery does when providers fail, slow down or refuse, and when workers die.
final class DeliveryFailureTests: XCTestCase {
    override func tearDown() {
        if let simulator = try? TestStack.value("SIMULATOR_URL") {
            _ = try? CurlHTTPClient().send(HTTPRequest(method: "DELETE", url: simulator + "/__faults"))
        }
    }

    /// Pushes the simulator answered, per retry key, by status.
    func pushes(_ f: OutboundFixture) throws -> [(key: String, status: Int, text: String)] {
        try f.providerRequests("/v2/bot/message/push").map { request in
            let headers = request["headers"] as? [String: String] ?? [:]
            let text = (((request["body"] as? [String: Any])?["messages"] as? [[String: Any]])?.first?["text"] as? String) ?? ""
            return (headers["x-line-retry-key"] ?? "", request["status"] as? Int ?? 0, text)
        }
    }

    func testFailingTwiceThenSucceedingDeliversExactlyOnce() throws {
        let f = try OutboundFixture.make()
        try OutboundFixture.fault(["pathPrefix": "/v2/bot/message/push", "match": f.lineUser, "status": 500, "count": 2])
        let sent = try f.send(f.lineConversation, lead: f.lineLead, channel: "LINE", ["content": "third time lucky"])
        let id = try XCTUnwrap(sent.object["messageId"] as? String)
        XCTAssertEqual(try f.settledStatus(id, within: 20)["status"], "SENT")
        let attempts = try pushes(f)
        XCTAssertEqual(attempts.map(\.status), [500, 500, 200])
        XCTAssertEqual(Set(attempts.map(\.key)), [id], "every attempt carries the same retry key")
    }

    func testRateLimitedAttemptsAreDeferredWithoutUsingAttempts() throws {
        let f = try OutboundFixture.make()
        try OutboundFixture.fault(["pathPrefix": "/v2/bot/message/push", "match": f.lineUser, "status": 429, "count": 3,
                                   "headers": ["Retry-After": "1"]])
        let sent = try f.send(f.lineConversation, lead: f.lineLead, channel: "LINE", ["content": "patience"])
        let id = try XCTUnwrap(sent.object["messageId"] as? String)
        XCTAssertEqual(try f.settledStatus(id, within: 20)["status"], "SENT")
        let job = try XCTUnwrap(try TestStack.connection().query(
            "SELECT attempts, deferrals FROM queue_jobs WHERE payload->>'messageId' = $1", [id]).first)
        XCTAssertEqual(job["attempts"], "1", "rate-limited attempts are given back")
        XCTAssertEqual(job["deferrals"], "3")
    }

    func testAPermanentRefusalDeadLettersAndAReplayDelivers() throws {
        let f = try OutboundFixture.make()
        try OutboundFixture.fault(["pathPrefix": "/v2/bot/message/push", "match": f.lineUser, "status": 400, "count": 1,
                                   "body": ["message": "The property, 'to', in the request body is invalid"]])
        let sent = try f.send(f.lineConversation, lead: f.lineLead, channel: "LINE", ["content": "refused once"])
        let id = try XCTUnwrap(sent.object["messageId"] as? String)
        let failed = try f.settledStatus(id)
        XCTAssertEqual(failed["status"], "FAILED")
        XCTAssertEqual(failed["errorCode"], "line_400")
        XCTAssertTrue((failed["errorReason"] ?? nil)?.contains("'to'") ?? false, "\(failed)")
        let db = try TestStack.connection()
        let job: String = try XCTUnwrap(try db.query(
            "SELECT id FROM queue_jobs WHERE payload->>'messageId' = $1 AND status = 'DEAD_LETTER'", [id]).first?["id"])
        // The operator sees it and replays it.
        let list = try Self.cli(["dead-letters", "list", "--tenant", f.api.tenantID.uuidString])
        XCTAssertTrue(list.contains(job), list)
        XCTAssertTrue(try Self.cli(["dead-letters", "replay", job]).contains("replayed 1"))
        XCTAssertEqual(try f.settledStatus(id)["status"], "SENT")
        XCTAssertEqual(try pushes(f).map(\.status), [400, 200])
        // Naming it again (no longer a dead letter) fails, and says why.
        XCTAssertTrue(try Self.cli(["dead-letters", "replay", job], exitStatus: 1).contains("not a dead letter: \(job)"))
    }

    func testOneConversationsMessagesLeaveInOrderEvenWhenOneIsRetried() throws {
        let f = try OutboundFixture.make()
        try OutboundFixture.fault(["pathPrefix": "/v2/bot/message/push", "match": "first of three", "status": 503, "count": 1])
        var ids: [String] = []
        for text in ["first of three", "second of three", "third of three"] {
            ids.append(try XCTUnwrap(try f.send(f.lineConversation, lead: f.lineLead, channel: "LINE", ["content": text])
                .object["messageId"] as? String))
        }
        for id in ids { XCTAssertEqual(try f.settledStatus(id, within: 20)["status"], "SENT") }
        let delivered = try pushes(f).filter { $0.status == 200 }.map(\.text)
        XCTAssertEqual(delivered, ["first of three", "second of three", "third of three"])
    }

    func testTwoWorkersShareTheQueueAndDeliverEachMessageOnce() throws {
        let f = try OutboundFixture.make()
        let second = try ChildProcess(try TestStack.binDir + "/hubchat-worker", [])
        defer { kill(second.pid, SIGTERM); second.wait() }
        try OutboundFixture.fault(["pathPrefix": "/v2/bot/message/push", "match": f.tag, "delayMs": 30, "count": -1])
        var ids: [String] = []
        for i in 0..<24 {
            let (conversation, lead) = try Self.extraLineConversation(f, i)
            ids.append(try XCTUnwrap(try f.send(conversation, lead: lead, channel: "LINE", ["content": "m\(i)"]).object["messageId"] as? String))
        }
        for id in ids { XCTAssertEqual(try f.settledStatus(id, within: 20)["status"], "SENT") }
        let accepted = try pushes(f).filter { $0.status == 200 }.map(\.key)
        XCTAssertEqual(accepted.count, ids.count)
        XCTAssertEqual(Set(accepted), Set(ids), "each message delivered exactly once")
        let workers = try TestStack.connection().query("""
            SELECT count(DISTINCT split_part(locked_by, '/', 1)) AS n FROM queue_jobs
             WHERE payload->>'messageId' = ANY($1::text[])
            """, [PostgresTextArray(ids)]).first?["n"]
        XCTAssertEqual(workers, "2", "both workers took jobs")
    }

    func testKillingTheWorkerMidDeliveryLosesNothingAndPushesNothingTwice() throws {
        let f = try OutboundFixture.make()
        // Slow provider: deliveries are in flight when the worker dies; the simulator still accepts them.
        try OutboundFixture.fault(["pathPrefix": "/v2/bot/message/push", "match": f.tag, "delayMs": 1500, "count": -1])
        var ids: [String] = []
        for i in 0..<8 {
            let (conversation, lead) = try Self.extraLineConversation(f, i)
            ids.append(try XCTUnwrap(try f.send(conversation, lead: lead, channel: "LINE", ["content": "k\(i)"]).object["messageId"] as? String))
        }
        XCTAssertTrue(try TestStack.eventually(within: 5) { try !self.pushes(f).isEmpty })
        try TestStack.control("worker-kill")
        _ = try CurlHTTPClient().send(HTTPRequest(method: "DELETE", url: try TestStack.value("SIMULATOR_URL") + "/__faults"))
        try TestStack.control("worker-start")
        for id in ids { XCTAssertEqual(try f.settledStatus(id, within: 30)["status"], "SENT") }
        let attempts = try pushes(f)
        for id in ids {
            let accepted = attempts.filter { $0.key == id && $0.status == 200 }.count
            XCTAssertEqual(accepted, 1, "message \(id): \(attempts.filter { $0.key == id }.map(\.status))")
        }
        print("outbound crash drill: \(ids.count) messages, \(attempts.count) push attempts, "
              + "\(attempts.filter { $0.status == 409 }.count) answered 409 (already accepted)")
    }

    /// A worker that dies during a message's last attempt leaves a job that no code of its own will settle: the
    /// rescue dead-letters it, and the message must not stay QUEUED for ever.
    func testADeliveryWhoseWorkerDiedOnItsLastAttemptFails() throws {
        let f = try OutboundFixture.make()
        try OutboundFixture.fault(["pathPrefix": "/v2/bot/message/push", "match": f.tag, "delayMs": 3000, "count": -1])
        let id = try XCTUnwrap(try f.send(f.lineConversation, lead: f.lineLead, channel: "LINE", ["content": "last try"])
            .object["messageId"] as? String)
        XCTAssertTrue(try TestStack.eventually(within: 5) { try !self.pushes(f).isEmpty })
        try TestStack.control("worker-kill")
        defer { try? TestStack.control("worker-start") }
        _ = try CurlHTTPClient().send(HTTPRequest(method: "DELETE", url: try TestStack.value("SIMULATOR_URL") + "/__faults"))
        let db = try TestStack.connection()
        // As if this was its last attempt, and its lease has run out.
        try db.query("""
            UPDATE queue_jobs SET max_attempts = attempts, lease_expires_at = now() - interval '1 second'
             WHERE payload->>'messageId' = $1 AND status = 'RUNNING'
            """, [id])
        try TestStack.control("worker-start")
        let settled = try f.settledStatus(id, within: 20)
        XCTAssertEqual(settled["status"], "FAILED")
        XCTAssertEqual(settled["errorCode"], "worker_stopped")
        XCTAssertEqual(try db.query("SELECT status FROM queue_jobs WHERE payload->>'messageId' = $1", [id]).first?["status"],
                       "DEAD_LETTER")
    }

    /// Kills the worker while the provider holds `path`'s request for `id`, as if its lease were long (production's
    /// 120 s), and starts a new one: it must take the job back at once (the old process has no connection left).
    func killMidRequest(_ f: OutboundFixture, id: String, path: String) throws {
        XCTAssertTrue(try TestStack.eventually(within: 5) { try !f.providerRequests(path).isEmpty }, "never sent")
        try TestStack.control("worker-kill")
        defer { try? TestStack.control("worker-start") }
        _ = try CurlHTTPClient().send(HTTPRequest(method: "DELETE", url: try TestStack.value("SIMULATOR_URL") + "/__faults"))
        try TestStack.connection().query("""
            UPDATE queue_jobs SET lease_expires_at = now() + interval '10 minutes'
             WHERE payload->>'messageId' = $1 AND status = 'RUNNING'
            """, [id])
        try TestStack.control("worker-start")
    }

    func assertFailedAfterOneRequest(_ f: OutboundFixture, id: String, code: String, path: String,
                                     file: StaticString = #filePath, line: UInt = #line) throws {
        let settled = try f.settledStatus(id, within: 15)
        XCTAssertEqual(settled["status"], "FAILED", file: file, line: line)
        XCTAssertEqual(settled["errorCode"], code, file: file, line: line)
        XCTAssertEqual(try f.providerRequests(path).count, 1, "sent to the provider once", file: file, line: line)
    }

    /// Meta's Send API has no idempotency key: a send whose worker died mid-request may have reached the customer,
    /// so the next worker must not post it again; it fails with the reason, at once and not after the lease.
    func testAMessengerSendCutShortByAWorkerCrashIsNotSentTwice() throws {
        let f = try OutboundFixture.make()
        try OutboundFixture.fault(["pathPrefix": "/v", "match": f.psid, "delayMs": 3000, "count": -1])
        let id = try XCTUnwrap(try f.send(f.dmConversation, lead: f.dmLead, channel: "FACEBOOK", ["content": "just once"])
            .object["messageId"] as? String)
        try killMidRequest(f, id: id, path: "/me/messages")
        try assertFailedAfterOneRequest(f, id: id, code: "meta_send_unconfirmed", path: "/me/messages")
        // The operator, having checked, replays it: that is a decision to send again, and it goes.
        let job: String = try XCTUnwrap(try TestStack.connection().query(
            "SELECT id FROM queue_jobs WHERE payload->>'messageId' = $1 AND status = 'DEAD_LETTER'", [id]).first?["id"])
        XCTAssertTrue(try Self.cli(["dead-letters", "replay", job]).contains("replayed 1"))
        XCTAssertEqual(try f.settledStatus(id, within: 15)["status"], "SENT")
        XCTAssertEqual(try f.providerRequests("/me/messages").count, 2)
        // The next message of the conversation goes out as usual.
        let next = try XCTUnwrap(try f.send(f.dmConversation, lead: f.dmLead, channel: "FACEBOOK", ["content": "next"])
            .object["messageId"] as? String)
        XCTAssertEqual(try f.settledStatus(next, within: 15)["status"], "SENT")
    }

    /// A LINE reply token works once and a reply has no retry key: a reply cut short by a crash is not pushed again.
    func testALineReplyCutShortByAWorkerCrashIsNotPushedAfterwards() throws {
        let f = try OutboundFixture.make()
        try TestStack.connection().query("""
            UPDATE conversations SET line_reply_token = $2, line_reply_token_received_at = now() WHERE id = $1
            """, [f.lineConversation, "crash-\(f.tag)"])
        try OutboundFixture.fault(["pathPrefix": "/v2/bot/message/reply", "match": "crash-\(f.tag)", "delayMs": 3000, "count": -1])
        let id = try XCTUnwrap(try f.send(f.lineConversation, lead: f.lineLead, channel: "LINE", ["content": "reply once"])
            .object["messageId"] as? String)
        try killMidRequest(f, id: id, path: "/v2/bot/message/reply")
        try assertFailedAfterOneRequest(f, id: id, code: "line_reply_unconfirmed", path: "/v2/bot/message/reply")
        XCTAssertEqual(try pushes(f).count, 0, "not pushed after the reply")
    }

    /// The Page answers the comment privately itself (from Meta's inbox), as a tool outside HubChat would.
    func privateReplyFromElsewhere(_ f: OutboundFixture) throws {
        let body = #"{"recipient":{"comment_id":"\#(f.commentID)"},"message":{"text":"answered from the Page inbox"}}"#
        let answer = try CurlHTTPClient().send(HTTPRequest(
            method: "POST", url: try TestStack.value("SIMULATOR_URL") + "/v25.0/me/messages?access_token=fb-token-\(f.tag)",
            headers: [("Content-Type", "application/json")], body: Array(body.utf8)))
        XCTAssertEqual(answer.status, 200)
    }

    func sendToComment(_ f: OutboundFixture, _ text: String) throws -> String {
        try XCTUnwrap(try f.send(f.commentConversation, lead: f.commentLead, channel: "FACEBOOK", [
            "content": text, "facebookTargetType": "COMMENT", "facebookTargetId": f.commentID,
        ]).object["messageId"] as? String)
    }

    /// Meta refuses a second Private Reply to one comment (10900). When the first was not ours, the agent's message
    /// did not go out: it fails and says why, and no public reply follows.
    func testAPrivateReplyRefusedBecauseThePageAlreadyAnsweredFails() throws {
        let f = try OutboundFixture.make()
        try privateReplyFromElsewhere(f)
        let id = try sendToComment(f, "hello from HubChat")
        let settled = try f.settledStatus(id, within: 15)
        XCTAssertEqual(settled["status"], "FAILED")
        XCTAssertEqual(settled["errorCode"], "private_reply_already_sent")
        XCTAssertEqual(try f.providerRequests("/comments").count, 0, "no public reply for a message that did not go")
    }

    /// The same refusal for a message whose own earlier attempt was in flight when its worker stopped means that
    /// attempt went out: SENT, and not sent again by Messenger.
    func testAPrivateReplyInterruptedEarlierCountsAsSentWhenMetaRefusesASecond() throws {
        let f = try OutboundFixture.make()
        try TestStack.control("worker-stop")
        defer { try? TestStack.control("worker-start") }
        let id = try sendToComment(f, "sent before the crash")
        try TestStack.connection().query("""
            UPDATE messages SET metadata = metadata || '{"sendingPart": "privateReply"}' WHERE id = $1::uuid
            """, [id])
        try privateReplyFromElsewhere(f)  // stands for the interrupted attempt's own reply
        try TestStack.control("worker-start")
        XCTAssertEqual(try f.settledStatus(id, within: 15)["status"], "SENT")
        let sends = try f.providerRequests("/messages")  // ours goes to /{page-id}/messages
        XCTAssertEqual(sends.count, 2, "the earlier reply and one refused repeat: \(sends.map { $0["status"] ?? "" })")
        XCTAssertEqual(sends.last?["status"] as? Int, 400)
        // The interrupted reply's answer, with the commenter's PSID, is lost: nobody is known to DM, and a send
        // says so up front rather than going to the commenter's own id (no PSID).
        let next = try f.send(f.commentConversation, lead: f.commentLead, channel: "FACEBOOK", ["content": "and then?"])
        XCTAssertEqual(next.status, 422, next.text)
        XCTAssertEqual(next.errorCode, "no_messenger_recipient")
    }

    /// A send that got an answer (here a 500) leaves no mark behind: the retry goes out and the message is SENT.
    func testAnAnsweredFailureDoesNotLookInterrupted() throws {
        let f = try OutboundFixture.make()
        try OutboundFixture.fault(["pathPrefix": "/v", "match": f.psid, "status": 500, "count": 1])
        let id = try XCTUnwrap(try f.send(f.dmConversation, lead: f.dmLead, channel: "FACEBOOK", ["content": "after a 500"])
            .object["messageId"] as? String)
        XCTAssertEqual(try f.settledStatus(id, within: 20)["status"], "SENT")
        XCTAssertEqual(try f.providerRequests("/me/messages").count, 2)
        let mark = try TestStack.connection().query("SELECT metadata ? 'sendingPart' AS marked FROM messages WHERE id = $1::uuid",
                                                    [id]).first?["marked"]
        XCTAssertEqual(mark, "f")
    }

    func testWorkerReadyAndMetrics() throws {
        let ready = try CurlHTTPClient().send(HTTPRequest(url: try TestStack.value("WORKER_READY_URL")))
        XCTAssertEqual(ready.status, 200, ready.text)
        let metrics = try CurlHTTPClient().send(HTTPRequest(url: try TestStack.value("WORKER_METRICS_URL")))
        XCTAssertEqual(metrics.status, 200)
        for name in ["hubchat_queue_depth", "hubchat_queue_lag_seconds", "hubchat_outbox_depth", "hubchat_dead_letters",
                     "hubchat_worker_jobs_processed_total", "hubchat_worker_jobs_retried_total",
                     "hubchat_worker_jobs_dead_lettered_total", "hubchat_provider_latency_p95_ms",
                     "hubchat_provider_request_duration_seconds_bucket", "hubchat_worker_jobs_per_second"] {
            XCTAssertTrue(metrics.text.contains(name), "\(name) missing from /metrics")
        }
        try TestStack.control("pg-stop")
        defer { try? TestStack.control("pg-start") }
        let down = try CurlHTTPClient().send(HTTPRequest(url: try TestStack.value("WORKER_READY_URL")))
        XCTAssertEqual(down.status, 503)
        XCTAssertTrue(down.text.contains("database unreachable"), down.text)
        try TestStack.control("pg-start")
        XCTAssertTrue(try TestStack.eventually(within: 10) {
            (try? CurlHTTPClient().send(HTTPRequest(url: try TestStack.value("WORKER_READY_URL"))).status) == 200
        })
    }

    // MARK: helpers

    static func extraLineConversation(_ f: OutboundFixture, _ i: Int) throws -> (UUID, UUID) {
        let db = try TestStack.connection()
        let user = "\(f.lineUser)-\(i)"
        let lead: UUID = try db.query("""
            INSERT INTO leads (tenant_id, source_channel, external_user_id) VALUES ($1, 'LINE', $2) RETURNING id
            """, [f.api.tenantID, user]).first!.decode("id")
        let conversation: UUID = try db.query("""
            INSERT INTO conversations (tenant_id, lead_id, channel, channel_thread_id) VALUES ($1, $2, 'LINE', $3) RETURNING id
            """, [f.api.tenantID, lead, user]).first!.decode("id")
        return (conversation, lead)
    }

    /// Runs the operator CLI against the stack; its standard output.
    static func cli(_ arguments: [String], exitStatus expected: Int32 = 0) throws -> String {
        let out = try TestStack.runDir + "/cli-\(UUID().uuidString).out"
        let child = try ChildProcess("/bin/sh", ["-c", "\"$0\" \"$@\" > '\(out)' 2>&1", try TestStack.binDir + "/hubchat"] + arguments)
        let status = child.wait()
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: out)
        XCTAssertEqual(status, expected, text)
        return text
    }
}
