"""`paramminer report`: trend tables in the terminal, charts as PNG and one offline HTML page.

Reads the analysis views (analysis_systems, trend_summary, record_setters, gap_counts),
refreshes the bootstrap intervals (table trend_bootstrap) first, and writes every file
atomically (a temporary file in the same folder, then a rename).
"""

from __future__ import annotations

import datetime as dt
import html
import io
import math
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import matplotlib

matplotlib.use("Agg")  # no display: render to files only

import matplotlib.pyplot as plt
import pandas as pd
import plotly.graph_objects as go
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from rich.console import Console
from rich.table import Table

from paramminer.analysis import DEFAULT_RESAMPLES, DEFAULT_SEED, refresh_bootstrap
from paramminer.errors import ConfigError
from paramminer.warehouse import Warehouse

FIGSIZE = (10.0, 6.0)
DPI = 100  # FIGSIZE * DPI = 1000 x 600 pixels
# One palette for PNG and HTML (Okabe-Ito, safe for colour-blind readers): a domain has the
# same colour in every chart and every source; domains not named here take the spares in turn.
DOMAIN_COLORS = {
    "Language": "#0072B2", "Vision": "#E69F00", "Multimodal": "#009E73", "Speech": "#CC79A7",
    "Biology": "#D55E00", "Games": "#56B4E9", "Image generation": "#8C6D31",
    "Robotics": "#6A3D9A", "Recommendation": "#B15928", "Video": "#1B9E77",
    "Other": "#999999",
}
SPARE_COLORS = ["#F0E442", "#17BECF", "#BCBD22", "#E7298A", "#66A61E", "#A6761D", "#7570B3"]
GAP_COLORS = {"below_gap": "#0072B2", "in_gap": "#E69F00", "above_gap": "#D55E00"}
YEAR_AXIS = {"tickformat": ".5~g"}  # 2020, 2020.5: no thousands separator in a year
RECORD_COLOR = "#D55E00"
BACKGROUND_POINTS = "#BBBBBB"
FIT_COLOR = "#000000"
# Fit lines of different eras differ in dash pattern (and say which era in the legend).
ERA_STYLES = [("-", "solid"), ("--", "dash"), (":", "dot"), ("-.", "dashdot")]
FIT_TITLES = (("systems", "Doubling time of model size"),
              ("record_setters", "Doubling time of the largest model (record setters)"),
              ("below gap", "Below the parameter gap"),
              ("above gap", "Above the parameter gap"))


@dataclass
class SourceReport:
    """Everything the report shows for one source."""

    source: str
    systems: pd.DataFrame
    summary: pd.DataFrame
    records: pd.DataFrame
    gaps: pd.DataFrame
    gap_low: float
    gap_high: float
    gap_start_year: int
    provenance: str = ""  # the data's source, date and credit, printed under every chart


@dataclass
class Report:
    """The report of every source asked for, and the files written."""

    sources: list[SourceReport]
    files: list[Path] = field(default_factory=list)


def load_source(warehouse: Warehouse, source: str) -> SourceReport:
    """The frames of one source, from the views."""
    con = warehouse.con

    def frame(query: str) -> pd.DataFrame:
        return con.execute(query, [source]).df()

    knobs = dict(con.execute(
        "SELECT name, value FROM analysis_settings_by_source WHERE source = ?", [source]
    ).fetchall())
    return SourceReport(
        source=source,
        systems=frame("SELECT system, paper_id, parameters, publication_date, year_fraction, "
                      "domain, is_moe FROM analysis_systems WHERE source = ? "
                      "ORDER BY publication_date"),
        summary=frame("SELECT s.*, f.intercept FROM trend_summary s "
                      "LEFT JOIN (SELECT source, 'systems' AS fit, domain, era, intercept "
                      "           FROM trend_fits UNION ALL "
                      "           SELECT source, 'record_setters', domain, era, intercept "
                      "           FROM record_trend_fits) f "
                      "USING (source, fit, domain, era) WHERE s.source = ? "
                      "ORDER BY s.fit DESC, s.era, s.domain = 'All' DESC, s.domain"),
        records=frame("SELECT * FROM record_setters WHERE source = ? "
                      "ORDER BY domain, publication_date"),
        gaps=frame("SELECT * FROM gap_counts WHERE source = ? ORDER BY year"),
        gap_low=float(knobs.get("gap_low", 20e9)),
        gap_high=float(knobs.get("gap_high", 70e9)),
        gap_start_year=int(knobs.get("gap_start_year", 2020)),
        provenance=provenance(warehouse, source),
    )


