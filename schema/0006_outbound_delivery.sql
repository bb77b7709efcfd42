-- 0006_outbound_delivery: what the delivery worker needs beyond 0002.
--
-- A rate-limited delivery attempt is put back without using up one of the job's attempts (the provider asked us
-- to wait; nothing failed). `deferrals` counts those, so a limit that never lifts (LINE's monthly quota answers
-- 429 too) still ends in the dead letter: past `max_deferrals`, a deferral counts as an attempt.
ALTER TABLE queue_jobs
    ADD COLUMN deferrals     integer NOT NULL DEFAULT 0 CHECK (deferrals >= 0),
    ADD COLUMN max_deferrals integer NOT NULL DEFAULT 200 CHECK (max_deferrals >= 0);
