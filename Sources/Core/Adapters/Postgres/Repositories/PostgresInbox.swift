import FoundationEssentials

/// `InboxRecorder` on the inbox tables. One statement (so one transaction) per event; every
/// write in it is an upsert or guarded by a unique key, so a re-run (or a run after a crash
/// half-way, which rolled back) records nothing twice and counts no unread twice.
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

    /// The inbox writes of one event run server-side (schema/0005_inbound_recording.sql): one
    /// round trip, one implicit transaction.
    static let recordMessage = PreparedStatement("inbox_record_message", """
        SELECT conversation_id, lead_id, message_id FROM hubchat_record_inbound_message(
            $1::uuid, $2::text, $3::text, $4::uuid, $5::text, $6::text, $7::boolean, $8::timestamptz,
            $9::text, $10::text, $11::text, $12::text, $13::text,
            $14::text, $15::text, $16::text, $17::text, $18::jsonb, $19::jsonb, $20::uuid, $21::text,
            $22::text, $23::text, $24::bigint, $25::integer, $26::integer, $27::text)
        """)
    static let recordActivity = PreparedStatement("inbox_record_activity", """
        SELECT lead_id FROM hubchat_record_inbound_activity(
            $1::uuid, $2::text, $3::text, $4::uuid, $5::timestamptz, $6::text, $7::jsonb, $8::uuid)
        """)

    public func recordMessage(_ message: InboundMessage, event: StoredWebhookEvent, media: InboundMedia?) throws
        -> InboundRecord
    {
        var metadata = message.metadata
        if let error = media?.error {
            metadata["mediaError"] = error
            metadata["mediaErrorReason"] = media?.errorReason
        }
        let row = try connection.query(Self.recordMessage, [
            event.tenantID, message.channel.rawValue, message.externalUserID, event.channelAccountID,
            // Provider profiles are fetched after the message is visible (updateProfile).
            message.senderDisplayName, message.senderProfileImageURL, false, message.occurredAt,
            message.threadID, message.threadType, message.facebookPageID, message.facebookPostID, message.facebookCommentID,
            message.messageType, message.text, media?.mediaURL ?? message.mediaURL, message.providerMessageID,
            try PostgresJSON(encoding: metadata), PostgresJSON(event.payload), event.id,
            message.providerMessageID ?? "event:\(event.id.postgresText)",
            media?.previewURL, media?.mimeType, media?.sizeBytes, media?.width, media?.height, message.replyToken,
        ]).first!
        let messageID: UUID? = try row.decodeIfPresent("message_id")
        return InboundRecord(conversationID: try row.decode("conversation_id"), leadID: try row.decode("lead_id"),
                             messageID: messageID, inserted: messageID != nil)
    }

    static let updateProfile = PreparedStatement("inbox_update_profile", """
        WITH identity AS (
            UPDATE contact_identities
               SET display_name = coalesce(nullif(btrim($4), ''), display_name),
                   profile_image_url = coalesce(nullif(btrim($5), ''), profile_image_url),
                   profile_fetched_at = now()
             WHERE tenant_id = $1 AND channel = $2 AND external_user_id = $3
            RETURNING id, contact_id, lead_id
        ), contact AS (
            UPDATE contacts c
               SET display_name = coalesce(nullif(btrim($4), ''), c.display_name),
                   profile_image_url = coalesce(nullif(btrim($5), ''), c.profile_image_url)
              FROM identity i
             WHERE c.tenant_id = $1 AND c.id = i.contact_id
        ), snapshot AS (
            -- The identity's own threads; for a commenter's PSID (schema/0019) also the lead's threads that show a
            -- commenter Meta did not name ($6, the placeholder).
            UPDATE conversations v
               SET participant_display_name = coalesce(nullif(btrim($4), ''), v.participant_display_name),
                   participant_profile_image_url = coalesce(nullif(btrim($5), ''), v.participant_profile_image_url)
              FROM identity i
             WHERE v.tenant_id = $1
               AND (v.contact_identity_id = i.id OR (v.lead_id = i.lead_id AND v.participant_display_name = $6))
        ), lead AS (
            -- A lead named by nobody yet takes the customer's name; one an agent named keeps it. An identity linked
            -- to a lead keyed on another id (a commenter's PSID, schema/0019) names that lead, also over the
            -- placeholder of a commenter Meta did not name.
            UPDATE leads l SET name = btrim($4)
             WHERE l.tenant_id = $1
               AND ((l.name IS NULL AND l.source_channel = $2 AND l.external_user_id = $3)
                    OR (l.id IN (SELECT lead_id FROM identity) AND (l.name IS NULL OR l.name = $6)))
               AND nullif(btrim($4), '') IS NOT NULL
        )
        SELECT count(*) AS n FROM identity
        """)

    public func updateProfile(event: StoredWebhookEvent, externalUserID: String, profile: ProviderProfile) throws -> Bool {
        let row = try connection.query(Self.updateProfile, [
            event.tenantID, event.channel.rawValue, externalUserID, profile.displayName, profile.pictureURL,
            InboundMessage.hiddenCommenterName,
        ]).first
        return try (row?.decode("n", as: Int.self) ?? 0) > 0
    }

    @discardableResult
    public func recordActivity(_ activity: InboundActivity, event: StoredWebhookEvent) throws -> UUID? {
        var metadata = activity.detail
        metadata["webhookEventId"] = event.id.postgresText
        metadata["channel"] = activity.channel.rawValue
        return try connection.query(Self.recordActivity, [
            event.tenantID, activity.channel.rawValue, activity.externalUserID, event.channelAccountID, activity.occurredAt,
            activity.kind, try PostgresJSON(encoding: metadata), event.id,
        ]).first?.decodeIfPresent("lead_id")
    }

    /// The message and its parts (`<id>#2` …, a message with several attachments) lose what they said; the
    /// conversation's preview too when the message was its latest; one MESSAGE_UNSENT activity; the event is marked.
    /// One statement. Messages already unsent are left alone, so a re-run changes nothing.
    static let recordUnsend = PreparedStatement("inbox_record_unsend", """
        WITH target AS (
            SELECT m.id, m.conversation_id, m.created_at FROM messages m
             WHERE m.tenant_id = $1 AND m.channel = $2 AND m.direction = 'INBOUND'
               AND m.provider_message_id = ANY(array_prepend($3, ARRAY(SELECT $3 || '#' || g FROM generate_series(2, 100) g)))
               AND NOT coalesce((m.metadata->>'unsent')::boolean, false)
        ), unsent AS (
            UPDATE messages m
               SET content = $5, media_url = NULL, preview_url = NULL, raw_payload = NULL, mime_type = NULL,
                   file_name = NULL, file_size_bytes = NULL, width = NULL, height = NULL,
                   metadata = jsonb_strip_nulls(jsonb_build_object('unsent', true, 'unsentAt', $4::timestamptz,
                                                                   'lineMessageType', m.metadata->'lineMessageType',
                                                                   'attachmentIndex', m.metadata->'attachmentIndex'))
              FROM target t
             WHERE m.tenant_id = $1 AND m.id = t.id
            RETURNING m.id, m.conversation_id, t.created_at, m.webhook_event_id
        ), redacted AS (
            -- The stored webhook event said it too (until retention prunes it).
            UPDATE webhook_events w SET payload = jsonb_build_object('unsent', true)
             WHERE w.tenant_id = $1 AND w.id IN (SELECT webhook_event_id FROM unsent)
        ), preview AS (
            -- The preview says it was taken back when it was the latest; a message nobody had read yet is no
            -- longer counted unread (there is nothing left to read).
            UPDATE conversations c
               SET last_message_preview = CASE WHEN c.last_message_at <= u.latest AND c.last_message_direction = 'INBOUND'
                                               THEN $5 ELSE c.last_message_preview END,
                   unread_count = greatest(c.unread_count - (SELECT count(*) FROM unsent x
                                                              WHERE x.conversation_id = c.id
                                                                AND x.created_at > coalesce(c.last_read_at, '-infinity')), 0)
              FROM (SELECT conversation_id, max(created_at) AS latest FROM unsent GROUP BY 1) u
             WHERE c.tenant_id = $1 AND c.id = u.conversation_id
        ), \(revisionTail(changed: "unsent", activity: "MESSAGE_UNSENT"))
        """)

    /// The end both revision statements share, after the CTE `changed` that returns the revised messages (id,
    /// conversation_id, created_at): the first of them, one activity of `activity` on its lead, the event marked
    /// processed. Parameters: $1 tenant, $2 channel, $3 provider message id, $6 webhook event id.
    static func revisionTail(changed: String, activity: String) -> String {
        """
        first AS (
            SELECT r.id, r.conversation_id, c.lead_id FROM \(changed) r
              JOIN conversations c ON c.tenant_id = $1 AND c.id = r.conversation_id
             ORDER BY r.created_at LIMIT 1
        ), activity AS (
            INSERT INTO activity_logs (tenant_id, lead_id, conversation_id, message_id, actor_type, type, metadata)
            SELECT $1, f.lead_id, f.conversation_id, f.id, 'CUSTOMER', '\(activity)',
                   jsonb_build_object('channel', $2, 'providerMessageId', $3, 'webhookEventId', $6::uuid::text)
              FROM first f
        ), processed AS (
            UPDATE webhook_events SET processed_at = coalesce(processed_at, clock_timestamp()), last_error = NULL
             WHERE id = $6::uuid
        )
        SELECT id AS message_id, conversation_id, lead_id FROM first
        """
    }

    /// What an unsent message shows instead of what it said.
    public static let unsentPlaceholder = "[Unsent by the customer]"

    /// An edited message says its new text (only the message itself: its other parts are attachments); the preview
    /// follows when it was the latest; one MESSAGE_EDITED activity; the event is marked. An edit no later than the
    /// one shown (by the provider's count; without one, by its time and text) changes nothing, so a re-run, a
    /// redelivery or a late retry of an earlier edit leaves the latest text; an unsent message stays unsent.
    static let recordEdit = PreparedStatement("inbox_record_edit", """
        WITH edited AS (
            UPDATE messages m
               SET content = $5,
                   -- The customer's new text is the text: a comment still waiting for its looked-up text waits no more.
                   metadata = (m.metadata - 'textStatus') || jsonb_strip_nulls(jsonb_build_object(
                       'edited', true, 'editedAt', $4::timestamptz, 'editCount', $7::integer))
             WHERE m.tenant_id = $1 AND m.channel = $2 AND m.direction = 'INBOUND' AND m.provider_message_id = $3
               AND CASE WHEN $7::integer IS NULL
                        THEN m.content IS DISTINCT FROM $5
                             AND coalesce((m.metadata->>'editedAt')::timestamptz, '-infinity') <= $4::timestamptz
                        ELSE coalesce((m.metadata->>'editCount')::integer, 0) < $7::integer END
               AND NOT coalesce((m.metadata->>'unsent')::boolean, false)
            RETURNING m.id, m.conversation_id, m.created_at
        ), preview AS (
            UPDATE conversations c SET last_message_preview = left($5, 120)
              FROM edited e
             WHERE c.tenant_id = $1 AND c.id = e.conversation_id AND c.last_message_at <= e.created_at
               AND c.last_message_direction = 'INBOUND'
        ), \(revisionTail(changed: "edited", activity: "MESSAGE_EDITED"))
        """)

    public func recordRevision(_ revision: InboundRevision, event: StoredWebhookEvent) throws -> InboundRecord? {
        let result: PostgresResult
        switch revision.change {
        case .unsent:
            result = try connection.query(Self.recordUnsend, [
                event.tenantID, revision.channel.rawValue, revision.providerMessageID, revision.occurredAt,
                Self.unsentPlaceholder, event.id,
            ])
        case .edited(let text, let count):
            result = try connection.query(Self.recordEdit, [
                event.tenantID, revision.channel.rawValue, revision.providerMessageID, revision.occurredAt, text, event.id,
                count,
            ])
        }
        guard let row = result.first else { return nil }
        return InboundRecord(conversationID: try row.decode("conversation_id"), leadID: try row.decode("lead_id"),
                             messageID: try row.decode("message_id"), inserted: false)
    }

    /// Held only while no message of that id is there (the message and its revisions share an ordering key, so they
    /// are never recorded at once). A take-back is held once; an edit replaces a held edit with a lower count (or,
    /// without counts, an earlier one).
    static let holdRevision = PreparedStatement("inbox_hold_revision", """
        INSERT INTO held_revisions (tenant_id, channel, provider_message_id, change, webhook_event_id, content,
                                    edit_count, occurred_at)
        SELECT $1, $2, $3, $4, $5, $6, $7, $8
         WHERE NOT EXISTS (SELECT 1 FROM messages m
                            WHERE m.tenant_id = $1 AND m.channel = $2 AND m.direction = 'INBOUND'
                              AND m.provider_message_id = $3)
        ON CONFLICT (tenant_id, channel, provider_message_id, change) DO UPDATE
           SET webhook_event_id = EXCLUDED.webhook_event_id, content = EXCLUDED.content,
               edit_count = EXCLUDED.edit_count, occurred_at = EXCLUDED.occurred_at
         WHERE held_revisions.change = 'EDITED'
           AND CASE WHEN EXCLUDED.edit_count IS NULL THEN held_revisions.occurred_at <= EXCLUDED.occurred_at
                    ELSE coalesce(held_revisions.edit_count, 0) < EXCLUDED.edit_count END
        RETURNING 1
        """)

    public func holdRevision(_ revision: InboundRevision, event: StoredWebhookEvent) throws -> Bool {
        let (change, text, count): (String, String?, Int?) = switch revision.change {
        case .unsent: ("UNSENT", nil, nil)
        case .edited(let text, let count): ("EDITED", text, count)
        }
        let held = try connection.query(Self.holdRevision, [
            event.tenantID, revision.channel.rawValue, revision.providerMessageID, change, event.id, text, count,
            revision.occurredAt,
        ])
        if held.first != nil { return true }
        // Not inserted: either the message is there, or the same (or a later) revision is already held.
        return try connection.query(Self.isHeld, [event.tenantID, revision.channel.rawValue, revision.providerMessageID,
                                                  change]).first != nil
    }

    static let isHeld = PreparedStatement("inbox_is_held", """
        SELECT 1 FROM held_revisions WHERE tenant_id = $1 AND channel = $2 AND provider_message_id = $3 AND change = $4
        """)

    /// Edits first, so that a take-back held with them has the last word.
    static let heldRevisions = PreparedStatement("inbox_held_revisions", """
        SELECT h.change, h.webhook_event_id, h.content, h.edit_count, h.occurred_at, w.channel_account_id
          FROM held_revisions h LEFT JOIN webhook_events w ON w.id = h.webhook_event_id
         WHERE h.tenant_id = $1 AND h.channel = $2 AND h.provider_message_id = $3
         ORDER BY h.change = 'UNSENT', h.created_at
        """)

    public func heldRevisions(tenantID: UUID, channel: Channel, providerMessageID: String) throws -> [HeldRevision] {
        try connection.query(Self.heldRevisions, [tenantID, channel.rawValue, providerMessageID]).rows.map { row in
            let change: InboundRevision.Change = try row.decode("change", as: String.self) == "UNSENT"
                ? .unsent : .edited(text: try row.decode("content"), count: try row.decodeIfPresent("edit_count"))
            let event = StoredWebhookEvent(
                id: try row.decode("webhook_event_id"), tenantID: tenantID, channel: channel,
                channelAccountID: try row.decodeIfPresent("channel_account_id"), accountExternalID: nil, payload: "",
                processed: true)
            return HeldRevision(revision: InboundRevision(channel: channel, externalUserID: "", providerMessageID: providerMessageID,
                                                          change: change, occurredAt: try row.decode("occurred_at")),
                                event: event)
        }
    }

    static let releaseHeldRevision = PreparedStatement("inbox_release_held_revision", """
        DELETE FROM held_revisions WHERE tenant_id = $1 AND channel = $2 AND provider_message_id = $3 AND webhook_event_id = $4
        """)

    public func releaseHeldRevision(_ held: HeldRevision) throws {
        try connection.query(Self.releaseHeldRevision, [
            held.event.tenantID, held.revision.channel.rawValue, held.revision.providerMessageID, held.event.id,
        ])
    }

    static let lineImagePending = PreparedStatement("inbox_line_image_pending", """
        SELECT EXISTS (SELECT 1 FROM messages
                        WHERE tenant_id = $1 AND channel = 'LINE' AND direction = 'INBOUND' AND provider_message_id = $2
                          AND metadata->>'mediaStatus' = 'pending') AS pending
        """)

    public func lineImagePending(tenantID: UUID, lineMessageID: String) throws -> Bool {
        try connection.query(Self.lineImagePending, [tenantID, lineMessageID]).first?.decode("pending") ?? false
    }

    static let accessToken = PreparedStatement("inbox_access_token", """
        SELECT coalesce(credentials->>'channelAccessToken', credentials->>'pageAccessToken') AS access_token
          FROM channel_accounts WHERE tenant_id = $1 AND id = $2
        """)

    public func accessToken(tenantID: UUID, channelAccountID: UUID?) throws -> String? {
        guard let channelAccountID else { return nil }
        return try connection.query(Self.accessToken, [tenantID, channelAccountID]).first?["access_token"] ?? nil
    }

    /// The image's columns, and its metadata without `mediaStatus` plus any error; only while the message waits.
    static let attachLineImage = PreparedStatement("inbox_attach_line_image", """
        WITH attached AS (
            UPDATE messages m
               SET media_url = $3, preview_url = $4, mime_type = $5, file_size_bytes = $6, width = $7, height = $8,
                   metadata = (m.metadata - 'mediaStatus') || $9::jsonb
             WHERE m.tenant_id = $1 AND m.channel = 'LINE' AND m.direction = 'INBOUND' AND m.provider_message_id = $2
               AND m.metadata->>'mediaStatus' = 'pending'
            RETURNING m.id, m.conversation_id
        )
        SELECT a.id AS message_id, a.conversation_id, c.lead_id
          FROM attached a JOIN conversations c ON c.tenant_id = $1 AND c.id = a.conversation_id
         LIMIT 1
        """)

    public func attachLineImage(tenantID: UUID, lineMessageID: String, media: InboundMedia) throws -> InboundRecord? {
        var errors: [String: String] = [:]
        errors["mediaError"] = media.error
        errors["mediaErrorReason"] = media.errorReason
        guard let row = try connection.query(Self.attachLineImage, [
            tenantID, lineMessageID, media.mediaURL, media.previewURL, media.mimeType, media.sizeBytes, media.width,
            media.height, try PostgresJSON(encoding: errors),
        ]).first else { return nil }
        return InboundRecord(conversationID: try row.decode("conversation_id"), leadID: try row.decode("lead_id"),
                             messageID: try row.decode("message_id"), inserted: false)
    }

    static let commentTextPending = PreparedStatement("inbox_comment_text_pending", """
        SELECT EXISTS (SELECT 1 FROM messages
                        WHERE tenant_id = $1 AND channel = 'FACEBOOK' AND direction = 'INBOUND' AND provider_message_id = $2
                          AND metadata->>'textStatus' = 'pending') AS pending
        """)

    public func commentTextPending(tenantID: UUID, commentID: String) throws -> Bool {
        try connection.query(Self.commentTextPending, [tenantID, commentID]).first?.decode("pending") ?? false
    }

    /// The text (when there is one) and the metadata without `textStatus`, while the message waits; the preview
    /// follows when the comment is still the thread's newest message.
    static let attachCommentText = PreparedStatement("inbox_attach_comment_text", """
        WITH attached AS (
            UPDATE messages m
               SET content = coalesce($3, m.content), metadata = m.metadata - 'textStatus'
             WHERE m.tenant_id = $1 AND m.channel = 'FACEBOOK' AND m.direction = 'INBOUND' AND m.provider_message_id = $2
               AND m.metadata->>'textStatus' = 'pending'
            RETURNING m.id, m.conversation_id, m.created_at
        ), previewed AS (
            UPDATE conversations c
               SET last_message_preview = left($3, 120)
              FROM attached a
             WHERE $3 IS NOT NULL AND c.tenant_id = $1 AND c.id = a.conversation_id
               AND c.last_message_at = a.created_at AND c.last_message_direction = 'INBOUND'
            RETURNING c.id
        )
        SELECT a.id AS message_id, a.conversation_id, c.lead_id
          FROM attached a JOIN conversations c ON c.tenant_id = $1 AND c.id = a.conversation_id
         LIMIT 1
        """)

    public func attachCommentText(tenantID: UUID, commentID: String, text: String?) throws -> InboundRecord? {
        guard let row = try connection.query(Self.attachCommentText, [tenantID, commentID, text]).first else { return nil }
        return InboundRecord(conversationID: try row.decode("conversation_id"), leadID: try row.decode("lead_id"),
                             messageID: try row.decode("message_id"), inserted: false)
    }

    public func markProcessed(event: StoredWebhookEvent, note: String?) throws {
        try connection.query(Self.markProcessed, [event.id, note])
    }

    static let markProcessed = PreparedStatement("inbox_mark_processed", """
        UPDATE webhook_events SET processed_at = coalesce(processed_at, clock_timestamp()), last_error = $2 WHERE id = $1
        """)
}
