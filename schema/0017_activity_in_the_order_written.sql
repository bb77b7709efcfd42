-- 0017_activity_in_the_order_written: a lead's history lists what one change wrote in the order it was written.
--
-- One request can write several activity lines (an assignment writes ASSIGNED, then STATUS_CHANGED; an update its
-- status, tags and note). With now(), the transaction's start, they all had one created_at, and the history
-- (created_at DESC, id DESC) ordered them by their random ids. clock_timestamp() gives each its own instant.

ALTER TABLE activity_logs ALTER COLUMN created_at SET DEFAULT clock_timestamp();
