"""Ingest PDFs: parse (cached), extract and resolve in warm worker processes bounded in time
and memory, load each paper in one transaction. Every input ends loaded, unchanged or failed
with its own one-line reason; the same bytes under two names are one paper."""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from paramminer.config import Settings
from paramminer.errors import InputError, StorageError, is_storage_failure
from paramminer.identity import paper_fields
from paramminer.models import ArxivMeta, Resolution
from paramminer.pdftext import (
    DEFAULT_BACKEND,
    ArxivStamp,
    TextCache,
    find_arxiv_stamp,
    load_pdf_text,
)
from paramminer.workers import Job, Limits, WorkerSetup, one_line, shared_pool

if TYPE_CHECKING:  # spaCy is imported only where rules run, DuckDB only where rows are written
    from paramminer.load import PagePrefetch
    from paramminer.rules import RuleSet
    from paramminer.warehouse import Warehouse


@dataclass
class IngestItem:
    """A PDF to ingest, with the arXiv metadata when it was harvested."""

    path: Path
    arxiv: ArxivMeta | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class Failure:
    """An input that could not be ingested, and why (one line)."""

    path: str
    reason: str


@dataclass
class PaperResult:
    """What a worker hands back for one PDF: its text, stamp and extraction."""

    path: str
    sha256: str
    pages: list[str]
    title: str
    stamp: ArxivStamp | None
    resolution: Resolution
    arxiv: ArxivMeta | None
    parse_seconds: float
    from_cache: bool
    ruleset: str
    fields: tuple[str | None, str | None, str | None, str | None, str | None] | None = None
    page_count: int = -1  # len(pages) when `pages` was left out (an extract job's result)

    @property
    def pages_read(self) -> int:
        """The number of pages the job read."""
        return len(self.pages) if self.page_count < 0 else self.page_count


@dataclass
class IngestReport:
    """Counts and failures of one ingest or extract run; every input is in exactly one list."""

    loaded: list[str] = field(default_factory=list)  # paper ids
    unchanged: list[str] = field(default_factory=list)  # inputs already in the warehouse
    failures: list[Failure] = field(default_factory=list)
    inputs: int = 0
    pages: int = 0
    parsed_pages: int = 0
    seconds: float = 0.0

    @property
    def accounted(self) -> bool:
        """Whether loaded + unchanged + failed is every input."""
        return len(self.loaded) + len(self.unchanged) + len(self.failures) == self.inputs

    @property
    def exit_code(self) -> int:
        """0 all good; 3 some inputs failed; 4 every input failed; 1 an input is unaccounted
        for (a bug: never a silent success)."""
        if not self.accounted:
            return 1
        if not self.failures:
            return 0
        return 4 if not self.loaded and not self.unchanged else 3

    def order_failures(self, order: Sequence[str]) -> None:
        """Failures in input order (earlier failures, e.g. missing paths, first)."""
        rank = {key: index for index, key in enumerate(order)}
        self.failures.sort(key=lambda failure: rank.get(failure.path, -1))

    def summary(self) -> str:
        """One line for the end of a run."""
        rate = self.pages / self.seconds if self.seconds > 0 else 0.0
        cached = self.pages - self.parsed_pages
        lost = "" if self.accounted else (
            f" ({self.inputs} inputs: some are unaccounted for, please report this)")
        return (
            f"{len(self.loaded)} loaded, {len(self.unchanged)} unchanged, "
            f"{len(self.failures)} failed{lost}; {self.pages} pages in {self.seconds:.1f}s "
            f"({rate:.1f} pages/s; {self.parsed_pages} parsed from PDF, "
            f"{cached} from the text cache)"
        )


