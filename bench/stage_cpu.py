"""Where the CPU of an `extract` worker job goes, by stage, without a profiler.

    python bench/stage_cpu.py [FOLDER] [--cache DIR] [--limit N]

Reads the text of every PDF of FOLDER (from the text cache `--cache`, else by parsing it),
takes each paper's title as ingest stores it, then runs the extract worker job
(`ingest.reextract_pages`: rules, resolution, paper fields) over every paper in this one
process and prints the CPU seconds (`time.process_time`) spent inside each stage. Each
stage is timed by wrapping its function, so the numbers are the real cost: cProfile
slows Python code several times more than spaCy's compiled code and distorts the shares
(bench/profile_stages.py lists the functions). A stage called inside another of the same
name counts once; stages nest as indented.
"""

from __future__ import annotations

import argparse
import importlib
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from paramminer.config import project_root

DEFAULT_FOLDER = project_root().parent / "shared" / "corpus" / "pdfs"

# (label, module, attribute): the attribute is replaced where its caller looks it up
STAGES = [
    ("worker job (reextract_pages)", "paramminer.ingest", "reextract_pages"),
    ("  find_mentions", "paramminer.extract", "find_mentions"),
    ("    section headings", "paramminer.extract", "SectionMap"),
    ("    table cells", "paramminer.extract", "find_table_cells"),
    ("    prefilter: counts on the page", "paramminer.extract", "find_spots"),
    ("    spaCy pipeline over the windows", "paramminer.extract", "_parse"),
    ("    reading the matches (Matcher incl.)", "paramminer.extract", "_doc_mentions"),
    ("  resolve", "paramminer.resolve", "resolve"),
    ("    names analysis", "paramminer.resolve", "analyse_names"),
    ("    cues of each mention", "paramminer.resolve", "mention_cues"),
    ("  paper fields", "paramminer.ingest", "paper_fields"),
    ("    domains", "paramminer.identity", "classify_domains"),
    ("    dates", "paramminer.identity", "publication_date"),
]


def _timed(function: Callable[..., Any], label: str, totals: dict[str, float],
           active: list[str]) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        active.append(label)
        try:
            return function(*args, **kwargs)
        finally:
            active.pop()
            if label not in active:
                totals[label] += time.process_time() - started
    return run


def papers(folder: Path, cache: Path | None, limit: int | None) -> list[tuple[str, list[str], str]]:
    """(paper id, pages, title as ingest stores it) of every PDF that has text."""
    from paramminer.names import guess_title
    from paramminer.pdftext import TextCache, load_pdf_text

    text_cache = TextCache(cache / "text") if cache else None
    found = []
    for pdf in sorted(folder.glob("*.pdf"))[:limit]:
        try:
            text = load_pdf_text(pdf, text_cache)
        except Exception:  # noqa: BLE001 - a bad PDF is ingest's business, not this bench's
            continue
        title = (guess_title(text.pages[0], text.pages[1:]) if text.pages else "") or text.title
        found.append((pdf.stem, text.pages, title))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--cache", type=Path, help="a text cache folder (PARAMMINER_CACHE_DIR)")
    parser.add_argument("--limit", type=int)
    args = parser.parse_args(argv)
    corpus = papers(args.folder, args.cache, args.limit)
    from paramminer import ingest

    ingest._ruleset()  # the worker's start-up, not timed here
    totals: dict[str, float] = defaultdict(float)
    active: list[str] = []
    for label, module_name, attribute in STAGES:
        module = importlib.import_module(module_name)
        setattr(module, attribute, _timed(getattr(module, attribute), label, totals, active))
    started = time.process_time()
    for paper_id, pages, title in corpus:
        ingest.reextract_pages(paper_id, "", pages, title, None)
    total = time.process_time() - started
    print(f"{len(corpus)} papers, {sum(map(len, (p for _, p, _ in corpus)))} pages: "
          f"{total:.2f} CPU seconds in one process")
    for label, _, _ in STAGES:
        print(f"{label:42s} {totals[label]:6.2f}  {100 * totals[label] / total:5.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
