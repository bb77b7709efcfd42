import FoundationEssentials

/// The inbox as agents read it: conversation pages with everything the list shows in one statement, a thread's
/// messages, and mark-read.
public struct PostgresConversationRepository: ConversationRepository {
    let connection: PostgresConnection

    public init(connection: PostgresConnection) { self.connection = connection }

    public func conversations(tenantID: UUID, filter: ConversationFilter, page: PageRequest) throws
        -> [ConversationSummary]
    {
        var query = PostgresKeysetQuery("""
            SELECT c.id, c.lead_id, l.status AS lead_status, l.name AS lead_name, c.contact_id, c.channel,
                   c.channel_thread_id, c.status, c.assigned_agent_id, c.participant_display_name,
                   c.participant_profile_image_url, ct.display_name AS contact_display_name,
                   ct.profile_image_url AS contact_profile_image_url, ci.id AS identity_id,
                   ci.external_user_id AS identity_external_user_id, ci.display_name AS identity_display_name,
                   ci.profile_image_url AS identity_profile_image_url, c.last_message_at, c.last_message_preview,
                   c.last_message_type, c.last_message_direction, c.unread_count, c.last_read_at, c.last_inbound_at,
                   c.provider_thread_type, c.provider_post_id, c.provider_comment_id, c.private_reply_sent_at,
                   c.public_reply_sent_at, c.converted_to_dm_at, c.created_at,
                   \(PostgresKeyset.sortKeyColumn("c.last_message_at"))
              FROM conversations c
              JOIN leads l ON l.tenant_id = c.tenant_id AND l.id = c.lead_id
              LEFT JOIN contacts ct ON ct.tenant_id = c.tenant_id AND ct.id = c.contact_id
              LEFT JOIN contact_identities ci ON ci.tenant_id = c.tenant_id AND ci.id = c.contact_identity_id
             WHERE c.tenant_id = $1
            """, [tenantID])
        if let status = filter.status { query.filter("c.status = $?", status) }
        if let channel = filter.channel { query.filter("c.channel = $?", channel.rawValue) }
        if let lead = filter.leadID { query.filter("c.lead_id = $?", lead) }
        if let id = filter.conversationID { query.filter("c.id = $?", id) }
        switch filter.assignment {
        case .agent(let id)?: query.filter("c.assigned_agent_id = $?", id)
        case .unassigned?: query.filter("c.assigned_agent_id IS NULL")
        case nil: break
        }
        let (sql, parameters) = query.page(page, timestamp: "c.last_message_at", id: "c.id")
        return try connection.query(sql, parameters).rows.map(Self.summary)
    }

    public func conversationExists(tenantID: UUID, id: UUID) throws -> Bool {
        try connection.query("SELECT 1 FROM conversations WHERE tenant_id = $1 AND id = $2", [tenantID, id]).first != nil
    }

    public func messages(tenantID: UUID, conversationID: UUID, page: PageRequest) throws -> [Message] {
        let (sql, parameters) = PostgresKeysetQuery("""
            SELECT m.id, m.conversation_id, m.channel, m.direction, m.sender_type, m.sender_agent_id, m.message_type,
                   m.content,
                   -- A share, story mention, reel or template links to what it shows (Meta's attachment URL).
                   coalesce(m.media_url, m.metadata->>'attachmentUrl') AS media_url, m.preview_url, m.mime_type,
                   -- A customer's file names itself in the provider's payload (LINE fileName and fileSize).
                   coalesce(m.file_name, m.metadata->>'fileName') AS file_name,
                   coalesce(m.file_size_bytes, CASE WHEN m.metadata->>'fileSize' ~ '^[0-9]{1,15}$'
                                                    THEN (m.metadata->>'fileSize')::bigint END) AS file_size_bytes, m.width,
                   m.height, m.delivery_status, m.provider_message_id, m.error_code, m.error_reason, m.sent_at,
                   CASE WHEN m.metadata ? 'mediaStatus' THEN 'PENDING' WHEN m.metadata ? 'mediaError' THEN 'FAILED'
                   END AS media_status,
                   CASE WHEN m.metadata ? 'unsent' THEN 'UNSENT' WHEN m.metadata ? 'edited' THEN 'EDITED' END AS revision,
                   m.metadata->>'senderUserId' AS sender_external_id,
                   (SELECT i.display_name FROM contact_identities i
                     WHERE i.tenant_id = m.tenant_id AND i.channel = m.channel
                       AND i.external_user_id = m.metadata->>'senderUserId') AS sender_name,
                   m.created_at, \(PostgresKeyset.sortKeyColumn("m.created_at"))
              FROM messages m
             WHERE m.tenant_id = $1 AND m.conversation_id = $2
            """, [tenantID, conversationID]).page(page, timestamp: "m.created_at", id: "m.id")
        return try connection.query(sql, parameters).rows.map(Self.message)
    }

