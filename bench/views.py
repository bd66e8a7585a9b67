"""Time every analysis view on a synthetic warehouse: 100k systems, 1M candidates.

Run: python bench/views.py [--systems N] [--candidates N] [--keep PATH]
                           [--no-bootstrap]

The rows are generated inside DuckDB (a few seconds); each view is then read in full
(materialized into a temporary table) three times and the best time printed.
Target: well under a second each.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from paramminer.analysis import refresh_bootstrap
from paramminer.warehouse import Warehouse

VIEWS = (
    "systems_final",
    "analysis_settings_by_source",
    "analysis_systems",
    "trend_fits",
    "record_setters",
    "record_trend_fits",
    "gap_counts",
    "gap_trend_fits",
    "trend_summary",
)
DOMAINS = "['Language', 'Vision', 'Games', 'Speech', 'Multimodal', 'Biology', 'Robotics', 'Rare']"


def build(wh: Warehouse, systems: int, candidates: int) -> None:
    """Synthetic papers/systems/candidates (and a 10k-row reference) generated in SQL."""
    con = wh.con
    con.execute(f"""
        INSERT INTO papers (paper_id, sha256, publication_date, date_source, domain, domains)
        SELECT printf('%04d.%05d', 1000 + i % 9000, i), md5(i::VARCHAR),
               DATE '1990-01-01' + CAST(floor(12800 * sqrt(hash(i) % 1000000 / 1e6)) AS INTEGER),
               'arxiv_api', d, d
        FROM (SELECT i, list_extract({DOMAINS}, 1 + CAST(hash(i * 7) % 8 AS INTEGER)) AS d
              FROM range({systems}) t(i))
    """)
    con.execute("""
        INSERT INTO systems (paper_id, system, parameters, parameters_active, is_headline,
                             confidence, status, candidate_id, page, evidence, rule)
        SELECT p.paper_id, 'model ' || p.paper_id,
               CAST(pow(10, least(13, 3 + 0.22 * (year(p.publication_date) - 1990)
                    + (hash(p.sha256) % 1000) / 400.0)) AS BIGINT),
               CASE WHEN hash(p.paper_id) % 50 = 0 THEN 1000000 END,
               true, 0.8, 'auto', 'c-' || p.paper_id, 1, 'we train a model', 'bench@1'
        FROM papers p
    """)
    per_paper = max(1, candidates // systems)
    con.execute(f"""
        INSERT INTO candidates (candidate_id, paper_id, sha256, parameters, kind, system, page,
                                char_start, char_end, mention, evidence, section, scope, score,
                                rule, chosen)
        SELECT p.paper_id || '-' || k, p.paper_id, p.sha256, 1000000 * (k + 1), 'total', NULL,
               1 + k % 12, 100 * k, 100 * k + 6, '1.5B', 'a sentence with 1.5B parameters',
               'method', 'own', 0.5, 'bench@1', k = 0
        FROM papers p, range({per_paper}) r(k)
    """)
    con.execute("INSERT INTO reference_sources (name, file, rows) VALUES ('bench', 'bench', 10000)")
    con.execute(f"""
        INSERT INTO reference_systems (source, system, parameters, publication_date, domain,
                                       domains, confidence)
        SELECT 'bench', 'ref ' || i, pow(10, 4 + 0.2 * (i % 40) + (hash(i) % 100) / 50.0),
               DATE '1985-01-01' + CAST(i % 14600 AS INTEGER),
               list_extract({DOMAINS}, 1 + CAST(i % 8 AS INTEGER)), NULL, 'Likely'
        FROM range(10000) t(i)
    """)


def best_of(runs: int, action: object) -> float:
    """Fastest of `runs` calls, in seconds."""
    assert callable(action)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", type=int, default=100_000)
    parser.add_argument("--candidates", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="Write the warehouse here.")
    parser.add_argument("--no-bootstrap", action="store_true", help="Skip timing the bootstrap.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = args.keep or Path(folder) / "bench.duckdb"
        path.unlink(missing_ok=True)
        with Warehouse.open(path) as wh:
            start = time.perf_counter()
            build(wh, args.systems, args.candidates)
            counts = {t: wh.con.execute(f"SELECT count(*) FROM {t}").fetchone()
                      for t in ("systems", "candidates", "reference_systems")}
            print(f"built in {time.perf_counter() - start:.1f}s: "
                  + ", ".join(f"{t} {c[0] if c else 0:,}" for t, c in counts.items()))
            print(f"{'view':30} {'rows':>9} {'seconds':>8}")
            for view in VIEWS:
                rows = wh.con.execute(f"SELECT count(*) FROM {view}").fetchone()
                seconds = best_of(3, lambda v=view: wh.con.execute(
                    f"CREATE OR REPLACE TEMP TABLE bench_out AS SELECT * FROM {v}"))
                print(f"{view:30} {rows[0] if rows else 0:>9,} {seconds:>8.3f}")
            if args.no_bootstrap:
                return
            start = time.perf_counter()
            frame = refresh_bootstrap(wh, resamples=1000)
            print(f"bootstrap (1,000 resamples, {len(frame)} fits): "
                  f"{time.perf_counter() - start:.1f}s")


if __name__ == "__main__":
    main()
