-- 0014_held_revisions: a take-back or an edit that arrives before the message it names is kept until the message
-- comes.
--
-- A LINE unsend, a Meta is_deleted or a Messenger message_edit names a message by its provider id. Providers do not
-- keep order across their retries: a message whose first delivery failed is redelivered later, possibly after the
-- customer took it back. Such a revision found no message and was dropped, and the message, arriving next, showed
-- what the customer had taken back. Now the revision is held here, and recording the message applies it (and then
-- lets it go). A held revision lives as long as the webhook event that carried it: retention removes both.

CREATE TABLE held_revisions (
    tenant_id           uuid        NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    channel             text        NOT NULL CHECK (channel IN ('LINE', 'FACEBOOK', 'INSTAGRAM')),
    provider_message_id text        NOT NULL,
    change              text        NOT NULL CHECK (change IN ('UNSENT', 'EDITED')),
    webhook_event_id    uuid        NOT NULL REFERENCES webhook_events(id) ON DELETE CASCADE,
    -- An edit's new text and the provider's count of edits (the highest count held wins).
    content             text,
    edit_count          integer,
    occurred_at         timestamptz NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, channel, provider_message_id, change),
    CHECK (change = 'UNSENT' OR content IS NOT NULL)
);
-- Retention deletes webhook events in batches; each delete looks for the revisions that reference it.
CREATE INDEX held_revisions_webhook_event_idx ON held_revisions (webhook_event_id);

ALTER TABLE held_revisions ENABLE ROW LEVEL SECURITY;
ALTER TABLE held_revisions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON held_revisions
    USING      (tenant_id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()))
    WITH CHECK (tenant_id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()));

-- As 0003 does for every table: Supabase's Data API roles get nothing (elsewhere they do not exist).
DO $$
DECLARE
    api_role text;
BEGIN
    FOREACH api_role IN ARRAY ARRAY['anon', 'authenticated'] LOOP
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = api_role) THEN
            EXECUTE format('REVOKE ALL ON TABLE held_revisions FROM %I', api_role);
        END IF;
    END LOOP;
END
$$;
