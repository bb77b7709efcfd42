import Crypto
import FoundationEssentials

/// Verifies JSON Web Tokens (RFC 7519) with swift-crypto: HS256 with a shared secret (a Supabase project's
/// JWT secret works as is) and RS256 / ES256 with the public keys of a JWKS. `alg: none`, unknown algorithms,
/// a `crit` header, a missing or past `exp`, a future `nbf`, a foreign `aud` or `iss` are all refused.
public struct JWTVerifier: AccessTokenVerifier {
    public struct Settings: Sendable {
        /// HS256 secret, used as its UTF-8 bytes (how Supabase uses its JWT secret). nil disables HS256.
        public var hs256Secret: String?
        /// Accepted audiences; the token's `aud` (string or array) must name one. Empty = `aud` not checked.
        public var audiences: [String]
        /// Required `iss`, when set.
        public var issuer: String?
        /// Clock skew tolerated on `exp` and `nbf`.
        public var leewaySeconds: Int

        public init(hs256Secret: String?, audiences: [String] = ["authenticated"], issuer: String? = nil,
                    leewaySeconds: Int = 30) {
            self.hs256Secret = hs256Secret
            self.audiences = audiences
            self.issuer = issuer
            self.leewaySeconds = leewaySeconds
        }
    }

    let settings: Settings
    let hmacKey: SymmetricKey?
    let keySet: JWKSKeySet?

    public init(settings: Settings, keySet: JWKSKeySet?) {
        self.settings = settings
        self.hmacKey = settings.hs256Secret.flatMap { $0.isEmpty ? nil : SymmetricKey(data: Data($0.utf8)) }
        self.keySet = keySet
    }

    static func refuse(_ why: String) -> AppError {
        AppError(status: 401, code: "invalid_token", message: why)
    }

    public func verify(_ token: String, now: Date) throws -> VerifiedToken {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw Self.refuse("The bearer token is not a JWT (three base64url parts).")
        }
        guard let headerBytes = Base64URL.decode(String(parts[0])), let header = try? JSONValue.parse(headerBytes),
              header.objectValue != nil
        else { throw Self.refuse("The token's header is not valid base64url JSON.") }
        guard let payloadBytes = Base64URL.decode(String(parts[1])), let claims = try? JSONValue.parse(payloadBytes),
              claims.objectValue != nil
        else { throw Self.refuse("The token's payload is not valid base64url JSON.") }
        guard let signature = Base64URL.decode(String(parts[2])), !signature.isEmpty else {
            throw Self.refuse("The token is not signed.")
        }
        if header["crit"] != nil { throw Self.refuse("The token uses critical header extensions, which are not supported.") }

        let signingInput = Array(parts[0].utf8) + [UInt8(ascii: ".")] + Array(parts[1].utf8)
        switch header["alg"]?.stringValue {
        case "HS256":
            guard let hmacKey else { throw Self.refuse("HS256 tokens are not accepted here (no HUBCHAT_JWT_SECRET).") }
            guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signingInput, using: hmacKey) else {
                throw Self.refuse("The token's signature does not verify.")
            }
        case let alg? where alg == "RS256" || alg == "ES256":
            guard let keySet else { throw Self.refuse("\(alg) tokens are not accepted here (no JWKS configured).") }
            let key = try keySet.key(id: header["kid"]?.stringValue, algorithm: alg)
            guard key.verifies(signature: signature, over: signingInput) else {
                throw Self.refuse("The token's signature does not verify.")
            }
        case let alg?:
            throw Self.refuse("Tokens signed with \(alg.isEmpty ? "no algorithm" : alg) are not accepted.")
        case nil:
            throw Self.refuse("The token's header names no algorithm.")
        }
        try checkTimes(claims, now: now)
        try checkAudienceAndIssuer(claims)
        let email = claims["email"]?.stringValue.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        return VerifiedToken(
            subject: claims["sub"]?.stringValue, email: email?.isEmpty == false ? email : nil,
            appMetadata: claims["app_metadata"]?.objectValue != nil ? claims["app_metadata"] : nil)
    }

    func checkTimes(_ claims: JSONValue, now: Date) throws {
        let t = now.timeIntervalSince1970
        let leeway = Double(settings.leewaySeconds)
        guard let exp = claims["exp"]?.doubleValue else { throw Self.refuse("The token has no expiry (exp).") }
        guard t < exp + leeway else { throw Self.refuse("The token has expired.") }
        if let nbf = claims["nbf"] {
            guard let value = nbf.doubleValue else { throw Self.refuse("The token's nbf is not a number.") }
            guard t + leeway >= value else { throw Self.refuse("The token is not valid yet (nbf).") }
        }
    }

    func checkAudienceAndIssuer(_ claims: JSONValue) throws {
        if !settings.audiences.isEmpty {
            let audiences: [String]
            switch claims["aud"] {
            case .string(let one)?: audiences = [one]
            case .array(let many)?: audiences = many.compactMap(\.stringValue)
            default: audiences = []
            }
            guard audiences.contains(where: settings.audiences.contains) else {
                throw Self.refuse("The token is not meant for this API (aud).")
            }
        }
        if let issuer = settings.issuer, claims["iss"]?.stringValue != issuer {
            throw Self.refuse("The token was not issued by the expected issuer (iss).")
        }
    }
}
