-- review_flags / review_items: what a reviewer sees. Each flag is tied to one review item
-- (the paper's headline unless it names another system); each item carries its extracted
-- value, the decision in force, its reason codes, and whether it is waiting for a person.

CREATE OR REPLACE VIEW review_flags AS
SELECT
    f.paper_id,
    f.stage,
    f.system,
    f.reason,
    f.detail,
    f.raised_at,
    coalesce(
        f.item_key,
        CASE WHEN f.system IS NULL OR f.system = h.system THEN f.paper_id END,
        (SELECT min(k.item_key) FROM systems_keyed k
         WHERE k.paper_id = f.paper_id AND k.system = f.system),
        f.paper_id
    ) AS item_key
FROM flags f
LEFT JOIN (SELECT paper_id, system FROM systems WHERE is_headline) h USING (paper_id);

CREATE OR REPLACE VIEW review_items AS
WITH keys AS (
    SELECT item_key, paper_id FROM systems_keyed
    UNION SELECT item_key, paper_id FROM review_flags
    UNION SELECT item_key, paper_id FROM review_current
),
reasons AS (
    SELECT
        item_key,
        string_agg(DISTINCT reason, ',' ORDER BY reason) AS reasons,
        max(raised_at) FILTER (WHERE stage <> 'extract') AS latest_review_flag
    FROM review_flags
    GROUP BY item_key
)
SELECT
    k.item_key,
    k.paper_id,
    p.title,
    coalesce(s.system, d.system, '') AS system,
    coalesce(s.is_headline, d.is_headline, k.item_key = k.paper_id) AS is_headline,
    s.parameters AS suggested,
    s.parameters_active AS suggested_active,
    s.confidence,
    s.status AS extract_status,
    s.candidate_id,
    s.page,
    s.evidence,
    coalesce(r.reasons, CASE WHEN s.status = 'flagged' THEN 'low_confidence' END, '') AS reasons,
    d.decision_id,
    d.action AS decided_action,
    d.new_value AS decided_value,
    d.new_active AS decided_active,
    d.reviewer AS decided_by,
    d.decided_at,
    d.note AS decided_note,
    (d.decision_id IS NULL AND (r.reasons IS NOT NULL OR s.status = 'flagged'))
        OR (d.decision_id IS NOT NULL AND r.latest_review_flag > d.decided_at) AS is_open,
    p.publication_date,
    p.domain,
    p.domains,
    coalesce(s.parameters, 0) AS sort_value
FROM keys k
JOIN papers p USING (paper_id)
LEFT JOIN systems_keyed s USING (item_key)
LEFT JOIN review_current d USING (item_key)
LEFT JOIN reasons r USING (item_key);
