"""pdftext: normalization, arXiv margin stamps, the sha256 text cache, bad inputs, time limit."""

from __future__ import annotations

import gzip
import json
import re
import signal
import threading
import time
import zlib
from pathlib import Path

import pypdf
import pytest
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from conftest import SAMPLE_DIR
from paramminer.config import PDF_BACKENDS, Settings, load_settings
from paramminer.errors import ConfigError, InputError, PdfError
from paramminer.ingest import discover, ingest
from paramminer.pdftext import (
    CACHE_FORMAT,
    DEFAULT_BACKEND,
    ArxivStamp,
    TextCache,
    _ParseTimeout,
    clean_text,
    file_sha256,
    find_arxiv_stamp,
    load_pdf_text,
    normalize_text,
    parse_pdf,
    text_identity,
    time_limit,
)
from paramminer.warehouse import Warehouse

EXPECTED = {
    entry["file"]: entry for entry in json.loads((SAMPLE_DIR / "expected.json").read_text())
}

# ---------------------------------------------------------------- normalization


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("ﬁne-tuning with ﬂow and ﬀ", "fine-tuning with flow and ff"),  # NFKC splits ligatures
        ("founda\u00adtion model", "foundation model"),  # soft hyphen dropped
        ("a founda-\ntion model", "a foundation model"),  # line-end hyphenation joined
        ("a founda- \n tion model", "a foundation model"),
        ("LLaMA-\n65B", "LLaMA-\n65B"),  # hyphen before a digit is part of a name
        ("GPT-\nNeoX", "GPT-\nNeoX"),  # ... and before a capital
        ("1.5\u00a0B\u2009parameters", "1.5 B parameters"),  # odd spaces become one space
        ("a \t\f  b", "a b"),
        ("zero\u200bwidth\ufeff", "zerowidth"),
        ("line\r\nbreak\rhere", "line\nbreak\nhere"),
        ("10\u2009×\u200910⁹", "10 × 109"),  # NFKC folds the superscript; the text keeps ×
    ],
)
def test_normalize_text(raw: str, normalized: str) -> None:
    assert normalize_text(raw) == normalized


def test_normalize_text_is_idempotent() -> None:
    text = "ﬁne-\ntuning the LLaMA-\n65B model with 1.5\u00a0B\u00ad parameters"
    once = normalize_text(text)
    assert normalize_text(once) == once == "finetuning the LLaMA-\n65B model with 1.5 B parameters"


# ---------------------------------------------------------------- arXiv stamps


@pytest.mark.parametrize(
    ("text", "stamp"),
    [
        (
            "arXiv:2204.02311v5 [cs.CL] 5 Oct 2022",
            ArxivStamp("2204.02311", 5, "cs.CL", "2022-10-05"),
        ),
        (
            "x arXiv:1706.03762v7  [cs.CL]  2 Aug 2023 y",
            ArxivStamp("1706.03762", 7, "cs.CL", "2023-08-02"),
        ),
        (
            "arXiv:1312.6114 [stat.ML] 1 May 2014",
            ArxivStamp("1312.6114", None, "stat.ML", "2014-05-01"),
        ),
        (
            "arXiv:1409.3215v3 [cs.CL] 14 December 2014",
            ArxivStamp("1409.3215", 3, "cs.CL", "2014-12-14"),
        ),
        (
            "arXiv:hep-th/9901001v2 [hep-th] 12 Jan 1999",
            ArxivStamp("hep-th/9901001", 2, "hep-th", "1999-01-12"),
        ),
        (
            "arXiv:cs/0112017v1 [cs.LG] 7 Dec 2001",
            ArxivStamp("cs/0112017", 1, "cs.LG", "2001-12-07"),
        ),
        (
            "arXiv:math.GT/0309136 [math.GT] 8 Sep 2003",
            ArxivStamp("math.GT/0309136", None, "math.GT", "2003-09-08"),
        ),
        (
            "arXiv:2502.90005v1 [eess.AS] 11 Feb 2025",
            ArxivStamp("2502.90005", 1, "eess.AS", "2025-02-11"),
        ),
    ],
)
def test_find_arxiv_stamp(text: str, stamp: ArxivStamp) -> None:
    assert find_arxiv_stamp(text) == stamp


