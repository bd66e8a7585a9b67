"""Ingest and extract speed as ratios to two one-core baselines, peak memory per worker,
and what a 100k-PDF backfill costs on one 2-core machine.

    python bench/ingest.py [FOLDER] [--limit N] [--repeat 3] [--workers 2] [--big-pages 2000]

FOLDER defaults to ../shared/corpus/pdfs. In one run, side by side:

- baseline A: a bare loop `PdfReader(path).pages[i].extract_text()` over the PDFs, one core;
- `ingest` with a cold text cache on `--workers` processes, once per text backend, as a
  ratio of its time to A (the floor is 0.35x, the goal 0.1x); the same on the first
  `--small` PDFs, where start-up weighs most; `ingest` with a warm cache;
- baseline B: `spacy.blank("en")` tokenizing the stored text of every page, one core;
- `extract` (re-running the rules over the stored text) on `--workers` processes, as a
  ratio of its time to B (floor 0.5x, goal 0.2x); and the whole `paramminer extract`
  command as a user times it (interpreter start, imports, opening the warehouse, exit);
- peak memory per worker: the largest worker process of each run, and a fresh worker
  process parsing and extracting a synthetic `--big-pages` PDF with each backend (floor 1 GB);
- a projection of `--backfill-pdfs` PDFs on one machine like this one.

Every run is repeated `--repeat` times and the fastest kept: the machine may be shared,
and other work only ever makes a run slower. Each ingest and extract runs in a fresh
process, so its workers' memory is measured alone; its time is that of the `ingest()` or
`reextract()` call, pool start-up included. Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from paramminer.config import PDF_BACKENDS, Settings, project_root

DEFAULT_FOLDER = project_root().parent / "shared" / "corpus" / "pdfs"
INGEST_FLOOR, INGEST_GOAL = 0.35, 0.10  # cold ingest time / bare one-core pypdf loop time
EXTRACT_FLOOR, EXTRACT_GOAL = 0.50, 0.20  # extract time / one-core tokenization time
MEMORY_FLOOR_MB = 1024  # peak resident memory of one worker on a 2,000-page PDF
ARXIV_PDF_DELAY = 3.0  # seconds between PDF requests to arXiv (the harvest's courtesy)


@dataclass
class Run:
    """The fastest of several repeats of one measurement, and the largest memory seen."""

    label: str
    seconds: float = float("inf")
    pages: int = 0
    failed: int = 0
    worker_mb: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, result: dict[str, Any]) -> None:
        """Keep the fastest time and the largest peak memory."""
        if result["seconds"] < self.seconds:
            self.seconds = result["seconds"]
            self.pages, self.failed = result.get("pages", 0), result.get("failed", 0)
            self.extra.update(result.get("extra", {}))
        self.worker_mb = max(self.worker_mb, result.get("worker_mb", 0.0))


# ---------------------------------------------------------------- baselines (this process)


def bare_loop(pdfs: list[Path]) -> dict[str, Any]:
    """pypdf alone, one process: every page's text, nothing else. Seconds per PDF too."""
    per_pdf: dict[str, float] = {}
    pages = failed = 0
    for path in pdfs:
        started = time.perf_counter()
        try:
            reader = PdfReader(path)
            for index in range(len(reader.pages)):
                reader.pages[index].extract_text()
                pages += 1
        except Exception:  # noqa: BLE001 - the baseline skips what it cannot read
            failed += 1
        per_pdf[path.name] = time.perf_counter() - started
    return {"seconds": sum(per_pdf.values()), "pages": pages, "failed": failed,
            "extra": {"per_pdf": per_pdf}}


def tokenize(warehouse_path: Path) -> dict[str, Any]:
    """spacy.blank("en") over the stored text of every page, one process."""
    import duckdb
    import spacy

    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        texts = [row[0] for row in con.execute("SELECT text FROM pages").fetchall()]
    nlp = spacy.blank("en")
    tokens = 0
    started = time.perf_counter()
    for doc in nlp.pipe(texts, batch_size=64):
        tokens += len(doc)
    return {"seconds": time.perf_counter() - started, "pages": len(texts),
            "extra": {"tokens": tokens, "chars": sum(map(len, texts))}}


