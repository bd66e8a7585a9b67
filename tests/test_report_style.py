"""The report's look: one palette for PNG and HTML, fit lines told apart, whole-number count
axes, and the data's provenance and credit on every chart of a reference."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from paramminer.reference import Provenance, import_reference, list_references
from paramminer.report import (
    DOMAIN_COLORS,
    GAP_COLORS,
    _colors,
    _gaps_figure,
    _size_figure,
    build_report,
    load_source,
    size_over_time_png,
)
from paramminer.warehouse import Warehouse
from test_report import fill
from test_web import epoch_like_csv


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("style")
    path = folder / "w.duckdb"
    fill(path)
    with Warehouse.open(path) as wh:
        wh.con.execute("INSERT INTO eras VALUES ('2018-2022', DATE '2018-01-01', "
                       "DATE '2022-01-01', NULL)")
        import_reference(wh, epoch_like_csv(folder / "notable.csv"), "epoch",
                         Provenance(data_date=dt.date(2026, 3, 30)))
        build_report(wh, None, resamples=20)
    return path


def test_a_domain_keeps_its_colour_everywhere() -> None:
    alone = _colors(["Vision"])
    together = _colors(["Language", "Vision", "Other", "Astronomy"])
    assert alone["Vision"] == together["Vision"] == DOMAIN_COLORS["Vision"]
    assert together["Other"] == DOMAIN_COLORS["Other"]
    assert len(set(together.values())) == 4  # a domain outside the list takes a spare colour


def test_html_uses_the_png_palette_and_dashes_tell_fits_apart(warehouse: Path) -> None:
    with Warehouse.open(warehouse, read_only=True) as wh:
        part = load_source(wh, "extracted")
    figure = _size_figure(part)
    markers = {t.name.split(" (")[0]: t.marker.color for t in figure.data if t.mode == "markers"}
    assert markers == {"Language": DOMAIN_COLORS["Language"], "Vision": DOMAIN_COLORS["Vision"]}
    fits = [t for t in figure.data if t.mode == "lines"]
    assert len(fits) >= 3 and all(t.name.startswith("fit ") for t in fits)
    assert len({t.line.dash for t in fits}) == len(fits)  # every era its own dash pattern
    bars = _gaps_figure(part)
    assert [t.marker.color for t in bars.data] == list(GAP_COLORS.values())
    assert bars.layout.yaxis.tickformat == "d" and bars.layout.yaxis.dtick >= 1
    assert bars.layout.xaxis.dtick == 1


def test_every_reference_chart_names_its_data(warehouse: Path, tmp_path: Path) -> None:
    with Warehouse.open(warehouse, read_only=True) as wh:
        part = load_source(wh, "epoch")
        [(name, *_)] = list_references(wh)
    assert name == "epoch"
    assert part.provenance == ("Data: Epoch AI, 'Data on AI Models' (notable.csv, data of "
                               "2026-03-30), CC-BY 4.0, https://epoch.ai/data/ai-models")
    for figure in (_size_figure(part), _gaps_figure(part)):
        assert [a.text for a in figure.layout.annotations] == [part.provenance]
    with_line = tmp_path / "with.png"
    with_line.write_bytes(size_over_time_png(part))
    part.provenance = ""
    without = tmp_path / "without.png"
    without.write_bytes(size_over_time_png(part))

    def ink_in_footer(path: Path) -> int:
        pixels = matplotlib.image.imread(path)[-20:, :, :3]  # the bottom 20 pixel rows
        return int((np.abs(pixels - 1.0).sum(axis=2) > 0.3).sum())

    assert ink_in_footer(with_line) > 500 and ink_in_footer(without) == 0


def test_a_table_not_from_epoch_gets_no_epoch_credit(tmp_path: Path) -> None:
    plain = tmp_path / "mine.csv"
    plain.write_text("Model,Publication date,Parameters\nA,2020-01-01,1e9\nB,2021-01-01,2e9\n",
                     encoding="utf-8")
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        import_reference(wh, plain, "mine")
        row = wh.con.execute("SELECT data_date, credit, license, url FROM reference_sources"
                             ).fetchone()
        assert row == (None, None, None, None)
        text = load_source(wh, "mine").provenance
    assert text.startswith("Data: mine (mine.csv, imported ") and "not recorded" in text
