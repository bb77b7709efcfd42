import XCTest
@testable import Core

final class PostgresCodingTests: XCTestCase {
    func testTimestampRoundTripsWithMicroseconds() throws {
        let date = Date(timeIntervalSince1970: 1_795_651_200.123456)
        let text = PostgresTimestamp.format(date)
        XCTAssertEqual(text, "2026-11-26T00:00:00.123456Z")
        let parsed = try XCTUnwrap(PostgresTimestamp.parse(text))
        XCTAssertEqual(parsed.timeIntervalSince1970, date.timeIntervalSince1970, accuracy: 0.000001)
    }

    func testParsesPostgresOutputWithOffsets() throws {
        let utc = try XCTUnwrap(PostgresTimestamp.parse("2026-11-27 00:05:25.5+00"))
        XCTAssertEqual(utc.timeIntervalSince1970, 1_795_737_925.5, accuracy: 0.0001)
        let bangkok = try XCTUnwrap(PostgresTimestamp.parse("2026-11-27 07:05:25.5+07"))
        XCTAssertEqual(bangkok, utc)
        let withMinutes = try XCTUnwrap(PostgresTimestamp.parse("2026-11-27T05:35:25.5+05:30"))
        XCTAssertEqual(withMinutes, utc)
    }

    func testFormatsDatesBeforeTheEpoch() {
        XCTAssertEqual(PostgresTimestamp.format(Date(timeIntervalSince1970: -1)), "1969-12-31T23:59:59.000000Z")
    }

    func testDatesPastPostgresRangeAreInfinite() {
        XCTAssertEqual(PostgresTimestamp.format(Date(timeIntervalSince1970: 1e22)), "infinity")
        XCTAssertEqual(PostgresTimestamp.format(Date(timeIntervalSince1970: -1e22)), "-infinity")
        XCTAssertEqual(PostgresTimestamp.format(Date(timeIntervalSince1970: .infinity)), "infinity")
    }

    func testRejectsMalformedTimestamps() {
        for bad in ["", "2026-13-01 00:00:00", "2026-11-27", "2026-11-27 25:00:00", "2026-11-27 00:00:00+", "yesterday"] {
            XCTAssertNil(PostgresTimestamp.parse(bad), bad)
        }
    }

    func testTextArrayLiteralEscapesAndParsesBack() throws {
        let tags = ["vip", "has space", "quote\"inside", "back\\slash", ""]
        let literal = tags.postgresText
        XCTAssertEqual(literal, #"{"vip","has space","quote\"inside","back\\slash",""}"#)
        XCTAssertEqual(try [String](postgresText: literal), tags)
        XCTAssertEqual(try [String](postgresText: "{}"), [])
        XCTAssertEqual(try [String](postgresText: "{a,b}"), ["a", "b"])
    }

    func testScalarDecodingRejectsGarbage() {
        XCTAssertThrowsError(try Int(postgresText: "12x"))
        XCTAssertThrowsError(try Bool(postgresText: "maybe"))
        XCTAssertThrowsError(try UUID(postgresText: "not-a-uuid"))
        XCTAssertEqual(try Bool(postgresText: "t"), true)
        XCTAssertEqual(UUID(uuidString: "6F1C2E6A-0000-4000-8000-000000000001")!.postgresText,
                       "6f1c2e6a-0000-4000-8000-000000000001")
    }

    func testIdentifierValidationRefusesInjection() {
        XCTAssertTrue(PostgresConnection.isValidIdentifier("hubchat_outbox"))
        XCTAssertFalse(PostgresConnection.isValidIdentifier("x; DROP TABLE leads"))
        XCTAssertFalse(PostgresConnection.isValidIdentifier("Upper"))
        XCTAssertFalse(PostgresConnection.isValidIdentifier(""))
        XCTAssertEqual(PostgresConnection.quoteIdentifier("a\"b"), "\"a\"\"b\"")
    }

    func testUnavailableErrorsAreRecognised() {
        XCTAssertTrue(PostgresError.connectionLost("x").isUnavailable)
        XCTAssertTrue(PostgresError.server(.init(sqlState: "57P01", message: "", detail: nil, constraint: nil)).isUnavailable)
        XCTAssertFalse(PostgresError.server(.init(sqlState: "23505", message: "", detail: nil, constraint: nil)).isUnavailable)
        XCTAssertTrue(PostgresError.server(.init(sqlState: "23505", message: "", detail: nil, constraint: nil)).isUniqueViolation)
    }
}
