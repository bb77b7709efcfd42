import XCTest
@testable import Core

/// Our own uploads skip the public-host check, so "our own" must mean a plain path under the media prefix.
final class MediaURLGuardTests: XCTestCase {
    struct Loopback: HostResolver {
        func addresses(of host: String) throws -> [NetworkAddress] { [.v4(127, 0, 0, 1)] }
    }

    let guardian = MediaURLGuard(resolver: Loopback(), trustedPrefix: "http://127.0.0.1:8080/media/")

    func testOwnUploadsAreAcceptedAsTheyAre() throws {
        for url in ["http://127.0.0.1:8080/media/message-images/outbound/t/0b4e.jpg",
                    "http://127.0.0.1:8080/media/message-files/outbound/t/quote_1-a.pdf?md5=Ab-_9x&expires=1795737925"] {
            XCTAssertNoThrow(try guardian.check(url, field: "mediaUrl"), url)
        }
    }

    func testAPathThatLeavesTheMediaDirectoryIsCheckedLikeAnyOther() {
        for url in ["http://127.0.0.1:8080/media/%2e%2e/api/health", "http://127.0.0.1:8080/media/../api/health",
                    "http://127.0.0.1:8080/media/..%2f..%2fapi/health", "http://127.0.0.1:8080/media/./x/../../api",
                    "http://127.0.0.1:8080/media//api/health", "http://127.0.0.1:8080/media/a.jpg?x=%2e",
                    "http://127.0.0.1:8080/media/", "http://127.0.0.1:8080/media/a.jpg#../../api"] {
            XCTAssertThrowsError(try guardian.check(url, field: "mediaUrl"), url)
        }
    }
}