    public func markRead(tenantID: UUID, id: UUID) throws -> MarkedRead? {
        try connection.query("""
            UPDATE conversations SET unread_count = 0, last_read_at = now()
             WHERE tenant_id = $1 AND id = $2
            RETURNING id, last_read_at
            """, [tenantID, id]).first.map { row in
            MarkedRead(conversationId: try row.decode("id"), lastReadAt: try row.decode("last_read_at"))
        }
    }

    static func channel(_ row: PostgresRow) throws -> Channel {
        guard let channel = Channel(rawValue: try row.decode("channel")) else {
            throw PostgresError.decoding(column: "channel", message: "unknown channel")
        }
        return channel
    }

    static func summary(_ row: PostgresRow) throws -> ConversationSummary {
        guard let leadStatus = LeadStatus(rawValue: try row.decode("lead_status")) else {
            throw PostgresError.decoding(column: "lead_status", message: "unknown status")
        }
        return ConversationSummary(
            id: try row.decode("id"), leadId: try row.decode("lead_id"), leadStatus: leadStatus,
            leadName: try row.decodeIfPresent("lead_name"), contactId: try row.decodeIfPresent("contact_id"),
            channel: try channel(row), channelThreadId: try row.decode("channel_thread_id"), status: try row.decode("status"),
            assignedAgentId: try row.decodeIfPresent("assigned_agent_id"),
            participantDisplayName: try row.decodeIfPresent("participant_display_name"),
            participantProfileImageUrl: try row.decodeIfPresent("participant_profile_image_url"),
            contactDisplayName: try row.decodeIfPresent("contact_display_name"),
            contactProfileImageUrl: try row.decodeIfPresent("contact_profile_image_url"),
            contactIdentityId: try row.decodeIfPresent("identity_id"),
            contactIdentityExternalUserId: try row.decodeIfPresent("identity_external_user_id"),
            contactIdentityDisplayName: try row.decodeIfPresent("identity_display_name"),
            contactIdentityProfileImageUrl: try row.decodeIfPresent("identity_profile_image_url"),
            lastMessageAt: try row.decode("last_message_at"), lastMessagePreview: try row.decodeIfPresent("last_message_preview"),
            lastMessageType: try row.decodeIfPresent("last_message_type"),
            lastMessageDirection: try row.decodeIfPresent("last_message_direction"),
            unreadCount: try row.decode("unread_count"), lastReadAt: try row.decodeIfPresent("last_read_at"),
            lastInboundAt: try row.decodeIfPresent("last_inbound_at"),
            providerThreadType: try row.decodeIfPresent("provider_thread_type"),
            providerPostId: try row.decodeIfPresent("provider_post_id"),
            providerCommentId: try row.decodeIfPresent("provider_comment_id"),
            privateReplySentAt: try row.decodeIfPresent("private_reply_sent_at"),
            publicReplySentAt: try row.decodeIfPresent("public_reply_sent_at"),
            convertedToDmAt: try row.decodeIfPresent("converted_to_dm_at"), createdAt: try row.decode("created_at"),
            sortKey: try PostgresKeyset.cursor(row))
    }

    static func message(_ row: PostgresRow) throws -> Message {
        var message = Message(
            id: try row.decode("id"), conversationId: try row.decode("conversation_id"), channel: try channel(row),
            direction: try row.decode("direction"), senderType: try row.decode("sender_type"),
            senderAgentId: try row.decodeIfPresent("sender_agent_id"), messageType: try row.decode("message_type"),
            content: try row.decode("content"), mediaUrl: try row.decodeIfPresent("media_url"),
            previewUrl: try row.decodeIfPresent("preview_url"), mimeType: try row.decodeIfPresent("mime_type"),
            fileName: try row.decodeIfPresent("file_name"), fileSizeBytes: try row.decodeIfPresent("file_size_bytes"),
            width: try row.decodeIfPresent("width"), height: try row.decodeIfPresent("height"),
            deliveryStatus: try row.decode("delivery_status"), providerMessageId: try row.decodeIfPresent("provider_message_id"),
            errorCode: try row.decodeIfPresent("error_code"), errorReason: try row.decodeIfPresent("error_reason"),
            sentAt: try row.decodeIfPresent("sent_at"), createdAt: try row.decode("created_at"),
            sortKey: try PostgresKeyset.cursor(row))
        message.mediaStatus = row["media_status"] ?? nil
        message.revision = row["revision"] ?? nil
        message.senderExternalId = row["sender_external_id"] ?? nil
        message.senderName = row["sender_name"] ?? nil
        return message
    }
}
