-- 0002_pipeline: how work moves. Webhook events in, the transactional outbox, the job queue (with dead letters),
-- idempotency keys for POST /api/messages/send, and per channel account rate-limit windows.
--
-- No NOTIFY triggers here on purpose: a pg_notify inside a committing transaction takes a cluster-wide lock until
-- its WAL flush ends and stops commits from sharing flushes (measured: ~6k → ~2.5k commits/s). Producers wake the
-- worker after commit instead; the worker polls as a backstop.

-- Orders outbox events and queue jobs on one scale: the relay copies outbox_events.seq into
-- queue_jobs.ordering_seq, and a job enqueued directly draws from the same sequence.
-- Only used to order work within an ordering key, never as a "greater than last seen" polling watermark (values
-- are taken at insert, rows commit in another order).
CREATE SEQUENCE pipeline_seq AS bigint;

-- ---------------------------------------------------------------------------------------------------------------
-- webhook_events: every provider event, stored once.
-- ---------------------------------------------------------------------------------------------------------------
CREATE TABLE webhook_events (
    id                  uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id           uuid        NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    channel             text        NOT NULL CHECK (channel IN ('LINE', 'FACEBOOK', 'INSTAGRAM')),
    channel_account_id  uuid,
    -- LINE webhookEventId, Messenger mid, comment id (or a hash of the raw event when it has no id).
    provider_event_id   text        NOT NULL CHECK (provider_event_id <> ''),
    event_type          text,
    payload             jsonb       NOT NULL,
    received_at         timestamptz NOT NULL DEFAULT now(),
    -- Set by the worker when the inbound job for this event has finished (the seed never set it).
    processed_at        timestamptz,
    last_error          text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    -- Redeliveries and duplicates: INSERT ... ON CONFLICT ON CONSTRAINT webhook_events_provider_event_key
    -- DO NOTHING RETURNING id — only returned rows get an outbox event.
    CONSTRAINT webhook_events_provider_event_key UNIQUE (tenant_id, channel, provider_event_id),
    -- No index on channel_account_id on purpose: this is the hottest insert path, and accounts are deleted rarely
    -- (a deletion scans this table once per account).
    CONSTRAINT webhook_events_channel_account_fkey FOREIGN KEY (tenant_id, channel_account_id, channel)
        REFERENCES channel_accounts (tenant_id, id, channel) ON DELETE SET NULL (channel_account_id)
);
-- Retention (DELETE ... WHERE received_at < $1): BRIN costs next to nothing on an append-only table.
CREATE INDEX webhook_events_received_at_brin ON webhook_events USING brin (received_at);

-- ---------------------------------------------------------------------------------------------------------------
-- outbox_events: written in the same transaction as the business change; relayed to queue_jobs by the worker.
-- Life: PENDING → PROCESSING (leased) → DISPATCHED; back to PENDING with a later available_at on failure;
-- DEAD_LETTER after max_attempts (listable, replayable). A PROCESSING row whose lease expired is taken again.
-- No updated_at: each step has its own timestamp (available_at, lease_expires_at, dispatched_at,
-- dead_lettered_at), and the hot path avoids a trigger.
-- ---------------------------------------------------------------------------------------------------------------
CREATE TABLE outbox_events (
    id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    seq               bigint      NOT NULL DEFAULT nextval('pipeline_seq'),
    tenant_id         uuid        NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    topic             text        NOT NULL CHECK (topic ~ '^[a-z][a-z0-9_.-]*$'),
    payload           jsonb       NOT NULL,
    -- Natural key of the work (e.g. `line:<webhookEventId>`, `outbound:<messageId>`); the relay copies it to the
    -- queue job so a relay retried after a crash cannot enqueue twice.
    idempotency_key   text        NOT NULL CHECK (idempotency_key <> ''),
    -- Work with the same key is done in seq order (e.g. the conversation id for outbound messages).
    ordering_key      text,
    status            text        NOT NULL DEFAULT 'PENDING'
                                  CHECK (status IN ('PENDING', 'PROCESSING', 'DISPATCHED', 'DEAD_LETTER')),
    attempts          integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts      integer     NOT NULL DEFAULT 25 CHECK (max_attempts > 0),
    available_at      timestamptz NOT NULL DEFAULT now(),
    -- Visibility timeout: a PROCESSING row whose lease has expired belongs to a dead relay and is reclaimed.
    lease_expires_at  timestamptz,
    locked_by         text,
    last_error        text,
    dispatched_at     timestamptz,
    dead_lettered_at  timestamptz,
    replay_count      integer     NOT NULL DEFAULT 0 CHECK (replay_count >= 0),
    created_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT outbox_events_idempotency_key UNIQUE (tenant_id, topic, idempotency_key),
    CONSTRAINT outbox_events_processing_has_lease_check
        CHECK (status <> 'PROCESSING' OR lease_expires_at IS NOT NULL),
    CONSTRAINT outbox_events_dispatched_has_time_check
        CHECK (status <> 'DISPATCHED' OR dispatched_at IS NOT NULL),
    CONSTRAINT outbox_events_dead_letter_has_time_check
        CHECK (status <> 'DEAD_LETTER' OR dead_lettered_at IS NOT NULL)
);
-- Claim: SELECT ... WHERE status = 'PENDING' AND available_at <= now() ORDER BY available_at, seq
--        LIMIT $n FOR UPDATE SKIP LOCKED. Partial, so dispatched rows leave the index.
CREATE INDEX outbox_events_claim_idx ON outbox_events (available_at, seq) WHERE status = 'PENDING';
-- Reclaim expired leases.
CREATE INDEX outbox_events_lease_idx ON outbox_events (lease_expires_at) WHERE status = 'PROCESSING';
-- Dead letters, newest first.
CREATE INDEX outbox_events_dead_letter_idx ON outbox_events (dead_lettered_at DESC, id)
    WHERE status = 'DEAD_LETTER';

