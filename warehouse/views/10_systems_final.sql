-- systems_final: one row per system with the value that counts and everything an analyst
-- filters on. Reviewed decisions win over extracted values (status 'reviewed'); a system a
-- reviewer marked "not stated in paper" is left out. Two helper views come first because
-- systems_final and the review views (15_review_*.sql) both use them.

-- Every extracted system with its review item key: the paper_id for the paper's headline
-- (so a decision follows the headline across re-extraction), else paper_id:hash of name and value.
CREATE OR REPLACE VIEW systems_keyed AS
SELECT
    s.*,
    CASE WHEN s.is_headline THEN s.paper_id
         ELSE s.paper_id || ':' || substr(md5(s.system || '|' || CAST(s.parameters AS VARCHAR)), 1, 8)
    END AS item_key
FROM systems s;

-- The decision in force per item: the latest one that no undo row has cancelled.
CREATE OR REPLACE VIEW review_current AS
SELECT d.*
FROM decisions d
WHERE d.action <> 'undo'
  AND NOT EXISTS (SELECT 1 FROM decisions u WHERE u.action = 'undo' AND u.supersedes = d.decision_id)
QUALIFY row_number() OVER (PARTITION BY d.item_key ORDER BY d.decision_id DESC) = 1;

CREATE OR REPLACE VIEW systems_final AS
WITH merged AS (
    -- extracted systems, with the decision in force when there is one
    SELECT
        s.paper_id,
        s.system,
        CASE WHEN d.decision_id IS NULL THEN s.parameters ELSE d.new_value END AS parameters,
        CASE WHEN d.decision_id IS NULL THEN s.parameters_active ELSE d.new_active END
            AS parameters_active,
        s.is_headline,
        CASE WHEN d.decision_id IS NULL THEN s.status ELSE 'reviewed' END AS status,
        CASE WHEN d.decision_id IS NULL THEN s.confidence ELSE 1.0 END AS confidence,
        CASE WHEN d.decision_id IS NULL OR d.action = 'accept' THEN s.page ELSE d.page END AS page,
        CASE WHEN d.decision_id IS NULL OR d.action = 'accept' THEN s.evidence
             ELSE coalesce(d.evidence, 'value set by reviewer ' || d.reviewer
                           || coalesce(': ' || d.note, '')) END AS evidence,
        CASE WHEN d.decision_id IS NULL OR d.action = 'accept' THEN s.rule
             ELSE coalesce(d.rule, 'review:' || d.action) END AS rule,
        CASE WHEN d.decision_id IS NULL OR d.action = 'accept' THEN s.candidate_id
             ELSE d.candidate_id END AS candidate_id,
        s.item_key,
        s.parameters AS extracted_parameters,
        d.decision_id,
        d.action AS review_action,
        d.reviewer AS reviewed_by,
        d.decided_at AS reviewed_at,
        d.note AS review_note
    FROM systems_keyed s
    LEFT JOIN review_current d USING (item_key)
    UNION ALL
    -- decided items extraction no longer produces: the decision still stands
    SELECT
        d.paper_id, d.system, d.new_value, d.new_active,
        d.is_headline AND NOT EXISTS (
            SELECT 1 FROM systems h WHERE h.paper_id = d.paper_id AND h.is_headline),
        'reviewed', 1.0, d.page,
        coalesce(d.evidence, 'value set by reviewer ' || d.reviewer || coalesce(': ' || d.note, '')),
        coalesce(d.rule, 'review:' || d.action), d.candidate_id,
        d.item_key, NULL, d.decision_id, d.action, d.reviewer, d.decided_at, d.note
    FROM review_current d
    WHERE NOT EXISTS (SELECT 1 FROM systems_keyed k WHERE k.item_key = d.item_key)
)
SELECT
    m.paper_id,
    p.source_file,
    m.system,
    m.parameters,
    m.parameters_active,
    m.is_headline,
    p.publication_date,
    p.date_source,
    p.domain,
    p.domains,
    m.parameters_active IS NOT NULL AS is_moe,
    m.status,
    m.confidence,
    m.page,
    m.evidence,
    m.rule,
    m.candidate_id,
    p.title,
    CASE WHEN m.decision_id IS NULL THEN 'extracted' ELSE 'reviewed' END AS source,
    m.item_key,
    m.extracted_parameters,
    m.decision_id,
    m.review_action,
    m.reviewed_by,
    m.reviewed_at,
    m.review_note
FROM merged m
JOIN papers p USING (paper_id)
WHERE m.parameters IS NOT NULL;  -- rejected: "not stated in paper"
