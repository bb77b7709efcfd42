import FoundationEssentials

/// `JobQueue` on `queue_jobs`: claims with FOR UPDATE SKIP LOCKED under a lease, so any number
/// of workers share the queue and a killed worker's jobs come back when their lease expires.
/// Jobs sharing an ordering key run one at a time, in order.
public struct PostgresJobQueue: JobQueue {
    // Queue bookkeeping commits without waiting for its WAL flush (set_config in the statement's own transaction,
    // evaluated once as an InitPlan): the records that matter (an inbound message, a delivery) commit durably, and
    // their flush carries every earlier record with it, since the WAL is written in order. A crash can only lose
    // a suffix: a claim (the job is claimed again), a completion (it runs again; jobs are idempotent), or an
    // enqueue together with the later mark of its outbox event as dispatched (the event is relayed again).
    // Waiting for those flushes made lanes queue behind the disk (WALWrite) at every claim.
    static let enqueue = PreparedStatement("queue_jobs_enqueue", """
        INSERT INTO queue_jobs (tenant_id, topic, payload, idempotency_key, ordering_key, outbox_event_id, ordering_seq)
        SELECT tenant_id, topic, payload, idempotency_key, ordering_key, outbox_event_id,
               coalesce(ordering_seq, nextval('pipeline_seq'))
          FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::text[], $5::text[], $6::uuid[], $7::bigint[])
               WITH ORDINALITY AS j(tenant_id, topic, payload, idempotency_key, ordering_key, outbox_event_id,
                                    ordering_seq, position)
         WHERE (SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL
         ORDER BY position
        ON CONFLICT ON CONSTRAINT queue_jobs_idempotency_key DO NOTHING
        """)
    static let claim = PreparedStatement("queue_jobs_claim", """
        UPDATE queue_jobs j
           SET status = 'RUNNING', attempts = j.attempts + 1, started_at = now(), locked_by = $4,
               lease_expires_at = now() + make_interval(secs => $3)
         WHERE j.id IN (
               SELECT q.id FROM queue_jobs q
                WHERE q.status = 'PENDING' AND q.topic = $1 AND q.available_at <= now()
                  AND (q.ordering_key IS NULL OR (NOT EXISTS (
                       SELECT 1 FROM queue_jobs e
                        WHERE e.topic = q.topic AND e.ordering_key = q.ordering_key
                          AND e.status IN ('PENDING', 'RUNNING') AND e.ordering_seq < q.ordering_seq)
                  -- nor one still in the outbox (another worker's relay may be moving it right now)
                  AND NOT EXISTS (
                       SELECT 1 FROM outbox_events o
                        WHERE o.topic = q.topic AND o.ordering_key = q.ordering_key
                          AND o.status IN ('PENDING', 'PROCESSING') AND o.seq < q.ordering_seq)))
                ORDER BY q.available_at, q.ordering_seq
                LIMIT $2
                  FOR UPDATE SKIP LOCKED)
           AND (SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL
        RETURNING j.id, j.tenant_id, j.topic, j.payload::text AS payload, j.idempotency_key, j.attempts, j.max_attempts
        """)
    static let complete = PreparedStatement("queue_jobs_complete", """
        UPDATE queue_jobs SET status = 'DONE', finished_at = now(), lease_expires_at = NULL, last_error = NULL
         WHERE id = $1 AND status = 'RUNNING' AND (SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL
        """)
    static let retry = PreparedStatement("queue_jobs_retry", """
        UPDATE queue_jobs
           SET status = CASE WHEN attempts >= max_attempts THEN 'DEAD_LETTER' ELSE 'PENDING' END,
               dead_lettered_at = CASE WHEN attempts >= max_attempts THEN now() END,
               available_at = now() + make_interval(secs => $2),
               lease_expires_at = NULL, last_error = left($3, 4000)
         WHERE id = $1 AND status = 'RUNNING'
        RETURNING status
        """)
    static let deadLetter = PreparedStatement("queue_jobs_dead_letter", """
        UPDATE queue_jobs SET status = 'DEAD_LETTER', dead_lettered_at = now(), lease_expires_at = NULL,
                              last_error = left($2, 4000)
         WHERE id = $1 AND status = 'RUNNING'
        """)
    static func rescue(_ name: String, error: String, where condition: String) -> PreparedStatement {
        LeaseRescue.statement(name, table: "queue_jobs", leasedStatus: "RUNNING", error: error, where: condition,
                              returning: "id, tenant_id, topic, payload::text AS payload, idempotency_key, attempts, max_attempts, status")
    }
    static let rescue = rescue("queue_jobs_rescue", error: "lease expired (worker stopped mid-job)",
                               where: "lease_expires_at < now()")
    static let rescueOrphaned = rescue("queue_jobs_rescue_orphaned", error: "worker stopped mid-job (no longer connected)",
                                       where: WorkerSessions.heldByAnotherGoneWorker(lockedBy: "locked_by"))

