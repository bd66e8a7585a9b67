"""Dates and domains on the real development corpus (../shared/corpus), with EVALUATION.md's rules.

Scored per paper from the warehouse's `papers` table, so that a paper without a
parameter headline still counts for its date and domain. A cold run parses every
PDF (about 2 minutes on 2 cores); set PARAMMINER_CACHE_DIR to reuse a text cache.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from paramminer.config import Settings
from paramminer.dates import month_of_arxiv_id
from paramminer.evaluate import evaluate, read_gold

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
DATE_FLOOR = 0.90  # papers with an arXiv id: month of v1
DOMAIN_FLOOR = 0.85  # all labeled papers: primary domain among gold's domains


@pytest.mark.corpus
@pytest.mark.slow
def test_dates_and_domains_on_the_corpus(tmp_path: Path) -> None:
    gold_csv, pdfs = CORPUS / "gold.csv", CORPUS / "pdfs"
    if not gold_csv.is_file() or not pdfs.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS} (needs gold.csv and pdfs/)")
    cache = os.environ.get("PARAMMINER_CACHE_DIR")
    settings = Settings(data_dir=tmp_path, cache_dir=Path(cache) if cache else tmp_path / "cache")
    warehouse = tmp_path / "eval.duckdb"
    result = evaluate(gold_csv, pdfs, settings, warehouse_path=warehouse)
    gold = read_gold(gold_csv, CORPUS / "manifest.csv")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT regexp_replace(source_file, '\\.[Pp][Dd][Ff]$', ''), "
            "CAST(publication_date AS VARCHAR), domain FROM papers"
        ).fetchall()
    predicted = {key: (date, domain) for key, date, domain in rows}
    date_hits, date_total, domain_hits, misses = 0, 0, 0, []
    for key, paper in sorted(gold.items()):
        date, domain = predicted.get(key, (None, None))
        expected = month_of_arxiv_id(paper.arxiv_id) if paper.arxiv_id else None
        if expected:
            date_total += 1
            date_hits += bool(date) and date[:7] == expected[:7]
        domain_hits += domain in paper.domains
        if domain not in paper.domains:
            misses.append(f"{key}: domain {domain} not in {sorted(paper.domains)}")
    assert date_total and gold
    date_month = date_hits / date_total
    domain_rate = domain_hits / len(gold)
    detail = (f"date_month (arXiv ids) {date_month:.3f}, domain {domain_rate:.3f}, "
              f"eval metrics {result.metrics['all']}; misses: {misses}")
    assert date_month >= DATE_FLOOR, detail
    assert domain_rate >= DOMAIN_FLOOR, detail
