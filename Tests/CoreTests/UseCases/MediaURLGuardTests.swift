import XCTest
@testable import Core

/// Our own uploads skip the public-host check, so "our own" must mean a plain path under the media prefix.
final class MediaURLGuardTests: XCTestCase {
    struct Loopback: HostResolver {
        func addresses(of host: String) throws -> [NetworkAddress] { [.v4(127, 0, 0, 1)] }
    }

    let guardian = MediaURLGuard(resolver: Loopback(), trustedPrefix: "http://127.0.0.1:8080/media/")
    let tenant = UUID(uuidString: "6f1c1f0e-0d2a-4b8e-9a43-1f7f3c2b9d10")!

    func testOwnUploadsAreAcceptedAsTheyAre() throws {
        for url in ["http://127.0.0.1:8080/media/message-images/6f1c1f0e-0d2a-4b8e-9a43-1f7f3c2b9d10/2026-11-27/0b4e.jpg",
                    "http://127.0.0.1:8080/media/message-files/6f1c1f0e-0d2a-4b8e-9a43-1f7f3c2b9d10/quote_1-a.pdf?md5=Ab-_9x&expires=1795737925",
                    "http://127.0.0.1:8080/media/inbound-media/inbound/6f1c1f0e-0d2a-4b8e-9a43-1f7f3c2b9d10/line/thumb/1.jpg"] {
            XCTAssertNoThrow(try guardian.check(url, field: "mediaUrl", tenant: tenant), url)
        }
    }

    /// Another tenant's upload (or a file named like a tenant) is not "ours" for this tenant: it is checked like any
    /// other URL, which refuses this loopback host.
    func testAnotherTenantsUploadIsNotOwnMedia() {
        for url in ["http://127.0.0.1:8080/media/message-images/0a9d2c44-5e5b-4c1e-8f0e-2b6b4a1c7e55/2026-11-27/0b4e.jpg",
                    "http://127.0.0.1:8080/media/message-images/6f1c1f0e-0d2a-4b8e-9a43-1f7f3c2b9d10",
                    "http://127.0.0.1:8080/media/message-images/x/0b4e.jpg",
                    // The tenant's id as a folder, but under another tenant's: that file is the other tenant's.
                    "http://127.0.0.1:8080/media/message-images/0a9d2c44-5e5b-4c1e-8f0e-2b6b4a1c7e55/6f1c1f0e-0d2a-4b8e-9a43-1f7f3c2b9d10/x.jpg"] {
            XCTAssertThrowsError(try guardian.check(url, field: "mediaUrl", tenant: tenant), url)
        }
    }

    func testAPathThatLeavesTheMediaDirectoryIsCheckedLikeAnyOther() {
        let t = "6f1c1f0e-0d2a-4b8e-9a43-1f7f3c2b9d10"
        for url in ["http://127.0.0.1:8080/media/\(t)/%2e%2e/api/health", "http://127.0.0.1:8080/media/\(t)/../api/health",
                    "http://127.0.0.1:8080/media/\(t)/..%2f..%2fapi/health", "http://127.0.0.1:8080/media/\(t)/./x/../../api",
                    "http://127.0.0.1:8080/media/\(t)//api/health", "http://127.0.0.1:8080/media/\(t)/a.jpg?x=%2e",
                    "http://127.0.0.1:8080/media/", "http://127.0.0.1:8080/media/\(t)/a.jpg#../../api"] {
            XCTAssertThrowsError(try guardian.check(url, field: "mediaUrl", tenant: tenant), url)
        }
    }

    /// Only the tenant's own file in a signed bucket is signed again: another tenant's path, a public bucket's, or a
    /// path that is no stored file come back as given.
    func testRenewalSignsOnlyTheTenantsOwnStoredMedia() {
        let storage = LocalMediaStorage(root: "/srv/media", publicBaseURL: "https://chat.example.com",
                                        signingSecret: "s", signedLinkTTLs: ["message-images": 86_400],
                                        clock: { Date(timeIntervalSince1970: 1_800_000_000) })
        let own = "https://chat.example.com/media/message-images/6f1c1f0e-0d2a-4b8e-9a43-1f7f3c2b9d10/2026-11-27/a.jpg"
        let renewed = storage.renewed(url: own, tenant: tenant)
        XCTAssertTrue(renewed.hasPrefix(own + "?md5="), "an own link without its signature is signed")
        XCTAssertEqual(storage.renewed(url: own + "?md5=AAAA&expires=1000", tenant: tenant), renewed, "an expired one too")
        for url in ["https://chat.example.com/media/message-images/0a9d2c44-5e5b-4c1e-8f0e-2b6b4a1c7e55/2026-11-27/a.jpg?md5=A&expires=1",
                    "https://chat.example.com/media/public-bucket/6f1c1f0e-0d2a-4b8e-9a43-1f7f3c2b9d10/a.jpg",
                    "https://chat.example.com/media/message-images/6f1c1f0e-0d2a-4b8e-9a43-1f7f3c2b9d10",
                    "https://chat.example.com/media/message-images/../6f1c1f0e-0d2a-4b8e-9a43-1f7f3c2b9d10/a.jpg",
                    "https://cdn.example/media/message-images/6f1c1f0e-0d2a-4b8e-9a43-1f7f3c2b9d10/a.jpg"] {
            XCTAssertEqual(storage.renewed(url: url, tenant: tenant), url, url)
        }
    }

    /// Our host serves every tenant's media and is a public host in production: anything under the media prefix that
    /// is not this tenant's stored file is refused, not checked like an outside URL (which would pass).
    func testOtherTenantsMediaIsRefusedEvenOnAPublicHost() {
        struct Public: HostResolver {
            func addresses(of host: String) throws -> [NetworkAddress] { [.v4(93, 184, 216, 34)] }
        }
        let guardian = MediaURLGuard(resolver: Public(), trustedPrefix: "https://chat.example.com/media/")
        XCTAssertNoThrow(try guardian.check("https://cdn.example/a.jpg", field: "mediaUrl", tenant: tenant))
        for url in ["https://chat.example.com/media/message-images/0a9d2c44-5e5b-4c1e-8f0e-2b6b4a1c7e55/2026-11-27/a.jpg",
                    "https://CHAT.example.com/media/%2e%2e/api/health"] {
            XCTAssertThrowsError(try guardian.check(url, field: "mediaUrl", tenant: tenant), url) {
                XCTAssertTrue(($0 as? AppError)?.message.contains("not this tenant's") == true, "\($0)")
            }
        }
    }
}
