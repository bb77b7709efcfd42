import FoundationEssentials
import Synchronization

/// Stores a webhook batch in one statement (one round trip, one transaction): every event
/// into `webhook_events` unless its provider id is already there, and one `webhook.received`
/// outbox event for each that was new. The batch may hold the events of several requests (see
/// `GroupCommitWebhookEventStore`): the statement answers which of them were new, by position.
public struct PostgresWebhookEventStore: WebhookEventStore {
    public static let topic = "webhook.received"

    // The first of two copies of one event in a batch is the one stored (a redelivery that raced its original into
    // the same group commit). Events go into `webhook_events` in key order (the order `incoming` was built in, which
    // its scan keeps; an explicit ORDER BY measured ~10 % slower for sorting the text keys again), so two commits
    // holding the same events (a delivery and its redelivery, in two processes) take the unique index's entries in
    // the same order and wait for each other instead of deadlocking; the outbox takes them in the order they came, so
    // one customer's events keep it.
    static let storeBatch = PreparedStatement("webhook_events_store_batch", """
        WITH incoming AS (
            SELECT DISTINCT ON (tenant_id, channel, provider_event_id) *
              FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::text[])
                   WITH ORDINALITY
                AS t(tenant_id, channel_account_id, channel, provider_event_id, event_type, payload, account_external_id, n)
             ORDER BY tenant_id, channel, provider_event_id, n
        ), stored AS (
            INSERT INTO webhook_events (tenant_id, channel_account_id, channel, provider_event_id, event_type, payload)
            SELECT tenant_id, channel_account_id, channel, provider_event_id, event_type, payload FROM incoming
            ON CONFLICT ON CONSTRAINT webhook_events_provider_event_key DO NOTHING
            RETURNING id, tenant_id, channel, provider_event_id
        ), queued AS (
            INSERT INTO outbox_events (tenant_id, topic, payload, idempotency_key, ordering_key)
            SELECT s.tenant_id, '\(topic)',
                   jsonb_build_object('webhookEventId', s.id, 'channel', s.channel,
                                      'accountExternalId', i.account_external_id),
                   s.channel || ':' || s.provider_event_id,
                   -- One customer's (or group's) events are processed one at a time, in order. The key is indexed:
                   -- a forged id too long for an index entry is keyed by its hash, as provider event ids are.
                   CASE WHEN octet_length(k.key) <= 200 THEN k.key ELSE 'sha256:' || encode(sha256(convert_to(k.key, 'UTF8')), 'hex') END
              FROM stored s JOIN incoming i USING (tenant_id, channel, provider_event_id)
              CROSS JOIN LATERAL (SELECT s.channel || ':' || coalesce(
                      i.payload #>> '{source,groupId}', i.payload #>> '{source,roomId}', i.payload #>> '{source,userId}',
                      i.payload #>> '{sender,id}', i.payload #>> '{value,from,id}', s.provider_event_id) AS key) k
             ORDER BY i.n
        )
        SELECT i.n FROM stored s JOIN incoming i USING (tenant_id, channel, provider_event_id)
        """)

    let connection: PostgresConnection

    public init(connection: PostgresConnection) { self.connection = connection }

    /// jsonb refuses U+0000 in strings, but a signed payload carrying one must still be stored:
    /// its `\u0000` escapes become U+FFFD (see `PostgresJSON.withoutNULEscapes`).
    static func storable(_ payload: String) -> String { PostgresJSON.withoutNULEscapes(payload) }

    public func store(_ events: [IncomingWebhookEvent]) throws -> Int {
        try storeReportingNew(events).count(where: { $0 })
    }

    public func storeReportingNew(_ events: [IncomingWebhookEvent]) throws -> [Bool] {
        let result = try connection.query(Self.storeBatch, [
            PostgresTextArray(events.map { $0.tenantID.postgresText }),
            PostgresTextArray(events.map { $0.channelAccountID?.postgresText }),
            PostgresTextArray(events.map { $0.channel.rawValue }),
            PostgresTextArray(events.map { $0.record.providerEventID }),
            PostgresTextArray(events.map { $0.record.eventType }),
            PostgresTextArray(events.map { Self.storable($0.record.payload) }),
            PostgresTextArray(events.map { $0.record.accountExternalID }),
        ])
        var new = [Bool](repeating: false, count: events.count)
        for row in result.rows {
            let n = Int(try row.decode("n", as: Int64.self))
            guard (1...events.count).contains(n) else { throw PostgresDecodingFailure("event position \(n) out of range") }
            new[n - 1] = true
        }
        return new
    }
}

