"""Nothing lost, nothing hangs: a hostile batch (damaged, malicious, duplicate and odd inputs
the tests build themselves) through the real CLI and real worker processes.

Every input ends loaded, unchanged or failed with its own one-line reason, the same at two
workers as at one and as each file alone; work per PDF is bounded in time and memory; the
same bytes are one paper; kill -9 of a worker, SIGTERM and Ctrl-C lose nothing.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner, Result

from conftest import SAMPLE_DIR, isolated_env, sample_pdfs
from hostile_pdfs import (
    HOSTILE_REASONS,
    SLOW_SIZES,
    build_hostile_batch,
    good_paper,
    inflating_streams,
    long_size_list,
)
from paramminer.cli import cli
from paramminer.config import Settings
from paramminer.ingest import IngestItem, IngestReport, discover, ingest, worker_setup
from paramminer.warehouse import Warehouse
from paramminer.workers import (
    HARD_KILL_GRACE,
    Job,
    WorkerPool,
    close_shared_pool,
    memory_reason,
    timeout_reason,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes and FIFOs")

TIMEOUT = 4.0  # seconds per PDF in these tests: the bomb and the slow list need much longer
GOOD = 6
# The limits are tested with pypdf, which inflates the bomb's streams (minutes, over 1 GB):
# pdfium reads the same file in seconds and finds no text, too close to TIMEOUT to be sure.
BACKEND = "pypdf"


def invoke(args: list[str], data_dir: Path, **env: str) -> Result:
    env = {"PARAMMINER_PDF_BACKEND": BACKEND, **env}
    return CliRunner().invoke(cli, args, env=isolated_env(data_dir, **env),
                              catch_exceptions=False)


def query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def by_name(failures: list[dict[str, str]]) -> dict[str, str]:
    return {Path(f["path"]).name if f["path"] != "/dev/null" else "/dev/null": f["reason"]
            for f in failures}


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile") / "batch"
    build_hostile_batch(folder, good=GOOD)
    return folder


# ------------------------------------------------------------------ the mixed batch


@pytest.mark.slow
def test_two_workers_give_exactly_the_reasons_of_one_and_of_each_file_alone(
    batch: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    inputs = len(list(batch.iterdir())) + 1  # and /dev/null
    runs: dict[str, dict[str, Any]] = {}
    for workers in ("1", "2"):
        wh = tmp_path / f"j{workers}.duckdb"
        started = time.monotonic()
        result = invoke(["ingest", str(batch), "/dev/null", "-w", str(wh), "-j", workers,
                         "--timeout", str(TIMEOUT), "--json"], data)
        elapsed = time.monotonic() - started
        assert result.exit_code == 3, result.output
        report = json.loads(result.stdout)
        assert report["inputs"] == inputs
        assert report["loaded"] + report["unchanged"] + len(report["failures"]) == inputs
        assert report["loaded"] == GOOD and report["unchanged"] == 1  # the duplicate
        runs[workers] = {"failures": by_name(report["failures"]),
                         "papers": query(wh, "SELECT paper_id FROM papers ORDER BY 1")}
        # two slow inputs stopped at TIMEOUT, the rest quick: never minutes
        assert elapsed < 2 * (TIMEOUT + HARD_KILL_GRACE) + 60

    alone_wh = tmp_path / "alone.duckdb"
    alone: dict[str, str] = {}
    settings = Settings(data_dir=data, warehouse=alone_wh, workers=1, pdf_timeout=TIMEOUT,
                        pdf_backend=BACKEND)
    with Warehouse.open(alone_wh) as wh:
        for path in [*sorted(batch.iterdir()), Path("/dev/null")]:
            items, missing = discover([path])
            report = ingest(items, wh, settings, prior_failures=missing)
            assert report.accounted and report.inputs == 1
            alone.update(by_name([vars(f) for f in report.failures]))

    assert runs["1"] == runs["2"]
    assert runs["2"]["failures"] == alone
    failures = alone
    for name, reason in HOSTILE_REASONS.items():
        assert failures[name] == reason
    assert failures["/dev/null"] == "not a regular file: a character device"
    assert failures["bomb.pdf"] == timeout_reason(TIMEOUT)
    assert failures["sizes.pdf"] == timeout_reason(TIMEOUT)
    assert "cyclic" in failures["cyclic.pdf"].lower()
    assert "damaged" in failures["truncated.pdf"] and "damaged" in failures["corrupt.pdf"]
    assert all("\n" not in reason and len(reason) <= 400 for reason in failures.values())
    assert len(failures) == inputs - GOOD - 1
    assert [row[0] for row in runs["2"]["papers"]] == [f"good-{i:02d}" for i in range(GOOD)]
    wh2 = tmp_path / "j2.duckdb"
    assert query(wh2, "SELECT count(*) FROM documents") == [(GOOD,)]
    assert query(wh2, "SELECT source_file FROM document_aliases") == [("twin-of-good-00.pdf",)]
    assert query(wh2, "SELECT count(*) FROM ingest_failures") == [(len(failures),)]


def test_the_same_bytes_are_one_paper_within_and_across_batches(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    paper = good_paper(3)
    for name in ("wren.pdf", "copy-a.pdf", "copy-b.pdf"):
        (folder / name).write_bytes(paper)
    data, wh = tmp_path / "data", tmp_path / "w.duckdb"
    first = invoke(["ingest", str(folder / "wren.pdf"), str(folder / "copy-a.pdf"),
                    "-w", str(wh), "--json"], data)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["loaded"] == 1 and json.loads(first.stdout)["unchanged"] == 1
    later = invoke(["ingest", str(folder / "copy-b.pdf"), "-w", str(wh), "--json"], data)
    assert json.loads(later.stdout)["unchanged"] == 1
    forced = invoke(["ingest", str(folder / "copy-b.pdf"), "-w", str(wh), "--force", "--json"],
                    data)
    assert json.loads(forced.stdout)["loaded"] == 1
    assert query(wh, "SELECT paper_id, source_file FROM papers") == [("wren", "wren.pdf")]
    assert query(wh, "SELECT count(*) FROM documents") == [(1,)]
    assert query(wh, "SELECT source_file FROM document_aliases ORDER BY 1") == [
        ("copy-a.pdf",), ("copy-b.pdf",)]
    exported = invoke(["export", "systems", "-w", str(wh)], data)
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    (systems,) = query(wh, "SELECT count(*) FROM systems")[0]
    assert len(rows) == systems >= 1  # every system once
    assert {row["paper_id"] for row in rows} == {"wren"}


def test_a_fifo_and_a_device_are_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.pdf"
    os.mkfifo(fifo)
    folder = tmp_path / "folder"
    folder.mkdir()
    os.mkfifo(folder / "inner.pdf")
    env = isolated_env(tmp_path / "data")
    process = subprocess.run(
        [sys.executable, "-c", "from paramminer.cli import main; main()", "ingest", str(fifo),
         "/dev/zero", str(folder), "-w", str(tmp_path / "w.duckdb"), "--json"],
        env=env, capture_output=True, text=True, timeout=120)
    assert process.returncode == 4, process.stderr
    assert by_name(json.loads(process.stdout)["failures"]) == {
        "pipe.pdf": "not a regular file: a FIFO (named pipe)",
        "zero": "not a regular file: a character device",
        "inner.pdf": "not a regular file: a FIFO (named pipe)",
    }


# ------------------------------------------------------------------ bounds


@pytest.fixture
def warm_settings(tmp_path: Path) -> Iterator[tuple[Settings, Warehouse]]:
    """Settings with the test's time limit, a warehouse, and a worker already warm (so a
    timing measures the job, not the start-up)."""
    settings = Settings(data_dir=tmp_path / "data", warehouse=tmp_path / "w.duckdb",
                        workers=1, pdf_timeout=TIMEOUT, pdf_backend=BACKEND)
    good = tmp_path / "good.pdf"
    good.write_bytes(good_paper(1))
    with Warehouse.open(settings.warehouse_path) as wh:
        assert ingest([IngestItem(good)], wh, settings).exit_code == 0
        yield settings, wh


def timed_ingest(path: Path, settings: Settings, wh: Warehouse) -> tuple[IngestReport, float]:
    started = time.monotonic()
    report = ingest([IngestItem(path)], wh, settings)
    return report, time.monotonic() - started


@pytest.mark.slow
def test_a_long_text_pdf_is_stopped_within_the_time_limit(
    tmp_path: Path, warm_settings: tuple[Settings, Warehouse]
) -> None:
    pdf = tmp_path / "sizes.pdf"
    pdf.write_bytes(long_size_list(SLOW_SIZES))  # one sentence of 60,000 sizes
    report, elapsed = timed_ingest(pdf, *warm_settings)
    assert [(f.path, f.reason) for f in report.failures] == [(str(pdf), timeout_reason(TIMEOUT))]
    assert elapsed < TIMEOUT + HARD_KILL_GRACE + 5


@pytest.mark.slow
def test_a_long_list_of_sizes_is_extracted_in_linear_time(
    tmp_path: Path, warm_settings: tuple[Settings, Warehouse]
) -> None:
    settings, wh = warm_settings
    pdf = tmp_path / "sizes.pdf"
    pdf.write_bytes(long_size_list())
    report = ingest([IngestItem(pdf)], wh, dataclasses.replace(settings, pdf_timeout=15.0))
    assert report.failures == [] and len(report.loaded) == 1


@pytest.mark.slow
def test_an_inflating_stream_pdf_is_stopped_within_the_time_limit(
    tmp_path: Path, warm_settings: tuple[Settings, Warehouse]
) -> None:
    pdf = tmp_path / "bomb.pdf"
    pdf.write_bytes(inflating_streams())  # 1.4 MB inflating to 1.4 GB
    report, elapsed = timed_ingest(pdf, *warm_settings)
    assert [f.reason for f in report.failures] == [timeout_reason(TIMEOUT)]
    assert elapsed < TIMEOUT + HARD_KILL_GRACE + 5


def _peak_mb() -> int:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmPeak:\s+(\d+)", status)[1]) // 1024  # type: ignore[index]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_an_inflating_stream_pdf_is_stopped_by_the_memory_limit(tmp_path: Path) -> None:
    """With the limit a little above what a worker needs, the first inflated page is too big."""
    settings = Settings(data_dir=tmp_path / "data", workers=1, pdf_timeout=120,
                        pdf_backend=BACKEND)
    with WorkerPool(1, worker_setup(settings)) as probe:
        peak: list[int] = []
        probe.run([Job("peak", _peak_mb)], lambda key, value: peak.append(value),
                  lambda key, reason: pytest.fail(reason))
    limit = peak[0] + 60
    pdf = tmp_path / "bomb.pdf"
    pdf.write_bytes(inflating_streams())
    started = time.monotonic()
    result = invoke(["ingest", str(pdf), "-w", str(tmp_path / "w.duckdb"), "--memory-mb",
                     str(limit), "--json"], tmp_path / "data")
    elapsed = time.monotonic() - started
    assert result.exit_code == 4, result.output
    assert json.loads(result.stdout)["failures"] == [
        {"path": str(pdf), "reason": memory_reason(limit)}]
    assert elapsed < 60


def test_pdfium_reads_the_inflating_stream_pdf_within_the_bounds(tmp_path: Path) -> None:
    """The default backend does not inflate the bomb's streams into text: it ends quickly,
    well inside the time and memory bounds, with the reason of a PDF without text."""
    pdf = tmp_path / "bomb.pdf"
    pdf.write_bytes(inflating_streams())
    started = time.monotonic()
    result = invoke(["ingest", str(pdf), "-w", str(tmp_path / "w.duckdb"), "--timeout", "60",
                     "--memory-mb", "1024", "--json"], tmp_path / "data",
                    PARAMMINER_PDF_BACKEND="pdfium")
    assert result.exit_code == 4, result.output
    [failure] = json.loads(result.stdout)["failures"]
    assert failure["reason"].startswith("no text layer"), failure
    assert time.monotonic() - started < 60


# ------------------------------------------------------------------ kills and signals


COPIES = 12


def _copies(folder: Path) -> list[Path]:
    """COPIES sample PDFs (built by fixtures/build_fixtures.py), each with distinct bytes."""
    folder.mkdir()
    sources = sample_pdfs()
    out = []
    for index in range(COPIES):
        source = sources[index % len(sources)]
        target = folder / f"{index:02d}-{source.name}"
        target.write_bytes(source.read_bytes() + f"\n%pad {index}\n".encode())
        out.append(target)
    return out


def _cli(args: list[str], data: Path, **env: str) -> subprocess.Popen[str]:
    env = {"PARAMMINER_PDF_BACKEND": BACKEND, **env}
    return subprocess.Popen(
        [sys.executable, "-c", "from paramminer.cli import main; main()", *args],
        env=isolated_env(data, **env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True)


def children(pid: int) -> list[int]:
    """Process ids whose parent is `pid` (the workers of a paramminer process)."""
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


def wait_for_children(pid: int, count: int, seconds: float = 60) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = children(pid)
        if len(found) >= count:
            return found
        time.sleep(0.05)
    pytest.fail(f"process {pid} did not start {count} workers")


def gone(pids: list[int], seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{pid}").exists() and
                   (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z")
                   for pid in pids if Path(f"/proc/{pid}/stat").exists()):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds workers in /proc")
def test_kill_9_of_one_worker_at_random_points_ten_times_loses_nothing(tmp_path: Path) -> None:
    """Ten batches through two warm workers (this process is their parent); in each, one
    worker is killed with SIGKILL at a random moment. Every input is loaded every time."""
    folder = tmp_path / "pdfs"
    copies = _copies(folder)
    items = [IngestItem(path) for path in copies]
    settings = Settings(data_dir=tmp_path / "data", workers=2)
    close_shared_pool()  # the only children of this process are now this test's workers
    with Warehouse.open(tmp_path / "warm.duckdb") as wh:  # fills the text cache
        assert ingest(items, wh, settings).exit_code == 0
    with Warehouse.open(tmp_path / "timed.duckdb") as wh:  # one batch from the cache
        batch_seconds = ingest(items, wh, settings).seconds
    rng = random.Random(int(os.environ.get("WORKER_KILL_SEED", time.time_ns() % 10_000)))
    retried = 0
    for trial in range(10):
        workers = wait_for_children(os.getpid(), 1)  # a worker killed after a batch is
        delay = rng.uniform(0.0, 0.8 * batch_seconds)  # replaced when needed; the kill lands
        victim = rng.choice(workers)  # while the batch runs, however fast the machine is
        killer = threading.Timer(delay, lambda pid=victim: os.kill(pid, signal.SIGKILL))
        with Warehouse.open(tmp_path / f"w{trial}.duckdb") as wh:
            killer.start()
            report = ingest([IngestItem(item.path) for item in items], wh, settings)
            killer.join()
            assert report.accounted and report.exit_code == 0, report.failures
            assert (report.inputs, len(report.loaded)) == (COPIES, COPIES)
            (documents,) = wh.con.execute("SELECT count(*) FROM documents").fetchone() or (0,)
        assert documents == COPIES
        retried += victim not in children(os.getpid()) and report.seconds > delay
    assert retried >= 5  # most kills landed while the batch ran


def _interrupted_run(tmp_path: Path, stop: signal.Signals) -> None:
    """Start an ingest whose workers are busy, stop it with `stop`, check what is left."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a-sizes.pdf").write_bytes(long_size_list(SLOW_SIZES))  # keeps a worker busy
    (folder / "b-sizes.pdf").write_bytes(long_size_list(SLOW_SIZES - 1))
    shutil.copy(SAMPLE_DIR / "2203.90002v1.pdf", folder / "c-good.pdf")
    data, wh = tmp_path / "data", tmp_path / "w.duckdb"
    process = _cli(["ingest", str(folder), "-w", str(wh), "-j", "2", "--timeout", "600",
                    "--json", "--no-show"], data)
    workers = wait_for_children(process.pid, 2)
    time.sleep(3)  # both workers are now in the middle of a long job
    if stop == signal.SIGINT:
        os.killpg(process.pid, signal.SIGINT)  # as a terminal does: the whole group
    else:
        os.kill(process.pid, signal.SIGTERM)  # as systemd and kill do: the main process
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert gone(workers), "workers outlived an interrupted ingest"
    assert query(wh, "SELECT command, status FROM ingest_runs") == [("ingest", "interrupted")]
    status = invoke(["status", "-w", str(wh)], data)
    assert "INTERRUPTED ingest run 1" in status.stdout
    assert "paramminer ingest --resume" in status.stdout

    (folder / "a-sizes.pdf").unlink()  # what took so long is gone; resume the rest
    (folder / "b-sizes.pdf").unlink()
    resumed = invoke(["ingest", "--resume", "-w", str(wh), "--json", "--no-show"], data)
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout)["loaded"] == 1
    assert query(wh, "SELECT run_id, status, finished_by FROM ingest_runs ORDER BY 1") == [
        (1, "interrupted", 2), (2, "ok", None)]
    assert "INTERRUPTED" not in invoke(["status", "-w", str(wh)], data).stdout


@pytest.mark.slow
def test_sigterm_mid_run_stops_the_workers_and_the_next_run_finishes(tmp_path: Path) -> None:
    _interrupted_run(tmp_path, signal.SIGTERM)


@pytest.mark.slow
def test_ctrl_c_mid_run_stops_the_workers_and_the_next_run_finishes(tmp_path: Path) -> None:
    _interrupted_run(tmp_path, signal.SIGINT)


def test_an_unaccounted_input_is_never_a_success() -> None:
    report = IngestReport(loaded=["a"], inputs=2)
    assert not report.accounted and report.exit_code == 1
    assert "unaccounted" in report.summary()
