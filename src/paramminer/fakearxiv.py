"""A local arXiv-compatible HTTP server over a folder of metadata and PDFs.

No machine here reaches arxiv.org, so tests, the demo and fault drills talk to
this server instead. It answers the two things paramminer asks of arXiv:

* ``GET /api/query`` -- the Atom API (``id_list``, ``search_query`` with ``all:``,
  ``ti:``, ``abs:``, ``au:``, ``cat:``, ``co:``, ``jr:``, ``id:`` terms, quoted
  phrases, ``AND``/``OR``/``ANDNOT``, parentheses, ``submittedDate:[A TO B]`` and
  ``lastUpdatedDate:[A TO B]``; ``start``, ``max_results``, ``sortBy``,
  ``sortOrder``), shaped like the real feeds so the ``arxiv`` package parses it
  the same way: errors are an Atom entry titled ``Error`` with HTTP 400;
* ``GET /pdf/<id>[vN][.pdf]`` -- the PDF bytes (latest version without ``vN``).

A data folder holds ``metadata.jsonl``: one JSON object per (paper, version)
with ``id``, ``version``, ``title``, ``summary``, ``authors``, ``categories``,
``primary_category``, ``published`` (v1 time), ``updated`` (this version's
time), ``comment``, ``journal_ref``, ``doi`` and ``pdf`` (relative path).
Several folders may be layered; a later one adds versions or replaces records.

Faults are injected deterministically (every Nth request, counted from the
last :meth:`FakeArxivServer.set_faults`) unless a ``seed`` makes them random
with probability 1/N. Every request is recorded in ``server.request_log``.

Run it: ``python -m paramminer.fakearxiv --port 8765 [--data DIR] [--rate-limit-every 3]``.
"""

from __future__ import annotations

import argparse
import contextlib
import email.utils
import hashlib
import json
import logging
import math
import random
import re
import threading
import time
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, quote, urlsplit
from xml.sax.saxutils import escape, quoteattr

from paramminer import resources
from paramminer.arxiv_ids import ArxivId, looks_like_arxiv_id, parse_arxiv_id
from paramminer.errors import ConfigError, InputError

__all__ = [
    "Catalogue",
    "FakeArxivServer",
    "Faults",
    "LoggedRequest",
    "PaperRecord",
    "QueryError",
    "default_data_dir",
    "load_catalogue",
    "main",
    "parse_search_query",
    "serve_forever",
    "serve_in_thread",
]

logger = logging.getLogger(__name__)

def default_data_dir() -> Path:
    """The bundled sample the server serves when no data folder is given."""
    return resources.sample_dir()


ATOM_NS = "http://www.w3.org/2005/Atom"
ARXIV_NS = "http://arxiv.org/schemas/atom"
OPENSEARCH_NS = "http://a9.com/-/spec/opensearch/1.1/"
MAX_PAGE = 2000  # arXiv's largest page
MAX_RESULTS_PER_QUERY = 30000  # arXiv's largest result set per query
DEFAULT_MAX_RESULTS = 10  # arXiv's default when max_results is absent

DataDirs = str | Path | Sequence[str | Path] | None


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class PaperRecord:
    """One version of one paper, as read from ``metadata.jsonl``."""

    arxiv_id: ArxivId  # always carries a version
    title: str
    summary: str
    authors: tuple[str, ...]
    affiliations: tuple[tuple[str, ...], ...]
    categories: tuple[str, ...]
    primary_category: str
    published: datetime  # v1 submission time
    updated: datetime  # this version's time
    comment: str | None
    journal_ref: str | None
    doi: str | None
    pdf_path: Path | None


@dataclass
class Catalogue:
    """Every known version of every paper, in the order they were loaded."""

    papers: dict[str, dict[int, PaperRecord]] = field(default_factory=dict)

    def add(self, record: PaperRecord) -> None:
        version = record.arxiv_id.version
        assert version is not None
        self.papers.setdefault(record.arxiv_id.id, {})[version] = record

    def latest(self, paper_id: str) -> PaperRecord | None:
        versions = self.papers.get(paper_id)
        return versions[max(versions)] if versions else None

    def get(self, arxiv_id: ArxivId) -> PaperRecord | None:
        if arxiv_id.version is None:
            return self.latest(arxiv_id.id)
        return self.papers.get(arxiv_id.id, {}).get(arxiv_id.version)

    def latest_records(self) -> list[PaperRecord]:
        return [versions[max(versions)] for versions in self.papers.values()]

    def __len__(self) -> int:
        return len(self.papers)


