"""Paper metadata from the arXiv API, politely, as plain dataclasses.

The ``arxiv`` package (4.x) builds the query URLs, pages through results and
parses the Atom feed; this module supplies the transport around it:

* the base URL is an *instance* attribute (``query_url_format``) of a private
  ``arxiv.Client`` subclass, so no global is patched and other users of the
  package are unaffected;
* that subclass overrides ``Client._parse_feed``, the package's one per-page
  fetch hook, to send our User-Agent, keep the process-wide request spacing,
  retry 429/5xx/connection errors honouring ``Retry-After``, never retry another
  4xx, and turn arXiv's error entries into :class:`ArxivApiError`;
* every response is checked to be a whole Atom feed with arXiv's totals (an HTML page or a
  cut-off document is retried like a 503, then reported), and each entry is converted on
  its own: an unusable entry is skipped and reported (``on_bad_entry``) while the rest
  of the query goes on;
* results come back as :class:`PaperMeta`, independent of the package's types.
"""

from __future__ import annotations

import logging
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any

import arxiv
import httpx
from arxiv import _feed

from paramminer.arxiv_ids import ArxivId, parse_arxiv_id
from paramminer.errors import InputError, ParamminerError
from paramminer.fetch import (
    RequestSpacer,
    backoff_seconds,
    parse_retry_after,
    polite_client,
    user_agent,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_DELAY_SECONDS",
    "ArxivApiError",
    "ArxivClient",
    "BadEntry",
    "FeedPage",
    "PaperMeta",
    "error_reason",
    "fetch_ids",
    "paper_from_result",
    "parse_feed",
    "search",
    "submitted_date_clause",
]

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://export.arxiv.org"
DEFAULT_DELAY_SECONDS = 3.0
"""arXiv's API terms ask for no more than one request every three seconds."""
MAX_PAGE_SIZE = 2000
"""arXiv returns at most 2,000 results per request..."""
MAX_RESULTS_PER_QUERY = 30000
"""...and at most 30,000 per query; narrow the query (e.g. by date) for more."""
IDS_PER_REQUEST = 100
ATOM_NS = "http://www.w3.org/2005/Atom"
_ATOM = {"atom": ATOM_NS}
_NS = {**_ATOM, "opensearch": "http://a9.com/-/spec/opensearch/1.1/"}


class ArxivApiError(ParamminerError):
    """The arXiv API failed or refused a query; ``retryable`` says if later may work."""

    def __init__(
        self, url: str, reason: str, retryable: bool = False, status: int | None = None
    ) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.retryable = retryable
        self.status = status


@dataclass(frozen=True)
class PaperMeta:
    """One paper at one version, as the API describes it."""

    arxiv_id: str  # without version, e.g. "2401.90001" or "hep-th/9901001"
    version: int
    title: str
    abstract: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    primary_category: str
    published: date  # v1 submission day (UTC): the paper's first public appearance
    published_at: datetime  # v1 submission time, UTC
    updated: datetime  # this version's time, UTC
    pdf_url: str | None
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None

    @property
    def versioned_id(self) -> str:
        """``<id>v<N>``."""
        return f"{self.arxiv_id}v{self.version}"


@dataclass(frozen=True)
class BadEntry:
    """A feed entry that cannot be used (no valid id, a missing or broken date...)."""

    entry_id: str  # as the feed gives it ("" when it has none)
    reason: str


@dataclass(frozen=True)
class FeedPage:
    """One parsed API response."""

    total_results: int
    start_index: int
    items_per_page: int
    papers: list[PaperMeta]
    bad_entries: list[BadEntry] = field(default_factory=list)


class FeedError(ValueError):
    """A response that is not a whole arXiv Atom feed (HTML, cut off, not XML)."""


def error_reason(content: bytes) -> str | None:
    """The summary of arXiv's error entry in a response body, or None if there is none.

    arXiv reports a bad request as an entry titled ``Error`` whose id points into
    ``/api/errors``; the ``arxiv`` package's parser drops it (it has no
    ``<published>``), so it is looked for here, in the raw document.
    """
    try:
        root = ET.fromstring(content)
    except ET.ParseError:
        return None
    for entry in root.iterfind("atom:entry", _ATOM):
        entry_id = entry.findtext("atom:id", default="", namespaces=_ATOM)
        title = entry.findtext("atom:title", default="", namespaces=_ATOM).strip()
        if "/api/errors" in entry_id or (title == "Error" and "/abs/" not in entry_id):
            summary = entry.findtext("atom:summary", default="", namespaces=_ATOM)
            return " ".join(summary.split()) or "unspecified error"
    return None