@pytest.mark.parametrize(
    "text",
    [
        "no stamp here",
        "arXiv:2204.02311",
        "see arXiv preprint 2204.02311",
        "arXiv:2204.02311v5 [cs.CL] 5 Foo 2022",
    ],
)
def test_no_arxiv_stamp(text: str) -> None:
    assert find_arxiv_stamp(text) is None


@pytest.mark.parametrize("backend", PDF_BACKENDS)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_pdf_pages_and_stamp(name: str, backend: str) -> None:
    expected = EXPECTED[name]
    raw_pages, _meta = parse_pdf(SAMPLE_DIR / name, backend=backend)
    assert len(raw_pages) == expected["pages"]
    stamp = find_arxiv_stamp(normalize_text(raw_pages[0]))
    if expected["arxiv_stamp"] is None:
        assert stamp is None
    else:
        assert stamp is not None
        assert stamp.date == expected["arxiv_stamp"]["date"]
        assert stamp.arxiv_id == expected["paper_id"]
        assert stamp.version == expected["version"]


# ---------------------------------------------------------------- text cache

SHA = "ab" * 32


def test_cache_round_trip_is_exact_and_atomic(tmp_path: Path) -> None:
    cache = TextCache(tmp_path / "cache")
    pages = ["ﬁrst page – 1.5×10^9 parameters\n", "", "third \u00ad page ∼ 13B"]
    cache.put(SHA, pages, {"title": "A Title"})
    assert cache.get(SHA) == pages
    assert cache.get_entry(SHA) == (pages, {"title": "A Title"})
    path = cache.path_for(SHA)
    assert path.parent.name == SHA[:2] and path.name == f"{SHA}.{DEFAULT_BACKEND}.json.gz"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind
    cache.put(SHA, ["replaced"])
    assert cache.get(SHA) == ["replaced"]
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_cache_write_is_deterministic(tmp_path: Path) -> None:
    first, second = TextCache(tmp_path / "a"), TextCache(tmp_path / "b")
    first.put(SHA, ["same"])
    second.put(SHA, ["same"])
    assert first.path_for(SHA).read_bytes() == second.path_for(SHA).read_bytes()


def test_cache_failed_write_leaves_no_temp_file(tmp_path: Path) -> None:
    cache = TextCache(tmp_path)
    with pytest.raises(TypeError):
        cache.put(SHA, [object()])  # type: ignore[list-item]  # not JSON-serializable
    assert not cache.path_for(SHA).exists()
    assert list(tmp_path.rglob("*")) == [cache.path_for(SHA).parent]


