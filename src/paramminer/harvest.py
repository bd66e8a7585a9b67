"""Scheduled arXiv harvests: discover new papers per query, fetch their PDFs, ingest them.

One run, under a lock file in the data folder (one harvest at a time per data folder,
because arXiv's rate limit is per user, not per process):

1. **discover**: for each configured query, ask the API (through
   :class:`~paramminer.arxiv_client.ArxivClient`, sorted by ``lastUpdatedDate``
   ascending) for what changed since the query's watermark minus ``lookback_days``
   (the first run asks for ``submittedDate`` from ``start_date``). Entries whose
   (id, version) was already fetched are skipped; the rest go to ``harvest_queue``
   and the watermark advances, in one transaction.
2. **fetch + ingest**, one queued paper at a time: the PDF through
   :class:`~paramminer.fetch.PdfFetcher` (verified, content-addressed, temp file then
   rename), then :func:`paramminer.ingest.ingest` with the API's metadata; the version
   goes to ``paper_versions`` and leaves the queue. A failure stays queued (retried by
   the next run, up to ``max_paper_attempts``) with its reason.

The warehouse connection is opened for each write and closed right after: never held
while sleeping out API or PDF delays, so other commands (review, ingest, sql) can write
between two papers. Opening costs ~0.2 s, small beside the 3 s arXiv asks between
requests, and the politeness delay overlaps the parsing of the previous paper.

Every step is idempotent (documents and versions are keyed by sha256 and (id, version)),
so a run killed at any point is finished by the next one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from paramminer.arxiv_client import ArxivApiError, ArxivClient, BadEntry, PaperMeta
from paramminer.arxiv_ids import ArxivId, parse_arxiv_id
from paramminer.config import QuerySpec, Settings
from paramminer.errors import ConfigError, InputError, ParamminerError
from paramminer.fetch import FetchedPdf, FetchError, PdfFetcher, remove_partial_files
from paramminer.ingest import IngestItem, ingest, prestart_workers
from paramminer.models import ArxivMeta
from paramminer.warehouse import Warehouse

__all__ = [
    "DEMO_QUERY",
    "EXIT_BUSY",
    "EXIT_NOTHING_DONE",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "HarvestBusyError",
    "HarvestFailure",
    "HarvestLock",
    "HarvestReport",
    "PlannedPaper",
    "QueryOutcome",
    "QueuedPaper",
    "data_lock_path",
    "demo_settings",
    "lock_path",
    "queue_problems",
    "requeue",
    "run_harvest",
    "search_query_for",
]

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_PARTIAL = 3  # some queries or papers failed; the rest was harvested
EXIT_NOTHING_DONE = 4  # failures, and no query answered and no paper harvested
EXIT_BUSY = 75  # EX_TEMPFAIL: another harvest holds the lock (or the warehouse is busy)

LOCK_FILE_NAME = "harvest.lock"
_CATEGORY = re.compile(r"^[A-Za-z][A-Za-z\-]*(?:\.[A-Za-z][A-Za-z\-]*)?\*?$")
DEFAULT_START_DAYS = 7  # first run without start_date: the last week
_DATE_UPPER_SLACK = timedelta(days=1)  # arXiv's clock may run ahead of ours

Echo = Callable[[str], None]
Advance = Callable[[str, bool], None]
ProgressFactory = Callable[[int, str], AbstractContextManager[Advance]]


class HarvestBusyError(ParamminerError):
    """Another harvest holds the lock file of this data folder."""

    exit_code = EXIT_BUSY

    def __init__(self, path: Path, holder: str) -> None:
        super().__init__(
            f"another harvest is running ({holder}; lock {path}); "
            "it will finish on its own, try again later"
        )
        self.path = path
        self.holder = holder


# --------------------------------------------------------------------------- lock


def lock_path(settings: Settings) -> Path:
    """The warehouse's harvest lock, beside it: ``<warehouse>.harvest.lock`` (the file's real
    path, so two spellings of one warehouse share one lock)."""
    warehouse = settings.warehouse_path.resolve()
    return warehouse.with_name(f"{warehouse.name}.{LOCK_FILE_NAME}")


def data_lock_path(settings: Settings) -> Path:
    """``<data_dir>/harvest.lock``: one harvest per data folder too (one PDF store, and
    arXiv's rate limit is per user)."""
    return settings.data_dir / LOCK_FILE_NAME


class HarvestLock:
    """An exclusive ``fcntl.flock`` on a file holding the owner's pid and start time.

    The kernel drops a flock when its process dies, even by ``kill -9``, so a lock
    left behind by a dead harvest is simply taken over (``stale_pid`` says whose it
    was). The file itself stays (emptied on release): unlinking a flocked file lets
    two processes lock two different inodes.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self.stale_pid: int | None = None

    def acquire(self) -> HarvestLock:
        """Take the lock or raise :class:`HarvestBusyError` at once (no waiting)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe_holder(_read_lock(fd))
            os.close(fd)
            raise HarvestBusyError(self.path, holder) from None
        previous = _read_lock(fd).split()
        if previous and previous[0].isdigit() and int(previous[0]) != os.getpid():
            self.stale_pid = int(previous[0])
            logger.warning("took over the lock of pid %d, which is no longer running",
                           self.stale_pid)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {_utcnow().isoformat(timespec='seconds')}Z\n".encode(), 0)
        os.fsync(fd)
        self._fd = fd
        return self

    def release(self) -> None:
        """Empty the file and drop the lock."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        os.close(self._fd)  # closing the last descriptor releases the flock
        self._fd = None

    def __enter__(self) -> HarvestLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_lock(fd: int) -> str:
    try:
        return os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        return ""


def _describe_holder(content: str) -> str:
    parts = content.split()
    if not parts or not parts[0].isdigit():
        return "pid unknown"
    since = f", since {parts[1]}" if len(parts) > 1 else ""
    return f"pid {parts[0]}{since}"


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class QueuedPaper:
    """A paper version that failed in the harvest queue: retried next run, or given up."""

    paper_id: str
    version: int
    status: str  # failed / gave_up
    attempts: int
    last_error: str | None

    def describe(self) -> str:
        """``<id>vN (5 attempts): fetch: HTTP 404``."""
        return (f"{self.paper_id}v{self.version} ({self.attempts} attempt"
                f"{'' if self.attempts == 1 else 's'}): {self.last_error or 'no error recorded'}")


@dataclass(frozen=True)
class HarvestFailure:
    """A query or paper that failed this run, and why (one line)."""

    item: str  # query name, or <id>v<N>
    stage: str  # query / fetch / ingest / validate
    reason: str


@dataclass
class QueryOutcome:
    """What one query asked and found."""

    name: str
    search_query: str
    api_requests: int = 0
    seen: int = 0
    new: int = 0
    watermark: datetime | None = None
    error: str | None = None
    bad_entries: list[BadEntry] = field(default_factory=list)  # skipped, the rest went on


@dataclass(frozen=True)
class PlannedPaper:
    """A paper version the run will fetch (or, in a dry run, would fetch)."""

    paper: PaperMeta
    query_name: str
    reason: str  # new / new_version / retry

    @property
    def label(self) -> str:
        """``<id>v<N>``."""
        return self.paper.versioned_id


@dataclass
class HarvestReport:
    """Counts, failures and per-query outcomes of one run."""

    dry_run: bool = False
    run_id: int | None = None
    api_requests: int = 0
    pdf_requests: int = 0
    papers_seen: int = 0
    new_papers: int = 0
    new_versions: int = 0
    retried: int = 0
    pdfs_downloaded: int = 0
    bytes_downloaded: int = 0
    ingested: list[str] = field(default_factory=list)  # <id>v<N>
    failures: list[HarvestFailure] = field(default_factory=list)
    queries: list[QueryOutcome] = field(default_factory=list)
    planned: list[PlannedPaper] = field(default_factory=list)
    removed_partial_files: int = 0
    stale_lock_pid: int | None = None
    gave_up: list[QueuedPaper] = field(default_factory=list)  # in the queue, not retried
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        """0 ok; 3 some failures; 4 failures and nothing answered or harvested."""
        if not self.failures:
            return EXIT_OK
        answered = any(q.error is None for q in self.queries)
        return EXIT_PARTIAL if answered or self.ingested else EXIT_NOTHING_DONE

    @property
    def status(self) -> str:
        """ok / partial / failed, as stored in ``harvest_runs``."""
        return {EXIT_OK: "ok", EXIT_PARTIAL: "partial"}.get(self.exit_code, "failed")

    @property
    def paper_ids(self) -> list[str]:
        """Paper ids (without version) ingested this run."""
        return sorted({label.rsplit("v", 1)[0] for label in self.ingested})

    def to_json(self) -> dict[str, Any]:
        """The one-line JSON summary (stable keys)."""
        return {
            "dry_run": self.dry_run,
            "run_id": self.run_id,
            "api_requests": self.api_requests,
            "pdf_requests": self.pdf_requests,
            "papers_seen": self.papers_seen,
            "new_papers": self.new_papers,
            "new_versions": self.new_versions,
            "retried": self.retried,
            "pdfs_downloaded": self.pdfs_downloaded,
            "ingested": len(self.ingested),
            "failures": len(self.failures),
            "errors": [f"{f.item} ({f.stage}): {f.reason}" for f in self.failures],
            "would_fetch": [p.label for p in self.planned] if self.dry_run else [],
            "queries": {
                q.name: {
                    "api_requests": q.api_requests,
                    "seen": q.seen,
                    "new": q.new,
                    "watermark": _iso(q.watermark),
                    "error": q.error,
                    "bad_entries": [f"{b.entry_id}: {b.reason}" for b in q.bad_entries],
                }
                for q in self.queries
            },
            "gave_up": [q.describe() for q in self.gave_up],
            "stale_lock_pid": self.stale_lock_pid,
            "removed_partial_files": self.removed_partial_files,
            "seconds": round(self.seconds, 2),
            "exit_code": self.exit_code,
        }

    def summary(self) -> str:
        """One human line."""
        verb = "would fetch" if self.dry_run else "downloaded"
        count = len(self.planned) if self.dry_run else self.pdfs_downloaded
        return (
            f"harvest: {self.new_papers} new papers, {self.new_versions} new versions, "
            f"{self.retried} retried; {verb} {count} PDFs, ingested {len(self.ingested)}, "
            f"{len(self.failures)} failures; {self.api_requests} API "
            f"request{'' if self.api_requests == 1 else 's'} in {self.seconds:.1f}s"
            + (f"; {len(self.gave_up)} given up (paramminer requeue)" if self.gave_up else "")
        )


# --------------------------------------------------------------------------- queries


def _quote(term: str) -> str:
    cleaned = " ".join(term.replace('"', " ").split())
    if not cleaned:
        raise ConfigError("a harvest keyword is empty")
    return f'"{cleaned}"'


def search_query_for(spec: QuerySpec) -> str:
    """arXiv ``search_query`` of a query: categories OR'ed, keywords OR'ed, both AND'ed."""
    parts: list[str] = []
    for category in spec.categories:
        if not _CATEGORY.match(category):
            raise ConfigError(f"query {spec.name!r}: {category!r} is not an arXiv category")
    if spec.categories:
        parts.append(" OR ".join(f"cat:{c}" for c in spec.categories))
    if spec.keywords:
        parts.append(" OR ".join(f"all:{_quote(k)}" for k in spec.keywords))
    if not parts:
        raise ConfigError(f"query {spec.name!r} needs categories or keywords")
    if len(parts) == 1:
        return parts[0]
    return " AND ".join(f"({p})" for p in parts)


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds") + "Z"


def start_date_of(settings: Settings, now: datetime) -> date:
    """The configured ``start_date``, or a week before ``now`` when none is set."""
    if not settings.start_date:
        return (now - timedelta(days=DEFAULT_START_DAYS)).date()
    try:
        return date.fromisoformat(settings.start_date)
    except ValueError:
        raise ConfigError(f"start_date must be YYYY-MM-DD, got {settings.start_date!r}") from None


def date_clause(
    watermark: datetime | None, start: date, lookback_days: float, now: datetime
) -> str:
    """The date range of a query: submittedDate from ``start`` on a first run, else
    lastUpdatedDate from the watermark minus the look-back (minute precision, as arXiv)."""
    high = now + _DATE_UPPER_SLACK
    if watermark is None:
        return f"submittedDate:[{start:%Y%m%d}0000 TO {high:%Y%m%d%H%M}]"
    low = watermark - timedelta(days=lookback_days)
    return f"lastUpdatedDate:[{low:%Y%m%d%H%M} TO {high:%Y%m%d%H%M}]"


# --------------------------------------------------------------------------- state


def _meta_to_json(paper: PaperMeta) -> str:
    raw = asdict(paper)
    for key in ("published", "published_at", "updated"):
        raw[key] = raw[key].isoformat()
    return json.dumps(raw, ensure_ascii=False)


def _meta_from_json(text: str) -> PaperMeta:
    raw = json.loads(text)
    for key in ("authors", "categories"):
        raw[key] = tuple(raw[key])
    raw["published"] = date.fromisoformat(raw["published"])
    raw["published_at"] = datetime.fromisoformat(raw["published_at"])
    raw["updated"] = datetime.fromisoformat(raw["updated"])
    return PaperMeta(**raw)


def arxiv_meta(paper: PaperMeta) -> ArxivMeta:
    """What ingest needs from the API: id, version, title, abstract, categories, v1 date."""
    return ArxivMeta(
        arxiv_id=paper.arxiv_id,
        version=paper.version,
        title=paper.title,
        abstract=paper.abstract,
        authors=paper.authors,
        categories=paper.categories,
        published=paper.published.isoformat(),
        updated=paper.updated.isoformat(),
    )


@dataclass
class _State:
    """What the warehouse already knows, read once at the start of a run."""

    watermarks: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    versions: dict[str, set[int]] = field(default_factory=dict)  # fetched (id -> versions)
    known_papers: set[str] = field(default_factory=set)
    queued: dict[tuple[str, int], tuple[str, str, int]] = field(default_factory=dict)

    def is_known(self, paper: PaperMeta) -> bool:
        fetched = self.versions.get(paper.arxiv_id, set())
        return paper.version in fetched or any(v > paper.version for v in fetched)


def _has_harvest_tables(warehouse: Warehouse) -> bool:
    row = warehouse.con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'harvest_queue'"
    ).fetchone()
    return bool(row and row[0])