def discover(paths: Iterable[Path]) -> tuple[list[IngestItem], list[Failure]]:
    """Expand files and folders (recursively, *.pdf) into items; a missing path is a failure.

    Anything that is not a folder becomes an item, FIFOs and devices too: they are refused,
    with a reason, when ingest reads them (without blocking on them).
    """
    items: list[IngestItem] = []
    failures: list[Failure] = []
    seen: set[Path] = set()
    for path in map(Path, paths):
        try:
            is_folder = stat.S_ISDIR(path.stat().st_mode)
        except FileNotFoundError:
            failures.append(Failure(str(path), "no such file or folder"))
            continue
        except OSError as exc:
            failures.append(Failure(str(path), f"cannot read: {exc.strerror or exc}"))
            continue
        candidates = _pdfs_in(path) if is_folder else [path]
        if is_folder and not candidates:
            failures.append(Failure(str(path), "folder holds no .pdf files"))
        for candidate in candidates:
            resolved = candidate.resolve()
            if resolved not in seen:
                seen.add(resolved)
                items.append(IngestItem(candidate))
    return items, failures


def _pdfs_in(folder: Path) -> list[Path]:
    """Every *.pdf below `folder` that is not itself a folder, sorted."""
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".pdf" and not p.is_dir())


_FILE_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
               (stat.S_ISDIR, "a folder"))


