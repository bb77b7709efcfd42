#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization

/// `HostResolver` through the system resolver (getaddrinfo), IPv4 and IPv6, waiting at most `timeout`.
///
/// getaddrinfo has no deadline of its own: a name whose nameserver never answers holds the caller for the
/// resolver's retries (tens of seconds), and a responder held that long is a pool slot lost to one request. The
/// lookup runs on a thread of its own; past the deadline the caller goes on with a failure and the abandoned lookup
/// ends in the background when the resolver gives up.
public struct SystemHostResolver: HostResolver {
    let timeout: Duration
    let lookUp: @Sendable (String) throws -> [NetworkAddress]

    public init(timeout: Duration = .seconds(3)) { self.init(timeout: timeout, lookUp: { try Self.lookUp($0) }) }

    init(timeout: Duration, lookUp: @escaping @Sendable (String) throws -> [NetworkAddress]) {
        self.timeout = timeout
        self.lookUp = lookUp
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Where the lookup's thread leaves its answer (kept alive by whichever side finishes last).
    final class Outcome: Sendable {
        let value = Mutex<Result<[NetworkAddress], Failure>?>(nil)
    }

    /// Names that failed lately (no answer in time, or none at all), and until when that stands: a send naming one
    /// again fails at once instead of holding its responder for the timeout once more. Per process.
    private static let failures = Mutex<[String: ContinuousClock.Instant]>([:])
    static let failureMemory: Duration = .seconds(60)

    public func addresses(of host: String) throws -> [NetworkAddress] {
        let now = ContinuousClock.now
        if let until = Self.failures.withLock({ $0[host] }), until > now {
            throw Failure(description: "cannot resolve \(host): it failed to resolve moments ago")
        }
        do {
            return try lookUpWithin(timeout, host)
        } catch {
            Self.failures.withLock { failures in
                if failures.count > 1_000 { failures = failures.filter { $0.value > now } }
                failures[host] = now + Self.failureMemory
            }
            throw error
        }
    }

    private func lookUpWithin(_ timeout: Duration, _ host: String) throws -> [NetworkAddress] {
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async { [lookUp] in
            let result = Result { try lookUp(host) }.mapError { $0 as? Failure ?? Failure(description: "\($0)") }
            outcome.value.withLock { $0 = result }
            done.signal()
        }
        let (seconds, attoseconds) = timeout.components
        let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
        guard done.wait(timeout: .now() + .nanoseconds(nanoseconds)) == .success, let result = outcome.value.withLock({ $0 }) else {
            throw Failure(description: "cannot resolve \(host): no answer within \(timeout)")
        }
        return try result.get()
    }

    static func lookUp(_ host: String) throws(Failure) -> [NetworkAddress] {
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
