#!/usr/bin/env bash
# Seed: one tenant's inbox at scale, for the read benchmarks (bench/api-read.sh).
#   bench/seed-inbox.sh [conversations=100000] [messages=1000000]
#
# Fills a tenant set-based (one INSERT … SELECT per table, generate_series, one transaction): per conversation a
# contact, a contact identity and a lead (mixed statuses, channels and assignees), and the conversation itself
# (LINE / Messenger / Facebook comment / Instagram threads, Thai and English names, last_message_at spread over
# ~90 days, weighted to recent); the messages spread skewed over the conversations: one thread of 10,000
# (messages/10 when fewer), 20 busy threads of messages/1,000 each, the rest heavy-tailed (median ~6, at least 1).
# Inbound rows are RECEIVED and carry a LINE-shaped raw_payload as the worker stores it; outbound rows are SENT
# or FAILED. Rows are inserted in time order, as live traffic would leave them on disk. Then VACUUM ANALYZE.
#
# Target: DATABASE_URL + HUBCHAT_TENANT_ID when both are set (e.g. `set -a; . .run/stack.env; set +a` for the
# development stack); otherwise the bench stack (bench/lib.sh: .run/bench, brought up and stopped again, its
# data kept). Rerunnable: seeded leads carry the tag `bench-seed`; when the tenant already holds exactly the
# requested seed it does nothing, when it holds a different one it deletes it first (and compacts the tables
# with VACUUM FULL, so the new seed lays out on disk as in a fresh database). HUBCHAT_SEED_FORCE=1 reseeds.
set -euo pipefail
CONVERSATIONS=${1:-100000}
MESSAGES=${2:-1000000}
[[ $CONVERSATIONS =~ ^[0-9]+$ && $MESSAGES =~ ^[0-9]+$ ]] || { echo "usage: $0 [conversations] [messages]" >&2; exit 2; }
((CONVERSATIONS >= 100 && MESSAGES >= 2 * CONVERSATIONS)) || {
    echo "need conversations >= 100 and messages >= 2 x conversations" >&2; exit 2; }

if [[ -z ${DATABASE_URL:-} || -z ${HUBCHAT_TENANT_ID:-} ]]; then
    . "$(dirname "$0")/lib.sh" 0
    stack_up >/dev/null
    set -a; . "$HUBCHAT_RUN_DIR/stack.env"; set +a
fi
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}
# System scope: the seed writes as the application role, which row-level security would otherwise confine.
psql() { PGOPTIONS='-c hubchat.scope=system' "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" "$@"; }
tenant=$HUBCHAT_TENANT_ID

started=$(date +%s%N)
since() { local ns=$(($(date +%s%N) - started)); printf '%d.%d' $((ns / 1000000000)) $((ns / 100000000 % 10)); }
read -r have_conversations have_messages < <(psql -tA -F' ' -v tenant="$tenant" <<'SQL'
SELECT count(*), (SELECT count(*) FROM messages m
                   WHERE m.tenant_id = :'tenant'
                     AND m.conversation_id IN (SELECT c.id FROM conversations c JOIN leads l2
                                                 ON l2.tenant_id = c.tenant_id AND l2.id = c.lead_id
                                                WHERE c.tenant_id = :'tenant' AND l2.tags @> '{bench-seed}'))
  FROM leads l WHERE l.tenant_id = :'tenant' AND l.tags @> '{bench-seed}'
SQL
)
if [[ $have_conversations == "$CONVERSATIONS" && $have_messages == "$MESSAGES" && ${HUBCHAT_SEED_FORCE:-0} != 1 ]]; then
    echo "seed-inbox: tenant $tenant already holds the seed ($have_conversations conversations, $have_messages messages); nothing to do" >&2
    exit 0
fi
if ((have_conversations > 0)); then
    echo "seed-inbox: deleting the previous seed ($have_conversations conversations, $have_messages messages)" >&2
    psql -v tenant="$tenant" <<'SQL'
BEGIN;
CREATE TEMP TABLE old_seed ON COMMIT DROP AS
    SELECT id, contact_id FROM leads WHERE tenant_id = :'tenant' AND tags @> '{bench-seed}';
