import FoundationEssentials

/// `InboxRecorder` on the inbox tables. One transaction per event; every statement is an
/// upsert or guarded by a unique key, so a re-run (or a run after a crash half-way, which
/// rolled back) records nothing twice and counts no unread twice.
public struct PostgresInbox: InboxRecorder {
    let connection: PostgresConnection

    public init(connection: PostgresConnection) { self.connection = connection }

    static let loadEvent = PreparedStatement("inbox_load_event", """
        SELECT w.id, w.tenant_id, w.channel, w.channel_account_id, a.external_account_id, w.payload::text AS payload,
               w.processed_at IS NOT NULL AS processed
          FROM webhook_events w
          LEFT JOIN channel_accounts a ON a.tenant_id = w.tenant_id AND a.id = w.channel_account_id
         WHERE w.id = $1
        """)

    public func webhookEvent(id: UUID) throws -> StoredWebhookEvent? {
        guard let row = try connection.query(Self.loadEvent, [id]).first else { return nil }
        guard let channel = Channel(rawValue: try row.decode("channel")) else { return nil }
        return StoredWebhookEvent(
            id: try row.decode("id"), tenantID: try row.decode("tenant_id"), channel: channel,
            channelAccountID: try row.decodeIfPresent("channel_account_id"), accountExternalID: row["external_account_id"],
            payload: try row.decode("payload"), processed: try row.decode("processed"))
    }

    static let lookupContext = PreparedStatement("inbox_lookup_context", """
        SELECT coalesce(a.credentials->>'channelAccessToken', a.credentials->>'pageAccessToken') AS access_token,
               (SELECT i.profile_fetched_at FROM contact_identities i
                 WHERE i.tenant_id = $1 AND i.channel = $3 AND i.external_user_id = $4) AS profile_fetched_at
          FROM (SELECT 1) one
          LEFT JOIN channel_accounts a ON a.tenant_id = $1 AND a.id = $2
        """)

    public func lookupContext(event: StoredWebhookEvent, externalUserID: String) throws -> InboundLookupContext {
        let row = try connection.query(Self.lookupContext, [event.tenantID, event.channelAccountID, event.channel.rawValue,
                                                            externalUserID]).first
        return InboundLookupContext(accessToken: row?["access_token"],
                                    profileFetchedAt: try row?.decodeIfPresent("profile_fetched_at"))
    }

    public func recordMessage(_ message: InboundMessage, event: StoredWebhookEvent, media: InboundMedia?,
                              profileFetched: Bool) throws -> InboundRecord {
        try connection.transaction {
            let party = try upsertParty(channel: message.channel, externalUserID: message.externalUserID,
                                        name: message.senderDisplayName, image: message.senderProfileImageURL,
                                        at: message.occurredAt, event: event, profileFetched: profileFetched)
            let conversationID: UUID = try connection.query(Self.upsertConversation, [
                event.tenantID, party.leadID, party.contactID, party.identityID, event.channelAccountID,
                message.channel.rawValue, message.threadID, message.senderDisplayName, message.senderProfileImageURL,
                message.occurredAt, message.threadType, message.facebookPageID, message.facebookPostID,
                message.facebookCommentID, message.externalUserID,
            ]).first!.decode("id")
            var metadata = message.metadata
            if let error = media?.error {
                metadata["mediaError"] = error
                metadata["mediaErrorReason"] = media?.errorReason
            }
            let inserted = try connection.query(Self.insertMessage, [
                event.tenantID, conversationID, message.channel.rawValue, message.messageType, message.text,
                media?.mediaURL ?? message.mediaURL, message.providerMessageID, try PostgresJSON(encoding: metadata),
                event.payload, event.id, message.providerMessageID ?? "event:\(event.id.postgresText)", message.occurredAt,
                media?.previewURL, media?.mimeType, media?.sizeBytes, media?.width, media?.height,
            ]).first
            let messageID: UUID? = try inserted?.decode("id")
            if let messageID {
                try connection.query(Self.bumpConversation, [
                    conversationID, message.occurredAt, String(message.text.prefix(120)), message.messageType,
                    message.replyToken,
                ])
                try connection.query(Self.insertActivity, [
                    event.tenantID, party.leadID, conversationID, messageID, "MESSAGE_RECEIVED",
                    try PostgresJSON(encoding: ["channel": message.channel.rawValue, "messageType": message.messageType]),
                ])
            }
            try connection.query(Self.markProcessed, [event.id, nil])
            return InboundRecord(conversationID: conversationID, leadID: party.leadID, messageID: messageID,
                                 inserted: messageID != nil)
        }
    }

