"""Ingest throughput against a bare pypdf loop over the same PDFs.

    python bench/ingest.py [FOLDER] [--limit N] [--workers 1,2]

FOLDER defaults to ../shared/corpus/pdfs. The baseline is the cheapest possible text
extraction, `PdfReader(path).pages[i].extract_text()` for every page, in one process.
Against it we time `paramminer.ingest.ingest` into a fresh warehouse:

- cold: empty text cache in a temp dir, so every PDF is parsed, extracted and loaded;
- warm: the cache from the cold run, a fresh warehouse: no PDF is parsed, only the
  rules run and the rows load (what `paramminer extract` costs, plus page loading).

Each line prints pages per second and the ratio to the bare loop. Not a test: numbers
depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader

from paramminer.config import Settings, project_root
from paramminer.ingest import _ruleset, discover, ingest
from paramminer.warehouse import Warehouse

DEFAULT_FOLDER = project_root().parent / "shared" / "corpus" / "pdfs"


@dataclass
class Timing:
    """Pages handled and wall-clock seconds of one run."""

    label: str
    pages: int
    seconds: float
    failed: int = 0

    @property
    def rate(self) -> float:
        """Pages per second."""
        return self.pages / self.seconds if self.seconds > 0 else 0.0


def bare_loop(pdfs: list[Path]) -> Timing:
    """pypdf alone: open every PDF and extract every page's text, one process."""
    pages = failed = 0
    started = time.perf_counter()
    for path in pdfs:
        try:
            reader = PdfReader(path)
            for index in range(len(reader.pages)):
                reader.pages[index].extract_text()
                pages += 1
        except Exception:  # noqa: BLE001 - the baseline skips what it cannot read, like ingest
            failed += 1
    return Timing(
        "bare loop (PdfReader(...).pages[i].extract_text(), 1 core)",
        pages,
        time.perf_counter() - started,
        failed,
    )


def ingest_run(pdfs: list[Path], workers: int, data_dir: Path, label: str) -> Timing:
    """Ingest `pdfs` into a fresh warehouse, text cache under data_dir; wall-clock time."""
    settings = Settings(data_dir=data_dir, workers=workers)
    with tempfile.TemporaryDirectory(prefix="pm-bench-wh-") as folder:
        started = time.perf_counter()
        items, _ = discover(pdfs)
        with Warehouse.open(Path(folder) / "bench.duckdb") as warehouse:
            report = ingest(items, warehouse, settings)
        seconds = time.perf_counter() - started
    return Timing(label, report.pages, seconds, len(report.failures))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "folder",
        nargs="?",
        type=Path,
        default=DEFAULT_FOLDER,
        help=f"folder of PDFs [default {DEFAULT_FOLDER}]",
    )
    parser.add_argument("--limit", type=int, default=0, help="use only the first N PDFs (by name)")
    parser.add_argument(
        "--workers",
        default=f"1,{os.cpu_count() or 1}",
        help="comma-separated worker counts [default: 1 and every core]",
    )
    args = parser.parse_args(argv)
    pdfs = sorted(args.folder.glob("*.pdf"))
    if args.limit > 0:
        pdfs = pdfs[: args.limit]
    if not pdfs:
        print(f"no PDFs in {args.folder}", file=sys.stderr)
        return 2
    workers = sorted({max(1, int(w)) for w in args.workers.split(",")})
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    _ruleset()  # load the rules once up front: a fixed cost, not a per-page one
    size = sum(p.stat().st_size for p in pdfs) / 1e6
    print(f"{len(pdfs)} PDFs ({size:.0f} MB) from {args.folder}; {os.cpu_count()} cores")

    bare = bare_loop(pdfs)
    print(_line(bare, bare), flush=True)
    for count in workers:
        noun = "worker" if count == 1 else "workers"
        with tempfile.TemporaryDirectory(prefix="pm-bench-data-") as data:
            cold = ingest_run(pdfs, count, Path(data), f"ingest cold, {count} {noun}")
            print(_line(cold, bare), flush=True)
            warm = ingest_run(pdfs, count, Path(data), f"ingest warm, {count} {noun}")
            print(_line(warm, bare), flush=True)
    return 0


def _line(timing: Timing, bare: Timing) -> str:
    ratio = timing.rate / bare.rate if bare.rate else 0.0
    failed = f", {timing.failed} failed" if timing.failed else ""
    head = (
        f"{timing.label}: {timing.pages} pages in {timing.seconds:.1f}s{failed}"
        f" = {timing.rate:.1f} pages/s"
    )
    return head if timing is bare else f"{head}: {ratio:.2f}x the bare loop"


if __name__ == "__main__":
    sys.exit(main())
