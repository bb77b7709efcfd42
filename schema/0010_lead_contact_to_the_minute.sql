-- 0010_lead_contact_to_the_minute: an inbound message reads its lead instead of writing it.
--
-- Every inbound message moved its lead's last_contact_at, and the update trigger its updated_at, which four lead
-- list indexes include: each message wrote a new lead row version and five index entries. With
-- pg_stat_statements at 500 events/s that upsert was the largest single statement of recording a message
-- (0.18 ms of 1.2 ms). A lead's last contact is now kept to the minute: a message less than a minute after the
-- recorded last contact only reads the lead (the conversation's last_inbound_at stays exact to the message), so a
-- customer who writes ten messages in a minute moves their lead once. A lead that lacks a name or contact the event
-- brings is still written at once. The function keeps its signature and results.

CREATE OR REPLACE FUNCTION hubchat_upsert_inbound_party(
    p_tenant uuid, p_channel text, p_external_user_id text, p_channel_account uuid,
    p_name text, p_image text, p_profile_fetched boolean, p_at timestamptz,
    OUT identity_id uuid, OUT contact_id uuid, OUT lead_id uuid)
LANGUAGE plpgsql AS $$
DECLARE
    v_name  text := nullif(btrim(p_name), '');
    v_image text := nullif(btrim(p_image), '');
    v_known record;
BEGIN
    -- A known identity is only read, unless the event brings something it lacks (a name, a picture, a fetched
    -- profile, its channel account).
    SELECT i.id, i.contact_id, i.display_name, i.profile_image_url, i.channel_account_id INTO v_known
      FROM contact_identities i
     WHERE i.tenant_id = p_tenant AND i.channel = p_channel AND i.external_user_id = p_external_user_id;
    IF FOUND AND (v_name IS NULL OR v_name = v_known.display_name)
             AND (v_image IS NULL OR v_image = v_known.profile_image_url)
             AND NOT p_profile_fetched
             AND (v_known.channel_account_id IS NOT NULL OR p_channel_account IS NULL) THEN
        identity_id := v_known.id;
        contact_id := v_known.contact_id;
    ELSE
        INSERT INTO contact_identities AS i (tenant_id, contact_id, channel, external_user_id, channel_account_id,
                                             display_name, profile_image_url, profile_fetched_at)
        VALUES (p_tenant, gen_random_uuid(), p_channel, p_external_user_id, p_channel_account, v_name, v_image,
                CASE WHEN p_profile_fetched THEN now() END)
        ON CONFLICT ON CONSTRAINT contact_identities_identity_key DO UPDATE
           SET display_name = coalesce(EXCLUDED.display_name, i.display_name),
               profile_image_url = coalesce(EXCLUDED.profile_image_url, i.profile_image_url),
               profile_fetched_at = coalesce(EXCLUDED.profile_fetched_at, i.profile_fetched_at),
               channel_account_id = coalesce(i.channel_account_id, EXCLUDED.channel_account_id)
        RETURNING i.id, i.contact_id INTO identity_id, contact_id;

        INSERT INTO contacts AS c (id, tenant_id, display_name, profile_image_url)
        VALUES (contact_id, p_tenant, v_name, v_image)
        ON CONFLICT (id) DO UPDATE
           SET display_name = coalesce(EXCLUDED.display_name, c.display_name),
               profile_image_url = coalesce(EXCLUDED.profile_image_url, c.profile_image_url)
         WHERE EXCLUDED.display_name IS NOT NULL OR EXCLUDED.profile_image_url IS NOT NULL;
    END IF;

    -- A known lead is only read while its last contact is less than a minute behind this event and it lacks
    -- nothing the event brings. Otherwise the last contact moves forward (never back) and fills what is missing.
    SELECT l.id INTO lead_id FROM leads l
     WHERE l.tenant_id = p_tenant AND l.source_channel = p_channel AND l.external_user_id = p_external_user_id
       AND l.last_contact_at > p_at - interval '1 minute'
       AND (l.name IS NOT NULL OR v_name IS NULL) AND l.contact_id IS NOT NULL;
    IF FOUND THEN
        RETURN;
    END IF;
    INSERT INTO leads AS l (tenant_id, contact_id, source_channel, external_user_id, name, last_contact_at)
    VALUES (p_tenant, contact_id, p_channel, p_external_user_id, v_name, p_at)
    ON CONFLICT ON CONSTRAINT leads_source_key DO UPDATE
       SET last_contact_at = greatest(l.last_contact_at, EXCLUDED.last_contact_at),
           name = coalesce(l.name, EXCLUDED.name),
           contact_id = coalesce(l.contact_id, EXCLUDED.contact_id)
     WHERE l.last_contact_at IS NULL OR EXCLUDED.last_contact_at > l.last_contact_at
        OR (l.name IS NULL AND EXCLUDED.name IS NOT NULL) OR l.contact_id IS NULL
    RETURNING l.id INTO lead_id;
    IF lead_id IS NULL THEN
        SELECT l.id INTO lead_id FROM leads l
         WHERE l.tenant_id = p_tenant AND l.source_channel = p_channel AND l.external_user_id = p_external_user_id;
    END IF;
END
$$;
