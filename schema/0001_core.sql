-- 0001_core: tenants, people and the inbox (agents, channel accounts, contacts, identities, leads,
-- conversations, messages, activity).
--
-- Conventions used by every migration in this directory (see schema/README.md):
--   * ids are uuid DEFAULT gen_random_uuid() (built in since PG13; no extension needed, Supabase-safe);
--   * every business table has tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE;
--   * parents expose UNIQUE (tenant_id, id) and children reference (tenant_id, x_id) → parent(tenant_id, id), so a row
--     can never point at another tenant's row, whatever the application forgets;
--   * closed vocabularies are text + CHECK (one ALTER to evolve; no enum-type migrations, libpq sees plain text);
--   * timestamps are timestamptz; created_at DEFAULT now(); updated_at kept by set_updated_at();
--   * every foreign key has an index that starts with its columns, so cascades (e.g. deleting a tenant) never
--     seq-scan a child table once per parent row.
-- No BEGIN/COMMIT here: `hubchat migrate` wraps each file in its own transaction.

-- One trigger function for every updated_at column.
-- An UPDATE that sets updated_at explicitly keeps that value (seeding, backfills); an UPDATE that changes nothing
-- (e.g. an idempotent upsert re-run by a retried job) leaves updated_at alone, so it does not reorder the
-- "newest first" keyset lists that sort on it.
CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at AND NEW IS DISTINCT FROM OLD THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
$$;

-- ---------------------------------------------------------------------------------------------------------------
-- tenants
-- ---------------------------------------------------------------------------------------------------------------
CREATE TABLE tenants (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text        NOT NULL CHECK (btrim(name) <> ''),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER tenants_set_updated_at BEFORE UPDATE ON tenants
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- ---------------------------------------------------------------------------------------------------------------
-- sales_agents: membership and role come from an ACTIVE row for (tenant, token email).
-- ---------------------------------------------------------------------------------------------------------------
CREATE TABLE sales_agents (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid        NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name        text        NOT NULL CHECK (btrim(name) <> ''),
    -- Stored lower-cased so (tenant, email) is unique case-insensitively with a plain index;
    -- look up with email = lower($1).
    email       text        NOT NULL CHECK (email <> '' AND email = lower(btrim(email))),
    role        text        NOT NULL DEFAULT 'SALES'  CHECK (role IN ('SALES', 'MANAGER', 'ADMIN')),
    status      text        NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'INACTIVE')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sales_agents_tenant_id_id_key    UNIQUE (tenant_id, id),
    CONSTRAINT sales_agents_tenant_id_email_key UNIQUE (tenant_id, email)
);
CREATE TRIGGER sales_agents_set_updated_at BEFORE UPDATE ON sales_agents
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- ---------------------------------------------------------------------------------------------------------------
-- channel_accounts: which LINE channel / Facebook page / Instagram account belongs to which tenant.
-- ---------------------------------------------------------------------------------------------------------------
CREATE TABLE channel_accounts (
    id                   uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id            uuid        NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    channel              text        NOT NULL CHECK (channel IN ('LINE', 'FACEBOOK', 'INSTAGRAM')),
    -- The id a webhook names: LINE `destination` (the bot's user id), Facebook page id, Instagram account id.
    external_account_id  text        NOT NULL CHECK (external_account_id <> ''),
    display_name         text,
    -- SECRET. e.g. {"channelSecret", "channelAccessToken"} for LINE, {"appSecret", "pageAccessToken",
    -- "verifyToken"} for Meta. Never log this column, never return it from the API, never put it in a
    -- queue/outbox payload: load it by channel account id where it is needed.
    credentials          jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(credentials) = 'object'),
    metadata             jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    is_active            boolean     NOT NULL DEFAULT true,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    -- Global, not per tenant: a webhook names the account, and the account resolves the tenant. Also the lookup
    -- index for that resolution (WHERE channel = $1 AND external_account_id = $2).
    CONSTRAINT channel_accounts_channel_external_account_id_key UNIQUE (channel, external_account_id),
    CONSTRAINT channel_accounts_tenant_id_id_key                UNIQUE (tenant_id, id),
    -- Target for children that must also agree on the channel (conversations, identities, webhook events).
    CONSTRAINT channel_accounts_tenant_id_id_channel_key        UNIQUE (tenant_id, id, channel)
);
COMMENT ON COLUMN channel_accounts.credentials IS
    'Provider secrets and tokens. Must never be logged or returned by the API.';
