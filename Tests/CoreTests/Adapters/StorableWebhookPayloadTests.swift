import XCTest
@testable import Core

final class StorableWebhookPayloadTests: XCTestCase {
    func testNulEscapesAreReplacedAndEverythingElseKept() {
        XCTAssertEqual(PostgresWebhookEventStore.storable(#"{"text":"a\u0000b"}"#), #"{"text":"a\ufffdb"}"#)
        let thai = #"{"text":"สวัสดี \"quoted\" \\u0041"}"#
        XCTAssertEqual(PostgresWebhookEventStore.storable(thai), thai)
        XCTAssertEqual(PostgresWebhookEventStore.storable(""), "")
        // A literal backslash before "u0000" is text, not an escape: it stays.
        let literal = #"{"text":"C:\\u0000 and \\\u0000"}"#
        XCTAssertEqual(PostgresWebhookEventStore.storable(literal), #"{"text":"C:\\u0000 and \\\ufffd"}"#)
    }

    func testEncodedJSONParametersNeverCarryANULEscape() throws {
        let encoded = try PostgresJSON(encoding: ["note": "a\u{0}b", "path": "C:\\u0000"])
        XCTAssertFalse(encoded.text.contains(#"a\u0000b"#), encoded.text)
        XCTAssertEqual(try encoded.decode([String: String].self), ["note": "a\u{FFFD}b", "path": "C:\\u0000"])
    }

    func testTextArraysQuoteAndKeepNulls() {
        XCTAssertEqual(PostgresTextArray(["a", nil, "b\"c", "ไทย\\"]).postgresText, #"{"a",NULL,"b\"c","ไทย\\"}"#)
    }
}