def _read_state(warehouse: Warehouse) -> _State:
    state = _State()
    if not _has_harvest_tables(warehouse):
        return state  # a read-only (dry-run) look at a warehouse from before 003
    con = warehouse.con
    for name, query, mark in con.execute(
        "SELECT query_name, search_query, watermark FROM harvest_watermarks"
    ).fetchall():
        state.watermarks[name] = (query, mark)
    for paper_id, version in con.execute("SELECT paper_id, version FROM paper_versions").fetchall():
        state.versions.setdefault(paper_id, set()).add(int(version))
    state.known_papers = set(state.versions) | {
        row[0]
        for row in con.execute(
            "SELECT arxiv_id FROM papers WHERE arxiv_id IS NOT NULL AND published IS NOT NULL"
        ).fetchall()
    }
    for paper_id, version, status, metadata, attempts in con.execute(
        "SELECT paper_id, version, status, metadata, attempts FROM harvest_queue "
        "ORDER BY queued_at, paper_id, version"
    ).fetchall():
        state.queued[(paper_id, int(version))] = (status, metadata, int(attempts))
    return state


# --------------------------------------------------------------------------- run


class _Run:
    """One harvest run: the settings, the counters, and short-lived warehouse writes."""

    def __init__(self, settings: Settings, report: HarvestReport, echo: Echo) -> None:
        self.settings = settings
        self.report = report
        self.echo = echo
        self.started_at = _utcnow()

    @contextlib.contextmanager
    def warehouse(self) -> Iterator[Warehouse]:
        """Open, yield, close: the connection never outlives one write."""
        warehouse = Warehouse.open(self.settings.warehouse_path)
        try:
            yield warehouse
        finally:
            warehouse.close()

    def counts_sql(self) -> tuple[str, list[object]]:
        r = self.report
        errors = json.dumps([f"{f.item} ({f.stage}): {f.reason}" for f in r.failures])
        return (
            "UPDATE harvest_runs SET api_requests = ?, pdf_requests = ?, papers_seen = ?, "
            "new_papers = ?, new_versions = ?, pdfs_downloaded = ?, ingested = ?, failures = ?, "
            "errors = ? WHERE run_id = ?",
            [r.api_requests, r.pdf_requests, r.papers_seen, r.new_papers, r.new_versions,
             r.pdfs_downloaded, len(r.ingested), len(r.failures), errors, r.run_id],
        )

    def start(self, queries: Sequence[QuerySpec]) -> _State:
        """Mark runs a kill left 'running' as abandoned, add this run's row, read the state."""
        with self.warehouse() as wh, wh.transaction() as con:
            # We hold the lock, so any run still 'running' died without finishing.
            con.execute(
                "UPDATE harvest_runs SET status = 'abandoned' WHERE status = 'running'"
            )
            row = con.execute("SELECT nextval('harvest_run_ids')").fetchone()
            assert row is not None
            self.report.run_id = int(row[0])
            con.execute(
                "INSERT INTO harvest_runs (run_id, started_at, status, pid, arxiv_url, queries) "
                "VALUES (?, ?, 'running', ?, ?, ?)",
                [self.report.run_id, self.started_at, os.getpid(), self.settings.arxiv_url,
                 ",".join(q.name for q in queries)],
            )
            return _read_state(wh)

    def finish(self, status: str) -> None:
        sql, params = self.counts_sql()
        with self.warehouse() as wh:
            with wh.transaction() as con:
                con.execute(sql, params)
                con.execute(
                    "UPDATE harvest_runs SET status = ?, finished_at = ? WHERE run_id = ?",
                    [status, _utcnow(), self.report.run_id],
                )
            self.report.gave_up = [q for q in queue_problems(wh) if q.status == "gave_up"]


