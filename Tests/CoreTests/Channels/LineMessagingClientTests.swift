import XCTest
@testable import Core

/// What the agent reads when LINE refuses a message: LINE's own words, with the field it objects to.
final class LineMessagingClientTests: XCTestCase {
    func testARefusalNamesTheFieldsLINEObjectsTo() {
        let body = #"{"message":"The request body has 2 error(s)","details":[{"message":"Length must be between 0 and 5000","property":"messages[0].text"},{"message":"invalid uri"}]}"#
        let result = LineMessagingClient.classify(HTTPResponse(status: 400, headers: [:], body: Array(body.utf8), elapsedMilliseconds: 1),
                                                  operation: "push")
        guard case .permanent(let code, let reason) = result else { return XCTFail("\(result)") }
        XCTAssertEqual(code, "line_400")
        XCTAssertEqual(reason, "LINE push refused: The request body has 2 error(s) (messages[0].text: Length must be between 0 and 5000; invalid uri)")
    }
}
