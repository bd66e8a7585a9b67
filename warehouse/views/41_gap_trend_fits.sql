-- gap_trend_fits: trends on either side of the parameter gap (all domains together), per
-- source and era: band 'below gap' (parameters < gap_low) and 'above gap' (> gap_high).
-- Villalobos et al. (2022) report 8.0 months below the gap in 2018-2022, no clear trend above.
CREATE OR REPLACE VIEW gap_trend_fits AS
WITH knobs AS (
    SELECT
        source,
        max(value) FILTER (WHERE name = 'gap_low') AS gap_low,
        max(value) FILTER (WHERE name = 'gap_high') AS gap_high
    FROM analysis_settings_by_source
    GROUP BY source
),
banded AS (
    SELECT
        a.source,
        e.era,
        CASE WHEN a.parameters < k.gap_low THEN 'below gap'
             WHEN a.parameters > k.gap_high THEN 'above gap' END AS band,
        a.year_fraction,
        a.log10_parameters,
        a.publication_date
    FROM analysis_systems a
    JOIN knobs k USING (source)
    JOIN eras e
      ON (e.start_date IS NULL OR a.publication_date >= e.start_date)
     AND (e.end_date IS NULL OR a.publication_date < e.end_date)
),
fits AS (
    SELECT
        source, band, era,
        count(*) AS n,
        regr_slope(log10_parameters, year_fraction) AS slope,
        regr_intercept(log10_parameters, year_fraction) AS intercept,
        regr_r2(log10_parameters, year_fraction) AS r2,
        min(publication_date) AS first_date,
        max(publication_date) AS last_date
    FROM banded
    WHERE band IS NOT NULL
    GROUP BY source, band, era
)
SELECT
    source, band, era, n, slope, intercept, r2,
    CASE WHEN slope <> 0 THEN 12 * log10(2) / slope END AS doubling_months,
    first_date, last_date
FROM fits
ORDER BY source, era, band DESC;