def _raise_for_error_entry(content: bytes, url: str, status: int | None) -> None:
    reason = error_reason(content)
    if reason is not None:
        raise ArxivApiError(url, f"arXiv API error: {reason}", retryable=False, status=status)


def paper_from_result(result: arxiv.Result) -> PaperMeta:
    """Convert one ``arxiv.Result`` into a :class:`PaperMeta`."""
    short_id = result.get_short_id()
    try:
        parsed = parse_arxiv_id(short_id)
    except InputError as exc:
        raise ArxivApiError(result.entry_id, f"unusable entry id: {exc.reason}") from exc
    published_at = result.published.astimezone(UTC)
    return PaperMeta(
        arxiv_id=parsed.id,
        version=parsed.version or 1,
        title=" ".join(result.title.split()),
        abstract=" ".join((result.summary or "").split()),
        authors=tuple(author.name for author in result.authors),
        categories=tuple(result.categories),
        primary_category=result.primary_category,
        published=published_at.date(),
        published_at=published_at,
        updated=result.updated.astimezone(UTC),
        pdf_url=result.pdf_url,
        comment=result.comment or None,
        journal_ref=result.journal_ref or None,
        doi=result.doi or None,
    )


def parse_feed(content: bytes, url: str = "<feed>") -> FeedPage:
    """Parse an API response body: the ``arxiv`` package's entry parser, one entry at a time.

    Raises :class:`ArxivApiError` for an error entry or a document that is not a whole
    Atom feed; unusable entries are in ``bad_entries``, the others in ``papers``.
    """
    _raise_for_error_entry(content, url, None)
    try:
        feed = parse_page(content)
    except FeedError as exc:
        raise ArxivApiError(url, str(exc), retryable=True) from None
    papers: list[PaperMeta] = []
    bad: list[BadEntry] = []
    for result in feed.results:
        converted = convert_entry(result)
        if isinstance(converted, BadEntry):
            bad.append(converted)
        else:
            papers.append(converted)
    return FeedPage(feed.header.total_results, feed.header.start_index,
                    feed.header.items_per_page, papers, bad)


def _checked_root(content: bytes) -> ET.Element:
    """The root of a whole Atom feed with arXiv's totals, else FeedError saying what it is."""
    head = content[:200].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        raise FeedError("not an Atom feed: the server sent an HTML page")
    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        raise FeedError(f"malformed or cut-off Atom feed ({exc})") from None
    if root.tag != f"{{{ATOM_NS}}}feed":
        raise FeedError(f"not an Atom feed: the document is <{root.tag.rsplit('}', 1)[-1]}>")
    if root.find("opensearch:totalResults", _NS) is None:
        raise FeedError("Atom feed without opensearch:totalResults (not an arXiv answer)")
    return root


def _number(root: ET.Element, path: str) -> int:
    text = (root.findtext(path, default="", namespaces=_NS) or "").strip()
    try:
        return int(text)
    except ValueError:
        raise FeedError(f"Atom feed with a bad {path}: {text!r}") from None


def parse_page(content: bytes) -> _feed.ParsedFeed:
    """The package's ``ParsedFeed`` of a checked document; each entry is an ``arxiv.Result``,
    or a :class:`BadEntry` in its place (so the package's paging still counts it)."""
    root = _checked_root(content)
    header = _feed.FeedHeader(
        total_results=_number(root, "opensearch:totalResults"),
        items_per_page=_number(root, "opensearch:itemsPerPage"),
        start_index=_number(root, "opensearch:startIndex"),
    )
    results: list[Any] = [_entry(element) for element in root.iterfind("atom:entry", _ATOM)]
    return _feed.ParsedFeed(header=header, results=results, malformed=False)


def _entry(element: ET.Element) -> Any:
    """``arxiv.Result`` of one entry, or a BadEntry saying why there is none."""
    entry_id = (element.findtext("atom:id", default="", namespaces=_ATOM) or "").strip()
    try:
        result = _feed._build_result(element)
    except (ValueError, TypeError, AttributeError) as exc:
        return BadEntry(entry_id, f"unreadable entry: {exc}")
    if result is None:
        return BadEntry(entry_id, "entry without an id, a published or an updated date")
    return result


def convert_entry(result: Any) -> PaperMeta | BadEntry:
    """A feed result as PaperMeta, or the BadEntry it already is, or one for a bad id."""
    if isinstance(result, BadEntry):
        return result
    try:
        return paper_from_result(result)
    except ArxivApiError as exc:
        return BadEntry(str(result.entry_id), exc.reason)