def queue_problems(warehouse: Warehouse) -> list[QueuedPaper]:
    """Papers of the harvest queue that failed (retried by the next run) or were given up
    (after max_paper_attempts; `requeue` puts them back)."""
    if not _has_harvest_tables(warehouse):
        return []
    rows = warehouse.con.execute(
        "SELECT paper_id, version, status, attempts, last_error FROM harvest_queue "
        "WHERE status <> 'queued' ORDER BY status DESC, paper_id, version").fetchall()
    return [QueuedPaper(pid, int(version), status, int(attempts), error)
            for pid, version, status, attempts, error in rows]


def requeue(warehouse: Warehouse, paper_ids: Sequence[str] = ()) -> list[QueuedPaper]:
    """Put given-up papers (every one, or those of `paper_ids`) back in the harvest queue
    with no attempts counted; the next harvest fetches them. Returns those re-queued."""
    wanted = set(paper_ids)
    chosen = [q for q in queue_problems(warehouse) if q.status == "gave_up"
              and (not wanted or q.paper_id in wanted or f"{q.paper_id}v{q.version}" in wanted)]
    with warehouse.transaction() as con:
        for queued in chosen:
            con.execute("UPDATE harvest_queue SET status = 'queued', attempts = 0 "
                        "WHERE paper_id = ? AND version = ?", [queued.paper_id, queued.version])
    return chosen


