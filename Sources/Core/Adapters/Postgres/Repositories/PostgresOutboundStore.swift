import FoundationEssentials

/// The send side of outbound in PostgreSQL: idempotency keys, the conversation lock, and the one statement that
/// writes message, preview, activity and outbox event together.
public struct PostgresOutboundStore: OutboundStore {
    public static let topic = "message.outbound.requested"

    let connection: PostgresConnection

    public init(connection: PostgresConnection) { self.connection = connection }

    public func conversationForSend(tenantID: UUID, id: UUID) throws -> ConversationForSend? {
        try connection.query("""
            SELECT id, tenant_id, lead_id, channel, channel_thread_id, provider_thread_type, provider_comment_id,
                   provider_external_user_id, private_reply_sent_at, last_inbound_at, created_at
              FROM conversations WHERE tenant_id = $1 AND id = $2
               FOR UPDATE
            """, [tenantID, id]).first.map(Self.conversation)
    }

    static func conversation(_ row: PostgresRow) throws -> ConversationForSend {
        guard let channel = Channel(rawValue: try row.decode("channel")) else {
            throw PostgresError.decoding(column: "channel", message: "unknown channel")
        }
        return ConversationForSend(
            id: try row.decode("id"), tenantID: try row.decode("tenant_id"), leadID: try row.decode("lead_id"),
            channel: channel, channelThreadID: try row.decode("channel_thread_id"),
            providerThreadType: try row.decodeIfPresent("provider_thread_type"),
            providerCommentID: try row.decodeIfPresent("provider_comment_id"),
            providerExternalUserID: try row.decodeIfPresent("provider_external_user_id"),
            privateReplySentAt: try row.decodeIfPresent("private_reply_sent_at"),
            lastInboundAt: try row.decodeIfPresent("last_inbound_at"), createdAt: try row.decode("created_at"))
    }

    public func claimIdempotencyKey(tenantID: UUID, scope: String, key: String, fingerprint: String, agentID: UUID?,
                                    ttlSeconds: Int) throws -> IdempotencyClaim {
        // A concurrent request with the same key waits here on the primary key until the first one commits (then
        // finds its row) or rolls back (then claims the key itself). An expired key is claimed afresh.
        let claimed = try connection.query("""
            INSERT INTO idempotency_keys (tenant_id, scope, key, request_fingerprint, agent_id, expires_at)
            VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))
            ON CONFLICT (tenant_id, scope, key) DO UPDATE
               SET request_fingerprint = EXCLUDED.request_fingerprint, agent_id = EXCLUDED.agent_id,
                   message_id = NULL, response_status = NULL, response_body = NULL,
                   created_at = now(), expires_at = EXCLUDED.expires_at
             WHERE idempotency_keys.expires_at <= now()
            RETURNING 1 AS claimed
            """, [tenantID, scope, key, fingerprint, agentID, ttlSeconds]).first != nil
        if claimed { return .claimed }
        guard let row = try connection.query("""
            SELECT request_fingerprint, response_body::text AS response FROM idempotency_keys
             WHERE tenant_id = $1 AND scope = $2 AND key = $3
            """, [tenantID, scope, key]).first
        else { return .claimed }
        guard try row.decode("request_fingerprint") == fingerprint,
              let response: String = try row.decodeIfPresent("response"),
              let receipt = try? JSONCoding.decoder.decode(SendReceipt.self, from: Data(response.utf8))
        else { return .conflict }
        return .replay(receipt)
    }

    public func rememberResponse(tenantID: UUID, scope: String, key: String, receipt: SendReceipt) throws {
        try connection.query("""
            UPDATE idempotency_keys SET message_id = $4::uuid, response_status = 202, response_body = $5::jsonb
             WHERE tenant_id = $1 AND scope = $2 AND key = $3
            """, [tenantID, scope, key, receipt.messageId,
                  PostgresJSON(String(decoding: try JSONCoding.encoder.encode(receipt), as: UTF8.self))])
    }

    static let queueMessage = PreparedStatement("outbound_queue_message", """
        WITH message AS (
            INSERT INTO messages (tenant_id, conversation_id, channel, direction, sender_type, sender_agent_id,
                                  message_type, content, media_url, preview_url, mime_type, file_name, file_size_bytes,
                                  width, height, delivery_status, metadata)
            VALUES ($1, $2, $3, 'OUTBOUND', 'SALES', $4, $5, coalesce($6, ''), $7, $8, $9, $10, $11, $12, $13, 'QUEUED',
                    $14::jsonb)
            RETURNING id, created_at
        ), conversation AS (
            UPDATE conversations c
               SET last_message_at = greatest(c.last_message_at, m.created_at), last_message_preview = $15,
                   last_message_type = $5, last_message_direction = 'OUTBOUND', last_outbound_at = m.created_at
              FROM message m
             WHERE c.tenant_id = $1 AND c.id = $2
        ), activity AS (
            INSERT INTO activity_logs (tenant_id, lead_id, conversation_id, message_id, actor_type, actor_agent_id, type,
                                       metadata)
            SELECT $1, $16, $2, m.id, 'AGENT', $4, 'MESSAGE_QUEUED',
                   jsonb_build_object('messageType', $5::text, 'actorEmail', $17::text)
              FROM message m
        ), outbox AS (
            INSERT INTO outbox_events (tenant_id, topic, payload, idempotency_key, ordering_key)
            SELECT $1, '\(topic)', jsonb_build_object('messageId', m.id, 'conversationId', $2::uuid),
                   'outbound:' || m.id, 'conversation:' || $2::text
              FROM message m
        )
        SELECT id FROM message
        """)

    public func queue(_ message: QueuedOutboundMessage) throws -> UUID {
        let r = message.request
        var metadata: [String: JSONValue] = [:]
        switch r.facebookTarget {
        case .messenger(let psid)?: metadata["facebookTarget"] = ["type": "MESSENGER", "id": .string(psid)]
        case .comment(let id)?: metadata["facebookTarget"] = ["type": "COMMENT", "id": .string(id)]
        case nil: break
        }
        return try connection.query(Self.queueMessage, [
            message.tenantID, message.conversation.id, message.conversation.channel.rawValue, message.senderAgentID,
            r.type.rawValue, r.content, r.mediaURL, r.previewURL, r.mimeType?.lowercased(), r.fileName, r.fileSizeBytes,
            r.width, r.height, PostgresJSON(JSONValue.object(metadata).serialized()), message.preview,
            message.conversation.leadID, message.actorEmail,
        ]).first!.decode("id")
    }
}
