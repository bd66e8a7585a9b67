-- record_setters: per source and domain (and 'All'), the systems that were the largest yet
-- at their publication date: strictly larger than every earlier system. Of several systems
-- of the same date only the largest can set the record; of equal ones, the first by name.
-- (Computed per day first, so the running maximum walks days rather than systems.)
CREATE OR REPLACE VIEW record_setters AS
WITH scoped AS (
    SELECT source, domain, system, paper_id, publication_date, year_fraction, parameters,
           log10_parameters
    FROM analysis_systems
    UNION ALL
    SELECT source, 'All', system, paper_id, publication_date, year_fraction, parameters,
           log10_parameters
    FROM analysis_systems
),
days AS (
    SELECT source, domain, publication_date, max(parameters) AS day_max
    FROM scoped
    GROUP BY source, domain, publication_date
),
record_days AS (
    SELECT *
    FROM (
        SELECT
            *,
            max(day_max) OVER (
                PARTITION BY source, domain ORDER BY publication_date
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
            ) AS previous_record
        FROM days
    )
    WHERE previous_record IS NULL OR day_max > previous_record
)
SELECT
    s.source,
    s.domain,
    s.system,
    s.paper_id,
    s.publication_date,
    s.year_fraction,
    s.parameters,
    s.log10_parameters,
    d.previous_record,
    s.parameters / d.previous_record AS times_previous_record
FROM record_days d
JOIN scoped s
  ON s.source = d.source AND s.domain = d.domain
 AND s.publication_date = d.publication_date AND s.parameters = d.day_max
QUALIFY row_number() OVER (
    PARTITION BY s.source, s.domain, s.publication_date ORDER BY s.system, s.paper_id
) = 1
ORDER BY s.source, s.domain, s.publication_date;
