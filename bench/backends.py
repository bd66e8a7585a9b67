"""The two PDF text backends side by side on a folder of PDFs: speed and text quality.

    python bench/backends.py [FOLDER] [--limit N] [--json FILE]

For each backend (pdfium, pypdf), every PDF is read in this one process with
`pdftext.parse_pdf` (the chosen backend, plus the per-page fallback to the other one)
and the script reports, beside each other:

- pages/s over the whole folder (one core), and PDFs that failed;
- pages whose raw text (before the fallback) has glued words, glyphs without Unicode or
  no text, and pages the fallback replaced;
- parameter-looking strings in the normalized text ("1.5B", "340 M", "175 billion
  parameters"), in total and per PDF where the backends disagree;
- the arXiv margin stamp and the guessed title of page 1, and the PDFs where the two
  backends disagree on them.

Accuracy is `paramminer eval` with PARAMMINER_PDF_BACKEND set to each backend; this
script only says how the text differs. Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

from paramminer.config import PDF_BACKENDS, project_root
from paramminer.errors import InputError
from paramminer.pdftext import (
    GLUED_PAGE_RUNS,
    _open,
    _page_problem,
    find_arxiv_stamp,
    glued_runs,
    normalize_text,
    parse_pdf,
)
from paramminer.resolve import guess_title

DEFAULT_FOLDER = project_root().parent / "shared" / "corpus" / "pdfs"
SIZE = re.compile(r"\b\d+(?:\.\d+)?\s?[MB]\b")
WORDED = re.compile(r"\b\d+(?:\.\d+)?\s(?:billion|million)\s(?:parameters|params)\b", re.I)
FALLBACK_NOTE = re.compile(r"^page (\d+): (.*); text from \w+$")


@dataclass
class BackendRun:
    """What one backend gave over the folder."""

    backend: str
    seconds: float = 0.0
    pages: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    glued_pages: int = 0  # raw text, before the fallback
    empty_pages: int = 0  # raw text, before the fallback
    unmapped_pages: int = 0  # raw text, before the fallback
    fallback_pages: int = 0
    glued_after: int = 0  # what the pipeline keeps
    empty_after: int = 0
    sizes: dict[str, int] = field(default_factory=dict)  # per PDF: "1.5B"-like strings
    worded: dict[str, int] = field(default_factory=dict)  # per PDF: "175 billion parameters"
    stamps: dict[str, str] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Pages per second."""
        return self.pages / self.seconds if self.seconds else 0.0


def read_all(pdfs: list[Path], backend: str) -> BackendRun:
    """parse_pdf over every PDF with `backend`; the raw text of replaced pages read again."""
    run = BackendRun(backend)
    for path in pdfs:
        started = time.perf_counter()
        try:
            pages, meta = parse_pdf(path, backend=backend)
        except InputError as exc:
            run.seconds += time.perf_counter() - started
            run.failed[path.name] = exc.reason
            continue
        run.seconds += time.perf_counter() - started
        replaced = _replaced_pages(meta)
        raw = _raw_pages(path, backend, pages, replaced)
        _count(run, path.name, raw, pages, len(replaced))
    return run


def _replaced_pages(meta: dict[str, str]) -> list[int]:
    found = (FALLBACK_NOTE.match(line) for line in meta.get("notes", "").splitlines())
    return [int(match[1]) - 1 for match in found if match]


def _raw_pages(path: Path, backend: str, pages: list[str], replaced: list[int]) -> list[str]:
    """The backend's own text of every page: the pipeline's, re-read where it was replaced."""
    if not replaced:
        return pages
    raw = list(pages)
    document = _open(path, str(path), backend)
    try:
        for index in replaced:
            try:
                raw[index] = document.page_text(index)
            except Exception:  # noqa: BLE001 - a page the backend cannot read counts as empty
                raw[index] = ""
    finally:
        document.close()
    return raw