-- Leads cascade to their conversations and those to their messages; contacts take their identities along.
DELETE FROM leads WHERE tenant_id = :'tenant' AND id IN (SELECT id FROM old_seed);
DELETE FROM contacts WHERE tenant_id = :'tenant' AND id IN (SELECT contact_id FROM old_seed);
COMMIT;
-- Compact what is left, so the new seed lays out on disk as it would in a fresh database.
VACUUM FULL contacts, contact_identities, leads, conversations, messages;
SQL
    echo "seed-inbox: deleted in $(since) s" >&2
    started=$(date +%s%N)
fi

echo "seed-inbox: seeding $CONVERSATIONS conversations and $MESSAGES messages into tenant $tenant" >&2
psql -v tenant="$tenant" -v n="$CONVERSATIONS" -v m="$MESSAGES" <<'SQL'
BEGIN;
SET LOCAL work_mem = '256MB';
SET LOCAL maintenance_work_mem = '256MB';
SET LOCAL synchronous_commit = off;
SELECT setseed(0.2026) \g /dev/null

-- What the seed draws on: the tenant's agents and channel accounts, word lists, the clock.
CREATE TEMP TABLE seed_p ON COMMIT DROP AS
SELECT :'tenant'::uuid AS tenant_id, :n::int AS n_conv, :m::bigint AS n_msg, date_trunc('second', now()) AS t_end,
       greatest(least(:m::bigint / 10, 10000), 1)::int AS long_n,   -- the one long thread
       (:m::bigint / 1000)::int AS busy_n,                           -- 20 busy threads
       (SELECT array_agg(id ORDER BY (role = 'SALES') DESC, email) FROM sales_agents
         WHERE tenant_id = :'tenant' AND status = 'ACTIVE') AS agents,
       (SELECT id FROM channel_accounts WHERE tenant_id = :'tenant' AND channel = 'LINE' AND is_active
         ORDER BY created_at LIMIT 1) AS line_account,
       (SELECT id FROM channel_accounts WHERE tenant_id = :'tenant' AND channel = 'FACEBOOK' AND is_active
         ORDER BY created_at LIMIT 1) AS fb_account,
       (SELECT external_account_id FROM channel_accounts WHERE tenant_id = :'tenant' AND channel = 'FACEBOOK'
           AND is_active ORDER BY created_at LIMIT 1) AS fb_page,
       (SELECT id FROM channel_accounts WHERE tenant_id = :'tenant' AND channel = 'INSTAGRAM' AND is_active
         ORDER BY created_at LIMIT 1) AS ig_account,
       ARRAY['สมชาย','สมหญิง','วิภาวดี','ณัฐพล','ธนากร','กมลชนก','ปิยะนุช','ศุภชัย','อรุณี','จิราพร','พงศกร',
             'สุนิสา','ชยพล','กัญญารัตน์','ธีรวัฒน์','พิมพ์ชนก','อนุชา','ปวีณา','วรวุฒิ','นภัสสร'] AS th_first,
       ARRAY['ใจดี','ศรีสุข','วงศ์สวัสดิ์','แสงทอง','บุญมา','รัตนพันธ์','ทองคำ','สุขประเสริฐ','จันทร์เพ็ญ',
             'เพชรรัตน์','ชัยมงคล','นาคสวัสดิ์'] AS th_last,
       ARRAY['น้องฟ้า 🌸','พี่บี','แม่ค้าออนไลน์','Ploy ✨','Mook','ต้น','เจ้านาย','Bank','มะปราง','Nong Mint']
           AS nicknames,
       ARRAY['John','Emma','Liam','Olivia','Noah','Ava','Lucas','Mia','Ethan','Sophia','Daniel','Chloe','Ken',
             'Yuki','Mei'] AS en_first,
       ARRAY['Smith','Johnson','Brown','Tanaka','Nguyen','Lee','Garcia','Wilson','Chen','Kim'] AS en_last,
       ARRAY['สวัสดีค่ะ สนใจสินค้าตัวนี้ค่ะ ราคาเท่าไหร่คะ','มีสีอื่นไหมครับ','ส่งฟรีไหมคะ',
             'โอนเงินแล้วนะคะ ส่งสลิปให้แล้วค่ะ','ขอบคุณมากครับ','ของถึงเมื่อไหร่คะ','Hi, is this still available?',
             'Can you ship to Chiang Mai?','ขอเลขพัสดุหน่อยค่ะ','มีไซส์ L ไหมคะ','สั่ง 2 ชิ้นลดได้ไหมครับ','Thanks!',
             'ได้รับของแล้วค่ะ สวยมาก 😍','เก็บเงินปลายทางได้ไหมคะ','How much for 3?',
             'รบกวนสอบถามค่ะ ตัวนี้ผ้าอะไรคะ ใส่แล้วร้อนไหม ซักเครื่องได้หรือเปล่าคะ ขอบคุณค่ะ','ok ครับ','555+']
           AS inbound_texts,
       ARRAY['สวัสดีค่ะ ยินดีต้อนรับค่ะ 🙏','ราคา 590 บาทค่ะ ส่งฟรีทั่วประเทศ','มีสีดำ ขาว และกรมท่าค่ะ',
             'ได้รับยอดโอนแล้วค่ะ จัดส่งภายใน 1-2 วันค่ะ','เลขพัสดุ TH1234567890 ค่ะ',
             'Yes, it is available. Would you like to order?','We ship nationwide, 2-3 days.',
             'ขอบคุณที่อุดหนุนนะคะ 💕','รบกวนขอชื่อ ที่อยู่ และเบอร์โทรค่ะ','สั่ง 2 ชิ้นขึ้นไปลด 10% ค่ะ',
             'ขออภัยค่ะ ไซส์นี้หมดแล้วค่ะ','Our team will get back to you shortly.'] AS outbound_texts,
       ARRAY['vip','wholesale','returning','promo-11.11','cod','bangkok','upcountry'] AS tag_words;

