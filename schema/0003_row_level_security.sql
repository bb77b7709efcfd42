-- 0003_row_level_security: tenant isolation as a second line of defence.
--
-- The application already scopes every query by tenant_id; these policies catch the query that forgets.
-- A session says who it is with two custom settings, best per transaction so a pooled connection never carries
-- them into the next request:
--     SELECT set_config('hubchat.tenant_id', $1, true);   -- REST: the x-tenant-id the caller is a member of
--     SELECT set_config('hubchat.scope', 'system', true); -- worker, webhook pool, CLI: work across tenants
-- A session that set neither sees no rows and can write none (fail closed).
--
-- This guards against application bugs, not against someone who can run SQL as the application role (they can set
-- the scope themselves). Roles with BYPASSRLS (superusers, Supabase's service_role) skip these policies entirely:
-- the application must connect as a role without it. FORCE makes the policies apply to the tables' owner too,
-- which is normally the role that runs the migrations and the application.

-- The current tenant, or NULL when unset. NULLIF: a custom setting that was set once in a session reads '' after a
-- transaction-local value goes away. A value that is not a uuid raises an error instead of matching nothing,
-- so a broken caller fails loudly.
CREATE FUNCTION hubchat_current_tenant_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT NULLIF(pg_catalog.current_setting('hubchat.tenant_id', true), '')::uuid
$$;

-- True only for sessions that declared the cross-tenant 'system' scope.
CREATE FUNCTION hubchat_is_system_scope() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT COALESCE(pg_catalog.current_setting('hubchat.scope', true) = 'system', false)
$$;

-- Policy shape (the same on every table):
--     USING / WITH CHECK (tenant_id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()))
-- The scalar sub-selects become InitPlans: each setting is read once per query, not once per row (a 1M-row
-- dashboard scan would otherwise pay for two current_setting calls per row), and `tenant_id = $initplan` compares
-- the uuid column without a cast, so it can still drive an index scan. The application's own
-- `tenant_id = $1` (uuid = uuid, leakproof) is what normally picks the index.

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants
    USING      (id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()))
    WITH CHECK (id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()));

ALTER TABLE sales_agents ENABLE ROW LEVEL SECURITY;
ALTER TABLE sales_agents FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sales_agents
    USING      (tenant_id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()))
    WITH CHECK (tenant_id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()));

ALTER TABLE channel_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE channel_accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON channel_accounts
    USING      (tenant_id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()))
    WITH CHECK (tenant_id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()));

ALTER TABLE contacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE contacts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON contacts
    USING      (tenant_id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()))
    WITH CHECK (tenant_id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()));

ALTER TABLE contact_identities ENABLE ROW LEVEL SECURITY;
ALTER TABLE contact_identities FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON contact_identities
    USING      (tenant_id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()))
    WITH CHECK (tenant_id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()));

ALTER TABLE leads ENABLE ROW LEVEL SECURITY;
ALTER TABLE leads FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON leads
    USING      (tenant_id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()))
    WITH CHECK (tenant_id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()));

ALTER TABLE conversations ENABLE ROW LEVEL SECURITY;
ALTER TABLE conversations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON conversations
    USING      (tenant_id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()))
    WITH CHECK (tenant_id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()));

ALTER TABLE messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE messages FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON messages
    USING      (tenant_id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()))
    WITH CHECK (tenant_id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()));

ALTER TABLE activity_logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE activity_logs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON activity_logs
    USING      (tenant_id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()))
    WITH CHECK (tenant_id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()));

ALTER TABLE webhook_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_events
    USING      (tenant_id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()))
    WITH CHECK (tenant_id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()));

ALTER TABLE outbox_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE outbox_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON outbox_events
    USING      (tenant_id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()))
    WITH CHECK (tenant_id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()));

ALTER TABLE queue_jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE queue_jobs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON queue_jobs
    USING      (tenant_id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()))
    WITH CHECK (tenant_id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()));

ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON idempotency_keys
    USING      (tenant_id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()))
    WITH CHECK (tenant_id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()));

ALTER TABLE rate_limit_windows ENABLE ROW LEVEL SECURITY;
ALTER TABLE rate_limit_windows FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rate_limit_windows
    USING      (tenant_id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()))
    WITH CHECK (tenant_id = (SELECT hubchat_current_tenant_id()) OR (SELECT hubchat_is_system_scope()));

-- On Supabase, default privileges grant every new table in `public` to the Data API roles `anon` and
-- `authenticated`. HubChat never serves data through that API, so take those grants back (the policies above would
-- already show them nothing; this closes the door as well). Elsewhere these roles do not exist and this does
-- nothing. No role is created here.
DO $$
DECLARE
    api_role text;
BEGIN
    FOREACH api_role IN ARRAY ARRAY['anon', 'authenticated'] LOOP
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = api_role) THEN
            EXECUTE format(
                'REVOKE ALL ON TABLE tenants, sales_agents, channel_accounts, contacts, contact_identities, leads, '
                'conversations, messages, activity_logs, webhook_events, outbox_events, queue_jobs, '
                'idempotency_keys, rate_limit_windows FROM %I', api_role);
            EXECUTE format('REVOKE ALL ON SEQUENCE pipeline_seq FROM %I', api_role);
        END IF;
    END LOOP;
END
$$;
