import Core
import Foundation
import Synchronization
import XCTest

final class LeadsAPITests: XCTestCase {
    func testListFiltersAndReadsOneLead() throws {
        let f = try APIFixture.make(leadCount: 4, messageCount: 0)
        let db = try TestStack.connection()
        try db.query("UPDATE leads SET status = 'ASSIGNED', assigned_sales_id = $2 WHERE id = $1", [f.leads[1], f.sales])

        let all = try f.call("GET", "/api/leads")
        XCTAssertEqual(all.status, 200)
        XCTAssertEqual(all.data.compactMap { $0["name"] as? String }, ["Lead 1", "Lead 0", "Lead 2", "Lead 3"],
                       "the update made lead 1 the newest activity")
        XCTAssertNil(all.nextCursor)
        let first = all.data[1]
        XCTAssertEqual(first["status"] as? String, "NEW")
        XCTAssertEqual(first["allowedNextStatuses"] as? [String], ["ASSIGNED", "LOST"])
        XCTAssertEqual(first["sourceChannel"] as? String, "LINE")
        XCTAssertTrue(first.keys.contains("assignedSalesId"), "nulls are explicit")

        XCTAssertEqual(try f.call("GET", "/api/leads?status=ASSIGNED").data.count, 1)
        XCTAssertEqual(try f.call("GET", "/api/leads?status=assigned").data.count, 1, "enums are case-insensitive")
        XCTAssertEqual(try f.call("GET", "/api/leads?assignedSalesId=\(f.sales)").data.first?["name"] as? String, "Lead 1")
        XCTAssertEqual(try f.call("GET", "/api/leads?assignedSalesId=unassigned").data.count, 3)
        XCTAssertEqual(try f.call("GET", "/api/leads?channel=FACEBOOK").data.count, 0)
        let since = PostgresTimestamp.format(Date().addingTimeInterval(-90))
        XCTAssertEqual(try f.call("GET", "/api/leads?lastActivityFrom=\(since)").data.count, 2)
        XCTAssertEqual(try f.call("GET", "/api/leads?lastActivityTo=\(since)").data.count, 2)
        // A plain date is a whole day, as a person filtering by day means it: from and to the same day is that day.
        let today = String(PostgresTimestamp.format(Date()).prefix(10))
        XCTAssertEqual(try f.call("GET", "/api/leads?lastActivityFrom=\(today)&lastActivityTo=\(today)").data.count,
                       try f.call("GET", "/api/leads?lastActivityFrom=\(today)").data.count)
        XCTAssertGreaterThan(try f.call("GET", "/api/leads?lastActivityTo=\(today)").data.count, 0)

        // A note is activity: the lead moves to the top.
        XCTAssertEqual(try f.call("PATCH", "/api/leads/\(f.leads[3])", json: #"{"note":"left a voicemail"}"#).status, 200)
        XCTAssertEqual(try f.call("GET", "/api/leads?limit=1").data.first?["name"] as? String, "Lead 3")

        let one = try f.call("GET", "/api/leads/\(f.leads[2])")
        XCTAssertEqual(one.object["name"] as? String, "Lead 2")
        XCTAssertEqual(try f.call("GET", "/api/leads/\(UUID())").status, 404)
        let badID = try f.call("GET", "/api/leads/12345")
        XCTAssertEqual(badID.status, 400)
        XCTAssertEqual((badID.error["details"] as? [String: [String]])?["field"], ["id"])
        for query in ["status=DONE", "channel=SMS", "assignedSalesId=x", "lastActivityFrom=yesterday", "lastActivityFrom=0000-01-01",
                      "lastActivityFrom=2026-02-30", "lastActivityFrom=2026-13-01", "lastActivityFrom=2026-11-27T25:00:00Z",
                      "lastActivityFrom=2026-11-27T10:00:00%2B99:99", "limit=0",
                      "limit=101", "limit=abc", "cursor=garbage"] {
            let response = try f.call("GET", "/api/leads?\(query)")
            XCTAssertEqual(response.status, 400, "\(query): \(response.text)")
            XCTAssertEqual(response.errorCode, "invalid_field", query)
        }
    }

    func testTheLifecycleThroughTheAPI() throws {
        let f = try APIFixture.make(leadCount: 1, messageCount: 0)
        let path = "/api/leads/\(f.leads[0])"
        let illegal = try f.call("PATCH", path, json: #"{"status":"WON"}"#)
        XCTAssertEqual(illegal.status, 409)
        XCTAssertEqual(illegal.errorCode, "invalid_status_transition")
        XCTAssertEqual((illegal.error["details"] as? [String: [String]])?["allowedNextStatuses"], ["ASSIGNED", "LOST"])

        for status in ["ASSIGNED", "ASSIGNED", "CONTACTED", "QUALIFIED", "PROPOSAL_SENT", "NEGOTIATION", "WON"] {
            let response = try f.call("PATCH", path, as: "sales", json: #"{"status":"\#(status)"}"#)
            XCTAssertEqual(response.status, 200, "\(status): \(response.text)")
            XCTAssertEqual(response.object["status"] as? String, status)
        }
        let afterWon = try f.call("PATCH", path, json: #"{"status":"LOST"}"#)
        XCTAssertEqual(afterWon.status, 409)
        XCTAssertEqual((afterWon.error["details"] as? [String: [String]])?["allowedNextStatuses"], [])

        let db = try TestStack.connection()
        let changes = try db.query("""
            SELECT metadata->>'from' AS "from", metadata->>'to' AS "to" FROM activity_logs
             WHERE lead_id = $1 AND type = 'STATUS_CHANGED' ORDER BY created_at, id
            """, [f.leads[0]]).rows.map { "\($0["from"] ?? "")>\($0["to"] ?? "")" }
        XCTAssertEqual(changes, ["NEW>ASSIGNED", "ASSIGNED>CONTACTED", "CONTACTED>QUALIFIED", "QUALIFIED>PROPOSAL_SENT",
                                 "PROPOSAL_SENT>NEGOTIATION", "NEGOTIATION>WON"], "a same-status PATCH logs nothing")
    }

    func testTheDatabaseGuardAgreesWithTheDomainOnEveryPair() throws {
        let db = try TestStack.connection()
        for from in LeadStatus.allCases {
            for to in LeadStatus.allCases {
                let allowed = try db.query("SELECT lead_status_transition_allowed($1, $2) AS ok", [from.rawValue, to.rawValue])
                    .first?["ok"] == "t"
                XCTAssertEqual(allowed, from.canMove(to: to), "\(from) → \(to)")
            }
        }
    }

    func testTagsAndNotesAreValidatedAndLogged() throws {
        let f = try APIFixture.make(leadCount: 1, messageCount: 0)
        let path = "/api/leads/\(f.leads[0])"
        let updated = try f.call("PATCH", path, json: #"{"tags":[" vip ","vip","กรุงเทพ"],"note":"Called back, wants a quote"}"#)
        XCTAssertEqual(updated.status, 200, updated.text)
        XCTAssertEqual(updated.object["tags"] as? [String], ["vip", "กรุงเทพ"])
        let history = try f.call("GET", "/api/leads/\(f.leads[0])/activity", as: "sales")
        XCTAssertEqual(history.status, 200, history.text)
        XCTAssertEqual(Set(history.data.compactMap { $0["type"] as? String }), ["TAGS_CHANGED", "NOTE_ADDED"])
        let note = try XCTUnwrap(history.data.first { $0["type"] as? String == "NOTE_ADDED" })
        XCTAssertEqual((note["metadata"] as? [String: Any])?["note"] as? String, "Called back, wants a quote")
        XCTAssertEqual(note["actorAgentId"] as? String, f.admin.uuidString.lowercased())
        XCTAssertEqual(try f.call("GET", "/api/leads/\(UUID())/activity").status, 404)

        let cases: [(String, String?)] = [
            (#"{"status":"MAYBE"}"#, "status"), (#"{"status":7}"#, "status"), (#"{"tags":"vip"}"#, "tags"),
            (#"{"tags":[1]}"#, "tags"), (#"{"note":""}"#, "note"), (#"{"note":"a\u0000b"}"#, "note"),
            (#"{"colour":"red"}"#, "colour"), ("{}", nil), ("[]", nil), ("{\"status\":", nil), ("", nil),
        ]
        for (body, field) in cases {
            let response = try f.call("PATCH", path, json: body)
            XCTAssertEqual(response.status, 400, "\(body): \(response.text)")
            if let field {
                XCTAssertEqual((response.error["details"] as? [String: [String]])?["field"], [field], body)
                XCTAssertTrue((response.error["message"] as? String)?.hasPrefix(field) ?? false, response.text)
            }
        }
        let form = try TestStack.http("PATCH", path, body: Array("status=LOST".utf8), headers: [
            ("Authorization", "Bearer " + (try f.token("admin"))), ("x-tenant-id", f.tenantID.uuidString),
            ("Content-Type", "application/x-www-form-urlencoded")])
        XCTAssertEqual(form.status, 415)
        // The media type itself: a name that merely starts like it is not JSON; parameters are fine.
        for (type, status) in [("application/jsonx", 415), ("application/json; charset=utf-8", 200)] {
            let response = try TestStack.http("PATCH", path, body: Array(#"{"note":"typed"}"#.utf8), headers: [
                ("Authorization", "Bearer " + (try f.token("admin"))), ("x-tenant-id", f.tenantID.uuidString), ("Content-Type", type)])
            XCTAssertEqual(response.status, status, "\(type): \(response.text)")
        }
        // Bytes that are not UTF-8 are refused, not stored as U+FFFD.
        let latin1 = try TestStack.http("PATCH", path, body: Array(#"{"note":"caf"#.utf8) + [0xE9] + Array(#""}"#.utf8), headers: [
            ("Authorization", "Bearer " + (try f.token("admin"))), ("x-tenant-id", f.tenantID.uuidString),
            ("Content-Type", "application/json")])
        XCTAssertEqual(latin1.status, 400, latin1.text)
        // A note is trimmed first, then measured.
        let padded = try f.call("PATCH", path, json: #"{"note":"  \#(String(repeating: "n", count: 4000))  "}"#)
        XCTAssertEqual(padded.status, 200, padded.text)
    }

    func testAssignmentMovesTheLeadAndItsConversations() throws {
        let f = try APIFixture.make(leadCount: 3, messageCount: 0)
        let response = try f.call("POST", "/api/leads/\(f.leads[0])/assign", as: "manager",
                                  json: #"{"salesAgentId":"\#(f.sales.uuidString)","mode":"MANUAL"}"#)
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(response.object["status"] as? String, "ASSIGNED")
        XCTAssertEqual(response.object["assignedSalesId"] as? String, f.sales.uuidString.lowercased())
        XCTAssertNotNil(response.object["assignedAt"] as? String)
        let mine = try f.call("GET", "/api/conversations?assignedSalesId=\(f.sales)", as: "sales")
        XCTAssertEqual(mine.data.compactMap { $0["id"] as? String }, [f.conversations[0].uuidString.lowercased()])
        XCTAssertEqual(try f.call("GET", "/api/conversations?assignedSalesId=unassigned").data.count, 2)

        // Reassigning a lead further along keeps its status.
        let db = try TestStack.connection()
        try db.query("UPDATE leads SET status = 'CONTACTED' WHERE id = $1", [f.leads[0]])
        let again = try f.call("POST", "/api/leads/\(f.leads[0])/assign", json: #"{"salesAgentId":"\#(f.otherSales.uuidString)"}"#)
        XCTAssertEqual(again.object["status"] as? String, "CONTACTED")
        let logged = try db.query("""
            SELECT count(*) FILTER (WHERE type = 'ASSIGNED')::int8 AS assigned,
                   count(*) FILTER (WHERE type = 'STATUS_CHANGED')::int8 AS changed
              FROM activity_logs WHERE lead_id = $1
            """, [f.leads[0]]).first!
        XCTAssertEqual(logged["assigned"], "2")
        XCTAssertEqual(logged["changed"], "1")
        // The history, newest first, lists one change's lines in the reverse of the order they were written.
        let history = try f.call("GET", "/api/leads/\(f.leads[0])/activity").data.compactMap { $0["type"] as? String }
        XCTAssertEqual(Array(history.prefix(3)), ["ASSIGNED", "STATUS_CHANGED", "ASSIGNED"], "\(history)")
        // To the agent who already has it: nothing to log.
        let same = try f.call("POST", "/api/leads/\(f.leads[0])/assign", json: #"{"salesAgentId":"\#(f.otherSales.uuidString)"}"#)
        XCTAssertEqual(same.status, 200, same.text)
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM activity_logs WHERE lead_id = $1 AND type = 'ASSIGNED'",
                                    [f.leads[0]]).first?["n"], "2")

        let inactive = try f.call("POST", "/api/leads/\(f.leads[1])/assign", json: #"{"salesAgentId":"\#(f.inactive.uuidString)"}"#)
        XCTAssertEqual(inactive.status, 400)
        XCTAssertEqual(try f.call("POST", "/api/leads/\(f.leads[1])/assign", json: #"{}"#).status, 400)
        XCTAssertEqual(try f.call("POST", "/api/leads/\(f.leads[1])/assign", json: #"{"salesAgentId":"nope"}"#).status, 400)

        // Automatic assignment picks the sales agent with the fewest open leads: sales now holds lead 1, sales2's
        // only lead is LOST (not open), so sales2 gets it although it was created later.
        try db.query("UPDATE leads SET status = 'LOST' WHERE id = $1", [f.leads[0]])
        XCTAssertEqual(try f.call("POST", "/api/leads/\(f.leads[1])/assign", json: #"{"salesAgentId":"\#(f.sales.uuidString)"}"#).status, 200)
        let auto = try f.call("POST", "/api/leads/\(f.leads[2])/assign", json: #"{"mode":"AUTO_ROUND_ROBIN"}"#)
        XCTAssertEqual(auto.status, 200, auto.text)
        XCTAssertEqual(auto.object["assignedSalesId"] as? String, f.otherSales.uuidString.lowercased())
    }

    /// Automatic assignments at once take turns, so each counts the loads the ones before left: twelve leads
    /// assigned twelve at a time are shared evenly by the two Sales agents.
    func testConcurrentAutomaticAssignmentsShareTheLeadsEvenly() throws {
        let f = try APIFixture.make(leadCount: 12, messageCount: 0)
        let token = try f.token("manager")
        let answers = Mutex<[Int]>([])
        DispatchQueue.concurrentPerform(iterations: f.leads.count) { i in
            let status = (try? f.call("POST", "/api/leads/\(f.leads[i])/assign", json: #"{"mode":"AUTO_ROUND_ROBIN"}"#,
                                      token: token).status) ?? 0
            answers.withLock { $0.append(status) }
        }
        XCTAssertEqual(answers.withLock { $0 }.filter { $0 == 200 }.count, 12, "\(answers.withLock { $0 })")
        let loads = try TestStack.connection().query("""
            SELECT assigned_sales_id, count(*)::int8 AS n FROM leads WHERE tenant_id = $1 GROUP BY 1 ORDER BY 1
            """, [f.tenantID]).rows.map { $0["n"] ?? "" }
        XCTAssertEqual(loads, ["6", "6"])
    }

    /// A thread that starts after the lead was assigned (here the customer writes to the tenant's second LINE
    /// account) belongs to the lead's agent, so the assignedSalesId filter and the agent's "Mine" show it.
    func testAThreadStartedAfterAssignmentBelongsToTheLeadsAgent() throws {
        let f = try APIFixture.make(leadCount: 1, messageCount: 0)
        let assigned = try f.call("POST", "/api/leads/\(f.leads[0])/assign", as: "manager",
                                  json: #"{"salesAgentId":"\#(f.sales.uuidString)","mode":"MANUAL"}"#)
        XCTAssertEqual(assigned.status, 200, assigned.text)

        let db = try TestStack.connection()
        let customer: String = try db.query("SELECT external_user_id FROM leads WHERE id = $1", [f.leads[0]]).first!
            .decode("external_user_id")
        let account: UUID = try db.query("""
            INSERT INTO channel_accounts (tenant_id, channel, external_account_id, display_name)
            VALUES ($1, 'LINE', $2, 'Second OA') RETURNING id
            """, [f.tenantID, "U\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"]).first!.decode("id")
        let recorded = try db.query("""
            SELECT conversation_id, lead_id FROM hubchat_record_inbound_message(
                $1, 'LINE', $2, $3, NULL, NULL, false, now(), $2, NULL, NULL, NULL, NULL,
                'TEXT', 'hello again', NULL, NULL, '{}', '{}', NULL, $4,
                NULL, NULL, NULL, NULL, NULL, NULL)
            """, [f.tenantID, customer, account, "second-oa-\(UUID())"]).first!
        XCTAssertEqual(recorded["lead_id"], f.leads[0].uuidString.lowercased())
        let thread: String = try recorded.decode("conversation_id")
        XCTAssertNotEqual(thread, f.conversations[0].uuidString.lowercased(), "a second account is a thread of its own")

        let mine = try f.call("GET", "/api/conversations?assignedSalesId=\(f.sales)", as: "sales")
        XCTAssertEqual(Set(mine.data.compactMap { $0["id"] as? String }),
                       [f.conversations[0].uuidString.lowercased(), thread])
        XCTAssertEqual(try f.call("GET", "/api/conversations?assignedSalesId=unassigned").data.count, 0)
    }

    /// A change that waits on a row another transaction holds past the statement timeout is a 503 that says so, not
    /// "the database is unavailable"; the same change goes through once the row is free.
    func testAChangeHeldUpByALockedLeadAnswersBusy() throws {
        let f = try APIFixture.make(leadCount: 1, messageCount: 0)
        let holder = try TestStack.connection()
        try holder.query("BEGIN")
        try holder.query("SELECT id FROM leads WHERE id = $1 FOR UPDATE", [f.leads[0]])
        let busy = try f.call("PATCH", "/api/leads/\(f.leads[0])", json: #"{"note":"waits for the lock"}"#)
        try holder.query("ROLLBACK")
        XCTAssertEqual(busy.status, 503, busy.text)
        XCTAssertEqual(busy.error["code"] as? String, "database_busy")
        XCTAssertEqual(try f.call("PATCH", "/api/leads/\(f.leads[0])", json: #"{"note":"goes through"}"#).status, 200)
    }
}