def _count_requests(client: httpx.Client, bump: Callable[[], None]) -> None:
    def hook(request: httpx.Request) -> None:
        bump()

    client.event_hooks["request"] = [*client.event_hooks["request"], hook]


def _discover(
    client: ArxivClient,
    spec: QuerySpec,
    state: _State,
    settings: Settings,
    now: datetime,
    outcome: QueryOutcome,
) -> list[PlannedPaper]:
    """Ask one query for what changed; return the new paper versions (oldest first)."""
    start = start_date_of(settings, now)
    stored = state.watermarks.get(spec.name)
    watermark = stored[1] if stored and stored[0] == outcome.search_query else None
    if stored and watermark is None:
        logger.warning("query %r changed since the last run; starting again from %s",
                       spec.name, start)
    dates = date_clause(watermark, start, settings.lookback_days, now)
    query = f"({outcome.search_query}) AND {dates}"
    found: list[PlannedPaper] = []
    newest = watermark
    try:
        for paper in client.search(query, max_results=None, sort_by="lastUpdatedDate",
                                   sort_order="ascending",
                                   on_bad_entry=outcome.bad_entries.append):
            outcome.seen += 1
            updated = _naive_utc(paper.updated)
            newest = updated if newest is None or updated > newest else newest
            try:
                parse_arxiv_id(paper.versioned_id)  # before it names a file or a URL
            except InputError as exc:  # the client checked it already: never here
                outcome.bad_entries.append(BadEntry(paper.versioned_id, exc.reason))
                outcome.seen -= 1
                continue
            if state.is_known(paper) or (paper.arxiv_id, paper.version) in state.queued:
                continue
            if paper.published < start and paper.arxiv_id not in state.known_papers:
                continue  # an old paper updated lately: before the harvest's start
            reason = "new_version" if paper.arxiv_id in state.known_papers else "new"
            found.append(PlannedPaper(paper, spec.name, reason))
            state.queued[(paper.arxiv_id, paper.version)] = ("queued", "", 0)
            if len(found) >= settings.max_results:
                break  # ascending order: the watermark stops here, the next run goes on
    except ArxivApiError as exc:
        outcome.error = exc.reason
    outcome.seen += len(outcome.bad_entries)
    outcome.new = len(found)
    outcome.watermark = newest
    return found


