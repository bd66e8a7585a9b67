-- analysis_settings_by_source: which value of each analysis setting applies to each source
-- ('extracted' and every imported reference). A row of analysis_settings for the source
-- itself wins over the '*' default row. The other analysis views read their knobs here.
CREATE OR REPLACE VIEW analysis_settings_by_source AS
WITH sources AS (
    SELECT 'extracted' AS source
    UNION
    SELECT name FROM reference_sources
),
names AS (
    SELECT DISTINCT name FROM analysis_settings
)
SELECT
    s.source,
    n.name,
    coalesce(own.value, fallback.value) AS value,
    own.value IS NOT NULL AS overridden
FROM sources s
CROSS JOIN names n
LEFT JOIN analysis_settings own ON own.source = s.source AND own.name = n.name
LEFT JOIN analysis_settings fallback ON fallback.source = '*' AND fallback.name = n.name
ORDER BY s.source, n.name;