def provenance(warehouse: Warehouse, source: str) -> str:
    """Where a source's data comes from, as of when, and whom to credit (one line)."""
    con = warehouse.con
    if source == "extracted":
        row = con.execute("SELECT count(*), max(extracted_at) FROM papers").fetchone()
        papers, when = (row or (0, None))
        date = f", extracted up to {when:%Y-%m-%d}" if when else ""
        return f"Data: paramminer, headline sizes of {papers} paper(s) (reviewed values win){date}"
    row = con.execute(
        "SELECT file, imported_at, data_date, credit, license, url FROM reference_sources "
        "WHERE name = ?", [source]).fetchone()
    if row is None:
        return f"Data: reference {source!r} (no import record)"
    file, imported, data_date, credit, license_, url = row
    name = Path(str(file)).name
    date = (f"data of {data_date:%Y-%m-%d}" if data_date
            else f"imported {imported:%Y-%m-%d} (export date not recorded)")
    parts = [f"Data: {credit or source} ({name}, {date})"]
    parts += [license_] if license_ else []
    parts += [url] if url else []
    return ", ".join(parts)


def available_sources(warehouse: Warehouse) -> list[str]:
    """Sources with at least one system in analysis_systems."""
    rows = warehouse.con.execute(
        "SELECT DISTINCT source FROM analysis_systems ORDER BY source = 'extracted' DESC, source"
    ).fetchall()
    return [str(row[0]) for row in rows]


