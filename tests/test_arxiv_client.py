"""The polite metadata client, against the local server and recorded real responses."""

from __future__ import annotations

import csv
import itertools
import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from paramminer import __version__, arxiv_client
from paramminer.arxiv_client import ArxivApiError, ArxivClient, PaperMeta
from paramminer.errors import InputError
from paramminer.fakearxiv import FakeArxivServer, serve_in_thread

SHARED_ATOM = Path(__file__).resolve().parents[2] / "shared" / "arxiv-atom"
DELAY = 0.2
CHECKED_DELAY = 0.5
# The server stamps arrivals; on a busy machine a new connection's first request can be
# stamped late, which makes the next gap look shorter than the client kept it.
JITTER = 0.1
CONTACT = "tests@example.org"


def _paper(n: int, day: int, title: str, categories: list[str]) -> dict[str, Any]:
    return {
        "id": f"2403.{n:05d}",
        "version": 1,
        "title": title,
        "summary": f"  {title}:\n a model with {n} billion parameters. ",
        "authors": ["Grace Hopper", "Edsger Dijkstra"],
        "categories": categories,
        "primary_category": categories[0],
        "published": f"2024-03-{day:02d}T12:00:00Z",
        "updated": f"2024-03-{day:02d}T12:00:00Z",
        "comment": None,
        "journal_ref": None,
        "doi": None,
        "pdf": f"2403.{n:05d}v1.pdf",
    }


PAPERS = [_paper(n, n, f"Model number {n}", ["cs.LG"] if n % 2 else ["cs.CL", "cs.LG"])
          for n in range(1, 8)]  # fmt: skip


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clientdata")
    (folder / "metadata.jsonl").write_text(
        "\n".join(json.dumps(p) for p in PAPERS) + "\n", encoding="utf-8"
    )
    return folder  # metadata only: these tests never fetch PDFs


@pytest.fixture
def server(data_dir: Path) -> Iterator[FakeArxivServer]:
    with serve_in_thread(data_dir) as running:
        yield running


def client_for(server: FakeArxivServer, **options: Any) -> ArxivClient:
    options.setdefault("delay_seconds", DELAY)
    return ArxivClient(server.base_url, contact=CONTACT, **options)


def test_fetch_ids_returns_plain_dataclasses(server: FakeArxivServer) -> None:
    with client_for(server) as client:
        papers = client.fetch_ids(["2403.00002", "2403.00001v1", "2403.00002"])
    assert papers == [
        PaperMeta(
            arxiv_id="2403.00002",
            version=1,
            title="Model number 2",
            abstract="Model number 2: a model with 2 billion parameters.",
            authors=("Grace Hopper", "Edsger Dijkstra"),
            categories=("cs.CL", "cs.LG"),
            primary_category="cs.CL",
            published=date(2024, 3, 2),
            published_at=datetime(2024, 3, 2, 12, 0, tzinfo=UTC),
            updated=datetime(2024, 3, 2, 12, 0, tzinfo=UTC),
            pdf_url=f"{server.base_url}/pdf/2403.00002v1",
        ),
        papers[1],
    ]
    assert papers[1].versioned_id == "2403.00001v1"
    (request,) = server.api_requests()
    assert request.user_agent == f"paramminer/{__version__} (mailto:{CONTACT})"


def test_search_pages_and_keeps_the_delay_between_requests(server: FakeArxivServer) -> None:
    with client_for(server, page_size=2, delay_seconds=CHECKED_DELAY) as client:
        papers = list(client.search("cat:cs.LG", max_results=None))
    assert [p.arxiv_id for p in papers] == [f"2403.{n:05d}" for n in range(7, 0, -1)]
    requests = server.api_requests()
    assert len(requests) == 4  # 2 + 2 + 2 + 1
    gaps = [b.at - a.at for a, b in itertools.pairwise(requests)]
    assert min(gaps) >= CHECKED_DELAY - JITTER
    # The spacing is per process: a second client waits for the first one's last request.
    with client_for(server, delay_seconds=CHECKED_DELAY) as other:
        other.fetch_ids(["2403.00001"])
    assert server.api_requests()[-1].at - requests[-1].at >= CHECKED_DELAY - JITTER


