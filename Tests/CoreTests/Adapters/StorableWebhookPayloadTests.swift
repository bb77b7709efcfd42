import XCTest
@testable import Core

final class StorableWebhookPayloadTests: XCTestCase {
    func testNulEscapesAreReplacedAndEverythingElseKept() {
        XCTAssertEqual(PostgresWebhookEventStore.storable(#"{"text":"a\u0000b"}"#), #"{"text":"a\ufffdb"}"#)
        let thai = #"{"text":"สวัสดี \"quoted\" \\u0041"}"#
        XCTAssertEqual(PostgresWebhookEventStore.storable(thai), thai)
        XCTAssertEqual(PostgresWebhookEventStore.storable(""), "")
    }

    func testTextArraysQuoteAndKeepNulls() {
        XCTAssertEqual(PostgresTextArray(["a", nil, "b\"c", "ไทย\\"]).postgresText, #"{"a",NULL,"b\"c","ไทย\\"}"#)
    }
}
