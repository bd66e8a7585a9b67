"""Read a PDF's text page by page (pdfium or pypdf), normalize it, and cache it by sha256.

The cache holds each backend's raw page text (already cleaned of invalid code points),
keyed by the PDF's sha256 and the backend with its version, so a change to
normalization or to the rules never needs the PDF again, and switching backends never
serves another backend's text. A page whose text looks broken under the chosen backend
(empty, or words glued together) is read again with the other one.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import logging
import os
import re
import tempfile
import time
import unicodedata
import warnings
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, Protocol

from paramminer.alarms import alarm
from paramminer.config import PDF_BACKENDS
from paramminer.errors import InputError, PdfError

if TYPE_CHECKING:  # both libraries load on first use: the CLI starts without them
    import pypdfium2

CACHE_FORMAT = 2
TEXT_VERSION = "text@2"  # cleaning and per-page fallback at parse time; bump when they change
NORMALIZATION_VERSION = "norm@1"
DEFAULT_BACKEND = PDF_BACKENDS[0]
MIN_TEXT_CHARS = 200  # fewer characters over the whole PDF: treated as having no text layer
GLUE_RUN = 18  # a run of this many lower-case letters is rarely one English word ...
GLUED_PAGE_RUNS = 3  # ... and a page with this many such runs has lost its spaces
UNMAPPED_PAGE_GLYPHS = 20  # a page with this many glyphs without Unicode, making up ...
UNMAPPED_PAGE_SHARE = 0.05  # ... this share of its visible characters, is partly unreadable
MAX_REASON_CHARS = 200

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
_SURROGATE = re.compile("[\ud800-\udfff]")
# C0/C1 controls but tab and line ends, DEL, and Unicode's noncharacters (U+FDD0..U+FDEF and
# the last two code points of every plane): not text, and some stores refuse them
_INVALID = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef"
    + "".join(f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(17))
    + "]"
)
_GLUE = re.compile(f"[a-z]{{{GLUE_RUN},}}")
_UNMAPPED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
# pdfium's mark for a line-end hyphen, whose line break it removed: "non\ufffelinear"
_PDFIUM_HYPHEN = re.compile("(?<=\\w)\ufffe(?=\\w)")

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
    """A PDF's text: raw pages as the backend gave them, and metadata about the parse."""

    sha256: str
    raw_pages: list[str]
    title: str = ""  # the PDF's own /Title metadata, when it has a usable one
    parse_seconds: float = 0.0
    from_cache: bool = False
    warnings: list[str] = field(default_factory=list)
    backend: str = DEFAULT_BACKEND

    @property
    def pages(self) -> list[str]:
        """Normalized page texts (1-based page i is pages[i-1])."""
        return [normalize_text(page) for page in self.raw_pages]


def clean_text(text: str) -> str:
    """Valid Unicode text only: surrogate pairs joined, lone surrogates U+FFFD, controls spaces."""
    if _SURROGATE.search(text):
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return _INVALID.sub(" ", text)


