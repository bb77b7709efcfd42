import FoundationEssentials

/// Dead-lettered queue jobs, as an operator lists, inspects and replays them.
public struct PostgresDeadLetters {
    let connection: PostgresConnection

    public init(connection: PostgresConnection) { self.connection = connection }

    public struct Entry: Sendable, Equatable {
        public let id: UUID
        public let tenantID: UUID
        public let topic: String
        public let attempts: Int
        public let replayCount: Int
        public let deadLetteredAt: Date
        public let lastError: String?
        public let payload: String
    }

    public func list(tenantID: UUID?, topic: String?, limit: Int) throws -> [Entry] {
        try connection.query("""
            SELECT id, tenant_id, topic, attempts, replay_count, dead_lettered_at, last_error, payload::text AS payload
              FROM queue_jobs
             WHERE status = 'DEAD_LETTER' AND ($1::uuid IS NULL OR tenant_id = $1) AND ($2::text IS NULL OR topic = $2)
             ORDER BY dead_lettered_at DESC, id
             LIMIT $3
            """, [tenantID, topic, limit]).rows.map(Self.entry)
    }

    public func show(id: UUID) throws -> Entry? {
        try connection.query("""
            SELECT id, tenant_id, topic, attempts, replay_count, dead_lettered_at, last_error, payload::text AS payload
              FROM queue_jobs WHERE id = $1 AND status = 'DEAD_LETTER'
            """, [id]).first.map(Self.entry)
    }

    /// Back to PENDING with fresh attempts; an outbound message that was marked FAILED is QUEUED again, so the
    /// delivery runs as if for the first time. Returns the replayed job ids.
    public func replay(ids: [UUID]?, tenantID: UUID?, topic: String?) throws -> [UUID] {
        try connection.transaction {
            let replayed: [UUID] = try connection.query("""
                UPDATE queue_jobs
                   SET status = 'PENDING', attempts = 0, deferrals = 0, available_at = now(), dead_lettered_at = NULL,
                       lease_expires_at = NULL, locked_by = NULL, replay_count = replay_count + 1
                 WHERE status = 'DEAD_LETTER' AND ($1::uuid[] IS NULL OR id = ANY($1::uuid[]))
                   AND ($2::uuid IS NULL OR tenant_id = $2) AND ($3::text IS NULL OR topic = $3)
                RETURNING id
                """, [ids.map { PostgresTextArray($0.map(\.postgresText)) }, tenantID, topic]).rows.map { try $0.decode("id") }
            guard !replayed.isEmpty else { return [] }
            try connection.query("""
                -- A replay is the operator's decision to send again: an unconfirmed send's mark goes too.
                UPDATE messages m SET delivery_status = 'QUEUED', error_code = NULL, error_reason = NULL,
                                      metadata = m.metadata - 'sendingPart'
                  FROM queue_jobs j
                 WHERE j.id = ANY($1::uuid[]) AND j.topic = '\(PostgresOutboundStore.topic)'
                   AND m.tenant_id = j.tenant_id AND m.id = (j.payload->>'messageId')::uuid
                   AND m.delivery_status = 'FAILED'
                """, [PostgresTextArray(replayed.map(\.postgresText))])
            return replayed
        }
    }

    static func entry(_ row: PostgresRow) throws -> Entry {
        Entry(id: try row.decode("id"), tenantID: try row.decode("tenant_id"), topic: try row.decode("topic"),
              attempts: try row.decode("attempts"), replayCount: try row.decode("replay_count"),
              deadLetteredAt: try row.decode("dead_lettered_at"), lastError: try row.decodeIfPresent("last_error"),
              payload: try row.decode("payload"))
    }
}
