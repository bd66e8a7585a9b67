"""Table cells on the corpus: find_table_cells over the cached page text of every corpus PDF.

    python bench/tables_corpus.py [--cache DIR] [--corpus DIR] [--baseline FILE] [--dump FILE]
        [--show N]

Per paper: table cells found now (and, with --baseline, before), and whether a gold value
(gold.csv, 5% tolerance) is among the table cells. Reads the text cache only (never parses a
PDF): papers missing from the cache are skipped and counted. Not a test.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import time
from pathlib import Path
from typing import Any

from paramminer.config import project_root
from paramminer.lexicon import load_lexicon
from paramminer.pdftext import TextCache, normalize_text
from paramminer.tables import find_table_cells


def default_corpus() -> Path:
    """../shared/corpus beside the main checkout, also when run from a git worktree."""
    try:
        common = subprocess.run(
            ["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
            cwd=project_root(), capture_output=True, text=True, check=True,
        ).stdout.strip()
        checkout = Path(common).parent
    except (OSError, subprocess.CalledProcessError):
        checkout = project_root()
    return checkout.parent / "shared" / "corpus"


def gold_values(corpus: Path) -> dict[str, list[int]]:
    """Gold parameter counts per paper key."""
    gold: dict[str, list[int]] = {}
    with (corpus / "gold.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["parameters"]:
                gold.setdefault(row["key"], []).append(int(float(row["parameters"])))
    return gold


def near(value: int, targets: list[int]) -> bool:
    return any(abs(value - t) <= 0.05 * t for t in targets)


def hit(cells: list[dict[str, Any]], targets: list[int]) -> bool:
    """A gold value is among the cells."""
    return any(near(int(c["value"]), targets) for c in cells)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, default=Path("/tmp/pm/cache/text"))
    parser.add_argument("--corpus", type=Path, default=default_corpus(),
                        help="folder of gold.csv and manifest.csv")
    parser.add_argument("--baseline", type=Path, help="JSON {key: [{value: ...}, ...]}")
    parser.add_argument("--dump", type=Path, help="write the cells found as JSON")
    parser.add_argument("--show", type=int, default=0, help="print a random sample of cells")
    args = parser.parse_args()
    cache = TextCache(args.cache)
    lexicon = load_lexicon()
    gold = gold_values(args.corpus)
    baseline: dict[str, list[dict[str, Any]]] = (
        json.loads(args.baseline.read_text()) if args.baseline else {}
    )
    found: dict[str, list[dict[str, Any]]] = {}
    missing = 0
    seconds = 0.0
    pages_seen = 0
    with (args.corpus / "manifest.csv").open(encoding="utf-8") as handle:
        manifest = list(csv.DictReader(handle))
    for row in manifest:
        raw = cache.get(row["sha256"])
        if raw is None:
            missing += 1
            continue
        cells = []
        for page_no, page in enumerate(raw, 1):
            text = normalize_text(page)
            started = time.perf_counter()
            page_cells = find_table_cells(text, lexicon)
            seconds += time.perf_counter() - started
            pages_seen += 1
            cells += [{"page": page_no, "mention": text[c.start : c.end], **c.__dict__}
                      for c in page_cells]
        found[row["key"]] = cells
    labeled = [k for k in found if k in gold]
    before_hit = sum(1 for k in labeled if hit(baseline.get(k, []), gold[k]))
    after_hit = sum(1 for k in labeled if hit(found[k], gold[k]))
    print(f"papers {len(found)} (missing from cache {missing}), labeled {len(labeled)}")
    print(f"pages {pages_seen}, {seconds:.2f}s in find_table_cells")
    print(f"cells now {sum(len(v) for v in found.values())} in "
          f"{sum(1 for v in found.values() if v)} papers")
    if baseline:
        print(f"cells before {sum(len(baseline.get(k, [])) for k in found)} in "
              f"{sum(1 for k in found if baseline.get(k))} papers")
        print(f"labeled papers with a gold value among table cells: before {before_hit}, "
              f"now {after_hit}")
        for key in labeled:
            was = hit(baseline.get(key, []), gold[key])
            now = hit(found[key], gold[key])
            if was != now:
                print(f"  {'gained' if now else 'LOST'} {key}: "
                      f"{len(baseline.get(key, []))} -> {len(found[key])} cells")
    else:
        print(f"labeled papers with a gold value among table cells: {after_hit}")
    if args.dump:
        args.dump.write_text(json.dumps(found, indent=0, ensure_ascii=False))
    if args.show:
        every = [(k, c) for k, v in found.items() for c in v]
        for key, cell in random.Random(7).sample(every, min(args.show, len(every))):
            print(f"{key} p{cell['page']} {cell['value']:>14} {cell['kind']:<13} "
                  f"{str(cell['label'])[:24]!r:<26} | {str(cell['row'])[:90]}")


if __name__ == "__main__":
    main()
