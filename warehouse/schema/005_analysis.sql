-- 005_analysis: what the analyst views read besides systems_final.
--   analysis_settings  knobs of the trend views (gap bounds, "Other" threshold, MoE exclusion)
--   eras               date windows the trends are fitted in
--   reference_sources / reference_systems   curated tables (Epoch AI's format) loaded by
--                      `paramminer reference import`
--   trend_bootstrap    bootstrap intervals of doubling times, written by `paramminer report`
-- Applied once; analysts change the settings and eras with plain SQL afterwards, e.g.
--   UPDATE analysis_settings SET value = 30e9 WHERE source = '*' AND name = 'gap_low';
--   INSERT INTO analysis_settings VALUES ('epoch', 'exclude_moe', 1, 'MoE totals overstate size');
--   INSERT INTO eras VALUES ('2018-2022', DATE '2018-01-01', DATE '2022-01-01', 'Villalobos et al.');

-- One row per (source, setting). source '*' is the default; a row for a named source
-- (a reference name or 'extracted') overrides it for that source only.
CREATE TABLE IF NOT EXISTS analysis_settings (
    source  VARCHAR NOT NULL DEFAULT '*',
    name    VARCHAR NOT NULL,
    value   DOUBLE NOT NULL,
    note    VARCHAR,
    PRIMARY KEY (source, name)
);

INSERT OR IGNORE INTO analysis_settings VALUES
    ('*', 'gap_low', 20e9, 'parameter gap: lower bound (systems below it are "below the gap")'),
    ('*', 'gap_high', 70e9, 'parameter gap: upper bound (systems above it are "above the gap")'),
    ('*', 'gap_start_year', 2020, 'first year counted in gap_counts'),
    ('*', 'other_min_systems', 10, 'domains with fewer systems than this (per source) become Other'),
    ('*', 'exclude_moe', 0, '1: leave mixture-of-experts systems out of every analysis view');

-- Date windows: start_date inclusive, end_date exclusive; NULL means open-ended.
-- Eras may overlap (the large-scale era lies inside the deep-learning era).
CREATE TABLE IF NOT EXISTS eras (
    era         VARCHAR PRIMARY KEY,
    start_date  DATE,
    end_date    DATE,
    note        VARCHAR
);

INSERT OR IGNORE INTO eras VALUES
    ('pre-deep-learning', NULL, DATE '2010-01-01', 'before 2010 (Epoch uses 2009-12-31)'),
    ('deep-learning', DATE '2010-01-01', NULL, 'from 2010'),
    ('large-scale', DATE '2015-09-01', NULL, 'from September 2015');

CREATE TABLE IF NOT EXISTS reference_sources (
    name         VARCHAR PRIMARY KEY,       -- the --name given at import; the `source` of its rows
    file         VARCHAR NOT NULL,          -- the CSV imported
    imported_at  TIMESTAMP NOT NULL DEFAULT current_timestamp,
    rows         INTEGER NOT NULL,          -- rows loaded
    skipped      INTEGER NOT NULL DEFAULT 0 -- rows without parameters or date
);

-- One row per system of a curated table; re-importing a name replaces its rows.
CREATE TABLE IF NOT EXISTS reference_systems (
    source            VARCHAR NOT NULL,     -- reference_sources.name
    system            VARCHAR NOT NULL,     -- "Model"
    parameters        DOUBLE NOT NULL,      -- "Parameters" (total for MoE)
    publication_date  DATE NOT NULL,        -- "Publication date"
    domain            VARCHAR,              -- first of "Domain"
    domains           VARCHAR,              -- "Domain" as given (comma-separated)
    confidence        VARCHAR,              -- Confident / Likely / Speculative / Unknown
    link              VARCHAR,
    arxiv_id          VARCHAR,              -- parsed from an arxiv.org link, without version
    organization      VARCHAR,
    notes             VARCHAR               -- "Parameters notes"
);

-- Bootstrap percentiles of the slope of log10(parameters) per year, and the doubling
-- times they imply (a larger slope is a shorter doubling time, so doubling_p5 comes from
-- slope_p95). fit: 'systems' (trend_fits) or 'record_setters' (record_trend_fits).
CREATE TABLE IF NOT EXISTS trend_bootstrap (
    source             VARCHAR NOT NULL,
    fit                VARCHAR NOT NULL,
    domain             VARCHAR NOT NULL,
    era                VARCHAR NOT NULL,
    n                  INTEGER NOT NULL,
    resamples          INTEGER NOT NULL,
    seed               BIGINT NOT NULL,
    slope_p5           DOUBLE,
    slope_p50          DOUBLE,
    slope_p95          DOUBLE,
    doubling_months_p5   DOUBLE,            -- NULL when slope_p95 <= 0
    doubling_months_p50  DOUBLE,
    doubling_months_p95  DOUBLE,            -- NULL when slope_p5 <= 0 (no clear growth)
    computed_at        TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (source, fit, domain, era)
);
