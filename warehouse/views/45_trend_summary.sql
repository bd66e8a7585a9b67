-- trend_summary: every doubling time beside its bootstrap interval, one row per
-- (source, fit, domain, era). fit: 'systems' (trend_fits), 'record_setters'
-- (record_trend_fits), 'below gap' / 'above gap' (gap_trend_fits, domain 'All').
-- The interval columns come from trend_bootstrap, written by `paramminer report`; they are
-- NULL before the first report, and stale when bootstrap_n differs from n.
CREATE OR REPLACE VIEW trend_summary AS
WITH point AS (
    SELECT source, 'systems' AS fit, domain, era, n, slope, r2, doubling_months,
           first_date, last_date
    FROM trend_fits
    UNION ALL
    SELECT source, 'record_setters', domain, era, n, slope, r2, doubling_months,
           first_date, last_date
    FROM record_trend_fits
    UNION ALL
    SELECT source, band, 'All', era, n, slope, r2, doubling_months, first_date, last_date
    FROM gap_trend_fits
)
SELECT
    p.source, p.fit, p.domain, p.era, p.n, p.slope, p.r2, p.doubling_months,
    b.doubling_months_p5, b.doubling_months_p50, b.doubling_months_p95,
    b.n AS bootstrap_n, b.resamples, b.computed_at AS bootstrap_at,
    p.first_date, p.last_date
FROM point p
LEFT JOIN trend_bootstrap b
  ON b.source = p.source AND b.fit = p.fit AND b.domain = p.domain AND b.era = p.era
ORDER BY p.source, p.fit DESC, p.era, p.domain = 'All' DESC, p.domain;