def normalize_text(text: str) -> str:
    """NFKC (ligatures split), soft hyphens dropped, line-end hyphenation joined, spaces folded."""
    text = unicodedata.normalize("NFKC", clean_text(text))
    text = _ZERO_WIDTH.sub("", text)
    text = _ODD_SPACES.sub(" ", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _HYPHEN_BREAK.sub("", text)
    text = _SMALL_CAPS.sub(r"\1", text)  # pypdf's small-caps glyphs: "R/e.sc /t.sc" -> "Ret"
    text = _GLUED_PARAMS.sub(" ", text)  # "355Mparameters" (lost space) -> "355M parameters"
    text = _KEY_VALUE_COMMA.sub(", ", text)  # "A=16,355M" (lost space) -> "A=16, 355M"
    text = _MULTI_SPACE.sub(" ", text)
    return text


def unmapped_glyphs(text: str) -> int:
    """How many control characters a raw text holds: glyphs the PDF gave no Unicode for
    (pdfium passes on the codes of Type 3 fonts, as in many plots, where pypdf reads the
    glyph names)."""
    return len(_UNMAPPED.findall(text))


def glued_runs(text: str) -> int:
    """How many runs of GLUE_RUN+ lower-case letters a text holds (words that lost their spaces)."""
    return len(_GLUE.findall(text))


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


@functools.cache
def backend_version(backend: str) -> str:
    """The installed version of a backend's library ("pypdf 7.1.1", "pypdfium2 5.15.2")."""
    package = {"pdfium": "pypdfium2", "pypdf": "pypdf"}[_check_backend(backend)]
    return f"{package} {metadata.version(package)}"


def text_identity(backend: str) -> str:
    """What made a cached text: the backend, its fallback, their versions, the parse rules."""
    fallback = _other(backend)
    return f"{backend_version(backend)}; fallback {backend_version(fallback)}; {TEXT_VERSION}"


def _check_backend(backend: str) -> str:
    if backend not in PDF_BACKENDS:
        raise ValueError(f"unknown PDF backend {backend!r} (one of {', '.join(PDF_BACKENDS)})")
    return backend


def _other(backend: str) -> str:
    return next(b for b in PDF_BACKENDS if b != _check_backend(backend))


class TextCache:
    """Raw page texts on disk, one gzip'd JSON file per PDF and backend, keyed by sha256."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str, backend: str = DEFAULT_BACKEND) -> Path:
        """Where the text the backend gave for the PDF with this hash lives."""
        return self.root / sha256[:2] / f"{sha256}.{_check_backend(backend)}.json.gz"

    def get(self, sha256: str, backend: str = DEFAULT_BACKEND) -> list[str] | None:
        """The cached raw pages, or None when absent, unreadable or made by other versions."""
        entry = self.get_entry(sha256, backend)
        return None if entry is None else entry[0]

    def get_entry(
        self, sha256: str, backend: str = DEFAULT_BACKEND
    ) -> tuple[list[str], dict[str, str]] | None:
        """(raw pages, metadata) from the cache, or None when absent, unreadable or stale."""
        path = self.path_for(sha256, backend)
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
        if (payload.get("format") != CACHE_FORMAT or payload.get("sha256") != sha256
                or payload.get("text") != text_identity(backend)):
            return None
        pages = payload.get("pages")
        if not isinstance(pages, list):
            return None
        meta = payload.get("meta") or {}
        return [str(p) for p in pages], {str(k): str(v) for k, v in meta.items()}

    def put(self, sha256: str, raw_pages: list[str], meta: dict[str, str] | None = None,
            backend: str = DEFAULT_BACKEND) -> None:
        """Store raw pages (and PDF metadata) atomically: temp file, then rename."""
        path = self.path_for(sha256, backend)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"format": CACHE_FORMAT, "sha256": sha256, "text": text_identity(backend),
                   "pages": raw_pages, "meta": meta or {}}
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


class _Alarm:
    """Whether the running time limit has fired: ctypes wraps an exception raised while it
    converts arguments (ctypes.ArgumentError), so the flag is checked between pages too."""

    expired = False


def _check_alarm() -> None:
    if _Alarm.expired:
        raise _ParseTimeout


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise _ParseTimeout in this (main) thread after `seconds`; no-op when None or 0.

    Also a no-op outside the main thread, where signals cannot be used (parsing without a
    limit beats failing every PDF as "damaged"). Python handles the signal between two
    calls into pdfium, so one long pdfium call (one page) can overrun the limit.
    """
    if not seconds:
        yield
        return
    _Alarm.expired = False
    try:
        with alarm(seconds, _expire_parse):
            yield
    finally:
        _Alarm.expired = False


def _expire_parse() -> NoReturn:
    _Alarm.expired = True
    raise _ParseTimeout


def one_line(text: object) -> str:
    """A message on one line, at most MAX_REASON_CHARS long."""
    line = " ".join(str(text).split())
    return line if len(line) <= MAX_REASON_CHARS else line[: MAX_REASON_CHARS - 3] + "..."


class _PageFailed(Exception):
    """A backend could not give a page's text; `reason` is one line. `retry` is False when
    the other backend must not try: the page is over a limit that guards memory."""

    def __init__(self, reason: str, retry: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


# pypdf's limits that guard memory (decompression bombs, huge images): the page is given up,
# never handed to pdfium, which has no such limits
_MEMORY_LIMIT = re.compile(r"(?i)decompress|output length|buffer|image|declared size|decoding")


class _Document(Protocol):
    """An open PDF in one backend."""

    name: str

    def __len__(self) -> int: ...

    def page_text(self, index: int) -> str:
        """Raw text of page `index` (0-based), not yet cleaned; raises _PageFailed."""
        ...

    def title(self) -> str:
        """The /Title metadata, or ""."""
        ...

    def close(self) -> None:
        """Free the document."""
        ...


class _PypdfDocument:
    """A PDF opened with pypdf."""

    name = "pypdf"

    def __init__(self, path: Path, label: str) -> None:
        import pypdf
        from pypdf.errors import FileNotDecryptedError

        self.reader = pypdf.PdfReader(path, strict=False)
        if self.reader.is_encrypted:
            try:
                if not self.reader.decrypt(""):
                    raise PdfError(label, "encrypted PDF (needs a password)")
            except (NotImplementedError, FileNotDecryptedError) as exc:
                raise PdfError(label, f"encrypted PDF ({one_line(exc)})") from None
        self.count = len(self.reader.pages)  # walks the page tree: its limits count as opening

    def __len__(self) -> int:
        return self.count

    def page_text(self, index: int) -> str:
        """pypdf's text of one page; any failure of its extractor is this page's alone."""
        try:
            return str(self.reader.pages[index].extract_text())
        except MemoryError:
            raise  # over the worker's memory limit: the job's failure, never handed to pdfium
        except RecursionError:
            raise _PageFailed("pypdf: nesting too deep") from None
        except Exception as exc:  # noqa: BLE001 - pypdf raises many types on malformed pages
            kind = type(exc).__name__
            bomb = kind == "LimitReachedError" and bool(_MEMORY_LIMIT.search(str(exc)))
            raise _PageFailed(f"pypdf: {kind}: {one_line(exc)}", retry=not bomb) from None

    def title(self) -> str:
        """The /Title metadata, or "" when it is absent or unreadable."""
        try:
            info = self.reader.metadata
            return str(info.title or "") if info is not None else ""
        except Exception:  # noqa: BLE001 - metadata is optional: a damaged /Info loses nothing
            return ""

    def close(self) -> None:
        """pypdf holds no resources beyond memory."""


class _PdfiumDocument:
    """A PDF opened with pdfium (pypdfium2)."""

    name = "pdfium"

    def __init__(self, path: Path, label: str) -> None:
        import pypdfium2

        try:
            self.document: pypdfium2.PdfDocument = pypdfium2.PdfDocument(path)
        except pypdfium2.PdfiumError as exc:
            if "password" in str(exc).lower():
                raise PdfError(label, "encrypted PDF (needs a password)") from None
            raise PdfError(label, f"damaged PDF (pdfium: {_pdfium_reason(exc)})") from None

    def __len__(self) -> int:
        return len(self.document)

    def page_text(self, index: int) -> str:
        """pdfium's text of one page, with its marks turned into what pypdf would give."""
        import pypdfium2

        try:
            page = self.document[index]
            try:
                textpage = page.get_textpage()
                # explicit bounds: pypdfium2 4.x otherwise reads the page another way, whose
                # text does not line up with the glyph indices _inline_shifted_lines uses
                text = textpage.get_text_range(0, textpage.count_chars())
                text = _inline_shifted_lines(textpage, text)
                textpage.close()
            finally:
                page.close()
        except pypdfium2.PdfiumError as exc:
            raise _PageFailed(f"pdfium: {_pdfium_reason(exc)}") from None
        except Exception as exc:  # noqa: BLE001 - e.g. ctypes errors: this page's alone
            raise _PageFailed(f"pdfium: {type(exc).__name__}: {one_line(exc)}") from None
        return _PDFIUM_HYPHEN.sub("-\n", text.replace("\r\n", "\n"))

    def title(self) -> str:
        """The /Title metadata, or ""."""
        try:
            return str(self.document.get_metadata_value("Title"))
        except Exception:  # noqa: BLE001 - metadata is optional
            return ""

    def close(self) -> None:
        """Free pdfium's memory for this document now."""
        self.document.close()


def _inline_shifted_lines(textpage: pypdfium2.PdfTextPage, text: str) -> str:
    """pdfium's text with super- and subscripts back on their line, as pypdf gives them.

    pdfium starts a new line wherever the baseline moves ("S\\r\\n2\\r\\n-MLP", "10\\r\\n6");
    a break is undone when the glyphs on both sides sit side by side on overlapping line
    boxes with shifted baselines: "S2-MLP", "×106", like pypdf's flattened text.
    """
    if "\r\n" not in text or len(text) != textpage.count_chars():
        return text  # no break, or astral characters: text and glyph indices differ
    parts: list[str] = []
    start = 0
    for match in _PDFIUM_BREAK.finditer(text):
        joint = _joint(textpage, match.start() - 1, match.end())
        if joint is not None:
            parts += [text[start:match.start()], match[1] or joint]
            start = match.end()
    return "".join(parts) + text[start:]


_PDFIUM_BREAK = re.compile(r"(?<=\S)\r\n( ?)(?=\S)")
SHIFT_MIN = 0.1  # baseline shift, in line heights, that makes pdfium break a line
OVERLAP_MIN = 0.3  # line boxes on both sides must overlap this much (in line heights)
GAP_MAX = 0.6  # and the glyphs be this close (in line heights) ...
GAP_SPACE = 0.25  # ... a gap wider than this is a space


def _joint(textpage: pypdfium2.PdfTextPage, before: int, after: int) -> str | None:
    """What joins glyphs `before` and `after` across pdfium's line break ("" or " "), or None
    when the break is a real one."""
    _, bottom, right, top = textpage.get_charbox(before, loose=True)
    next_left, next_bottom, _, next_top = textpage.get_charbox(after, loose=True)
    height = min(top - bottom, next_top - next_bottom)
    if height <= 0:
        return None
    gap = next_left - right
    overlap = min(top, next_top) - max(bottom, next_bottom)
    if not (-0.1 * height <= gap <= GAP_MAX * height and overlap >= OVERLAP_MIN * height):
        return None  # most breaks: the next line starts back at the left
    shift = abs(_baseline(textpage, before) - _baseline(textpage, after))
    if shift < SHIFT_MIN * height:
        return None
    return " " if gap > GAP_SPACE * height else ""


def _baseline(textpage: pypdfium2.PdfTextPage, index: int) -> float:
    import ctypes

    import pypdfium2.raw as pdfium_c

    x, y = ctypes.c_double(), ctypes.c_double()
    pdfium_c.FPDFText_GetCharOrigin(textpage, index, x, y)
    return float(y.value)


def _pdfium_reason(exc: Exception) -> str:
    """pdfium's message without its wrapping: "Failed to load document (PDFium: X)." -> "X"."""
    text = one_line(exc)
    inner = re.search(r"\(PDFium: (.*?)\)\.?$", text)
    return inner[1] if inner else text


_OPENERS: dict[str, Callable[[Path, str], _Document]] = {
    "pypdf": _PypdfDocument,
    "pdfium": _PdfiumDocument,
}


def parse_pdf(
    path: Path, timeout: float | None = None, backend: str = DEFAULT_BACKEND
) -> tuple[list[str], dict[str, str]]:
    """Raw text of every page and the metadata of the PDF at `path`, read with `backend`.

    Raises InputError/PdfError with a one-line reason for anything unusable.
    """
    name = str(path)
    _check_head(path, name)
    try:
        with time_limit(timeout), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                pages, meta, failed = _read(path, name, backend)
            except Exception:
                _check_alarm()  # the time limit fired inside a library, which re-raised it
                raise
    except _ParseTimeout:
        raise PdfError(name, f"parsing took longer than {timeout:g}s (time limit)") from None
    if not pages:
        raise PdfError(name, "PDF has no pages")
    if sum(len(page.strip()) for page in pages) < MIN_TEXT_CHARS:
        if failed:
            raise PdfError(name, f"no usable text: {len(failed)} of {len(pages)} pages failed "
                                 f"({failed[0]})")
        raise PdfError(name, "no text layer (scanned or image-only PDF; OCR it first)")
    return pages, meta


def _check_head(path: Path, name: str) -> None:
    """Refuse, with a reason, what cannot be a PDF before any parser sees it."""
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


def _read(path: Path, name: str, backend: str) -> tuple[list[str], dict[str, str], list[str]]:
    """Open with `backend` (the other one if it cannot), read every page, close.

    Returns the pages, the metadata (title; notes on pages read with the other backend or
    lost) and the notes on pages lost.
    """
    fallback = _other(backend)
    opened: list[str] = []
    unopened: PdfError | None = None
    try:
        document = _open(path, name, backend)
    except PdfError as exc:
        if "encrypted" in exc.reason:
            raise
        try:
            document = _open(path, name, fallback)
        except PdfError:
            raise exc from None
        opened = [f"{backend} could not open it ({exc.reason}); text from {fallback}"]
        unopened = exc
        backend, fallback = fallback, backend
    spare = _Spare(path, name, fallback)
    try:
        pages, notes, failed = _pages(document, spare)
        title = _usable_title(document.title())
    finally:
        document.close()
        spare.close()
    if unopened is not None and sum(len(page.strip()) for page in pages) < MIN_TEXT_CHARS:
        raise unopened  # the other library opened it but read nothing: the first reason holds
    notes = opened + notes
    meta = {"title": title} if title else {}
    if notes:
        meta["notes"] = "\n".join(notes)
    return pages, meta, failed


def _open(path: Path, name: str, backend: str) -> _Document:
    """The PDF opened with `backend`; a PdfError with a one-line reason when it cannot be."""
    try:
        return _OPENERS[_check_backend(backend)](path, name)
    except (InputError, _ParseTimeout):
        raise
    except RecursionError:
        raise PdfError(name, f"damaged PDF ({backend}: nesting too deep)") from None
    except MemoryError:
        raise  # over the worker's memory limit: the job's failure
    except Exception as exc:  # noqa: BLE001 - both libraries raise many types on malformed files
        _check_alarm()
        raise PdfError(name, _open_reason(backend, exc)) from None


def _open_reason(backend: str, exc: Exception) -> str:
    kind = type(exc).__name__
    if kind == "LimitReachedError":
        return f"PDF over pypdf's safety limits ({one_line(exc)})"
    if kind in ("PdfReadError", "PdfStreamError"):
        return f"damaged or truncated PDF ({one_line(exc)})"
    return f"damaged PDF ({backend}: {kind}: {one_line(exc)})"


class _Spare:
    """The other backend, opened only when a page needs it (and at most once)."""

    def __init__(self, path: Path, name: str, backend: str) -> None:
        self.path, self.label, self.name = path, name, backend
        self.document: _Document | None = None
        self.failed = False

    def page_text(self, index: int) -> tuple[str | None, str]:
        """The other backend's text of a page, or None and why it cannot give one."""
        if self.document is None and not self.failed:
            try:
                self.document = _open(self.path, self.label, self.name)
            except PdfError:
                self.failed = True
        if self.document is None or index >= len(self.document):
            return None, ""
        try:
            return self.document.page_text(index), ""
        except _PageFailed as exc:
            return None, exc.reason

    def close(self) -> None:
        """Close the other backend's document if it was opened."""
        if self.document is not None:
            self.document.close()


def _pages(document: _Document, spare: _Spare) -> tuple[list[str], list[str], list[str]]:
    """Every page's text from `document`; a broken page is read again with `spare`.

    Returns the pages, notes on every page replaced or lost, and those on pages lost.
    """
    pages: list[str] = []
    notes: list[str] = []
    failed: list[str] = []
    for index in range(len(document)):
        _check_alarm()
        retry = True
        try:
            text = document.page_text(index)
            problem = _page_problem(text)
        except _PageFailed as exc:
            text, problem, retry = "", exc.reason, exc.retry
        if problem:
            other, why = spare.page_text(index) if retry else (None, "")
            if other is not None and _better(other, text, problem):
                text = other
                notes.append(f"page {index + 1}: {problem}; text from {spare.name}")
            elif problem not in _LOOKS or (why and not text.strip()):
                failed.append(f"page {index + 1}: {problem}" + (f"; {why}" if why else ""))
                notes.append(failed[-1])
        pages.append(clean_text(text))
    return pages, notes, failed


_LOOKS = ("no text", "glued words", "unmapped glyphs")  # the problems _page_problem sees


def _page_problem(text: str) -> str:
    """Why a page's raw text looks broken ("" when it looks fine)."""
    if not text.strip():
        return "no text"
    if glued_runs(text) >= GLUED_PAGE_RUNS:
        return "glued words"
    unmapped = unmapped_glyphs(text)
    if unmapped >= UNMAPPED_PAGE_GLYPHS and unmapped >= UNMAPPED_PAGE_SHARE * _visible(text):
        return "unmapped glyphs"
    return ""


def _visible(text: str) -> int:
    return len(text) - sum(text.count(space) for space in " \n\r\t")


def _better(candidate: str, current: str, problem: str) -> bool:
    """Whether the other backend's text of a page beats the chosen backend's broken one."""
    if not candidate.strip():
        return False
    if not current.strip():
        return True
    if _page_problem(candidate) not in ("", problem):
        return False
    if problem == "glued words":
        return (glued_runs(candidate) * 2 <= glued_runs(current)
                and len(candidate.split()) >= len(current.split()))
    return unmapped_glyphs(candidate) * 2 <= unmapped_glyphs(current)


_JUNK_TITLE = re.compile(r"(?i)^(untitled|microsoft word|doi:|arxiv|\S+\.(?:dvi|tex|docx?|pdf))")


def _usable_title(raw: str) -> str:
    """The /Title metadata when it looks like a real title, else ""."""
    title = " ".join(clean_text(raw).split())
    if len(title) < 8 or _JUNK_TITLE.match(title):
        return ""
    return title


def load_pdf_text(
    path: Path, cache: TextCache | None, timeout: float | None = None, sha256: str | None = None,
    backend: str = DEFAULT_BACKEND,
) -> PdfText:
    """Text of the PDF at `path`, from the cache when present, else parsed and cached."""
    digest = sha256 or file_sha256(path)
    if cache is not None:
        cached = cache.get_entry(digest, backend)
        if cached is not None:
            pages, meta = cached
            return PdfText(digest, pages, title=meta.get("title", ""), from_cache=True,
                           warnings=_notes(meta), backend=backend)
    started = time.perf_counter()
    raw_pages, meta = parse_pdf(path, timeout, backend)
    elapsed = time.perf_counter() - started
    if cache is not None:
        cache.put(digest, raw_pages, meta, backend)
    return PdfText(digest, raw_pages, title=meta.get("title", ""), parse_seconds=elapsed,
                   warnings=_notes(meta), backend=backend)


def _notes(meta: dict[str, str]) -> list[str]:
    return [line for line in meta.get("notes", "").split("\n") if line]