def _as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InputError(repr(value), "expected a date as YYYY-MM-DD") from exc


def submitted_date_clause(start: date | str | None, end: date | str | None = None) -> str:
    """``submittedDate:[YYYYMMDD0000 TO YYYYMMDD2359]``; an open end means today (UTC)."""
    low = _as_date(start) if start is not None else date(1991, 8, 1)
    high = _as_date(end) if end is not None else datetime.now(UTC).date()
    if high < low:
        raise InputError(f"{low}..{high}", "the end date is before the start date")
    return f"submittedDate:[{low:%Y%m%d}0000 TO {high:%Y%m%d}2359]"


class _PackageClient(arxiv.Client):  # type: ignore[misc]  # arxiv ships no type hints
    """``arxiv.Client`` pointed at our base URL, fetching pages through our transport."""

    def __init__(self, owner: ArxivClient, page_size: int) -> None:
        # The package's own delay and retries are off: ArxivClient does both.
        super().__init__(page_size=page_size, delay_seconds=0.0, num_retries=0)
        self.query_url_format = f"{owner.base_url}/api/query?{{}}"
        self._owner = owner

    def _parse_feed(self, url: str, first_page: bool = True, _try_index: int = 0) -> Any:
        return self._owner._get_feed(url, first_page=first_page)


class ArxivClient:
    """A polite arXiv API client; use as a context manager or call :meth:`close`.

    ``delay_seconds`` (default 3.0) spaces request *starts* across every client
    in the process, because arXiv asks for at most one request every three
    seconds per user. ``max_attempts`` tries per page; 429 and 5xx answers and
    dropped connections are retried after ``Retry-After`` (or exponential
    backoff with jitter), other 4xx answers are not retried.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        contact: str | None = None,
        delay_seconds: float = DEFAULT_DELAY_SECONDS,
        page_size: int = 100,
        max_attempts: int = 4,
        backoff_base: float | None = None,
        max_retry_after: float = 300.0,
        timeout: float = 60.0,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        self.base_url = base_url.rstrip("/")
        self.delay_seconds = delay_seconds
        self.page_size = page_size
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base if backoff_base is not None else max(delay_seconds, 0.1)
        self.max_retry_after = max_retry_after
        self.user_agent = user_agent(contact)
        self._http = polite_client(self.user_agent, timeout)

    def __enter__(self) -> ArxivClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connection."""
        self._http.close()

    def search(
        self,
        query: str,
        *,
        start_date: date | str | None = None,
        end_date: date | str | None = None,
        max_results: int | None = 100,
        sort_by: str = "submittedDate",
        sort_order: str = "descending",
        on_bad_entry: Callable[[BadEntry], None] | None = None,
    ) -> Iterator[PaperMeta]:
        """Yield papers matching an arXiv ``search_query``, fetching page after page.

        ``start_date``/``end_date`` (inclusive, UTC days) add a ``submittedDate``
        range. ``max_results=None`` means arXiv's ceiling of 30,000 per query.
        ``sort_by`` is relevance, lastUpdatedDate or submittedDate. An unusable entry is
        skipped and given to ``on_bad_entry`` (default: a logged warning).
        """
        clauses = [f"({query})"] if query.strip() else []
        if start_date is not None or end_date is not None:
            clauses.append(submitted_date_clause(start_date, end_date))
        if not clauses:
            raise InputError("search", "an empty query would match nothing")
        limit = MAX_RESULTS_PER_QUERY if max_results is None else max_results
        if not 0 <= limit <= MAX_RESULTS_PER_QUERY:
            raise InputError(str(max_results), f"max_results must be 0..{MAX_RESULTS_PER_QUERY}")
        try:
            criterion = arxiv.SortCriterion(sort_by)
            order = arxiv.SortOrder(sort_order)
        except ValueError as exc:
            raise InputError(f"{sort_by}/{sort_order}", f"unknown sort: {exc}") from exc
        if limit == 0:
            return
        package_search = arxiv.Search(
            query=" AND ".join(clauses), max_results=limit, sort_by=criterion, sort_order=order
        )
        client = _PackageClient(self, page_size=min(self.page_size, limit))
        yield from _usable(client.results(package_search), on_bad_entry)

    def fetch_ids(self, ids: Iterable[str | ArxivId]) -> list[PaperMeta]:
        """Metadata for these identifiers (a version pins it; otherwise the latest).

        Unknown identifiers are simply absent from the result, as with arXiv.
        Raises ``InputError`` before any request when an identifier is malformed.
        """
        wanted: list[str] = []
        for item in ids:
            versioned = (item if isinstance(item, ArxivId) else parse_arxiv_id(item)).versioned
            if versioned not in wanted:
                wanted.append(versioned)
        papers: list[PaperMeta] = []
        for offset in range(0, len(wanted), IDS_PER_REQUEST):
            chunk = wanted[offset : offset + IDS_PER_REQUEST]
            package_search = arxiv.Search(id_list=chunk, max_results=len(chunk))
            client = _PackageClient(self, page_size=len(chunk))
            papers.extend(_usable(client.results(package_search), None))
        return papers

    def _get_feed(self, url: str, *, first_page: bool) -> _feed.ParsedFeed:
        """Fetch and parse one page: spacing, User-Agent, retries, error entries."""
        last: ArxivApiError | None = None
        spacer = RequestSpacer.for_url(url)
        for attempt in range(self.max_attempts):
            spacer.wait(self.delay_seconds)
            retry_after: float | None = None
            try:
                response = self._http.get(url)
            except httpx.TransportError as exc:
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                last = ArxivApiError(url, reason, retryable=True)
            else:
                status = response.status_code
                if status == 200:
                    _raise_for_error_entry(response.content, url, status)
                    try:
                        feed = parse_page(response.content)
                    except FeedError as exc:
                        last = ArxivApiError(url, str(exc), True, status)
                    else:
                        if feed.results or first_page:
                            return feed
                        # arXiv sporadically answers a later page with nothing; ask again.
                        last = ArxivApiError(url, "page unexpectedly empty", True, status)
                elif status == 429 or status >= 500:
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                    last = ArxivApiError(url, f"HTTP {status}", retryable=True, status=status)
                else:
                    _raise_for_error_entry(response.content, url, status)
                    raise ArxivApiError(url, f"HTTP {status}", retryable=False, status=status)
            if attempt + 1 >= self.max_attempts:
                break
            if retry_after is not None and retry_after > self.max_retry_after:
                raise ArxivApiError(
                    url,
                    f"{last.reason}; server asks to wait {retry_after:.0f}s",
                    retryable=True,
                    status=last.status,
                )
            wait = (
                retry_after
                if retry_after is not None
                else backoff_seconds(attempt, base=self.backoff_base, cap=120.0)
            )
            logger.warning("arXiv API: %s; retrying in %.1fs", last, wait)
            time.sleep(wait)
        assert last is not None
        raise ArxivApiError(
            url,
            f"gave up after {self.max_attempts} attempts: {last.reason}",
            retryable=True,
            status=last.status,
        )