def _count(run: BackendRun, name: str, raw: list[str], pages: list[str], replaced: int) -> None:
    run.pages += len(pages)
    run.fallback_pages += replaced
    run.glued_pages += sum(glued_runs(p) >= GLUED_PAGE_RUNS for p in raw)
    run.empty_pages += sum(not p.strip() for p in raw)
    run.unmapped_pages += sum(_page_problem(p) == "unmapped glyphs" for p in raw)
    run.glued_after += sum(glued_runs(p) >= GLUED_PAGE_RUNS for p in pages)
    run.empty_after += sum(not p.strip() for p in pages)
    text = [normalize_text(p) for p in pages]
    run.sizes[name] = sum(len(SIZE.findall(p)) for p in text)
    run.worded[name] = sum(len(WORDED.findall(p)) for p in text)
    stamp = find_arxiv_stamp(text[0]) if text else None
    run.stamps[name] = f"{stamp.arxiv_id}v{stamp.version} {stamp.date}" if stamp else "-"
    run.titles[name] = guess_title(text[0]) if text else ""


def report(runs: list[BackendRun]) -> list[str]:
    """The side-by-side table and the PDFs where the backends disagree."""
    lines = [f"{'':38}" + "".join(f"{run.backend:>14}" for run in runs)]
    rows = [
        ("seconds (1 core)", lambda r: f"{r.seconds:.1f}"),
        ("pages", lambda r: str(r.pages)),
        ("pages/s", lambda r: f"{r.rate:.1f}"),
        ("PDFs failed", lambda r: str(len(r.failed))),
        ("pages with glued words (raw)", lambda r: str(r.glued_pages)),
        ("pages with no text (raw)", lambda r: str(r.empty_pages)),
        ("pages with unmapped glyphs (raw)", lambda r: str(r.unmapped_pages)),
        ("pages taken from the other backend", lambda r: str(r.fallback_pages)),
        ("pages with glued words (kept)", lambda r: str(r.glued_after)),
        ("pages with no text (kept)", lambda r: str(r.empty_after)),
        ('"1.5B"-like strings', lambda r: str(sum(r.sizes.values()))),
        ('"175 billion parameters" strings', lambda r: str(sum(r.worded.values()))),
        ("arXiv stamps found", lambda r: str(sum(s != "-" for s in r.stamps.values()))),
    ]
    for label, value in rows:
        lines.append(f"{label:38}" + "".join(f"{value(run):>14}" for run in runs))
    if len(runs) == 2:
        lines += _disagreements(*runs)
    return lines


def _disagreements(first: BackendRun, second: BackendRun) -> list[str]:
    lines: list[str] = []
    names = sorted(set(first.sizes) & set(second.sizes))
    for label, attr in (("stamp", "stamps"), ("title", "titles"), ("1.5B-like", "sizes"),
                        ("billion-parameters", "worded")):
        ours, theirs = getattr(first, attr), getattr(second, attr)
        differ = [n for n in names if ours[n] != theirs[n]]
        lines.append(f"{label}: {len(differ)} of {len(names)} PDFs differ "
                     f"({first.backend} | {second.backend})")
        lines += [f"  {n}: {ours[n]!r} | {theirs[n]!r}" for n in differ]
    for run in (first, second):
        lines += [f"{run.backend} failed {n}: {reason}" for n, reason in run.failed.items()]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER,
                        help=f"folder of PDFs [default {DEFAULT_FOLDER}]")
    parser.add_argument("--limit", type=int, default=0, help="the first N PDFs (by name)")
    parser.add_argument("--backends", default=",".join(PDF_BACKENDS),
                        help="comma-separated backends [default: all]")
    parser.add_argument("--json", type=Path, help="also write every count to this file")
    args = parser.parse_args(argv)
    pdfs = sorted(args.folder.glob("*.pdf"))[: args.limit or None]
    if not pdfs:
        print(f"no PDFs in {args.folder}", file=sys.stderr)
        return 2
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    runs = []
    for backend in args.backends.split(","):
        runs.append(read_all(pdfs, backend))
        print(f"{backend}: {runs[-1].pages} pages in {runs[-1].seconds:.1f}s", flush=True)
    print("\n".join(report(runs)))
    if args.json:
        args.json.write_text(json.dumps([asdict(run) for run in runs], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
