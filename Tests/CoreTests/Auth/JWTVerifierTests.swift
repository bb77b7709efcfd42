import _CryptoExtras
import Crypto
import Foundation
import Logging
import XCTest
@testable import Core

/// Signs test tokens the way identity providers do, independently of the verifier under test.
enum TestTokens {
    static func encode(_ json: String) -> String { Base64URL.encode(Array(json.utf8)) }

    static func hs256(_ claims: String, secret: String, header: String = #"{"alg":"HS256","typ":"JWT"}"#) -> String {
        let input = encode(header) + "." + encode(claims)
        let mac = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return input + "." + Base64URL.encode(Array(mac))
    }

    static func rs256(_ claims: String, key: _RSA.Signing.PrivateKey, kid: String) throws -> String {
        let input = encode(#"{"alg":"RS256","typ":"JWT","kid":"\#(kid)"}"#) + "." + encode(claims)
        let sig = try key.signature(for: SHA256.hash(data: Data(input.utf8)), padding: .insecurePKCS1v1_5)
        return input + "." + Base64URL.encode(Array(sig.rawRepresentation))
    }

    static func es256(_ claims: String, key: P256.Signing.PrivateKey, kid: String) throws -> String {
        let input = encode(#"{"alg":"ES256","typ":"JWT","kid":"\#(kid)"}"#) + "." + encode(claims)
        let sig = try key.signature(for: SHA256.hash(data: Data(input.utf8)))
        return input + "." + Base64URL.encode(Array(sig.rawRepresentation))
    }

    static func jwk(_ key: _RSA.Signing.PublicKey, kid: String) -> String {
        let (n, e) = rsaComponents(key)
        return #"{"kty":"RSA","kid":"\#(kid)","use":"sig","alg":"RS256","n":"\#(n)","e":"\#(e)"}"#
    }

    static func jwk(_ key: P256.Signing.PublicKey, kid: String) -> String {
        let raw = Array(key.rawRepresentation)
        return #"{"kty":"EC","crv":"P-256","kid":"\#(kid)","x":"\#(Base64URL.encode(Array(raw[0..<32])))","y":"\#(Base64URL.encode(Array(raw[32..<64])))"}"#
    }

    /// n and e from the PKCS#1 DER (SEQUENCE { INTEGER n, INTEGER e }).
    static func rsaComponents(_ key: _RSA.Signing.PublicKey) -> (String, String) {
        let der = Array(key.pkcs1DERRepresentation)
        var i = 0
        func length() -> Int {
            let first = Int(der[i]); i += 1
            guard first & 0x80 != 0 else { return first }
            var n = 0
            for _ in 0..<(first & 0x7f) { n = n << 8 | Int(der[i]); i += 1 }
            return n
        }
        i += 1; _ = length()                      // SEQUENCE
        i += 1; var len = length()                // INTEGER n
        var n = Array(der[i..<(i + len)]); i += len
        while n.first == 0 { n.removeFirst() }
        i += 1; len = length()                    // INTEGER e
        let e = Array(der[i..<(i + len)])
        return (Base64URL.encode(n), Base64URL.encode(e))
    }

    static func claims(email: String = "agent@example.com", exp: Double = Date().timeIntervalSince1970 + 600,
                       aud: String = #""authenticated""#, extra: String = "") -> String {
        #"{"sub":"u1","email":"\#(email)","aud":\#(aud),"exp":\#(Int(exp))\#(extra)}"#
    }
}

final class JWTVerifierTests: XCTestCase {
    let secret = "super-secret-jwt-token-with-at-least-32-characters-long"
    var verifier: JWTVerifier { JWTVerifier(settings: .init(hs256Secret: secret), keySet: nil) }

    func assertRefused(_ token: String, _ verifier: JWTVerifier? = nil, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try (verifier ?? self.verifier).verify(token, now: Date()), file: file, line: line) { error in
            XCTAssertEqual((error as? AppError)?.status, 401, "\(error)", file: file, line: line)
        }
    }

    func testAcceptsAnHS256TokenLikeSupabaseIssues() throws {
        let token = TestTokens.hs256(TestTokens.claims(
            email: " Agent@Example.com ", extra: #","app_metadata":{"provider":"email"},"user_metadata":{"role":"ADMIN"}"#),
            secret: secret)
        let verified = try verifier.verify(token, now: Date())
        XCTAssertEqual(verified.email, "agent@example.com")
        XCTAssertEqual(verified.subject, "u1")
        XCTAssertEqual(verified.appMetadata?["provider"]?.stringValue, "email")
    }

    func testTheMinterAndTheVerifierAgree() throws {
        let token = try JWTMinter(secret: secret).mint(subject: "s", email: "a@b.co", tenantID: nil, ttlSeconds: 60)
        XCTAssertEqual(try verifier.verify(token, now: Date()).email, "a@b.co")
        // With an issuer and audience configured, a token minted for them passes and the default one does not.
        let strict = JWTVerifier(settings: .init(hs256Secret: secret, audiences: ["hubchat-api"],
                                                 issuer: "https://id.example.com/"), keySet: nil)
        let minted = try JWTMinter(secret: secret).mint(subject: "s", email: "a@b.co", tenantID: nil, ttlSeconds: 60,
                                                        issuer: "https://id.example.com/", audience: "hubchat-api")
        XCTAssertEqual(try strict.verify(minted, now: Date()).email, "a@b.co")
        XCTAssertThrowsError(try strict.verify(token, now: Date()))
    }

    func testRefusesForgedExpiredFutureAndForeignTokens() {
        let now = Date().timeIntervalSince1970
        assertRefused(TestTokens.hs256(TestTokens.claims(), secret: "another-secret"))
        assertRefused(TestTokens.hs256(TestTokens.claims(exp: now - 120), secret: secret))
        assertRefused(TestTokens.hs256(#"{"sub":"u1","email":"a@b.co","aud":"authenticated"}"#, secret: secret))
        assertRefused(TestTokens.hs256(TestTokens.claims(extra: #","nbf":\#(Int(now + 600))"#), secret: secret))
        assertRefused(TestTokens.hs256(TestTokens.claims(aud: #""someone-else""#), secret: secret))
        assertRefused(TestTokens.hs256(TestTokens.claims(aud: #"["a","b"]"#), secret: secret))
        assertRefused(TestTokens.hs256(TestTokens.claims(), secret: secret, header: #"{"alg":"HS256","crit":["x"]}"#))
    }

    func testRefusesAlgNoneAndGarbage() {
        let unsigned = TestTokens.encode(#"{"alg":"none","typ":"JWT"}"#) + "." + TestTokens.encode(TestTokens.claims()) + "."
        assertRefused(unsigned)
        assertRefused(unsigned + "c2ln")
        assertRefused("not-a-token")
        assertRefused("a.b.c")
        assertRefused("")
        // An HS256 token whose header was swapped to HS512 must not verify.
        let token = TestTokens.hs256(TestTokens.claims(), secret: secret)
        let parts = token.split(separator: ".")
        assertRefused(TestTokens.encode(#"{"alg":"HS512"}"#) + "." + parts[1] + "." + parts[2])
    }

    func testAcceptsAnArrayAudienceAndToleratesSkew() throws {
        let now = Date().timeIntervalSince1970
        XCTAssertNoThrow(try verifier.verify(
            TestTokens.hs256(TestTokens.claims(aud: #"["x","authenticated"]"#), secret: secret), now: Date()))
        XCTAssertNoThrow(try verifier.verify(TestTokens.hs256(TestTokens.claims(exp: now - 5), secret: secret), now: Date()))
    }

    func testRS256AndES256FromAJWKSWithRotation() throws {
        let rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let ec = P256.Signing.PrivateKey()
        let rotated = P256.Signing.PrivateKey()
        let document = LockedBox(#"{"keys":[\#(TestTokens.jwk(rsa.publicKey, kid: "r1")),\#(TestTokens.jwk(ec.publicKey, kid: "e1"))]}"#)
        let fetches = LockedBox(0)
        let keySet = JWKSKeySet(source: .url("https://idp.example/jwks"), minimumRefreshSeconds: 0, logger: Logger(label: "t"),
                                fetch: { _ in fetches.value += 1; return Array(document.value.utf8) })
        let verifier = JWTVerifier(settings: .init(hs256Secret: nil), keySet: keySet)

        XCTAssertEqual(try verifier.verify(try TestTokens.rs256(TestTokens.claims(), key: rsa, kid: "r1"), now: Date()).email,
                       "agent@example.com")
        XCTAssertNoThrow(try verifier.verify(try TestTokens.es256(TestTokens.claims(), key: ec, kid: "e1"), now: Date()))
        XCTAssertEqual(fetches.value, 1, "the key set is cached")

        // A key signed by an unknown kid: refetch once, still refused; after rotation, accepted.
        let fromRotated = try TestTokens.es256(TestTokens.claims(), key: rotated, kid: "e2")
        assertRefused(fromRotated, verifier)
        XCTAssertEqual(fetches.value, 2)
        document.value = #"{"keys":[\#(TestTokens.jwk(rotated.publicKey, kid: "e2"))]}"#
        XCTAssertNoThrow(try verifier.verify(fromRotated, now: Date()))

        // Right kid, wrong key; and HS256 is off without a secret.
        assertRefused(try TestTokens.es256(TestTokens.claims(), key: ec, kid: "e2"), verifier)
        assertRefused(TestTokens.hs256(TestTokens.claims(), secret: secret), verifier)
    }

    func testAnRSAPublicKeyUsedAsAnHMACSecretIsRefused() throws {
        // The classic RS256 → HS256 confusion: an attacker signs with the public key as an HMAC secret.
        let rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let keySet = JWKSKeySet(source: .file("/nonexistent"), logger: Logger(label: "t"), fetch: { _ in
            Array(#"{"keys":[\#(TestTokens.jwk(rsa.publicKey, kid: "r1"))]}"#.utf8) })
        let verifier = JWTVerifier(settings: .init(hs256Secret: nil), keySet: keySet)
        let forged = TestTokens.hs256(TestTokens.claims(), secret: rsa.publicKey.pemRepresentation,
                                      header: #"{"alg":"HS256","kid":"r1"}"#)
        assertRefused(forged, verifier)
    }
}

final class LockedBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    var value: T {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}
