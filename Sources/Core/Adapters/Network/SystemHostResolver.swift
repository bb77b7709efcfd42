#if canImport(Glibc)
import Glibc
#endif

/// `HostResolver` through the system resolver (getaddrinfo), IPv4 and IPv6.
public struct SystemHostResolver: HostResolver {
    public init() {}

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public func addresses(of host: String) throws -> [NetworkAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, nil, &hints, &list)
        guard rc == 0, let first = list else {
            throw Failure(description: "cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(first) }
        var out: [NetworkAddress] = []
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let info = node {
            if let sa = info.pointee.ai_addr {
                switch Int32(info.pointee.ai_family) {
                case AF_INET:
                    let raw = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
                    let b = withUnsafeBytes(of: raw) { Array($0) }
                    out.append(.v4(b[0], b[1], b[2], b[3]))
                case AF_INET6:
                    let raw = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                    out.append(.v6(withUnsafeBytes(of: raw) { Array($0) }))
                default: break
                }
            }
            node = info.pointee.ai_next
        }
        return out
    }
}
