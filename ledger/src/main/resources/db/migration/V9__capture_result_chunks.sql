-- Pieces of file-group results too large for one message, staged until the result that names them.
CREATE TABLE capture_result_chunks (
  job_id       VARCHAR(64)  NOT NULL,
  result_id    VARCHAR(512) NOT NULL,
  chunk_index  INTEGER      NOT NULL,
  chunk_count  INTEGER      NOT NULL,
  data         ${bytes}     NOT NULL,
  created_at   BIGINT       NOT NULL,
  PRIMARY KEY (job_id, result_id, chunk_index)
);
