-- A build whose speculative tree could not be made names the step (request) whose change did not
-- apply (issue 17): the planner ends that request as a conflict instead of bisecting its batch.
ALTER TABLE sq_paths ADD COLUMN conflict_step VARCHAR(256);
