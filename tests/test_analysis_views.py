"""The analysis views and the bootstrap, on real DuckDB files with hand-made systems."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from paramminer.analysis import bootstrap_fits, bootstrap_record_slopes, bootstrap_slope
from paramminer.warehouse import Warehouse

EPOCH = date(1970, 1, 1)


def year_fraction(day: date) -> float:
    return 1970 + (day - EPOCH).days / 365.2425


def add_system(wh: Warehouse, paper_id: str, parameters: float, day: date,
               domain: str = "Language", *, active: float | None = None, headline: bool = True,
               system: str | None = None) -> None:
    """One paper with one system, through the base tables the pipeline fills."""
    con = wh.con
    if not con.execute("SELECT 1 FROM papers WHERE paper_id = ?", [paper_id]).fetchall():
        con.execute(
            "INSERT INTO papers (paper_id, sha256, publication_date, date_source, domain, domains) "
            "VALUES (?, ?, ?, 'arxiv_api', ?, ?)",
            [paper_id, f"sha-{paper_id}", day, domain, domain],
        )
    con.execute(
        "INSERT INTO systems (paper_id, system, parameters, parameters_active, is_headline, "
        "confidence, status, candidate_id, page, evidence, rule) "
        "VALUES (?, ?, ?, ?, ?, 0.9, 'auto', ?, 1, 'evidence', 'test@1')",
        [paper_id, system or f"model-{paper_id}", round(parameters),
         None if active is None else round(active), headline, f"c-{paper_id}-{parameters}"],
    )


def add_reference(wh: Warehouse, source: str, system: str, parameters: float, day: date,
                  domain: str = "Language", notes: str | None = None) -> None:
    """One row of a curated reference (and its reference_sources row)."""
    wh.con.execute(
        "INSERT INTO reference_sources (name, file, rows) SELECT ?, 'hand.csv', 0 "
        "WHERE NOT EXISTS (SELECT 1 FROM reference_sources WHERE name = ?)", [source, source])
    wh.con.execute(
        "INSERT INTO reference_systems (source, system, parameters, publication_date, domain, "
        "domains, notes) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [source, system, parameters, day, domain, domain, notes])


def exponential(wh: Warehouse, prefix: str, months: float, domain: str, count: int = 40,
                start: date = date(2018, 1, 1), base: float = 1e8) -> None:
    """`count` noise-free systems whose size doubles every `months` months."""
    slope = 12 * math.log10(2) / months
    for i in range(count):
        day = start + timedelta(days=37 * i)
        size = base * 10 ** (slope * (year_fraction(day) - year_fraction(start)))
        add_system(wh, f"{prefix}{i:03d}", size, day, domain)


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    warehouse = Warehouse.open(tmp_path / "w.duckdb")
    yield warehouse
    warehouse.close()


def rows(wh: Warehouse, query: str, *params: object) -> list[tuple[object, ...]]:
    return wh.con.execute(query, list(params)).fetchall()


def test_trend_fits_recover_known_doubling_times(wh: Warehouse) -> None:
    exponential(wh, "lang", 6.0, "Language")
    exponential(wh, "vis", 24.0, "Vision")
    fits = dict(rows(wh, "SELECT domain, doubling_months FROM trend_fits "
                         "WHERE source = 'extracted' AND era = 'large-scale'"))
    assert fits["Language"] == pytest.approx(6.0, rel=0.01)
    assert fits["Vision"] == pytest.approx(24.0, rel=0.01)
    assert "All" in fits
    (n, r2), = rows(wh, "SELECT n, r2 FROM trend_fits WHERE domain = 'Language' "
                        "AND era = 'deep-learning'")
    assert n == 40 and r2 == pytest.approx(1.0, abs=1e-9)
    # nothing before 2010: no pre-deep-learning fit
    assert rows(wh, "SELECT * FROM trend_fits WHERE era = 'pre-deep-learning'") == []


def test_reference_rows_are_a_source_of_their_own(wh: Warehouse) -> None:
    slope = 12 * math.log10(2) / 12.0
    for i in range(12):
        day = date(2012, 1, 1) + timedelta(days=91 * i)
        size = 1e6 * 10 ** (slope * (year_fraction(day) - 2012))
        add_reference(wh, "curated", f"r{i}", size, day)
    exponential(wh, "lang", 6.0, "Language", count=12)
    fits = dict(rows(wh, "SELECT source, doubling_months FROM trend_fits "
                         "WHERE domain = 'All' AND era = 'deep-learning'"))
    assert fits["curated"] == pytest.approx(12.0, rel=0.01)
    assert fits["extracted"] == pytest.approx(6.0, rel=0.01)


def test_only_headline_systems_are_analysed(wh: Warehouse) -> None:
    add_system(wh, "p1", 7e9, date(2023, 2, 1))
    add_system(wh, "p1", 65e9, date(2023, 2, 1), headline=False, system="big")
    assert rows(wh, "SELECT system, parameters FROM analysis_systems") == [("model-p1", 7e9)]


def hand_set(wh: Warehouse) -> None:
    """Small set for record setters and gap counts."""
    add_system(wh, "a", 1e9, date(2019, 1, 10), "Language")
    add_system(wh, "b", 5e8, date(2019, 6, 1), "Language")
    add_system(wh, "c", 2e9, date(2019, 6, 1), "Vision")
    add_system(wh, "d", 3e9, date(2019, 6, 1), "Language")   # same day as c, larger: the record
    add_system(wh, "e", 3e9, date(2020, 1, 1), "Vision")     # ties d: not a record overall
    add_system(wh, "f", 5e9, date(2020, 3, 1), "Language")
    add_system(wh, "g", 10e9, date(2020, 3, 1), "Vision")
    add_system(wh, "h", 30e9, date(2020, 7, 1), "Language")
    add_system(wh, "i", 100e9, date(2020, 9, 1), "Language")
    add_system(wh, "j", 70e9, date(2021, 2, 1), "Vision")     # on the upper bound: inside
    add_system(wh, "k", 20e9, date(2021, 5, 1), "Vision")     # on the lower bound: inside
    add_system(wh, "l", 175e9, date(2021, 6, 1), "Language")
    add_system(wh, "m", 1e9, date(2023, 3, 1), "Vision")


def test_record_setters_hand_computed(wh: Warehouse) -> None:
    hand_set(wh)
    wh.con.execute("UPDATE analysis_settings SET value = 1 WHERE name = 'other_min_systems'")
    got = rows(wh, "SELECT domain, paper_id FROM record_setters ORDER BY domain, publication_date")
    assert got == [
        ("All", "a"), ("All", "d"), ("All", "g"), ("All", "h"), ("All", "i"), ("All", "l"),
        ("Language", "a"), ("Language", "d"), ("Language", "f"), ("Language", "h"),
        ("Language", "i"), ("Language", "l"),
        ("Vision", "c"), ("Vision", "e"), ("Vision", "g"), ("Vision", "j"),
    ]
    (previous, ratio), = rows(wh, "SELECT previous_record, times_previous_record FROM "
                                  "record_setters WHERE domain = 'All' AND paper_id = 'd'")
    assert previous == 1e9 and ratio == pytest.approx(3.0)


def test_record_setters_ties_keep_the_first(wh: Warehouse) -> None:
    add_system(wh, "x2", 4e9, date(2020, 1, 1), system="beta")
    add_system(wh, "x1", 4e9, date(2020, 1, 1), system="alpha")
    add_system(wh, "x3", 4e9, date(2021, 1, 1), system="gamma")
    got = rows(wh, "SELECT system FROM record_setters WHERE domain = 'All'")
    assert got == [("alpha",)]


def test_gap_counts_hand_computed(wh: Warehouse) -> None:
    hand_set(wh)
    got = rows(wh, "SELECT year, below_gap, in_gap, above_gap, total FROM gap_counts "
                   "WHERE source = 'extracted' ORDER BY year")
    assert got == [(2020, 3, 1, 1, 5), (2021, 0, 2, 1, 3), (2022, 0, 0, 0, 0), (2023, 1, 0, 0, 1)]


def test_gap_settings_change_the_counts(wh: Warehouse) -> None:
    hand_set(wh)
    wh.con.execute("UPDATE analysis_settings SET value = 25e9 "
                   "WHERE source = '*' AND name = 'gap_low'")
    wh.con.execute("UPDATE analysis_settings SET value = 2021 WHERE name = 'gap_start_year'")
    got = rows(wh, "SELECT year, below_gap, in_gap, above_gap FROM gap_counts ORDER BY year")
    assert got == [(2021, 1, 1, 1), (2022, 0, 0, 0), (2023, 1, 0, 0)]
    # a per-source row overrides the default for that source only
    wh.con.execute("INSERT INTO analysis_settings VALUES ('extracted', 'gap_high', 200e9, NULL)")
    assert rows(wh, "SELECT above_gap FROM gap_counts WHERE year = 2021") == [(0,)]


def test_other_threshold_merges_small_domains(wh: Warehouse) -> None:
    exponential(wh, "lang", 6.0, "Language", count=12)
    for i in range(3):
        add_system(wh, f"bio{i}", 1e7 * (i + 1), date(2021, 1 + i, 1), "Biology")
    domains = dict(rows(wh, "SELECT domain, count(*) FROM analysis_systems GROUP BY domain"))
    assert domains == {"Language": 12, "Other": 3}
    wh.con.execute("UPDATE analysis_settings SET value = 3 WHERE name = 'other_min_systems'")
    domains = dict(rows(wh, "SELECT domain, count(*) FROM analysis_systems GROUP BY domain"))
    assert domains == {"Language": 12, "Biology": 3}
    fits = {d for (d,) in rows(wh, "SELECT domain FROM trend_fits WHERE era = 'large-scale'")}
    assert fits == {"All", "Language", "Biology"}


def test_moe_exclusion_setting(wh: Warehouse) -> None:
    add_system(wh, "dense", 70e9, date(2023, 7, 1))
    add_system(wh, "mixtral", 46.7e9, date(2024, 1, 8), active=12.9e9)
    add_reference(wh, "curated", "Mixtral 8x7B", 46.7e9, date(2024, 1, 8),
                  notes="Mixture of experts: 12.9B active parameters")
    add_reference(wh, "curated", "Llama 2", 70e9, date(2023, 7, 18), notes="70B dense")
    counted = "SELECT source, count(*), count(*) FILTER (WHERE is_moe) FROM analysis_systems " \
              "GROUP BY source ORDER BY source"
    assert rows(wh, counted) == [("curated", 2, 1), ("extracted", 2, 1)]
    wh.con.execute("INSERT INTO analysis_settings VALUES ('curated', 'exclude_moe', 1, NULL)")
    assert rows(wh, counted) == [("curated", 1, 0), ("extracted", 2, 1)]
    wh.con.execute("UPDATE analysis_settings SET value = 1 "
                   "WHERE source = '*' AND name = 'exclude_moe'")
    assert rows(wh, counted) == [("curated", 1, 0), ("extracted", 1, 0)]
    records = "SELECT system FROM record_setters WHERE domain = 'All' AND source = 'curated'"
    assert rows(wh, records) == [("Llama 2",)]


def test_eras_are_data(wh: Warehouse) -> None:
    exponential(wh, "lang", 6.0, "Language", count=20)
    wh.con.execute("INSERT INTO eras VALUES "
                   "('2018-2019', DATE '2018-01-01', DATE '2019-01-01', NULL)")
    (n,), = rows(wh, "SELECT n FROM trend_fits WHERE era = '2018-2019' AND domain = 'All'")
    assert n == 10  # days 0, 37, ..., 333 of 2018


def noisy_set(wh: Warehouse) -> None:
    rng = np.random.default_rng(7)
    slope = 12 * math.log10(2) / 10.0
    for i in range(60):
        day = date(2016, 1, 1) + timedelta(days=int(rng.integers(0, 3000)))
        size = 1e8 * 10 ** (slope * (year_fraction(day) - 2016) + rng.normal(0, 0.5))
        add_system(wh, f"n{i:02d}", size, day, "Language")


def test_bootstrap_brackets_the_point_estimate_and_is_reproducible(wh: Warehouse) -> None:
    noisy_set(wh)
    first = bootstrap_fits(wh.con, resamples=300, seed=11)
    again = bootstrap_fits(wh.con, resamples=300, seed=11)
    other = bootstrap_fits(wh.con, resamples=300, seed=12)
    assert first.equals(again)
    assert not first["slope_p5"].equals(other["slope_p5"])
    point = dict(((d, e), m) for d, e, m in rows(
        wh, "SELECT domain, era, doubling_months FROM trend_fits"))
    systems = first[first["fit"] == "systems"]
    assert len(systems) == len(point)
    for row in systems.itertuples():
        estimate = point[(row.domain, row.era)]
        assert row.doubling_months_p5 < estimate < row.doubling_months_p95
        assert row.doubling_months_p5 <= row.doubling_months_p50 <= row.doubling_months_p95
    # n agrees with the views for every fit kind
    ns = dict(((f, d, e), n) for f, d, e, n in rows(
        wh, "SELECT fit, domain, era, n FROM trend_summary"))
    for row in first.itertuples():
        assert ns[(row.fit, row.domain, row.era)] == row.n


def test_bootstrap_slope_of_exact_line_is_exact() -> None:
    x = np.linspace(2000, 2020, 30)
    interval = bootstrap_slope(x, 0.25 * x - 400, resamples=200, seed=1)
    assert interval.p5 == pytest.approx(0.25) and interval.p95 == pytest.approx(0.25)
    d5, d50, d95 = interval.doubling()
    assert [d5, d50, d95] == pytest.approx([12 * math.log10(2) / 0.25] * 3)


def test_record_bootstrap_drops_an_early_outlier_sometimes() -> None:
    x = np.arange(2000.0, 2020.0)
    y = 6 + 0.3 * (x - 2000)
    y[1] = 20.0  # one early giant holds the record for ever
    window = {"all": np.ones(len(x), dtype=bool)}
    interval = bootstrap_record_slopes(x, y, window, resamples=500, seed=3)["all"]
    assert interval.n == 2  # the first system and the giant
    assert interval.p5 is not None and interval.p95 is not None
    assert interval.p5 < 0.31 and interval.p95 > 2  # with and without the giant
