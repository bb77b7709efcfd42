-- 0018_departures_touch_no_lead: a customer who leaves is logged on the lead they have, and makes none.
--
-- Every activity went through the party upsert, so an unfollow (a block), the bot's removal from a group or a
-- member leaving one made a lead for someone HubChat had never heard from (a nameless NEW lead, counted in the
-- pipeline, with nothing to answer), and for a known customer moved the lead's last contact to the moment they
-- left. A departure now only reads the lead: logged when there is one, nothing at all when there is none. Other
-- activity (follow, postback, joins) records the party as before: those customers did reach out. The function
-- keeps its signature and results (a NULL lead_id when a departure found none).

CREATE OR REPLACE FUNCTION hubchat_record_inbound_activity(
    p_tenant uuid, p_channel text, p_external_user_id text, p_channel_account uuid, p_at timestamptz,
    p_kind text, p_metadata jsonb, p_webhook_event uuid,
    OUT lead_id uuid)
LANGUAGE plpgsql AS $$
BEGIN
    IF p_kind IN ('UNFOLLOW', 'LEAVE', 'MEMBER_LEFT') THEN
        SELECT l.id INTO lead_id FROM leads l
         WHERE l.tenant_id = p_tenant AND l.source_channel = p_channel AND l.external_user_id = p_external_user_id;
    ELSE
        SELECT p.lead_id INTO lead_id
          FROM hubchat_upsert_inbound_party(p_tenant, p_channel, p_external_user_id, p_channel_account, NULL, NULL,
                                             false, p_at) p;
    END IF;
    IF lead_id IS NOT NULL THEN
        INSERT INTO activity_logs (tenant_id, lead_id, actor_type, type, metadata)
        SELECT p_tenant, lead_id, 'CUSTOMER', p_kind, p_metadata
         WHERE NOT EXISTS (SELECT 1 FROM activity_logs a
                            WHERE a.tenant_id = p_tenant AND a.lead_id = hubchat_record_inbound_activity.lead_id
                              AND a.metadata->>'webhookEventId' = p_webhook_event::text);
    END IF;
    UPDATE webhook_events SET processed_at = coalesce(processed_at, clock_timestamp()), last_error = NULL
     WHERE id = p_webhook_event;
END
$$;
