/// An IP address, classified for the media-URL guard: only addresses on the public internet may be fetched.
public enum NetworkAddress: Sendable, Equatable, CustomStringConvertible {
    case v4(UInt8, UInt8, UInt8, UInt8)
    case v6([UInt8])

    public var description: String {
        switch self {
        case .v4(let a, let b, let c, let d): return "\(a).\(b).\(c).\(d)"
        case .v6(let bytes):
            return stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
                .joined(separator: ":")
        }
    }

    /// False for loopback, private (RFC 1918, ULA), link-local, carrier-grade NAT, unspecified, multicast,
    /// broadcast, documentation and benchmarking ranges, and IPv6 forms that embed one of those IPv4 addresses.
    public var isPublic: Bool {
        switch self {
        case .v4(let a, let b, _, _):
            switch a {
            case 0, 10, 127: return false
            case 100 where (64...127).contains(b): return false      // 100.64/10 shared address space
            case 169 where b == 254: return false                     // link-local, cloud metadata
            case 172 where (16...31).contains(b): return false
            case 192 where b == 168: return false
            case 192 where b == 0: return false                       // 192.0.0/24, 192.0.2/24
            case 198 where b == 18 || b == 19: return false           // benchmarking
            case 198 where b == 51, 203 where b == 0: return false    // documentation
            case 224...255: return false                              // multicast, reserved, broadcast
            default: return true
            }
        case .v6(let x):
            guard x.count == 16 else { return false }
            if x.allSatisfy({ $0 == 0 }) { return false }                                  // ::
            if x[0..<15].allSatisfy({ $0 == 0 }) && x[15] == 1 { return false }           // ::1
            if x[0..<10].allSatisfy({ $0 == 0 }) && x[10] == 0xff && x[11] == 0xff {       // ::ffff:a.b.c.d
                return NetworkAddress.v4(x[12], x[13], x[14], x[15]).isPublic
            }
            if x[0..<12].allSatisfy({ $0 == 0 }) { return false }                          // ::a.b.c.d (deprecated)
            if x[0] == 0x00 && x[1] == 0x64 && x[2] == 0xff && x[3] == 0x9b {              // 64:ff9b::/96 NAT64
                return NetworkAddress.v4(x[12], x[13], x[14], x[15]).isPublic
            }
            if x[0] & 0xfe == 0xfc { return false }                                        // fc00::/7 unique local
            if x[0] == 0xfe && x[1] & 0xc0 == 0x80 { return false }                        // fe80::/10 link-local
            if x[0] == 0xfe && x[1] & 0xc0 == 0xc0 { return false }                        // fec0::/10 site-local
            if x[0] == 0xff { return false }                                               // multicast
            if x[0] == 0x20 && x[1] == 0x01 && x[2] == 0x0d && x[3] == 0xb8 { return false } // 2001:db8::/32 docs
            if x[0] == 0x20 && x[1] == 0x02 {                                              // 6to4 embeds IPv4
                return NetworkAddress.v4(x[2], x[3], x[4], x[5]).isPublic
            }
            return true
        }
    }
}