def build_report(
    warehouse: Warehouse,
    out_dir: Path | None,
    *,
    source: str | None = None,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> Report:
    """Refresh the bootstrap, load the views and (when out_dir is given) write the charts."""
    known = available_sources(warehouse)
    if source is not None and source not in known:
        raise ConfigError(
            f"no systems for source {source!r} (have: {', '.join(known) or 'none'}; "
            "import one with `paramminer reference import`)"
        )
    sources = [source] if source else known
    if sources:
        refresh_bootstrap(warehouse, sources=sources, resamples=resamples, seed=seed)
    report = Report([load_source(warehouse, name) for name in sources])
    if out_dir is not None:
        report.files = write_charts(report, Path(out_dir))
    return report


# ---------------------------------------------------------------- files


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` so readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        temp.write_bytes(data)
        temp.replace(path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def write_charts(report: Report, out_dir: Path) -> list[Path]:
    """Three PNGs per source and one HTML page with every chart; the paths written."""
    written = []
    for part in report.sources:
        for kind, render in (("size_over_time", size_over_time_png),
                             ("record_setters", record_setters_png),
                             ("gap_counts", gap_counts_png)):
            path = out_dir / f"{kind}-{slug(part.source)}.png"
            atomic_write(path, render(part))
            written.append(path)
    page = out_dir / "report.html"
    atomic_write(page, report_html(report).encode("utf-8"))
    written.append(page)
    return written


# ---------------------------------------------------------------- chart data


def _colors(domains: list[str]) -> dict[str, str]:
    """Each domain's colour (fixed for known domains), 'Other' last."""
    ordered = sorted(d for d in set(domains) if d != "Other")
    ordered += ["Other"] if "Other" in domains else []
    spares = iter(SPARE_COLORS * (1 + len(ordered) // len(SPARE_COLORS)))
    return {d: DOMAIN_COLORS.get(d) or next(spares) for d in ordered}


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a frame as plain dicts (one value type per column is not known statically)."""
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


def _fit_lines(part: SourceReport, fit: str) -> list[tuple[str, list[float], list[float]]]:
    """(era, [x0, x1], [y0, y1]) of the 'All' fits, drawn over the data's own date range."""
    rows = part.summary[(part.summary["fit"] == fit) & (part.summary["domain"] == "All")]
    lines = []
    for row in _rows(rows):
        slope, intercept = row["slope"], row["intercept"]
        if _missing(slope) or _missing(intercept) or row["n"] < 2:
            continue
        x0, x1 = (_year(row["first_date"]), _year(row["last_date"]))
        ys = [float(10 ** (intercept + slope * x)) for x in (x0, x1)]
        lines.append((str(row["era"]), [x0, x1], ys))
    return lines


def _year(day: Any) -> float:
    stamp = pd.Timestamp(day)
    return 1970 + (stamp - pd.Timestamp("1970-01-01")).days / 365.2425


def _era_label(part: SourceReport, fit: str, era: str) -> str:
    row = part.summary[(part.summary["fit"] == fit) & (part.summary["domain"] == "All")
                       & (part.summary["era"] == era)]
    if row.empty:
        return era
    return f"{era}: {_months(_rows(row)[0]['doubling_months'])} mo doubling"


def _year_of(day: Any) -> str:
    return "" if _missing(day) else str(pd.Timestamp(day).year)


def _upper(p95: Any, p50: Any) -> str:
    """The 95th percentile; 'inf' when some resamples show no growth (slope_p5 <= 0)."""
    if _missing(p95) and not _missing(p50):
        return "inf"
    return _months(p95)


def _months(value: Any) -> str:
    if _missing(value):
        return "-"
    number = float(value)
    return f"{number:.1f}" if abs(number) < 1000 else "no trend"


# ---------------------------------------------------------------- PNG (matplotlib)


def _legend(axes: Axes, *, fontsize: int = 7,
            loc: Literal["upper left", "upper right"] = "upper left", ncol: int = 1) -> None:
    handles, labels = axes.get_legend_handles_labels()
    if handles:  # nothing drawn, nothing to explain
        axes.legend(handles, labels, fontsize=fontsize, loc=loc, ncol=ncol)


def _png(figure: Figure, part: SourceReport) -> bytes:
    """The figure as PNG bytes, with the data's provenance printed under the plot."""
    if part.provenance:
        figure.text(0.01, 0.012, part.provenance, fontsize=7, color="#444444", ha="left",
                    va="bottom")
    figure.subplots_adjust(left=0.08, right=0.98, top=0.93, bottom=0.12)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    plt.close(figure)
    return buffer.getvalue()


def _fit_style(index: int) -> tuple[str, str]:
    """(matplotlib linestyle, plotly dash) of the index-th era's fit line."""
    return ERA_STYLES[index % len(ERA_STYLES)]


def size_over_time_png(part: SourceReport) -> bytes:
    """Parameters over time, log axis, per domain, with the era fits and the gap band."""
    figure, axes = plt.subplots(figsize=FIGSIZE, dpi=DPI)
    systems = part.systems
    colors = _colors(list(systems["domain"]))
    for domain, color in colors.items():
        rows = systems[systems["domain"] == domain]
        axes.scatter(rows["year_fraction"], rows["parameters"], s=14, color=color, alpha=0.75,
                     label=f"{domain} ({len(rows)})")
    for index, (era, xs, ys) in enumerate(_fit_lines(part, "systems")):
        axes.plot(xs, ys, color=FIT_COLOR, linewidth=1.8, linestyle=_fit_style(index)[0],
                  label="fit " + _era_label(part, "systems", era))
    band = _gap_band(part)
    if band is not None:
        axes.fill_between(band[0], part.gap_low, part.gap_high, color=GAP_COLORS["in_gap"],
                          alpha=0.2, linewidth=0, label=band[1])
    axes.set_yscale("log")
    axes.set_xlabel("publication date (year)")
    axes.set_ylabel("parameters")
    axes.set_title(f"Model size over time ({part.source}, n={len(systems)})")
    axes.grid(True, which="major", alpha=0.3)
    _legend(axes, ncol=2)
    return _png(figure, part)


def _gap_band(part: SourceReport) -> tuple[list[float], str] | None:
    """([x0, x1], label) of the gap band from gap_start_year to the last system."""
    if not len(part.systems):
        return None
    right = max(float(part.systems["year_fraction"].max()), part.gap_start_year + 1.0)
    return ([float(part.gap_start_year), right],
            f"gap {_size(part.gap_low)}-{_size(part.gap_high)}")


def record_setters_png(part: SourceReport) -> bytes:
    """Every system in grey, the running record (domain 'All') as a step line, record fits."""
    figure, axes = plt.subplots(figsize=FIGSIZE, dpi=DPI)
    axes.scatter(part.systems["year_fraction"], part.systems["parameters"], s=8,
                 color=BACKGROUND_POINTS, label="all systems")
    records = part.records[part.records["domain"] == "All"]
    if len(records):
        xs = [*records["year_fraction"], float(part.systems["year_fraction"].max())]
        ys = [*records["parameters"], float(records["parameters"].iloc[-1])]
        axes.step(xs, ys, where="post", color=RECORD_COLOR, linewidth=1.5,
                  label="largest so far")
        axes.scatter(records["year_fraction"], records["parameters"], s=30, color=RECORD_COLOR,
                     zorder=3)
        for row in _rows(records):
            axes.annotate(str(row["system"])[:28], (row["year_fraction"], row["parameters"]),
                          fontsize=6, xytext=(3, 3), textcoords="offset points")
    for index, (era, xs, ys) in enumerate(_fit_lines(part, "record_setters")):
        axes.plot(xs, ys, color=FIT_COLOR, linewidth=1.4, linestyle=_fit_style(index)[0],
                  label="fit " + _era_label(part, "record_setters", era))
    axes.set_yscale("log")
    axes.set_xlabel("publication date (year)")
    axes.set_ylabel("parameters")
    axes.set_title(f"Record setters ({part.source}): largest system yet at its date")
    axes.grid(True, which="major", alpha=0.3)
    _legend(axes)
    return _png(figure, part)


def _gap_bands(part: SourceReport) -> list[tuple[str, str, str]]:
    """(column, label, colour) of the three size bands around the gap."""
    low, high = _size(part.gap_low), _size(part.gap_high)
    return [("below_gap", f"< {low}", GAP_COLORS["below_gap"]),
            ("in_gap", f"{low}-{high}", GAP_COLORS["in_gap"]),
            ("above_gap", f"> {high}", GAP_COLORS["above_gap"])]


def gap_counts_png(part: SourceReport) -> bytes:
    """Systems per year below, inside and above the parameter gap (stacked bars)."""
    figure, axes = plt.subplots(figsize=FIGSIZE, dpi=DPI)
    gaps = part.gaps
    bottom = [0.0] * len(gaps)
    for column, label, color in _gap_bands(part):
        values = [float(v) for v in gaps[column]]
        axes.bar(gaps["year"].astype(int), values, bottom=bottom, color=color, label=label)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # years and counts are whole
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("publication year")
    axes.set_ylabel("systems")
    axes.set_title(f"The parameter gap ({part.source}): systems per year by size")
    _legend(axes, fontsize=10, loc="upper right")
    return _png(figure, part)


def _size(value: float) -> str:
    for suffix, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if value >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


# ---------------------------------------------------------------- HTML (plotly)


def _layout(figure: go.Figure, part: SourceReport, title: str, **axes: Any) -> go.Figure:
    """Title, axes, and the provenance line under the plot (as in the PNGs)."""
    figure.update_layout(title=title, template="plotly_white", margin={"b": 90},
                         legend={"font": {"size": 11}}, **axes)
    if part.provenance:
        figure.add_annotation(text=_plain(part.provenance), showarrow=False,
                              xref="paper", yref="paper", x=0, y=-0.2, xanchor="left",
                              yanchor="top", font={"size": 10, "color": "#444444"})
    return figure


def _text(values: pd.Series) -> list[str]:
    """Names for hover text, escaped (plotly renders a subset of HTML in text)."""
    return [_plain(v) for v in values]


def _plain(value: object) -> str:
    """Text plotly shows as it is (its labels read <b>, <a href> and entities as markup)."""
    return html.escape(str(value), quote=False)


def _size_figure(part: SourceReport) -> go.Figure:
    figure = go.Figure()
    systems = part.systems
    for domain, color in _colors(list(systems["domain"])).items():
        rows = systems[systems["domain"] == domain]
        figure.add_trace(go.Scatter(
            x=rows["year_fraction"], y=rows["parameters"], mode="markers",
            name=_plain(f"{domain} ({len(rows)})"), marker={"color": color, "size": 6},
            text=_text(rows["system"]), customdata=rows["publication_date"].astype(str),
            hovertemplate="%{text}<br>%{customdata}<br>%{y:.3s} parameters<extra></extra>"))
    for index, (era, xs, ys) in enumerate(_fit_lines(part, "systems")):
        figure.add_trace(go.Scatter(
            x=xs, y=ys, mode="lines", name=_plain("fit " + _era_label(part, "systems", era)),
            line={"color": FIT_COLOR, "width": 2, "dash": _fit_style(index)[1]}))
    band = _gap_band(part)
    if band is not None:
        figure.add_trace(go.Scatter(
            x=[band[0][0], band[0][1], band[0][1], band[0][0], band[0][0]],
            y=[part.gap_low, part.gap_low, part.gap_high, part.gap_high, part.gap_low],
            fill="toself", mode="none", fillcolor=GAP_COLORS["in_gap"], opacity=0.2,
            name=band[1], hoverinfo="skip"))
    return _layout(figure, part, f"Model size over time ({_plain(part.source)})",
                   yaxis_type="log", xaxis_title="publication date (year)",
                   yaxis_title="parameters", xaxis=YEAR_AXIS)


def _records_figure(part: SourceReport) -> go.Figure:
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=part.systems["year_fraction"], y=part.systems["parameters"],
                                mode="markers", name="all systems",
                                text=_text(part.systems["system"]),
                                marker={"color": BACKGROUND_POINTS, "size": 5}))
    records = part.records[part.records["domain"] == "All"]
    figure.add_trace(go.Scatter(x=records["year_fraction"], y=records["parameters"],
                                mode="lines+markers", line_shape="hv", name="largest so far",
                                text=_text(records["system"]),
                                line={"color": RECORD_COLOR}, marker={"color": RECORD_COLOR}))
    for index, (era, xs, ys) in enumerate(_fit_lines(part, "record_setters")):
        figure.add_trace(go.Scatter(
            x=xs, y=ys, mode="lines",
            name=_plain("fit " + _era_label(part, "record_setters", era)),
            line={"color": FIT_COLOR, "width": 2, "dash": _fit_style(index)[1]}))
    return _layout(figure, part, f"Record setters ({_plain(part.source)})",
                   yaxis_type="log", xaxis_title="publication date (year)",
                   yaxis_title="parameters", xaxis=YEAR_AXIS)


def _gaps_figure(part: SourceReport) -> go.Figure:
    figure = go.Figure()
    for column, label, color in _gap_bands(part):
        figure.add_trace(go.Bar(x=part.gaps["year"], y=part.gaps[column], name=label,
                                marker={"color": color}))
    highest = int(part.gaps["total"].max()) if len(part.gaps) else 1
    return _layout(figure, part, f"The parameter gap ({_plain(part.source)})",
                   barmode="stack", xaxis_title="publication year", yaxis_title="systems",
                   xaxis={"dtick": 1, "tickformat": "d"},
                   yaxis={"tickformat": "d", "dtick": max(1, math.ceil(highest / 8))})


REPORT_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem auto; max-width: 1100px;
       color: #222; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.3rem; border-bottom: 2px solid #ddd; padding-bottom: .2rem; margin-top: 2rem; }
p.provenance { color: #444; font-size: .9rem; }
table { border-collapse: collapse; font-size: .85rem; margin: 1rem 0; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; text-align: right; }
th { background: #f3f3f3; }
td:nth-child(-n+3) { text-align: left; }
"""


def report_html(report: Report) -> str:
    """One standalone page (plotly.js inlined, works offline) with every source's charts."""
    sections = []
    first = True
    for part in report.sources:
        charts = []
        for figure in (_size_figure(part), _records_figure(part), _gaps_figure(part)):
            charts.append(figure.to_html(full_html=False, include_plotlyjs=first))
            first = False
        sections.append(f"<h2>{html.escape(part.source)}</h2>\n"
                        f"<p class=\"provenance\">{html.escape(part.provenance)}</p>\n"
                        + "\n".join(charts) + "\n" + _summary_html(part))
    body = "\n".join(sections) or "<p>No systems to chart.</p>"
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>paramminer report</title><style>{REPORT_STYLE}</style></head>\n<body>\n"
            "<h1>paramminer report</h1>\n"
            f"<p class=\"provenance\">Made {dt.date.today():%Y-%m-%d}</p>\n"
            f"{body}\n</body></html>\n")


def _summary_html(part: SourceReport) -> str:
    columns = ["fit", "domain", "era", "n", "doubling_months", "doubling_months_p5",
               "doubling_months_p95", "r2"]
    table = part.summary[columns].copy()
    return str(table.to_html(index=False, float_format=lambda v: f"{v:.2f}", na_rep="-"))


# ---------------------------------------------------------------- terminal


def print_report(report: Report, console: Console) -> None:
    """The tables of every source: trends with intervals, records, gap counts."""
    if not report.sources:
        console.print("No systems to analyse: ingest papers or `paramminer reference import`.")
    for part in report.sources:
        console.rule(f"[bold]{part.source}[/bold] ({len(part.systems)} systems)")
        for fit, title in FIT_TITLES:
            rows = part.summary[part.summary["fit"] == fit]
            if rows.empty:
                continue
            table = Table(title=f"{title}: {part.source}")
            for column in ("era", "domain", "n", "months", "p5", "p50", "p95", "r²", "years"):
                table.add_column(column, justify="left" if column in ("era", "domain") else "right",
                                 no_wrap=column in ("era", "years"))
            for row in _rows(rows):
                table.add_row(str(row["era"]), str(row["domain"]), str(row["n"]),
                              _months(row["doubling_months"]), _months(row["doubling_months_p5"]),
                              _months(row["doubling_months_p50"]),
                              _upper(row["doubling_months_p95"], row["doubling_months_p50"]),
                              "-" if _missing(row["r2"]) else f"{row['r2']:.2f}",
                              f"{_year_of(row['first_date'])}-{_year_of(row['last_date'])}")
            console.print(table)
        records = part.records[part.records["domain"] == "All"]
        table = Table(title=f"Record setters, all domains: {part.source}")
        for column in ("date", "system", "parameters", "x previous"):
            table.add_column(column)
        for row in _rows(records):
            ratio = row["times_previous_record"]
            table.add_row(str(row["publication_date"])[:10], str(row["system"]),
                          _size(float(row["parameters"])),
                          "-" if _missing(ratio) else f"{ratio:.3g}")
        console.print(table)
        table = Table(title=f"Systems per year around the gap: {part.source}")
        for column in ("year", f"< {_size(part.gap_low)}",
                       f"{_size(part.gap_low)}-{_size(part.gap_high)}",
                       f"> {_size(part.gap_high)}", "total"):
            table.add_column(column, justify="right")
        for row in _rows(part.gaps):
            table.add_row(*(str(row[c]) for c in ("year", "below_gap", "in_gap", "above_gap",
                                                  "total")))
        console.print(table)
    for path in report.files:
        console.print(f"wrote {path}")