def _queue(run: _Run, spec_name: str, search_query: str, found: list[PlannedPaper],
           watermark: datetime | None) -> None:
    """Queue what a query found and advance its watermark, in one transaction."""
    now = _utcnow()
    with run.warehouse() as wh, wh.transaction() as con:
        for planned in found:
            paper = planned.paper
            # A newer version supersedes an older one still waiting.
            con.execute("DELETE FROM harvest_queue WHERE paper_id = ? AND version < ?",
                        [paper.arxiv_id, paper.version])
            con.execute(
                "INSERT OR IGNORE INTO harvest_queue (paper_id, version, query_name, metadata, "
                "status, attempts, queued_at, run_id) VALUES (?, ?, ?, ?, 'queued', 0, ?, ?)",
                [paper.arxiv_id, paper.version, spec_name, _meta_to_json(paper), now,
                 run.report.run_id],
            )
        if watermark is not None:
            con.execute(
                "INSERT OR REPLACE INTO harvest_watermarks "
                "(query_name, search_query, watermark, run_id, updated_at) VALUES (?, ?, ?, ?, ?)",
                [spec_name, search_query, watermark, run.report.run_id, now],
            )
        sql, params = run.counts_sql()
        con.execute(sql, params)


def _plan_retries(state: _State, settings: Settings) -> list[PlannedPaper]:
    """Queued papers from earlier runs (killed, or failed and not yet given up)."""
    latest: dict[str, int] = {}
    for paper_id, version in state.queued:
        latest[paper_id] = max(version, latest.get(paper_id, 0))
    planned: list[PlannedPaper] = []
    for (paper_id, version), (status, metadata, attempts) in state.queued.items():
        if not metadata or status == "gave_up" or attempts >= settings.max_paper_attempts:
            continue
        if version < latest[paper_id]:
            continue
        try:
            paper = _meta_from_json(metadata)
        except (ValueError, KeyError, TypeError):
            continue
        planned.append(PlannedPaper(paper, "", "retry"))
    return planned


