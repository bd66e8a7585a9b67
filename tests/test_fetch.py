"""PDF fetching: retries, verification, and a store that never holds a broken file."""

from __future__ import annotations

import email.utils
import hashlib
import itertools
import json
import os
import random
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from reportlab.pdfgen import canvas

from paramminer import __version__
from paramminer.errors import InputError, ParamminerError
from paramminer.fakearxiv import FakeArxivServer, serve_in_thread
from paramminer.fetch import (
    FetchedPdf,
    FetchError,
    PdfFetcher,
    backoff_seconds,
    fetch_pdf,
    parse_retry_after,
    remove_partial_files,
    store_pdf,
    stored_path,
    verify_pdf,
)

JITTER = 0.1
FAST = {"min_delay_seconds": 0.0, "backoff_base": 0.02, "backoff_max": 0.1}


def make_pdf(path: Path, text: str, pages: int = 1) -> bytes:
    pdf = canvas.Canvas(str(path), invariant=1)
    for page in range(pages):
        pdf.drawString(72, 720, f"{text} page {page + 1}")
        pdf.showPage()
    pdf.save()
    return path.read_bytes()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pdfdata")
    records = []
    for paper_id, version, pages in [
        ("2405.00001", 1, 2),
        ("2405.00001", 2, 3),
        ("2405.00002", 1, 1),
        ("cond-mat/0101001", 1, 1),
    ]:
        name = f"{paper_id.replace('/', '_')}v{version}.pdf"
        make_pdf(folder / name, f"{paper_id} v{version}", pages)
        records.append(
            {"id": paper_id, "version": version, "title": f"Paper {paper_id}",
             "published": "2024-05-01T00:00:00Z", "categories": ["cs.LG"], "pdf": name}
        )  # fmt: skip
    # A "PDF" that is an HTML page, as a misbehaving mirror might serve.
    (folder / "2405.00003v1.pdf").write_bytes(b"<html><body>PDF unavailable</body></html>\n")
    records.append(
        {"id": "2405.00003", "version": 1, "title": "HTML", "published": "2024-05-01T00:00:00Z",
         "pdf": "2405.00003v1.pdf"}
    )  # fmt: skip
    (folder / "metadata.jsonl").write_text(
        "\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8"
    )
    return folder


@pytest.fixture
def server(data_dir: Path) -> Iterator[FakeArxivServer]:
    with serve_in_thread(data_dir) as running:
        yield running


def store_contents(pdf_dir: Path) -> list[str]:
    """Every file under the store, hidden temporary files included."""
    if not pdf_dir.exists():
        return []
    return sorted(str(p.relative_to(pdf_dir)) for p in pdf_dir.rglob("*") if p.is_file())


def test_fetch_verifies_and_stores_by_content(
    server: FakeArxivServer, data_dir: Path, tmp_path: Path
) -> None:
    expected = (data_dir / "2405.00001v1.pdf").read_bytes()
    digest = hashlib.sha256(expected).hexdigest()
    with PdfFetcher(tmp_path, base_url=server.base_url, contact="me@example.org", **FAST) as f:
        fetched = f.fetch("2405.00001v1")
        again = f.fetch("2405.00001v1")
    assert fetched == FetchedPdf(
        arxiv_id="2405.00001",
        version=1,
        sha256=digest,
        path=tmp_path / digest[:2] / f"{digest}.pdf",
        bytes=len(expected),
    )
    assert again == fetched
    assert fetched.path.read_bytes() == expected
    assert store_contents(tmp_path) == [f"{digest[:2]}/{digest}.pdf"]
    assert server.request_log[0].path == "/pdf/2405.00001v1"
    assert server.request_log[0].user_agent == f"paramminer/{__version__} (mailto:me@example.org)"


def test_latest_old_style_and_explicit_url(
    server: FakeArxivServer, data_dir: Path, tmp_path: Path
) -> None:
    with PdfFetcher(tmp_path, base_url=server.base_url, **FAST) as fetcher:
        latest = fetcher.fetch("2405.00001")
        old = fetcher.fetch("cond-mat/0101001v1")
        by_url = fetcher.fetch("2405.00002", url=f"{server.base_url}/pdf/2405.00002v1.pdf")
    assert latest.version is None  # asked for "latest": the URL names no version
    assert latest.path.read_bytes() == (data_dir / "2405.00001v2.pdf").read_bytes()
    assert (old.arxiv_id, old.version) == ("cond-mat/0101001", 1)
    assert server.request_log[1].path == "/pdf/cond-mat/0101001v1"
    assert (by_url.arxiv_id, by_url.version) == ("2405.00002", 1)
    assert len(store_contents(tmp_path)) == 3


