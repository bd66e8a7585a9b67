"""The local arXiv server: real HTTP on 127.0.0.1, parsed by the real `arxiv` package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import arxiv
import httpx
import pytest
from reportlab.pdfgen import canvas

from paramminer import fakearxiv
from paramminer.errors import ConfigError, InputError
from paramminer.fakearxiv import FakeArxivServer, serve_in_thread

SHARED_ATOM = Path(__file__).resolve().parents[2] / "shared" / "arxiv-atom"
NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "arxiv": "http://arxiv.org/schemas/atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
}


def make_pdf(path: Path, text: str) -> None:
    pdf = canvas.Canvas(str(path), invariant=1, pageCompression=0)
    pdf.drawString(72, 720, text)
    pdf.showPage()
    pdf.save()


def record(paper_id: str, version: int, title: str, **extra: Any) -> dict[str, Any]:
    published = extra.pop("published", "2024-01-12T18:04:11Z")
    return {
        "id": paper_id,
        "version": version,
        "title": title,
        "summary": extra.pop("summary", f"We study {title.lower()}."),
        "authors": extra.pop("authors", ["Ada Lovelace", "Alan Turing"]),
        "categories": extra.pop("categories", ["cs.LG"]),
        "primary_category": extra.pop("primary_category", None),
        "published": published,
        "updated": extra.pop("updated", published),
        "comment": extra.pop("comment", None),
        "journal_ref": extra.pop("journal_ref", None),
        "doi": extra.pop("doi", None),
        "pdf": f"{paper_id.replace('/', '_')}v{version}.pdf",
        **extra,
    }


PAPERS = [
    record(
        "2401.90001", 1, "Attention Is All You Need Again",
        summary="A transformer with 175B parameters.",
        authors=["Ashish Vaswani", {"name": "Noam Shazeer", "affiliation": ["Google"]}],
        categories=["cs.CL", "cs.LG"], published="2024-01-10T10:00:00Z",
        comment="15 pages", doi="10.1000/xyz123", journal_ref="NeurIPS 2024",
    ),
    record(
        "2401.90001", 2, "Attention Is All You Need Again",
        summary="A transformer with 175B parameters (revised).",
        authors=["Ashish Vaswani", {"name": "Noam Shazeer", "affiliation": ["Google"]}],
        categories=["cs.CL", "cs.LG"], published="2024-01-10T10:00:00Z",
        updated="2024-03-01T09:30:00Z", comment="16 pages", doi="10.1000/xyz123",
    ),
    record(
        "2401.90002", 1, "Deep Residual Learning for Image Recognition",
        authors=["Kaiming He", "Jian Sun"], categories=["cs.CV"],
        published="2024-01-11T12:00:00Z",
    ),
    record(
        "2402.00003", 1, "Language Models are Few-Shot Learners",
        summary="GPT-3 is an autoregressive language model.",
        authors=["Tom Brown", "Dario Amodei"], categories=["cs.CL"],
        published="2024-02-01T08:00:00Z",
    ),
    record(
        "2402.00004", 1, "Mixture of Experts at Scale",
        summary="A sparse language model with 1.6T parameters.",
        authors=["William Fedus", "Noam Shazeer"], categories=["cs.LG", "cs.CL"],
        published="2024-02-15T08:00:00Z", updated="2024-02-20T08:00:00Z",
    ),
    record(
        "hep-th/9901001", 1, "Strings and Branes",
        summary="An old-style paper about string theory.",
        authors=["Edward Witten"], categories=["hep-th"], published="1999-01-04T00:00:00Z",
    ),
]  # fmt: skip


def write_data_dir(folder: Path, records: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for rec in records:
        make_pdf(folder / rec["pdf"], f"{rec['title']} v{rec['version']}")
    lines = [json.dumps(rec) for rec in records]
    (folder / "metadata.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_data_dir(tmp_path_factory.mktemp("arxivdata"), PAPERS)


@pytest.fixture(scope="module")
def server(data_dir: Path) -> Iterator[FakeArxivServer]:
    with serve_in_thread(data_dir) as running:
        yield running


def package_client(server: FakeArxivServer, page_size: int = 100) -> arxiv.Client:
    client = arxiv.Client(page_size=page_size, delay_seconds=0.0, num_retries=0)
    client.query_url_format = f"{server.base_url}/api/query?{{}}"  # instance, not class
    return client


def ids(results: Any) -> list[str]:
    return [r.get_short_id() for r in results]


def get_feed(server: FakeArxivServer, **params: str) -> tuple[int, ET.Element]:
    response = httpx.get(f"{server.base_url}/api/query", params=params)
    return response.status_code, ET.fromstring(response.content)


# ------------------------------------------------------------------- api/query


def test_id_list_is_parsed_by_the_arxiv_package(server: FakeArxivServer) -> None:
    search = arxiv.Search(id_list=["2401.90001", "2401.90002v1", "hep-th/9901001"])
    results = list(package_client(server).results(search))
    assert ids(results) == ["2401.90001v2", "2401.90002v1", "hep-th/9901001v1"]
    latest = results[0]
    assert latest.title == "Attention Is All You Need Again"
    assert latest.summary == "A transformer with 175B parameters (revised)."
    assert [a.name for a in latest.authors] == ["Ashish Vaswani", "Noam Shazeer"]
    assert latest.authors[1].affiliation == ["Google"]
    assert latest.categories == ["cs.CL", "cs.LG"]
    assert latest.primary_category == "cs.CL"
    assert latest.published == datetime(2024, 1, 10, 10, 0, tzinfo=UTC)
    assert latest.updated == datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
    assert latest.comment == "16 pages"
    assert latest.doi == "10.1000/xyz123"
    assert latest.journal_ref is None
    assert latest.pdf_url == f"{server.base_url}/pdf/2401.90001v2"
    assert results[2].pdf_url == f"{server.base_url}/pdf/hep-th/9901001v1"


def test_id_list_with_an_old_version(server: FakeArxivServer) -> None:
    results = list(package_client(server).results(arxiv.Search(id_list=["2401.90001v1"])))
    assert ids(results) == ["2401.90001v1"]
    assert results[0].comment == "15 pages"
    assert results[0].journal_ref == "NeurIPS 2024"
    assert results[0].updated == datetime(2024, 1, 10, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("cat:cs.CL", {"2401.90001", "2402.00003", "2402.00004"}),
        ("cat:cs.*", {"2401.90001", "2401.90002", "2402.00003", "2402.00004"}),
        ('ti:"all you need"', {"2401.90001"}),
        ("ti:learning", {"2401.90002"}),
        ("abs:parameters", {"2401.90001", "2402.00004"}),
        ("au:shazeer", {"2401.90001", "2402.00004"}),
        ("au:noam_shazeer", {"2401.90001", "2402.00004"}),
        ('au:"Kaiming He"', {"2401.90002"}),
        ("au:shazeer AND cat:cs.CL", {"2401.90001", "2402.00004"}),
        ("au:shazeer ANDNOT ti:attention", {"2402.00004"}),
        ("ti:residual OR ti:strings", {"2401.90002", "hep-th/9901001"}),
        ("(ti:residual OR ti:experts) AND cat:cs.LG", {"2402.00004"}),
        ("all:transformer", {"2401.90001"}),
        ("language", {"2402.00003", "2402.00004"}),
        ('"few-shot learners"', {"2402.00003"}),
        ("ti:learn*", {"2401.90002", "2402.00003"}),
        ("co:pages", {"2401.90001"}),
        ("submittedDate:[202401110000 TO 202402012359]", {"2401.90002", "2402.00003"}),
        ("cat:cs.CL AND submittedDate:[20240201 TO 20241231]", {"2402.00003", "2402.00004"}),
        ("lastUpdatedDate:[202402160000 TO 202403312359]", {"2401.90001", "2402.00004"}),
        ("ti:nothingmatchesthis", set()),
    ],
)
def test_search_query(server: FakeArxivServer, query: str, expected: set[str]) -> None:
    results = list(package_client(server).results(arxiv.Search(query, max_results=50)))
    found = [r.get_short_id().rsplit("v", 1)[0] for r in results]
    assert sorted(found) == sorted(expected)  # each paper once...
    for result in results:  # ...at its latest version
        assert result.get_short_id() != "2401.90001v1"


def test_relevance_puts_title_matches_first(server: FakeArxivServer) -> None:
    results = package_client(server).results(arxiv.Search("all:language", max_results=10))
    # 2402.00003 has "language" in title and abstract; 2402.00004 only in the abstract.
    assert ids(results) == ["2402.00003v1", "2402.00004v1"]


@pytest.mark.parametrize(
    ("sort_by", "order", "expected"),
    [
        (
            arxiv.SortCriterion.SubmittedDate,
            arxiv.SortOrder.Ascending,
            ["2401.90001v2", "2401.90002v1", "2402.00003v1", "2402.00004v1"],
        ),
        (
            arxiv.SortCriterion.SubmittedDate,
            arxiv.SortOrder.Descending,
            ["2402.00004v1", "2402.00003v1", "2401.90002v1", "2401.90001v2"],
        ),
        (
            arxiv.SortCriterion.LastUpdatedDate,
            arxiv.SortOrder.Descending,
            ["2401.90001v2", "2402.00004v1", "2402.00003v1", "2401.90002v1"],
        ),
    ],
)
def test_sorting(
    server: FakeArxivServer,
    sort_by: arxiv.SortCriterion,
    order: arxiv.SortOrder,
    expected: list[str],
) -> None:
    search = arxiv.Search("cat:cs.*", max_results=10, sort_by=sort_by, sort_order=order)
    assert ids(package_client(server).results(search)) == expected


def test_paging_returns_every_paper_once(server: FakeArxivServer) -> None:
    before = len(server.api_requests())
    search = arxiv.Search("cat:cs.*", max_results=None, sort_by=arxiv.SortCriterion.SubmittedDate)
    found = ids(package_client(server, page_size=3).results(search))
    assert found == ["2402.00004v1", "2402.00003v1", "2401.90002v1", "2401.90001v2"]
    pages = server.api_requests()[before:]
    assert ["start=0" in r.query for r in pages] == [True, False]
    assert "start=3" in pages[1].query and "max_results=3" in pages[1].query


def test_opensearch_header(server: FakeArxivServer) -> None:
    status, feed = get_feed(server, search_query="cat:cs.*", start="1", max_results="2")
    assert status == 200
    assert feed.findtext("opensearch:totalResults", namespaces=NS) == "4"
    assert feed.findtext("opensearch:startIndex", namespaces=NS) == "1"
    assert feed.findtext("opensearch:itemsPerPage", namespaces=NS) == "2"
    assert len(feed.findall("atom:entry", NS)) == 2
    status, feed = get_feed(server, search_query="cat:cs.*", start="10")
    assert feed.findtext("opensearch:totalResults", namespaces=NS) == "4"
    assert feed.findall("atom:entry", NS) == []


def test_empty_result(server: FakeArxivServer) -> None:
    status, feed = get_feed(server, id_list="0000.0000")
    assert status == 200
    assert feed.findtext("opensearch:totalResults", namespaces=NS) == "0"
    assert list(package_client(server).results(arxiv.Search(id_list=["0000.0000"]))) == []
    assert list(package_client(server).results(arxiv.Search(id_list=["2499.99999"]))) == []


def test_bad_id_is_an_error_entry_with_http_400(server: FakeArxivServer) -> None:
    status, feed = get_feed(server, id_list="abc")
    assert status == 400
    entry = feed.find("atom:entry", NS)
    assert entry is not None
    assert entry.findtext("atom:title", namespaces=NS) == "Error"
    assert entry.findtext("atom:summary", namespaces=NS) == "incorrect id format for abc"
    assert entry.findtext("atom:id", namespaces=NS) == (
        "https://arxiv.org/api/errors#incorrect_id_format_for_abc"
    )
    with pytest.raises(arxiv.HTTPError) as caught:
        list(package_client(server).results(arxiv.Search(id_list=["abc"])))
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"search_query": "ti:(deep"}, "parenthesis"),
        ({"search_query": "ti:deep)"}, "parenthesis"),
        ({"search_query": "foo:bar"}, "unknown field prefix 'foo'"),
        ({"search_query": "ti:deep AND"}, "ends where a term was expected"),
        ({"search_query": "submittedDate:[2024 TO 2025]"}, "YYYYMMDD"),
        ({"search_query": "submittedDate:[202413010000 TO 202501010000]"}, "does not exist"),
        ({"search_query": "submittedDate:2024"}, "needs a range"),
        ({"search_query": "cat:cs.LG", "start": "-1"}, "start must be non-negative"),
        ({"search_query": "cat:cs.LG", "max_results": "many"}, "max_results must be an integer"),
        ({"search_query": "cat:cs.LG", "max_results": "30001"}, "max_results must be <="),
        ({"search_query": "cat:cs.LG", "sortBy": "title"}, "sortBy must be"),
        ({"search_query": "cat:cs.LG", "sortOrder": "up"}, "sortOrder must be"),
    ],
)
def test_malformed_queries_are_http_400(
    server: FakeArxivServer, params: dict[str, str], reason: str
) -> None:
    status, feed = get_feed(server, **params)
    assert status == 400
    assert feed.findtext("atom:entry/atom:title", namespaces=NS) == "Error"
    assert reason in (feed.findtext("atom:entry/atom:summary", namespaces=NS) or "")


@pytest.mark.skipif(not SHARED_ATOM.is_dir(), reason=f"{SHARED_ATOM} is absent")
def test_entries_have_the_shape_of_real_ones(server: FakeArxivServer) -> None:
    """Every element and attribute a real 2026 entry has, ours has too (doi aside)."""

    def shape(entry: ET.Element) -> set[tuple[str, tuple[str, ...]]]:
        return {(child.tag, tuple(sorted(child.attrib))) for child in entry}

    real = ET.parse(SHARED_ATOM / "arxivpy_2026_idlist_oldstyle_astro-ph_0601001.xml")
    real_entry = real.getroot().find("atom:entry", NS)
    _, ours = get_feed(server, id_list="2401.90001v1")  # has comment, journal_ref and doi
    our_entry = ours.find("atom:entry", NS)
    assert real_entry is not None and our_entry is not None
    assert shape(real_entry) - shape(our_entry) == set()
    real_head = {child.tag for child in real.getroot() if child.tag != f"{{{NS['atom']}}}entry"}
    assert real_head <= {child.tag for child in ours}
    real_error = ET.parse(SHARED_ATOM / "arxivpy_2026_error_400_idlist_abc.xml").getroot()
    _, our_error = get_feed(server, id_list="abc")
    for path in ("atom:entry/atom:id", "atom:entry/atom:title", "atom:entry/atom:summary",
                 "atom:entry/atom:author/atom:name", "opensearch:totalResults"):  # fmt: skip
        assert our_error.findtext(path, namespaces=NS) == real_error.findtext(path, namespaces=NS)


# ------------------------------------------------------------------------- pdf


@pytest.mark.parametrize(
    ("path", "expected_text"),
    [
        ("/pdf/2401.90001", b"Again v2"),
        ("/pdf/2401.90001v1", b"Again v1"),
        ("/pdf/2401.90001v2.pdf", b"Again v2"),
        ("/pdf/hep-th/9901001v1", b"Branes v1"),
        ("/pdf/hep-th/9901001.pdf", b"Branes v1"),
    ],
)
def test_pdf(server: FakeArxivServer, path: str, expected_text: bytes) -> None:
    response = httpx.get(server.base_url + path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert expected_text in response.content  # reportlab stores short text uncompressed
    assert int(response.headers["content-length"]) == len(response.content)


@pytest.mark.parametrize(
    "path",
    [
        "/pdf/2401.99999",
        "/pdf/2401.90001v3",
        "/pdf/abc",
        "/pdf/../metadata.jsonl",
        "/pdf/%2e%2e/metadata.jsonl",
        "/abs/2401.90001",
        "/nothing",
    ],
)
def test_pdf_not_found(server: FakeArxivServer, path: str) -> None:
    assert httpx.get(server.base_url + path).status_code == 404


def test_request_log(server: FakeArxivServer) -> None:
    before = len(server.request_log)
    httpx.get(f"{server.base_url}/pdf/2401.90002v1", headers={"User-Agent": "probe/1"})
    entry = server.request_log[before]
    assert (entry.path, entry.query, entry.status, entry.user_agent) == (
        "/pdf/2401.90002v1",
        "",
        200,
        "probe/1",
    )
    assert entry.at <= time.monotonic()
    assert not entry.is_api


# ---------------------------------------------------------------------- faults


def statuses(base_url: str, n: int, path: str = "/api/query?id_list=2401.90002") -> list[int]:
    found = []
    for _ in range(n):
        try:
            found.append(httpx.get(base_url + path).status_code)
        except httpx.RemoteProtocolError:
            found.append(0)  # connection closed without a response
    return found


def test_rate_limit_every_nth_with_retry_after(data_dir: Path) -> None:
    with serve_in_thread(data_dir, rate_limit_every=3, retry_after=7) as srv:
        assert statuses(srv.base_url, 6) == [200, 200, 429, 200, 200, 429]
        response = httpx.get(srv.base_url + "/pdf/2401.90002")
        assert response.status_code == 200  # the 7th
        srv.set_faults(rate_limit_every=1, retry_after=7)
        limited = httpx.get(srv.base_url + "/pdf/2401.90002")
        assert limited.status_code == 429 and limited.headers["retry-after"] == "7"
        srv.set_faults(rate_limit_every=1, retry_after=30, retry_after_http_date=True)
        dated = httpx.get(srv.base_url + "/pdf/2401.90002").headers["retry-after"]
        assert dated.endswith(" GMT")


def test_unavailable_and_drop(data_dir: Path) -> None:
    with serve_in_thread(data_dir, unavailable_every=2, drop_every=3) as srv:
        assert statuses(srv.base_url, 6) == [200, 503, 0, 503, 200, 0]
        assert [r.status for r in srv.request_log] == [200, 503, 0, 503, 200, 0]


def test_set_faults_resets_counts_and_switches_off(data_dir: Path) -> None:
    with serve_in_thread(data_dir, unavailable_every=2) as srv:
        assert statuses(srv.base_url, 1) == [200]
        srv.set_faults(unavailable_every=2)
        assert statuses(srv.base_url, 2) == [200, 503]
        srv.set_faults()
        assert statuses(srv.base_url, 3) == [200, 200, 200]
        with pytest.raises(ConfigError, match="unknown fault"):
            srv.set_faults(explode_every=1)


def test_seeded_faults_are_random_but_repeatable(data_dir: Path) -> None:
    runs = []
    for _ in range(2):
        with serve_in_thread(data_dir, unavailable_every=2, seed=42) as srv:
            runs.append(statuses(srv.base_url, 12))
    assert runs[0] == runs[1]
    assert 200 in runs[0] and 503 in runs[0]
    assert runs[0] != [200, 503] * 6


def test_slow_first_k(data_dir: Path) -> None:
    with serve_in_thread(data_dir, slow_seconds=0.4, slow_count=1) as srv:
        timings = []
        for _ in range(2):
            started = time.monotonic()
            httpx.get(srv.base_url + "/pdf/2401.90002")
            timings.append(time.monotonic() - started)
        assert timings[0] >= 0.4 > timings[1]


def test_truncated_pdfs(data_dir: Path) -> None:
    full = (data_dir / "2401.90002v1.pdf").read_bytes()
    with serve_in_thread(data_dir, truncate_every=2) as srv:
        bodies = [httpx.get(srv.base_url + "/pdf/2401.90002v1") for _ in range(4)]
        assert [len(b.content) for b in bodies] == [len(full), len(full) // 2] * 2
        assert "content-length" not in bodies[1].headers
        assert bodies[1].content == full[: len(full) // 2]
        # API requests do not advance the PDF count.
        statuses(srv.base_url, 1)
        assert len(httpx.get(srv.base_url + "/pdf/2401.90002v1").content) == len(full)
        srv.set_faults(truncate_pdfs=True)
        assert len(httpx.get(srv.base_url + "/pdf/2401.90002v1").content) == len(full) // 2


# ------------------------------------------------------------------ data folders


def test_layered_folders_add_a_version(data_dir: Path, tmp_path: Path) -> None:
    update = write_data_dir(
        tmp_path / "v2",
        [record("2401.90002", 2, "Deeper Residual Learning", published="2024-01-11T12:00:00Z",
                updated="2024-05-01T00:00:00Z", categories=["cs.CV"])],
    )  # fmt: skip
    with serve_in_thread(data_dir) as srv:
        client = package_client(srv)
        assert ids(client.results(arxiv.Search(id_list=["2401.90002"]))) == ["2401.90002v1"]
        srv.load([data_dir, update])
        result = next(client.results(arxiv.Search(id_list=["2401.90002"])))
        assert (result.get_short_id(), result.title) == ("2401.90002v2", "Deeper Residual Learning")
        assert b"Learning v2" in httpx.get(srv.base_url + "/pdf/2401.90002").content
        assert b"Recognition v1" in httpx.get(srv.base_url + "/pdf/2401.90002v1").content


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "JSON object"),
        ('{"id": "2401.90001", "version": 0, "published": "2024-01-01T00:00:00Z"}', "version"),
        ('{"id": "../x", "version": 1}', "not an arXiv identifier"),
        ('{"id": "2401.90001", "version": 1, "published": "yesterday"}', "ISO 8601"),
        (
            '{"id": "2401.90001", "version": 1, "published": "2024-01-01T00:00:00Z", '
            '"pdf": "../../etc/passwd"}',
            "inside the data folder",
        ),
    ],
)
def test_bad_metadata_names_file_and_line(tmp_path: Path, line: str, reason: str) -> None:
    (tmp_path / "metadata.jsonl").write_text("\n" + line + "\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        fakearxiv.load_catalogue(tmp_path)
    assert "metadata.jsonl:2: " in str(caught.value)
    assert reason in str(caught.value)


def test_missing_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"metadata\.jsonl: no such file"):
        fakearxiv.load_catalogue(tmp_path / "absent")


def test_default_data_dir_is_the_bundled_sample() -> None:
    checkout = Path(__file__).resolve().parents[1] / "fixtures" / "sample"
    bundled = fakearxiv.default_data_dir()  # the checkout's, or the installed package's copy
    assert sorted(p.name for p in bundled.iterdir()) == sorted(p.name for p in checkout.iterdir())
    with serve_in_thread() as srv:
        assert len(srv.catalogue) > 0
        first = srv.catalogue.latest_records()[0]
        search = arxiv.Search(id_list=[first.arxiv_id.id])
        assert ids(package_client(srv).results(search)) == [first.arxiv_id.versioned]


def test_command_line(data_dir: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    command = [sys.executable, "-m", "paramminer.fakearxiv", "--data", str(data_dir),
               "--port", "0", "--unavailable-every", "2"]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as process:
        try:
            assert process.stdout is not None
            banner = process.stdout.readline()
            assert banner.startswith("fakearxiv serving 5 papers at http://127.0.0.1:")
            base_url = banner.split(" at ")[1].strip()
            assert statuses(base_url, 2) == [200, 503]
        finally:
            process.terminate()
            process.wait(timeout=10)
