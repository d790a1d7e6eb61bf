-- A build whose speculative tree could not be made names the step (request) whose change did not
-- apply (issue 17): the planner ends that request as a conflict instead of bisecting its batch.
ALTER TABLE sq_paths ADD COLUMN conflict_step VARCHAR(256);
-- A build whose job ended without a verdict (its attempts ran out on infrastructure failures) is built
-- again by a new job, a bounded number of times, instead of failing its batch.
ALTER TABLE sq_paths ADD COLUMN rebuilds INTEGER NOT NULL DEFAULT 0;
