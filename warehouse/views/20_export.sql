-- export_systems / export_candidates: the output contract of DESIGN.md, column for column.
CREATE OR REPLACE VIEW export_systems AS
SELECT
    paper_id,
    coalesce(source_file, '') AS source_file,
    system,
    parameters,
    parameters_active,
    is_headline,
    strftime(publication_date, '%Y-%m-%d') AS publication_date,
    date_source,
    domain,
    status,
    round(confidence, 3) AS confidence,
    page,
    evidence,
    rule
FROM systems_final
ORDER BY paper_id, is_headline DESC, parameters DESC;

CREATE OR REPLACE VIEW export_candidates AS
SELECT
    c.paper_id,
    coalesce(p.source_file, '') AS source_file,
    c.parameters,
    c.kind,
    c.system,
    c.page,
    c.evidence,
    c.rule,
    c.chosen,
    c.scope,
    round(c.score, 3) AS score,
    c.section,
    c.candidate_id
FROM candidates c
JOIN papers p USING (paper_id)
ORDER BY c.paper_id, c.page, c.char_start;
