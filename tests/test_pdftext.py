"""pdftext: normalization, arXiv margin stamps, the sha256 text cache, bad inputs, time limit."""

from __future__ import annotations

import gzip
import json
import signal
import threading
import time
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from conftest import SAMPLE_DIR
from paramminer.errors import InputError, PdfError
from paramminer.pdftext import (
    ArxivStamp,
    TextCache,
    _ParseTimeout,
    file_sha256,
    find_arxiv_stamp,
    load_pdf_text,
    normalize_text,
    parse_pdf,
    time_limit,
)

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


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_pdf_pages_and_stamp(name: str) -> None:
    expected = EXPECTED[name]
    raw_pages, _meta = parse_pdf(SAMPLE_DIR / name)
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
    assert path.parent.name == SHA[:2] and path.name == f"{SHA}.json.gz"
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
            json.dumps({"format": 1, "sha256": "cd" * 32, "pages": ["x"]}).encode()
        ),
        "wrong format": gzip.compress(
            json.dumps({"format": 999, "sha256": SHA, "pages": ["x"]}).encode()
        ),
        "pages not a list": gzip.compress(
            json.dumps({"format": 1, "sha256": SHA, "pages": "x"}).encode()
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
def test_bad_input_gives_pdf_error_with_reason(
    bad_inputs: dict[str, Path], stem: str, reason: str
) -> None:
    path = bad_inputs[stem]
    with pytest.raises(PdfError) as caught:
        parse_pdf(path)
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