def _record_failure(run: _Run, planned: PlannedPaper, stage: str, reason: str) -> None:
    paper = planned.paper
    run.report.failures.append(HarvestFailure(planned.label, stage, reason))
    sql, params = run.counts_sql()
    with run.warehouse() as wh, wh.transaction() as con:
        con.execute(
            "UPDATE harvest_queue SET attempts = attempts + 1, last_error = ?, "
            "last_attempt_at = ?, status = CASE WHEN attempts + 1 >= ? THEN 'gave_up' "
            "ELSE 'failed' END WHERE paper_id = ? AND version = ?",
            [f"{stage}: {reason}", _utcnow(), run.settings.max_paper_attempts,
             paper.arxiv_id, paper.version],
        )
        con.execute(sql, params)


def _ingest_one(run: _Run, planned: PlannedPaper, pdf: FetchedPdf) -> None:
    """Ingest one fetched PDF with its metadata, record the version, leave the queue."""
    paper = planned.paper
    with run.warehouse() as wh:
        with wh.transaction() as con:
            con.execute("UPDATE harvest_queue SET sha256 = ? WHERE paper_id = ? AND version = ?",
                        [pdf.sha256, paper.arxiv_id, paper.version])
        item = IngestItem(pdf.path, arxiv=arxiv_meta(paper), sha256=pdf.sha256)
        result = ingest([item], wh, run.settings)
        if result.failures:
            reason = result.failures[0].reason
        else:
            reason = ""
            run.report.ingested.append(planned.label)
            sql, params = run.counts_sql()
            with wh.transaction() as con:
                con.execute(
                    "INSERT OR REPLACE INTO paper_versions (paper_id, version, sha256, published, "
                    "updated, bytes, pdf_path, query_name, run_id, fetched_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [paper.arxiv_id, paper.version, pdf.sha256, paper.published,
                     _naive_utc(paper.updated), pdf.bytes, str(pdf.path),
                     planned.query_name or None, run.report.run_id, _utcnow()],
                )
                con.execute("DELETE FROM harvest_queue WHERE paper_id = ? AND version = ?",
                            [paper.arxiv_id, paper.version])
                con.execute(sql, params)
    if reason:
        _record_failure(run, planned, "ingest", reason)


