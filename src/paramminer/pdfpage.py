"""A paper's PDF for the reviewer: where the file is, a page as a PNG, and where text sits on it.

Pages are rendered and searched with pypdfium2. Text is matched on its letters and digits only
("squeezed": case-folded, NFKC, no spaces or punctuation), so the evidence found by the
extractor in the normalized page text is found on the page whatever the PDF's line breaks,
hyphenation or glued words. pdfium is not thread-safe: every call holds `PDFIUM_LOCK`.
"""

from __future__ import annotations

import functools
import hashlib
import io
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pypdfium2 as pdfium

from paramminer.errors import ParamminerError
from paramminer.fetch import stored_path

PDFIUM_LOCK = threading.RLock()
WINDOW_SIDES = (40, 20, 8)  # squeezed characters kept each side of a mention when the whole
# evidence is not found on the page (it spans a page break, or the PDF's text differs)


class PdfUnavailableError(ParamminerError):
    """A paper whose PDF cannot be shown (unknown paper or page, file moved or changed)."""

    exit_code = 2


@dataclass(frozen=True)
class Box:
    """A rectangle on the rendered page, as fractions of its width and height (origin top left)."""

    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class Located:
    """Where a candidate's evidence and number sit on its page."""

    evidence: tuple[Box, ...]  # the sentence, or the table row for table candidates
    mention: tuple[Box, ...]  # the number itself
    how: str  # evidence / window / mention / none: how much of the text was found
    row_text: str = ""  # the page's line holding the number (a table row), as pdfium reads it


@dataclass(frozen=True)
class PaperPdf:
    """A paper's current PDF on disk, verified against the sha256 the warehouse recorded."""

    paper_id: str
    path: Path
    sha256: str
    n_pages: int


# -------------------------------------------------------------------- finding the file

_verified: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) -> sha256
_verified_lock = threading.Lock()


def _sha256_of(path: Path) -> str | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    with _verified_lock:
        if key in _verified:
            return _verified[key]
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    with _verified_lock:
        _verified[key] = digest.hexdigest()
    return _verified[key]


def find_pdf(con: duckdb.DuckDBPyConnection, paper_id: str, pdf_dir: Path,
             roots: Sequence[Path] = ()) -> PaperPdf:
    """The paper's current PDF: the content-addressed store first, then the ingested path.

    A relative `source_path` is tried against each of `roots` (the working directory, the
    warehouse's folder and its parent). Only a file whose sha256 is the recorded one counts.
    """
    row = con.execute(
        "SELECT p.sha256, d.source_path, d.n_pages FROM papers p "
        "JOIN documents d ON d.sha256 = p.sha256 WHERE p.paper_id = ?", [paper_id]
    ).fetchone()
    if row is None:
        raise PdfUnavailableError(f"no paper {paper_id!r}")
    sha256, source_path, n_pages = str(row[0]), row[1], int(row[2])
    options = [stored_path(pdf_dir, sha256)]
    if source_path:
        source = Path(source_path)
        options += [source] if source.is_absolute() else [root / source for root in roots]
    for path in options:
        if _sha256_of(path) == sha256:
            return PaperPdf(paper_id, path, sha256, n_pages)
    where = source_path or f"the PDF store {pdf_dir}"
    raise PdfUnavailableError(f"{paper_id}: its PDF is no longer at {where} "
                              "(moved or changed since it was ingested)")


@contextmanager
def _page(pdf: PaperPdf, number: int) -> Iterator[pdfium.PdfPage]:
    """Page `number` (1-based) of the PDF, with the pdfium lock held."""
    if not 1 <= number <= pdf.n_pages:
        raise PdfUnavailableError(f"{pdf.paper_id} has no page {number} (1-{pdf.n_pages})")
    with PDFIUM_LOCK:
        document = pdfium.PdfDocument(pdf.path)
        try:
            if number > len(document):
                raise PdfUnavailableError(f"{pdf.paper_id} has no page {number}")
            page = document[number - 1]
            try:
                yield page
            finally:
                page.close()
        finally:
            document.close()


