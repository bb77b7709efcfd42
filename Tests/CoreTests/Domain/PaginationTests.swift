import XCTest
@testable import Core

final class PaginationTests: XCTestCase {
    func testCursorRoundTripsExactly() throws {
        let cursor = PageCursor(microseconds: 1_795_000_000_123_457, id: UUID())
        XCTAssertEqual(try PageCursor(encoded: cursor.encoded), cursor)
    }

    func testMalformedCursorsAre400NamingTheField() {
        for text in ["x", "!!!", Base64URL.encode(Array("{\"t\":\"a\",\"id\":\"b\"}".utf8)),
                     Base64URL.encode(Array("[1]".utf8)),
                     Base64URL.encode(Array("{\"t\":999999999999999999,\"id\":\"\(UUID())\"}".utf8)), String(repeating: "A", count: 500)] {
            XCTAssertThrowsError(try PageCursor(encoded: text), text) { error in
                XCTAssertEqual((error as? AppError)?.status, 400)
                XCTAssertEqual((error as? AppError)?.details["field"], ["cursor"])
            }
        }
    }

    func testLimitDefaultsAndBounds() throws {
        XCTAssertEqual(try PageRequest(query: [:]).limit, 25)
        XCTAssertEqual(try PageRequest(query: ["limit": "100"]).limit, 100)
        XCTAssertEqual(try PageRequest(query: ["limit": "1"]).limit, 1)
        for bad in ["0", "101", "-1", "ten", "2.5", ""] where !bad.isEmpty {
            XCTAssertThrowsError(try PageRequest(query: ["limit": bad]), bad)
        }
    }

    func testPageTakesLimitRowsAndPointsAfterTheLastOne() throws {
        struct Row: Encodable, Sendable { let n: Int }
        let ids = (0..<4).map { _ in UUID() }
        let page = Page(rows: (0..<4).map { Row(n: $0) }, limit: 3) { PageCursor(microseconds: Int64($0.n), id: ids[$0.n]) }
        XCTAssertEqual(page.data.map(\.n), [0, 1, 2])
        XCTAssertEqual(try PageCursor(encoded: page.pageInfo.nextCursor!), PageCursor(microseconds: 2, id: ids[2]))
        let last = Page(rows: [Row(n: 0)], limit: 3) { PageCursor(microseconds: Int64($0.n), id: ids[0]) }
        XCTAssertNil(last.pageInfo.nextCursor)
        let json = String(decoding: try JSONCoding.encoder.encode(last), as: UTF8.self)
        XCTAssertTrue(json.contains("\"nextCursor\":null"), json)
    }
}