-- Messages per conversation: exact total, skewed (see the header).
CREATE TEMP TABLE seed_n ON COMMIT DROP AS
WITH w AS MATERIALIZED (
    SELECT i, least(power(greatest(random(), 1e-9), -0.7), 200) AS w
      FROM seed_p, generate_series(22, seed_p.n_conv) i
), alloc AS (
    SELECT i, 1 + floor((p.n_msg - p.long_n - 20 * p.busy_n - (p.n_conv - 21)) * w / sum(w) OVER ())::int AS k
      FROM w, seed_p p
), leftover AS (
    SELECT p.n_msg - p.long_n - 20 * p.busy_n - (SELECT sum(k) FROM alloc) AS extra FROM seed_p p
)
SELECT 1 AS i, long_n AS n FROM seed_p
UNION ALL SELECT i, busy_n FROM seed_p, generate_series(2, 21) i
UNION ALL SELECT i, k + (i - 21 <= (SELECT extra FROM leftover))::int FROM alloc;

-- One row per conversation, with its contact, identity and lead.
CREATE TEMP TABLE seed_conv ON COMMIT DROP AS
WITH d AS MATERIALIZED (
    SELECT s.i, s.n, random() r_ch, random() r_name, random() r_n1, random() r_n2, random() r_when, random() r_span,
           random() r_status, random() r_agent, random() r_misc, random() r_read, random() r_tags
      FROM seed_n s
), e AS (
    SELECT d.*, p.*,
           CASE WHEN d.i = 1 OR d.r_ch < 0.60 THEN 'LINE' WHEN d.r_ch < 0.90 THEN 'FACEBOOK' ELSE 'INSTAGRAM' END
               AS channel,
           CASE WHEN d.i = 1 THEN p.t_end - interval '40 minutes'
                WHEN d.i <= 21 THEN p.t_end - interval '2 days' * d.r_when
                ELSE p.t_end - interval '90 days' * power(d.r_when, 1.6) END AS last_at,
           CASE WHEN d.i = 1 THEN interval '60 days'
                WHEN d.i <= 21 THEN interval '20 days' + interval '20 days' * d.r_span
                ELSE least(d.n * interval '1 minute' * (1 + 60 * power(d.r_span, 3)), interval '45 days') END AS span,
           CASE WHEN d.r_status < 0.30 THEN 'NEW' WHEN d.r_status < 0.45 THEN 'ASSIGNED'
                WHEN d.r_status < 0.60 THEN 'CONTACTED' WHEN d.r_status < 0.70 THEN 'QUALIFIED'
                WHEN d.r_status < 0.77 THEN 'PROPOSAL_SENT' WHEN d.r_status < 0.82 THEN 'NEGOTIATION'
                WHEN d.r_status < 0.90 THEN 'WON' ELSE 'LOST' END AS lead_status,
           md5(p.tenant_id::text || ':seed:' || d.i) AS h
      FROM d, seed_p p
)
SELECT e.i, e.n, e.channel, e.last_at, e.last_at - e.span AS first_at, e.lead_status, e.h, e.r_read, e.r_misc,
       gen_random_uuid() AS conv_id, gen_random_uuid() AS lead_id, gen_random_uuid() AS contact_id,
       gen_random_uuid() AS identity_id,
       CASE e.channel WHEN 'LINE' THEN e.line_account WHEN 'FACEBOOK' THEN e.fb_account ELSE e.ig_account END
           AS account_id,
       -- LINE userId, page-scoped id (Messenger), Instagram-scoped id.
       CASE e.channel WHEN 'LINE' THEN 'U' || e.h
                      WHEN 'FACEBOOK' THEN (24000000000000000 + e.i)::text
                      ELSE (17841400000000000 + e.i)::text END AS external_user_id,
       e.channel = 'FACEBOOK' AND e.r_misc < 0.08 AS is_comment,
       e.fb_page,
       CASE WHEN e.r_name < 0.55 THEN e.th_first[1 + floor(e.r_n1 * array_length(e.th_first, 1))::int] || ' '
                                      || e.th_last[1 + floor(e.r_n2 * array_length(e.th_last, 1))::int]
            WHEN e.r_name < 0.80 THEN e.en_first[1 + floor(e.r_n1 * array_length(e.en_first, 1))::int] || ' '
                                      || e.en_last[1 + floor(e.r_n2 * array_length(e.en_last, 1))::int]
            WHEN e.r_name < 0.93 THEN e.nicknames[1 + floor(e.r_n1 * array_length(e.nicknames, 1))::int] END
           AS name,
       CASE WHEN e.lead_status <> 'NEW' AND array_length(e.agents, 1) > 0
            THEN e.agents[1 + floor(power(e.r_agent, 2) * array_length(e.agents, 1))::int] END AS agent_id,
       -- The provider's profile picture (none for customers without a public profile).
       CASE WHEN e.r_name >= 0.93 THEN NULL
            WHEN e.channel = 'LINE' THEN 'https://profile.line-scdn.net/0h' || substr(e.h, 1, 24)
            WHEN e.channel = 'FACEBOOK' THEN 'https://platform-lookaside.fbsbx.com/platform/profilepic/?psid='
                                             || (24000000000000000 + e.i)::text || '&height=200'
            ELSE 'https://scontent.cdninstagram.com/v/t51.2885-19/' || e.h || '_n.jpg' END AS image,
       CASE WHEN e.r_tags < 0.6 THEN '{bench-seed}'::text[]
            ELSE ARRAY['bench-seed', e.tag_words[1 + floor(e.r_tags * 1000)::int % array_length(e.tag_words, 1)]]
            END AS tags
  FROM e;