# -------------------------------------------------------------------- rendering

def render_png(pdf: PaperPdf, number: int, width: int = 1100) -> bytes:
    """Page `number` as a PNG `width` pixels wide (pdfium applies the page's rotation)."""
    with _page(pdf, number) as page:
        page_width = page.get_width()
        bitmap = page.render(scale=width / page_width if page_width else 1.0)
        image = bitmap.to_pil()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue()


def page_aspect(pdf: PaperPdf, number: int) -> float:
    """Height / width of the page as rendered."""
    with _page(pdf, number) as page:
        width, height = page.get_size()
        return height / width if width else 1.0


# -------------------------------------------------------------------- locating text

@functools.lru_cache(maxsize=256)
def squeeze(text: str) -> tuple[str, tuple[int, ...]]:
    """Letters and digits of `text`, case-folded and NFKC-normalized, with each one's index."""
    chars: list[str] = []
    index: list[int] = []
    for position, char in enumerate(text):
        if char.isascii():
            if char.isalnum():
                chars.append(char.lower())
                index.append(position)
            continue
        for part in unicodedata.normalize("NFKC", char).casefold():
            if part.isalnum():
                chars.append(part)
                index.append(position)
    return "".join(chars), tuple(index)


def _occurrences(haystack: str, needle: str) -> list[int]:
    found: list[int] = []
    start = haystack.find(needle) if needle else -1
    while start >= 0:
        found.append(start)
        start = haystack.find(needle, start + 1)
    return found


def _nearest(positions: list[int], total: int, expected: float | None) -> int | None:
    """The occurrence nearest the expected relative position (the first when none is known)."""
    if not positions:
        return None
    if expected is None or total == 0:
        return positions[0]
    return min(positions, key=lambda p: abs(p / total - expected))


@dataclass(frozen=True)
class _Target:
    """What to find: the evidence (squeezed), where the mention sits in it, where on the page."""

    evidence: str
    mention_start: int  # in the squeezed evidence; -1 when unknown
    mention_length: int
    expected: float | None  # relative position of the mention in the page text, if known


def _target(evidence: str, mention: str, page_text: str | None,
            char_start: int | None) -> _Target:
    squeezed, _ = squeeze(evidence)
    needle, _ = squeeze(mention)
    offset = squeezed.find(needle) if needle else -1
    expected = None
    if page_text and char_start is not None and 0 <= char_start < len(page_text):
        ours, index = squeeze(page_text)
        at = next((i for i, position in enumerate(index) if position >= char_start), len(ours))
        expected = at / len(ours) if ours else None
        starts = [s for s in _occurrences(ours, squeezed) if s <= at < s + len(squeezed)]
        if starts and needle:
            offset = at - starts[0]
    return _Target(squeezed, offset, len(needle), expected)


def _boxes(textpage: pdfium.PdfTextPage, first: int, last: int,
           crop: tuple[float, float, float, float], rotation: int) -> tuple[Box, ...]:
    """The rectangles of pdfium characters first..last, as fractions of the rendered page."""
    left, bottom, right, top = crop
    width, height = right - left, top - bottom
    boxes = []
    for i in range(textpage.count_rects(first, last - first + 1)):
        x0, y0, x1, y1 = textpage.get_rect(i)
        fx0, fx1 = (x0 - left) / width, (x1 - left) / width
        fy0, fy1 = (top - y1) / height, (top - y0) / height
        boxes.append(_rotate(Box(fx0, fy0, fx1, fy1), rotation))
    return tuple(boxes)


def _rotate(box: Box, rotation: int) -> Box:
    """A box of the unrotated page on the page as shown with /Rotate (clockwise degrees)."""
    if rotation == 90:
        return Box(1 - box.y1, box.x0, 1 - box.y0, box.x1)
    if rotation == 180:
        return Box(1 - box.x1, 1 - box.y1, 1 - box.x0, 1 - box.y0)
    if rotation == 270:
        return Box(box.y0, 1 - box.x1, box.y1, 1 - box.x0)
    return box