# ---------------------------------------------------------------- runs (fresh processes)


def extract_command(warehouse: Path, workers: int) -> dict[str, Any]:
    """`paramminer extract` as a user runs it, timed from its start to its exit."""
    command = [sys.executable, "-m", "paramminer", "extract", "-w", str(warehouse),
               "-j", str(workers), "--json"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False,
                          cwd=warehouse.parent)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"paramminer extract failed:\n{done.stderr[-3000:]}")
    summary = json.loads(done.stdout)
    return {"seconds": seconds, "pages": summary["pages"], "failed": len(summary["failures"])}


def child(job: dict[str, Any]) -> dict[str, Any]:
    """Run one job in a fresh Python process; its JSON result."""
    done = subprocess.run([sys.executable, __file__, "--child", json.dumps(job)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench job {job['job']} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux: kilobytes


def _run_child(job: dict[str, Any]) -> dict[str, Any]:
    """The body of a --child process."""
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    settings = Settings(data_dir=Path(job["data"]), workers=job.get("workers", 1),
                        pdf_backend=job.get("backend", PDF_BACKENDS[0]),
                        pdf_timeout=job.get("timeout", 120.0))
    if job["job"] == "worker":
        return _one_worker(Path(job["pdf"]), settings)
    from paramminer.ingest import discover, ingest, reextract
    from paramminer.warehouse import Warehouse

    with Warehouse.open(Path(job["warehouse"])) as warehouse:
        started = time.perf_counter()
        if job["job"] == "ingest":
            items, _ = discover([Path(p) for p in job["pdfs"]])
            report = ingest(items, warehouse, settings)
        else:
            report = reextract(warehouse, settings)
        seconds = time.perf_counter() - started
    pool = settings.worker_count > 1 and len(report.loaded) + len(report.failures) > 1
    return {"seconds": seconds, "pages": report.pages, "failed": len(report.failures),
            "worker_mb": _peak_mb(resource.RUSAGE_CHILDREN if pool else resource.RUSAGE_SELF),
            "extra": {"failures": [f"{f.path}: {f.reason}" for f in report.failures][:5]}}


def _one_worker(pdf: Path, settings: Settings) -> dict[str, Any]:
    """What one worker process holds at most while it parses and extracts one PDF."""
    from paramminer.ingest import _ruleset, process_pdf
    from paramminer.pdftext import file_sha256

    _ruleset()
    started = time.perf_counter()
    result = process_pdf(str(pdf), file_sha256(pdf), str(settings.text_cache_dir), None,
                         None, settings.pdf_backend)
    return {"seconds": time.perf_counter() - started, "pages": len(result.pages),
            "worker_mb": _peak_mb(resource.RUSAGE_SELF),
            "extra": {"mentions": len(result.resolution.mentions)}}


def _empty_warehouse(path: Path) -> Path:
    from paramminer.warehouse import Warehouse

    with Warehouse.open(path):
        pass
    return path


# ---------------------------------------------------------------- the synthetic big PDF


def build_big_pdf(path: Path, pages: int) -> Path:
    """A long PDF of dense two-column-like prose with sizes, tables and references."""
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    sheet = canvas.Canvas(str(path), pagesize=letter, invariant=1)
    sheet.setTitle("A Synthetic Two-Thousand-Page Report on Model Sizes")
    for number in range(pages):
        for line in range(52):
            sheet.drawString(40, 760 - line * 14, _big_line(number, line))
        sheet.showPage()
    sheet.save()
    return path


def _big_line(page: int, line: int) -> str:
    size = (page * 52 + line) % 997 + 1
    if line % 13 == 0:
        tokens = size * 3 % 700 + 10
        return f"Model-{size}M | {size}M | {tokens}B tokens | 71.{line} | 64.{page % 10}"
    if line % 7 == 0:
        return f"[{page}.{line}] A. Author. Scaling laws for {size}B parameter models. 2024."
    return (f"On page {page}, the {size}M-parameter variant of our model, trained for "
            f"{line + 1}00k steps, reaches {50 + line % 40}.{page % 10} accuracy.")


# ---------------------------------------------------------------- the report


def sizes_mb(path: Path) -> float:
    """Megabytes of a file or of everything under a folder."""
    if path.is_file():
        return path.stat().st_size / 1e6
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def measure(args: argparse.Namespace, pdfs: list[Path], work: Path) -> dict[str, Run]:
    """Every run, `args.repeat` times; the fastest of each."""
    runs: dict[str, Run] = {}
    small = pdfs[: args.small]
    empty_mb = sizes_mb(_empty_warehouse(work / "empty.duckdb"))

    def get(key: str, label: str) -> Run:
        return runs.setdefault(key, Run(label))

    for attempt in range(args.repeat):
        print(f"repeat {attempt + 1} of {args.repeat} (load average "
              f"{os.getloadavg()[0]:.1f})", file=sys.stderr, flush=True)
        get("bare", "bare pypdf loop, 1 core").add(bare_loop(pdfs))
        for backend in args.backends:
            data = work / f"{backend}-{attempt}"
            job = {"job": "ingest", "pdfs": [str(p) for p in pdfs], "workers": args.workers,
                   "backend": backend, "data": str(data), "warehouse": str(data / "wh.duckdb")}
            result = child(job)
            result["extra"]["cache_mb"] = sizes_mb(data / "cache")
            result["extra"]["warehouse_mb"] = sizes_mb(data / "wh.duckdb") - empty_mb
            get(f"cold-{backend}", f"ingest cold, {args.workers} workers, {backend}").add(result)
            small_data = work / f"small-{backend}-{attempt}"
            get(f"small-{backend}", f"ingest cold, first {len(small)} PDFs, {backend}").add(
                child({**job, "pdfs": [str(p) for p in small], "data": str(small_data),
                       "warehouse": str(small_data / "wh.duckdb")}))
        default = work / f"{args.backends[0]}-{attempt}"
        warm = {"job": "ingest", "pdfs": [str(p) for p in pdfs], "workers": args.workers,
                "data": str(default), "warehouse": str(default / "warm.duckdb")}
        get("warm", f"ingest warm, {args.workers} workers").add(child(warm))
        get("tokenize", 'spacy.blank("en") tokenization, 1 core').add(
            tokenize(default / "wh.duckdb"))
        get("extract", f"extract over stored text, {args.workers} workers").add(child(
            {"job": "extract", "workers": args.workers, "data": str(default),
             "warehouse": str(default / "wh.duckdb")}))
        get("command", "the whole `paramminer extract` command").add(
            extract_command(default / "wh.duckdb", args.workers))
        for folder in work.glob(f"*-{attempt}"):
            shutil.rmtree(folder, ignore_errors=True)
    if args.big_pages:
        big = build_big_pdf(work / "big.pdf", args.big_pages)
        for backend in args.backends:
            run = get(f"big-{backend}", f"one worker, {args.big_pages}-page PDF, {backend}")
            run.add(child({"job": "worker", "pdf": str(big), "backend": backend,
                           "data": str(work / f"big-{backend}"), "timeout": 3600.0}))
    return runs


def report(runs: dict[str, Run], args: argparse.Namespace, pdfs: list[Path]) -> list[str]:
    """The side-by-side lines."""
    bare, tok = runs["bare"], runs["tokenize"]
    small_names = {p.name for p in pdfs[: args.small]}
    small_bare = sum(s for n, s in bare.extra["per_pdf"].items() if n in small_names)
    lines = [f"{len(pdfs)} PDFs, {bare.pages} pages, "
             f"{sum(p.stat().st_size for p in pdfs) / 1e6:.0f} MB; {os.cpu_count()} cores; "
             f"fastest of {args.repeat} (the machine may be shared)",
             "", f"{'run':52}{'seconds':>9}{'pages/s':>9}  {'ratio':>7}  floor  goal  worker MB"]

    def row(run: Run, base: float, floor: str = "", goal: str = "", name: str = "") -> str:
        ratio = f"{run.seconds / base:.3f}x" if base else ""
        rate = run.pages / run.seconds if run.seconds else 0.0
        memory = f"{run.worker_mb:.0f}" if run.worker_mb else ""
        failed = f" ({run.failed} failed)" if run.failed else ""
        return (f"{(name or run.label) + failed:52}{run.seconds:9.1f}{rate:9.1f}  {ratio:>7}  "
                f"{floor:>5}  {goal:>4}  {memory:>9}")

    lines.append(row(bare, 0, name="A  " + bare.label))
    for backend in args.backends:
        lines.append(row(runs[f"cold-{backend}"], bare.seconds, f"{INGEST_FLOOR}",
                         f"{INGEST_GOAL}"))
    for backend in args.backends:
        lines.append(row(runs[f"small-{backend}"], small_bare, f"{INGEST_FLOOR}"))
    lines.append(row(runs["warm"], bare.seconds))
    lines.append(row(tok, 0, name="B  " + tok.label))
    lines.append(row(runs["extract"], tok.seconds, f"{EXTRACT_FLOOR}", f"{EXTRACT_GOAL}"))
    lines.append(row(runs["command"], tok.seconds))  # what a user's `time` shows; no floor
    lines.append("(ratios: time of the run / time of its baseline A or B; lower is faster)")
    for backend in args.backends:
        big = runs.get(f"big-{backend}")
        if big:
            lines.append(f"{big.label}: peak {big.worker_mb:.0f} MB (floor {MEMORY_FLOOR_MB}), "
                         f"{big.seconds:.0f} s for {big.pages} pages")
    return [*lines, "", *projection(runs, args)]


def projection(runs: dict[str, Run], args: argparse.Namespace) -> list[str]:
    """A backfill of args.backfill_pdfs PDFs at the measured rates."""
    pdf_count = len(runs["bare"].extra["per_pdf"])
    pages = args.backfill_pages or args.backfill_pdfs * runs["bare"].pages / pdf_count
    lines = [f"projection: {args.backfill_pdfs:,} PDFs (~{pages / 1e6:.2f}M pages) on one "
             f"{os.cpu_count()}-core machine like this one"]
    for backend in args.backends:
        cold = runs[f"cold-{backend}"]
        hours = pages / (cold.pages / cold.seconds) / 3600
        per_pdf = args.backfill_pdfs / pdf_count
        lines.append(f"  ingest, {backend}: {hours:.1f} h; text cache "
                     f"{cold.extra['cache_mb'] * per_pdf / 1e3:.1f} GB, warehouse "
                     f"{cold.extra['warehouse_mb'] * per_pdf / 1e3:.1f} GB")
    extract = runs["extract"]
    lines.append(f"  re-extract everything after a rule change: "
                 f"{pages / (extract.pages / extract.seconds) / 3600:.1f} h")
    lines.append(f"  (downloading them from arXiv at one PDF every {ARXIV_PDF_DELAY:g} s: "
                 f"{args.backfill_pdfs * ARXIV_PDF_DELAY / 3600:.0f} h)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER,
                        help=f"folder of PDFs [default {DEFAULT_FOLDER}]")
    parser.add_argument("--limit", type=int, default=0, help="the first N PDFs (by name)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="worker processes for ingest and extract [default: every core]")
    parser.add_argument("--repeat", type=int, default=3, help="repeats; the fastest is kept")
    parser.add_argument("--small", type=int, default=30, help="PDFs in the small cold run")
    parser.add_argument("--big-pages", type=int, default=2000,
                        help="pages of the synthetic PDF for the memory check (0: skip)")
    parser.add_argument("--backfill-pdfs", type=int, default=100_000)
    parser.add_argument("--backfill-pages", type=int, default=0,
                        help="pages of the backfill [default: PDFs x this corpus's mean]")
    parser.add_argument("--backends", default=",".join(PDF_BACKENDS),
                        help="text backends, the first also for warm and extract [default: all]")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.backends = args.backends.split(",")
    if args.child:
        print(json.dumps(_run_child(json.loads(args.child))))
        return 0
    pdfs = sorted(args.folder.glob("*.pdf"))[: args.limit or None]
    if not pdfs:
        print(f"no PDFs in {args.folder}", file=sys.stderr)
        return 2
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory(prefix="pm-bench-") as folder:
        runs = measure(args, pdfs, Path(folder))
    print("\n".join(report(runs, args, pdfs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