-- Every message, in one temporary table first: the conversations need their last message, last inbound and
-- outbound times, and unread count from it.
CREATE TEMP TABLE seed_msg ON COMMIT DROP AS
WITH d AS MATERIALIZED (
    SELECT c.i, c.n, c.conv_id, c.channel, c.agent_id, c.first_at, c.last_at, c.h, k,
           random() r_t, random() r_dir, random() r_type, random() r_text, random() r_status
      FROM seed_conv c, generate_series(1, c.n) k
), e AS (
    SELECT d.*, p.*,
           CASE WHEN d.k = d.n THEN d.last_at
                ELSE d.first_at + (d.last_at - d.first_at) * ((d.k - 1) + 0.9 * d.r_t) / greatest(d.n - 1, 1) END
               AS created_at,
           CASE WHEN d.k = 1 OR d.r_dir < 0.55 THEN 'INBOUND' ELSE 'OUTBOUND' END AS direction,
           md5(d.conv_id::text || ':' || d.k) AS mh
      FROM d, seed_p p
), f AS (
    SELECT e.*,
           CASE WHEN e.direction = 'INBOUND' THEN
                    CASE WHEN e.r_type < 0.84 THEN 'TEXT' WHEN e.r_type < 0.92 THEN 'IMAGE'
                         WHEN e.r_type < 0.97 THEN 'STICKER' WHEN e.r_type < 0.98 THEN 'VIDEO'
                         WHEN e.r_type < 0.99 THEN 'LOCATION' WHEN e.r_type < 0.995 THEN 'AUDIO' ELSE 'FILE' END
                ELSE CASE WHEN e.r_type < 0.88 THEN 'TEXT' WHEN e.r_type < 0.96 THEN 'IMAGE' ELSE 'DOCUMENT_PDF' END
           END AS message_type,
           CASE WHEN e.direction = 'INBOUND' THEN 'RECEIVED'
                WHEN e.r_status < 0.03 THEN 'FAILED' ELSE 'SENT' END AS delivery_status
      FROM e
)
SELECT f.i, f.k, f.n, f.conv_id, f.channel, f.direction, f.message_type, f.delivery_status, f.created_at,
       CASE WHEN f.direction = 'INBOUND' THEN 'CUSTOMER' WHEN f.r_status > 0.9 THEN 'SYSTEM' ELSE 'SALES' END
           AS sender_type,
       CASE WHEN f.direction = 'OUTBOUND' AND f.r_status <= 0.9
            THEN coalesce(f.agent_id, f.agents[1]) END AS sender_agent_id,
       CASE f.message_type
            WHEN 'TEXT' THEN CASE WHEN f.direction = 'INBOUND'
                                  THEN f.inbound_texts[1 + floor(f.r_text * array_length(f.inbound_texts, 1))::int]
                                  ELSE f.outbound_texts[1 + floor(f.r_text * array_length(f.outbound_texts, 1))::int]
                             END
            WHEN 'IMAGE' THEN '[Image]' WHEN 'STICKER' THEN '[Sticker]' WHEN 'VIDEO' THEN '[Video]'
            WHEN 'AUDIO' THEN '[Audio]' WHEN 'LOCATION' THEN '[Location] สยามพารากอน'
            WHEN 'FILE' THEN '[File] สลิปโอนเงิน.pdf' ELSE '[File] ใบเสนอราคา.pdf' END AS content,
       CASE WHEN f.message_type IN ('IMAGE', 'VIDEO', 'AUDIO', 'FILE', 'DOCUMENT_PDF') THEN
            '/media/' || CASE WHEN f.direction = 'INBOUND' THEN 'inbound-media/' ELSE 'message-images/' END
            || f.tenant_id || '/' || f.mh
            || CASE f.message_type WHEN 'IMAGE' THEN '.jpg' WHEN 'VIDEO' THEN '.mp4' WHEN 'AUDIO' THEN '.m4a'
                                   ELSE '.pdf' END END AS media_url,
       CASE WHEN f.message_type = 'IMAGE'
            THEN '/media/' || CASE WHEN f.direction = 'INBOUND' THEN 'inbound-media/' ELSE 'message-images/' END
                 || f.tenant_id || '/' || f.mh || '-preview.jpg' END AS preview_url,
       CASE f.message_type WHEN 'IMAGE' THEN 'image/jpeg' WHEN 'VIDEO' THEN 'video/mp4'
                           WHEN 'AUDIO' THEN 'audio/mp4' WHEN 'FILE' THEN 'application/pdf'
                           WHEN 'DOCUMENT_PDF' THEN 'application/pdf' END AS mime_type,
       CASE f.message_type WHEN 'FILE' THEN 'สลิปโอนเงิน.pdf' WHEN 'DOCUMENT_PDF' THEN 'ใบเสนอราคา.pdf' END
           AS file_name,
       CASE WHEN f.message_type IN ('IMAGE', 'VIDEO', 'AUDIO', 'FILE', 'DOCUMENT_PDF')
            THEN 20000 + floor(f.r_text * 2000000)::bigint END AS file_size_bytes,
       CASE WHEN f.message_type = 'IMAGE' THEN 1080 END AS width,
       CASE WHEN f.message_type = 'IMAGE' THEN 1350 END AS height,
       CASE WHEN f.delivery_status IN ('RECEIVED', 'SENT') THEN
            CASE f.channel WHEN 'LINE' THEN (500000000000000 + f.i::bigint * 100000 + f.k)::text
                           ELSE 'm_' || substr(f.mh, 1, 30) END END AS provider_message_id,
       CASE WHEN f.delivery_status = 'FAILED' THEN CASE f.channel WHEN 'LINE' THEN '429' ELSE '10' END END
           AS error_code,
       CASE WHEN f.delivery_status = 'FAILED' THEN CASE f.channel
            WHEN 'LINE' THEN 'You have reached your monthly limit.'
            ELSE '(#10) This message is sent outside of allowed window.' END END AS error_reason,
       CASE WHEN f.message_type = 'STICKER' THEN '{"packageId": "446", "stickerId": "1988"}'::jsonb
            ELSE '{}'::jsonb END AS metadata,
       -- As the worker keeps it: the provider's event, a few hundred bytes.
       CASE WHEN f.direction = 'INBOUND' THEN jsonb_build_object(
            'type', 'message', 'mode', 'active', 'timestamp', (extract(epoch FROM f.created_at) * 1000)::bigint,
            'webhookEventId', '01J' || upper(substr(f.mh, 1, 23)),
            'deliveryContext', jsonb_build_object('isRedelivery', false),
            'source', jsonb_build_object('type', 'user', 'userId', 'U' || f.h),
            'replyToken', substr(md5(f.mh), 1, 32),
            'message', jsonb_build_object('id', (500000000000000 + f.i::bigint * 100000 + f.k)::text,
                                          'type', lower(f.message_type), 'quoteToken', md5(f.mh || 'q'),
                                          'text', CASE WHEN f.message_type = 'TEXT'
                                                       THEN f.inbound_texts[1 + floor(f.r_text *
                                                            array_length(f.inbound_texts, 1))::int] END))
       END AS raw_payload,
       CASE WHEN f.direction = 'INBOUND' THEN
            CASE f.channel WHEN 'LINE' THEN '01J' || upper(substr(f.mh, 1, 23)) ELSE 'm_' || substr(f.mh, 1, 30) END
       END AS source_event_id,
       CASE WHEN f.delivery_status = 'SENT' THEN f.created_at + interval '400 milliseconds' END AS sent_at
  FROM f;

