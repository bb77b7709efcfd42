import FoundationEssentials

/// The worker's housekeeping: pruning what has expired, and the numbers `/metrics` reports about the shared
/// pipeline.
public struct PostgresMaintenance {
    let connection: PostgresConnection

    public init(connection: PostgresConnection) { self.connection = connection }

    /// Rate-limit windows long over and idempotency keys past their expiry, a bounded batch at a time.
    public func pruneExpired() throws {
        try connection.query("""
            DELETE FROM rate_limit_windows WHERE ctid IN (
                SELECT ctid FROM rate_limit_windows WHERE window_start < now() - interval '1 day' LIMIT 5000)
            """)
        try connection.query("""
            DELETE FROM rate_limit_windows WHERE ctid IN (
                SELECT ctid FROM rate_limit_windows
                 WHERE window_seconds < 3600 AND window_start < now() - interval '10 minutes' LIMIT 5000)
            """)
        try connection.query("""
            DELETE FROM idempotency_keys WHERE ctid IN (
                SELECT ctid FROM idempotency_keys WHERE expires_at < now() LIMIT 5000)
            """)
    }

    /// Finished pipeline history older than `days`: DONE jobs, relayed outbox events and processed webhook events,
    /// at most `batch` rows of each per call (oldest rows sit at the front of the tables, so the scans stop early);
    /// answers how many rows went. Dead letters and anything unfinished are kept. Messages keep their webhook event's
    /// id after it is gone; a provider redelivering an event that old would have it processed again, which records
    /// nothing new (messages are unique per provider message id).
    @discardableResult
    public func pruneHistory(olderThanDays days: Int, batch: Int = 5_000) throws -> Int {
        guard days > 0 else { return 0 }
        let cutoff = "now() - make_interval(days => $1)"
        return try connection.query("""
            DELETE FROM queue_jobs WHERE ctid IN (
                SELECT ctid FROM queue_jobs WHERE status = 'DONE' AND finished_at < \(cutoff) LIMIT $2)
            """, [days, batch]).affectedRows
            + connection.query("""
            DELETE FROM outbox_events WHERE ctid IN (
                SELECT ctid FROM outbox_events WHERE status = 'DISPATCHED' AND dispatched_at < \(cutoff) LIMIT $2)
            """, [days, batch]).affectedRows
            + connection.query("""
            DELETE FROM webhook_events WHERE ctid IN (
                SELECT ctid FROM webhook_events
                 WHERE received_at < \(cutoff) AND processed_at IS NOT NULL AND processed_at < \(cutoff) LIMIT $2)
            """, [days, batch]).affectedRows
    }

    public struct PipelineStats: Sendable, Equatable {
        public let queueDepth: Int
        public let queueLagSeconds: Double
        public let outboxDepth: Int
        public let outboxLagSeconds: Double
        public let deadLetters: Int
    }

    /// Each count reads a partial index (PENDING / RUNNING / DEAD_LETTER rows only).
    public func pipelineStats() throws -> PipelineStats {
        let row = try connection.query("""
            SELECT (SELECT count(*) FROM queue_jobs WHERE status = 'PENDING')
                 + (SELECT count(*) FROM queue_jobs WHERE status = 'RUNNING') AS queue_depth,
                   coalesce((SELECT extract(epoch FROM now() - min(available_at)) FROM queue_jobs
                              WHERE status = 'PENDING' AND available_at <= now()), 0)::float8 AS queue_lag,
                   (SELECT count(*) FROM outbox_events WHERE status = 'PENDING')
                 + (SELECT count(*) FROM outbox_events WHERE status = 'PROCESSING') AS outbox_depth,
                   coalesce((SELECT extract(epoch FROM now() - min(available_at)) FROM outbox_events
                              WHERE status = 'PENDING' AND available_at <= now()), 0)::float8 AS outbox_lag,
                   (SELECT count(*) FROM queue_jobs WHERE status = 'DEAD_LETTER') AS dead_letters
            """).first!
        return PipelineStats(
            queueDepth: try row.decode("queue_depth"), queueLagSeconds: try row.decode("queue_lag"),
            outboxDepth: try row.decode("outbox_depth"), outboxLagSeconds: try row.decode("outbox_lag"),
            deadLetters: try row.decode("dead_letters"))
    }
}
