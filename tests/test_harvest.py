"""Harvest acceptance tests: real HTTP to the local arXiv on 127.0.0.1, real DuckDB files.

Delays are small (0.2 s between API requests) so the suite stays fast; the politeness
logic is the same one that spaces requests 3 s apart for arxiv.org.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import duckdb
import pytest
from click.testing import CliRunner

from paramminer.cli import cli
from paramminer.config import QuerySpec, Settings
from paramminer.errors import ConfigError
from paramminer.fakearxiv import FakeArxivServer, serve_in_thread
from paramminer.fetch import stored_path, verify_pdf
from paramminer.harvest import (
    EXIT_BUSY,
    EXIT_NOTHING_DONE,
    EXIT_OK,
    EXIT_PARTIAL,
    HarvestBusyError,
    HarvestLock,
    date_clause,
    lock_path,
    run_harvest,
    search_query_for,
)

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "fixtures" / "sample"
SAMPLE_V2 = ROOT / "fixtures" / "sample-v2"
SAMPLE_IDS = {"2401.90001", "2203.90002", "2305.90003", "2011.90004", "2502.90005"}
API_DELAY = 0.2
# The client spaces request *starts*; the server stamps arrivals, a few ms later under load.
ARRIVAL_JITTER = 0.03
ALL_SAMPLE = QuerySpec("sample", categories=("cs.CL", "cs.LG", "cs.CV", "eess.AS"))


@pytest.fixture(scope="session")
def text_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")  # parsed page texts, shared: parse each PDF once


@pytest.fixture
def server() -> Iterator[FakeArxivServer]:
    with serve_in_thread(SAMPLE) as running:
        yield running


def settings_for(root: Path, base_url: str, cache: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": root / "data",
        "cache_dir": cache,
        "arxiv_url": base_url,
        "api_delay": API_DELAY,
        "pdf_delay": 0.05,
        "retry_backoff": 0.05,
        "http_timeout": 5.0,
        "contact": "tests@example.org",
        "start_date": "2000-01-01",
        "workers": 1,
        "queries": (ALL_SAMPLE,),
    }
    return replace(Settings(), **{**values, **overrides})


def rows(settings: Settings, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def count(settings: Settings, table: str) -> int:
    return int(rows(settings, f"SELECT count(*) FROM {table}")[0][0])


def assert_store_sound(settings: Settings) -> None:
    """Only whole, verified PDFs, each under its own sha256, and no temp files."""
    store = settings.pdf_store_dir
    if not store.exists():
        return
    assert not list(store.glob("*/.*")), "partial files left in the PDF store"
    for path in store.glob("*/*.pdf"):
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        assert path == stored_path(store, digest)
        assert verify_pdf(data) >= 1


@pytest.fixture(scope="module")
def harvested(tmp_path_factory: pytest.TempPathFactory, text_cache: Path) -> Path:
    """A data folder after one complete harvest of the sample (tests copy it)."""
    root = tmp_path_factory.mktemp("harvested")
    with serve_in_thread(SAMPLE) as running:
        report = run_harvest(settings_for(root, running.base_url, text_cache))
    assert report.exit_code == EXIT_OK, report.failures
    return root


def copy_of(harvested: Path, tmp_path: Path) -> Path:
    shutil.copytree(harvested / "data", tmp_path / "data")
    return tmp_path


# --------------------------------------------------------------------------- units


def test_search_query_ors_categories_and_keywords_and_ands_them() -> None:
    spec = QuerySpec("llm", ("cs.CL", "cs.LG"), ("language model", 'say "hi"'))
    assert search_query_for(spec) == (
        '(cat:cs.CL OR cat:cs.LG) AND (all:"language model" OR all:"say hi")'
    )
    assert search_query_for(QuerySpec("cv", ("cs.CV",))) == "cat:cs.CV"
    with pytest.raises(ConfigError, match="not an arXiv category"):
        search_query_for(QuerySpec("bad", ("cs.CL) OR (all:x",)))


def test_date_clause_first_run_then_watermark_minus_lookback() -> None:
    from datetime import date, datetime

    now = datetime(2025, 3, 1, 12, 0)
    first = date_clause(None, date(2024, 1, 1), 3, now)
    assert first == "submittedDate:[202401010000 TO 202503021200]"
    later = date_clause(datetime(2025, 2, 11, 10, 15, 33), date(2024, 1, 1), 1, now)
    assert later == "lastUpdatedDate:[202502101015 TO 202503021200]"


# --------------------------------------------------------------------------- harvest


def test_first_harvest_loads_every_sample_paper_with_api_metadata(
    harvested: Path, text_cache: Path
) -> None:
    settings = settings_for(harvested, "http://unused", text_cache)
    papers = rows(settings, "SELECT paper_id, arxiv_version, published, date_source, title "
                            "FROM papers ORDER BY paper_id")
    assert {p[0] for p in papers} == SAMPLE_IDS
    by_id = {p[0]: p for p in papers}
    assert by_id["2305.90003"][1] == 2  # harvested at its latest version
    assert str(by_id["2401.90001"][2]) == "2024-01-12"  # v1 date from the API
    assert {p[3] for p in papers} == {"arxiv_api"}
    assert by_id["2401.90001"][4].startswith("Halcyon")
    versions = rows(settings, "SELECT paper_id, version, sha256 FROM paper_versions")
    assert {(v[0], v[1]) for v in versions} == {
        ("2401.90001", 1), ("2203.90002", 1), ("2305.90003", 2), ("2011.90004", 1),
        ("2502.90005", 1)}
    assert count(settings, "documents") == 5
    assert count(settings, "harvest_queue") == 0
    run = rows(settings, "SELECT status, api_requests, new_papers, pdfs_downloaded, ingested, "
                         "failures, finished_at IS NOT NULL FROM harvest_runs")
    assert run == [("ok", 1, 5, 5, 5, 0, True)]
    mark = rows(settings, "SELECT query_name, watermark FROM harvest_watermarks")
    assert [(m[0], str(m[1])) for m in mark] == [("sample", "2025-02-11 10:15:33")]
    assert_store_sound(settings)


def test_api_requests_are_never_closer_than_the_delay(
    tmp_path: Path, server: FakeArxivServer, text_cache: Path
) -> None:
    queries = (ALL_SAMPLE, QuerySpec("models", keywords=("model", "parameters")))
    settings = settings_for(tmp_path, server.base_url, text_cache, page_size=2,
                            queries=queries)
    server.set_faults(rate_limit_every=4, retry_after=0)  # retries must wait their turn too
    report = run_harvest(settings, dry_run=True)
    api = server.api_requests()
    assert report.api_requests == len(api) >= 6  # 3 pages per query, plus retries
    assert any(r.status == 429 for r in api)
    gaps = [b.at - a.at for a, b in itertools.pairwise(api)]
    assert min(gaps) >= API_DELAY - ARRIVAL_JITTER, gaps
    assert all(r.user_agent.endswith("(mailto:tests@example.org)") for r in api)


def test_second_run_with_nothing_new_asks_once_per_query_and_downloads_nothing(
    harvested: Path, tmp_path: Path, server: FakeArxivServer, text_cache: Path
) -> None:
    settings = settings_for(copy_of(harvested, tmp_path), server.base_url, text_cache)
    report = run_harvest(settings)
    assert report.exit_code == EXIT_OK
    assert [q.api_requests for q in report.queries] == [1]
    assert (report.new_papers, report.pdfs_downloaded, report.pdf_requests) == (0, 0, 0)
    assert len(server.api_requests()) == 1
    assert not [r for r in server.request_log if r.path.startswith("/pdf/")]
    assert count(settings, "documents") == 5
    assert rows(settings, "SELECT run_id, status, api_requests, pdfs_downloaded "
                          "FROM harvest_runs ORDER BY run_id") == [(1, "ok", 1, 5), (2, "ok", 1, 0)]


@pytest.mark.parametrize(
    "faults",
    [
        {"rate_limit_every": 3, "retry_after": 1, "unavailable_every": 5, "drop_every": 7},
        {"slow_seconds": 1.2, "slow_count": 2},  # slower than http_timeout: timeouts, retried
        {"truncate_every": 2},
    ],
    ids=["429-503-drop", "slow", "truncated"],
)
def test_transient_faults_are_retried_and_end_in_a_complete_harvest(
    tmp_path: Path, server: FakeArxivServer, text_cache: Path, faults: dict[str, Any]
) -> None:
    server.set_faults(**faults)
    settings = settings_for(tmp_path, server.base_url, text_cache, http_timeout=0.6)
    report = run_harvest(settings)
    assert report.exit_code == EXIT_OK, report.failures
    assert {p.rsplit("v", 1)[0] for p in report.ingested} == SAMPLE_IDS
    statuses = [r.status for r in server.request_log]
    retried_requests = report.api_requests + report.pdf_requests - 6
    assert retried_requests >= 1, statuses  # the faults did fire and were retried
    assert count(settings, "documents") == 5
    assert_store_sound(settings)


def test_always_truncated_pdfs_are_recorded_never_stored_then_retried(
    tmp_path: Path, server: FakeArxivServer, text_cache: Path
) -> None:
    server.set_faults(truncate_pdfs=True)
    settings = settings_for(tmp_path, server.base_url, text_cache, retries=2)
    report = run_harvest(settings)
    assert report.exit_code == EXIT_PARTIAL  # the API answered; every PDF failed
    assert len(report.failures) == 5
    assert all("truncated" in f.reason and f.stage == "fetch" for f in report.failures)
    assert not list(settings.pdf_store_dir.glob("*/*.pdf"))
    assert_store_sound(settings)
    queue = rows(settings, "SELECT status, attempts, last_error FROM harvest_queue")
    assert len(queue) == 5 and all(q[:2] == ("failed", 1) and "truncated" in q[2] for q in queue)
    assert rows(settings, "SELECT status, failures FROM harvest_runs") == [("partial", 5)]

    server.set_faults()  # arXiv is healthy again: the next run finishes the queue
    again = run_harvest(settings)
    assert again.exit_code == EXIT_OK
    assert (again.retried, again.pdfs_downloaded, len(again.ingested)) == (5, 5, 5)
    assert count(settings, "harvest_queue") == 0
    assert count(settings, "paper_versions") == 5
    assert_store_sound(settings)


def test_a_retry_after_longer_than_allowed_is_a_clear_failure(
    tmp_path: Path, server: FakeArxivServer, text_cache: Path
) -> None:
    server.set_faults(rate_limit_every=1, retry_after=600)
    settings = settings_for(tmp_path, server.base_url, text_cache, max_retry_after=5)
    report = run_harvest(settings)
    assert report.exit_code == EXIT_NOTHING_DONE
    assert [(f.item, f.stage) for f in report.failures] == [("sample", "query")]
    assert "server asks to wait 600s" in report.failures[0].reason
    assert len(server.api_requests()) == 1  # no hammering while told to wait
    assert count(settings, "harvest_watermarks") == 0  # the next run asks again
    (errors,) = rows(settings, "SELECT errors FROM harvest_runs")[0]
    assert "600s" in json.loads(errors)[0]


def test_a_new_version_is_fetched_and_reextracted_and_the_old_document_stays(
    harvested: Path, tmp_path: Path, server: FakeArxivServer, text_cache: Path
) -> None:
    # The fixture's v2 is dated 2024-03-05, before the sample's newest paper (the
    # watermark, 2025-02-11): a look-back of 400 days reaches it. On arXiv a new version
    # is newer than what was announced before it, and the default 3-day look-back covers
    # the announcement lag.
    settings = settings_for(copy_of(harvested, tmp_path), server.base_url, text_cache,
                            lookback_days=400)
    before = rows(settings, "SELECT sha256 FROM papers WHERE paper_id = '2401.90001'")[0][0]
    assert not rows(settings, "SELECT 1 FROM systems WHERE paper_id = '2401.90001' "
                              "AND parameters = 34000000000")
    server.load([SAMPLE, SAMPLE_V2])
    report = run_harvest(settings)
    assert report.exit_code == EXIT_OK
    assert (report.new_papers, report.new_versions, report.pdfs_downloaded) == (0, 1, 1)
    assert report.ingested == ["2401.90001v2"]
    assert [r.path for r in server.request_log if r.path.startswith("/pdf/")] == [
        "/pdf/2401.90001v2"]
    versions = rows(settings, "SELECT version, sha256 FROM paper_versions "
                              "WHERE paper_id = '2401.90001' ORDER BY version")
    assert [v[0] for v in versions] == [1, 2] and versions[0][1] == before
    after = versions[1][1]
    assert after != before
    documents = {r[0] for r in rows(settings, "SELECT sha256 FROM documents")}
    assert {before, after} <= documents and len(documents) == 6
    assert rows(settings, "SELECT sha256, arxiv_version FROM papers "
                          "WHERE paper_id = '2401.90001'") == [(after, 2)]
    assert rows(settings, "SELECT system FROM systems WHERE paper_id = '2401.90001' "
                          "AND parameters = 34000000000") == [("Halcyon-34B",)]
    assert_store_sound(settings)


def test_a_second_harvest_while_one_runs_exits_busy(
    tmp_path: Path, server: FakeArxivServer, text_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.set_faults(slow_seconds=1.5, slow_count=1)  # keeps the first harvest running
    settings = settings_for(tmp_path, server.base_url, text_cache)
    first: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: first.update(report=run_harvest(settings)))
    thread.start()
    lock = lock_path(settings)
    deadline = time.monotonic() + 10
    while not (lock.exists() and lock.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.02)
    monkeypatch.setenv("PARAMMINER_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PARAMMINER_ARXIV_URL", server.base_url)
    result = CliRunner().invoke(cli, ["harvest", "--category", "cs.CL", "--api-delay", "0.2"])
    thread.join(timeout=60)
    assert result.exit_code == EXIT_BUSY == 75
    assert "another harvest is running (pid " in result.output
    assert str(lock) in result.output
    assert first["report"].exit_code == EXIT_OK  # the first one was not disturbed
    assert len(server.api_requests()) == 1  # the refused one asked nothing


def test_a_stale_lock_of_a_dead_process_is_taken_over(
    tmp_path: Path, server: FakeArxivServer, text_cache: Path
) -> None:
    settings = settings_for(tmp_path, server.base_url, text_cache, queries=(
        QuerySpec("vision", ("cs.CV",)),))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = int(dead.stdout)
    lock_path(settings).parent.mkdir(parents=True)
    lock_path(settings).write_text(f"{dead_pid} 2025-01-01T00:00:00Z\n")
    report = run_harvest(settings)
    assert report.exit_code == EXIT_OK
    assert report.stale_lock_pid == dead_pid
    assert lock_path(settings).read_text() == ""  # released
    with HarvestLock(lock_path(settings)), pytest.raises(HarvestBusyError):
        HarvestLock(lock_path(settings)).acquire()


def test_dry_run_writes_nothing(
    harvested: Path, tmp_path: Path, server: FakeArxivServer, text_cache: Path
) -> None:
    fresh = settings_for(tmp_path / "fresh", server.base_url, text_cache)
    report = run_harvest(fresh, dry_run=True)
    assert sorted(p.label for p in report.planned) == sorted(
        ["2401.90001v1", "2203.90002v1", "2305.90003v2", "2011.90004v1", "2502.90005v1"])
    assert not (tmp_path / "fresh").exists()  # no data folder, lock, warehouse or PDF

    settings = settings_for(copy_of(harvested, tmp_path), server.base_url, text_cache,
                            lookback_days=400)
    server.load([SAMPLE, SAMPLE_V2])
    files = {p: p.read_bytes() for p in settings.data_dir.rglob("*") if p.is_file()}
    runner = CliRunner()
    env = {"PARAMMINER_DATA_DIR": str(settings.data_dir), "PARAMMINER_ARXIV_URL": server.base_url,
           "PARAMMINER_START_DATE": "2000-01-01", "PARAMMINER_LOOKBACK_DAYS": "400",
           "PARAMMINER_API_DELAY": "0.2"}
    result = runner.invoke(cli, ["harvest", "--dry-run", "--category", "cs.CL", "--category",
                                 "cs.LG", "--category", "cs.CV", "--category", "eess.AS"],
                           env=env)
    assert result.exit_code == 0, result.output
    assert "would fetch 2401.90001v2" in result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["dry_run"] and summary["would_fetch"] == ["2401.90001v2"]
    assert not [r for r in server.request_log if r.path.startswith("/pdf/")]
    assert {p: p.read_bytes() for p in settings.data_dir.rglob("*") if p.is_file()} == files


def test_cli_harvest_json_summary_and_toml_queries(
    tmp_path: Path, server: FakeArxivServer, text_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "paramminer.toml").write_text(
        '[paramminer]\nstart_date = "2000-01-01"\napi_delay = 0.2\npdf_delay = 0.05\n'
        f'contact = "ops@example.org"\ncache_dir = "{text_cache}"\nworkers = 1\n\n'
        '[[query]]\nname = "vision"\ncategories = ["cs.CV"]\n\n'
        '[[query]]\nname = "speech"\ncategories = ["eess.AS", "cs.SD"]\nkeywords = ["speech"]\n'
    )
    result = CliRunner().invoke(cli, ["run", "--arxiv-url", server.base_url],
                                env={"PARAMMINER_API_DELAY": "0.25"})
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert {k: summary[k] for k in ("api_requests", "new_papers", "pdfs_downloaded",
                                    "failures")} == {
        "api_requests": 2, "new_papers": 2, "pdfs_downloaded": 2, "failures": 0}
    assert set(summary["queries"]) == {"vision", "speech"}
    assert summary["warehouse"]["papers"] == 2
    api = server.api_requests()
    assert "cat:eess.AS" in unquote_plus(api[1].query)
    assert min(b.at - a.at for a, b in itertools.pairwise(api)) >= 0.25 - ARRIVAL_JITTER
    assert all("ops@example.org" in r.user_agent for r in server.request_log)
    assert Path("data/paramminer.duckdb").exists()

    missing = CliRunner().invoke(cli, ["harvest", "--query", "nope"])
    assert missing.exit_code == 2 and "no [[query]] named 'nope'" in missing.output


def test_no_queries_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["harvest"], env={"PARAMMINER_CONFIG": ""})
    assert result.exit_code == 2
    assert "no harvest queries" in result.output


def test_demo_harvests_the_sample_through_the_local_arxiv(
    tmp_path: Path, text_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"PARAMMINER_CACHE_DIR": str(text_cache), "PARAMMINER_WORKERS": "1"}
    result = CliRunner().invoke(cli, ["demo"], env=env)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "query demo-sample: 5 seen, 5 new (1 API request)" in out
    for paper in ["2401.90001", "2203.90002", "2305.90003", "2011.90004", "tern-recomm"]:
        assert paper in out  # a row of the systems table (long ids wrap)
    for system in ["Halcyon-70B", "LatticeNet", "Kestrel-MoE", "Marlin-XL", "Tern"]:
        assert system in out
    factor_adam = next(line for line in out.splitlines() if line.startswith("2502.90005"))
    assert "flagged" in factor_adam  # an optimizer paper: its sizes are the models it tunes
    assert "local file: 1 loaded" in out
    settings = replace(Settings(), data_dir=tmp_path / "data")
    assert count(settings, "papers") == 6 and count(settings, "paper_versions") == 5
    again = CliRunner().invoke(cli, ["demo"], env=env)
    assert again.exit_code == 0
    assert "query demo-sample: 1 seen, 0 new (1 API request)" in again.output
    assert count(settings, "papers") == 6


def test_serve_arxiv_reports_a_busy_port_in_one_line() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve-arxiv", "--port", str(port),
                                          "--data", str(SAMPLE), "--rate-limit-every", "2"])
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