-- The conversations' summary of their own messages.
CREATE TEMP TABLE seed_last ON COMMIT DROP AS
SELECT a.i, a.last_inbound_at, a.last_outbound_at, a.n - coalesce(a.last_outbound_k, 0) AS trailing_inbound,
       l.content AS preview, l.message_type, l.direction
  FROM (SELECT i, max(n) AS n,
               max(created_at) FILTER (WHERE direction = 'INBOUND') AS last_inbound_at,
               max(created_at) FILTER (WHERE direction = 'OUTBOUND') AS last_outbound_at,
               max(k) FILTER (WHERE direction = 'OUTBOUND') AS last_outbound_k
          FROM seed_msg GROUP BY i) a
  JOIN seed_msg l ON l.i = a.i AND l.k = a.n;

INSERT INTO contacts (id, tenant_id, display_name, phone, email, profile_image_url, created_at, updated_at)
SELECT c.contact_id, p.tenant_id, c.name,
       CASE WHEN c.r_misc < 0.4 THEN '0' || (810000000 + c.i)::text END,
       CASE WHEN c.r_misc > 0.9 THEN 'customer' || c.i || '@example.co.th' END,
       c.image, c.first_at, c.last_at
  FROM seed_conv c, seed_p p ORDER BY c.first_at;

