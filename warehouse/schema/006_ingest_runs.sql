-- 006_ingest_runs: what `paramminer ingest` and `extract` remember between runs.
--   document_aliases  other file names of a PDF already loaded (same sha256, same paper):
--                     the same bytes under two names are one paper, never two
--   ingest_runs       one row per ingest/extract run: how it ended and its inputs, so an
--                     interrupted run is visible and `paramminer ingest --resume` finishes it
-- Times are UTC, without a time zone. For example
--   SELECT run_id, command, status, inputs, loaded, failed FROM ingest_runs ORDER BY run_id DESC;
--   SELECT d.paper_id, a.source_path FROM document_aliases a JOIN documents d USING (sha256);

CREATE TABLE IF NOT EXISTS document_aliases (
    sha256       VARCHAR NOT NULL,            -- the document (documents.sha256)
    source_path  VARCHAR NOT NULL,            -- another path the same bytes were given under
    source_file  VARCHAR NOT NULL,            -- its file name
    seen_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (sha256, source_path)
);

CREATE SEQUENCE IF NOT EXISTS ingest_run_ids START 1;

CREATE TABLE IF NOT EXISTS ingest_runs (
    run_id       BIGINT PRIMARY KEY,
    command      VARCHAR NOT NULL,            -- ingest / extract
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP,                   -- NULL while running (or when killed)
    status       VARCHAR NOT NULL,            -- running / ok / partial / failed / interrupted / abandoned
    pid          INTEGER NOT NULL,
    inputs       INTEGER,                     -- inputs of the run (files, or papers for extract)
    loaded       INTEGER,
    unchanged    INTEGER,
    failed       INTEGER,
    paths        VARCHAR NOT NULL,            -- JSON array: the paths (ingest) or paper ids (extract) asked for; [] = every paper
    finished_by  BIGINT                       -- the later run that covered this one's inputs
);
