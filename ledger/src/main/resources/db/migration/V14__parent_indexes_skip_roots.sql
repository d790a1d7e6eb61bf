-- Only children are looked up by parent (every query says parent_id = ?, which implies NOT NULL, so
-- both planners still use these). Root jobs, most jobs of a build queue, no longer pay two index
-- insertions on every state change: a PostgreSQL update of a job wrote eight index entries, now six.
DROP INDEX jobs_parent;
CREATE INDEX jobs_parent ON jobs (parent_id, child_ordinal) WHERE parent_id IS NOT NULL;
DROP INDEX jobs_parent_state;
CREATE INDEX jobs_parent_state ON jobs (parent_id, state) WHERE parent_id IS NOT NULL;
