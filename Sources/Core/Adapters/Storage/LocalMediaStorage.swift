import Crypto
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Media in a local directory that nginx serves at `/media/{bucket}/{path}`. Signed URLs use
/// nginx's secure_link: `md5` = base64url(MD5("{expires}{uri} {secret}")), so nginx itself
/// refuses a forged or expired link and media requests never reach a responder.
public struct LocalMediaStorage: MediaStorage {
    let root: String
    let publicBaseURL: String
    let signingSecret: String
    /// How long a renewed link lasts, by bucket (`renewed(url:)`).
    let signedLinkTTLs: [String: Int]
    let clock: () -> Date

    public init(root: String, publicBaseURL: String, signingSecret: String, signedLinkTTLs: [String: Int] = [:],
                clock: @escaping () -> Date = Date.init) {
        self.root = root
        self.publicBaseURL = publicBaseURL.hasSuffix("/") ? String(publicBaseURL.dropLast()) : publicBaseURL
        self.signingSecret = signingSecret
        self.signedLinkTTLs = signedLinkTTLs
        self.clock = clock
    }

    /// The media directory and links as configured.
    public init(_ media: HubChatConfig.Media) {
        self.init(root: media.directory, publicBaseURL: media.publicBaseURL, signingSecret: media.signingSecret,
                  signedLinkTTLs: media.signedLinkTTLs)
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public func put(bucket: String, path: String, bytes: [UInt8], contentType: String) throws {
        try Self.checkSafe(bucket)
        for part in path.split(separator: "/") { try Self.checkSafe(String(part)) }
        let target = "\(root)/\(bucket)/\(path)"
        let directory = String(target[..<target.lastIndex(of: "/")!])
        try Self.makeDirectories(directory)
        // Write beside it, then rename: a reader never sees half a file.
        let temporary = target + ".tmp-\(getpid())"
        guard let file = fopen(temporary, "wb") else { throw Failure(description: "cannot write \(temporary): errno \(errno)") }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        let closed = fclose(file)
        guard written == bytes.count, closed == 0, rename(temporary, target) == 0 else {
            unlink(temporary)
            throw Failure(description: "cannot store \(target): errno \(errno)")
        }
    }

    public func delete(bucket: String, path: String) throws {
        try Self.checkSafe(bucket)
        for part in path.split(separator: "/") { try Self.checkSafe(String(part)) }
        let target = "\(root)/\(bucket)/\(path)"
        guard unlink(target) == 0 || errno == ENOENT else { throw Failure(description: "cannot remove \(target): errno \(errno)") }
    }

    public func url(bucket: String, path: String, mode: MediaURLMode, ttlSeconds: Int) -> String {
        let uri = "/media/\(bucket)/\(path)"
        guard mode == .signed else { return publicBaseURL + uri }
        return signed(uri: uri, expires: Int(clock().timeIntervalSince1970) + ttlSeconds)
    }

    func signed(uri: String, expires: Int) -> String {
        let digest = Insecure.MD5.hash(data: Array("\(expires)\(uri) \(signingSecret)".utf8))
        return "\(publicBaseURL)\(uri)?md5=\(Base64URL.encode(Array(digest)))&expires=\(expires)"
    }

    /// A link to the tenant's own stored media in a signed bucket, signed again to last the bucket's TTL from now
    /// (whatever signature it carried, or none); any other URL as it is. Only a path with the tenant's id in its
    /// place (`StoredMediaPath`) is the tenant's, so another tenant's file is never signed for this one. The expiry is rounded down to a step (a quarter
    /// of the TTL, at most a day), so reading a thread twice gives the same links and the browser's cache keeps
    /// working, while every link given out lasts at least three quarters of the TTL.
    public func renewed(url: String, tenant: UUID) -> String {
        guard url.hasPrefix(publicMediaPrefix), localPath(url: url) != nil else { return url }
        let relative = url.dropFirst(publicMediaPrefix.count).prefix { $0 != "?" && $0 != "#" }
        let folders = relative.split(separator: "/")
        guard let bucket = folders.first, let ttl = signedLinkTTLs[String(bucket)],
              StoredMediaPath.isTenants(folders, tenant: tenant)
        else { return url }
        let step = max(60, min(ttl / 4, 86_400))
        let expires = (Int(clock().timeIntervalSince1970) + ttl) / step * step
        return signed(uri: "/media/" + relative, expires: expires)
    }

    /// Every URL this storage makes starts with this.
    public var publicMediaPrefix: String { publicBaseURL + "/media/" }

    /// `{publicBaseURL}/media/{bucket}/{path}[?…]` → the file's path on disk, if the URL is one of ours.
    func localPath(url: String) -> String? {
        let prefix = publicBaseURL + "/media/"
        guard url.hasPrefix(prefix) else { return nil }
        let relative = url.dropFirst(prefix.count).prefix { $0 != "?" && $0 != "#" }
        let parts = relative.split(separator: "/").map(String.init)
        guard parts.count >= 2, (try? parts.forEach(Self.checkSafe)) != nil else { return nil }
        return root + "/" + parts.joined(separator: "/")
    }

    public func storedSize(url: String) -> Int? {
        guard let path = localPath(url: url) else { return nil }
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int(info.st_size)
    }

    public func read(url: String) -> [UInt8]? {
        guard let path = localPath(url: url), let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if n <= 0 { break }
            out.append(contentsOf: buffer[0..<n])
        }
        return out
    }

    static func checkSafe(_ component: String) throws {
        guard !component.isEmpty, component != ".", component != "..",
              component.utf8.allSatisfy({ b in
                  (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 45 || b == 46 || b == 95
              })
        else { throw Failure(description: "unsafe path component \(component)") }
    }

    static func makeDirectories(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw Failure(description: "cannot create \(current): errno \(errno)")
            }
        }
    }
}