def _usable(
    results: Iterable[Any], on_bad_entry: Callable[[BadEntry], None] | None
) -> Iterator[PaperMeta]:
    """The papers among the package's results; each bad entry goes to `on_bad_entry`."""
    for result in results:
        converted = convert_entry(result)
        if isinstance(converted, BadEntry):
            if on_bad_entry is None:
                logger.warning("skipping an unusable feed entry %r: %s", converted.entry_id,
                               converted.reason)
            else:
                on_bad_entry(converted)
            continue
        yield converted


def search(
    query: str,
    *,
    base_url: str = DEFAULT_BASE_URL,
    contact: str | None = None,
    delay_seconds: float = DEFAULT_DELAY_SECONDS,
    start_date: date | str | None = None,
    end_date: date | str | None = None,
    max_results: int | None = 100,
    sort_by: str = "submittedDate",
    sort_order: str = "descending",
    page_size: int = 100,
) -> Iterator[PaperMeta]:
    """:meth:`ArxivClient.search` with a client made (and closed) for this query."""
    with ArxivClient(
        base_url, contact=contact, delay_seconds=delay_seconds, page_size=page_size
    ) as client:
        yield from client.search(
            query,
            start_date=start_date,
            end_date=end_date,
            max_results=max_results,
            sort_by=sort_by,
            sort_order=sort_order,
        )


def fetch_ids(
    ids: Iterable[str | ArxivId],
    *,
    base_url: str = DEFAULT_BASE_URL,
    contact: str | None = None,
    delay_seconds: float = DEFAULT_DELAY_SECONDS,
) -> list[PaperMeta]:
    """:meth:`ArxivClient.fetch_ids` with a client made (and closed) for this call."""
    with ArxivClient(base_url, contact=contact, delay_seconds=delay_seconds) as client:
        return client.fetch_ids(ids)
