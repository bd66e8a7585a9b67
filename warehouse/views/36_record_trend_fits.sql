-- record_trend_fits: the trend of the largest model, i.e. OLS of log10(parameters) on
-- year_fraction over the record setters (found over the whole history) dated inside each era,
-- per source and domain. Predicts the largest model of a year, where trend_fits predicts the
-- typical one. One early outlier moves this line: see the bootstrap in trend_summary.
CREATE OR REPLACE VIEW record_trend_fits AS
WITH in_era AS (
    SELECT r.*, e.era
    FROM record_setters r
    JOIN eras e
      ON (e.start_date IS NULL OR r.publication_date >= e.start_date)
     AND (e.end_date IS NULL OR r.publication_date < e.end_date)
),
fits AS (
    SELECT
        source,
        domain,
        era,
        count(*) AS n,
        regr_slope(log10_parameters, year_fraction) AS slope,
        regr_intercept(log10_parameters, year_fraction) AS intercept,
        regr_r2(log10_parameters, year_fraction) AS r2,
        min(publication_date) AS first_date,
        max(publication_date) AS last_date
    FROM in_era
    GROUP BY source, domain, era
)
SELECT
    source, domain, era, n, slope, intercept, r2,
    CASE WHEN slope <> 0 THEN 12 * log10(2) / slope END AS doubling_months,
    first_date, last_date
FROM fits
ORDER BY source, era, domain = 'All' DESC, domain;