INSERT INTO contact_identities (id, tenant_id, contact_id, channel, external_user_id, channel_account_id,
                                display_name, profile_image_url, profile, profile_fetched_at, created_at, updated_at)
SELECT c.identity_id, p.tenant_id, c.contact_id, c.channel, c.external_user_id, c.account_id, c.name,
       c.image,
       CASE WHEN c.channel = 'LINE' THEN '{"language": "th"}'::jsonb ELSE '{}'::jsonb END,
       c.first_at, c.first_at, c.last_at
  FROM seed_conv c, seed_p p ORDER BY c.first_at;

INSERT INTO leads (id, tenant_id, contact_id, source_channel, external_user_id, name, phone, email, status,
                   status_changed_at, assigned_sales_id, assigned_at, tags, score, last_contact_at, created_at,
                   updated_at)
SELECT c.lead_id, p.tenant_id, c.contact_id, c.channel, c.external_user_id, c.name,
       CASE WHEN c.r_misc < 0.4 THEN '0' || (810000000 + c.i)::text END,
       CASE WHEN c.r_misc > 0.9 THEN 'customer' || c.i || '@example.co.th' END,
       c.lead_status, c.first_at + (c.last_at - c.first_at) * c.r_read, c.agent_id,
       CASE WHEN c.agent_id IS NOT NULL THEN c.first_at + interval '10 minutes' END,
       c.tags, floor(c.r_read * 100)::int, s.last_inbound_at, c.first_at, c.last_at
  FROM seed_conv c JOIN seed_last s USING (i), seed_p p ORDER BY c.first_at;