-- "The active account of this tenant for this channel" (outbound, single-tenant default account).
CREATE INDEX channel_accounts_tenant_channel_active_idx
    ON channel_accounts (tenant_id, channel) WHERE is_active;
CREATE TRIGGER channel_accounts_set_updated_at BEFORE UPDATE ON channel_accounts
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- ---------------------------------------------------------------------------------------------------------------
-- contacts: the person, across channels.
-- ---------------------------------------------------------------------------------------------------------------
CREATE TABLE contacts (
    id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id          uuid        NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    display_name       text,
    phone              text,
    email              text,
    profile_image_url  text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT contacts_tenant_id_id_key UNIQUE (tenant_id, id)
);
CREATE TRIGGER contacts_set_updated_at BEFORE UPDATE ON contacts
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- ---------------------------------------------------------------------------------------------------------------
-- contact_identities: one per (channel, external user id) — LINE userId, page-scoped PSID, IGSID.
-- ---------------------------------------------------------------------------------------------------------------
CREATE TABLE contact_identities (
    id                  uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id           uuid        NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    contact_id          uuid        NOT NULL,
    channel             text        NOT NULL CHECK (channel IN ('LINE', 'FACEBOOK', 'INSTAGRAM')),
    external_user_id    text        NOT NULL CHECK (external_user_id <> ''),
    channel_account_id  uuid,
    display_name        text,
    profile_image_url   text,
    profile             jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(profile) = 'object'),
    -- When the provider profile (LINE profile API, Graph name/profile_pic) was last fetched: the cache that keeps
    -- one user from being looked up for every message. NULL = never fetched.
    profile_fetched_at  timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT contact_identities_tenant_id_id_key UNIQUE (tenant_id, id),
    -- The find-or-create key: INSERT ... ON CONFLICT ON CONSTRAINT contact_identities_identity_key.
    CONSTRAINT contact_identities_identity_key UNIQUE (tenant_id, channel, external_user_id),
    -- DEFERRABLE INITIALLY DEFERRED so a worker can race-free "insert the identity first (ON CONFLICT DO UPDATE
    -- ... RETURNING contact_id, xmax = 0 AS inserted) with a fresh contact id, then insert that contact only if the
    -- identity row is new" — checked at commit.
    CONSTRAINT contact_identities_contact_fkey FOREIGN KEY (tenant_id, contact_id)
        REFERENCES contacts (tenant_id, id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT contact_identities_channel_account_fkey FOREIGN KEY (tenant_id, channel_account_id, channel)
        REFERENCES channel_accounts (tenant_id, id, channel) ON DELETE SET NULL (channel_account_id)
);
CREATE INDEX contact_identities_contact_idx ON contact_identities (tenant_id, contact_id);
CREATE INDEX contact_identities_channel_account_idx
    ON contact_identities (tenant_id, channel_account_id) WHERE channel_account_id IS NOT NULL;
CREATE TRIGGER contact_identities_set_updated_at BEFORE UPDATE ON contact_identities
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- ---------------------------------------------------------------------------------------------------------------
-- leads: one per (source channel, external user); status moves through the lifecycle (guarded in 0004).
-- ---------------------------------------------------------------------------------------------------------------
CREATE TABLE leads (
    id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id          uuid        NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    contact_id         uuid,
    source_channel     text        NOT NULL CHECK (source_channel IN ('LINE', 'FACEBOOK', 'INSTAGRAM')),
    external_user_id   text        NOT NULL CHECK (external_user_id <> ''),
    name               text,
    phone              text,
    email              text,
    status             text        NOT NULL DEFAULT 'NEW' CHECK (status IN (
                           'NEW', 'ASSIGNED', 'CONTACTED', 'QUALIFIED', 'PROPOSAL_SENT', 'NEGOTIATION', 'WON', 'LOST')),
    status_changed_at  timestamptz NOT NULL DEFAULT now(),
    assigned_sales_id  uuid,
    assigned_at        timestamptz,
    tags               text[]      NOT NULL DEFAULT '{}' CHECK (array_position(tags, NULL) IS NULL),
    score              integer     NOT NULL DEFAULT 0,
    last_contact_at    timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT leads_tenant_id_id_key UNIQUE (tenant_id, id),
    -- The find-or-create key for inbound: INSERT ... ON CONFLICT ON CONSTRAINT leads_source_key.
    CONSTRAINT leads_source_key UNIQUE (tenant_id, source_channel, external_user_id),
    CONSTRAINT leads_contact_fkey FOREIGN KEY (tenant_id, contact_id)
        REFERENCES contacts (tenant_id, id) ON DELETE SET NULL (contact_id),
    -- The agent must belong to the same tenant. SET NULL (column list, PG15+) clears only the agent, not tenant_id.
    CONSTRAINT leads_assigned_sales_fkey FOREIGN KEY (tenant_id, assigned_sales_id)
        REFERENCES sales_agents (tenant_id, id) ON DELETE SET NULL (assigned_sales_id)
);
-- Keyset list (updated_at DESC, id DESC), unfiltered and per filter.
CREATE INDEX leads_list_idx         ON leads (tenant_id, updated_at DESC, id DESC);
CREATE INDEX leads_status_list_idx  ON leads (tenant_id, status, updated_at DESC, id DESC);
CREATE INDEX leads_channel_list_idx ON leads (tenant_id, source_channel, updated_at DESC, id DESC);
-- Filter by assigned agent; INCLUDE (status) lets the per-agent dashboard counts run index-only. Also serves the
-- agent foreign key.
CREATE INDEX leads_assigned_list_idx ON leads (tenant_id, assigned_sales_id, updated_at DESC, id DESC)
    INCLUDE (status) WHERE assigned_sales_id IS NOT NULL;
