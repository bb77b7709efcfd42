import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The delivery side of outbound in PostgreSQL (worker connections, system scope; every statement names the
/// tenant all the same).
public struct PostgresDeliveryStore: DeliveryStore {
    let connection: PostgresConnection

    public init(connection: PostgresConnection) { self.connection = connection }

    static let load = PreparedStatement("outbound_delivery_load", """
        SELECT m.id, m.tenant_id, m.conversation_id, m.channel, m.message_type, m.content, m.media_url, m.preview_url,
               m.mime_type, m.file_name, m.delivery_status, (m.metadata->'deliveredParts')::text AS parts,
               m.metadata->>'sendingPart' AS sending_part,
               c.lead_id, c.channel_thread_id, c.provider_thread_type, c.provider_comment_id,
               c.provider_external_user_id, c.private_reply_sent_at, c.last_inbound_at,
               c.created_at AS conversation_created_at, c.line_reply_token IS NOT NULL AS has_reply_token,
               c.line_reply_token_received_at, c.provider_page_id,
               a.id AS account_id, a.external_account_id,
               coalesce(a.credentials->>'channelAccessToken', a.credentials->>'pageAccessToken',
                        a.credentials->>'accessToken') AS access_token
          FROM messages m
          JOIN conversations c ON c.tenant_id = m.tenant_id AND c.id = m.conversation_id
          LEFT JOIN LATERAL (
                SELECT * FROM channel_accounts a
                 WHERE a.tenant_id = c.tenant_id AND a.channel = c.channel AND a.is_active
                   AND (c.channel_account_id IS NULL OR a.id = c.channel_account_id)
                 ORDER BY a.created_at
                 LIMIT 1) a ON true
         WHERE (m.tenant_id, m.id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[]))
        """)

    public func deliveries(_ messages: [MessageRef]) throws -> [OutboundDelivery] {
        guard !messages.isEmpty else { return [] }
        return try connection.query(Self.load, [PostgresTextArray(messages.map { $0.tenantID.postgresText }),
                                                PostgresTextArray(messages.map { $0.messageID.postgresText })])
            .rows.map(Self.delivery(from:))
    }

    static func delivery(from row: PostgresRow) throws -> OutboundDelivery {
        guard let channel = Channel(rawValue: try row.decode("channel")) else {
            throw PostgresError.decoding(column: "channel", message: "unknown channel")
        }
        let type = OutboundContentType(rawValue: try row.decode("message_type")) ?? .text
        var parts: [String: String] = [:]
        if let text: String = try row.decodeIfPresent("parts"), let json = try? JSONValue.parse(text) {
            for (k, v) in json.objectValue ?? [:] { if let id = v.stringValue { parts[k] = id } }
        }
        let tenant: UUID = try row.decode("tenant_id")
        let conversation = ConversationForSend(
            id: try row.decode("conversation_id"), tenantID: tenant, leadID: try row.decode("lead_id"), channel: channel,
            channelThreadID: try row.decode("channel_thread_id"),
            providerThreadType: try row.decodeIfPresent("provider_thread_type"),
            providerCommentID: try row.decodeIfPresent("provider_comment_id"),
            providerExternalUserID: try row.decodeIfPresent("provider_external_user_id"),
            privateReplySentAt: try row.decodeIfPresent("private_reply_sent_at"),
            lastInboundAt: try row.decodeIfPresent("last_inbound_at"),
            createdAt: try row.decode("conversation_created_at"))
        var account: ChannelAccount?
        if let id: UUID = try row.decodeIfPresent("account_id") {
            account = ChannelAccount(
                id: id, tenantID: tenant, channel: channel, externalAccountID: try row.decode("external_account_id"),
                credentials: ChannelCredentials(signingSecret: nil, accessToken: row["access_token"], verifyToken: nil))
        }
        return OutboundDelivery(
            messageID: try row.decode("id"), tenantID: tenant, conversationID: conversation.id, leadID: conversation.leadID,
            channel: channel, type: type, content: try row.decode("content"), mediaURL: try row.decodeIfPresent("media_url"),
            previewURL: try row.decodeIfPresent("preview_url"), mimeType: try row.decodeIfPresent("mime_type"),
            fileName: try row.decodeIfPresent("file_name"), deliveryStatus: try row.decode("delivery_status"),
            deliveredParts: parts, sendingPart: try row.decodeIfPresent("sending_part"), conversation: conversation,
            // The token itself is only read by takeLineReplyToken, which spends it.
            lineReplyToken: try row.decode("has_reply_token") ? "present" : nil,
            lineReplyTokenReceivedAt: try row.decodeIfPresent("line_reply_token_received_at"),
            providerPageID: try row.decodeIfPresent("provider_page_id"), account: account)
    }

    public func takeLineReplyToken(conversationID: UUID, tenantID: UUID, maxAgeSeconds: Int, for messageID: UUID) throws
        -> String?
    {
        try connection.query("""
            WITH taken AS (
                UPDATE conversations c SET line_reply_token = NULL
                  FROM (SELECT id, line_reply_token AS token FROM conversations
                         WHERE tenant_id = $1 AND id = $2 FOR UPDATE) old
                 WHERE c.id = old.id AND old.token IS NOT NULL
                   AND c.line_reply_token_received_at > now() - make_interval(secs => $3)
                   AND c.line_reply_token_received_at <= (SELECT m.created_at FROM messages m
                                                           WHERE m.tenant_id = $1 AND m.id = $4)
                RETURNING old.token
            ), marked AS (
                UPDATE messages SET metadata = metadata || '{"sendingPart": "lineReply"}'
                 WHERE tenant_id = $1 AND id = $4 AND EXISTS (SELECT 1 FROM taken)
            )
            SELECT token FROM taken
            """, [tenantID, conversationID, maxAgeSeconds, messageID]).first?["token"]
    }

    public func markSending(messageID: UUID, tenantID: UUID, part: String) throws {
        try connection.query("""
            UPDATE messages SET metadata = metadata || jsonb_build_object('sendingPart', $3::text)
             WHERE tenant_id = $1 AND id = $2
            """, [tenantID, messageID, part])
    }

    public func clearSending(messageID: UUID, tenantID: UUID) throws {
        try connection.query("""
            UPDATE messages SET metadata = metadata - 'sendingPart'
             WHERE tenant_id = $1 AND id = $2 AND metadata ? 'sendingPart'
            """, [tenantID, messageID])
    }

    public func recordPart(messageID: UUID, tenantID: UUID, part: String, providerMessageID: String) throws {
        try connection.query("""
            UPDATE messages
               SET metadata = jsonb_set(metadata - 'sendingPart', '{deliveredParts}',
                                        coalesce(metadata->'deliveredParts', '{}') || jsonb_build_object($3::text, $4::text))
             WHERE tenant_id = $1 AND id = $2
            """, [tenantID, messageID, part, providerMessageID])
    }

    // The rows are found by primary key first and updated by their tuple id: joined directly, the generic plan
    // hashed the whole partial QUEUED index (planned when few messages were queued; 20,000 of them at 10 ms a call).
    // A row another transaction changed between the two has a new tuple id and is skipped here: markSent tries
    // those once more by id.
    static let markSent = PreparedStatement("outbound_mark_sent", """
        WITH target AS MATERIALIZED (
            SELECT m.ctid AS row_id, s.provider_id
              FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS s(tenant_id, id, provider_id)
              JOIN messages m ON m.id = s.id AND m.tenant_id = s.tenant_id
        ), sent AS (
            UPDATE messages m SET delivery_status = 'SENT', provider_message_id = t.provider_id, sent_at = now(),
                                  error_code = NULL, error_reason = NULL, metadata = m.metadata - 'sendingPart'
              FROM target t
             WHERE m.ctid = t.row_id AND m.delivery_status = 'QUEUED'
            RETURNING m.tenant_id, m.id, m.conversation_id, m.sender_agent_id, m.provider_message_id
        ), touched AS (
            UPDATE conversations c SET last_outbound_at = now()
              FROM (SELECT DISTINCT tenant_id, conversation_id FROM sent) s
             WHERE c.tenant_id = s.tenant_id AND c.id = s.conversation_id
            RETURNING c.tenant_id, c.lead_id, c.id
        ), logged AS (
            INSERT INTO activity_logs (tenant_id, lead_id, conversation_id, message_id, actor_type, actor_agent_id, type,
                                       metadata)
            SELECT s.tenant_id, t.lead_id, s.conversation_id, s.id, 'SYSTEM', s.sender_agent_id, 'MESSAGE_SENT',
                   jsonb_build_object('providerMessageId', s.provider_message_id)
              FROM sent s JOIN touched t ON t.tenant_id = s.tenant_id AND t.id = s.conversation_id
        )
        SELECT id FROM sent
        """)

    public func markSent(_ marks: [SentMark]) throws -> Set<UUID> {
        guard !marks.isEmpty else { return [] }
        func mark(_ marks: [SentMark]) throws -> Set<UUID> {
            let rows = try connection.query(Self.markSent, [
                PostgresTextArray(marks.map { $0.tenantID.postgresText }),
                PostgresTextArray(marks.map { $0.messageID.postgresText }), PostgresTextArray(marks.map(\.providerMessageID)),
            ]).rows
            return Set(try rows.map { try $0.decode("id") as UUID })
        }
        var changed = try mark(marks)
        // Usually messages a repeated job found SENT already; one changed concurrently is re-read by id here.
        for missed in marks where !changed.contains(missed.messageID) {
            changed.formUnion(try mark([missed]))
        }
        return changed
    }

    public func markFailed(messageID: UUID, tenantID: UUID, code: String, reason: String) throws {
        try connection.query("""
            WITH failed AS (
                UPDATE messages SET delivery_status = 'FAILED', error_code = left($3, 200), error_reason = left($4, 2000)
                 WHERE tenant_id = $1 AND id = $2 AND delivery_status = 'QUEUED'
                RETURNING id, conversation_id, sender_agent_id
            )
            INSERT INTO activity_logs (tenant_id, lead_id, conversation_id, message_id, actor_type, actor_agent_id, type,
                                       metadata)
            SELECT $1, c.lead_id, f.conversation_id, f.id, 'SYSTEM', f.sender_agent_id, 'MESSAGE_FAILED',
                   jsonb_build_object('code', $3::text, 'reason', left($4, 2000))
              FROM failed f JOIN conversations c ON c.tenant_id = $1 AND c.id = f.conversation_id
            """, [tenantID, messageID, code, reason])
    }

    /// Meta has accepted the Private Reply, and its answer (the PSID) is known nowhere else: asked again, Meta only
    /// says "already replied". So a failure to record it is tried again here for a while (about 15 s) instead of
    /// being left to the job's retry, which would lose the PSID: a database that blinks (a restart, a failover, a
    /// moment read-only) passes, and so does the customer's DM recorded in the same instant (a unique violation on
    /// the thread: the second run finds the PSID known and keeps the threads apart).
    public func markPrivateReplySent(conversationID: UUID, tenantID: UUID, commentID: String, recipientID: String?) throws {
        var pause: UInt32 = 200_000
        // Well inside the job's lease, so that no other worker takes the job over meanwhile.
        let giveUpAt = PostgresConnection.monotonicMilliseconds() + 15_000
        while true {
            do {
                return try recordPrivateReply(conversationID: conversationID, tenantID: tenantID, commentID: commentID,
                                              recipientID: recipientID)
            } catch let error as PostgresError where PostgresConnection.monotonicMilliseconds() < giveUpAt
                && !connection.isInTransaction
                && (error.isUnavailable || error.isTransientConflict || error.isUniqueViolation || error.isStatementTimeout) {
                usleep(pause)
                pause = min(pause * 2, 4_000_000)
            }
        }
    }

    private func recordPrivateReply(conversationID: UUID, tenantID: UUID, commentID: String, recipientID: String?) throws {
        try connection.query("""
            WITH known AS (
                -- Whether the tenant already knows this PSID (an earlier DM, a Get Started postback): that customer
                -- keeps their own thread and lead.
                SELECT EXISTS (SELECT 1 FROM contact_identities i
                                WHERE i.tenant_id = $1 AND i.channel = 'FACEBOOK' AND i.external_user_id = $4)
                       OR EXISTS (SELECT 1 FROM conversations o
                                   WHERE o.tenant_id = $1 AND o.channel = 'FACEBOOK' AND o.channel_thread_id = $4) AS taken
            ), marked AS (
                UPDATE conversations c
                   SET private_reply_sent_at = coalesce(c.private_reply_sent_at, now()),
                       private_reply_comment_id = coalesce(c.private_reply_comment_id, $3),
                       converted_to_dm_at = coalesce(c.converted_to_dm_at, now()),
                       -- Without Meta's answer (the reply was interrupted) nobody is known to DM: a commenter's own
                       -- id is no PSID, so none is kept rather than a wrong one.
                       provider_external_user_id = coalesce($4, 'comment:' || $3),
                       -- The customer's Messenger answers are filed on the PSID's thread: the conversation moves
                       -- there (schema/0019).
                       channel_thread_id = CASE WHEN $4::text IS NOT NULL AND c.contact_id IS NOT NULL AND NOT k.taken
                                                THEN $4 ELSE c.channel_thread_id END
                  FROM known k
                 WHERE c.tenant_id = $1 AND c.id = $2 AND c.private_reply_sent_at IS NULL
                RETURNING c.lead_id, c.id, c.contact_id, c.channel_account_id, c.channel_thread_id
            ), linked AS (
                -- The PSID is the commenter's: their contact, their lead.
                -- No ON CONFLICT: an identity made meanwhile (the customer's postback or DM committing after this
                -- statement's snapshot) fails the whole statement with a unique violation, and the retry finds the
                -- PSID known, so the thread never moves without its link.
                INSERT INTO contact_identities (tenant_id, contact_id, channel, external_user_id, channel_account_id, lead_id)
                SELECT $1, m.contact_id, 'FACEBOOK', $4, m.channel_account_id, m.lead_id FROM marked m
                 WHERE m.channel_thread_id = $4
            )
            INSERT INTO activity_logs (tenant_id, lead_id, conversation_id, actor_type, type, metadata)
            SELECT $1, lead_id, id, 'SYSTEM', 'PRIVATE_REPLY_SENT', jsonb_build_object('commentId', $3::text) FROM marked
            """, [tenantID, conversationID, commentID, recipientID])
    }

    public func markPublicReplySent(conversationID: UUID, tenantID: UUID, providerCommentID: String?, error: String?) throws {
        try connection.query("""
            WITH marked AS (
                UPDATE conversations SET public_reply_sent_at = CASE WHEN $4::text IS NULL THEN now() END
                 WHERE tenant_id = $1 AND id = $2 AND public_reply_sent_at IS NULL
                RETURNING lead_id, id
            )
            INSERT INTO activity_logs (tenant_id, lead_id, conversation_id, actor_type, type, metadata)
            SELECT $1, lead_id, id, 'SYSTEM', CASE WHEN $4::text IS NULL THEN 'PUBLIC_REPLY_SENT' ELSE 'PUBLIC_REPLY_FAILED' END,
                   jsonb_strip_nulls(jsonb_build_object('replyCommentId', $3::text, 'error', $4::text))
              FROM marked
            """, [tenantID, conversationID, providerCommentID, error])
    }

    // Locks the accounts' current window rows in key order, in one pass (two callers never deadlock, and a lane
    // holds them only for this statement: its transaction commits without waiting for the WAL flush, since every
    // lane and worker counts on these few rows, and a count lost in a crash only lets a few more requests through).
    // Grants per account what every one of its windows still has room for, counts only that, and says how long
    // until a refusing window ends. `granted` is NULL when a current window has no row yet: see acquireSendSlots.
    static let acquire = PreparedStatement("outbound_acquire_slots", """
        WITH l AS (
            SELECT t.tenant_id, t.account_id, t.wanted, t.bucket, t.requests, t.window_seconds,
                   to_timestamp(floor(extract(epoch FROM now()) / t.window_seconds) * t.window_seconds) AS window_start
              FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::int[], $6::int[])
                   AS t(tenant_id, account_id, wanted, bucket, requests, window_seconds)
        ), locked AS (
            SELECT w.tenant_id, w.channel_account_id, w.bucket, w.window_seconds, w.window_start, w.request_count
              FROM rate_limit_windows w
              JOIN l ON w.tenant_id = l.tenant_id AND w.channel_account_id = l.account_id AND w.bucket = l.bucket
                    AND w.window_seconds = l.window_seconds AND w.window_start = l.window_start
             ORDER BY w.tenant_id, w.channel_account_id, w.bucket, w.window_seconds, w.window_start
               FOR UPDATE OF w
        ), room AS (
            SELECT l.tenant_id, l.account_id, min(l.wanted) AS wanted, count(k.request_count) < count(*) AS missing,
                   min(l.requests - k.request_count) AS room,
                   max(k.window_start + make_interval(secs => k.window_seconds) - now())
                       FILTER (WHERE k.request_count + l.wanted > l.requests) AS wait
              FROM l LEFT JOIN locked k
                ON k.tenant_id = l.tenant_id AND k.channel_account_id = l.account_id AND k.bucket = l.bucket
               AND k.window_seconds = l.window_seconds
             GROUP BY l.tenant_id, l.account_id
        ), grants AS (
            SELECT tenant_id, account_id, wanted, wait,
                   CASE WHEN NOT missing THEN greatest(0, least(wanted, room)) END AS granted
              FROM room
        ), counted AS (
            UPDATE rate_limit_windows w SET request_count = w.request_count + g.granted
              FROM grants g JOIN l ON l.tenant_id = g.tenant_id AND l.account_id = g.account_id
             WHERE g.granted > 0 AND w.tenant_id = l.tenant_id AND w.channel_account_id = l.account_id
               AND w.bucket = l.bucket AND w.window_seconds = l.window_seconds AND w.window_start = l.window_start
        )
        SELECT account_id, granted,
               CASE WHEN granted < wanted THEN greatest(coalesce(extract(epoch FROM wait)::float8, 1), 0.05) END AS wait,
               set_config('synchronous_commit', 'off', true) AS async
          FROM grants
        """)
    static let openWindows = PreparedStatement("outbound_open_windows", """
        INSERT INTO rate_limit_windows (tenant_id, channel_account_id, bucket, window_seconds, window_start, request_count)
        SELECT t.tenant_id, t.account_id, t.bucket, t.window_seconds,
               to_timestamp(floor(extract(epoch FROM now()) / t.window_seconds) * t.window_seconds), 0
          FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::int[]) AS t(tenant_id, account_id, bucket, window_seconds)
         ORDER BY 1, 2, 3, 4
        ON CONFLICT DO NOTHING
        """)

    /// One round trip for a whole batch, exact under concurrency. A window's row is created, empty, in a statement
    /// of its own the first time a window is missing (once per window and account), so that no caller ever waits on
    /// a row another caller inserted while it holds locks of its own.
    public func acquireSendSlots(_ requests: [SlotRequest]) throws -> [UUID: SlotGrant] {
        var grants: [UUID: SlotGrant] = [:]
        var asking = requests.filter { $0.wanted > 0 && !$0.limits.isEmpty }
        for attempt in 0..<3 where !asking.isEmpty {
            let pairs = asking.flatMap { request in request.limits.map { (request, $0) } }
            let tenants = PostgresTextArray(pairs.map { $0.0.tenantID.postgresText })
            let accounts = PostgresTextArray(pairs.map { $0.0.accountID.postgresText })
            let buckets = PostgresTextArray(pairs.map { $0.1.bucket })
            let windows = PostgresTextArray(pairs.map { String($0.1.windowSeconds) })
            var missing: Set<UUID> = []
            for row in try connection.query(Self.acquire, [
                tenants, accounts, PostgresTextArray(pairs.map { String($0.0.wanted) }), buckets,
                PostgresTextArray(pairs.map { String($0.1.requests) }), windows,
            ]).rows {
                let account: UUID = try row.decode("account_id")
                guard let granted: Int = try row.decodeIfPresent("granted") else { missing.insert(account); continue }
                grants[account] = SlotGrant(granted: granted, waitSeconds: try row.decodeIfPresent("wait"))
            }
            // An account with a missing window got nothing and had nothing counted: open its windows, ask again.
            asking = asking.filter { missing.contains($0.accountID) }
            if !asking.isEmpty, attempt < 2 {
                let open = asking.flatMap { request in request.limits.map { (request, $0) } }
                try connection.query(Self.openWindows, [
                    PostgresTextArray(open.map { $0.0.tenantID.postgresText }),
                    PostgresTextArray(open.map { $0.0.accountID.postgresText }),
                    PostgresTextArray(open.map { $0.1.bucket }), PostgresTextArray(open.map { String($0.1.windowSeconds) }),
                ])
            }
        }
        return grants
    }
}