    // The ids join through unnest, so the plan looks each one up by primary key: with `id = ANY($1)` the generic
    // plan also scanned the partial RUNNING index, whose dead entries pile up under load (1–2 ms a call).
    static let completeMany = PreparedStatement("queue_jobs_complete_many", """
        UPDATE queue_jobs j SET status = 'DONE', finished_at = now(), lease_expires_at = NULL, last_error = NULL
          FROM unnest($1::uuid[]) AS d(id)
         WHERE j.id = d.id AND j.status = 'RUNNING'
           AND (SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL
        """)
    static let deferJob = PreparedStatement("queue_jobs_defer", """
        UPDATE queue_jobs
           SET status = CASE WHEN deferrals >= max_deferrals AND attempts >= max_attempts THEN 'DEAD_LETTER'
                             ELSE 'PENDING' END,
               dead_lettered_at = CASE WHEN deferrals >= max_deferrals AND attempts >= max_attempts THEN now() END,
               attempts = CASE WHEN deferrals >= max_deferrals THEN attempts ELSE greatest(attempts - 1, 0) END,
               deferrals = deferrals + 1,
               available_at = now() + make_interval(secs => $2),
               lease_expires_at = NULL, last_error = left($3, 4000)
         WHERE id = $1 AND status = 'RUNNING'
        RETURNING status
        """)
    static let release = PreparedStatement("queue_jobs_release", """
        UPDATE queue_jobs j SET status = 'PENDING', attempts = greatest(j.attempts - 1, 0), lease_expires_at = NULL,
                                locked_by = NULL, available_at = now()
          FROM unnest($1::uuid[]) AS d(id)
         WHERE j.id = d.id AND j.status = 'RUNNING'
        """)
    static let heartbeat = PreparedStatement("queue_jobs_heartbeat", """
        UPDATE queue_jobs SET lease_expires_at = now() + make_interval(secs => $2)
         WHERE status = 'RUNNING' AND locked_by LIKE $1 || '%'
        """)

    let connection: PostgresConnection

    public init(connection: PostgresConnection) { self.connection = connection }

    public func complete(_ jobs: [QueueJob]) throws {
        guard !jobs.isEmpty else { return }
        try connection.query(Self.completeMany, [PostgresTextArray(jobs.map { $0.id.postgresText })])
    }

    @discardableResult
    public func deferJob(_ job: QueueJob, delaySeconds: Double, reason: String) throws -> Bool {
        let status: String? = try connection.query(Self.deferJob, [job.id, delaySeconds, reason]).first?.decode("status")
        return status == "DEAD_LETTER"
    }

    public func release(_ jobs: [QueueJob]) throws {
        guard !jobs.isEmpty else { return }
        try connection.query(Self.release, [PostgresTextArray(jobs.map { $0.id.postgresText })])
    }

    @discardableResult
    public func releaseHeld(by worker: String) throws -> Int {
        try connection.query("""
            UPDATE queue_jobs SET status = 'PENDING', attempts = greatest(attempts - 1, 0), lease_expires_at = NULL,
                                  locked_by = NULL, available_at = now()
             WHERE status = 'RUNNING' AND locked_by = $1
            """, [worker]).affectedRows
    }

    public func extendLeases(worker: String, leaseSeconds: Int) throws -> Int {
        try connection.query(Self.heartbeat, [worker, leaseSeconds]).affectedRows
    }

    public func enqueue(_ jobs: [NewQueueJob]) throws {
        guard !jobs.isEmpty else { return }
        try connection.query(Self.enqueue, [
            PostgresTextArray(jobs.map { $0.tenantID.postgresText }), PostgresTextArray(jobs.map(\.topic)),
            PostgresTextArray(jobs.map(\.payload)), PostgresTextArray(jobs.map(\.idempotencyKey)),
            PostgresTextArray(jobs.map(\.orderingKey)), PostgresTextArray(jobs.map { $0.sourceOutboxEventID?.postgresText }),
            PostgresTextArray(jobs.map { $0.orderingSeq.map(String.init) }),
        ])
    }

    public func claim(topic: String, limit: Int, leaseSeconds: Int, worker: String) throws -> [QueueJob] {
        try connection.query(Self.claim, [topic, limit, leaseSeconds, worker]).rows.map(Self.job)
    }

    static func job(_ row: PostgresRow) throws -> QueueJob {
        QueueJob(id: try row.decode("id"), tenantID: try row.decode("tenant_id"), topic: try row.decode("topic"),
                 payload: try row.decode("payload"), idempotencyKey: try row.decode("idempotency_key"),
                 attempts: try row.decode("attempts"), maxAttempts: try row.decode("max_attempts"))
    }

    /// Without waiting for the WAL flush: if a crash loses this mark, the job runs again, and every job is
    /// idempotent (inbound records each event once; delivery skips a message that is no longer QUEUED).
    public func complete(_ job: QueueJob) throws { try connection.query(Self.complete, [job.id]) }

    @discardableResult
    public func retry(_ job: QueueJob, delaySeconds: Double, error: String) throws -> Bool {
        let status: String? = try connection.query(Self.retry, [job.id, delaySeconds, error]).first?.decode("status")
        return status == "DEAD_LETTER"
    }

    public func deadLetter(_ job: QueueJob, error: String) throws { try connection.query(Self.deadLetter, [job.id, error]) }

    public func rescueExpiredLeases() throws -> [RescuedJob] { try rescued(connection.query(Self.rescue)) }

    public func rescueJobsOfStoppedWorkers(except worker: String) throws -> [RescuedJob] {
        try rescued(connection.query(Self.rescueOrphaned, [worker]))
    }

    private func rescued(_ result: PostgresResult) throws -> [RescuedJob] {
        try result.rows.map { row in
            RescuedJob(job: try Self.job(row), deadLettered: try row.decode("status", as: String.self) == "DEAD_LETTER")
        }
    }
}