    public func recordActivity(_ activity: InboundActivity, event: StoredWebhookEvent) throws {
        try connection.transaction {
            let party = try upsertParty(channel: activity.channel, externalUserID: activity.externalUserID, name: nil,
                                        image: nil, at: activity.occurredAt, event: event, profileFetched: false)
            var metadata = activity.detail
            metadata["webhookEventId"] = event.id.postgresText
            metadata["channel"] = activity.channel.rawValue
            try connection.query(Self.insertActivityOnce, [
                event.tenantID, party.leadID, activity.kind, try PostgresJSON(encoding: metadata), event.id.postgresText,
            ])
            try connection.query(Self.markProcessed, [event.id, nil])
        }
    }

    public func markProcessed(event: StoredWebhookEvent, note: String?) throws {
        try connection.query(Self.markProcessed, [event.id, note])
    }

    // MARK: Identity, contact, lead

    private struct Party { let identityID: UUID; let contactID: UUID; let leadID: UUID }

    /// The customer behind an event: identity (unique per channel user), its contact, its lead.
    /// A blank name or image never overwrites a known one; a new non-empty one replaces it.
    private func upsertParty(channel: Channel, externalUserID: String, name: String?, image: String?, at: Date,
                             event: StoredWebhookEvent, profileFetched: Bool) throws -> Party {
        let identity = try connection.query(Self.upsertIdentity, [
            event.tenantID, channel.rawValue, externalUserID, event.channelAccountID, name, image, profileFetched,
        ]).first!
        let identityID: UUID = try identity.decode("id")
        let contactID: UUID = try identity.decode("contact_id")
        try connection.query(Self.upsertContact, [contactID, event.tenantID, name, image])
        let leadID: UUID = try connection.query(Self.upsertLead, [
            event.tenantID, contactID, channel.rawValue, externalUserID, name, at,
        ]).first!.decode("id")
        return Party(identityID: identityID, contactID: contactID, leadID: leadID)
    }

    static let upsertIdentity = PreparedStatement("inbox_upsert_identity", """
        INSERT INTO contact_identities (tenant_id, contact_id, channel, external_user_id, channel_account_id,
                                        display_name, profile_image_url, profile_fetched_at)
        VALUES ($1, gen_random_uuid(), $2, $3, $4, nullif(btrim($5), ''), nullif(btrim($6), ''),
                CASE WHEN $7::bool THEN now() END)
        ON CONFLICT ON CONSTRAINT contact_identities_identity_key DO UPDATE
           SET display_name = coalesce(EXCLUDED.display_name, contact_identities.display_name),
               profile_image_url = coalesce(EXCLUDED.profile_image_url, contact_identities.profile_image_url),
               profile_fetched_at = coalesce(EXCLUDED.profile_fetched_at, contact_identities.profile_fetched_at),
               channel_account_id = coalesce(contact_identities.channel_account_id, EXCLUDED.channel_account_id)
        RETURNING id, contact_id
        """)
    static let upsertContact = PreparedStatement("inbox_upsert_contact", """
        INSERT INTO contacts (id, tenant_id, display_name, profile_image_url)
        VALUES ($1, $2, nullif(btrim($3), ''), nullif(btrim($4), ''))
        ON CONFLICT (id) DO UPDATE
           SET display_name = coalesce(EXCLUDED.display_name, contacts.display_name),
               profile_image_url = coalesce(EXCLUDED.profile_image_url, contacts.profile_image_url)
         WHERE EXCLUDED.display_name IS NOT NULL OR EXCLUDED.profile_image_url IS NOT NULL
        """)
    static let upsertLead = PreparedStatement("inbox_upsert_lead", """
        INSERT INTO leads (tenant_id, contact_id, source_channel, external_user_id, name, last_contact_at)
        VALUES ($1, $2, $3, $4, nullif(btrim($5), ''), $6)
        ON CONFLICT ON CONSTRAINT leads_source_key DO UPDATE
           SET last_contact_at = greatest(leads.last_contact_at, EXCLUDED.last_contact_at),
               name = coalesce(leads.name, EXCLUDED.name),
               contact_id = coalesce(leads.contact_id, EXCLUDED.contact_id)
        RETURNING id
        """)