def _line_around(text: str, index: int) -> tuple[int, int]:
    """First and last pdfium index of the text line holding `index`."""
    start = max(text.rfind("\n", 0, index), text.rfind("\r", 0, index)) + 1
    ends = [e for e in (text.find("\r", index), text.find("\n", index)) if e >= 0]
    end = (min(ends) if ends else len(text)) - 1
    return start, max(start, end)


@dataclass(frozen=True)
class TextSpot:
    """A piece of text to find on a page (see `locate`)."""

    page: int
    evidence: str
    mention: str
    page_text: str | None = None
    char_start: int | None = None
    table_row: bool = False


def locate(pdf: PaperPdf, number: int, evidence: str, mention: str, *,
           page_text: str | None = None, char_start: int | None = None,
           table_row: bool = False) -> Located:
    """Where `evidence` (and `mention` inside it) sits on page `number` of the PDF.

    `page_text` and `char_start` (the warehouse's page text and the mention's offset in it)
    pick the right occurrence when a sentence or number appears twice. With `table_row`, the
    evidence boxes are the page line holding the number (the row), not the whole evidence.
    """
    spot = TextSpot(number, evidence, mention, page_text, char_start, table_row)
    return locate_all(pdf, [spot])[0]


def locate_all(pdf: PaperPdf, spots: Sequence[TextSpot]) -> list[Located]:
    """`locate` for many spots, each page opened once."""
    found: dict[int, Located] = {}
    for number in sorted({spot.page for spot in spots}):
        with _page(pdf, number) as page:
            textpage = page.get_textpage()
            try:
                for i, spot in enumerate(spots):
                    if spot.page == number:
                        target = _target(spot.evidence, spot.mention, spot.page_text,
                                         spot.char_start)
                        found[i] = _locate_on(textpage, page, target, spot.table_row)
            finally:
                textpage.close()
    return [found[i] for i in range(len(spots))]


def _locate_on(textpage: pdfium.PdfTextPage, page: pdfium.PdfPage, target: _Target,
               table_row: bool) -> Located:
    text = textpage.get_text_range()
    squeezed, index = squeeze(text)
    crop = page.get_cropbox()
    rotation = page.get_rotation()
    found = _find(squeezed, target)
    if found is None:
        return Located((), (), "none")
    start, length, mention_at, how = found

    def boxes(first: int, count: int) -> tuple[Box, ...]:
        return _boxes(textpage, index[first], index[first + count - 1], crop, rotation)

    mention = boxes(mention_at, target.mention_length) if mention_at >= 0 else ()
    row_text = ""
    if mention_at >= 0:
        first, last = _line_around(text, index[mention_at])
        row_text = " ".join(text[first:last + 1].split())
    if table_row and mention_at >= 0:
        first, last = _line_around(text, index[mention_at])
        evidence = _boxes(textpage, first, last, crop, rotation)
    else:
        evidence = boxes(start, length) if how != "mention" else ()
    return Located(evidence, mention, how, row_text)


def _find(squeezed: str, target: _Target) -> tuple[int, int, int, str] | None:
    """(start, length, mention start or -1, how) of the best match on the squeezed page."""
    total = len(squeezed)
    start = _nearest(_occurrences(squeezed, target.evidence), total, target.expected)
    if start is not None and target.evidence:
        mention = start + target.mention_start if target.mention_start >= 0 else -1
        return start, len(target.evidence), mention, "evidence"
    if target.mention_start >= 0:
        for side in WINDOW_SIDES:
            lo = max(0, target.mention_start - side)
            hi = min(len(target.evidence), target.mention_start + target.mention_length + side)
            window = target.evidence[lo:hi]
            start = _nearest(_occurrences(squeezed, window), total, target.expected)
            if start is not None:
                return start, len(window), start + target.mention_start - lo, "window"
        needle = target.evidence[target.mention_start:
                                 target.mention_start + target.mention_length]
        start = _nearest(_occurrences(squeezed, needle), total, target.expected)
        if start is not None:
            return start, len(needle), start, "mention"
    return None
