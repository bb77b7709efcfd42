/// Name resolution, so the media-URL guard checks the addresses a host really has (and a test can stand in).
public protocol HostResolver {
    /// Every address of `host` (an IP literal resolves to itself). Throws when the name does not resolve.
    func addresses(of host: String) throws -> [NetworkAddress]
}
