-- EXPLAIN (ANALYZE, BUFFERS) of the three reads of bench/api-read.sh, as the API runs them: the application role,
-- a transaction scoped to the tenant by set_config (so row-level security applies, as for a request), the SQL of
-- PostgresConversationRepository (copied; keep in step), parameters untyped as libpq sends them (types inferred).
--   psql -v tenant=UUID -v deep_us=MICROSECONDS -v deep_id=UUID -v long_id=UUID -f bench/read/explain.sql
\set ON_ERROR_STOP 1
BEGIN;
SELECT set_config('hubchat.tenant_id', :'tenant', true) \g /dev/null

PREPARE conversation_page AS
SELECT c.id, c.lead_id, l.status AS lead_status, l.name AS lead_name, c.contact_id, c.channel,
       c.channel_thread_id, c.status, c.assigned_agent_id, c.participant_display_name,
       c.participant_profile_image_url, ct.display_name AS contact_display_name,
       ct.profile_image_url AS contact_profile_image_url, ci.id AS identity_id,
       ci.external_user_id AS identity_external_user_id, ci.display_name AS identity_display_name,
       ci.profile_image_url AS identity_profile_image_url, c.last_message_at, c.last_message_preview,
       c.last_message_type, c.last_message_direction, c.unread_count, c.last_read_at, c.last_inbound_at,
       c.provider_thread_type, c.provider_post_id, c.provider_comment_id, c.private_reply_sent_at,
       c.public_reply_sent_at, c.converted_to_dm_at, c.created_at,
       (extract(epoch FROM c.last_message_at) * 1000000)::int8 AS sort_us
  FROM conversations c
  JOIN leads l ON l.tenant_id = c.tenant_id AND l.id = c.lead_id
  LEFT JOIN contacts ct ON ct.tenant_id = c.tenant_id AND ct.id = c.contact_id
  LEFT JOIN contact_identities ci ON ci.tenant_id = c.tenant_id AND ci.id = c.contact_identity_id
 WHERE c.tenant_id = $1
 ORDER BY c.last_message_at DESC, c.id DESC LIMIT $2;

PREPARE conversation_page_after AS
SELECT c.id, c.lead_id, l.status AS lead_status, l.name AS lead_name, c.contact_id, c.channel,
       c.channel_thread_id, c.status, c.assigned_agent_id, c.participant_display_name,
       c.participant_profile_image_url, ct.display_name AS contact_display_name,
       ct.profile_image_url AS contact_profile_image_url, ci.id AS identity_id,
       ci.external_user_id AS identity_external_user_id, ci.display_name AS identity_display_name,
       ci.profile_image_url AS identity_profile_image_url, c.last_message_at, c.last_message_preview,
       c.last_message_type, c.last_message_direction, c.unread_count, c.last_read_at, c.last_inbound_at,
       c.provider_thread_type, c.provider_post_id, c.provider_comment_id, c.private_reply_sent_at,
       c.public_reply_sent_at, c.converted_to_dm_at, c.created_at,
       (extract(epoch FROM c.last_message_at) * 1000000)::int8 AS sort_us
  FROM conversations c
  JOIN leads l ON l.tenant_id = c.tenant_id AND l.id = c.lead_id
  LEFT JOIN contacts ct ON ct.tenant_id = c.tenant_id AND ct.id = c.contact_id
  LEFT JOIN contact_identities ci ON ci.tenant_id = c.tenant_id AND ci.id = c.contact_identity_id
 WHERE c.tenant_id = $1
   AND (c.last_message_at, c.id) < (timestamptz 'epoch' + $2::float8 * interval '1 microsecond', $3::uuid)
 ORDER BY c.last_message_at DESC, c.id DESC LIMIT $4;

PREPARE thread_page AS
SELECT m.id, m.conversation_id, m.channel, m.direction, m.sender_type, m.sender_agent_id, m.message_type,
       m.content, m.media_url, m.preview_url, m.mime_type, m.file_name, m.file_size_bytes, m.width,
       m.height, m.delivery_status, m.provider_message_id, m.error_code, m.error_reason, m.sent_at,
       CASE WHEN m.metadata ? 'mediaStatus' THEN 'PENDING' WHEN m.metadata ? 'mediaError' THEN 'FAILED'
       END AS media_status,
       CASE WHEN m.metadata ? 'unsent' THEN 'UNSENT' WHEN m.metadata ? 'edited' THEN 'EDITED' END AS revision,
       m.created_at, (extract(epoch FROM m.created_at) * 1000000)::int8 AS sort_us
  FROM messages m
 WHERE m.tenant_id = $1 AND m.conversation_id = $2
 ORDER BY m.created_at DESC, m.id DESC LIMIT $3;

-- Once each first, so the plans below are made in a warm session, as a responder's long-lived connection makes them.
EXECUTE conversation_page(:'tenant', 26) \g /dev/null
EXECUTE conversation_page_after(:'tenant', :deep_us, :'deep_id', 26) \g /dev/null
EXECUTE thread_page(:'tenant', :'long_id', 51) \g /dev/null

\echo '=== (a) GET /api/conversations?limit=25 (first page)'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE conversation_page(:'tenant', 26);
\echo '=== (b) GET /api/conversations?limit=25&cursor=… (page 2,000)'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE conversation_page_after(:'tenant', :deep_us, :'deep_id', 26);
\echo '=== (c) GET /api/conversations/:id/messages?limit=50 (the long thread, first page)'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE thread_page(:'tenant', :'long_id', 51);
ROLLBACK;
