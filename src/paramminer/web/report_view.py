"""The report page: `paramminer report`'s charts, rebuilt only when the data changed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from paramminer.report import build_report, slug
from paramminer.warehouse import Warehouse

if TYPE_CHECKING:
    from paramminer.web.app import WebApp

SUMMARY_COLUMNS = ("fit", "domain", "era", "n", "doubling_months", "doubling_months_p5",
                   "doubling_months_p95")
CHARTS = (("size_over_time", "Model size over time"),
          ("record_setters", "Record setters"),
          ("gap_counts", "Systems per year around the parameter gap"))
_FINGERPRINT = """
SELECT (SELECT count(*) FROM analysis_systems),
       (SELECT max(decision_id) FROM decisions),
       (SELECT max(extracted_at) FROM papers),
       (SELECT string_agg(name || imported_at, ',' ORDER BY name) FROM reference_sources),
       (SELECT string_agg(concat_ws('/', era, start_date, end_date), ',' ORDER BY era)
        FROM eras),
       (SELECT string_agg(source || name || value, ',' ORDER BY source, name)
        FROM analysis_settings)
"""


def _number(value: object) -> str:
    if isinstance(value, float):
        return "-" if value != value else f"{value:.1f}"  # NaN is missing
    return "-" if value is None else str(value)


def refresh(app: WebApp, warehouse: Warehouse) -> None:
    """Rebuild the charts into the app's report folder when the data changed."""
    key = tuple(warehouse.con.execute(_FINGERPRINT).fetchone() or ())
    if key == app.report_key:
        return
    report = build_report(warehouse, app.report_dir, resamples=app.options.resamples)
    app.report_files = {path.name: path for path in report.files}
    parts: list[dict[str, object]] = []
    for part in report.sources:
        rows = [[_number(row[c]) for c in SUMMARY_COLUMNS]
                for row in part.summary.to_dict("records")]
        charts = [(title, f"{kind}-{slug(part.source)}.png") for kind, title in CHARTS
                  if f"{kind}-{slug(part.source)}.png" in app.report_files]
        parts.append({"source": part.source, "provenance": part.provenance,
                      "systems": len(part.systems), "charts": charts,
                      "columns": SUMMARY_COLUMNS, "rows": rows})
    app.report_parts = parts
    app.report_key = key

