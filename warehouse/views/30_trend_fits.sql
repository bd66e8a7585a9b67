-- trend_fits: how fast does model size grow? Ordinary least squares of log10(parameters)
-- on year_fraction, per source, era (table eras) and domain, plus domain 'All'.
--   slope            orders of magnitude per year
--   doubling_months  12 * log10(2) / slope (negative: sizes shrink; NULL when slope = 0)
-- Bootstrap intervals: trend_summary (after `paramminer report`).
CREATE OR REPLACE VIEW trend_fits AS
WITH in_era AS (
    SELECT a.source, a.domain, e.era, a.year_fraction, a.log10_parameters, a.publication_date
    FROM analysis_systems a
    JOIN eras e
      ON (e.start_date IS NULL OR a.publication_date >= e.start_date)
     AND (e.end_date IS NULL OR a.publication_date < e.end_date)
),
fits AS (
    SELECT
        source,
        CASE WHEN grouping(domain) = 1 THEN 'All' ELSE domain END AS domain,
        era,
        count(*) AS n,
        regr_slope(log10_parameters, year_fraction) AS slope,
        regr_intercept(log10_parameters, year_fraction) AS intercept,
        regr_r2(log10_parameters, year_fraction) AS r2,
        min(publication_date) AS first_date,
        max(publication_date) AS last_date
    FROM in_era
    GROUP BY GROUPING SETS ((source, era, domain), (source, era))
)
SELECT
    source,
    domain,
    era,
    n,
    slope,
    intercept,
    r2,
    CASE WHEN slope <> 0 THEN 12 * log10(2) / slope END AS doubling_months,
    first_date,
    last_date
FROM fits
ORDER BY source, era, domain = 'All' DESC, domain;
