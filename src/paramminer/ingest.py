"""Ingest PDFs: parse (cached) and extract in a process pool, load each paper in one transaction."""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from paramminer.config import Settings
from paramminer.errors import InputError, ParamminerError
from paramminer.models import ArxivMeta, Resolution
from paramminer.pdftext import (
    DEFAULT_BACKEND,
    ArxivStamp,
    TextCache,
    file_sha256,
    find_arxiv_stamp,
    load_pdf_text,
)
from paramminer.warehouse import Warehouse

if TYPE_CHECKING:  # spaCy is imported only where rules run, so the CLI starts fast
    from paramminer.rules import RuleSet


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


@dataclass
class IngestReport:
    """Counts and failures of one ingest or extract run."""

    loaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    pages: int = 0
    parsed_pages: int = 0
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        """0 all good; 3 some inputs failed; 4 every input failed."""
        if not self.failures:
            return 0
        return 4 if not self.loaded and not self.unchanged else 3

    def summary(self) -> str:
        """One line for the end of a run."""
        rate = self.pages / self.seconds if self.seconds > 0 else 0.0
        cached = self.pages - self.parsed_pages
        return (
            f"{len(self.loaded)} loaded, {len(self.unchanged)} unchanged, "
            f"{len(self.failures)} failed; {self.pages} pages in {self.seconds:.1f}s "
            f"({rate:.1f} pages/s; {self.parsed_pages} parsed from PDF, "
            f"{cached} from the text cache)"
        )


def discover(paths: Iterable[Path]) -> tuple[list[IngestItem], list[Failure]]:
    """Expand files and folders (recursively, *.pdf) into items; a missing path is a failure."""
    items: list[IngestItem] = []
    failures: list[Failure] = []
    seen: set[Path] = set()
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".pdf")
            if not found:
                failures.append(Failure(str(path), "folder holds no .pdf files"))
            candidates = found
        elif path.exists():
            candidates = [path]
        else:
            failures.append(Failure(str(path), "no such file or folder"))
            continue
        for candidate in candidates:
            resolved = candidate.resolve()
            if resolved not in seen:
                seen.add(resolved)
                items.append(IngestItem(candidate))
    return items, failures


_RULESET: RuleSet | None = None


def _ruleset() -> RuleSet:
    global _RULESET
    if _RULESET is None:
        from paramminer.rules import load_rules

        _RULESET = load_rules()
    return _RULESET


def _init_worker(home: str | None) -> None:
    if home:
        os.environ["PARAMMINER_HOME"] = home
    # spawned workers do not inherit the CLI's logging setup: keep pypdf's repair notes quiet
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    _ruleset()


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
    path: str, sha256: str, cache_root: str | None, timeout: float | None,
    arxiv: ArxivMeta | None, backend: str = DEFAULT_BACKEND,
) -> PaperResult:
    """Worker job: text (from the cache or parsed), margin stamp, mentions and resolution."""
    cache = TextCache(Path(cache_root)) if cache_root else None
    text = load_pdf_text(Path(path), cache, timeout=timeout, sha256=sha256, backend=backend)
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
    from paramminer.load import paper_fields

    result.fields = paper_fields(result, Path(path).name)
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
    from paramminer.load import paper_fields

    result.fields = paper_fields(result, f"{paper_id}.pdf")
    return result


ProgressCallback = Callable[[str, bool], None]


JobArgs = tuple[object, ...] | Callable[[], tuple[object, ...]]
Job = tuple[str, Callable[..., PaperResult], JobArgs]
MAX_IN_FLIGHT_PER_WORKER = 4  # bounded submission: memory stays flat on a large corpus


def _args(job: Job) -> tuple[object, ...]:
    args = job[2]
    if callable(args):
        return args()
    return args


def _run_one(job: Job, on_result: Callable[[str, PaperResult], None],
             on_failure: Callable[[str, str], None]) -> None:
    key, function, _ = job
    try:
        result = function(*_args(job))
    except ParamminerError as exc:
        on_failure(key, _reason(exc))
        return
    except Exception as exc:  # noqa: BLE001 - a bug on one paper must not stop the batch
        on_failure(key, f"internal error: {type(exc).__name__}: {exc}")
        return
    on_result(key, result)


def run_jobs(
    jobs: Sequence[Job],
    workers: int,
    on_result: Callable[[str, PaperResult], None],
    on_failure: Callable[[str, str], None],
) -> None:
    """Run (key, function, args) jobs on `workers` processes; results are handled here.

    `args` may be a callable, evaluated just before submission, so that a large batch
    never holds every paper's text in memory; at most a few jobs per worker are in flight.
    When a worker dies (out of memory, a crash in a C extension), the jobs that were in
    flight are re-run one per fresh process, so only the paper that kills its process is
    recorded as failed. If no process can run at all here, the work is done in-process.
    """
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            _run_one(job, on_result, on_failure)
        return
    context = multiprocessing.get_context("spawn")
    home = os.environ.get("PARAMMINER_HOME")
    pending: list[Job] = list(jobs)
    finished_any = False
    while pending:
        suspects: list[Job] = []
        queue = iter(pending)
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                                 initargs=(home,)) as pool:
            finished_any |= _drain(pool, queue, workers * MAX_IN_FLIGHT_PER_WORKER, suspects,
                                   on_result, on_failure)
            pending = list(queue)  # not submitted: the pool broke first
        for index, job in enumerate(suspects):
            with ProcessPoolExecutor(1, mp_context=context, initializer=_init_worker,
                                     initargs=(home,)) as single:
                killed: list[Job] = []
                finished_any |= _drain(single, iter([job]), 1, killed, on_result, on_failure)
            if killed and not finished_any:
                # not one job has finished in a worker process: processes cannot run here
                for rest in [*suspects[index:], *pending]:
                    _run_one(rest, on_result, on_failure)
                return
            if killed:
                on_failure(job[0], "worker process died while handling this paper")


