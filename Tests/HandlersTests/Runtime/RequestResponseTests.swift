import Core
import XCTest
@testable import Handlers

final class RequestResponseTests: XCTestCase {
    func testBuildsRequestFromFastCGIParameters() throws {
        let request = try Request.fromFastCGI(parameters: [
            "REQUEST_METHOD": "POST", "DOCUMENT_URI": "/api/webhook/line", "QUERY_STRING": "a=1&b=x+y&c=%E0%B8%81&a=2",
            "HTTP_X_LINE_SIGNATURE": "sig", "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": "2",
            "HTTP_AUTHORIZATION": "Bearer t", "REQUEST_ID": "rid",
        ], body: Array("{}".utf8))
        XCTAssertEqual(request.method, "POST")
        XCTAssertEqual(request.path, "/api/webhook/line")
        XCTAssertEqual(request.query, ["a": "1", "b": "x y", "c": "ก"])
        XCTAssertEqual(request.header("X-Line-Signature"), "sig")
        XCTAssertEqual(request.header("authorization"), "Bearer t")
        XCTAssertEqual(request.header("content-type"), "application/json")
        XCTAssertEqual(request.requestID, "rid")
        XCTAssertEqual(request.body, Array("{}".utf8))
    }

    func testMalformedQueryIsABadRequest() {
        for query in ["a=%zz", "a=%4", "a=%C3%28"] {
            XCTAssertThrowsError(try QueryString.parse(query), query) { error in
                XCTAssertEqual((error as? AppError)?.status, 400)
                XCTAssertEqual((error as? AppError)?.code, "invalid_query")
            }
        }
    }

    func testErrorBodyHasTheOneShape() throws {
        let response = Response.error(
            .conflict("Cannot move a WON lead.", code: "invalid_transition", details: ["allowedNext": ["WON"]]),
            requestID: "r1")
        XCTAssertEqual(response.status, 409)
        let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        let error = try XCTUnwrap(object?["error"] as? [String: Any])
        XCTAssertEqual(error["code"] as? String, "invalid_transition")
        XCTAssertEqual(error["message"] as? String, "Cannot move a WON lead.")
        XCTAssertEqual(error["requestId"] as? String, "r1")
        XCTAssertEqual((error["details"] as? [String: [String]])?["allowedNext"], ["WON"])
    }

    func testSerializedResponseIsACGIResponse() {
        let bytes = Response(status: 201, headers: [("Content-Type", "application/json")], body: Array("{}".utf8)).serialized()
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self),
                       "Status: 201 Created\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
    }

    func testMethodNotAllowedCarriesAllow() {
        let response = Response.error(.methodNotAllowed(allowed: ["GET", "POST"]), requestID: "")
        XCTAssertTrue(response.headers.contains { $0 == ("Allow", "GET, POST") })
    }
}

final class CGIHeaderNameTests: XCTestCase {
    func testHeaderNamesFromCGI() {
        XCTAssertEqual(Request.headerName(fromCGI: "HTTP_X_HUB_SIGNATURE_256"), "x-hub-signature-256")
        XCTAssertEqual(Request.headerName(fromCGI: "HTTP_IDEMPOTENCY_KEY"), "idempotency-key")
    }
}
