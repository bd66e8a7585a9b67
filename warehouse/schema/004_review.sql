-- 004_review: the review queue's memory. `decisions` is append-only: every accept, choice,
-- typed value, rejection and undo is a new row; nothing is ever updated or deleted (undo is a
-- row whose `supersedes` names the decision it cancels). Reviewed values win in systems_final.

CREATE SEQUENCE IF NOT EXISTS decision_ids START 1;

CREATE TABLE IF NOT EXISTS decisions (
    decision_id      BIGINT PRIMARY KEY DEFAULT nextval('decision_ids'),
    item_key         VARCHAR NOT NULL,   -- review item: paper_id (headline) or paper_id:hash8 (other system)
    paper_id         VARCHAR NOT NULL,
    system           VARCHAR NOT NULL,   -- the system's name when decided ('' when none)
    is_headline      BOOLEAN NOT NULL,
    action           VARCHAR NOT NULL,   -- accept / choose / set / reject / undo
    old_value        BIGINT,             -- value in force just before (NULL: none)
    new_value        BIGINT,             -- value decided (NULL: not stated in the paper)
    new_active       BIGINT,             -- MoE active count decided, if any
    extracted_value  BIGINT,             -- what extraction said at the time; reconcile compares to it
    candidate_id     VARCHAR,            -- provenance of the decided value, when it is a candidate
    page             INTEGER,
    evidence         VARCHAR,
    rule             VARCHAR,
    supersedes       BIGINT,             -- undo rows: the decision_id they cancel
    reviewer         VARCHAR NOT NULL,
    note             VARCHAR,
    origin           VARCHAR NOT NULL,   -- session / cli / csv:FILE
    decided_at       TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- The reason codes a flag may carry, with what a reviewer should look at.
CREATE TABLE IF NOT EXISTS flag_reasons (
    reason       VARCHAR PRIMARY KEY,
    raised_by    VARCHAR NOT NULL,      -- stage that raises it
    description  VARCHAR NOT NULL
);

INSERT INTO flag_reasons VALUES
    ('several_candidates', 'extract', 'several own sizes and no model name to tell them apart'),
    ('own_vs_cited', 'extract', 'a larger value may also be the paper''s own model, not a cited one'),
    ('low_confidence', 'extract', 'no mention is clearly the paper''s own size, or confidence is below the threshold'),
    ('implausible_value', 'review', 'a value that cannot be right as extracted (e.g. active >= total)'),
    ('moe_ambiguity', 'extract', 'mixture of experts without a clear total/active pair'),
    ('date_conflict', 'extract', 'the date sources disagree'),
    ('reference_mismatch', 'reference', 'the value differs from an imported reference dataset'),
    ('changed_after_review', 'review', 'extraction changed after a reviewer decided; the decision stays in force');

-- Review-stage flags name the exact item they are about; extract flags leave it NULL
-- (their `system` column, NULL meaning the paper's headline, says it instead).
ALTER TABLE flags ADD COLUMN IF NOT EXISTS item_key VARCHAR;
