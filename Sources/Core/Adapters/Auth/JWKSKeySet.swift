import _CryptoExtras
import Crypto
import FoundationEssentials
import Logging
import Synchronization

/// A public key from a JWKS (RFC 7517): RSA (`n`, `e`) for RS256 or EC P-256 (`x`, `y`) for ES256.
/// Unchecked: swift-crypto's key types are immutable values but are not marked Sendable on Linux.
public enum JSONWebKey: @unchecked Sendable {
    case rsa(_RSA.Signing.PublicKey)
    case p256(P256.Signing.PublicKey)

    var algorithm: String {
        switch self {
        case .rsa: return "RS256"
        case .p256: return "ES256"
        }
    }

    /// RS256 is RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3); ES256 is the raw 64-byte r‖s (§3.4).
    func verifies(signature: [UInt8], over input: [UInt8]) -> Bool {
        let digest = SHA256.hash(data: input)
        switch self {
        case .rsa(let key):
            return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: digest,
                                        padding: .insecurePKCS1v1_5)
        case .p256(let key):
            guard signature.count == 64, let sig = try? P256.Signing.ECDSASignature(rawRepresentation: signature)
            else { return false }
            return key.isValidSignature(sig, for: digest)
        }
    }

    /// Keys this verifier cannot use (other curves, encryption keys, malformed entries) are skipped, not fatal.
    static func parse(_ jwk: JSONValue) -> (kid: String?, key: JSONWebKey)? {
        if let use = jwk["use"]?.stringValue, use != "sig" { return nil }
        switch jwk["kty"]?.stringValue {
        case "RSA":
            guard jwk["alg"]?.stringValue.map({ $0 == "RS256" }) ?? true,
                  let n = jwk["n"]?.stringValue.flatMap(Base64URL.decode),
                  let e = jwk["e"]?.stringValue.flatMap(Base64URL.decode),
                  let key = try? _RSA.Signing.PublicKey(n: n, e: e)
            else { return nil }
            return (jwk["kid"]?.stringValue, .rsa(key))
        case "EC":
            guard jwk["crv"]?.stringValue == "P-256", jwk["alg"]?.stringValue.map({ $0 == "ES256" }) ?? true,
                  let x = jwk["x"]?.stringValue.flatMap(Base64URL.decode),
                  let y = jwk["y"]?.stringValue.flatMap(Base64URL.decode), x.count == 32, y.count == 32,
                  let key = try? P256.Signing.PublicKey(rawRepresentation: x + y)
            else { return nil }
            return (jwk["kid"]?.stringValue, .p256(key))
        default:
            return nil
        }
    }
}

/// The identity provider's signing keys, from a JWKS file or URL, cached for `ttlSeconds`. A token naming a
/// `kid` the cache does not know triggers a refresh (the provider rotated its keys), at most once per
/// `minimumRefreshSeconds`, so a stream of forged kids cannot turn into a stream of fetches.
public final class JWKSKeySet: Sendable {
    public enum Source: Sendable {
        case file(String)
        case url(String)
    }

    struct Cache {
        var keys: [(kid: String?, key: JSONWebKey)] = []
        var loadedAt: Double = -.infinity
        var attemptedAt: Double = -.infinity
    }

    let source: Source
    let ttlSeconds: Double
    let minimumRefreshSeconds: Double
    let fetch: @Sendable (Source) throws -> [UInt8]
    let clock: @Sendable () -> Double
    let logger: Logger
    private let cache = Mutex(Cache())

    public init(source: Source, ttlSeconds: Double = 600, minimumRefreshSeconds: Double = 30, logger: Logger,
                fetch: @escaping @Sendable (Source) throws -> [UInt8] = JWKSKeySet.defaultFetch,
                clock: @escaping @Sendable () -> Double = ChannelAccountCache.monotonicSeconds) {
        self.source = source
        self.ttlSeconds = ttlSeconds
        self.minimumRefreshSeconds = minimumRefreshSeconds
        self.fetch = fetch
        self.clock = clock
        self.logger = logger
    }

    /// The key for a token's `kid` and `alg`. Without a `kid`, the only key of that algorithm.
    func key(id: String?, algorithm: String) throws -> JSONWebKey {
        let now = clock()
        var keys = cache.withLock { $0.loadedAt + ttlSeconds > now ? $0.keys : nil }
        if keys == nil || Self.find(id, algorithm, in: keys!) == nil {
            keys = refresh(now: now, force: keys != nil)
        }
        guard let found = Self.find(id, algorithm, in: keys ?? []) else {
            throw JWTVerifier.refuse(id.map { "The token's key (kid \($0)) is not in the JWKS." }
                                     ?? "The token names no key id (kid) and the JWKS has no single \(algorithm) key.")
        }
        return found
    }

    static func find(_ id: String?, _ algorithm: String, in keys: [(kid: String?, key: JSONWebKey)]) -> JSONWebKey? {
        let candidates = keys.filter { $0.key.algorithm == algorithm }
        if let id { return candidates.first { $0.kid == id }?.key }
        return candidates.count == 1 ? candidates[0].key : nil
    }

    /// Loads the key set unless a load was attempted too recently; keeps the last good set when a load fails.
    private func refresh(now: Double, force: Bool) -> [(kid: String?, key: JSONWebKey)] {
        let due = cache.withLock { c -> Bool in
            guard now - c.attemptedAt >= (force ? minimumRefreshSeconds : 1) else { return false }
            c.attemptedAt = now
            return true
        }
        guard due else { return cache.withLock { $0.keys } }
        do {
            let document = try JSONValue.parse(try fetch(source))
            guard let entries = document["keys"]?.arrayValue else { throw JSONWebKeySetError.noKeys }
            let keys = entries.compactMap(JSONWebKey.parse)
            cache.withLock { $0.keys = keys; $0.loadedAt = now }
            logger.info("loaded the JWKS", metadata: ["keys": "\(keys.count)"])
            return keys
        } catch {
            logger.error("could not load the JWKS; keeping the previous keys", metadata: ["error": "\(error)"])
            return cache.withLock { $0.keys }
        }
    }

    public static let defaultFetch: @Sendable (Source) throws -> [UInt8] = { source in
        switch source {
        case .file(let path):
            return Array(try String(contentsOfFile: path, encoding: .utf8).utf8)
        case .url(let url):
            let response = try CurlHTTPClient().send(HTTPRequest(url: url, timeoutMilliseconds: 5_000))
            guard response.status == 200 else { throw JSONWebKeySetError.http(response.status) }
            return response.body
        }
    }
}

enum JSONWebKeySetError: Error, CustomStringConvertible {
    case noKeys
    case http(Int)

    var description: String {
        switch self {
        case .noKeys: return "the document has no \"keys\" array"
        case .http(let status): return "the JWKS URL answered HTTP \(status)"
        }
    }
}
