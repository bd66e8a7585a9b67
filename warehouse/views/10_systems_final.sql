-- systems_final: one row per system with the value that counts and everything an analyst
-- filters on. Extracted values for now; reviewed decisions take precedence once they exist.
CREATE OR REPLACE VIEW systems_final AS
SELECT
    s.paper_id,
    p.source_file,
    s.system,
    s.parameters,
    s.parameters_active,
    s.is_headline,
    p.publication_date,
    p.date_source,
    p.domain,
    p.domains,
    s.parameters_active IS NOT NULL AS is_moe,
    s.status,
    s.confidence,
    s.page,
    s.evidence,
    s.rule,
    s.candidate_id,
    p.title,
    'extracted' AS source
FROM systems s
JOIN papers p USING (paper_id);
