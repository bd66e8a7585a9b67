"""Harvests that finish: a bad entry, a cut-off or non-Atom answer, papers given up, shared
spacing per host, one harvest per warehouse, SIGTERM. Real HTTP to the local arXiv."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from paramminer.cli import cli
from paramminer.config import QuerySpec, Settings
from paramminer.fakearxiv import FakeArxivServer, serve_in_thread
from paramminer.harvest import (
    EXIT_NOTHING_DONE,
    EXIT_OK,
    EXIT_PARTIAL,
    HarvestBusyError,
    lock_path,
    run_harvest,
)

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "fixtures" / "sample"
SAMPLE_IDS = {"2401.90001", "2203.90002", "2305.90003", "2011.90004", "2502.90005"}
ALL_SAMPLE = QuerySpec("sample", categories=("cs.CL", "cs.LG", "cs.CV", "eess.AS"))
NEWEST = datetime(2025, 2, 11, 10, 15, 33)  # the sample's newest `updated`
ARRIVAL_JITTER = 0.03


@pytest.fixture(scope="module")
def text_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def server() -> Iterator[FakeArxivServer]:
    with serve_in_thread(SAMPLE) as running:
        yield running


def settings_for(root: Path, server: FakeArxivServer, cache: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": root / "data", "cache_dir": cache, "arxiv_url": server.base_url,
        "api_delay": 0.1, "pdf_delay": 0.05, "retry_backoff": 0.05, "http_timeout": 5.0,
        "contact": "tests@example.org", "start_date": "2000-01-01", "workers": 1,
        "queries": (ALL_SAMPLE,),
    }
    return replace(Settings(), **{**values, **overrides})


def rows(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def harvested_ids(settings: Settings) -> set[str]:
    return {row[0] for row in rows(settings, "SELECT paper_id FROM paper_versions")}


def cli_env(settings: Settings) -> dict[str, str]:
    return {"PARAMMINER_DATA_DIR": str(settings.data_dir),
            "PARAMMINER_CACHE_DIR": str(settings.cache_dir),
            "PARAMMINER_ARXIV_URL": settings.arxiv_url, "PARAMMINER_API_DELAY": "0.1",
            "PARAMMINER_PDF_DELAY": "0.05", "PARAMMINER_RETRY_BACKOFF": "0.05",
            "PARAMMINER_START_DATE": "2000-01-01", "PARAMMINER_WORKERS": "1",
            "PARAMMINER_CONTACT": "tests@example.org", "PARAMMINER_CONFIG": ""}


CATEGORIES = ["--category", "cs.CL", "--category", "cs.LG", "--category", "cs.CV",
              "--category", "eess.AS"]


# ------------------------------------------------------------------ bad answers


def test_a_feed_with_one_bad_entry_harvests_the_rest(
    tmp_path: Path, server: FakeArxivServer, text_cache: Path
) -> None:
    server.set_faults(bad_entry_ids=("2203.90002",))
    settings = settings_for(tmp_path, server, text_cache)
    report = run_harvest(settings)
    assert report.exit_code == EXIT_PARTIAL
    assert harvested_ids(settings) == SAMPLE_IDS - {"2203.90002"}
    assert [(f.item, f.stage) for f in report.failures] == [
        ("http://arxiv.org/abs/../2203.90002v1", "entry")]
    assert report.failures[0].reason.startswith("unusable entry id: ")
    assert report.queries[0].seen == 5 and report.queries[0].error is None
    assert rows(settings, "SELECT watermark FROM harvest_watermarks") == [(NEWEST,)]
    (status, errors) = rows(settings, "SELECT status, errors FROM harvest_runs")[0]
    assert status == "partial" and "2203.90002v1 (entry): unusable entry id" in errors

    again = CliRunner().invoke(cli, ["harvest", *CATEGORIES, "--json"], env=cli_env(settings))
    summary = json.loads(again.stdout.splitlines()[-1])
    assert summary["exit_code"] == again.exit_code == EXIT_PARTIAL  # still there, still said
    assert summary["queries"]["adhoc"]["bad_entries"][0].startswith(
        "http://arxiv.org/abs/../2203.90002v1: unusable entry id")
    assert summary["new_papers"] == 0


def test_a_cut_off_feed_is_retried_then_the_harvest_completes(
    tmp_path: Path, server: FakeArxivServer, text_cache: Path
) -> None:
    server.set_faults(cut_feed_every=2)  # every second API answer is half a feed
    settings = settings_for(tmp_path, server, text_cache, page_size=2)
    report = run_harvest(settings)
    assert report.exit_code == EXIT_OK, report.failures
    assert harvested_ids(settings) == SAMPLE_IDS
    assert report.api_requests == 5  # 3 pages, 2 of them asked twice


@pytest.mark.parametrize(("fault", "reason"), [
    ("cut_feed_every", "malformed or cut-off Atom feed"),
    ("html_every", "not an Atom feed: the server sent an HTML page"),
])
def test_an_answer_that_is_never_a_whole_feed_is_a_failed_request(
    tmp_path: Path, server: FakeArxivServer, text_cache: Path, fault: str, reason: str
) -> None:
    server.set_faults(**{fault: 1})
    settings = settings_for(tmp_path, server, text_cache, retries=3)
    report = run_harvest(settings)
    assert report.exit_code == EXIT_NOTHING_DONE  # not "ok, 0 papers"
    assert [(f.item, f.stage) for f in report.failures] == [("sample", "query")]
    assert report.failures[0].reason.startswith(f"gave up after 3 attempts: {reason}")
    assert report.api_requests == 3
    assert rows(settings, "SELECT count(*) FROM harvest_watermarks") == [(0,)]
    server.set_faults()
    assert run_harvest(settings).exit_code == EXIT_OK  # the next run does the work
    assert harvested_ids(settings) == SAMPLE_IDS


# ------------------------------------------------------------------ given up


def test_given_up_papers_are_shown_and_can_be_requeued(
    tmp_path: Path, server: FakeArxivServer, text_cache: Path
) -> None:
    server.set_faults(truncate_pdfs=True)
    settings = settings_for(tmp_path, server, text_cache, retries=1, max_paper_attempts=1)
    env = {**cli_env(settings), "PARAMMINER_RETRIES": "1", "PARAMMINER_MAX_PAPER_ATTEMPTS": "1"}
    runner = CliRunner()
    first = runner.invoke(cli, ["harvest", *CATEGORIES, "--json"], env=env)
    summary = json.loads(first.stdout.splitlines()[-1])
    assert summary["exit_code"] == EXIT_PARTIAL
    assert len(summary["gave_up"]) == 5
    assert any(line.startswith("2203.90002v1 (1 attempt): fetch: ") for line in summary["gave_up"])
    status = runner.invoke(cli, ["status"], env=env)
    assert status.stdout.count("GAVE UP ") == 5 and "(paramminer requeue)" in status.stdout

    server.set_faults()
    later = runner.invoke(cli, ["harvest", *CATEGORIES, "--json"], env=env)
    assert json.loads(later.stdout.splitlines()[-1])["ingested"] == 0  # given up stays given up
    one = runner.invoke(cli, ["requeue", "2203.90002"], env=env)
    assert one.exit_code == 0 and "requeued 2203.90002v1" in one.stdout
    assert runner.invoke(cli, ["requeue", "9999.99999"], env=env).exit_code == 2
    again = runner.invoke(cli, ["harvest", *CATEGORIES, "--json"], env=env)
    again_summary = json.loads(again.stdout.splitlines()[-1])
    assert (again_summary["ingested"], len(again_summary["gave_up"])) == (1, 4)
    assert runner.invoke(cli, ["requeue"], env=env).stdout.endswith(
        "4 paper(s) back in the harvest queue\n")
    final = runner.invoke(cli, ["harvest", *CATEGORIES, "--json"], env=env)
    assert json.loads(final.stdout.splitlines()[-1])["ingested"] == 4
    assert harvested_ids(settings) == SAMPLE_IDS
    assert "GAVE UP" not in runner.invoke(cli, ["status"], env=env).stdout


# ------------------------------------------------------------------ politeness and locks


def test_api_and_pdf_requests_to_one_host_share_one_spacer(
    tmp_path: Path, server: FakeArxivServer, text_cache: Path
) -> None:
    settings = settings_for(tmp_path, server, text_cache, api_delay=0.3, pdf_delay=0.3)
    report = run_harvest(settings)
    assert report.exit_code == EXIT_OK
    arrivals = sorted(r.at for r in server.request_log)
    assert len(arrivals) == 6  # one API page, five PDFs
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert min(gaps) >= 0.3 - ARRIVAL_JITTER, gaps


def test_one_harvest_per_warehouse_even_from_two_data_folders(
    tmp_path: Path, server: FakeArxivServer, text_cache: Path
) -> None:
    server.set_faults(slow_seconds=1.5, slow_count=1)  # keeps the first harvest running
    warehouse = tmp_path / "shared" / "w.duckdb"
    first = settings_for(tmp_path / "a", server, text_cache, warehouse=warehouse)
    second = settings_for(tmp_path / "b", server, text_cache, warehouse=warehouse)
    done: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: done.update(report=run_harvest(first)))
    thread.start()
    lock = lock_path(first)
    assert lock == lock_path(second) == warehouse.resolve().with_name("w.duckdb.harvest.lock")
    deadline = time.monotonic() + 10
    while not (lock.exists() and lock.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.02)
    with pytest.raises(HarvestBusyError, match="another harvest is running"):
        run_harvest(second)
    thread.join(timeout=60)
    assert done["report"].exit_code == EXIT_OK
    assert len(server.api_requests()) == 1  # the refused one asked nothing


# ------------------------------------------------------------------ SIGTERM


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def _wait_for_worker(process: subprocess.Popen[str]) -> list[int]:
    """The harvest's worker pids once one runs; fails with the harvest's own words if it
    ends, or runs two minutes, without one (the workers start once the plan is known)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        workers = _children(process.pid)
        if workers:
            return workers
        time.sleep(0.02)
    if process.poll() is None:
        process.kill()
    _, stderr = process.communicate(timeout=60)
    raise AssertionError(f"the harvest never started a worker (exit {process.returncode}): "
                         f"{stderr[-2000:]}")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds workers in /proc")
def test_sigterm_mid_harvest_stops_its_worker_and_the_next_run_finishes(
    tmp_path: Path, server: FakeArxivServer, text_cache: Path
) -> None:
    settings = settings_for(tmp_path, server, text_cache)
    server.set_faults(slow_seconds=1.0)  # every answer takes a second: time to stop it
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PARAMMINER_")},
           **cli_env(settings), "PARAMMINER_CACHE_DIR": str(tmp_path / "cold")}
    process = subprocess.Popen(
        [sys.executable, "-c", "from paramminer.cli import main; main()", "harvest",
         *CATEGORIES, "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    workers = _wait_for_worker(process)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    time.sleep(0.5)
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()
                and "Z" not in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1][:3]]
    assert rows(settings, "SELECT status FROM harvest_runs") == [("interrupted",)]

    server.set_faults()
    report = run_harvest(settings)
    assert report.exit_code == EXIT_OK
    assert harvested_ids(settings) == SAMPLE_IDS
