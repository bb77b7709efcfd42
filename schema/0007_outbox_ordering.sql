-- 0007_outbox_ordering: keeping one ordering key's jobs in order across several relays.
--
-- A job is claimed only when no earlier job of its ordering key (one conversation's sends, one customer's events)
-- is waiting or running. With several workers, each relaying the outbox, an earlier event can still be in the
-- outbox (or in another relay's hands) while a later one is already a job, so the claim also looks there; jobs
-- carry their outbox event's `seq` as `ordering_seq`, so the two compare on one scale. This index answers that
-- look-up: only events not yet relayed are in it.
CREATE INDEX outbox_events_ordering_idx ON outbox_events (topic, ordering_key, seq)
    WHERE status IN ('PENDING', 'PROCESSING') AND ordering_key IS NOT NULL;
