"""`paramminer report` charts and tables, and `paramminer sql`."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from click.testing import CliRunner

from paramminer.cli import cli
from paramminer.report import (
    DPI,
    FIGSIZE,
    SourceReport,
    build_report,
    load_source,
    size_over_time_png,
)
from paramminer.warehouse import Warehouse

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def fill(path: Path) -> None:
    """40 systems over 2016-2024 in two domains, one MoE, through the base tables.

    Size grows 0.45 orders of magnitude a year, with deterministic noise (a sine).
    """
    with Warehouse.open(path) as wh:
        wh.con.execute(
            "INSERT INTO papers (paper_id, sha256, publication_date, domain) "
            "SELECT 'p' || i, 's' || i, DATE '2016-01-01' + CAST(i * 80 AS INTEGER), "
            "CASE WHEN i % 3 = 0 THEN 'Vision' ELSE 'Language' END FROM range(40) t(i)")
        wh.con.execute(
            "INSERT INTO systems (paper_id, system, parameters, parameters_active, is_headline, "
            "confidence, status, candidate_id, page, evidence, rule) "
            "SELECT 'p' || i, 'Model ' || i, "
            "round(1e7 * pow(10, 0.45 * i * 80 / 365.2425 + 0.3 * sin(i * 2.7))), "
            "CASE WHEN i = 39 THEN 1e9 END, true, 0.9, 'auto', 'c' || i, 1, 'e', 'r@1' "
            "FROM range(40) t(i)")


@pytest.fixture
def warehouse_path(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    fill(path)
    return path


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """One `paramminer report` run (the slow part: charts) shared by the tests that read it."""
    folder = tmp_path_factory.mktemp("reported")
    fill(folder / "w.duckdb")
    result = CliRunner().invoke(cli, ["report", "-w", str(folder / "w.duckdb"), "-o",
                                      str(folder / "charts"), "--resamples", "100"])
    assert result.exit_code == 0, result.output
    return folder / "w.duckdb", folder / "charts", result.output


def non_background(png: Path) -> int:
    pixels = matplotlib.image.imread(png)
    rgb = pixels[..., :3]
    return int((np.abs(rgb - 1.0).sum(axis=2) > 0.05).sum())  # not white


def test_report_writes_pngs_and_a_standalone_html(reported: tuple[Path, Path, str]) -> None:
    _, out, output = reported
    names = sorted(p.name for p in out.iterdir())
    assert names == ["gap_counts-extracted.png", "record_setters-extracted.png", "report.html",
                     "size_over_time-extracted.png"]  # and no temporary files left over
    width, height = int(FIGSIZE[0] * DPI), int(FIGSIZE[1] * DPI)
    for png in out.glob("*.png"):
        assert png.read_bytes()[:8] == PNG_MAGIC
        assert matplotlib.image.imread(png).shape[:2] == (height, width)
        assert non_background(png) > 0.02 * width * height, png.name
    page = (out / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", page)
    assert "<link" not in page
    assert page.count("Plotly.newPlot") == 3
    assert len(page) > 1_000_000  # plotly.js itself is inlined
    for name in names:
        assert f"wrote {out / name}" in output.replace("\n", "")


def test_charts_draw_the_data(reported: tuple[Path, Path, str], tmp_path: Path) -> None:
    """An empty source gives a nearly blank chart; data adds many pixels."""
    with Warehouse.open(reported[0], read_only=True) as wh:
        full = load_source(wh, "extracted")
    empty = SourceReport(full.source, full.systems.iloc[0:0], full.summary.iloc[0:0],
                         full.records.iloc[0:0], full.gaps.iloc[0:0], 20e9, 70e9, 2020)
    blank = tmp_path / "blank.png"
    blank.write_bytes(size_over_time_png(empty))
    drawn = reported[1] / "size_over_time-extracted.png"
    assert non_background(drawn) > non_background(blank) + 5000
    assert non_background(reported[1] / "gap_counts-extracted.png") > 20000


def test_report_stores_bootstrap_beside_point_estimates(warehouse_path: Path) -> None:
    with Warehouse.open(warehouse_path) as wh:
        build_report(wh, None, resamples=200, seed=3)
        rows = wh.con.execute(
            "SELECT n, bootstrap_n, doubling_months, doubling_months_p5, doubling_months_p95 "
            "FROM trend_summary WHERE fit = 'systems' AND domain = 'All' AND era = 'large-scale'"
        ).fetchall()
        first = wh.con.execute("SELECT * EXCLUDE (computed_at) FROM trend_bootstrap "
                               "ORDER BY ALL").fetchall()
        build_report(wh, None, resamples=200, seed=3)
        again = wh.con.execute("SELECT * EXCLUDE (computed_at) FROM trend_bootstrap "
                               "ORDER BY ALL").fetchall()
    (n, boot_n, months, p5, p95), = rows
    assert n == boot_n == 40
    assert p5 < months < p95
    assert months == pytest.approx(12 * math.log10(2) / 0.45, rel=0.25)
    assert first == again


def test_report_cli_prints_tables(reported: tuple[Path, Path, str]) -> None:
    warehouse, _, output = reported
    assert "Doubling time of model size" in output
    assert "Record setters" in output and "around the gap" in output
    unknown = CliRunner().invoke(cli, ["report", "-w", str(warehouse), "--source", "nope",
                                       "--no-charts"])
    assert unknown.exit_code != 0 and "no systems for source 'nope'" in unknown.output


def test_sql_formats(warehouse_path: Path) -> None:
    runner = CliRunner()
    query = ("SELECT paper_id, parameters, publication_date FROM analysis_systems "
             "ORDER BY publication_date LIMIT 2")
    as_csv = runner.invoke(cli, ["sql", query, "-w", str(warehouse_path), "--format", "csv"])
    assert as_csv.exit_code == 0, as_csv.output
    parsed = list(csv.reader(io.StringIO(as_csv.output)))
    assert parsed[0] == ["paper_id", "parameters", "publication_date"]
    assert parsed[1][0] == "p0" and parsed[1][2] == "2016-01-01" and len(parsed) == 3
    as_json = runner.invoke(cli, ["sql", query, "-w", str(warehouse_path), "--format", "json"])
    records = json.loads(as_json.output)
    assert records[1]["paper_id"] == "p1" and records[1]["publication_date"] == "2016-03-21"
    table = runner.invoke(cli, ["sql", query, "-w", str(warehouse_path)])
    assert table.exit_code == 0 and "p1" in table.output and "2 row(s)" in table.output


def test_sql_is_read_only_and_errors_are_one_line(warehouse_path: Path) -> None:
    runner = CliRunner()
    write = runner.invoke(cli, ["sql", "DELETE FROM systems", "-w", str(warehouse_path)])
    assert write.exit_code != 0
    assert write.output.startswith("paramminer: error: query failed:")
    assert len(write.output.strip().splitlines()) == 1
    with Warehouse.open(warehouse_path) as wh:
        assert wh.con.execute("SELECT count(*) FROM systems").fetchone() == (40,)
    bad = runner.invoke(cli, ["sql", "SELEC 1", "-w", str(warehouse_path)])
    assert bad.exit_code != 0 and "syntax error" in bad.output.lower()


def test_commands_have_help() -> None:
    runner = CliRunner()
    for args in (["report"], ["sql"], ["reference"], ["reference", "import"],
                 ["reference", "list"]):
        result = runner.invoke(cli, [*args, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output
        assert len(result.output.splitlines()) > 3
