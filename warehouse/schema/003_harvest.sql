-- 003_harvest: what `paramminer harvest` remembers between runs.
--   harvest_runs        one row per run: when, how it ended, counts, errors
--   harvest_watermarks  per query: the newest `updated` time seen, so the next run asks only
--                       for what changed since (minus a look-back window)
--   harvest_queue       papers found by a query whose PDF is not yet fetched and ingested
--                       (a killed or failed run resumes from here, without asking the API again)
--   paper_versions      every arXiv version fetched, with the sha256 of its PDF (documents
--                       keeps every PDF; papers points at the newest)
-- Times are UTC, without a time zone. Analysts may read these tables, e.g.
--   SELECT * FROM harvest_runs ORDER BY run_id DESC LIMIT 10;
--   SELECT paper_id, version, attempts, last_error FROM harvest_queue WHERE status <> 'queued';

CREATE SEQUENCE IF NOT EXISTS harvest_run_ids START 1;

CREATE TABLE IF NOT EXISTS harvest_runs (
    run_id           BIGINT PRIMARY KEY,
    started_at       TIMESTAMP NOT NULL,
    finished_at      TIMESTAMP,                 -- NULL while running (or when killed)
    status           VARCHAR NOT NULL,          -- running / ok / partial / failed / interrupted / abandoned
    pid              INTEGER,
    arxiv_url        VARCHAR,
    queries          VARCHAR,                   -- query names, comma-separated
    api_requests     INTEGER NOT NULL DEFAULT 0,  -- HTTP requests to the API, retries included
    pdf_requests     INTEGER NOT NULL DEFAULT 0,  -- HTTP requests for PDFs, retries included
    papers_seen      INTEGER NOT NULL DEFAULT 0,  -- entries the API returned
    new_papers       INTEGER NOT NULL DEFAULT 0,  -- papers not harvested before, queued
    new_versions     INTEGER NOT NULL DEFAULT 0,  -- new versions of papers harvested before, queued
    pdfs_downloaded  INTEGER NOT NULL DEFAULT 0,
    ingested         INTEGER NOT NULL DEFAULT 0,  -- queue items fetched and ingested
    failures         INTEGER NOT NULL DEFAULT 0,  -- failed queries plus failed papers
    errors           VARCHAR                    -- JSON array of one-line messages
);

CREATE TABLE IF NOT EXISTS harvest_watermarks (
    query_name    VARCHAR PRIMARY KEY,          -- the [[query]] name in paramminer.toml
    search_query  VARCHAR NOT NULL,             -- the arXiv search_query it stands for; a change restarts from start_date
    watermark     TIMESTAMP NOT NULL,           -- newest `updated` time among the entries examined
    run_id        BIGINT,
    updated_at    TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS harvest_queue (
    paper_id         VARCHAR NOT NULL,          -- arXiv id without version (validated)
    version          INTEGER NOT NULL,
    query_name       VARCHAR NOT NULL,
    metadata         VARCHAR NOT NULL,          -- the API's description of this version, JSON
    status           VARCHAR NOT NULL,          -- queued / failed (retried next run) / gave_up
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       VARCHAR,
    sha256           VARCHAR,                   -- set once the PDF is in the store
    queued_at        TIMESTAMP NOT NULL,
    last_attempt_at  TIMESTAMP,
    run_id           BIGINT,
    PRIMARY KEY (paper_id, version)
);

CREATE TABLE IF NOT EXISTS paper_versions (
    paper_id    VARCHAR NOT NULL,
    version     INTEGER NOT NULL,
    sha256      VARCHAR NOT NULL,               -- documents.sha256 of this version's PDF
    published   DATE,                           -- v1 day, as the API gave it
    updated     TIMESTAMP,                      -- this version's time
    bytes       BIGINT,
    pdf_path    VARCHAR,                        -- <pdf store>/<sha[:2]>/<sha>.pdf
    query_name  VARCHAR,
    run_id      BIGINT,
    fetched_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (paper_id, version)
);
