-- gap_counts: the parameter gap. Per source and calendar year from gap_start_year to the
-- source's last year, how many systems lie below gap_low, inside [gap_low, gap_high] and
-- above gap_high (settings in analysis_settings; defaults 20B, 70B, 2020). Years without
-- systems appear with zeros.
CREATE OR REPLACE VIEW gap_counts AS
WITH knobs AS (
    SELECT
        source,
        max(value) FILTER (WHERE name = 'gap_low') AS gap_low,
        max(value) FILTER (WHERE name = 'gap_high') AS gap_high,
        CAST(max(value) FILTER (WHERE name = 'gap_start_year') AS INTEGER) AS start_year
    FROM analysis_settings_by_source
    GROUP BY source
),
spans AS (
    SELECT a.source, k.gap_low, k.gap_high, k.start_year,
           max(year(a.publication_date)) AS last_year
    FROM analysis_systems a
    JOIN knobs k USING (source)
    GROUP BY a.source, k.gap_low, k.gap_high, k.start_year
),
grid AS (
    SELECT source, gap_low, gap_high, unnest(range(start_year, last_year + 1)) AS year
    FROM spans
)
SELECT
    g.source,
    CAST(g.year AS INTEGER) AS year,
    count(a.parameters) FILTER (WHERE a.parameters < g.gap_low) AS below_gap,
    count(a.parameters) FILTER (WHERE a.parameters >= g.gap_low
                                  AND a.parameters <= g.gap_high) AS in_gap,
    count(a.parameters) FILTER (WHERE a.parameters > g.gap_high) AS above_gap,
    count(a.parameters) AS total,
    g.gap_low,
    g.gap_high
FROM grid g
LEFT JOIN analysis_systems a
  ON a.source = g.source AND year(a.publication_date) = g.year
GROUP BY g.source, g.year, g.gap_low, g.gap_high
ORDER BY g.source, g.year;
