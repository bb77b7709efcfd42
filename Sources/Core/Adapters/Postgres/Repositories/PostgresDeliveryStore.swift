import FoundationEssentials

/// The delivery side of outbound in PostgreSQL (worker connections, system scope; every statement names the
/// tenant all the same).
public struct PostgresDeliveryStore: DeliveryStore {
    let connection: PostgresConnection

    public init(connection: PostgresConnection) { self.connection = connection }

    static let load = PreparedStatement("outbound_delivery_load", """
        SELECT m.id, m.tenant_id, m.conversation_id, m.channel, m.message_type, m.content, m.media_url, m.preview_url,
               m.mime_type, m.file_name, m.delivery_status, (m.metadata->'deliveredParts')::text AS parts,
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
         WHERE m.tenant_id = $1 AND m.id = $2
        """)

    public func delivery(messageID: UUID, tenantID: UUID) throws -> OutboundDelivery? {
        guard let row = try connection.query(Self.load, [tenantID, messageID]).first else { return nil }
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
            deliveredParts: parts, conversation: conversation,
            // The token itself is only read by takeLineReplyToken, which spends it.
            lineReplyToken: try row.decode("has_reply_token") ? "present" : nil,
            lineReplyTokenReceivedAt: try row.decodeIfPresent("line_reply_token_received_at"),
            providerPageID: try row.decodeIfPresent("provider_page_id"), account: account)
    }

    public func takeLineReplyToken(conversationID: UUID, tenantID: UUID, maxAgeSeconds: Int) throws -> String? {
        try connection.query("""
            UPDATE conversations c SET line_reply_token = NULL
              FROM (SELECT id, line_reply_token AS token FROM conversations
                     WHERE tenant_id = $1 AND id = $2 FOR UPDATE) old
             WHERE c.id = old.id AND old.token IS NOT NULL
               AND c.line_reply_token_received_at > now() - make_interval(secs => $3)
            RETURNING old.token
            """, [tenantID, conversationID, maxAgeSeconds]).first?["token"]
    }

    public func recordPart(messageID: UUID, tenantID: UUID, part: String, providerMessageID: String) throws {
        try connection.query("""
            UPDATE messages
               SET metadata = jsonb_set(metadata, '{deliveredParts}',
                                        coalesce(metadata->'deliveredParts', '{}') || jsonb_build_object($3::text, $4::text))
             WHERE tenant_id = $1 AND id = $2
            """, [tenantID, messageID, part, providerMessageID])
    }

    static let markSent = PreparedStatement("outbound_mark_sent", """
        WITH sent AS (
            UPDATE messages SET delivery_status = 'SENT', provider_message_id = $3, sent_at = now(),
                                error_code = NULL, error_reason = NULL
             WHERE tenant_id = $1 AND id = $2 AND delivery_status = 'QUEUED'
            RETURNING id, conversation_id, sender_agent_id
        ), touched AS (
            UPDATE conversations c SET last_outbound_at = now()
              FROM sent s WHERE c.tenant_id = $1 AND c.id = s.conversation_id
            RETURNING c.lead_id, c.id
        ), logged AS (
            INSERT INTO activity_logs (tenant_id, lead_id, conversation_id, message_id, actor_type, actor_agent_id, type,
                                       metadata)
            SELECT $1, t.lead_id, s.conversation_id, s.id, 'SYSTEM', s.sender_agent_id, 'MESSAGE_SENT',
                   jsonb_build_object('providerMessageId', $3::text)
              FROM sent s JOIN touched t ON t.id = s.conversation_id
        )
        SELECT count(*) AS n FROM sent
        """)

    @discardableResult
    public func markSent(messageID: UUID, tenantID: UUID, providerMessageID: String?) throws -> Bool {
        let n: Int = try connection.query(Self.markSent, [tenantID, messageID, providerMessageID]).first!.decode("n")
        return n > 0
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

    public func markPrivateReplySent(conversationID: UUID, tenantID: UUID, commentID: String) throws {
        try connection.query("""
            WITH marked AS (
                UPDATE conversations
                   SET private_reply_sent_at = coalesce(private_reply_sent_at, now()),
                       private_reply_comment_id = coalesce(private_reply_comment_id, $3),
                       converted_to_dm_at = coalesce(converted_to_dm_at, now())
                 WHERE tenant_id = $1 AND id = $2 AND private_reply_sent_at IS NULL
                RETURNING lead_id, id
            )
            INSERT INTO activity_logs (tenant_id, lead_id, conversation_id, actor_type, type, metadata)
            SELECT $1, lead_id, id, 'SYSTEM', 'PRIVATE_REPLY_SENT', jsonb_build_object('commentId', $3::text) FROM marked
            """, [tenantID, conversationID, commentID])
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

    static let acquire = PreparedStatement("outbound_acquire_slot", """
        WITH limits AS (
            SELECT bucket, requests, window_seconds,
                   to_timestamp(floor(extract(epoch FROM now()) / window_seconds) * window_seconds) AS window_start
              FROM unnest($3::text[], $4::int[], $5::int[]) AS l(bucket, requests, window_seconds)
        ), full_windows AS (
            SELECT l.window_start + make_interval(secs => l.window_seconds) - now() AS wait
              FROM limits l JOIN rate_limit_windows w
                ON w.tenant_id = $1 AND w.channel_account_id = $2 AND w.bucket = l.bucket
               AND w.window_seconds = l.window_seconds AND w.window_start = l.window_start
             WHERE w.request_count >= l.requests
        ), counted AS (
            INSERT INTO rate_limit_windows (tenant_id, channel_account_id, bucket, window_seconds, window_start, request_count)
            SELECT $1, $2, bucket, window_seconds, window_start, 1 FROM limits
             WHERE NOT EXISTS (SELECT 1 FROM full_windows)
            ON CONFLICT (tenant_id, channel_account_id, bucket, window_seconds, window_start)
            DO UPDATE SET request_count = rate_limit_windows.request_count + 1
        )
        -- One row always (an aggregate); set_config makes this statement's own transaction commit without waiting for
        -- its WAL flush (see acquireSendSlot), in the same round trip.
        SELECT extract(epoch FROM max(wait))::float8 AS wait, set_config('synchronous_commit', 'off', true) AS async
          FROM full_windows
        """)

    /// Every worker counts against the same rows, so these updates would otherwise wait on each other's WAL flushes;
    /// a count lost in a crash only lets a few more requests through, so its commit does not wait for the flush.
    public func acquireSendSlot(tenantID: UUID, accountID: UUID, limits: [RateLimit]) throws -> Double? {
        let wait: Double? = try connection.query(Self.acquire, [
            tenantID, accountID, limits.map(\.bucket), PostgresTextArray(limits.map { String($0.requests) }),
            PostgresTextArray(limits.map { String($0.windowSeconds) }),
        ]).first?.decodeIfPresent("wait")
        return wait.map { max($0, 0.05) }
    }
}
