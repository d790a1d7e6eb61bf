-- Fewer index entries per job state change (issue 16). No update of a job's state is HOT, so each one adds
-- an entry to every index whose predicate the new row matches. (state, id) and (kind, state) took one
-- each on every lease and every completion; one index over live jobs only serves what they served (live
-- jobs by kind and state, listings by state) and takes no entry when a job ends. Counts of ended jobs
-- read the table, as they did for the most part anyway (their entries are the bulk of both old indexes).
DROP INDEX jobs_state;
DROP INDEX jobs_kind_state;
CREATE INDEX jobs_live ON jobs (kind, state, id) WHERE state IN ('QUEUED', 'RUNNING', 'WAITING', 'CANCELLING');
