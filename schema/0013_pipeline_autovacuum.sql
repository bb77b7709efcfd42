-- 0013_pipeline_autovacuum: vacuum and analyze the pipeline's hot tables by row count, not by their size.
--
-- webhook_events, outbox_events and queue_jobs take an insert and two or three updates per event. With the
-- defaults (20 % of the table changed before a vacuum, 10 % before an analyze), a table holding 30 days of history
-- waits for millions of changes: meanwhile the claim indexes fill with dead entries at their head, which every
-- claim walks (this machine measured -20 % claims/s within 10 s of a queue's churn, docs/benchmarks.md), and a new
-- install's statements keep the plans they made on empty tables. Here they are vacuumed and analyzed every
-- 10,000 changes, without the cost-based delay (autovacuum_naptime, one minute by default, still paces them).

ALTER TABLE webhook_events SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000,
                                autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 10000,
                                autovacuum_vacuum_cost_delay = 0);
ALTER TABLE outbox_events SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000,
                               autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 10000,
                               autovacuum_vacuum_cost_delay = 0);
ALTER TABLE queue_jobs SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000,
                            autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 10000,
                            autovacuum_vacuum_cost_delay = 0);
