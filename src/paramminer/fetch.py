"""Download arXiv PDFs politely and keep them in a content-addressed store.

``PdfFetcher.fetch`` downloads ``{base_url}/pdf/<id>[vN]`` over one httpx
connection, retries what is worth retrying (connection errors, 429, 5xx,
truncated bodies) with exponential backoff and jitter, honouring
``Retry-After``, and never retries another 4xx. A body is stored only once it
is verified (``%PDF-`` header, ``%%EOF`` near the end, pypdf opens it and finds
a page), at ``<pdf_dir>/<sha256[:2]>/<sha256>.pdf``. The bytes go to a hidden
temporary file in the same folder first and are then ``os.replace``d into
place, so a kill at any moment leaves no partial file under a final name (at
worst a ``.*.part`` file, which :func:`remove_partial_files` sweeps away).
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import io
import logging
import os
import random
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import ClassVar

import httpx
from pypdf import PdfReader

from paramminer import __version__
from paramminer.arxiv_ids import ArxivId, parse_arxiv_id
from paramminer.errors import InputError, ParamminerError

__all__ = [
    "FetchError",
    "FetchedPdf",
    "PdfFetcher",
    "RequestSpacer",
    "backoff_seconds",
    "fetch_pdf",
    "parse_retry_after",
    "remove_partial_files",
    "store_pdf",
    "stored_path",
    "user_agent",
    "verify_pdf",
]

logger = logging.getLogger(__name__)

EOF_WINDOW = 1024
"""The PDF spec puts ``%%EOF`` within the last 1024 bytes of a file."""
PARTIAL_SUFFIX = ".part"


class FetchError(ParamminerError):
    """A PDF could not be fetched or failed verification; ``retryable`` says if later may work."""

    def __init__(
        self,
        url: str,
        reason: str,
        retryable: bool = False,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after  # seconds the server asked us to wait, if it did


@dataclass(frozen=True)
class FetchedPdf:
    """A verified PDF in the store."""

    arxiv_id: str  # without version
    version: int | None  # the version fetched, when the request or URL names it
    sha256: str
    path: Path
    bytes: int


def polite_client(agent: str, timeout: float) -> httpx.Client:
    """An httpx client as arXiv asks: one connection, a descriptive User-Agent, timeouts."""
    return httpx.Client(
        headers={"User-Agent": agent},
        timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
        follow_redirects=True,
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
    )


def user_agent(contact: str | None = None) -> str:
    """``paramminer/<version> (mailto:<contact>)``: arXiv asks clients to say who they are."""
    if contact:
        return f"paramminer/{__version__} (mailto:{contact})"
    return f"paramminer/{__version__}"


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date).

    Returns None when the header is absent or unreadable; never negative.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def backoff_seconds(
    attempt: int, *, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Exponential backoff with "equal jitter": between half and all of ``base * 2**attempt``.

    Jitter keeps several clients that failed together from retrying together.
    """
    ceiling = min(cap, base * 2.0**attempt)
    fraction: float = (rng or random.Random()).random()
    return ceiling / 2 + fraction * ceiling / 2