def _corruptions(good: bytes) -> dict[str, bytes]:
    return {
        "not gzip": b"this is not gzip",
        "truncated gzip": good[: len(good) // 2],
        "flipped bytes": good[:20] + bytes(b ^ 0xFF for b in good[20:40]) + good[40:],
        "not json": gzip.compress(b"{not json"),
        "json list": gzip.compress(b"[1, 2, 3]"),
        "wrong sha": gzip.compress(
            json.dumps({"format": CACHE_FORMAT, "sha256": "cd" * 32,
                        "text": text_identity(DEFAULT_BACKEND), "pages": ["x"]}).encode()
        ),
        "wrong format": gzip.compress(
            json.dumps({"format": 999, "sha256": SHA, "pages": ["x"]}).encode()
        ),
        "pages not a list": gzip.compress(
            json.dumps({"format": CACHE_FORMAT, "sha256": SHA,
                        "text": text_identity(DEFAULT_BACKEND), "pages": "x"}).encode()
        ),
        "made by another version": gzip.compress(
            json.dumps({"format": CACHE_FORMAT, "sha256": SHA, "text": "pypdf 0.1; text@0",
                        "pages": ["x"]}).encode()
        ),
        "older format": gzip.compress(
            json.dumps({"format": 1, "sha256": SHA, "pages": ["x"]}).encode()
        ),
        "empty file": b"",
    }


@pytest.mark.parametrize("kind", sorted(_corruptions(b"x" * 100)))
def test_corrupt_cache_entry_is_ignored(tmp_path: Path, kind: str) -> None:
    cache = TextCache(tmp_path)
    cache.put(SHA, ["page one " * 40] * 30)
    path = cache.path_for(SHA)
    path.write_bytes(_corruptions(path.read_bytes())[kind])
    assert cache.get(SHA) is None
    assert cache.get_entry(SHA) is None


def test_missing_cache_entry_is_none(tmp_path: Path) -> None:
    assert TextCache(tmp_path / "nowhere").get(SHA) is None


def test_load_pdf_text_uses_cache_and_never_needs_the_pdf_again(tmp_path: Path) -> None:
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes((SAMPLE_DIR / "2401.90001v1.pdf").read_bytes())
    cache = TextCache(tmp_path / "cache")
    first = load_pdf_text(pdf, cache)
    assert not first.from_cache
    assert first.sha256 == file_sha256(pdf)
    assert len(first.raw_pages) == EXPECTED["2401.90001v1.pdf"]["pages"]
    assert cache.get(first.sha256) == first.raw_pages
    pdf.unlink()  # the cache must be enough from now on
    second = load_pdf_text(pdf, cache, sha256=first.sha256)
    assert second.from_cache
    assert second.raw_pages == first.raw_pages
    assert second.pages == first.pages
    assert second.title == first.title
    assert second.parse_seconds == 0.0


def test_load_pdf_text_reparses_over_a_corrupt_cache_entry(tmp_path: Path) -> None:
    pdf = SAMPLE_DIR / "2203.90002v1.pdf"
    cache = TextCache(tmp_path)
    first = load_pdf_text(pdf, cache)
    cache.path_for(first.sha256).write_bytes(b"\x1f\x8b garbage")
    again = load_pdf_text(pdf, cache)
    assert not again.from_cache
    assert again.raw_pages == first.raw_pages
    assert load_pdf_text(pdf, cache).from_cache  # the entry was rewritten


def test_file_sha256(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    assert file_sha256(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


# ---------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("stem", "reason"),
    [
        ("not_a_pdf", "not a PDF"),
        ("empty", "empty file"),
        ("truncated", "damaged"),
        ("garbage_after_header", "damaged"),
        ("encrypted", "encrypted"),
        ("image_only", "no text layer"),
    ],
)
@pytest.mark.parametrize("backend", PDF_BACKENDS)
def test_bad_input_gives_pdf_error_with_reason(
    bad_inputs: dict[str, Path], stem: str, reason: str, backend: str
) -> None:
    path = bad_inputs[stem]
    with pytest.raises(PdfError) as caught:
        parse_pdf(path, backend=backend)
    assert reason in caught.value.reason
    assert caught.value.path == str(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert "\n" not in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file") as caught:
        parse_pdf(tmp_path / "absent.pdf")
    assert caught.value.reason == "no such file"


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        parse_pdf(tmp_path)
    assert caught.value.reason == "is a directory"


def test_bad_input_is_not_cached(tmp_path: Path, bad_inputs: dict[str, Path]) -> None:
    cache = TextCache(tmp_path / "cache")
    with pytest.raises(PdfError):
        load_pdf_text(bad_inputs["image_only"], cache)
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").rglob("*.gz"))


# ---------------------------------------------------------------- time limit


def _big_pdf(path: Path, pages: int = 150) -> Path:
    sheet = canvas.Canvas(str(path), pagesize=letter)
    for number in range(pages):
        for line in range(50):
            sheet.drawString(
                40,
                750 - line * 14,
                f"Page {number} line {line}: a model with {number * 7 + line}M parameters.",
            )
        sheet.showPage()
    sheet.save()
    return path


def test_parse_time_limit_on_a_big_pdf(tmp_path: Path) -> None:
    big = _big_pdf(tmp_path / "big.pdf")
    started = time.monotonic()
    with pytest.raises(PdfError, match="time limit") as caught:
        parse_pdf(big, timeout=0.02)
    assert time.monotonic() - started < 5
    assert "0.02s" in caught.value.reason
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # the alarm is cancelled
    pages, _ = parse_pdf(SAMPLE_DIR / "2401.90001v1.pdf", timeout=60)  # a generous one passes
    assert len(pages) == EXPECTED["2401.90001v1.pdf"]["pages"]


def test_time_limit_escapes_broad_exception_handlers() -> None:
    """pypdf catches `Exception` inside its text extractor; the timeout must not be swallowed."""
    previous = signal.getsignal(signal.SIGALRM)
    deadline = time.monotonic() + 3
    with pytest.raises(_ParseTimeout), time_limit(0.05):
        while time.monotonic() < deadline:
            try:  # noqa: SIM105 - spelled out like pypdf's handlers
                sum(range(10_000))
            except Exception:  # noqa: BLE001 - imitates pypdf's handlers
                pass
        pytest.fail("time_limit did not interrupt the loop")
    assert signal.getsignal(signal.SIGALRM) == previous
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


@pytest.mark.parametrize("seconds", [None, 0])
def test_time_limit_off(seconds: float | None) -> None:
    with time_limit(seconds):
        time.sleep(0.01)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_parse_with_a_time_limit_outside_the_main_thread() -> None:
    """Signals only work in the main thread; elsewhere the limit is skipped, not the PDF."""
    results: list[object] = []

    def parse() -> None:
        try:
            results.append(len(parse_pdf(SAMPLE_DIR / "2401.90001v1.pdf", timeout=30)[0]))
        except InputError as exc:
            results.append(exc)

    worker = threading.Thread(target=parse)
    worker.start()
    worker.join()
    assert results == [EXPECTED["2401.90001v1.pdf"]["pages"]]


# ---------------------------------------------------------------- PDFs built byte by byte

_NUL_CMAP = b"""/CIDInit /ProcSet findresource begin 12 dict begin begincmap
/CMapName /Bad def 1 begincodespacerange <00> <FF> endcodespacerange
6 beginbfchar <01> <D800> <02> <0000> <03> <FFFE> <04> <D83DDE00> <05> <0007> <06> <DC00>
endbfchar 1 beginbfrange <20> <7E> <0020> endbfrange
endcmap CMapName currentdict /CMap defineresource pop end end"""
# a number longer than pypdf's 64-character token limit, as some real papers hold
LONG_NUMBER = b"q 1 0 0 1 0." + b"0" * 100 + b"1 0 cm Q\n"
FILLER = b"Ordinary words on a line long enough to pass the minimum amount of text."


def raw_pdf(path: Path, pages: list[bytes], font: bytes = b"", tounicode: bytes = b"",
            type3: bytes = b"", deflate: bool = False) -> Path:
    """A minimal PDF: Helvetica /F1 (plus `font` entries, a ToUnicode CMap), one stream per
    page (Flate-compressed if `deflate`), and /F3, a Type 3 font drawing the glyphs named in
    `type3` for codes 1, 2, ..."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    def stream(data: bytes, flate: bool = False) -> bytes:
        data = zlib.compress(data, 9) if flate else data
        filters = b" /Filter /FlateDecode" if flate else b""
        return b"<< /Length %d%s >>\nstream\n%s\nendstream" % (len(data), filters, data)

    if tounicode:
        font += b" /ToUnicode %d 0 R" % add(stream(tounicode))
    fonts = b"/F1 %d 0 R" % add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                                b"/Encoding /WinAnsiEncoding%s >>" % font)
    if type3:
        glyph = add(stream(b"500 0 0 0 400 600 d1 0 0 400 600 re f"))
        names = type3.split()
        fonts += b" /F3 %d 0 R" % add(
            b"<< /Type /Font /Subtype /Type3 /FontBBox [0 0 500 700] /FontMatrix [0.001 0 0 "
            b"0.001 0 0] /CharProcs << %s >> /Encoding << /Type /Encoding /Differences [1 %s] >> "
            b"/FirstChar 1 /LastChar %d /Widths [%s] /Resources << >> >>" % (
                b" ".join(b"/%s %d 0 R" % (name, glyph) for name in set(names)),
                b" ".join(b"/" + name for name in names), len(names), b"500 " * len(names)))
    kids = [
        add(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << %s "
            b">> >> /Contents %d 0 R >>" % (fonts, add(stream(content, deflate))))
        for content in pages
    ]
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % kid for kid in kids), len(kids))
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def lines(*texts: bytes, size: int = 11, top: int = 700) -> bytes:
    """A content stream drawing each text on its own line."""
    return b"".join(b"BT /F1 %d Tf 72 %d Td (%s) Tj ET\n" % (size, top - 16 * i, text)
                    for i, text in enumerate(texts))


# ---------------------------------------------------------------- backends


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_backends_agree_on_the_sample(name: str) -> None:
    """Same pages, stamp, title and parameter-looking strings from pdfium and pypdf."""
    sizes = re.compile(r"\b\d+(?:\.\d+)?\s?[KMB]\b|\b\d+(?:\.\d+)? (?:billion|million)\b")
    seen = []
    for backend in PDF_BACKENDS:
        pages, meta = parse_pdf(SAMPLE_DIR / name, backend=backend)
        text = [normalize_text(page) for page in pages]
        seen.append((len(pages), find_arxiv_stamp(text[0]), meta.get("title"),
                     [sizes.findall(page) for page in text]))
    assert seen[0] == seen[1]
    assert any(found for found in seen[0][3])


def test_text_cache_is_keyed_by_backend(tmp_path: Path) -> None:
    pdf = SAMPLE_DIR / "2401.90001v1.pdf"
    cache = TextCache(tmp_path)
    first = {b: load_pdf_text(pdf, cache, backend=b) for b in PDF_BACKENDS}
    assert not any(text.from_cache for text in first.values())
    assert {cache.path_for(first[b].sha256, b).name for b in PDF_BACKENDS} == {
        f"{first['pdfium'].sha256}.{b}.json.gz" for b in PDF_BACKENDS}
    for backend in PDF_BACKENDS:
        again = load_pdf_text(pdf, cache, backend=backend)
        assert again.from_cache and again.backend == backend
        assert again.raw_pages == first[backend].raw_pages


def test_text_cache_made_by_another_library_version_is_reparsed(tmp_path: Path) -> None:
    pdf = SAMPLE_DIR / "2203.90002v1.pdf"
    cache = TextCache(tmp_path)
    first = load_pdf_text(pdf, cache, backend="pdfium")
    path = cache.path_for(first.sha256, "pdfium")
    payload = json.loads(gzip.decompress(path.read_bytes()))
    assert payload["text"].startswith("pypdfium2 ") and "fallback pypdf " in payload["text"]
    payload.update(text=payload["text"].replace("pypdfium2 ", "pypdfium2 0.0.1-was-"),
                   pages=["stale text"] * len(first.raw_pages))
    path.write_bytes(gzip.compress(json.dumps(payload).encode()))
    again = load_pdf_text(pdf, cache, backend="pdfium")
    assert not again.from_cache
    assert again.raw_pages == first.raw_pages
    assert load_pdf_text(pdf, cache, backend="pdfium").from_cache


def test_unknown_backend_is_refused(clean_env: Path) -> None:
    with pytest.raises(ValueError, match="unknown PDF backend 'mupdf'"):
        parse_pdf(SAMPLE_DIR / "2401.90001v1.pdf", backend="mupdf")
    with pytest.raises(ConfigError, match="pdf_backend must be one of pdfium, pypdf"):
        load_settings(environ={"PARAMMINER_PDF_BACKEND": "mupdf"})
    assert load_settings(environ={"PARAMMINER_PDF_BACKEND": "pypdf"}).pdf_backend == "pypdf"


@pytest.mark.parametrize("backend", PDF_BACKENDS)
def test_superscripts_stay_on_their_line(tmp_path: Path, backend: str) -> None:
    """pdfium breaks the line where the baseline moves; both backends must flatten alike."""
    content = (
        b"BT /F1 20 Tf 72 740 Td (S) Tj /F1 12 Tf 8 Ts (2) Tj /F1 20 Tf 0 Ts "
        b"(-MLP: Spatial-Shift MLP Architecture) Tj ET\n"
        b"BT /F1 11 Tf 72 700 Td (The largest model has 1.3 \\327 10) Tj /F1 7 Tf 4 Ts (9) Tj "
        b"/F1 11 Tf 0 Ts ( parameters, 1.5B active, 175 billion tokens.) Tj ET\n"
        + lines(FILLER, FILLER, FILLER, top=660)
    )
    pdf = raw_pdf(tmp_path / "sup.pdf", [content])
    text = normalize_text(parse_pdf(pdf, backend=backend)[0][0])
    assert text.startswith("S2-MLP: Spatial-Shift MLP Architecture\n")
    assert "has 1.3 × 109 parameters, 1.5B active, 175 billion tokens." in text


def test_pdfium_line_end_hyphen_is_joined_like_pypdf(tmp_path: Path) -> None:
    words = b"the hyperbolic tangent as non-"
    pdf = raw_pdf(tmp_path / "hyphen.pdf", [lines(words, b"linearity of the layer.", FILLER,
                                                  FILLER, FILLER)])
    for backend in PDF_BACKENDS:
        text = normalize_text(parse_pdf(pdf, backend=backend)[0][0])
        assert text.startswith("the hyperbolic tangent as nonlinearity of the layer.\n")


# ---------------------------------------------------------------- per-page fallback


def test_glued_page_is_read_again_with_the_other_backend(tmp_path: Path) -> None:
    """A font whose space glyph is very wide makes pypdf glue the words that kerning separates."""
    words = b"We train a family of models ranging from seven to seventy billion parameters"
    line = b"[" + b" ".join(b"(%s) -280" % word for word in words.split()) + b"] TJ"
    content = b"".join(b"BT /F1 11 Tf 72 %d Td %s ET\n" % (700 - 16 * i, line) for i in range(4))
    widths = b"/FirstChar 32 /LastChar 126 /Widths [1500 " + b"500 " * 94 + b"]"
    pdf = raw_pdf(tmp_path / "glued.pdf", [content], font=widths)
    pypdf_pages, pypdf_meta = parse_pdf(pdf, backend="pypdf")
    assert pypdf_meta["notes"] == "page 1: glued words; text from pdfium"
    pdfium_pages, pdfium_meta = parse_pdf(pdf, backend="pdfium")
    assert "notes" not in pdfium_meta
    assert pypdf_pages == pdfium_pages
    assert normalize_text(pdfium_pages[0]).split("\n")[0] == words.decode()


def test_page_with_unmapped_type3_glyphs_is_read_with_pypdf(tmp_path: Path) -> None:
    """Plots embed Type 3 fonts named by /Differences alone: pdfium gives their codes."""
    legend = bytes(range(1, 11)) + bytes([11, 12, 11])  # "Qwen-14B LaMa" in the font's codes
    shown = legend.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    content = lines(FILLER, FILLER, FILLER) + b"".join(
        b"BT /F3 10 Tf 100 %d Td (%s) Tj ET\n" % (400 - 12 * i, shown) for i in range(4))
    pdf = raw_pdf(tmp_path / "plot.pdf", [content], type3=b"Q w e n hyphen one four B space L a M")
    pages, meta = parse_pdf(pdf, backend="pdfium")
    assert meta["notes"] == "page 1: unmapped glyphs; text from pypdf"
    assert normalize_text(pages[0]).split("\n")[3:] == ["Qwen-14B LaMa"] * 4
    assert parse_pdf(pdf, backend="pypdf") == (pages, {})


def test_page_over_pypdf_limits_is_read_with_pdfium(tmp_path: Path) -> None:
    pages = [LONG_NUMBER + lines(FILLER, FILLER, FILLER), lines(FILLER, b"second page")]
    pdf = raw_pdf(tmp_path / "limit.pdf", pages)
    text, meta = parse_pdf(pdf, backend="pypdf")
    assert meta["notes"] == (
        "page 1: pypdf: LimitReachedError: Read stream length of 112 exceeds maximum allowed "
        "length of 64.; text from pdfium"
    )
    assert normalize_text(text[0]).split("\n") == [FILLER.decode()] * 3
    assert text[1].strip().endswith("second page")


def test_pages_lost_to_pypdf_limits_end_in_a_one_line_reason(tmp_path: Path) -> None:
    pdf = raw_pdf(tmp_path / "lost.pdf", [LONG_NUMBER + b"BT /F1 11 Tf () Tj ET\n"] * 3)
    with pytest.raises(PdfError) as caught:
        parse_pdf(pdf, backend="pypdf")
    assert caught.value.reason == (
        "no usable text: 3 of 3 pages failed (page 1: pypdf: LimitReachedError: Read stream "
        "length of 112 exceeds maximum allowed length of 64.)"
    )


def test_page_over_a_pypdf_memory_limit_is_not_handed_to_pdfium(tmp_path: Path) -> None:
    """A decompression bomb stays stopped: pdfium, which has no such limit, never sees it."""
    apply_configuration = getattr(pypdf, "apply_configuration", None)
    if apply_configuration is None:
        pytest.skip("this pypdf has no configurable limits")
    inflating = lines(FILLER, FILLER, FILLER, FILLER) + b" " * 2_000_000
    pdf = raw_pdf(tmp_path / "bomb.pdf", [inflating], deflate=True)
    assert len(parse_pdf(pdf, backend="pdfium")[0][0]) > 200  # pdfium can read it ...
    with apply_configuration(zlib_maximum_output_length=1_000_000), \
            pytest.raises(PdfError) as caught:
        parse_pdf(pdf, backend="pypdf")  # ... but is not asked to
    assert caught.value.reason.startswith(
        "no usable text: 1 of 1 pages failed (page 1: pypdf: LimitReachedError: Limit reached "
        "while decompressing.")
    assert "\n" not in caught.value.reason


def test_pdf_over_pypdf_limits_when_opened_is_read_with_pdfium(tmp_path: Path) -> None:
    apply_configuration = getattr(pypdf, "apply_configuration", None)
    if apply_configuration is None:
        pytest.skip("this pypdf has no configurable limits")
    pdf = raw_pdf(tmp_path / "tree.pdf", [lines(FILLER, b"page %d" % n) for n in (1, 2, 3)])
    with apply_configuration(page_tree_maximum_entries=1):
        pages, meta = parse_pdf(pdf, backend="pypdf")
    assert [page.strip().splitlines()[-1] for page in pages] == ["page 1", "page 2", "page 3"]
    assert meta["notes"] == (
        "pypdf could not open it (PDF over pypdf's safety limits (Maximum page tree entry limit "
        "reached: 2 > 1.)); text from pdfium"
    )


# ---------------------------------------------------------------- text hygiene


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("lone \ud800 high", "lone \ufffd high"),
        ("lone \udc00 low", "lone \ufffd low"),
        ("pair \ud83d\ude00 joined", "pair 😀 joined"),
        ("nul\x00bel\x07esc\x1b", "nul bel esc "),
        ("c1\x85\x9fend", "c1  end"),
        ("non\ufffechar\uffff \U0001fffe \ufdd0", "non char     "),
        ("tab\tnew\nline\r\n", "tab\tnew\nline\r\n"),
        ("private \uf8ec use and ﬁ ligature", "private \uf8ec use and ﬁ ligature"),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def _bad_code_points_pdf(path: Path) -> Path:
    """Glyphs whose ToUnicode entries are a lone surrogate, NUL, a noncharacter, a valid
    surrogate pair, BEL and a lone low surrogate (pypdf hands the first ones on as they are)."""
    line = b"Bad \x01 nul \x02 nonchar \x03 pair \x04 bel \x05 low \x06 with 1.5B parameters."
    return raw_pdf(path, [lines(line, line, line, line)], tounicode=_NUL_CMAP)


@pytest.mark.parametrize("backend", PDF_BACKENDS)
def test_invalid_code_points_are_cleaned_at_parse_time(tmp_path: Path, backend: str) -> None:
    pdf = _bad_code_points_pdf(tmp_path / "bad.pdf")
    cache = TextCache(tmp_path / "cache")
    text = load_pdf_text(pdf, cache, backend=backend)
    invalid = re.compile("[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
    assert not any(invalid.search(page) for page in text.raw_pages)
    first = normalize_text(text.raw_pages[0]).split("\n")[0]
    assert first.startswith("Bad ") and first.endswith(" with 1.5B parameters.")
    assert "pair 😀 bel" in first
    raw = gzip.decompress(cache.path_for(text.sha256, backend).read_bytes())
    assert json.loads(raw.decode("utf-8", errors="strict"))["pages"] == text.raw_pages


def test_pypdf_lone_surrogates_become_replacement_characters(tmp_path: Path) -> None:
    pdf = _bad_code_points_pdf(tmp_path / "bad.pdf")
    first = normalize_text(parse_pdf(pdf, backend="pypdf")[0][0]).split("\n")[0]
    assert first == "Bad \ufffd nul nonchar pair 😀 bel low \ufffd with 1.5B parameters."


def test_ingest_loads_a_pdf_with_invalid_code_points(tmp_path: Path) -> None:
    """Before cleaning, the text cache could not encode pypdf's lone surrogates: an internal
    error that lost the paper."""
    pdf = _bad_code_points_pdf(tmp_path / "bad.pdf")
    for backend in PDF_BACKENDS:
        settings = Settings(data_dir=tmp_path / backend, workers=1, pdf_backend=backend)
        items, _ = discover([pdf])
        with Warehouse.open(settings.warehouse_path) as warehouse:
            report = ingest(items, warehouse, settings)
            assert (report.failures, len(report.loaded)) == ([], 1)
            stored = warehouse.con.execute("SELECT text FROM pages WHERE page = 1").fetchone()
        assert stored is not None and "with 1.5B parameters." in stored[0]