def test_module_function(server: FakeArxivServer, tmp_path: Path) -> None:
    fetched = fetch_pdf("2405.00002v1", tmp_path, base_url=server.base_url)
    assert fetched.path == stored_path(tmp_path, fetched.sha256)


def test_not_found_is_not_retried(server: FakeArxivServer, tmp_path: Path) -> None:
    fetcher = PdfFetcher(tmp_path, base_url=server.base_url, **FAST)
    with fetcher, pytest.raises(FetchError) as caught:
        fetcher.fetch("2405.09999")
        with pytest.raises(InputError):
            fetcher.fetch("../../etc/passwd")
    error = caught.value
    assert (error.status, error.retryable) == (404, False)
    assert str(error) == f"{server.base_url}/pdf/2405.09999: HTTP 404"
    assert isinstance(error, ParamminerError)
    assert len(server.request_log) == 1
    assert store_contents(tmp_path) == []


def test_html_instead_of_pdf_is_refused_without_retry(
    server: FakeArxivServer, tmp_path: Path
) -> None:
    fetcher = PdfFetcher(tmp_path, base_url=server.base_url, **FAST)
    with fetcher, pytest.raises(FetchError, match=r"not a PDF \(starts with '<html>") as caught:
        fetcher.fetch("2405.00003v1")
    assert not caught.value.retryable
    assert len(server.request_log) == 1
    assert store_contents(tmp_path) == []


def test_429_waits_for_retry_after(server: FakeArxivServer, tmp_path: Path) -> None:
    server.set_faults(rate_limit_every=2, retry_after=1)
    with PdfFetcher(tmp_path, base_url=server.base_url, **FAST) as fetcher:
        fetcher.fetch("2405.00001v1")  # request 1
        fetched = fetcher.fetch("2405.00002v1")  # request 2 is 429, request 3 succeeds
    _, limited, ok = server.request_log
    assert (limited.status, ok.status) == (429, 200)
    assert ok.at - limited.at >= 1.0
    assert fetched.path.is_file()


def test_retry_after_as_http_date(server: FakeArxivServer, tmp_path: Path) -> None:
    server.set_faults(unavailable_every=2, retry_after=1, retry_after_http_date=True)
    with PdfFetcher(tmp_path, base_url=server.base_url, **FAST) as fetcher:
        fetcher.fetch("2405.00002v1")
        fetcher.fetch("2405.00001v1")  # 503 with an HTTP date, then 200
    statuses = [r.status for r in server.request_log]
    assert statuses == [200, 503, 200]
    # The date has one-second resolution, so the wait is between 0 and 1 s: it happened.
    assert server.request_log[2].at > server.request_log[1].at


def test_dropped_and_truncated_responses_are_retried(
    server: FakeArxivServer, data_dir: Path, tmp_path: Path
) -> None:
    server.set_faults(drop_every=2, truncate_every=2)
    with PdfFetcher(tmp_path, base_url=server.base_url, **FAST) as fetcher:
        fetched = [fetcher.fetch(pid) for pid in ("2405.00001v1", "2405.00001v2", "2405.00002v1")]
    # requests: 1 ok, 2 dropped, 3 truncated (2nd PDF), 4 dropped, 5 ok, 6 dropped, 7 ok(4th)...
    assert [r.status for r in server.request_log][:5] == [200, 0, 200, 0, 200]
    for item in fetched:
        assert (
            item.path.read_bytes()
            == (data_dir / f"{item.arxiv_id}v{item.version}.pdf").read_bytes()
        )
    assert len(store_contents(tmp_path)) == 3


def test_always_truncated_gives_up_and_stores_nothing(
    server: FakeArxivServer, tmp_path: Path
) -> None:
    server.set_faults(truncate_pdfs=True)
    fetcher = PdfFetcher(tmp_path, base_url=server.base_url, max_attempts=3, **FAST)
    with fetcher, pytest.raises(FetchError) as caught:
        fetcher.fetch("2405.00001v2")
    error = caught.value
    assert error.retryable
    assert "gave up after 3 attempts: truncated PDF: no %%EOF near the end" in str(error)
    assert "\n" not in str(error)
    assert len(server.request_log) == 3
    assert store_contents(tmp_path) == []


def test_persistent_503_gives_up(server: FakeArxivServer, tmp_path: Path) -> None:
    server.set_faults(unavailable_every=1, retry_after=0)
    fetcher = PdfFetcher(tmp_path, base_url=server.base_url, max_attempts=2, **FAST)
    with fetcher, pytest.raises(FetchError, match="gave up after 2 attempts: HTTP 503") as caught:
        fetcher.fetch("2405.00002v1")
    assert caught.value.retryable and caught.value.status == 503
    assert store_contents(tmp_path) == []


