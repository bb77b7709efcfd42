import XCTest
@testable import Core

final class LoggingTests: XCTestCase {
    func testSecretLookingKeysAreRedacted() {
        for key in ["channelSecret", "accessToken", "Authorization", "x-line-signature", "password", "FACEBOOK_APP_SECRET"] {
            XCTAssertTrue(LogRedaction.isSecret(key: key), key)
        }
        for key in ["tenantId", "conversationId", "messageId", "queueJobId", "outboxEventId", "requestId"] {
            XCTAssertFalse(LogRedaction.isSecret(key: key), key)
        }
    }

    func testJSONEscaping() {
        XCTAssertEqual(JSONText.quoted("a\"b\\c\nd\u{01}ไทย"), #""a\"b\\c\nd\u0001ไทย""#)
    }

    func testHexRoundTrip() {
        XCTAssertEqual(Hex.encode([0, 15, 16, 255]), "000f10ff")
        XCTAssertEqual(Hex.decode("000F10ff"), [0, 15, 16, 255])
        XCTAssertNil(Hex.decode("abc"))
        XCTAssertNil(Hex.decode("zz"))
    }
}
