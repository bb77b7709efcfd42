import FoundationEssentials

/// Decides whether a media URL an agent sends may be handed to a provider (and fetched by our worker):
/// HTTPS only, no credentials in it, and a host whose every address, once resolved, is on the public internet —
/// so `https://localhost`, `https://10.0.0.5`, `https://[::1]` or a name that resolves to a private address are all
/// refused. Media we stored ourselves for the same tenant (under `trustedPrefix`, the tenant's id one of its path's
/// folders) is accepted; anything else under `trustedPrefix` (another tenant's file, a path that is no stored file)
/// is refused.
public struct MediaURLGuard {
    let resolver: any HostResolver
    /// `HUBCHAT_PUBLIC_BASE_URL` + `/media/`: our own uploads.
    let trustedPrefix: String?

    public init(resolver: any HostResolver, trustedPrefix: String?) {
        self.resolver = resolver
        self.trustedPrefix = trustedPrefix
    }

    public struct Parsed: Sendable, Equatable {
        public let host: String
        public let port: Int
    }

    /// Checks `url` for `tenant`; throws a 400 naming `field`. Returns the addresses the host resolved to (for pinning).
    @discardableResult
    public func check(_ url: String, field: String, tenant: UUID) throws -> [NetworkAddress] {
        if isOwnMedia(url, tenant: tenant) { return [] }
        // Our own host serves every tenant's media (and, on a public host, would pass as a public URL): anything else
        // under the media prefix is another tenant's file, or no stored file at all.
        if let trustedPrefix, url.lowercased().hasPrefix(trustedPrefix.lowercased()) {
            throw AppError.invalidField(field, "names stored media that is not this tenant's.")
        }
        let parsed = try Self.parse(url, field: field)
        let addresses: [NetworkAddress]
        do { addresses = try resolver.addresses(of: parsed.host) } catch {
            throw AppError.invalidField(field, "the host \(parsed.host) does not resolve.")
        }
        guard !addresses.isEmpty, addresses.allSatisfy(\.isPublic) else {
            throw AppError.invalidField(field, "must point to a public internet host (not loopback, private or link-local).")
        }
        return addresses
    }

    /// Under `trustedPrefix`, with a plain path (letters, digits, `.`, `_`, `-` and `/`; no dot segment, no percent
    /// escape that could decode to one) and at most a signed link's query: anything else, such as
    /// `/media/%2e%2e/api/health`, is not. The tenant's id must be in its place (`StoredMediaPath`).
    func isOwnMedia(_ url: String, tenant: UUID) -> Bool {
        guard let trustedPrefix, url.hasPrefix(trustedPrefix) else { return false }
        let rest = url.dropFirst(trustedPrefix.count)
        let path = rest.prefix { $0 != "?" }
        let query = rest.dropFirst(path.count).dropFirst()
        let plain = { (c: Character) in c.isASCII && (c.isLetter || c.isNumber || "._-/".contains(c)) }
        let folders = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.isEmpty, path.allSatisfy(plain), !folders.contains(where: { $0.isEmpty || $0.hasPrefix(".") }),
              StoredMediaPath.isTenants(folders, tenant: tenant)
        else { return false }
        return query.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-=&".contains($0)) }
    }

    /// Scheme, credentials, host and port, without trusting a general URL parser's leniency.
    public static func parse(_ url: String, field: String) throws -> Parsed {
        guard url.utf8.count <= 2048, !url.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7f || $0 == UInt8(ascii: "\\") })
        else { throw AppError.invalidField(field, "is not a valid URL.") }
        guard url.lowercased().hasPrefix("https://") else { throw AppError.invalidField(field, "must be an https:// URL.") }
        let rest = url.dropFirst("https://".count)
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.isEmpty else { throw AppError.invalidField(field, "has no host.") }
        guard !authority.contains("@") else { throw AppError.invalidField(field, "must not carry credentials.") }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw AppError.invalidField(field, "has a malformed host.") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty {
                throw AppError.invalidField(field, "has a malformed host.")
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        var port = 443
        if let portText {
            guard let value = Int(portText), (1...65_535).contains(value) else { throw AppError.invalidField(field, "has a bad port.") }
            port = value
        }
        let name = host.lowercased().hasSuffix(".") ? String(host.lowercased().dropLast()) : host.lowercased()
        guard !name.isEmpty, name != "localhost", !name.hasSuffix(".localhost"), !name.hasSuffix(".internal"),
              !name.hasSuffix(".local")
        else { throw AppError.invalidField(field, "must point to a public internet host (not loopback, private or link-local).") }
        return Parsed(host: name, port: port)
    }
}
