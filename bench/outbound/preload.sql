-- Queues :n messages for delivery, as POST /api/messages/send would have (message QUEUED + outbox event), spread
-- over :conversations LINE conversations of :accounts channel accounts, all in the demo tenant.
\set ON_ERROR_STOP on
INSERT INTO channel_accounts (tenant_id, channel, external_account_id, credentials)
SELECT :'tenant', 'LINE', 'Ubenchaccount' || g, '{"channelSecret": "s", "channelAccessToken": "bench-token"}'
  FROM generate_series(1, :accounts) g
ON CONFLICT (channel, external_account_id) DO NOTHING;

CREATE TEMP TABLE bench_accounts AS
SELECT row_number() OVER (ORDER BY id) - 1 AS k, id FROM channel_accounts
 WHERE tenant_id = :'tenant' AND external_account_id LIKE 'Ubenchaccount%';

CREATE TEMP TABLE bench_conversations AS
WITH leads_made AS (
    INSERT INTO leads (tenant_id, source_channel, external_user_id)
    SELECT :'tenant', 'LINE', 'Ubench' || :'run' || '-' || g FROM generate_series(1, :conversations) g
    RETURNING id, external_user_id
)
SELECT l.id AS lead_id, l.external_user_id, gen_random_uuid() AS id,
       (row_number() OVER () - 1) % :accounts AS k
  FROM leads_made l;

INSERT INTO conversations (id, tenant_id, lead_id, channel, channel_thread_id, channel_account_id)
SELECT c.id, :'tenant', c.lead_id, 'LINE', c.external_user_id, a.id
  FROM bench_conversations c JOIN bench_accounts a USING (k);

CREATE TEMP TABLE bench_messages AS
SELECT gen_random_uuid() AS id, c.id AS conversation_id, g AS n
  FROM bench_conversations c, generate_series(1, :per_conversation) g;

INSERT INTO messages (id, tenant_id, conversation_id, channel, direction, sender_type, message_type, content, delivery_status,
                      created_at)
SELECT m.id, :'tenant', m.conversation_id, 'LINE', 'OUTBOUND', 'SALES', 'TEXT', 'bench ' || :'run' || ' ' || m.n, 'QUEUED',
       clock_timestamp()
  FROM bench_messages m ORDER BY m.n, m.conversation_id;

INSERT INTO outbox_events (tenant_id, topic, payload, idempotency_key, ordering_key)
SELECT :'tenant', 'message.outbound.requested', jsonb_build_object('messageId', m.id, 'conversationId', m.conversation_id),
       'outbound:' || m.id, 'conversation:' || m.conversation_id
  FROM bench_messages m ORDER BY m.n, m.conversation_id;

-- For the latency run: conversations the paced sender writes to.
\o :conversations_file
COPY (SELECT id, lead_id FROM bench_conversations) TO STDOUT WITH csv;
\o
