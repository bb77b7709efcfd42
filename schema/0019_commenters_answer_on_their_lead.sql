-- 0019_commenters_answer_on_their_lead: a commenter who answers a Private Reply in Messenger stays on their lead.
--
-- A comment's author is keyed by the id the feed gives (or `comment:<id>`), a Messenger sender by their PSID, which
-- Meta names only in its answer to the Private Reply. The customer's Messenger answer therefore made a second
-- customer: a new identity, a NEW lead (counted in the pipeline, unassigned) and a second conversation, while the
-- agent's thread kept writing to the same PSID and never showed the answers.
--
-- When the Private Reply names the PSID (PostgresDeliveryStore.markPrivateReplySent), the comment's conversation now
-- moves to the PSID's thread, where Messenger events are filed, and the PSID gets an identity of the commenter's
-- contact that points at the commenter's lead (contact_identities.lead_id). The party upsert below follows that
-- pointer instead of keying a lead on the PSID. A customer the tenant already knows by that PSID (an earlier DM, a
-- Get Started postback) keeps their own thread and lead: neither moves, as before.
--
-- Cost on the inbound path: the identity row the function already reads carries one more column; only a linked
-- identity takes the new branch.

SELECT set_config('hubchat.scope', 'system', true);

ALTER TABLE contact_identities ADD COLUMN lead_id uuid;
ALTER TABLE contact_identities ADD CONSTRAINT contact_identities_lead_fkey FOREIGN KEY (tenant_id, lead_id)
    REFERENCES leads (tenant_id, id) ON DELETE SET NULL (lead_id);
COMMENT ON COLUMN contact_identities.lead_id IS
    'The lead this identity answers to when it is not the lead''s own key (a commenter''s PSID after a Private Reply); NULL: the lead keyed on (channel, external_user_id).';

CREATE OR REPLACE FUNCTION hubchat_upsert_inbound_party(
    p_tenant uuid, p_channel text, p_external_user_id text, p_channel_account uuid,
    p_name text, p_image text, p_profile_fetched boolean, p_at timestamptz,
    OUT identity_id uuid, OUT contact_id uuid, OUT lead_id uuid)
LANGUAGE plpgsql AS $$
DECLARE
    v_name  text := nullif(btrim(p_name), '');
    v_image text := nullif(btrim(p_image), '');
    v_known record;
    v_linked_lead uuid;
BEGIN
    -- A known identity is only read, unless the event brings something it lacks (a name, a picture, a fetched
    -- profile, its channel account).
    SELECT i.id, i.contact_id, i.display_name, i.profile_image_url, i.channel_account_id, i.lead_id INTO v_known
      FROM contact_identities i
     WHERE i.tenant_id = p_tenant AND i.channel = p_channel AND i.external_user_id = p_external_user_id;
    IF FOUND AND (v_name IS NULL OR v_name = v_known.display_name)
             AND (v_image IS NULL OR v_image = v_known.profile_image_url)
             AND NOT p_profile_fetched
             AND (v_known.channel_account_id IS NOT NULL OR p_channel_account IS NULL) THEN
        identity_id := v_known.id;
        contact_id := v_known.contact_id;
        v_linked_lead := v_known.lead_id;
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
        RETURNING i.id, i.contact_id, i.lead_id INTO identity_id, contact_id, v_linked_lead;

        INSERT INTO contacts AS c (id, tenant_id, display_name, profile_image_url)
        VALUES (contact_id, p_tenant, v_name, v_image)
        ON CONFLICT (id) DO UPDATE
           SET display_name = coalesce(EXCLUDED.display_name, c.display_name),
               profile_image_url = coalesce(EXCLUDED.profile_image_url, c.profile_image_url)
         WHERE EXCLUDED.display_name IS NOT NULL OR EXCLUDED.profile_image_url IS NOT NULL;
    END IF;

    -- An identity linked to a lead keyed on another id (a commenter's PSID) is that lead's, kept to the minute and
    -- filled like any other.
    IF v_linked_lead IS NOT NULL THEN
        lead_id := v_linked_lead;
        UPDATE leads l
           SET last_contact_at = greatest(l.last_contact_at, p_at), name = coalesce(l.name, v_name)
         WHERE l.tenant_id = p_tenant AND l.id = v_linked_lead
           AND (l.last_contact_at IS NULL OR l.last_contact_at <= p_at - interval '1 minute'
                OR (l.name IS NULL AND v_name IS NOT NULL));
        RETURN;
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

-- Comment threads already answered by a Private Reply that named a PSID nobody else holds: moved and linked the
-- same way. (A customer whose answer already made a second lead keeps both: merging leads is an agent's call.)
WITH first_answered AS (
    -- One PSID, one thread: of two comment threads answered to the same customer, the earliest moves.
    SELECT DISTINCT ON (c.tenant_id, c.provider_external_user_id) c.id, c.tenant_id
      FROM conversations c
     WHERE c.channel = 'FACEBOOK' AND c.provider_thread_type = 'FACEBOOK_COMMENT' AND c.private_reply_sent_at IS NOT NULL
       AND c.contact_id IS NOT NULL AND c.provider_external_user_id IS NOT NULL
       AND c.provider_external_user_id NOT LIKE 'comment:%'
     ORDER BY c.tenant_id, c.provider_external_user_id, c.private_reply_sent_at, c.id
), moved AS (
    UPDATE conversations c
       SET channel_thread_id = c.provider_external_user_id
      FROM first_answered f
     WHERE c.tenant_id = f.tenant_id AND c.id = f.id
       AND c.channel_thread_id IS DISTINCT FROM c.provider_external_user_id
       AND NOT EXISTS (SELECT 1 FROM conversations o WHERE o.tenant_id = c.tenant_id AND o.channel = c.channel
                                                       AND o.channel_thread_id = c.provider_external_user_id)
       AND NOT EXISTS (SELECT 1 FROM contact_identities i WHERE i.tenant_id = c.tenant_id AND i.channel = c.channel
                                                            AND i.external_user_id = c.provider_external_user_id)
    RETURNING c.tenant_id, c.contact_id, c.channel, c.provider_external_user_id, c.channel_account_id, c.lead_id
)
INSERT INTO contact_identities (tenant_id, contact_id, channel, external_user_id, channel_account_id, lead_id)
SELECT tenant_id, contact_id, channel, provider_external_user_id, channel_account_id, lead_id FROM moved;
