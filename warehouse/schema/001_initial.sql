-- 001_initial: documents (one per PDF), their page texts, papers, candidates, systems, flags.
-- Applied once by paramminer (recorded in schema_migrations); analysts never need to run it.

CREATE TABLE IF NOT EXISTS documents (
    sha256          VARCHAR PRIMARY KEY,      -- the PDF's bytes; the text cache key
    paper_id        VARCHAR NOT NULL,         -- arXiv id without version, else the file stem
    source_file     VARCHAR,                  -- file name as ingested (NULL when harvested)
    source_path     VARCHAR,
    arxiv_id        VARCHAR,
    arxiv_version   INTEGER,
    stamp_date      DATE,                     -- date printed in arXiv's margin stamp
    stamp_category  VARCHAR,
    n_pages         INTEGER NOT NULL,
    n_chars         BIGINT NOT NULL,
    parse_seconds   DOUBLE,
    ingested_at     TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE TABLE IF NOT EXISTS pages (
    sha256  VARCHAR NOT NULL,
    page    INTEGER NOT NULL,                 -- 1-based
    text    VARCHAR NOT NULL,                 -- normalized text (see pdftext.normalize_text)
    PRIMARY KEY (sha256, page)
);

-- One row per paper: the document whose extraction counts, and what we know about it.
CREATE TABLE IF NOT EXISTS papers (
    paper_id          VARCHAR PRIMARY KEY,
    sha256            VARCHAR NOT NULL,       -- current document
    source_file       VARCHAR,
    arxiv_id          VARCHAR,
    arxiv_version     INTEGER,
    title             VARCHAR,
    abstract          VARCHAR,
    authors           VARCHAR,
    categories        VARCHAR,                -- comma-separated arXiv categories when known
    published         DATE,                   -- arXiv API v1 date when harvested
    publication_date  DATE,                   -- first public appearance, best source we have
    date_source       VARCHAR,                -- arxiv_api / arxiv_id / pdf_stamp / venue
    domain            VARCHAR,                -- primary domain (Language, Vision, ...)
    domains           VARCHAR,                -- every domain that applies, comma-separated
    extracted_at      TIMESTAMP,
    ruleset           VARCHAR                 -- rule files and versions that made the rows
);

-- Every parameter-count mention found in a paper's text.
CREATE TABLE IF NOT EXISTS candidates (
    candidate_id      VARCHAR PRIMARY KEY,    -- stable: paper, page, span, rule
    paper_id          VARCHAR NOT NULL,
    sha256            VARCHAR NOT NULL,
    parameters        BIGINT NOT NULL,
    kind              VARCHAR NOT NULL,       -- total / active / non_embedding / per_expert
    system            VARCHAR,                -- model name next to the mention, if any
    page              INTEGER NOT NULL,
    char_start        INTEGER NOT NULL,       -- span of the number in the page text
    char_end          INTEGER NOT NULL,
    mention           VARCHAR NOT NULL,       -- the matched text
    evidence          VARCHAR NOT NULL,       -- the sentence or table row
    section           VARCHAR,                -- abstract / introduction / related / method / experiments / table / appendix / references
    scope             VARCHAR NOT NULL,       -- own / cited / unknown
    score             DOUBLE NOT NULL,        -- how likely this is one of the paper's own sizes
    rule              VARCHAR NOT NULL,       -- rule_id@version
    chosen            BOOLEAN NOT NULL DEFAULT false
);

-- One row per system the paper presents, as extracted (reviewed values live elsewhere).
CREATE TABLE IF NOT EXISTS systems (
    paper_id          VARCHAR NOT NULL,
    system            VARCHAR NOT NULL,       -- model name, or '' when none found
    parameters        BIGINT NOT NULL,
    parameters_active BIGINT,
    is_headline       BOOLEAN NOT NULL,
    confidence        DOUBLE NOT NULL,
    status            VARCHAR NOT NULL,       -- auto / flagged
    candidate_id      VARCHAR NOT NULL,
    page              INTEGER NOT NULL,
    evidence          VARCHAR NOT NULL,
    rule              VARCHAR NOT NULL,
    PRIMARY KEY (paper_id, system, parameters)
);

-- Why an extraction needs a person: reason codes with a human-readable detail.
CREATE TABLE IF NOT EXISTS flags (
    paper_id   VARCHAR NOT NULL,
    stage      VARCHAR NOT NULL DEFAULT 'extract',  -- which stage raised it; a re-run replaces only its own
    system     VARCHAR,
    reason     VARCHAR NOT NULL,
    detail     VARCHAR,
    raised_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- Inputs that could not be ingested, with the reason; cleared when the input later succeeds.
CREATE TABLE IF NOT EXISTS ingest_failures (
    source_path  VARCHAR PRIMARY KEY,
    sha256       VARCHAR,
    reason       VARCHAR NOT NULL,
    failed_at    TIMESTAMP NOT NULL DEFAULT current_timestamp
);
