import FoundationEssentials

/// `OutboxSource` on `outbox_events`. Claims are leased (PROCESSING until the lease expires),
/// and never rely on "id greater than the last one seen": rows commit out of order, and the
/// claim simply takes whatever is PENDING and due.
public struct PostgresOutbox: OutboxSource {
    // Answered in `seq` order (an UPDATE's RETURNING follows no ORDER BY): the relay enqueues in this order, and the
    // queue's ordering sequence, which keeps one conversation's or customer's jobs in order, is assigned from it.
    static let claim = PreparedStatement("outbox_claim", """
        WITH claimed AS (
            UPDATE outbox_events o
               SET status = 'PROCESSING', attempts = o.attempts + 1, locked_by = $3,
                   lease_expires_at = now() + make_interval(secs => $2)
             WHERE o.id IN (
                   SELECT id FROM outbox_events
                    WHERE status = 'PENDING' AND available_at <= now()
                    ORDER BY available_at, seq
                    LIMIT $1
                      FOR UPDATE SKIP LOCKED)
               AND (SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL
            RETURNING o.id, o.seq, o.tenant_id, o.topic, o.payload::text AS payload, o.idempotency_key, o.ordering_key,
                      o.attempts, o.max_attempts
        )
        SELECT * FROM claimed ORDER BY seq
        """)
    // Through unnest, so each id is a primary-key lookup (see PostgresJobQueue.completeMany). The claim and this
    // mark commit without waiting for their flush, as the queue's bookkeeping does (see PostgresJobQueue.enqueue):
    // the mark follows its jobs' enqueue in the WAL, so a crash never keeps the mark and loses the jobs.
    static let dispatched = PreparedStatement("outbox_dispatched", """
        UPDATE outbox_events o SET status = 'DISPATCHED', dispatched_at = now(), lease_expires_at = NULL, last_error = NULL
          FROM unnest($1::uuid[]) AS d(id)
         WHERE o.id = d.id AND o.status = 'PROCESSING'
           AND (SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL
        """)
    static let fail = PreparedStatement("outbox_fail", """
        UPDATE outbox_events
           SET status = CASE WHEN attempts >= max_attempts THEN 'DEAD_LETTER' ELSE 'PENDING' END,
               dead_lettered_at = CASE WHEN attempts >= max_attempts THEN now() END,
               available_at = now() + make_interval(secs => $2), lease_expires_at = NULL, last_error = left($3, 4000)
         WHERE id = $1 AND status = 'PROCESSING'
        """)
    static func rescue(_ name: String, error: String, where condition: String) -> PreparedStatement {
        LeaseRescue.statement(name, table: "outbox_events", leasedStatus: "PROCESSING", error: error, where: condition)
    }
    static let rescue = rescue("outbox_rescue", error: "lease expired (relay stopped mid-batch)", where: "lease_expires_at < now()")
    static let rescueOrphaned = rescue("outbox_rescue_orphaned", error: "relay stopped mid-batch (no longer connected)",
                                       where: WorkerSessions.heldByAnotherGoneWorker(lockedBy: "locked_by"))

    let connection: PostgresConnection

    public init(connection: PostgresConnection) { self.connection = connection }

    public func claim(limit: Int, leaseSeconds: Int, worker: String) throws -> [OutboxEvent] {
        try connection.query(Self.claim, [limit, leaseSeconds, worker]).rows.map { row in
            OutboxEvent(id: try row.decode("id"), seq: try row.decode("seq"), tenantID: try row.decode("tenant_id"), topic: try row.decode("topic"),
                        payload: try row.decode("payload"), idempotencyKey: try row.decode("idempotency_key"),
                        orderingKey: row["ordering_key"], attempts: try row.decode("attempts"),
                        maxAttempts: try row.decode("max_attempts"))
        }
    }

    public func markDispatched(_ ids: [UUID]) throws {
        guard !ids.isEmpty else { return }
        try connection.query(Self.dispatched, [PostgresTextArray(ids.map { $0.postgresText })])
    }

    public func fail(_ event: OutboxEvent, delaySeconds: Double, error: String) throws {
        try connection.query(Self.fail, [event.id, delaySeconds, error])
    }

    public func rescueExpiredLeases() throws -> Int { try connection.query(Self.rescue).affectedRows }

    public func rescueEventsOfStoppedWorkers(except worker: String) throws -> Int {
        try connection.query(Self.rescueOrphaned, [worker]).affectedRows
    }
}