-- ---------------------------------------------------------------------------------------------------------------
-- queue_jobs: the worker's jobs.
-- Life: PENDING → RUNNING (leased, attempts + 1) → DONE; on a retryable failure back to PENDING with a later
-- available_at; a rate-limited attempt goes back to PENDING without using up an attempt; DEAD_LETTER after
-- max_attempts or on a permanent error. Replay = DEAD_LETTER → PENDING (replay_count + 1, attempts reset).
-- A RUNNING job whose lease expired (worker killed) is reclaimed; workers extend the lease as a heartbeat.
-- No updated_at, for the same reason as outbox_events.
-- ---------------------------------------------------------------------------------------------------------------
CREATE TABLE queue_jobs (
    id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id         uuid        NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    topic             text        NOT NULL CHECK (topic ~ '^[a-z][a-z0-9_.-]*$'),
    payload           jsonb       NOT NULL,
    idempotency_key   text        NOT NULL CHECK (idempotency_key <> ''),
    -- Jobs sharing an ordering key (a conversation id for outbound messages) run one at a time, in ordering_seq
    -- order: a job is claimable only when no PENDING/RUNNING job of the same (topic, ordering_key) has a lower
    -- ordering_seq. A retrying job holds back its own key only.
    ordering_key      text,
    ordering_seq      bigint      NOT NULL DEFAULT nextval('pipeline_seq'),
    status            text        NOT NULL DEFAULT 'PENDING'
                                  CHECK (status IN ('PENDING', 'RUNNING', 'DONE', 'DEAD_LETTER')),
    attempts          integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts      integer     NOT NULL DEFAULT 10 CHECK (max_attempts > 0),
    available_at      timestamptz NOT NULL DEFAULT now(),
    lease_expires_at  timestamptz,
    locked_by         text,
    started_at        timestamptz,
    last_error        text,
    -- The outbox event this job was relayed from (kept for tracing; outbox rows are pruned, so no FK).
    outbox_event_id   uuid,
    finished_at       timestamptz,
    dead_lettered_at  timestamptz,
    replay_count      integer     NOT NULL DEFAULT 0 CHECK (replay_count >= 0),
    created_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT queue_jobs_idempotency_key UNIQUE (tenant_id, topic, idempotency_key),
    CONSTRAINT queue_jobs_running_has_lease_check
        CHECK (status <> 'RUNNING' OR lease_expires_at IS NOT NULL),
    CONSTRAINT queue_jobs_done_has_time_check
        CHECK (status <> 'DONE' OR finished_at IS NOT NULL),
    CONSTRAINT queue_jobs_dead_letter_has_time_check
        CHECK (status <> 'DEAD_LETTER' OR dead_lettered_at IS NOT NULL)
);
-- Claim: WHERE status = 'PENDING' AND topic = $1 AND available_at <= now() ORDER BY available_at, ordering_seq
--        LIMIT $n FOR UPDATE SKIP LOCKED. Partial, so finished jobs leave the index and its head stays small.
CREATE INDEX queue_jobs_claim_idx ON queue_jobs (topic, available_at, ordering_seq) WHERE status = 'PENDING';
-- Reclaim expired leases.
CREATE INDEX queue_jobs_lease_idx ON queue_jobs (lease_expires_at) WHERE status = 'RUNNING';
-- "Is an earlier job of this ordering key still pending or running?"
CREATE INDEX queue_jobs_ordering_idx ON queue_jobs (topic, ordering_key, ordering_seq)
    WHERE status IN ('PENDING', 'RUNNING') AND ordering_key IS NOT NULL;