def content_sha256(path: Path) -> str:
    """Hex sha256 of a regular file's bytes. Anything else (FIFO, device, socket) is refused
    with an InputError before a byte is read: it is opened non-blocking and checked first."""
    name = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise InputError(name, "no such file") from None
    except OSError as exc:
        raise InputError(name, f"cannot read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((what for test, what in _FILE_KINDS if test(mode)), "not a file")
            raise InputError(name, f"not a regular file: {kind}")
        digest = hashlib.sha256()
        try:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        except OSError as exc:
            raise InputError(name, f"cannot read: {exc.strerror or exc}") from None
    return digest.hexdigest()


_RULESET: RuleSet | None = None


def _ruleset() -> RuleSet:
    global _RULESET
    if _RULESET is None:
        from paramminer.rules import load_rules

        _RULESET = load_rules()
    return _RULESET


def warm_worker() -> None:
    """Worker start-up, once per worker: pypdf's repair notes quiet, spaCy and the rules loaded."""
    from paramminer.spacyload import import_spacy_without_cli

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    import_spacy_without_cli()
    _ruleset()


def worker_setup(settings: Settings) -> WorkerSetup:
    """The workers' bounds: pdf_timeout per job (parse, extract, resolve), memory per worker."""
    limits = Limits(seconds=settings.pdf_timeout, memory_mb=settings.worker_memory_mb or None)
    return WorkerSetup(limits, warm_worker)


def prestart_workers(settings: Settings, count: int = 1) -> None:
    """Start `count` warm workers for a later `ingest` or `extract` in this process, so their
    start-up overlaps what comes first (a harvest's downloads, `extract` opening the
    warehouse)."""
    with shared_pool(settings.worker_count, worker_setup(settings)) as pool:
        pool.warm_up(count)


def extract_paper(
    pages: list[str], title: str = "", ruleset: RuleSet | None = None
) -> Resolution:
    """Run the rules over normalized pages and resolve them (pure: no I/O)."""
    from paramminer.extract import find_mentions
    from paramminer.resolve import resolve

    rules = ruleset or _ruleset()
    mentions = find_mentions(pages, rules)
    return resolve(mentions, pages, title)


def process_pdf(
    path: str, sha256: str, cache_root: str | None, arxiv: ArxivMeta | None,
    source_file: str | None = None, backend: str = DEFAULT_BACKEND,
) -> PaperResult:
    """Worker job: text (from the cache or parsed), margin stamp, mentions and resolution.

    `source_file` is the name the paper is known by (its first file name when these bytes
    were loaded before under another). The time limit is the worker's, over the whole job.
    """
    cache = TextCache(Path(cache_root)) if cache_root else None
    text = load_pdf_text(Path(path), cache, sha256=sha256, backend=backend)
    pages = text.pages
    from paramminer.names import guess_title

    # the title printed on page 1 beats the PDF's /Title metadata, which is often a file name
    title = ((arxiv.title if arxiv and arxiv.title else "")
             or (guess_title(pages[0], pages[1:]) if pages else "") or text.title)
    resolution = extract_paper(pages, title)
    result = PaperResult(
        path=path, sha256=sha256, pages=pages, title=title,
        stamp=find_arxiv_stamp(pages[0]) if pages else None,
        resolution=resolution, arxiv=arxiv, parse_seconds=text.parse_seconds,
        from_cache=text.from_cache, ruleset=_ruleset().describe(),
    )
    result.fields = paper_fields(result, source_file or Path(path).name)
    return result


def reextract_pages(
    paper_id: str, sha256: str, pages: list[str], title: str, arxiv: ArxivMeta | None
) -> PaperResult:
    """Worker job for `extract`: rules over stored page text, no PDF involved."""
    resolution = extract_paper(pages, title)
    result = PaperResult(
        path=paper_id, sha256=sha256, pages=pages, title=title,
        stamp=find_arxiv_stamp(pages[0]) if pages else None, resolution=resolution,
        arxiv=arxiv, parse_seconds=0.0, from_cache=True, ruleset=_ruleset().describe(),
    )
    result.fields = paper_fields(result, f"{paper_id}.pdf")
    result.page_count, result.pages = len(pages), []  # stored already: not sent back
    return result


ProgressCallback = Callable[[str, bool], None]
# `extract` loads its results in one transaction (one statement per table) once this many
# papers, or results this old, are waiting: each load costs a fixed ~0.05 s (statements,
# and reopening the file after a release) whatever its size; results still appear every
# few seconds for readers and the progress bar
EXTRACT_LOAD_BATCH = 64
EXTRACT_LOAD_SECONDS = 2.0
LOADED = ""  # the outcome of an input that is in the warehouse (else: why it failed)


class _IngestBatch:
    """One ingest: which inputs become jobs, which are copies or unchanged, and the outcome
    of every input (loaded, unchanged or failed) as it arrives."""

    def __init__(self, warehouse: Warehouse, settings: Settings, report: IngestReport,
                 progress: ProgressCallback | None,
                 on_loaded: Callable[[PaperResult], None] | None = None) -> None:
        from paramminer import bookkeeping, load

        self.load, self.bookkeeping = load, bookkeeping
        self.warehouse, self.settings, self.report = warehouse, settings, report
        self.progress = progress or (lambda key, ok: None)
        self.on_loaded = on_loaded or (lambda result: None)
        self.sources = bookkeeping.document_sources(warehouse)
        warehouse.release()  # the warehouse is held only while a paper is written
        self.jobs: list[Job] = []
        self.items: dict[str, IngestItem] = {}
        self.names: dict[str, str] = {}  # input -> the file name its paper is known by
        self.first: dict[str, str] = {}  # sha256 -> the first input with these bytes
        self.copies: list[tuple[str, str]] = []  # (input, first input with the same bytes)
        self.outcome: dict[str, str] = {}

    def add(self, item: IngestItem, force: bool) -> None:
        key = str(item.path)
        try:
            item.sha256 = item.sha256 or content_sha256(item.path)
        except InputError as exc:
            self.fail(key, None, exc.reason)
            return
        sha = item.sha256
        if sha in self.first:
            self.copies.append((key, self.first[sha]))
            return
        self.first[sha] = key
        self.items[key] = item
        source = self.sources.get(sha)
        if source is not None:
            if not force and not self.load.needs_metadata_update(self.warehouse, sha,
                                                                 item.arxiv):
                self.unchanged(key, sha)
                return
            self.names[key] = source.name  # same bytes, same paper: never a second one
        cache = str(self.settings.text_cache_dir)
        self.jobs.append(Job(key, process_pdf, (key, sha, cache, item.arxiv,
                                                self.names.get(key), self.settings.pdf_backend)))

    def loaded(self, key: str, result: PaperResult) -> None:
        import duckdb

        sha = result.sha256
        try:
            paper_id = self.load.load_paper(self.warehouse, result,
                                            source_file=self.names.get(key, Path(key).name),
                                            source_path=key)
        except duckdb.Error as exc:
            if is_storage_failure(exc):  # disk full, file gone: nothing more can be written
                raise StorageError(f"cannot write the warehouse {self.warehouse.path}: "
                                   f"{one_line(str(exc))}") from None
            self.fail(key, sha, f"could not be loaded: {one_line(str(exc))}")
            return
        self.alias(key, sha)
        self.warehouse.yield_to_readers()  # readers get the file between papers
        self.outcome[key] = LOADED
        self.report.loaded.append(paper_id)
        self.report.pages += len(result.pages)
        if not result.from_cache:
            self.report.parsed_pages += len(result.pages)
        self.on_loaded(result)
        self.progress(key, True)

    def unchanged(self, key: str, sha: str) -> None:
        self.alias(key, sha)
        self.warehouse.yield_to_readers()
        self.outcome[key] = LOADED
        self.report.unchanged.append(key)
        self.progress(key, True)

    def alias(self, key: str, sha: str) -> None:
        source = self.sources.get(sha)
        if source is not None and source.path != key:
            self.bookkeeping.record_alias(self.warehouse, sha, key)

    def fail(self, key: str, sha: str | None, reason: str) -> None:
        self.outcome[key] = reason
        self.report.failures.append(Failure(key, reason))
        self.load.record_failure(self.warehouse, key, sha, reason)
        self.warehouse.yield_to_readers()
        self.progress(key, False)

    def failed(self, key: str, reason: str) -> None:
        self.fail(key, self.items[key].sha256, reason)

    def settle(self) -> None:
        """Copies share the outcome of their first input; no job may end without one."""
        for job in self.jobs:
            if job.key not in self.outcome:  # never: the pool ends every job
                self.failed(job.key, "internal error: the worker pool gave no outcome")
        for key, first in self.copies:
            sha = self.items[first].sha256 or ""
            if self.outcome[first] == LOADED:
                self.sources.setdefault(sha, self.bookkeeping.DocumentSource.of(first))
                self.unchanged(key, sha)
            else:
                self.fail(key, sha, self.outcome[first])


def ingest(
    items: Sequence[IngestItem],
    warehouse: Warehouse,
    settings: Settings,
    *,
    force: bool = False,
    progress: ProgressCallback | None = None,
    prior_failures: Sequence[Failure] = (),
    on_loaded: Callable[[PaperResult], None] | None = None,
) -> IngestReport:
    """Parse, extract and load `items`; PDFs already in the warehouse are skipped unless `force`.

    Every input ends loaded, unchanged (already there, or the same bytes as another input:
    recorded as an alias of that paper) or failed with its own one-line reason.
    `on_loaded` sees each paper's result after it is loaded (evaluation keeps them).
    """
    started = time.perf_counter()
    report = IngestReport(failures=list(prior_failures), inputs=len(items) + len(prior_failures))
    batch = _IngestBatch(warehouse, settings, report, progress, on_loaded)
    for failure in prior_failures:
        batch.load.record_failure(warehouse, failure.path, None, failure.reason)
    with shared_pool(settings.worker_count, worker_setup(settings)) as pool:
        for index, item in enumerate(items):
            had_jobs = bool(batch.jobs)
            batch.add(item, force)
            if batch.jobs and not had_jobs:  # workers start while the rest is hashed
                pool.warm_up(len(items) - index)
        warehouse.release()  # not held while the workers run
        if batch.jobs:
            pool.run(batch.jobs, batch.loaded, batch.failed,
                     on_idle=warehouse.yield_to_readers)
        warehouse.release()
    batch.settle()
    report.order_failures([str(item.path) for item in items])
    report.seconds = time.perf_counter() - started
    return report


class _ExtractLoads:
    """The results of one `extract`, loaded EXTRACT_LOAD_BATCH papers at a time, or sooner
    once the first waiting result is EXTRACT_LOAD_SECONDS old, or as they come once every
    paper is handed out; its failures; what the batch process does between jobs."""

    def __init__(self, warehouse: Warehouse, report: IngestReport,
                 progress: ProgressCallback | None, prefetch: PagePrefetch) -> None:
        self.warehouse, self.report, self.progress = warehouse, report, progress
        self.prefetch = prefetch
        self.pending: list[tuple[str, PaperResult]] = []
        self.pages = 0
        self.since = 0.0

    def between_jobs(self) -> None:
        """The workers have their next jobs: load (once every paper is handed out, what
        waits is loaded now, not after the last jobs), release for readers, read ahead."""
        if self.prefetch.all_asked:
            self.flush()
        self.warehouse.yield_to_readers()
        self.prefetch.read_ahead()

    def fail(self, key: str, reason: str) -> None:
        """Record a paper whose job failed."""
        self.report.failures.append(Failure(key, reason))
        if self.progress:
            self.progress(key, False)

    def add(self, key: str, result: PaperResult) -> None:
        """Keep `result` (its text is stored already) for the next load."""
        self.pages += result.pages_read
        if not self.pending:
            self.since = time.monotonic()
        self.pending.append((key, result))
        if (len(self.pending) >= EXTRACT_LOAD_BATCH
                or time.monotonic() - self.since >= EXTRACT_LOAD_SECONDS):
            self.flush()

    def flush(self) -> None:
        """Load the waiting results in one transaction, then let readers in."""
        from paramminer import load

        load.load_extractions(self.warehouse, self.pending)
        self.warehouse.yield_to_readers()
        self.report.pages += self.pages
        self.pages = 0
        for key, _ in self.pending:
            self.report.loaded.append(key)
            if self.progress:
                self.progress(key, True)
        self.pending.clear()


def reextract(
    warehouse: Warehouse,
    settings: Settings,
    *,
    paper_ids: Sequence[str] = (),
    progress: ProgressCallback | None = None,
) -> IngestReport:
    """Re-run the rules over the stored text of every paper (or `paper_ids`); no PDF is read."""
    from paramminer import load

    started = time.perf_counter()
    report = IngestReport()
    jobs: list[Job] = []
    papers = load.papers_for_extract(warehouse, paper_ids)
    order = [paper_id for paper_id, _, _, _ in papers]
    sizes = load.document_sizes(warehouse)
    # longest first: the last jobs are short, so no worker waits long for another at the end
    papers.sort(key=lambda paper: -sizes.get(paper[1], 0))
    prefetch = load.PagePrefetch(warehouse, [sha for _, sha, _, _ in papers], sizes)
    for paper_id, sha, title, arxiv in papers:

        def job_args(paper_id: str = paper_id, sha: str = sha, title: str = title,
                     arxiv: ArxivMeta | None = arxiv) -> tuple[object, ...]:
            return (paper_id, sha, prefetch.pages(sha), title, arxiv)

        jobs.append(Job(paper_id, reextract_pages, job_args))
    warehouse.release()
    report.inputs = len(jobs)

    loads = _ExtractLoads(warehouse, report, progress, prefetch)
    if jobs:
        with shared_pool(settings.worker_count, worker_setup(settings)) as pool:
            pool.run(jobs, loads.add, loads.fail, on_idle=loads.between_jobs)
        loads.flush()
        warehouse.release()
    report.order_failures(order)
    report.seconds = time.perf_counter() - started
    return report


def candidate_id(paper_id: str, page: int, start: int, end: int, rule: str) -> str:
    """Stable id of a candidate: the same mention gets the same id on every run."""
    raw = f"{paper_id}|{page}|{start}|{end}|{rule}".encode()
    return hashlib.sha1(raw).hexdigest()[:16]
