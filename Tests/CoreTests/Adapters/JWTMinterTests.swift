import Crypto
import XCTest
@testable import Core

final class JWTMinterTests: XCTestCase {
    func testMintedTokenIsSignedWithTheSecretAndCarriesTheClaims() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let token = try JWTMinter(secret: "s3cret").mint(
            subject: "agent-1", email: "a@example.com", tenantID: nil, ttlSeconds: 3600, now: now)
        let parts = token.split(separator: ".").map(String.init)
        XCTAssertEqual(parts.count, 3)
        let expected = HMAC<SHA256>.authenticationCode(
            for: Data((parts[0] + "." + parts[1]).utf8), using: SymmetricKey(data: Data("s3cret".utf8)))
        XCTAssertEqual(Base64URL.decode(parts[2]), Array(expected))
        let claims = try JSONDecoder().decode(JWTMinter.Claims.self, from: Data(try XCTUnwrap(Base64URL.decode(parts[1]))))
        XCTAssertEqual(claims.sub, "agent-1")
        XCTAssertEqual(claims.email, "a@example.com")
        XCTAssertEqual(claims.aud, "authenticated")
        XCTAssertEqual(claims.exp - claims.iat, 3600)
        XCTAssertEqual(claims.iat, 1_800_000_000)
    }

    func testBase64URLRoundTripsWithoutPadding() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 251) }
            let text = Base64URL.encode(bytes)
            XCTAssertFalse(text.contains("=") || text.contains("+") || text.contains("/"))
            XCTAssertEqual(Base64URL.decode(text), bytes)
        }
    }
}