/// Wakes the worker after a commit with a NOTIFY in a transaction of its own that does not
/// wait for its WAL flush: inside the durable transaction, NOTIFY would hold a cluster-wide
/// lock until the flush and stop commits from sharing flushes (see docs/benchmarks.md).
///
/// Coalesced: a process sends at most one wake-up per `coalesceWindow`. The worker's relay keeps polling for
/// `WorkerWakeUpTiming.relayLinger` after every wake-up or relayed batch, longer than the window, so work committed
/// just after a skipped wake-up is still picked up within a few milliseconds; under load most commits skip the
/// NOTIFY and its round trip.
public struct PostgresWorkerWakeUp: WorkerWakeUp {
    public static let channel = "hubchat_outbox"
    let connection: PostgresConnection

    public init(connection: PostgresConnection) { self.connection = connection }

    private static let lastSent = Mutex<ContinuousClock.Instant?>(nil)

    public func wake() {
        let now = ContinuousClock.now
        let due = Self.lastSent.withLock { last -> Bool in
            if let last, now - last < WorkerWakeUpTiming.coalesceWindow { return false }
            last = now
            return true
        }
        guard due else { return }
        _ = try? connection.query(Self.notify)
    }

    /// One prepared statement, a transaction of its own (cached plan, one round trip; the four-statement script it
    /// replaced cost three times as long). A transaction that only notifies writes no WAL before its commit record,
    /// so PostgreSQL does not wait for a flush (measured: 2,000 of them, one WAL sync). Callers wake after their
    /// commit, never inside a transaction: there the NOTIFY would hold its lock through that transaction's flush.
    static let notify = PreparedStatement("worker_wake_up", "SELECT pg_notify('\(channel)', '')")
}

/// How wake-ups are coalesced, shared by the producers and the worker's relay.
public enum WorkerWakeUpTiming {
    /// A producing process sends at most one wake-up in this long.
    public static let coalesceWindow: Duration = .milliseconds(20)
    /// After a wake-up or a relayed batch, the relay polls every `lingerPollMilliseconds` for this long before it
    /// sleeps until the next wake-up (or WORKER_POLL_INTERVAL_MS). Longer than `coalesceWindow`, with room to spare.
    public static let relayLinger: Duration = .milliseconds(100)
    public static let lingerPollMilliseconds = 5
}

/// A group-commit lane over one database session (`connection` opens it on first use and after a loss).
public final class PostgresWebhookCommitLane: WebhookCommitLane {
    private let connection: () throws -> PostgresConnection

    public init(connection: @escaping () throws -> PostgresConnection) { self.connection = connection }

    public func open() { _ = try? connection() }

    public func storeReportingNew(_ events: [IncomingWebhookEvent]) throws -> [Bool] {
        try PostgresWebhookEventStore(connection: connection()).storeReportingNew(events)
    }

    /// Only a database that is unreachable or read-only: a timeout or a deadlock may be one request's doing (a large
    /// batch, a redelivery racing its original in another process), and each request alone may well succeed.
    public func failsEveryRequest(_ error: any Error) -> Bool {
        (error as? PostgresError)?.isUnavailable == true
    }

    /// A retry waits at most `retryLockTimeoutMilliseconds` for a lock (55P03 then, answered 503 like a timeout).
    public func retryReportingNew(_ events: [IncomingWebhookEvent]) throws -> [Bool] {
        let db = try connection()
        return try db.transaction {
            try db.runScript("SET LOCAL lock_timeout = \(Self.retryLockTimeoutMilliseconds)")
            return try PostgresWebhookEventStore(connection: db).storeReportingNew(events)
        }
    }

    public static let retryLockTimeoutMilliseconds = 200

    public func committed() {
        guard let db = try? connection() else { return }
        PostgresWorkerWakeUp(connection: db).wake()
    }
}
