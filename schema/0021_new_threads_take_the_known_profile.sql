-- 0021_new_threads_take_the_known_profile: a conversation that starts after its customer's profile was looked up
-- shows the customer's name and picture.
--
-- LINE events carry no name: the worker looks the profile up after a follow, a group join or a message, and writes
-- it onto the identity, contact, lead and the identity's conversations. A follow (or join) comes before the first
-- message, so its lookup named everything but the conversation, which did not exist yet; the message then created
-- the conversation from the event alone (no name), and its own lookup was skipped as recent. The conversation showed
-- no name until the profile's refresh interval had passed and the customer wrote again. A new thread now takes the
-- identity's name and picture when the event brings none. (0016's function otherwise unchanged.)

SELECT set_config('hubchat.scope', 'system', true);

CREATE OR REPLACE FUNCTION hubchat_record_inbound_message(
    p_tenant uuid, p_channel text, p_external_user_id text, p_channel_account uuid,
    p_name text, p_image text, p_profile_fetched boolean, p_at timestamptz,
    p_thread text, p_thread_type text, p_page text, p_post text, p_comment text,
    p_message_type text, p_content text, p_media_url text, p_provider_message_id text, p_metadata jsonb,
    p_raw_payload jsonb, p_webhook_event uuid, p_source_event_id text,
    p_preview_url text, p_mime_type text, p_size bigint, p_width integer, p_height integer, p_reply_token text,
    OUT conversation_id uuid, OUT lead_id uuid, OUT message_id uuid)
LANGUAGE plpgsql AS $$
DECLARE
    v_party record;
    v_conversation record;
    v_name  text := nullif(btrim(p_name), '');
    v_image text := nullif(btrim(p_image), '');
    v_agent uuid;
    v_known_thread boolean;
BEGIN
    SELECT * INTO v_party
      FROM hubchat_upsert_inbound_party(p_tenant, p_channel, p_external_user_id, p_channel_account, p_name, p_image,
                                         p_profile_fetched, p_at);
    lead_id := v_party.lead_id;

    -- A known conversation is only read, unless the event brings a name or picture it does not show yet. The
    -- thread is the channel account's (0009).
    SELECT cv.id, cv.participant_display_name, cv.participant_profile_image_url INTO v_conversation
      FROM conversations cv
     WHERE cv.tenant_id = p_tenant AND cv.channel = p_channel
       AND cv.channel_account_id IS NOT DISTINCT FROM p_channel_account AND cv.channel_thread_id = p_thread;
    v_known_thread := FOUND;
    IF v_known_thread AND (v_name IS NULL OR v_name = v_conversation.participant_display_name)
             AND (v_image IS NULL OR v_image = v_conversation.participant_profile_image_url) THEN
        conversation_id := v_conversation.id;
    ELSE
        -- A new thread belongs to whoever the lead is assigned to. FOR SHARE waits for an assignment in progress
        -- (it locks the lead FOR NO KEY UPDATE) and then reads its result; an assignment that starts later waits
        -- for this transaction and then finds the new conversation. Only a thread not seen before takes the lock.
        IF NOT v_known_thread THEN
            SELECT l.assigned_sales_id INTO v_agent FROM leads l
             WHERE l.tenant_id = p_tenant AND l.id = v_party.lead_id FOR SHARE;
            -- A new thread shows what is known of its customer when the event brings no name or picture (0021).
            SELECT coalesce(v_name, i.display_name), coalesce(v_image, i.profile_image_url) INTO v_name, v_image
              FROM contact_identities i WHERE i.id = v_party.identity_id;
        END IF;
        INSERT INTO conversations AS cv (tenant_id, lead_id, contact_id, contact_identity_id, channel_account_id, channel,
                                         channel_thread_id, participant_display_name, participant_profile_image_url,
                                         last_message_at, provider_thread_type, provider_page_id, provider_post_id,
                                         provider_comment_id, provider_external_user_id, assigned_agent_id)
        VALUES (p_tenant, v_party.lead_id, v_party.contact_id, v_party.identity_id, p_channel_account, p_channel,
                p_thread, v_name, v_image, p_at, p_thread_type, p_page, p_post,
                p_comment, p_external_user_id, v_agent)
        ON CONFLICT ON CONSTRAINT conversations_thread_key DO UPDATE
           SET participant_display_name = coalesce(EXCLUDED.participant_display_name, cv.participant_display_name),
               participant_profile_image_url = coalesce(EXCLUDED.participant_profile_image_url,
                                                        cv.participant_profile_image_url)
        RETURNING cv.id INTO conversation_id;
    END IF;

    INSERT INTO messages (tenant_id, conversation_id, channel, direction, sender_type, message_type, content,
                          media_url, delivery_status, provider_message_id, metadata, raw_payload, webhook_event_id,
                          source_event_id, created_at, preview_url, mime_type, file_size_bytes, width, height)
    VALUES (p_tenant, conversation_id, p_channel, 'INBOUND', 'CUSTOMER', p_message_type, p_content, p_media_url,
            'RECEIVED', p_provider_message_id, p_metadata, p_raw_payload, p_webhook_event, p_source_event_id, p_at,
            p_preview_url, p_mime_type, p_size, p_width, p_height)
    ON CONFLICT ON CONSTRAINT messages_source_event_key DO NOTHING
    RETURNING id INTO message_id;

    IF message_id IS NOT NULL THEN
        UPDATE conversations
           SET unread_count = unread_count + 1,
               last_message_preview = CASE WHEN p_at >= last_message_at THEN left(p_content, 120)
                                           ELSE last_message_preview END,
               last_message_type = CASE WHEN p_at >= last_message_at THEN p_message_type ELSE last_message_type END,
               last_message_direction = CASE WHEN p_at >= last_message_at THEN 'INBOUND' ELSE last_message_direction END,
               last_message_at = greatest(last_message_at, p_at),
               last_inbound_at = greatest(last_inbound_at, p_at),
               line_reply_token = coalesce(p_reply_token, line_reply_token),
               line_reply_token_received_at = CASE WHEN p_reply_token IS NULL THEN line_reply_token_received_at
                                                   ELSE now() END,
               status = CASE WHEN status = 'CLOSED' THEN 'OPEN' ELSE status END
         WHERE id = conversation_id;

        INSERT INTO activity_logs (tenant_id, lead_id, conversation_id, message_id, actor_type, type, metadata)
        VALUES (p_tenant, v_party.lead_id, conversation_id, message_id, 'CUSTOMER', 'MESSAGE_RECEIVED',
                jsonb_build_object('channel', p_channel, 'messageType', p_message_type));
    END IF;

    UPDATE webhook_events SET processed_at = coalesce(processed_at, clock_timestamp()), last_error = NULL
     WHERE id = p_webhook_event;
END
$$;
