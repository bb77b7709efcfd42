#if canImport(Glibc)
import Glibc
#endif

/// Channel accounts a responder has looked up recently, for `ttlSeconds`. A webhook pool
/// resolves the same few accounts thousands of times a second; a changed secret takes effect
/// within the TTL. Unknown accounts are not remembered, so a new account works at once.
/// One per process, used from one thread.
public final class ChannelAccountCache {
    private struct Entry { let account: ChannelAccount; let expires: Double }
    private var entries: [String: Entry] = [:]
    let ttlSeconds: Double
    let clock: () -> Double

    public init(ttlSeconds: Double, clock: @escaping () -> Double = ChannelAccountCache.monotonicSeconds) {
        self.ttlSeconds = ttlSeconds
        self.clock = clock
    }

    func lookup(_ channel: Channel, _ id: String) -> ChannelAccount? {
        guard let entry = entries[channel.rawValue + ":" + id], entry.expires > clock() else { return nil }
        return entry.account
    }

    func remember(_ account: ChannelAccount) {
        if entries.count > 10_000 { entries.removeAll() }  // bounded, whatever ids a caller invents
        entries[account.channel.rawValue + ":" + account.externalAccountID] = Entry(account: account, expires: clock() + ttlSeconds)
    }

    public static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// A directory that answers from the cache and asks `upstream` only for what it lacks.
public struct CachedChannelAccountDirectory: ChannelAccountDirectory {
    let upstream: any ChannelAccountDirectory
    let cache: ChannelAccountCache

    public init(upstream: any ChannelAccountDirectory, cache: ChannelAccountCache) {
        self.upstream = upstream
        self.cache = cache
    }

    public func accounts(channel: Channel, externalIDs: [String]) throws -> [ChannelAccount] {
        var found: [ChannelAccount] = []
        var missing: [String] = []
        for id in externalIDs {
            if let hit = cache.lookup(channel, id) { found.append(hit) } else { missing.append(id) }
        }
        if !missing.isEmpty {
            let fetched = try upstream.accounts(channel: channel, externalIDs: missing)
            fetched.forEach(cache.remember)
            found += fetched
        }
        return found
    }

    public func verifyTokens(channel: Channel) throws -> [String] { try upstream.verifyTokens(channel: channel) }
}
