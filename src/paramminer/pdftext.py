"""Read a PDF's text page by page with pypdf, normalize it, and cache it by sha256.

The cache holds pypdf's raw page text, so a change to normalization or to the
rules never needs the PDF again: a PDF is parsed once per machine.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import re
import signal
import tempfile
import threading
import time
import unicodedata
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import pypdf
from pypdf.errors import FileNotDecryptedError, PdfReadError, PdfStreamError

from paramminer.errors import InputError, PdfError

CACHE_FORMAT = 1
NORMALIZATION_VERSION = "norm@1"
MIN_TEXT_CHARS = 200  # fewer characters over the whole PDF: treated as having no text layer

_ODD_SPACES = re.compile(r"[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\t\f\v]+")
_ZERO_WIDTH = re.compile(r"[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_MULTI_SPACE = re.compile(r" {2,}")
_SMALL_CAPS = re.compile(r"/([a-z])\.sc(?:\s(?=/[a-z]\.sc))?")
_GLUED_PARAMS = re.compile(r"(?<=\d[KMBT])(?=(?:parameters|params)\b)")
_KEY_VALUE_COMMA = re.compile(r"(?<==\d),(?=\d)|(?<==\d\d),(?=\d)|(?<==\d\d\d),(?=\d)")
_HYPHEN_BREAK = re.compile(r"(?<=[a-z])-[ ]*\n[ ]*(?=[a-z])")
_ARXIV_STAMP = re.compile(
    r"arXiv:\s*(?P<id>\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v(?P<version>\d+))?"
    r"\s*\[(?P<category>[\w.\-]+)\]\s*(?P<day>\d{1,2})\s+(?P<month>[A-Z][a-z]{2})[a-z]*\s+(?P<year>\d{4})"
)
_MONTHS = {m: i for i, m in enumerate(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1)}

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArxivStamp:
    """The vertical margin stamp arXiv prints on page 1: id, version, category, date."""

    arxiv_id: str
    version: int | None
    category: str
    date: str  # YYYY-MM-DD


@dataclass
class PdfText:
    """A PDF's text: raw pages as pypdf gave them, and metadata about the parse."""

    sha256: str
    raw_pages: list[str]
    title: str = ""  # the PDF's own /Title metadata, when it has a usable one
    parse_seconds: float = 0.0
    from_cache: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def pages(self) -> list[str]:
        """Normalized page texts (1-based page i is pages[i-1])."""
        return [normalize_text(page) for page in self.raw_pages]