def _drain(
    pool: ProcessPoolExecutor, queue: Iterator[Job], limit: int, broken_jobs: list[Job],
    on_result: Callable[[str, PaperResult], None], on_failure: Callable[[str, str], None],
) -> bool:
    """Run the queue on `pool` until it is empty or the pool breaks (the jobs then in
    flight go to `broken_jobs`); True if some job finished."""
    in_flight: dict[Future[PaperResult], Job] = {}
    finished = False
    broken = not _refill(pool, queue, in_flight, limit)
    while in_flight:
        done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
        for future in done:
            job = in_flight.pop(future)
            try:
                result = future.result()
            except BrokenProcessPool:
                broken = True
                broken_jobs.append(job)
                continue
            except ParamminerError as exc:
                on_failure(job[0], _reason(exc))
            except Exception as exc:  # noqa: BLE001 - one bad paper must not stop the batch
                on_failure(job[0], f"internal error: {type(exc).__name__}: {exc}")
            else:
                on_result(job[0], result)
            finished = True
        if not broken:
            broken = not _refill(pool, queue, in_flight, limit)
    return finished


def _refill(
    pool: ProcessPoolExecutor, queue: Iterator[Job], in_flight: dict[Future[PaperResult], Job],
    limit: int,
) -> bool:
    """Submit jobs until `limit` are in flight; False when the pool is broken."""
    while len(in_flight) < limit:
        job = next(queue, None)
        if job is None:
            return True
        try:
            in_flight[pool.submit(job[1], *_args(job))] = job
        except BrokenProcessPool:
            return False
    return True


def _reason(exc: ParamminerError) -> str:
    return exc.reason if isinstance(exc, InputError) else str(exc)


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

    `on_loaded` sees each paper's result after it is loaded (evaluation keeps them)."""
    started = time.perf_counter()
    report = IngestReport(failures=list(prior_failures))
    from paramminer import load  # local: load imports ingest's dataclasses

    for failure in prior_failures:
        load.record_failure(warehouse, failure.path, None, failure.reason)
    known = load.known_documents(warehouse)
    warehouse.release()  # the warehouse is held only while a paper is written
    jobs: list[Job] = []
    items_by_key: dict[str, IngestItem] = {}
    for item in items:
        key = str(item.path)
        try:
            sha = item.sha256 or file_sha256(item.path)
        except OSError as exc:
            report.failures.append(Failure(key, f"cannot read: {exc.strerror or exc}"))
            load.record_failure(warehouse, key, None, f"cannot read: {exc.strerror or exc}")
            continue
        item.sha256 = sha
        if (sha in known and not force
                and not load.needs_metadata_update(warehouse, sha, item.arxiv)):
            report.unchanged.append(key)
            if progress:
                progress(key, True)
            continue
        items_by_key[key] = item
        jobs.append((key, process_pdf, (key, sha, str(settings.text_cache_dir),
                                        settings.pdf_timeout, item.arxiv,
                                        settings.pdf_backend)))
    warehouse.release()

    def on_result(key: str, result: PaperResult) -> None:
        paper_id = load.load_paper(warehouse, result, source_file=Path(key).name,
                                   source_path=key)
        warehouse.release()  # readers get the file between papers
        report.loaded.append(paper_id)
        report.pages += len(result.pages)
        if not result.from_cache:
            report.parsed_pages += len(result.pages)
        if on_loaded:
            on_loaded(result)
        if progress:
            progress(key, True)

    def on_failure(key: str, reason: str) -> None:
        item = items_by_key.get(key)
        report.failures.append(Failure(key, reason))
        load.record_failure(warehouse, key, item.sha256 if item else None, reason)
        warehouse.release()
        if progress:
            progress(key, False)

    run_jobs(jobs, settings.worker_count, on_result, on_failure)
    report.seconds = time.perf_counter() - started
    return report


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
    for paper_id, sha, title, arxiv in load.papers_for_extract(warehouse, paper_ids):

        def job_args(paper_id: str = paper_id, sha: str = sha, title: str = title,
                     arxiv: ArxivMeta | None = arxiv) -> tuple[object, ...]:
            pages = load.stored_pages(warehouse, sha)
            warehouse.release()  # not held while the workers run
            return (paper_id, sha, pages, title, arxiv)

        jobs.append((paper_id, reextract_pages, job_args))
    warehouse.release()

    def on_result(key: str, result: PaperResult) -> None:
        load.load_extraction(warehouse, key, result)
        warehouse.release()  # readers get the file between papers
        report.loaded.append(key)
        report.pages += len(result.pages)
        if progress:
            progress(key, True)

    def on_failure(key: str, reason: str) -> None:
        report.failures.append(Failure(key, reason))
        if progress:
            progress(key, False)

    run_jobs(jobs, settings.worker_count, on_result, on_failure)
    report.seconds = time.perf_counter() - started
    return report


def candidate_id(paper_id: str, page: int, start: int, end: int, rule: str) -> str:
    """Stable id of a candidate: the same mention gets the same id on every run."""
    raw = f"{paper_id}|{page}|{start}|{end}|{rule}".encode()
    return hashlib.sha1(raw).hexdigest()[:16]