def test_long_retry_after_is_not_waited_out(server: FakeArxivServer, tmp_path: Path) -> None:
    server.set_faults(rate_limit_every=1, retry_after=900)
    fetcher = PdfFetcher(tmp_path, base_url=server.base_url, max_retry_after=60.0, **FAST)
    with fetcher, pytest.raises(FetchError, match="server asks to wait 900s") as caught:
        fetcher.fetch("2405.00002v1")
    assert caught.value.retryable
    assert len(server.request_log) == 1


def test_slow_server_times_out_then_recovers(server: FakeArxivServer, tmp_path: Path) -> None:
    server.set_faults(slow_seconds=0.6, slow_count=1)
    with PdfFetcher(tmp_path, base_url=server.base_url, timeout=0.3, **FAST) as fetcher:
        fetched = fetcher.fetch("2405.00002v1")
    assert fetched.path.is_file()
    assert len(server.request_log) >= 1  # the slow one is logged once its sleep ends


def test_minimum_delay_between_requests(server: FakeArxivServer, tmp_path: Path) -> None:
    with PdfFetcher(tmp_path, base_url=server.base_url, min_delay_seconds=0.5) as fetcher:
        for paper in ("2405.00001v1", "2405.00001v2", "2405.00002v1"):
            fetcher.fetch(paper)
    times = [r.at for r in server.request_log]
    # The server stamps arrivals; on a busy machine a new connection's first request
    # can be stamped late, so allow JITTER of scheduling noise.
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.5 - JITTER


def test_connection_refused_is_a_retryable_error(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port on 127.0.0.1 where nothing listens
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    fetcher = PdfFetcher(tmp_path, base_url=url, max_attempts=2, **FAST)
    with fetcher, pytest.raises(FetchError) as caught:
        fetcher.fetch("2405.00001")
    assert caught.value.retryable and "ConnectError" in str(caught.value)
    assert store_contents(tmp_path) == []


# ---------------------------------------------------------------- verification


def test_verify_pdf(data_dir: Path) -> None:
    good = (data_dir / "2405.00001v2.pdf").read_bytes()
    assert verify_pdf(good) == 3
    with pytest.raises(FetchError, match="truncated PDF") as truncated:
        verify_pdf(good[: len(good) // 2])
    assert truncated.value.retryable
    with pytest.raises(FetchError, match="not a PDF") as html:
        verify_pdf(b"<!DOCTYPE html>")
    assert not html.value.retryable
    with pytest.raises(FetchError, match="pypdf cannot read it"):
        verify_pdf(b"%PDF-1.4\ngarbage garbage\n%%EOF\n")


def test_store_is_atomic_when_interrupted(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = (data_dir / "2405.00002v1.pdf").read_bytes()

    def killed(fd: int) -> None:
        raise KeyboardInterrupt  # as if the process were stopped mid-write

    monkeypatch.setattr(os, "fsync", killed)
    with pytest.raises(KeyboardInterrupt):
        store_pdf(data, tmp_path)
    assert [p for p in store_contents(tmp_path) if p.endswith(".pdf")] == []
    assert store_contents(tmp_path) == []  # and the temporary file was cleaned up
    monkeypatch.undo()
    digest, path = store_pdf(data, tmp_path)
    assert path.read_bytes() == data and digest == hashlib.sha256(data).hexdigest()


def test_remove_partial_files(tmp_path: Path) -> None:
    shard = tmp_path / "ab"
    shard.mkdir()
    (shard / ".abcdef.x1.part").write_bytes(b"%PDF-half")
    (shard / "ab12.pdf").write_bytes(b"%PDF-whole")
    assert remove_partial_files(tmp_path) == 1
    assert store_contents(tmp_path) == ["ab/ab12.pdf"]


# ------------------------------------------------------------ retry arithmetic


def test_parse_retry_after() -> None:
    now = time.time()
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-3") is None
    in_a_minute = email.utils.formatdate(now + 60, usegmt=True)
    assert 58.0 <= (parse_retry_after(in_a_minute, now=now) or 0) <= 60.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 0.0


@given(
    attempt=st.integers(min_value=0, max_value=40),
    base=st.floats(min_value=0.01, max_value=10),
    cap=st.floats(min_value=0.01, max_value=600),
    seed=st.integers(),
)
def test_backoff_stays_within_half_and_whole_ceiling(
    attempt: int, base: float, cap: float, seed: int
) -> None:
    ceiling = min(cap, base * 2.0**attempt)
    wait = backoff_seconds(attempt, base=base, cap=cap, rng=random.Random(seed))
    assert ceiling / 2 <= wait <= ceiling
