-- analysis_systems: the systems analysts fit, one row each, from every source:
--   source 'extracted': the headline rows of systems_final (one system per paper);
--   source <name>:      the rows of reference_systems imported under that name.
-- Rows need parameters > 0 and a publication date. Settings (analysis_settings_by_source):
--   exclude_moe = 1        mixture-of-experts systems are left out (for that source);
--   other_min_systems = N  a domain with fewer than N systems (in that source) becomes 'Other'.
-- year_fraction is linear time in years (1970 + days / 365.2425), the x of every trend fit.
-- Reference rows count as MoE when their parameter notes say so (mixture of experts, MoE,
-- active/activated parameters): Epoch's tables have no MoE column.
CREATE OR REPLACE VIEW analysis_systems AS
WITH knobs AS (
    SELECT
        source,
        coalesce(max(value) FILTER (WHERE name = 'exclude_moe'), 0) <> 0 AS exclude_moe,
        coalesce(max(value) FILTER (WHERE name = 'other_min_systems'), 0) AS other_min_systems
    FROM analysis_settings_by_source
    GROUP BY source
),
pooled AS (
    SELECT
        'extracted' AS source,
        f.system,
        f.paper_id,
        CAST(f.parameters AS DOUBLE) AS parameters,
        CAST(f.parameters_active AS DOUBLE) AS parameters_active,
        f.publication_date,
        nullif(trim(f.domain), '') AS domain_original,
        f.domains,
        coalesce(f.is_moe, false) AS is_moe,
        f.status,
        CAST(f.confidence AS VARCHAR) AS confidence
    FROM systems_final f
    WHERE f.is_headline AND coalesce(f.status, '') <> 'rejected'
    UNION ALL
    SELECT
        r.source,
        r.system,
        r.arxiv_id AS paper_id,
        r.parameters,
        CAST(NULL AS DOUBLE) AS parameters_active,
        r.publication_date,
        nullif(trim(r.domain), '') AS domain_original,
        r.domains,
        regexp_matches(coalesce(r.notes, ''),
                       '(?i)mixture[ -]of[ -]experts|\bmoe\b|\bactive\b|\bactivated\b') AS is_moe,
        'reference' AS status,
        r.confidence
    FROM reference_systems r
),
kept AS (
    SELECT p.*, coalesce(k.other_min_systems, 0) AS other_min_systems
    FROM pooled p
    LEFT JOIN knobs k USING (source)
    WHERE p.parameters > 0
      AND p.publication_date IS NOT NULL
      AND NOT (coalesce(k.exclude_moe, false) AND p.is_moe)
),
counted AS (
    SELECT *, count(*) OVER (PARTITION BY source, domain_original) AS domain_systems
    FROM kept
)
SELECT
    source,
    system,
    paper_id,
    parameters,
    parameters_active,
    log10(parameters) AS log10_parameters,
    publication_date,
    1970 + date_diff('day', DATE '1970-01-01', publication_date) / 365.2425::DOUBLE AS year_fraction,
    CASE
        WHEN domain_original IS NULL OR domain_systems < other_min_systems THEN 'Other'
        ELSE domain_original
    END AS domain,
    domain_original,
    domains,
    is_moe,
    status,
    confidence
FROM counted;
