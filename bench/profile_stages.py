"""Where the time of `ingest` and `extract` goes: cProfile by pipeline stage.

    python bench/profile_stages.py [FOLDER] [--limit 40] [--backend pdfium] [--top 25]

Ingests the first `--limit` PDFs with a cold text cache into a fresh warehouse, in this one
process (one worker, so the profiler sees every call), then re-extracts them from the
stored text, and prints for each: the share of the wall time spent in each stage
(parsing, normalization, rules, resolution, loading...) and the functions with the most
time of their own. Profiling slows Python code down more than C code, so shares are
approximate; bench/ingest.py gives the real speed.
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import pstats
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from paramminer.config import PDF_BACKENDS, Settings, project_root

DEFAULT_FOLDER = project_root().parent / "shared" / "corpus" / "pdfs"


_C_METHOD = "<method '__call__' of 'spacy."  # how cProfile names a Cython method


def stages() -> list[tuple[str, str, int | None, str]]:
    """(stage, file suffix, first line or None, function name) of the functions whose
    cumulative time makes each stage; nested stages are included in their parents."""
    from paramminer import (
        dates,
        domains,
        extract,
        identity,
        ingest,
        load,
        names,
        pdftext,
        resolve,
        sections,
        tables,
        warehouse,
        windows,
    )

    def code(label: str, function: object) -> tuple[str, str, int | None, str]:
        body = function.__code__  # type: ignore[attr-defined]
        return label, body.co_filename, body.co_firstlineno, body.co_name

    return [
        code("hash the PDF (sha256)", pdftext.file_sha256),
        code("parse: all of it", pdftext.parse_pdf),
        code("parse: pdfium page text", pdftext._PdfiumDocument.page_text),
        code("parse: pdfium superscripts back inline", pdftext._inline_shifted_lines),
        code("parse: pypdf page text", pdftext._PypdfDocument.page_text),
        code("parse: broken-page checks", pdftext._page_problem),
        code("parse: cleaning code points", pdftext.clean_text),
        code("text cache write", pdftext.TextCache.put),
        code("normalize (NFKC, hyphens, spaces)", pdftext.normalize_text),
        code("rules: find_mentions", extract.find_mentions),
        code("rules: section headings", sections.SectionMap.__init__),
        code("rules: table cells (tables.py)", tables.find_table_cells),
        code("rules: prefilter (counts, windows)", windows.find_spots),
        code("rules: spaCy pipeline over the windows", extract._parse),
        ("rules: spaCy tokenizer", "~", None, _C_METHOD + "tokenizer.Tokenizer"),
        ("rules: spaCy Matcher", "~", None, _C_METHOD + "matcher.matcher.Matcher"),
        code("rules: reading the matches", extract._doc_mentions),
        code("resolve", resolve.resolve),
        code("resolve: names analysis", names.analyse_names),
        code("paper fields (dates, domains)", identity.paper_fields),
        code("paper fields: domains", domains.classify_domains),
        code("paper fields: dates", dates.publication_date),
        code("warehouse open (after a release)", warehouse._connect),
        code("warehouse release (close, checkpoint)", warehouse.Warehouse.release),
        code("load into DuckDB (ingest)", load.load_paper),
        code("load into DuckDB (extract, batches)", load.load_extractions),
        code("read stored pages (extract)", load.stored_pages_of),
        code("worker job: whole paper (ingest)", ingest.process_pdf),
        code("worker job: whole paper (extract)", ingest.reextract_pages),
    ]


def _run_jobs_here() -> None:
    """Make every worker pool run its jobs in this process (its fallback when no worker
    process can start), so that the profiler sees the workers' work too."""
    from paramminer import workers

    start = workers.WorkerPool.__init__

    def in_process(pool: workers.WorkerPool, *args: Any, **kwargs: Any) -> None:
        start(pool, *args, **kwargs)
        pool._in_process = True

    workers.WorkerPool.__init__ = in_process  # type: ignore[method-assign]


def profiled(work: object, *args: object) -> tuple[float, pstats.Stats]:
    """Wall seconds and the profile of work(*args)."""
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.runcall(work, *args)  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    return seconds, pstats.Stats(profile)


def stage_lines(stats: pstats.Stats, wall: float) -> list[str]:
    """Cumulative seconds and share of `wall` for each stage found in the profile."""
    table = stats.stats  # type: ignore[attr-defined]
    lines = []
    for label, path, first, name in stages():
        seconds = sum(entry[3] for (file, line, func), entry in table.items()
                      if file == path and ((first is None and func.startswith(name))
                                           or (line == first and func == name)))
        if seconds:
            lines.append(f"  {label:42}{seconds:8.1f} s {100 * seconds / wall:5.1f}%")
    return lines


def top_lines(stats: pstats.Stats, count: int) -> list[str]:
    """The functions with the most time of their own."""
    table = stats.stats  # type: ignore[attr-defined]
    ranked = sorted(table.items(), key=lambda item: item[1][2], reverse=True)[:count]
    return [f"  {entry[2]:8.2f} s  {entry[1]:>9} calls  {Path(path).name}:{line} {func}"
            for (path, line, func), entry in ranked]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--limit", type=int, default=40, help="the first N PDFs (by name)")
    parser.add_argument("--backend", default=PDF_BACKENDS[0], choices=PDF_BACKENDS)
    parser.add_argument("--top", type=int, default=25, help="functions listed per profile")
    args = parser.parse_args(argv)
    pdfs = sorted(args.folder.glob("*.pdf"))[: args.limit or None]
    if not pdfs:
        print(f"no PDFs in {args.folder}", file=sys.stderr)
        return 2
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    from paramminer.ingest import _ruleset, discover, ingest, reextract
    from paramminer.warehouse import Warehouse

    _run_jobs_here()
    _ruleset()  # loading the rules is start-up, not per-paper work
    with tempfile.TemporaryDirectory(prefix="pm-profile-") as folder:
        settings = Settings(data_dir=Path(folder), workers=1, pdf_backend=args.backend)
        with Warehouse.open(Path(folder) / "wh.duckdb") as warehouse:
            items, _ = discover(pdfs)
            for label, work, work_args in (
                (f"ingest, cold cache, {args.backend}, 1 worker", ingest,
                 (items, warehouse, settings)),
                ("extract over stored text, 1 worker", reextract, (warehouse, settings)),
            ):
                wall, stats = profiled(work, *work_args)
                print(f"{label}: {len(pdfs)} PDFs in {wall:.1f} s (profiled)")
                print("\n".join(stage_lines(stats, wall)))
                print("  most time of their own:")
                print("\n".join(top_lines(stats, args.top)))
                print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