    // MARK: Conversation and message

    static let upsertConversation = PreparedStatement("inbox_upsert_conversation", """
        INSERT INTO conversations (tenant_id, lead_id, contact_id, contact_identity_id, channel_account_id, channel,
                                   channel_thread_id, participant_display_name, participant_profile_image_url,
                                   last_message_at, provider_thread_type, provider_page_id, provider_post_id,
                                   provider_comment_id, provider_external_user_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, nullif(btrim($8), ''), nullif(btrim($9), ''), $10, $11, $12, $13, $14, $15)
        ON CONFLICT ON CONSTRAINT conversations_thread_key DO UPDATE
           SET participant_display_name = coalesce(EXCLUDED.participant_display_name, conversations.participant_display_name),
               participant_profile_image_url = coalesce(EXCLUDED.participant_profile_image_url,
                                                        conversations.participant_profile_image_url)
        RETURNING id
        """)
    static let insertMessage = PreparedStatement("inbox_insert_message", """
        INSERT INTO messages (tenant_id, conversation_id, channel, direction, sender_type, message_type, content,
                              media_url, delivery_status, provider_message_id, metadata, raw_payload,
                              webhook_event_id, source_event_id, created_at, preview_url, mime_type, file_size_bytes,
                              width, height)
        VALUES ($1, $2, $3, 'INBOUND', 'CUSTOMER', $4, $5, $6, 'RECEIVED', $7, $8::jsonb, $9::jsonb, $10, $11, $12,
                $13, $14, $15, $16, $17)
        ON CONFLICT ON CONSTRAINT messages_source_event_key DO NOTHING
        RETURNING id
        """)
    /// Runs only for a message that was just inserted, so unread never counts twice. The
    /// preview follows the newest message even when events arrive out of order.
    static let bumpConversation = PreparedStatement("inbox_bump_conversation", """
        UPDATE conversations
           SET unread_count = unread_count + 1,
               last_message_preview = CASE WHEN $2 >= last_message_at THEN $3 ELSE last_message_preview END,
               last_message_type = CASE WHEN $2 >= last_message_at THEN $4 ELSE last_message_type END,
               last_message_direction = CASE WHEN $2 >= last_message_at THEN 'INBOUND' ELSE last_message_direction END,
               last_message_at = greatest(last_message_at, $2),
               last_inbound_at = greatest(last_inbound_at, $2),
               line_reply_token = coalesce($5, line_reply_token),
               line_reply_token_received_at = CASE WHEN $5 IS NULL THEN line_reply_token_received_at ELSE now() END,
               status = CASE WHEN status = 'CLOSED' THEN 'OPEN' ELSE status END
         WHERE id = $1
        """)
    static let insertActivity = PreparedStatement("inbox_insert_activity", """
        INSERT INTO activity_logs (tenant_id, lead_id, conversation_id, message_id, actor_type, type, metadata)
        VALUES ($1, $2, $3, $4, 'CUSTOMER', $5, $6::jsonb)
        """)
    static let insertActivityOnce = PreparedStatement("inbox_insert_activity_once", """
        INSERT INTO activity_logs (tenant_id, lead_id, actor_type, type, metadata)
        SELECT $1, $2, 'CUSTOMER', $3, $4::jsonb
         WHERE NOT EXISTS (SELECT 1 FROM activity_logs
                            WHERE tenant_id = $1 AND lead_id = $2 AND metadata->>'webhookEventId' = $5)
        """)
    static let markProcessed = PreparedStatement("inbox_mark_processed", """
        UPDATE webhook_events SET processed_at = coalesce(processed_at, clock_timestamp()), last_error = $2 WHERE id = $1
        """)
}