def test_search_options(server: FakeArxivServer) -> None:
    with client_for(server, page_size=3) as client:
        limited = list(client.search("cat:cs.LG", max_results=4, sort_order="ascending"))
        dated = list(client.search("cat:cs.CL", start_date="2024-03-03", end_date=date(2024, 3, 6)))
        only_dates = list(client.search("", start_date=date(2024, 3, 7)))
        assert list(client.search("cat:cs.LG", max_results=0)) == []
        with pytest.raises(InputError, match="unknown sort"):
            list(client.search("cat:cs.LG", sort_by="title"))
        with pytest.raises(InputError, match="empty query"):
            list(client.search(" "))
    assert [p.arxiv_id for p in limited] == ["2403.00001", "2403.00002", "2403.00003", "2403.00004"]
    assert [p.arxiv_id for p in dated] == ["2403.00006", "2403.00004"]
    assert [p.arxiv_id for p in only_dates] == ["2403.00007"]
    queries = [r.query for r in server.api_requests()]
    assert "submittedDate%3A%5B202403030000+TO+202403062359%5D" in queries[2]


def test_module_level_functions(server: FakeArxivServer) -> None:
    found = arxiv_client.search(
        "ti:number", base_url=server.base_url, delay_seconds=DELAY, max_results=2
    )
    assert [p.arxiv_id for p in found] == ["2403.00007", "2403.00006"]
    papers = arxiv_client.fetch_ids(["2403.00005"], base_url=server.base_url, delay_seconds=DELAY)
    assert [p.versioned_id for p in papers] == ["2403.00005v1"]
    assert server.api_requests()[0].user_agent == f"paramminer/{__version__}"


def test_bad_id_fails_before_any_request(server: FakeArxivServer) -> None:
    with client_for(server) as client, pytest.raises(InputError, match="not an arXiv identifier"):
        client.fetch_ids(["2403.00001", "../etc/passwd"])
    assert server.request_log == []


def test_malformed_query_is_not_retried(server: FakeArxivServer) -> None:
    with client_for(server) as client, pytest.raises(ArxivApiError) as caught:
        list(client.search("ti:(deep"))
    error = caught.value
    assert (error.status, error.retryable) == (400, False)
    assert "arXiv API error: unbalanced parenthesis in search_query" in str(error)
    assert len(server.request_log) == 1


def test_unknown_ids_are_simply_absent(server: FakeArxivServer) -> None:
    with client_for(server) as client:
        assert client.fetch_ids(["2403.99999", "2403.00003v2"]) == []


def test_429_is_retried_after_retry_after(server: FakeArxivServer) -> None:
    server.set_faults(rate_limit_every=2, retry_after=1)
    with client_for(server) as client:
        assert len(client.fetch_ids(["2403.00001"])) == 1  # request 1
        assert len(client.fetch_ids(["2403.00002"])) == 1  # request 2 is 429, 3 succeeds
    first, limited, retried = server.api_requests()
    assert (first.status, limited.status, retried.status) == (200, 429, 200)
    assert retried.at - limited.at >= 1.0


def test_dropped_connections_and_503_are_retried(server: FakeArxivServer) -> None:
    server.set_faults(drop_every=2, unavailable_every=3, retry_after=0)
    with client_for(server, page_size=2, backoff_base=0.05) as client:
        papers = list(client.search("cat:cs.LG", max_results=None))
    assert len(papers) == 7
    statuses = [r.status for r in server.api_requests()]
    assert statuses == [200, 0, 503, 0, 200, 0, 200, 0, 503, 0, 200]  # 4 pages, 7 failures


