-- A continuation child (e.g. a snapshot finalizer) runs only after all its ordinary siblings.
ALTER TABLE jobs ADD COLUMN after_siblings INTEGER NOT NULL DEFAULT 0;
