import Crypto
import FoundationEssentials

/// Mints HS256 bearer tokens shaped like Supabase Auth's (sub, email, aud "authenticated"),
/// for self-hosted installs without an identity provider. Verification lives with the API.
public struct JWTMinter {
    let secret: SymmetricKey

    public init(secret: String) {
        self.secret = SymmetricKey(data: Data(secret.utf8))
    }

    public struct Claims: Codable, Sendable {
        public var sub: String
        public var email: String
        public var aud: String
        public var role: String
        public var iss: String
        public var iat: Int
        public var exp: Int
        public var app_metadata: AppMetadata?

        public struct AppMetadata: Codable, Sendable {
            public var tenant_id: String?
        }
    }

    /// `issuer` and `audience` should be what the API checks (HUBCHAT_JWT_ISSUER, the first of HUBCHAT_JWT_AUDIENCE):
    /// a token minted with others is refused.
    public func mint(subject: String, email: String, tenantID: String?, ttlSeconds: Int, issuer: String = "hubchat",
                     audience: String = "authenticated", now: Date = Date()) throws -> String {
        let issued = Int(now.timeIntervalSince1970)
        let claims = Claims(
            sub: subject, email: email, aud: audience, role: "authenticated", iss: issuer,
            iat: issued, exp: issued + ttlSeconds, app_metadata: tenantID.map { .init(tenant_id: $0) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let header = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let payload = Base64URL.encode(Array(try encoder.encode(claims)))
        let signingInput = header + "." + payload
        let mac = HMAC<SHA256>.authenticationCode(for: Data(signingInput.utf8), using: secret)
        return signingInput + "." + Base64URL.encode(Array(mac))
    }
}

/// Base64url without padding (RFC 7515 §2).
public enum Base64URL {
    public static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s).map(Array.init)
    }
}