INSERT INTO conversations (id, tenant_id, lead_id, contact_id, contact_identity_id, channel_account_id, channel,
                           channel_thread_id, status, assigned_agent_id, participant_display_name,
                           participant_profile_image_url, last_message_at, last_message_preview, last_message_type,
                           last_message_direction, unread_count, last_read_at, last_inbound_at, last_outbound_at,
                           closed_at, provider_thread_type, provider_page_id, provider_post_id, provider_comment_id,
                           provider_external_user_id, private_reply_sent_at, created_at, updated_at)
SELECT c.conv_id, p.tenant_id, c.lead_id, c.contact_id, c.identity_id, c.account_id, c.channel,
       CASE WHEN c.channel = 'LINE' THEN c.external_user_id
            WHEN c.is_comment THEN 'comment:' || (900000000000000 + c.i)::text || '_' || (700000000000000 + c.i)::text
            WHEN c.channel = 'FACEBOOK' THEN 'user:' || c.external_user_id
            ELSE 'ig:user:' || c.external_user_id END,
       CASE WHEN c.lead_status IN ('WON', 'LOST') AND c.r_read < 0.8 THEN 'CLOSED'
            WHEN c.r_read > 0.85 THEN 'PENDING' ELSE 'OPEN' END,
       c.agent_id, c.name,
       c.image,
       c.last_at, left(s.preview, 120), s.message_type, s.direction,
       -- Older threads have been read; recent ones keep the customer's trailing messages unread.
       CASE WHEN s.direction = 'INBOUND' AND (c.last_at > p.t_end - interval '2 days' OR c.r_read < 0.2)
            THEN s.trailing_inbound ELSE 0 END,
       CASE WHEN s.direction = 'INBOUND' AND (c.last_at > p.t_end - interval '2 days' OR c.r_read < 0.2)
            THEN s.last_outbound_at ELSE least(c.last_at + interval '5 minutes', p.t_end) END,
       s.last_inbound_at, s.last_outbound_at,
       CASE WHEN c.lead_status IN ('WON', 'LOST') AND c.r_read < 0.8 THEN least(c.last_at + interval '1 hour', p.t_end) END,
       CASE WHEN c.is_comment THEN 'FACEBOOK_COMMENT' WHEN c.channel = 'FACEBOOK' THEN 'MESSENGER_DM' END,
       CASE WHEN c.channel = 'FACEBOOK' THEN c.fb_page END,
       CASE WHEN c.is_comment THEN coalesce(c.fb_page, '1') || '_' || (900000000000000 + c.i)::text END,
       CASE WHEN c.is_comment THEN (900000000000000 + c.i)::text || '_' || (700000000000000 + c.i)::text END,
       CASE WHEN c.channel <> 'LINE' THEN c.external_user_id END,
       CASE WHEN c.is_comment AND c.n > 1 THEN c.first_at + interval '3 minutes' END,
       c.first_at, c.last_at
  FROM seed_conv c JOIN seed_last s USING (i), seed_p p ORDER BY c.first_at;

INSERT INTO messages (tenant_id, conversation_id, channel, direction, sender_type, sender_agent_id, message_type,
                      content, media_url, preview_url, mime_type, file_name, file_size_bytes, width, height,
                      delivery_status, provider_message_id, error_code, error_reason, metadata, raw_payload,
                      source_event_id, sent_at, created_at, updated_at)
SELECT p.tenant_id, s.conv_id, s.channel, s.direction, s.sender_type, s.sender_agent_id, s.message_type, s.content,
       s.media_url, s.preview_url, s.mime_type, s.file_name, s.file_size_bytes, s.width, s.height,
       s.delivery_status, s.provider_message_id, s.error_code, s.error_reason, s.metadata, s.raw_payload,
       s.source_event_id, s.sent_at, s.created_at, coalesce(s.sent_at, s.created_at)
  FROM seed_msg s, seed_p p ORDER BY s.created_at;

COMMIT;
SQL
echo "seed-inbox: inserted in $(since) s; vacuum and analyze" >&2
psql -c 'VACUUM (ANALYZE) contacts, contact_identities, leads, conversations, messages'
elapsed=$(since)
psql -tA -F' ' -v tenant="$tenant" <<'SQL' | {
SELECT (SELECT count(*) FROM conversations WHERE tenant_id = :'tenant'),
       (SELECT count(*) FROM messages WHERE tenant_id = :'tenant'),
       pg_size_pretty(pg_database_size(current_database()))
SQL
    read -r conversations messages size
    echo "seed-inbox: done in ${elapsed} s (insert + VACUUM ANALYZE); tenant now holds $conversations conversations," \
         "$messages messages; database $size" >&2
}