def normalize_text(text: str) -> str:
    """NFKC (ligatures split), soft hyphens dropped, line-end hyphenation joined, spaces folded."""
    text = unicodedata.normalize("NFKC", text)
    text = _ZERO_WIDTH.sub("", text)
    text = _ODD_SPACES.sub(" ", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _HYPHEN_BREAK.sub("", text)
    text = _SMALL_CAPS.sub(r"\1", text)  # pypdf's small-caps glyphs: "R/e.sc /t.sc" -> "Ret"
    text = _GLUED_PARAMS.sub(" ", text)  # "355Mparameters" (lost space) -> "355M parameters"
    text = _KEY_VALUE_COMMA.sub(", ", text)  # "A=16,355M" (lost space) -> "A=16, 355M"
    text = _MULTI_SPACE.sub(" ", text)
    return text


def find_arxiv_stamp(first_page_text: str) -> ArxivStamp | None:
    """Read arXiv's margin stamp ("arXiv:2204.02311v5 [cs.CL] 5 Oct 2022") if present."""
    match = _ARXIV_STAMP.search(first_page_text)
    if not match:
        return None
    month = _MONTHS.get(match["month"][:3])
    if month is None:
        return None
    version = int(match["version"]) if match["version"] else None
    date = f"{int(match['year']):04d}-{month:02d}-{int(match['day']):02d}"
    return ArxivStamp(match["id"], version, match["category"], date)


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class TextCache:
    """Raw page texts on disk, one gzip'd JSON file per PDF, keyed by the PDF's sha256."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        """Where the text of the PDF with this hash lives."""
        return self.root / sha256[:2] / f"{sha256}.json.gz"

    def get(self, sha256: str) -> list[str] | None:
        """The cached raw pages, or None when absent or unreadable."""
        entry = self.get_entry(sha256)
        return None if entry is None else entry[0]

    def get_entry(self, sha256: str) -> tuple[list[str], dict[str, str]] | None:
        """(raw pages, metadata) from the cache, or None when absent or unreadable."""
        path = self.path_for(sha256)
        try:
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                payload = json.load(handle)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, EOFError, zlib.error) as exc:  # truncated or corrupt gzip
            log.warning("ignoring unreadable text cache %s: %s", path, exc)
            return None
        if not isinstance(payload, dict):
            return None
        if payload.get("format") != CACHE_FORMAT or payload.get("sha256") != sha256:
            return None
        pages = payload.get("pages")
        if not isinstance(pages, list):
            return None
        meta = payload.get("meta") or {}
        return [str(p) for p in pages], {str(k): str(v) for k, v in meta.items()}

    def put(self, sha256: str, raw_pages: list[str], meta: dict[str, str] | None = None) -> None:
        """Store raw pages (and PDF metadata) atomically: temp file, then rename."""
        path = self.path_for(sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"format": CACHE_FORMAT, "sha256": sha256, "pages": raw_pages,
                   "meta": meta or {}}
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json.gz")
        try:
            with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
                gz.write(json.dumps(payload, ensure_ascii=False).encode("utf-8"))
            Path(tmp_name).replace(path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise


class _ParseTimeout(BaseException):
    """BaseException, because pypdf's text extractor swallows `except Exception` mid-parse."""


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise _ParseTimeout in this (main) thread after `seconds`; no-op when None or 0.

    Also a no-op outside the main thread, where signals cannot be used (parsing without a
    limit beats failing every PDF as "damaged").
    """
    if (not seconds or not hasattr(signal, "SIGALRM")
            or threading.current_thread() is not threading.main_thread()):
        yield
        return

    def _on_alarm(signum: int, frame: FrameType | None) -> None:
        raise _ParseTimeout

    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def parse_pdf(path: Path, timeout: float | None = None) -> tuple[list[str], dict[str, str]]:
    """Raw text of every page and the metadata of the PDF at `path`.

    Raises InputError/PdfError with a one-line reason for anything unusable.
    """
    name = str(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(1024)
    except FileNotFoundError:
        raise InputError(name, "no such file") from None
    except IsADirectoryError:
        raise InputError(name, "is a directory") from None
    except OSError as exc:
        raise InputError(name, f"cannot read: {exc.strerror or exc}") from None
    if not head:
        raise PdfError(name, "empty file (0 bytes)")
    if b"%PDF-" not in head:
        raise PdfError(name, "not a PDF (no %PDF- header)")
    try:
        with time_limit(timeout), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = pypdf.PdfReader(path, strict=False)
            if reader.is_encrypted:
                try:
                    if not reader.decrypt(""):
                        raise PdfError(name, "encrypted PDF (needs a password)")
                except (NotImplementedError, FileNotDecryptedError) as exc:
                    raise PdfError(name, f"encrypted PDF ({exc})") from None
            pages = [_page_text(page) for page in reader.pages]
            meta = _metadata(reader)
    except _ParseTimeout:
        raise PdfError(name, f"parsing took longer than {timeout:g}s (time limit)") from None
    except PdfError:
        raise
    except FileNotDecryptedError:
        raise PdfError(name, "encrypted PDF (needs a password)") from None
    except (PdfReadError, PdfStreamError) as exc:
        raise PdfError(name, f"damaged or truncated PDF ({exc})") from None
    except (ValueError, KeyError, TypeError, AttributeError, IndexError, AssertionError,
            RecursionError, OSError, ZeroDivisionError) as exc:
        # pypdf surfaces many malformed-file cases as builtin exceptions
        raise PdfError(name, f"damaged PDF ({type(exc).__name__}: {exc})") from None
    if not pages:
        raise PdfError(name, "PDF has no pages")
    if sum(len(page.strip()) for page in pages) < MIN_TEXT_CHARS:
        raise PdfError(name, "no text layer (scanned or image-only PDF; OCR it first)")
    return pages, meta


_JUNK_TITLE = re.compile(r"(?i)^(untitled|microsoft word|doi:|arxiv|\S+\.(?:dvi|tex|docx?|pdf))")


def _metadata(reader: pypdf.PdfReader) -> dict[str, str]:
    try:
        info = reader.metadata
        title = str(info.title or "").strip() if info is not None else ""
    except (ValueError, KeyError, TypeError, AttributeError, PdfReadError):
        return {}
    if len(title) < 8 or _JUNK_TITLE.match(title):
        return {}
    return {"title": " ".join(title.split())}


def _page_text(page: pypdf.PageObject) -> str:
    try:
        return str(page.extract_text())
    except (ValueError, KeyError, TypeError, AttributeError, IndexError, PdfReadError) as exc:
        log.debug("page text failed: %s", exc)
        return ""


def load_pdf_text(
    path: Path, cache: TextCache | None, timeout: float | None = None, sha256: str | None = None
) -> PdfText:
    """Text of the PDF at `path`, from the cache when present, else parsed and cached."""
    digest = sha256 or file_sha256(path)
    if cache is not None:
        cached = cache.get_entry(digest)
        if cached is not None:
            return PdfText(digest, cached[0], title=cached[1].get("title", ""), from_cache=True)
    started = time.perf_counter()
    raw_pages, meta = parse_pdf(path, timeout)
    elapsed = time.perf_counter() - started
    if cache is not None:
        cache.put(digest, raw_pages, meta)
    return PdfText(digest, raw_pages, title=meta.get("title", ""), parse_seconds=elapsed)