@contextlib.contextmanager
def _no_progress(total: int, label: str) -> Iterator[Advance]:
    yield lambda key, ok: None


def _api_client(settings: Settings, bump: Callable[[], None]) -> ArxivClient:
    client = ArxivClient(
        settings.arxiv_url,
        contact=settings.contact or None,
        delay_seconds=settings.api_delay,
        page_size=settings.page_size,
        max_attempts=settings.retries,
        backoff_base=settings.retry_backoff,
        max_retry_after=settings.max_retry_after,
        timeout=settings.http_timeout,
    )
    _count_requests(client._http, bump)  # one count per HTTP request, retries included
    return client


def _pdf_fetcher(settings: Settings, bump: Callable[[], None]) -> PdfFetcher:
    fetcher = PdfFetcher(
        settings.pdf_store_dir,
        base_url=settings.pdf_url or settings.arxiv_url,
        contact=settings.contact or None,
        min_delay_seconds=settings.pdf_delay,
        max_attempts=settings.retries,
        backoff_base=settings.retry_backoff,
        max_retry_after=settings.max_retry_after,
        timeout=settings.http_timeout,
    )
    _count_requests(fetcher._client, bump)
    return fetcher


def run_harvest(
    settings: Settings,
    *,
    dry_run: bool = False,
    echo: Echo | None = None,
    progress: ProgressFactory | None = None,
    now: datetime | None = None,
) -> HarvestReport:
    """Harvest every query in ``settings.queries`` into the warehouse; see the module doc.

    ``dry_run`` asks the API and reports what would be fetched, writing nothing (no
    lock file, no queue, no watermark, no PDF). Raises :class:`HarvestBusyError` when
    another harvest holds the lock and ``ConfigError`` for unusable settings; failures
    of queries and papers are recorded in the report instead.
    """
    say = echo or (lambda line: None)
    bar = progress or _no_progress
    queries = settings.queries
    if not queries:
        raise ConfigError("no harvest queries: add [[query]] tables (name, categories, "
                          "keywords) to paramminer.toml, or pass --category/--keyword")
    search_queries = {spec.name: search_query_for(spec) for spec in queries}
    if len(search_queries) != len(queries):
        raise ConfigError("two harvest queries share a name")
    current = now or _utcnow()
    start_date_of(settings, current)  # a bad start_date fails before any request
    if "arxiv.org" in settings.arxiv_url and not settings.contact:
        logger.warning("no contact address set: arXiv asks API users to identify themselves "
                       "(set contact in paramminer.toml or PARAMMINER_CONTACT)")
    report = HarvestReport(dry_run=dry_run)
    clock = time.perf_counter()
    locks: list[HarvestLock] = []
    run = _Run(settings, report, say)
    end_status = "failed"
    try:
        if dry_run:
            state = _State()
            if settings.warehouse_path.exists():
                warehouse = Warehouse.open(settings.warehouse_path, read_only=True)
                try:
                    state = _read_state(warehouse)
                    report.gave_up = [q for q in queue_problems(warehouse)
                                      if q.status == "gave_up"]
                finally:
                    warehouse.close()
        else:
            locks = _acquire_locks(settings)
            report.stale_lock_pid = next((k.stale_pid for k in locks if k.stale_pid), None)
            report.removed_partial_files = remove_partial_files(settings.pdf_store_dir)
            state = run.start(queries)

        def bump_api() -> None:
            report.api_requests += 1

        retries = _plan_retries(state, settings)
        plan: list[PlannedPaper] = []
        with _api_client(settings, bump_api) as client:
            for spec in queries:
                outcome = QueryOutcome(spec.name, search_queries[spec.name])
                report.queries.append(outcome)
                before = report.api_requests
                found = _discover(client, spec, state, settings, current, outcome)
                outcome.api_requests = report.api_requests - before
                report.papers_seen += outcome.seen
                report.new_papers += sum(p.reason == "new" for p in found)
                report.new_versions += sum(p.reason == "new_version" for p in found)
                if outcome.error:
                    report.failures.append(HarvestFailure(spec.name, "query", outcome.error))
                report.failures += [HarvestFailure(bad.entry_id or "(no id)", "entry", bad.reason)
                                    for bad in outcome.bad_entries]
                plural = "" if outcome.api_requests == 1 else "s"
                skipped = len(outcome.bad_entries)
                say(f"query {spec.name}: {outcome.seen} seen, {outcome.new} new"
                    f" ({outcome.api_requests} API request{plural})"
                    + (f"; {skipped} unusable entr{'y' if skipped == 1 else 'ies'} skipped"
                       if skipped else "")
                    + (f"; FAILED: {outcome.error}" if outcome.error else ""))
                if not dry_run and (found or outcome.watermark is not None):
                    _queue(run, spec.name, outcome.search_query, found, outcome.watermark)
                plan.extend(found)
        # Newest version of each paper only; retries of earlier runs first.
        chosen: dict[str, PlannedPaper] = {}
        for planned in [*retries, *plan]:
            held = chosen.get(planned.paper.arxiv_id)
            if held is None or planned.paper.version > held.paper.version:
                chosen[planned.paper.arxiv_id] = planned
        report.planned = list(chosen.values())
        report.retried = sum(p.reason == "retry" for p in report.planned)
        if dry_run:
            return report
        if report.planned:
            prestart_workers(settings)  # loads the rules while the first PDF downloads

        def bump_pdf() -> None:
            report.pdf_requests += 1

        with _pdf_fetcher(settings, bump_pdf) as fetcher, \
                bar(len(report.planned), "harvest") as advance:
            for planned in report.planned:
                paper = planned.paper
                try:
                    pdf = fetcher.fetch(ArxivId(paper.arxiv_id, paper.version))
                except (FetchError, InputError) as exc:
                    stage = "fetch" if isinstance(exc, FetchError) else "validate"
                    _record_failure(run, planned, stage, exc.reason)
                    say(f"FAILED {planned.label}: {exc.reason}")
                    advance(planned.label, False)
                    continue
                report.pdfs_downloaded += 1
                report.bytes_downloaded += pdf.bytes
                _ingest_one(run, planned, pdf)
                advance(planned.label, planned.label in report.ingested)
        end_status = report.status
        return report
    except KeyboardInterrupt:
        end_status = "interrupted"
        raise
    finally:
        report.seconds = time.perf_counter() - clock
        try:
            if locks and report.run_id is not None:
                run.finish(end_status)
        finally:
            for lock in reversed(locks):
                lock.release()


def _acquire_locks(settings: Settings) -> list[HarvestLock]:
    """The warehouse's lock, then the data folder's (a second harvest gets HarvestBusyError)."""
    locks: list[HarvestLock] = []
    try:
        for path in dict.fromkeys([lock_path(settings), data_lock_path(settings)]):
            locks.append(HarvestLock(path).acquire())
    except BaseException:
        for lock in locks:
            lock.release()
        raise
    return locks


DEMO_QUERY = QuerySpec("demo-sample", categories=("cs.CL", "cs.LG", "cs.CV", "eess.AS"))
"""The demo's query: every category of the bundled sample."""


def demo_settings(settings: Settings, base_url: str) -> Settings:
    """``settings`` pointed at a local arXiv, with small delays and the demo's query."""
    return replace(
        settings,
        arxiv_url=base_url,
        pdf_url="",
        api_delay=0.2,
        pdf_delay=0.1,
        retry_backoff=0.2,
        contact=settings.contact or "demo@localhost",
        start_date="1991-08-01",
        queries=(DEMO_QUERY,),
    )