def test_persistent_503_gives_up_with_a_retryable_error(server: FakeArxivServer) -> None:
    server.set_faults(unavailable_every=1, retry_after=0)
    with client_for(server, max_attempts=3) as client, pytest.raises(ArxivApiError) as caught:
        client.fetch_ids(["2403.00001"])
    assert caught.value.retryable
    assert "gave up after 3 attempts: HTTP 503" in str(caught.value)
    assert len(server.request_log) == 3


def test_a_long_retry_after_is_not_waited_out(server: FakeArxivServer) -> None:
    server.set_faults(rate_limit_every=1, retry_after=3600)
    with client_for(server, max_retry_after=60) as client, pytest.raises(ArxivApiError) as caught:
        client.fetch_ids(["2403.00001"])
    assert caught.value.retryable and "server asks to wait 3600s" in str(caught.value)
    assert len(server.request_log) == 1


# ----------------------------------------------------- recorded real responses


class _Recorded(BaseHTTPRequestHandler):
    """Answers every request with one recorded body and status."""

    body = b""
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Type", "application/atom+xml; charset=UTF-8")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _recordings() -> dict[str, int]:
    provenance = SHARED_ATOM / "PROVENANCE.csv"
    if not provenance.is_file():
        return {}
    with provenance.open(newline="") as handle:
        return {row["file"]: int(row["http_status"]) for row in csv.DictReader(handle)}


RECORDINGS = _recordings()
needs_shared = pytest.mark.skipif(
    not RECORDINGS, reason=f"recorded arXiv responses absent ({SHARED_ATOM}/PROVENANCE.csv)"
)


def replay(file: str, call: Any) -> Any:
    """Serve one recorded response on 127.0.0.1 and run `call(client)` against it."""
    handler = type("Handler", (_Recorded,), {
        "body": (SHARED_ATOM / file).read_bytes(), "status": RECORDINGS[file]
    })  # fmt: skip
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as httpd:
        thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        try:
            base = f"http://127.0.0.1:{httpd.server_address[1]}"
            with ArxivClient(base, delay_seconds=0.0, max_attempts=1) as client:
                return call(client)
        finally:
            httpd.shutdown()


@needs_shared
def test_every_recording_is_covered() -> None:
    assert set(RECORDINGS) == {p.name for p in SHARED_ATOM.glob("*.xml")}
    assert {f for f in RECORDINGS if f not in EXPECTED} == {"arxivpy_2026_error_400_idlist_abc.xml"}


