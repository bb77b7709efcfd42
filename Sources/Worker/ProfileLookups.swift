import Core
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Profile lookups handed over by the inbound lanes, run by lanes of their own: a provider's profile API (LINE's
/// or Graph's, 100 ms or more in production) then never holds up the inbox, even when a burst of new customers
/// arrives. Best effort and in memory: one lookup per customer while it waits, runs and for `quietSeconds` after
/// (messages read before its result was stored would otherwise ask again), at most `capacity` waiting. A lookup
/// lost (queue full, worker stopped) is asked for again by the customer's next message, since the profile is
/// still missing or stale. A lookup for a follow or a group join (no conversation yet) does not stand in for the one
/// of the first message: run while that message was being recorded, it could miss the conversation it created.
final class ProfileLookups: Sendable {
    typealias Lookup = ProcessInboundEvent.ProfileLookup

    /// Signalled once per lookup added: the profile lanes' wake-up.
    let ready = DispatchSemaphore(value: 0)
    let capacity: Int
    let quietSeconds: Int
    /// Waiting lookups, and when each customer's lookup was last taken (nil while it waits or runs).
    private let state = Mutex<(waiting: [Lookup], customers: [String: ContinuousClock.Instant?])>(([], [:]))

    /// Until when (DispatchTime nanoseconds) the inbound lanes have a backlog: lookups wait meanwhile.
    private let inboundBusyUntil = Atomic<UInt64>(0)

    init(capacity: Int = 10_000, quietSeconds: Int = 60) {
        self.capacity = capacity
        self.quietSeconds = quietSeconds
    }

    /// An inbound lane claimed a full batch, so messages are waiting: for the next `holdMilliseconds`, profile
    /// lookups (a provider call and three row updates each) leave the CPU and the database to the messages. A burst
    /// of new customers is exactly when both arrive together, and the inbox comes first.
    func inboundHasBacklog(holdMilliseconds: UInt64 = 100) {
        inboundBusyUntil.store(DispatchTime.now().uptimeNanoseconds + holdMilliseconds * 1_000_000, ordering: .relaxed)
    }

    /// Waits while the inbound lanes have a backlog, at most `maxMilliseconds` (a lookup is late, never lost).
    func yieldToInbound(maxMilliseconds: UInt64 = 2_000) {
        let deadline = DispatchTime.now().uptimeNanoseconds + maxMilliseconds * 1_000_000
        while ProcessSignals.stopRequested == 0 {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < inboundBusyUntil.load(ordering: .relaxed), now < deadline else { return }
            usleep(10_000)
        }
    }

    func submit(_ lookup: Lookup) {
        let now = ContinuousClock.now
        let added = state.withLock { state -> Bool in
            if let entry = state.customers[Self.key(lookup)] {
                guard let finished = entry, now - finished > .seconds(quietSeconds) else { return false }
            }
            guard state.waiting.count < capacity else { return false }
            if state.customers.count > 4 * capacity {  // forget customers whose quiet period is over
                state.customers = state.customers.filter { $0.value.map { now - $0 <= .seconds(quietSeconds) } ?? true }
            }
            state.customers[Self.key(lookup)] = .some(nil)
            state.waiting.append(lookup)
            return true
        }
        if added { ready.signal() }
    }

    /// The next lookup, if any; `finish` it when done.
    func next() -> Lookup? {
        state.withLock { state in state.waiting.isEmpty ? nil : state.waiting.removeFirst() }
    }

    func finish(_ lookup: Lookup) {
        let now = ContinuousClock.now
        state.withLock { $0.customers[Self.key(lookup)] = .some(now) }
    }

    private static func key(_ lookup: Lookup) -> String {
        lookup.conversationID == nil ? lookup.customerKey + "#activity" : lookup.customerKey
    }
}

/// One profile lane: its own connection and HTTP client; drains the lookups, then sleeps until one is added.
struct ProfileLane: Sendable {
    let config: HubChatConfig
    let lane: Lane
    let lookups: ProfileLookups
    let realtime: any RealtimePublisher & Sendable

    func run() {
        guard let profiles = makeProviderProfiles(config, lane: lane, what: "profile lookups") else { return }
        lane.run { db in
            let process = ProcessInboundEvent(inbox: PostgresInbox(connection: db), profiles: profiles,
                                              realtime: realtime, logger: lane.logger)
            // One lookup per cycle, so the lane's heartbeat (ticked every cycle) keeps going while lookups wait on
            // the inbound lanes: a long burst would otherwise leave it silent long enough to fail /ready.
            guard let lookup = lookups.next() else { return 0 }
            defer { lookups.finish(lookup) }
            lookups.yieldToInbound()
            try process.refreshProfile(lookup)
            return 1
        }
    }
}

/// The comment text lane: its own connection and HTTP client; claims `inbound.comment_text` jobs (AttachCommentText,
/// a Graph call each) one at a time. A lane of its own, so a Graph API that hangs on one page's comments holds up
/// neither the inbox nor any tenant's profile lookups.
struct CommentTextLane: Sendable {
    let config: HubChatConfig
    let lane: Lane
    let metrics: WorkerMetrics
    let realtime: any RealtimePublisher & Sendable

    /// Claims one comment text job a cycle; retried with backoff on failure, like the image jobs.
    func run() {
        guard let profiles = makeProviderProfiles(config, lane: lane, what: "comment text lookups") else { return }
        lane.run { db in
            let attach = AttachCommentText(inbox: PostgresInbox(connection: db), profiles: profiles,
                                           defaultAccount: config.defaultChannelAccounts[.facebook], realtime: realtime,
                                           logger: lane.logger)
            return try runOneJob(topic: AttachCommentText.topic, queue: PostgresJobQueue(connection: db), lane: lane,
                                 leaseSeconds: config.worker.outboxProcessingTimeoutSeconds, metrics: metrics,
                                 kind: "comment text") { job in
                try attach(jobPayload: job.payload, finalAttempt: job.attempts >= job.maxAttempts)
            }
        }
    }
}

/// The providers' profile and comment APIs for a lane, on an HTTP client of its own; nil (and said) without one.
func makeProviderProfiles(_ config: HubChatConfig, lane: Lane, what: String) -> HTTPProviderProfiles? {
    guard let http = try? CurlHTTPClient() else {
        lane.logger.error("\(what) are disabled: no HTTP client")
        return nil
    }
    return HTTPProviderProfiles(http: http, providers: config.providers)
}