class RequestSpacer:
    """Lets at most one request start per ``interval`` seconds, measured start to start.

    The lock is held while sleeping, so threads sharing a spacer also make their
    requests one at a time. :meth:`for_url` gives the one spacer of a host for the whole
    process: API and PDF requests to one host share it (arXiv counts requests per user,
    whatever they ask for).
    """

    _by_host: ClassVar[dict[str, RequestSpacer]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_start: float | None = None

    @classmethod
    def for_url(cls, url: str) -> RequestSpacer:
        """The process-wide spacer of the host (scheme, name and port) `url` points at."""
        parts = httpx.URL(url)
        host = f"{parts.scheme}://{parts.host}:{parts.port or ''}"
        with cls._registry_lock:
            return cls._by_host.setdefault(host, RequestSpacer())

    def wait(self, interval: float) -> float:
        """Sleep until ``interval`` has passed since the previous start; return the sleep."""
        with self._lock:
            slept = 0.0
            if self._last_start is not None:
                slept = self._last_start + interval - time.monotonic()
                if slept > 0:
                    time.sleep(slept)
            self._last_start = time.monotonic()
            return max(0.0, slept)


def verify_pdf(data: bytes, url: str = "<bytes>") -> int:
    """Check ``data`` is a whole PDF and return its page count, else raise ``FetchError``.

    A missing header means the server sent something else (not retryable); a
    missing ``%%EOF`` or an unreadable file usually means a cut download (retryable).
    """
    if not data.startswith(b"%PDF-"):
        head = data[:40].decode("latin-1").replace("\n", " ").replace("\r", " ")
        raise FetchError(url, f"not a PDF (starts with {head!r})", retryable=False)
    if b"%%EOF" not in data[-EOF_WINDOW:]:
        raise FetchError(url, f"truncated PDF: no %%EOF near the end ({len(data)} bytes)", True)
    try:
        pages = len(PdfReader(io.BytesIO(data)).pages)
    except Exception as exc:  # pypdf raises many exception types on broken files
        raise FetchError(url, f"pypdf cannot read it: {type(exc).__name__}: {exc}", True) from exc
    if pages < 1:
        raise FetchError(url, "PDF has no pages", retryable=False)
    return pages


def stored_path(pdf_dir: Path, sha256: str) -> Path:
    """Where the store keeps the file with this digest."""
    return pdf_dir / sha256[:2] / f"{sha256}.pdf"


def store_pdf(data: bytes, pdf_dir: Path) -> tuple[str, Path]:
    """Write ``data`` atomically under its sha256; return (digest, path). Idempotent."""
    digest = hashlib.sha256(data).hexdigest()
    final = stored_path(pdf_dir, digest)
    if final.is_file() and final.stat().st_size == len(data):
        return digest, final
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(
        dir=final.parent, prefix=f".{digest[:16]}.", suffix=PARTIAL_SUFFIX
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temp_name).replace(final)  # os.replace: atomic within one filesystem
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            Path(temp_name).unlink()
        raise
    return digest, final


def remove_partial_files(pdf_dir: Path) -> int:
    """Delete temporary files a killed run left in the store; return how many."""
    removed = 0
    for partial in pdf_dir.glob(f"*/.*{PARTIAL_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
            removed += 1
    return removed


def _version_from_url(url: str) -> int | None:
    last = url.rstrip("/").split("/pdf/", 1)[-1].removesuffix(".pdf")
    try:
        return parse_arxiv_id(last).version
    except InputError:
        return None


class PdfFetcher:
    """Fetches PDFs from one arXiv-like host into ``pdf_dir``; use as a context manager.

    Defaults are polite for the real arxiv.org: one connection, ``min_delay_seconds``
    between request starts, at most ``max_attempts`` tries with backoff from
    ``backoff_base`` seconds up to ``backoff_max``, and a refusal to wait longer
    than ``max_retry_after`` when a server asks for it (that raises a retryable error).
    """

    def __init__(
        self,
        pdf_dir: Path | str,
        *,
        base_url: str = "https://arxiv.org",
        contact: str | None = None,
        min_delay_seconds: float = 1.0,
        max_attempts: int = 4,
        backoff_base: float = 2.0,
        backoff_max: float = 60.0,
        max_retry_after: float = 300.0,
        timeout: float = 60.0,
        max_bytes: int = 200 * 1024 * 1024,
        seed: int | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        self.pdf_dir = Path(pdf_dir)
        self.base_url = base_url.rstrip("/")
        self.min_delay_seconds = min_delay_seconds
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self.max_bytes = max_bytes
        self._rng = random.Random(seed)
        self._client = polite_client(user_agent(contact), timeout)

    def __enter__(self) -> PdfFetcher:
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
        self._client.close()

    def url_for(self, arxiv_id: ArxivId) -> str:
        """``{base_url}/pdf/<id>[vN]``."""
        return f"{self.base_url}/pdf/{arxiv_id.versioned}"

    def fetch(self, arxiv_id: str | ArxivId, *, url: str | None = None) -> FetchedPdf:
        """Download, verify and store one paper's PDF (``url`` overrides the default URL).

        Raises ``FetchError``: ``retryable=True`` when giving up on something that
        may work later (5xx, 429, cut connections, truncated bodies).
        """
        parsed = arxiv_id if isinstance(arxiv_id, ArxivId) else parse_arxiv_id(arxiv_id)
        target = url or self.url_for(parsed)
        last_error: FetchError | None = None
        spacer = RequestSpacer.for_url(target)
        for attempt in range(self.max_attempts):
            spacer.wait(self.min_delay_seconds)
            try:
                data, final_url = self._download(target)
                verify_pdf(data, target)
            except FetchError as error:
                if not error.retryable:
                    raise
                last_error = error
                wait = self._wait_after(error, attempt)
            else:
                digest, path = store_pdf(data, self.pdf_dir)
                version = parsed.version or _version_from_url(final_url)
                logger.info("fetched %s (%d bytes) -> %s", target, len(data), path)
                return FetchedPdf(parsed.id, version, digest, path, len(data))
            if attempt + 1 < self.max_attempts:
                logger.warning("retrying in %.1fs: %s", wait, last_error)
                time.sleep(wait)
        assert last_error is not None
        raise FetchError(
            target,
            f"gave up after {self.max_attempts} attempts: {last_error.reason}",
            retryable=True,
            status=last_error.status,
        )

    def _wait_after(self, error: FetchError, attempt: int) -> float:
        backoff = backoff_seconds(
            attempt, base=self.backoff_base, cap=self.backoff_max, rng=self._rng
        )
        retry_after = error.retry_after
        if retry_after is None:
            return backoff
        if retry_after > self.max_retry_after:
            raise FetchError(
                error.url,
                f"{error.reason}; server asks to wait {retry_after:.0f}s "
                f"(more than max_retry_after={self.max_retry_after:.0f}s)",
                retryable=True,
                status=error.status,
            )
        return float(retry_after)

    def _download(self, url: str) -> tuple[bytes, str]:
        try:
            with self._client.stream("GET", url) as response:
                status = response.status_code
                if status == 429 or status >= 500:
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                    raise FetchError(url, f"HTTP {status}", True, status, retry_after)
                if status != 200:
                    raise FetchError(url, f"HTTP {status}", retryable=False, status=status)
                declared = response.headers.get("Content-Length")
                if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
                    raise FetchError(url, f"PDF larger than {self.max_bytes} bytes", False)
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise FetchError(url, f"PDF larger than {self.max_bytes} bytes", False)
                    chunks.append(chunk)
                return b"".join(chunks), str(response.url)
        except httpx.TransportError as exc:
            # Connect/read timeouts, refused or dropped connections, protocol errors.
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            raise FetchError(url, reason, retryable=True) from exc


def fetch_pdf(
    arxiv_id: str | ArxivId,
    pdf_dir: Path | str,
    *,
    base_url: str = "https://arxiv.org",
    contact: str | None = None,
    url: str | None = None,
) -> FetchedPdf:
    """One-off :meth:`PdfFetcher.fetch` with default politeness settings."""
    with PdfFetcher(pdf_dir, base_url=base_url, contact=contact) as fetcher:
        return fetcher.fetch(arxiv_id, url=url)
