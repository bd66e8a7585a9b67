"""`paramminer eval --folds 5` on the real development corpus (../shared/corpus): the accuracy
floors on the cross-validated numbers (the headline model is refitted on 4 folds of papers and
scored on the held-out fifth), the gap to the in-sample numbers, and the dates/domains floors,
from one ingest.

A cold run parses every PDF (about 2 minutes on 2 cores); set PARAMMINER_CACHE_DIR to
reuse a text cache. Skipped, saying why, when the shared corpus is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from paramminer.config import Settings
from paramminer.dates import month_of_arxiv_id
from paramminer.evaluate import EvalResult, GoldPaper, evaluate, read_gold

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"

# Floors on the 5-fold cross-validated metrics: the accuracy issue's floors. Measured
# 2026-12-01 (seed 0, stated subset): auto_precision 1.000, auto_recall 0.483, headline_any
# 0.810, candidate_recall 0.983, error_capture 1.000; all labeled: auto_precision 0.966,
# candidate_recall 0.670. The corpus grew from 54 to 94 labeled papers that day; until the
# extraction work caught up these floors were set lower, as a known regression.
STATED_FLOORS = {
    "auto_precision": 0.95,
    "auto_recall": 0.45,
    "headline_any": 0.80,
    "candidate_recall": 0.97,
    "error_capture": 0.80,
}
ALL_FLOORS = {"auto_precision": 0.95, "candidate_recall": 0.65}
MAX_GAP = 0.12  # in-sample minus cross-validated headline_any: more is overfitting
FOLDS = 5
DATE_FLOOR = 0.90  # papers with an arXiv id: month of v1
DOMAIN_FLOOR = 0.85  # labeled papers: primary domain among gold's domains
NAMED_HEADLINES_FLOOR = 0.80  # headline rows that name their system


@pytest.fixture(scope="module")
def corpus_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[EvalResult, Path, dict[str, GoldPaper]]:
    gold_csv, pdfs = CORPUS / "gold.csv", CORPUS / "pdfs"
    if not gold_csv.is_file() or not pdfs.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS} (needs gold.csv and pdfs/)")
    tmp = tmp_path_factory.mktemp("corpus")
    cache = os.environ.get("PARAMMINER_CACHE_DIR")
    settings = Settings(data_dir=tmp, cache_dir=Path(cache) if cache else tmp / "cache")
    warehouse = tmp / "eval.duckdb"
    result = evaluate(gold_csv, pdfs, settings, warehouse_path=warehouse, folds=FOLDS)
    return result, warehouse, read_gold(gold_csv, CORPUS / "manifest.csv")


@pytest.mark.corpus
@pytest.mark.slow
def test_parameter_floors(corpus_run: tuple[EvalResult, Path, dict[str, GoldPaper]]) -> None:
    result, _, _ = corpus_run
    validation = result.cross_validation
    assert validation is not None and validation.folds == FOLDS
    errors = [
        f"{o.key}: {o.predicted} ({o.status}) gold {o.gold}"
        for o in validation.outcomes
        if not o.headline_ok
    ]
    for subset, floors in (("stated_in_text", STATED_FLOORS), ("all", ALL_FLOORS)):
        for metric, floor in floors.items():
            value = validation.metrics[subset][metric]
            assert value >= floor, f"CV {subset} {metric} {value} < {floor}; errors: {errors}"
    gap = (result.metrics["stated_in_text"]["headline_any"]
           - validation.metrics["stated_in_text"]["headline_any"])
    assert gap <= MAX_GAP, f"in-sample beats cross-validated headline_any by {gap:.3f}"
    assert not result.report.failures, result.report.failures


@pytest.mark.corpus
@pytest.mark.slow
def test_every_value_has_page_and_evidence_containing_it(
    corpus_run: tuple[EvalResult, Path, dict[str, GoldPaper]],
) -> None:
    _, warehouse, _ = corpus_run
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT c.paper_id, c.mention, c.evidence, c.page, p.text FROM candidates c "
            "JOIN pages p ON p.sha256 = c.sha256 AND p.page = c.page"
        ).fetchall()
        system_rows = con.execute(
            "SELECT s.paper_id, s.page, s.evidence, c.page, c.evidence FROM systems s "
            "JOIN candidates c USING (candidate_id)"
        ).fetchall()
    assert len(rows) > 500
    for paper_id, mention, evidence, page, text in rows:
        assert page >= 1
        assert mention in evidence, (paper_id, mention, evidence)
        assert mention in " ".join(text.split()), (paper_id, mention, page)
    for paper_id, page, evidence, candidate_page, candidate_evidence in system_rows:
        assert (page, evidence) == (candidate_page, candidate_evidence), paper_id


@pytest.mark.corpus
@pytest.mark.slow
def test_dates_domains_and_names(corpus_run: tuple[EvalResult, Path, dict[str, GoldPaper]]) -> None:
    """Scored per paper from `papers`, so a paper without a headline still counts."""
    _, warehouse, gold = corpus_run
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT regexp_replace(source_file, '\\.[Pp][Dd][Ff]$', ''), "
            "CAST(publication_date AS VARCHAR), domain FROM papers"
        ).fetchall()
        named, headlines = con.execute(
            "SELECT count(*) FILTER (WHERE system <> ''), count(*) FROM systems WHERE is_headline"
        ).fetchone() or (0, 0)
    predicted = {key: (date, domain) for key, date, domain in rows}
    date_hits = date_total = domain_hits = 0
    misses = []
    for key, paper in sorted(gold.items()):
        date, domain = predicted.get(key, (None, None))
        expected = month_of_arxiv_id(paper.arxiv_id) if paper.arxiv_id else None
        if expected:
            date_total += 1
            date_hits += bool(date) and date[:7] == expected[:7]
        domain_hits += domain in paper.domains
        if domain not in paper.domains:
            misses.append(f"{key}: {domain} not in {sorted(paper.domains)}")
    assert date_total and gold
    assert date_hits / date_total >= DATE_FLOOR, misses
    assert domain_hits / len(gold) >= DOMAIN_FLOOR, misses
    assert headlines and named / headlines >= NAMED_HEADLINES_FLOOR, (named, headlines)