# file -> (call, count, first versioned id, title, published, primary, extra checks)
EXPECTED: dict[str, tuple[str, int, str, str, date, str, dict[str, Any]]] = {
    "arxivpy_2016_idlist_1111.2011v2.xml": (
        "ids", 1, "1111.2011v2",
        "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit",
        date(2011, 11, 8), "cond-mat.str-el",
        {"doi": "10.1103/PhysRevB.85.115117", "journal_ref": "Phys. Rev. B 85, 115117 (2012)",
         "categories": ("cond-mat.str-el", "cond-mat.stat-mech"),
         "pdf_url": "http://arxiv.org/pdf/1111.2011v2",
         "updated": datetime(2012, 4, 2, 12, 38, 54, tzinfo=UTC)},
    ),
    "arxivpy_2016_search_au_del_maestro.xml": (
        "search", 10, "1201.4869v1", "A Luttinger Liquid Core Inside Helium-4 Filled Nanopores",
        date(2012, 1, 23), "cond-mat.mes-hall", {"authors": ("Adrian Del Maestro",)},
    ),
    "arxivpy_2026_empty_idlist_0000.0000.xml": ("ids", 0, "", "", date.min, "", {}),
    "arxivpy_2026_idlist_0808.05394_1707.08567.xml": (
        "ids", 1, "1707.08567v1",
        "Proceedings of Workshop AEW10: Concepts in Information Theory and Communications",
        date(2017, 7, 27), "cs.IT",
        {"pdf_url": "https://arxiv.org/pdf/1707.08567v1", "doi": None,
         "comment": "44 pages, editors for the proceedings: Yanling Chen and A. J. Han Vinck"},
    ),
    "arxivpy_2026_idlist_1707.08567.xml": (
        "ids", 1, "1707.08567v1",
        "Proceedings of Workshop AEW10: Concepts in Information Theory and Communications",
        date(2017, 7, 27), "cs.IT", {"categories": ("cs.IT",)},
    ),
    "arxivpy_2026_idlist_oldstyle_astro-ph_0601001.xml": (
        "ids", 1, "astro-ph/0601001v1",
        "Frequency of Hot Jupiters and Very Hot Jupiters from the OGLE-III Transit Surveys "
        "Toward the Galactic Bulge and Carina",
        date(2006, 1, 2), "astro-ph",
        {"journal_ref": "ActaAstron.56:1-50,2006", "arxiv_id": "astro-ph/0601001",
         "authors": ("Andrew Gould", "Susan Dorsher", "B. Scott Gaudi", "Andrzej Udalski")},
    ),
    "arxivpy_2026_search_testing_m10.xml": (
        "search", 10, "2202.12139v1",
        "Testing Deep Learning Models: A First Comparative Study of Multiple Testing Techniques",
        date(2022, 2, 24), "cs.SE", {"categories": ("cs.SE", "cs.LG")},
    ),
}  # fmt: skip


@needs_shared
@pytest.mark.parametrize("file", sorted(EXPECTED))
def test_recorded_response(file: str) -> None:
    call, count, first_id, title, published, primary, extra = EXPECTED[file]

    def run(client: ArxivClient) -> list[PaperMeta]:
        if call == "ids":
            return client.fetch_ids(["1111.2011v2"])
        return list(client.search("all:testing", max_results=10))

    papers = replay(file, run)
    assert len(papers) == count
    direct = arxiv_client.parse_feed((SHARED_ATOM / file).read_bytes())
    assert direct.papers == papers  # one parser, whichever way the bytes arrive
    if not count:
        assert direct.total_results == 0
        return
    paper = papers[0]
    assert paper.versioned_id == first_id
    assert (paper.title, paper.published, paper.primary_category) == (title, published, primary)
    assert paper.published_at.date() == published and paper.published_at.tzinfo is not None
    assert paper.abstract == " ".join(paper.abstract.split()) != ""
    for name, value in extra.items():
        assert getattr(paper, name) == value, name
    assert len({p.versioned_id for p in papers}) == count


@needs_shared
def test_recorded_error_response() -> None:
    file = "arxivpy_2026_error_400_idlist_abc.xml"
    assert RECORDINGS[file] == 400
    with pytest.raises(ArxivApiError) as caught:
        replay(file, lambda client: client.fetch_ids(["2403.00001"]))
    assert (caught.value.status, caught.value.retryable) == (400, False)
    assert str(caught.value).endswith("arXiv API error: incorrect id format for abc")
    body = (SHARED_ATOM / file).read_bytes()
    assert arxiv_client.error_reason(body) == "incorrect id format for abc"
    with pytest.raises(ArxivApiError, match="incorrect id format for abc"):
        arxiv_client.parse_feed(body)


@needs_shared
def test_search_totals_from_recordings() -> None:
    body = (SHARED_ATOM / "arxivpy_2026_search_testing_m10.xml").read_bytes()
    page = arxiv_client.parse_feed(body)
    assert (page.total_results, page.start_index, page.items_per_page) == (214881, 0, 10)
    old = arxiv_client.parse_feed(
        (SHARED_ATOM / "arxivpy_2016_search_au_del_maestro.xml").read_bytes()
    )
    assert (old.total_results, len(old.papers)) == (31, 10)
