-- 0011_conversation_key_order: the conversation key from 0009, with the thread before the account.
--
-- 0009 made a conversation unique per (tenant, channel, channel account, thread). The recording function looks a
-- conversation up by tenant, channel and thread, and matches the account with IS NOT DISTINCT FROM (an env-only
-- account is NULL), which an index cannot search on: with the account third, only (tenant, channel) narrowed the
-- scan, and every inbound message read all of a channel's conversations (at 500 events/s the worker fell seconds
-- behind). With the thread third, the index finds the thread's one or two rows and the account is checked on them.
-- Same columns, so the same rows are unique; the name stays, for ON CONFLICT ON CONSTRAINT.

ALTER TABLE conversations DROP CONSTRAINT conversations_thread_key;
ALTER TABLE conversations ADD CONSTRAINT conversations_thread_key
    UNIQUE NULLS NOT DISTINCT (tenant_id, channel, channel_thread_id, channel_account_id);