-- `hubchat dead-letters list`, newest first.
CREATE INDEX queue_jobs_dead_letter_idx ON queue_jobs (dead_lettered_at DESC, id) WHERE status = 'DEAD_LETTER';

-- ---------------------------------------------------------------------------------------------------------------
-- idempotency_keys: the `Idempotency-Key` header of POST /api/messages/send (and any later POST).
-- Written in the same transaction as the message and its outbox event, so there is no "in progress" state to get
-- stuck in: a concurrent duplicate blocks on the unique key until the first commits (then replays its answer) or
-- rolls back (then proceeds as new). A failed request leaves no key behind, so a retry is not swallowed.
-- ---------------------------------------------------------------------------------------------------------------
CREATE TABLE idempotency_keys (
    tenant_id            uuid        NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    -- What the key applies to, e.g. 'POST /api/messages/send'.
    scope                text        NOT NULL CHECK (scope <> ''),
    key                  text        NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    -- Hash of the canonical request; the same key with another fingerprint is refused (422), not replayed.
    request_fingerprint  text        NOT NULL,
    agent_id             uuid,
    -- The result to replay. message_id is not an FK: the replayed answer stays what it was.
    message_id           uuid,
    response_status      integer     CHECK (response_status BETWEEN 100 AND 599),
    response_body        jsonb,
    expires_at           timestamptz NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, scope, key),
    CONSTRAINT idempotency_keys_expiry_check CHECK (expires_at > created_at)
);
-- Purge of expired keys. An expired key still present is treated as absent (ON CONFLICT ... DO UPDATE ... WHERE
-- idempotency_keys.expires_at <= now()).
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);

-- ---------------------------------------------------------------------------------------------------------------
-- rate_limit_windows: request counters per channel account, shared by every worker instance.
-- One row per (account, bucket, window length, window start). Fixed window: window_start =
-- to_timestamp(floor(epoch / window_seconds) * window_seconds). Sliding window: also read the previous window's
-- row and weight it by the part of it still inside the sliding window.
-- Rejected calls do NOT count: take a slot with
--   INSERT ... VALUES (..., 1) ON CONFLICT ON CONSTRAINT rate_limit_windows_pkey
--   DO UPDATE SET request_count = rate_limit_windows.request_count + 1
--   WHERE rate_limit_windows.request_count < $limit RETURNING request_count
-- and no row back means "limited, retry later" with nothing incremented.
-- ---------------------------------------------------------------------------------------------------------------
CREATE TABLE rate_limit_windows (
    tenant_id           uuid        NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    channel_account_id  uuid        NOT NULL,
    -- Several limiters per account: our own OUTBOUND_RATE_LIMIT_* and a provider's own limit.
    bucket              text        NOT NULL DEFAULT 'outbound' CHECK (bucket <> ''),
    window_seconds      integer     NOT NULL CHECK (window_seconds > 0),
    window_start        timestamptz NOT NULL,
    request_count       integer     NOT NULL DEFAULT 0 CHECK (request_count >= 0),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, channel_account_id, bucket, window_seconds, window_start),
    CONSTRAINT rate_limit_windows_channel_account_fkey FOREIGN KEY (tenant_id, channel_account_id)
        REFERENCES channel_accounts (tenant_id, id) ON DELETE CASCADE
);
-- Pruning old windows (DELETE ... WHERE window_start < now() - interval '1 hour').
CREATE INDEX rate_limit_windows_window_start_idx ON rate_limit_windows (window_start);
CREATE TRIGGER rate_limit_windows_set_updated_at BEFORE UPDATE ON rate_limit_windows
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