def _parse_time(value: object, where: str, name: str) -> datetime:
    if not isinstance(value, str) or not value:
        raise InputError(where, f"{name!r} must be an ISO 8601 time such as 2024-01-12T18:04:11Z")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(where, f"{name!r} is not an ISO 8601 time: {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _record_from_json(obj: dict[str, Any], folder: Path, where: str) -> PaperRecord:
    raw_id = obj.get("id")
    if not isinstance(raw_id, str):
        raise InputError(where, "missing 'id'")
    try:
        parsed = parse_arxiv_id(raw_id)
    except InputError as exc:
        raise InputError(where, f"{exc.path}: {exc.reason}") from exc
    version = obj.get("version", parsed.version)
    if not isinstance(version, int) or version < 1:
        raise InputError(where, f"'version' must be an integer >= 1, got {version!r}")
    authors: list[str] = []
    affiliations: list[tuple[str, ...]] = []
    for author in obj.get("authors") or []:
        if isinstance(author, dict):
            authors.append(str(author.get("name", "")))
            affs = author.get("affiliation") or author.get("affiliations") or []
            affiliations.append(tuple([affs] if isinstance(affs, str) else map(str, affs)))
        else:
            authors.append(str(author))
            affiliations.append(())
    categories = tuple(str(c) for c in obj.get("categories") or [])
    primary = _optional_str(obj.get("primary_category")) or (categories[0] if categories else "")
    if primary and primary not in categories:
        categories = (primary, *categories)
    published = _parse_time(obj.get("published"), where, "published")
    updated = _parse_time(obj.get("updated") or obj.get("published"), where, "updated")
    pdf_name = _optional_str(obj.get("pdf"))
    pdf_path: Path | None = None
    if pdf_name is not None:
        pdf_path = (folder / pdf_name).resolve()
        if not pdf_path.is_relative_to(folder.resolve()):
            raise InputError(where, f"'pdf' must stay inside the data folder: {pdf_name!r}")
    return PaperRecord(
        arxiv_id=ArxivId(parsed.id, version),
        title=str(obj.get("title") or ""),
        summary=str(obj.get("summary") or ""),
        authors=tuple(authors),
        affiliations=tuple(affiliations),
        categories=categories,
        primary_category=primary,
        published=published,
        updated=updated,
        comment=_optional_str(obj.get("comment")),
        journal_ref=_optional_str(obj.get("journal_ref")),
        doi=_optional_str(obj.get("doi")),
        pdf_path=pdf_path,
    )


def _as_dirs(data_dir: DataDirs) -> list[Path]:
    if data_dir is None:
        return [default_data_dir()]
    if isinstance(data_dir, str | Path):
        return [Path(data_dir)]
    return [Path(d) for d in data_dir]


def load_catalogue(data_dir: DataDirs = None) -> Catalogue:
    """Read ``metadata.jsonl`` from each folder (later folders layer over earlier ones)."""
    catalogue = Catalogue()
    for folder in _as_dirs(data_dir):
        metadata = folder / "metadata.jsonl"
        if not metadata.is_file():
            raise ConfigError(f"{metadata}: no such file (an arXiv data folder needs one)")
        with metadata.open(encoding="utf-8") as lines:
            for lineno, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                where = f"{metadata}:{lineno}"
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(where, f"not JSON: {exc.msg}") from exc
                if not isinstance(obj, dict):
                    raise InputError(where, "each line must be a JSON object")
                catalogue.add(_record_from_json(obj, folder, where))
    return catalogue


# ------------------------------------------------------------------ search query


class QueryError(ValueError):
    """A ``search_query`` (or another API parameter) arXiv would reject with 400."""


_FIELDS = {"all", "ti", "abs", "au", "cat", "co", "jr", "id", "rn"}
_DATE_FIELDS = {"submitteddate": "submittedDate", "lastupdateddate": "lastUpdatedDate"}
_OPERATORS = {"AND", "OR", "ANDNOT"}
_WEIGHTS = {"ti": 3, "au": 2, "abs": 1, "co": 1, "jr": 1, "cat": 1, "id": 1, "rn": 1}


@dataclass(frozen=True)
class Term:
    """``field:text``; ``text`` is a word, a phrase, or a prefix ending in ``*``."""

    field: str
    text: str


@dataclass(frozen=True)
class DateRange:
    """``submittedDate:[lo TO hi]`` (inclusive, UTC, minute resolution)."""

    field: str
    low: datetime
    high: datetime


@dataclass(frozen=True)
class BoolOp:
    op: str  # AND, OR, ANDNOT
    left: Node
    right: Node


Node = Term | DateRange | BoolOp


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<open>\() | (?P<close>\)) |
        (?P<field>[A-Za-z_]+):(?:"(?P<fphrase>[^"]*)"|\[(?P<range>[^\]]*)\]|(?P<fword>[^\s()"]+)) |
        "(?P<phrase>[^"]*)" |
        (?P<word>[^\s()"]+)
    )""",
    re.VERBOSE,
)


def _date_bound(text: str, *, upper: bool) -> datetime:
    if not re.fullmatch(r"[0-9]{8}(?:[0-9]{4}(?:[0-9]{2})?)?", text):
        raise QueryError(f"date {text!r} must be YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS")
    padded = text + ("235959"[len(text) - 8 :] if upper else "000000"[len(text) - 8 :])
    try:
        return datetime.strptime(padded, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError as exc:
        raise QueryError(f"date {text!r} does not exist") from exc


def _tokens(query: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(query):
        if query[pos:].isspace():
            break
        match = _TOKEN.match(query, pos)
        if match is None or match.end() == pos:
            raise QueryError(f"cannot read search_query at {query[pos : pos + 20]!r}")
        pos = match.end()
        if match["open"]:
            tokens.append(("(", None))
        elif match["close"]:
            tokens.append((")", None))
        elif match["field"]:
            name = match["field"]
            if match["range"] is not None:
                date_field = _DATE_FIELDS.get(name.lower())
                if date_field is None:
                    raise QueryError(f"field {name!r} does not take a [A TO B] range")
                parts = match["range"].split()
                if len(parts) != 3 or parts[1] != "TO":
                    raise QueryError(f"range must read [A TO B], got [{match['range']}]")
                low = _date_bound(parts[0], upper=False)
                high = _date_bound(parts[2], upper=True)
                tokens.append(("term", DateRange(date_field, low, high)))
                continue
            if name.lower() in _DATE_FIELDS:
                raise QueryError(f"{name} needs a range such as [202401010000 TO 202401312359]")
            if name not in _FIELDS:
                raise QueryError(f"unknown field prefix {name!r}")
            text = match["fphrase"] if match["fphrase"] is not None else match["fword"]
            tokens.append(("term", Term(name, text)))
        elif match["phrase"] is not None:
            tokens.append(("term", Term("all", match["phrase"])))
        else:
            word = match["word"]
            tokens.append(("op", word) if word in _OPERATORS else ("term", Term("all", word)))
    return tokens


class _Parser:
    """Recursive descent: ``or := and (OR and)*``; ``and := unary ((AND|ANDNOT)? unary)*``."""

    def __init__(self, tokens: list[tuple[str, Any]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def parse(self) -> Node:
        node = self.parse_or()
        if self.peek() is not None:
            raise QueryError("unbalanced parenthesis or dangling operator in search_query")
        return node

    def parse_or(self) -> Node:
        node = self.parse_and()
        while self.peek() == ("op", "OR"):
            self.pos += 1
            node = BoolOp("OR", node, self.parse_and())
        return node

    def parse_and(self) -> Node:
        node = self.parse_unary()
        while True:
            token = self.peek()
            if token is None or token == ("op", "OR") or token[0] == ")":
                return node
            op = "AND"  # adjacent terms without an operator are ANDed
            if token[0] == "op":
                op = token[1]
                self.pos += 1
            node = BoolOp(op, node, self.parse_unary())

    def parse_unary(self) -> Node:
        token = self.peek()
        if token is None:
            raise QueryError("search_query ends where a term was expected")
        self.pos += 1
        if token[0] == "(":
            node = self.parse_or()
            if self.peek() != (")", None):
                raise QueryError("unbalanced parenthesis in search_query")
            self.pos += 1
            return node
        if token[0] == "term":
            return cast(Node, token[1])
        raise QueryError(f"unexpected {token[1] or token[0]!r} in search_query")


def parse_search_query(query: str) -> Node:
    """Parse an arXiv ``search_query`` into a tree, raising :class:`QueryError`."""
    tokens = _tokens(query)
    if not tokens:
        raise QueryError("empty search_query")
    return _Parser(tokens).parse()


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return re.findall(r"[0-9a-z]+", plain)


def _count_phrase(haystack: list[str], needle: list[str], prefix: bool) -> int:
    if not needle:
        return 0
    count = 0
    width = len(needle)
    for start in range(len(haystack) - width + 1):
        window = haystack[start : start + width]
        if window[:-1] != needle[:-1]:
            continue
        last = window[-1]
        if last == needle[-1] or (prefix and last.startswith(needle[-1])):
            count += 1
    return count


def _term_hits(term: Term, record: PaperRecord) -> int:
    text = term.text
    prefix = text.endswith("*")
    if term.field == "cat":
        wanted = text.casefold()
        if prefix:
            return sum(c.casefold().startswith(wanted[:-1]) for c in record.categories)
        return sum(c.casefold() == wanted for c in record.categories)
    if term.field == "id":
        return int(record.arxiv_id.id == text or record.arxiv_id.versioned == text)
    needle = _words(text.replace("_", " ") if term.field == "au" else text)
    if term.field == "au" or term.field == "all":
        author_hits = sum(_count_phrase(_words(a), needle, prefix) for a in record.authors)
        if term.field == "au":
            return author_hits
    else:
        author_hits = 0
    fields_text = {
        "ti": [record.title],
        "abs": [record.summary],
        "co": [record.comment or ""],
        "jr": [record.journal_ref or ""],
        "rn": [],
        "all": [record.title, record.summary, record.comment or "", record.journal_ref or ""],
    }[term.field]
    return author_hits + sum(_count_phrase(_words(t), needle, prefix) for t in fields_text)


def _matches(node: Node, record: PaperRecord) -> bool:
    if isinstance(node, Term):
        return _term_hits(node, record) > 0
    if isinstance(node, DateRange):
        when = record.published if node.field == "submittedDate" else record.updated
        return node.low <= when <= node.high
    left = _matches(node.left, record)
    if node.op == "OR":
        return left or _matches(node.right, record)
    if node.op == "AND":
        return left and _matches(node.right, record)
    return left and not _matches(node.right, record)


def _score(node: Node, record: PaperRecord) -> int:
    if isinstance(node, Term):
        return _WEIGHTS.get(node.field, 1) * _term_hits(node, record)
    if isinstance(node, DateRange):
        return 0
    if node.op == "ANDNOT":
        return _score(node.left, record)
    return _score(node.left, record) + _score(node.right, record)


# ------------------------------------------------------------------------ faults


@dataclass(frozen=True)
class Faults:
    """Fault injection switches; 0 / None / False switch a fault off.

    ``*_every=N`` fires on requests N, 2N, 3N... (counted over all requests since
    the last ``set_faults``; ``truncate_every`` counts PDF requests), or with
    probability 1/N per request when ``seed`` is set.
    """

    rate_limit_every: int = 0  # answer 429 with Retry-After: retry_after
    retry_after: float = 1.0  # seconds announced in Retry-After (rounded up)
    retry_after_http_date: bool = False  # announce it as an HTTP date instead
    unavailable_every: int = 0  # answer 503 with Retry-After
    slow_seconds: float = 0.0  # sleep before answering...
    slow_count: int | None = None  # ...the first K requests (None: every request)
    drop_every: int = 0  # close the connection without any response
    truncate_pdfs: bool = False  # serve the first half of every PDF
    truncate_every: int = 0  # ...or of every Nth PDF
    seed: int | None = None  # random faults (probability 1/N) from this seed

    def __post_init__(self) -> None:
        for name in ("rate_limit_every", "unavailable_every", "drop_every", "truncate_every"):
            if getattr(self, name) < 0:
                raise ConfigError(f"fault {name} must be >= 0")
        if self.slow_seconds < 0 or self.retry_after < 0:
            raise ConfigError("fault durations must be >= 0")


FAULT_NAMES = frozenset(f.name for f in fields(Faults))


@dataclass
class LoggedRequest:
    """One request as the server saw it: arrival time (time.monotonic()), path, query."""

    at: float
    path: str
    query: str
    status: int  # 0 when the connection was dropped without a response
    user_agent: str

    @property
    def is_api(self) -> bool:
        return self.path.rstrip("/") == "/api/query"


@dataclass
class _Decision:
    drop: bool = False
    status: int = 200
    slow: float = 0.0
    truncate: bool = False


# ------------------------------------------------------------------------ server


def _xml(text: str) -> str:
    # XML 1.0 forbids most control characters; metadata should never carry them.
    cleaned = "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 0x20)
    return escape(cleaned)


def _atom_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _feed_head(
    title: str, feed_id: str, self_url: str | None, start: int, per_page: int, total: int
) -> list[str]:
    lines = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        f'<feed xmlns:opensearch="{OPENSEARCH_NS}" xmlns:arxiv="{ARXIV_NS}" xmlns="{ATOM_NS}">',
        f"  <id>{_xml(feed_id)}</id>",
        f"  <title>{_xml(title)}</title>",
        f"  <updated>{_atom_time(datetime.now(UTC))}</updated>",
    ]
    if self_url is not None:
        lines.append(f'  <link href={quoteattr(self_url)} type="application/atom+xml"/>')
    lines += [
        f"  <opensearch:itemsPerPage>{per_page}</opensearch:itemsPerPage>",
        f"  <opensearch:totalResults>{total}</opensearch:totalResults>",
        f"  <opensearch:startIndex>{start}</opensearch:startIndex>",
    ]
    return lines


def _entry(record: PaperRecord, base: str) -> list[str]:
    versioned = record.arxiv_id.versioned
    lines = [
        "  <entry>",
        f"    <id>http://arxiv.org/abs/{versioned}</id>",
        f"    <title>{_xml(record.title)}</title>",
        f"    <updated>{_atom_time(record.updated)}</updated>",
        f'    <link href={quoteattr(f"{base}/abs/{versioned}")} rel="alternate" type="text/html"/>',
        f'    <link href={quoteattr(f"{base}/pdf/{versioned}")} rel="related" '
        'type="application/pdf" title="pdf"/>',
    ]
    if record.doi:
        doi_url = f"https://doi.org/{record.doi}"
        lines.append(f'    <link href={quoteattr(doi_url)} rel="related" title="doi"/>')
    lines.append(f"    <summary>{_xml(record.summary)}</summary>")
    lines += [f'    <category term={quoteattr(c)} scheme="{ARXIV_NS}"/>' for c in record.categories]
    lines.append(f"    <published>{_atom_time(record.published)}</published>")
    if record.comment:
        lines.append(f"    <arxiv:comment>{_xml(record.comment)}</arxiv:comment>")
    if record.journal_ref:
        lines.append(f"    <arxiv:journal_ref>{_xml(record.journal_ref)}</arxiv:journal_ref>")
    if record.doi:
        lines.append(f"    <arxiv:doi>{_xml(record.doi)}</arxiv:doi>")
    lines.append(f"    <arxiv:primary_category term={quoteattr(record.primary_category)}/>")
    for name, affiliations in zip(record.authors, record.affiliations, strict=True):
        lines.append("    <author>")
        lines.append(f"      <name>{_xml(name)}</name>")
        lines += [f"      <arxiv:affiliation>{_xml(a)}</arxiv:affiliation>" for a in affiliations]
        lines.append("    </author>")
    lines.append("  </entry>")
    return lines


def error_feed(message: str) -> bytes:
    """An arXiv-style error document: one entry titled ``Error`` whose summary says why."""
    anchor = re.sub(r"[^0-9A-Za-z]+", "_", message).strip("_")
    error_id = f"https://arxiv.org/api/errors#{anchor}"
    now = _atom_time(datetime.now(UTC))
    lines = _feed_head("arXiv Search Results", "https://arxiv.org/", None, 0, 1, 1)
    lines += [
        "  <entry>",
        f"    <id>{_xml(error_id)}</id>",
        "    <title>Error</title>",
        f"    <updated>{now}</updated>",
        f'    <link href={quoteattr(error_id)} rel="alternate" type="text/html"/>',
        f"    <summary>{_xml(message)}</summary>",
        "    <author>",
        "      <name>arXiv api core</name>",
        "    </author>",
        "  </entry>",
        "</feed>",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _int_param(params: dict[str, list[str]], name: str, default: int) -> int:
    values = params.get(name)
    if not values or values[-1] == "":
        return default
    try:
        value = int(values[-1])
    except ValueError as exc:
        raise QueryError(f"{name} must be an integer") from exc
    if value < 0:
        raise QueryError(f"{name} must be non-negative")
    return value


class FakeArxivServer(ThreadingHTTPServer):
    """The server; ``base_url``, ``request_log`` and ``set_faults`` are for tests."""

    daemon_threads = True
    # Rebinding a port that a previous test left in TIME_WAIT must not fail.
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], catalogue: Catalogue, faults: Faults) -> None:
        self.catalogue = catalogue
        self.faults = faults
        self.request_log: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self._count = 0
        self._pdf_count = 0
        self._rng = random.Random(faults.seed)
        super().__init__(address, _Handler)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        host_text = host.decode() if isinstance(host, bytes) else str(host)
        if ":" in host_text:
            host_text = f"[{host_text}]"
        return f"http://{host_text}:{port}"

    def set_faults(self, **faults: Any) -> None:
        """Replace every fault switch (unnamed ones go back to off) and restart the counts."""
        unknown = set(faults) - FAULT_NAMES
        if unknown:
            raise ConfigError(f"unknown fault switch(es): {', '.join(sorted(unknown))}")
        with self._lock:
            self.faults = Faults(**faults)
            self._count = 0
            self._pdf_count = 0
            self._rng = random.Random(self.faults.seed)

    def load(self, data_dir: DataDirs) -> None:
        """Swap the catalogue for the one in ``data_dir`` (e.g. add a folder with a v2)."""
        catalogue = load_catalogue(data_dir)
        with self._lock:
            self.catalogue = catalogue

    def api_requests(self) -> list[LoggedRequest]:
        """The logged ``/api/query`` requests, in arrival order."""
        with self._lock:
            return sorted((r for r in self.request_log if r.is_api), key=lambda r: r.at)

    def _fires(self, every: int, count: int) -> bool:
        if every <= 0:
            return False
        if self.faults.seed is not None:
            return self._rng.random() < 1.0 / every
        return count % every == 0

    def decide(self, is_pdf: bool) -> _Decision:
        with self._lock:
            self._count += 1
            n = self._count
            f = self.faults
            decision = _Decision()
            if f.slow_seconds and (f.slow_count is None or n <= f.slow_count):
                decision.slow = f.slow_seconds
            if self._fires(f.drop_every, n):
                decision.drop = True
            elif self._fires(f.rate_limit_every, n):
                decision.status = 429
            elif self._fires(f.unavailable_every, n):
                decision.status = 503
            elif is_pdf:
                self._pdf_count += 1
                decision.truncate = f.truncate_pdfs or self._fires(
                    f.truncate_every, self._pdf_count
                )
            return decision

    def log(self, entry: LoggedRequest) -> None:
        with self._lock:
            self.request_log.append(entry)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakearxiv/1"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - %s", self.address_string(), format % args)

    @property
    def _server(self) -> FakeArxivServer:
        return cast(FakeArxivServer, self.server)

    def do_GET(self) -> None:
        try:
            self._get()
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (e.g. timed out on a slow response); nothing to answer.
            self.close_connection = True

    def _get(self) -> None:
        arrival = time.monotonic()
        parts = urlsplit(self.path)
        is_pdf = parts.path.startswith("/pdf/")
        decision = self._server.decide(is_pdf)
        user_agent = self.headers.get("User-Agent", "")

        def log(status: int) -> None:
            self._server.log(LoggedRequest(arrival, parts.path, parts.query, status, user_agent))

        if decision.slow:
            time.sleep(decision.slow)
        if decision.drop:
            log(0)
            self.close_connection = True
            return
        if decision.status != 200:
            log(decision.status)
            faults = self._server.faults
            retry_after = str(math.ceil(faults.retry_after))
            if faults.retry_after_http_date:
                retry_after = email.utils.formatdate(time.time() + faults.retry_after, usegmt=True)
            reason = "rate limited" if decision.status == 429 else "unavailable"
            self._send(
                decision.status, f"{reason}\n".encode(), "text/plain", {"Retry-After": retry_after}
            )
            return
        if parts.path.rstrip("/") == "/api/query":
            status, body = self._api(parse_qs(parts.query, keep_blank_values=True))
            log(status)
            self._send(status, body, "application/atom+xml; charset=utf-8")
        elif is_pdf:
            self._pdf(parts.path[len("/pdf/") :], decision.truncate, log)
        else:
            log(404)
            self._send(404, b"not found\n", "text/plain")

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _base(self) -> str:
        host = self.headers.get("Host")
        return f"http://{host}" if host else self._server.base_url

    def _api(self, params: dict[str, list[str]]) -> tuple[int, bytes]:
        catalogue = self._server.catalogue
        search_query = (params.get("search_query") or [""])[-1].strip()
        id_list_raw = (params.get("id_list") or [""])[-1]
        try:
            start = _int_param(params, "start", 0)
            max_results = _int_param(params, "max_results", DEFAULT_MAX_RESULTS)
            if max_results > MAX_RESULTS_PER_QUERY:
                raise QueryError(f"max_results must be <= {MAX_RESULTS_PER_QUERY}")
            sort_by = (params.get("sortBy") or ["relevance"])[-1] or "relevance"
            if sort_by not in ("relevance", "lastUpdatedDate", "submittedDate"):
                raise QueryError("sortBy must be relevance, lastUpdatedDate or submittedDate")
            sort_order = (params.get("sortOrder") or ["descending"])[-1] or "descending"
            if sort_order not in ("ascending", "descending"):
                raise QueryError("sortOrder must be ascending or descending")
            tree = parse_search_query(search_query) if search_query else None
        except QueryError as exc:
            return 400, error_feed(str(exc))

        # Select: id_list restricts (and fixes relevance order); search_query filters.
        records: list[PaperRecord] = []
        if id_list_raw.strip():
            seen: set[ArxivId] = set()
            for item in (i.strip() for i in id_list_raw.split(",")):
                if not looks_like_arxiv_id(item):
                    return 400, error_feed(f"incorrect id format for {item}")
                try:
                    wanted = parse_arxiv_id(item)
                except InputError:
                    continue  # arXiv's shape but no such paper: arXiv returns nothing
                record = catalogue.get(wanted)
                if record is not None and record.arxiv_id not in seen:
                    seen.add(record.arxiv_id)
                    records.append(record)
            if tree is not None:
                records = [r for r in records if _matches(tree, r)]
        elif tree is not None:
            records = [r for r in catalogue.latest_records() if _matches(tree, r)]

        descending = sort_order == "descending"
        if sort_by == "relevance":
            if tree is not None:
                # Best score first; ties newest first, then by id, for a stable order.
                records.sort(key=lambda r: r.arxiv_id.id)
                records.sort(key=lambda r: r.published, reverse=True)
                records.sort(key=lambda r: _score(tree, r), reverse=True)
        else:
            attr = "published" if sort_by == "submittedDate" else "updated"
            records.sort(key=lambda r: (getattr(r, attr), r.arxiv_id.id), reverse=descending)

        page = records[start : start + min(max_results, MAX_PAGE)]
        query_text = f"search_query={search_query}&id_list={id_list_raw}"
        title = f"arXiv Query: {query_text}&start={start}&max_results={max_results}"
        feed_id = (
            "https://arxiv.org/api/"
            + hashlib.sha1(title.encode(), usedforsecurity=False).hexdigest()[:27]
        )
        base = self._base()
        self_url = (
            f"{base}/api/query?search_query={quote(search_query)}&start={start}"
            f"&max_results={max_results}&id_list={quote(id_list_raw, safe=',/')}"
        )
        lines = _feed_head(title, feed_id, self_url, start, max_results, len(records))
        for record in page:
            lines += _entry(record, base)
        lines.append("</feed>")
        return 200, ("\n".join(lines) + "\n").encode("utf-8")

    def _pdf(self, raw_id: str, truncate: bool, log: Any) -> None:
        if raw_id.endswith(".pdf"):
            raw_id = raw_id[: -len(".pdf")]
        try:
            wanted = parse_arxiv_id(raw_id)
        except InputError:
            log(404)
            self._send(404, b"no such paper\n", "text/plain")
            return
        record = self._server.catalogue.get(wanted)
        if record is None or record.pdf_path is None or not record.pdf_path.is_file():
            log(404)
            self._send(404, f"no PDF for {wanted}\n".encode(), "text/plain")
            return
        data = record.pdf_path.read_bytes()
        log(200)
        if not truncate:
            self._send(200, data, "application/pdf")
            return
        # A connection cut mid-body: no Content-Length, half the bytes, then close.
        self.send_response(200)
        self.send_header("Content-Type", "application/pdf")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.close_connection = True


# ----------------------------------------------------------------------- running


def _make_server(
    data_dir: DataDirs, host: str, port: int, faults: dict[str, Any]
) -> FakeArxivServer:
    unknown = set(faults) - FAULT_NAMES
    if unknown:
        raise ConfigError(f"unknown fault switch(es): {', '.join(sorted(unknown))}")
    return FakeArxivServer((host, port), load_catalogue(data_dir), Faults(**faults))


@contextlib.contextmanager
def serve_in_thread(
    data_dir: DataDirs = None, port: int = 0, host: str = "127.0.0.1", **faults: Any
) -> Iterator[FakeArxivServer]:
    """Run the server on a background thread for the ``with`` block (port 0: any free port)."""
    server = _make_server(data_dir, host, port, faults)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        daemon=True,
        name=f"fakearxiv:{server.server_address[1]}",
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def serve_forever(
    data_dir: DataDirs = None, host: str = "127.0.0.1", port: int = 8765, **faults: Any
) -> None:
    """Serve until interrupted (Ctrl-C); what ``paramminer serve-arxiv`` should call."""
    server = _make_server(data_dir, host, port, faults)
    logger.info("fakearxiv: %d papers at %s", len(server.catalogue), server.base_url)
    print(f"fakearxiv serving {len(server.catalogue)} papers at {server.base_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m paramminer.fakearxiv``: serve a data folder with optional faults."""
    parser = argparse.ArgumentParser(prog="fakearxiv", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        action="append",
        type=Path,
        help="data folder (repeatable, later ones layer); default: the bundled sample",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--rate-limit-every", type=int, default=0, metavar="N")
    parser.add_argument("--retry-after", type=float, default=1.0, metavar="S")
    parser.add_argument("--retry-after-http-date", action="store_true")
    parser.add_argument("--unavailable-every", type=int, default=0, metavar="N")
    parser.add_argument("--slow-seconds", type=float, default=0.0, metavar="S")
    parser.add_argument("--slow-count", type=int, default=None, metavar="K")
    parser.add_argument("--drop-every", type=int, default=0, metavar="N")
    parser.add_argument("--truncate-pdfs", action="store_true")
    parser.add_argument("--truncate-every", type=int, default=0, metavar="N")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    faults = {name: getattr(args, name) for name in FAULT_NAMES}
    try:
        serve_forever(args.data, args.host, args.port, **faults)
    except (ConfigError, InputError, OSError) as exc:
        print(f"fakearxiv: {exc}", flush=True)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