CREATE INDEX leads_contact_idx ON leads (tenant_id, contact_id) WHERE contact_id IS NOT NULL;
CREATE TRIGGER leads_set_updated_at BEFORE UPDATE ON leads
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- ---------------------------------------------------------------------------------------------------------------
-- conversations: one provider thread. channel_thread_id is LINE userId/groupId/roomId, `user:<PSID>` (Messenger),
-- `comment:<commentId>` (Facebook comment origin), `ig:user:<IGSID>` (Instagram).
-- ---------------------------------------------------------------------------------------------------------------
CREATE TABLE conversations (
    id                              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id                       uuid        NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    lead_id                         uuid        NOT NULL,
    contact_id                      uuid,
    contact_identity_id             uuid,
    channel_account_id              uuid,
    channel                         text        NOT NULL CHECK (channel IN ('LINE', 'FACEBOOK', 'INSTAGRAM')),
    channel_thread_id               text        NOT NULL CHECK (channel_thread_id <> ''),
    status                          text        NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'PENDING', 'CLOSED')),
    assigned_agent_id               uuid,
    -- Snapshot of the customer as the provider last showed them (the list needs no extra calls).
    participant_display_name        text,
    participant_profile_image_url   text,
    -- NOT NULL (defaults to creation time) so the keyset order never has to deal with NULLs.
    last_message_at                 timestamptz NOT NULL DEFAULT now(),
    last_message_preview            text,
    last_message_type               text        CHECK (last_message_type IN (
                                        'TEXT', 'IMAGE', 'DOCUMENT_PDF', 'STICKER', 'VIDEO', 'AUDIO', 'FILE',
                                        'LOCATION', 'UNSUPPORTED')),
    last_message_direction          text        CHECK (last_message_direction IN ('INBOUND', 'OUTBOUND')),
    unread_count                    integer     NOT NULL DEFAULT 0 CHECK (unread_count >= 0),
    last_read_at                    timestamptz,
    -- The customer's last message: Meta's 24 h standard / 7 d HUMAN_AGENT messaging window starts here.
    last_inbound_at                 timestamptz,
    last_outbound_at                timestamptz,
    -- LINE's latest reply token (short-lived, single use; a reply is free, a push is not) and when it arrived.
    -- Consume it atomically (UPDATE ... SET line_reply_token = NULL ... RETURNING the old value) so two sends
    -- never use the same token.
    line_reply_token                text,
    line_reply_token_received_at    timestamptz,
    closed_at                       timestamptz,
    -- Facebook comment origin. A FACEBOOK_COMMENT thread is answered first by a Private Reply (text only, once,
    -- within 7 days), then a one-time public reply, then it is converted to Messenger DM.
    provider_thread_type            text        CHECK (provider_thread_type IN ('MESSENGER_DM', 'FACEBOOK_COMMENT')),
    provider_page_id                text,
    provider_post_id                text,
    provider_comment_id             text,
    provider_external_user_id       text,
    private_reply_sent_at           timestamptz,
    private_reply_comment_id        text,
    public_reply_sent_at            timestamptz,
    converted_to_dm_at              timestamptz,
    created_at                      timestamptz NOT NULL DEFAULT now(),
    updated_at                      timestamptz NOT NULL DEFAULT now(),
    -- A comment-origin thread without its comment id could never be answered.
    CONSTRAINT conversations_comment_has_id_check
        CHECK (provider_thread_type IS DISTINCT FROM 'FACEBOOK_COMMENT' OR provider_comment_id IS NOT NULL),
    -- Find-or-create key; also what makes the comment → DM switch collide instead of duplicating a thread.
    CONSTRAINT conversations_thread_key UNIQUE (tenant_id, channel, channel_thread_id),
    -- FK target for messages, which must agree on tenant AND channel (messages.channel is denormalised for the
    -- dashboard's per-channel counts; this keeps it honest).
    CONSTRAINT conversations_tenant_id_id_channel_key UNIQUE (tenant_id, id, channel),
    CONSTRAINT conversations_lead_fkey FOREIGN KEY (tenant_id, lead_id)
        REFERENCES leads (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT conversations_contact_fkey FOREIGN KEY (tenant_id, contact_id)
        REFERENCES contacts (tenant_id, id) ON DELETE SET NULL (contact_id),
    CONSTRAINT conversations_contact_identity_fkey FOREIGN KEY (tenant_id, contact_identity_id)
        REFERENCES contact_identities (tenant_id, id) ON DELETE SET NULL (contact_identity_id),
    CONSTRAINT conversations_channel_account_fkey FOREIGN KEY (tenant_id, channel_account_id, channel)
        REFERENCES channel_accounts (tenant_id, id, channel) ON DELETE SET NULL (channel_account_id),
    CONSTRAINT conversations_assigned_agent_fkey FOREIGN KEY (tenant_id, assigned_agent_id)
        REFERENCES sales_agents (tenant_id, id) ON DELETE SET NULL (assigned_agent_id)
);
-- Keyset list (last_message_at DESC, id DESC), unfiltered and per filter (status, channel, assigned agent).
CREATE INDEX conversations_list_idx         ON conversations (tenant_id, last_message_at DESC, id DESC);
CREATE INDEX conversations_status_list_idx  ON conversations (tenant_id, status, last_message_at DESC, id DESC);
CREATE INDEX conversations_channel_list_idx ON conversations (tenant_id, channel, last_message_at DESC, id DESC);
CREATE INDEX conversations_assigned_list_idx
    ON conversations (tenant_id, assigned_agent_id, last_message_at DESC, id DESC)
    WHERE assigned_agent_id IS NOT NULL;
-- A lead's threads (dashboard groups per lead + platform); also the lead FK.
CREATE INDEX conversations_lead_idx ON conversations (tenant_id, lead_id, last_message_at DESC);
CREATE INDEX conversations_contact_idx
    ON conversations (tenant_id, contact_id) WHERE contact_id IS NOT NULL;
CREATE INDEX conversations_contact_identity_idx
    ON conversations (tenant_id, contact_identity_id) WHERE contact_identity_id IS NOT NULL;
CREATE INDEX conversations_channel_account_idx
    ON conversations (tenant_id, channel_account_id) WHERE channel_account_id IS NOT NULL;
CREATE TRIGGER conversations_set_updated_at BEFORE UPDATE ON conversations
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- ---------------------------------------------------------------------------------------------------------------
-- messages
-- ---------------------------------------------------------------------------------------------------------------
CREATE TABLE messages (
    id                   uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id            uuid        NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    conversation_id      uuid        NOT NULL,
    channel              text        NOT NULL CHECK (channel IN ('LINE', 'FACEBOOK', 'INSTAGRAM')),
    direction            text        NOT NULL CHECK (direction IN ('INBOUND', 'OUTBOUND')),
    sender_type          text        NOT NULL CHECK (sender_type IN ('CUSTOMER', 'SALES', 'SYSTEM')),
    sender_agent_id      uuid,
    message_type         text        NOT NULL DEFAULT 'TEXT' CHECK (message_type IN (
                             'TEXT', 'IMAGE', 'DOCUMENT_PDF', 'STICKER', 'VIDEO', 'AUDIO', 'FILE', 'LOCATION',
                             'UNSUPPORTED')),
    content              text        NOT NULL DEFAULT '',
    media_url            text,
    preview_url          text,
    mime_type            text,
    file_name            text,
    file_size_bytes      bigint      CHECK (file_size_bytes >= 0),
    width                integer     CHECK (width > 0),
    height               integer     CHECK (height > 0),
    -- A real column (the seed hid it in metadata). Inbound rows are RECEIVED; outbound go QUEUED → SENT | FAILED.
    delivery_status      text        NOT NULL CHECK (delivery_status IN ('QUEUED', 'SENT', 'FAILED', 'RECEIVED')),
    provider_message_id  text,
    error_code           text,
    error_reason         text,
    metadata             jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    raw_payload          jsonb,
    -- The webhook_events row this came from. Not a foreign key on purpose: webhook events are pruned by retention
    -- and a message must outlive them (and an FK would need another index on this, the largest table).
    webhook_event_id     uuid,
    -- Inbound idempotency: the provider's event id (LINE webhookEventId, Messenger mid, comment id). Re-running an
    -- inbound job does INSERT ... ON CONFLICT ON CONSTRAINT messages_source_event_key DO NOTHING and bumps unread
    -- only when a row came back. If one event yields several messages, suffix the key (`<id>#1`, `<id>#2`).
    -- NULL for outbound messages (NULLs never conflict).
    source_event_id      text        CHECK (source_event_id <> ''),
    sent_at              timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT messages_delivery_status_direction_check CHECK (
        (direction = 'INBOUND'  AND delivery_status = 'RECEIVED') OR
        (direction = 'OUTBOUND' AND delivery_status IN ('QUEUED', 'SENT', 'FAILED'))),
    CONSTRAINT messages_source_event_key UNIQUE (tenant_id, channel, source_event_id),
    CONSTRAINT messages_conversation_fkey FOREIGN KEY (tenant_id, conversation_id, channel)
        REFERENCES conversations (tenant_id, id, channel) ON DELETE CASCADE,
    CONSTRAINT messages_sender_agent_fkey FOREIGN KEY (tenant_id, sender_agent_id)
        REFERENCES sales_agents (tenant_id, id) ON DELETE SET NULL (sender_agent_id)
);
-- Keyset list of a thread (created_at DESC, id DESC); also the conversation FK.
CREATE INDEX messages_conversation_list_idx ON messages (tenant_id, conversation_id, created_at DESC, id DESC);
-- Dashboard: inbound/outbound over the last 30 days and inbound per channel, index-only.
CREATE INDEX messages_metrics_idx ON messages (tenant_id, created_at) INCLUDE (direction, channel);
-- Matching provider callbacks and echoes to our row. Not unique: an echo may be stored before the delivery worker
-- records the same id on the outbound row, and that must not fail the delivery.
CREATE INDEX messages_provider_message_idx ON messages (tenant_id, channel, provider_message_id)
    WHERE provider_message_id IS NOT NULL;
-- Ordered delivery: "is there an older QUEUED message in this conversation?" Tiny: only rows still queued.
CREATE INDEX messages_queued_idx ON messages (tenant_id, conversation_id, created_at, id)
    WHERE delivery_status = 'QUEUED';
CREATE INDEX messages_sender_agent_idx ON messages (tenant_id, sender_agent_id)
    WHERE sender_agent_id IS NOT NULL;
CREATE TRIGGER messages_set_updated_at BEFORE UPDATE ON messages
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- ---------------------------------------------------------------------------------------------------------------
-- activity_logs: append-only history of a lead. Only lead_id is a foreign key; conversation, message and actor
-- ids are kept as they were (history is not rewritten when those rows go, and each FK would cost an index here).
-- ---------------------------------------------------------------------------------------------------------------
CREATE TABLE activity_logs (
    id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id        uuid        NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    lead_id          uuid,
    conversation_id  uuid,
    message_id       uuid,
    actor_type       text        NOT NULL DEFAULT 'SYSTEM' CHECK (actor_type IN ('AGENT', 'CUSTOMER', 'SYSTEM')),
    actor_agent_id   uuid,
    -- Open vocabulary owned by the application, e.g. MESSAGE_RECEIVED, MESSAGE_SENT, MESSAGE_FAILED,
    -- STATUS_CHANGED, ASSIGNED, NOTE_ADDED, TAGS_CHANGED, FOLLOWED, UNFOLLOWED, PRIVATE_REPLY_SENT, CONVERTED_TO_DM.
    type             text        NOT NULL CHECK (type ~ '^[A-Z][A-Z0-9_]*$'),
    metadata         jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT activity_logs_lead_fkey FOREIGN KEY (tenant_id, lead_id)
        REFERENCES leads (tenant_id, id) ON DELETE CASCADE
);
-- A lead's timeline, newest first; also the lead FK.
CREATE INDEX activity_logs_lead_idx ON activity_logs (tenant_id, lead_id, created_at DESC, id DESC);
