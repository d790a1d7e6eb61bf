-- Land requests carry a priority (issue 17): higher is batched and built first; 0 is normal.
ALTER TABLE sq_requests ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
