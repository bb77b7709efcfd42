import XCTest
@testable import Core

/// Skimming finds members by following strings and nesting only; what it finds must match what the parser reads.
final class JSONSkimTests: XCTestCase {
    func testMembersSkipNestedValuesAndStringsThatLookLikeStructure() throws {
        let body = Array(#" { "events" : [ {"text":"} ] \" { ","destination":"Ufake"} , 1.5e3, null ], "destination":"U123" ,"n":-2} "#.utf8)
        let members = try XCTUnwrap(JSONSkim.members(body, in: body.indices))
        XCTAssertEqual(members.map { String(decoding: $0.key, as: UTF8.self) }, ["events", "destination", "n"])
        XCTAssertEqual(JSONSkim.member("destination", of: members).map { String(decoding: body[$0], as: UTF8.self) }, #""U123""#)
        let events = try XCTUnwrap(JSONSkim.elements(body, in: try XCTUnwrap(JSONSkim.member("events", of: members))))
        XCTAssertEqual(events.map { String(decoding: body[$0], as: UTF8.self) },
                       [#"{"text":"} ] \" { ","destination":"Ufake"}"#, "1.5e3", "null"])
        XCTAssertEqual(LineWebhook.skimDestination(body), "U123")
    }

    func testTruncatedOrNonObjectBodiesSkimToNothing() {
        for text in [#"{"destination":"U1""#, #"{"destination":"U1","events":[{"#, "[]", "", #"{"destination" "U1"}"#, "{,}"] {
            XCTAssertNil(JSONSkim.members(Array(text.utf8), in: 0..<text.utf8.count), text)
        }
        XCTAssertNil(LineWebhook.skimDestination(Array(#"{"events":[]}"#.utf8)))
    }

    func testMetaEntryIdsAreSkimmedAsTheParserReadsThem() throws {
        let body = Array(#"{"object":"page","entry":[{"time":1,"id":"104","messaging":[{"sender":{"id":"9"}}]},{"id":105}]}"#.utf8)
        let skimmed = try XCTUnwrap(MetaWebhook.skimAccounts(body))
        XCTAssertEqual(skimmed.object, "page")
        XCTAssertEqual(skimmed.accounts, try MetaWebhook.parse(body: body).accounts)
        XCTAssertEqual(skimmed.accounts, ["104", "105"])
        XCTAssertNil(MetaWebhook.skimAccounts(Array(#"{"object":"page","entry":[{"time":1}]}"#.utf8)))
    }
}
