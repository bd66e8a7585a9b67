"""The worker pool with real processes: errors cross intact, a dead worker's job is retried
alone and only then blamed, time and memory limits end a job with one line, workers stay
warm, and no worker outlives its parent."""

from __future__ import annotations

import functools
import os
import pickle
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from paramminer.arxiv_client import ArxivApiError
from paramminer.errors import (
    ConfigError,
    InputError,
    ParamminerError,
    PdfError,
    RuleError,
    StorageError,
    WarehouseBusyError,
    WorkerError,
)
from paramminer.fetch import FetchError
from paramminer.harvest import HarvestBusyError
from paramminer.review import ImportRowsError, UnknownItemError
from paramminer.workers import (
    HARD_KILL_GRACE,
    Job,
    Limits,
    WorkerPool,
    WorkerSetup,
    died_reason,
    memory_reason,
    reason_of,
    timeout_reason,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes and signals")


# ------------------------------------------------------------------ jobs (run in workers)


def square(value: int) -> int:
    return value * value


def raise_pdf_error(name: str) -> None:
    raise PdfError(name, "damaged or truncated PDF (xref table missing)")


def raise_bug() -> None:
    raise KeyError("no such page")


def kill_myself() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def kill_myself_once(marker: str) -> str:
    """Dies the first time (as a random kill -9 would), succeeds when retried."""
    if not Path(marker).exists():
        Path(marker).write_text("died once")
        os.kill(os.getpid(), signal.SIGKILL)
    return "survived"


def sleep_in_python(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pass


def sleep_deaf(seconds: float) -> None:
    """Ignores the worker's own alarm, like C code that never returns to Python."""
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    time.sleep(seconds)


def allocate(megabytes: int) -> int:
    blocks = [bytearray(1 << 20) for _ in range(megabytes)]
    return len(blocks)


def peak_mb() -> int:
    """The worker's peak address space so far (VmPeak), in MB."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmPeak:\s+(\d+)", status)[1]) // 1024  # type: ignore[index]


def my_pid() -> int:
    return os.getpid()


def unpicklable_result() -> Any:
    return lambda: None


def mark_at_exit(path: str) -> None:
    """An initializer whose mark appears only if the worker runs the interpreter's exit."""
    import atexit

    atexit.register(Path(path).write_text, "the interpreter's teardown ran")


# ------------------------------------------------------------------ helpers


def run(pool: WorkerPool, jobs: list[Job]) -> tuple[dict[str, Any], dict[str, str]]:
    """Run jobs; (results by key, reasons by key). Every job must end exactly once."""
    results: dict[str, Any] = {}
    failures: dict[str, str] = {}

    def on_result(key: str, value: Any) -> None:
        assert key not in results and key not in failures
        results[key] = value

    def on_failure(key: str, reason: str) -> None:
        assert key not in results and key not in failures
        failures[key] = reason

    pool.run(jobs, on_result, on_failure)
    assert set(results) | set(failures) == {job.key for job in jobs}
    return results, failures


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead too
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True


def wait_gone(pids: list[int], seconds: float = 10.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = [pid for pid in pids if alive(pid)]
        if not left:
            return []
        time.sleep(0.05)
    return [pid for pid in pids if alive(pid)]


# ------------------------------------------------------------------ errors


ERRORS: list[ParamminerError] = [
    InputError("a.pdf", "not a PDF (no %PDF- header)"),
    PdfError("b.pdf", "encrypted PDF (needs a password)"),
    RuleError("rules/params-v1.jsonl", 7, "bad pattern"),
    ConfigError("workers must be >= 0, got -1"),
    WarehouseBusyError("warehouse w.duckdb is busy"),
    StorageError("cannot write out.csv: No space left on device"),
    ArxivApiError("http://x/api", "HTTP 503", retryable=True, status=503),
    FetchError("http://x/pdf/1", "truncated PDF", True, 200, 2.0),
    HarvestBusyError(Path("data/w.duckdb.harvest.lock"), "pid 12"),
    UnknownItemError("2401.90001"),
    ImportRowsError("queue.csv", [(3, "bad value"), (9, "unknown id")]),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_every_error_pickles_intact(error: ParamminerError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error) and copy.args == error.args
    assert vars(copy) == vars(error)
    assert copy.exit_code == error.exit_code


def test_errors_raised_in_a_worker_arrive_as_themselves() -> None:
    with WorkerPool(2, WorkerSetup()) as pool:
        results, failures = run(pool, [
            Job("pdf", raise_pdf_error, ("b.pdf",)),
            Job("bug", raise_bug),
            Job("ok", square, (7,)),
            Job("lambda", unpicklable_result),
        ])
    assert results == {"ok": 49}
    assert failures["pdf"] == "damaged or truncated PDF (xref table missing)"
    assert failures["pdf"] == reason_of(PdfError("b.pdf", "damaged or truncated PDF "
                                                          "(xref table missing)"))
    assert failures["bug"] == "internal error: KeyError: 'no such page'"
    assert failures["lambda"].startswith("internal error: ")
    assert all("\n" not in reason for reason in failures.values())


# ------------------------------------------------------------------ dead workers


def test_a_job_whose_worker_dies_twice_is_blamed_alone(tmp_path: Path) -> None:
    jobs = [Job(f"ok-{i}", square, (i,)) for i in range(8)]
    jobs.insert(3, Job("crash", kill_myself))
    with WorkerPool(2, WorkerSetup()) as pool:
        results, failures = run(pool, jobs)
    assert failures == {"crash": died_reason(-signal.SIGKILL)}
    assert failures["crash"] == ("the worker process died (killed by SIGKILL) while handling "
                                 "this PDF, also when retried alone")
    assert results == {f"ok-{i}": i * i for i in range(8)}


def test_a_job_whose_worker_dies_once_is_retried_and_succeeds(tmp_path: Path) -> None:
    jobs = [Job(f"ok-{i}", square, (i,)) for i in range(6)]
    jobs.insert(2, Job("flaky", kill_myself_once, (str(tmp_path / "marker"),)))
    with WorkerPool(2, WorkerSetup()) as pool:
        results, failures = run(pool, jobs)
    assert failures == {}
    assert results["flaky"] == "survived" and len(results) == 7


def only_the_first_starts(marker: str) -> None:
    """Initializer: the first worker to get here lives, every later one dies starting."""
    try:
        Path(marker).touch(exist_ok=False)
    except FileExistsError:
        os.kill(os.getpid(), signal.SIGKILL)


def test_workers_dying_at_start_do_not_stop_a_pool_that_has_one(tmp_path: Path) -> None:
    setup = WorkerSetup(initializer=functools.partial(only_the_first_starts,
                                                      str(tmp_path / "first")))
    with WorkerPool(2, setup) as pool:
        results, failures = run(pool, [Job(str(i), square, (i,)) for i in range(12)])
    assert failures == {} and results == {str(i): i * i for i in range(12)}


def test_a_pool_whose_workers_all_die_at_start_says_so(tmp_path: Path) -> None:
    (tmp_path / "first").touch()
    setup = WorkerSetup(initializer=functools.partial(only_the_first_starts,
                                                      str(tmp_path / "first")))
    with WorkerPool(2, setup) as pool, pytest.raises(
            WorkerError, match=r"cannot run worker processes: workers die at start-up "
                               r"\(killed by SIGKILL\)"):
        run(pool, [Job("x", square, (2,))])


def test_workers_stay_warm_and_a_broken_one_is_replaced() -> None:
    with WorkerPool(2, WorkerSetup()) as pool:
        first, _ = run(pool, [Job(str(i), my_pid) for i in range(6)])
        assert set(first.values()) == set(pool.pids) and len(pool.pids) == 2
        second, _ = run(pool, [Job(str(i), my_pid) for i in range(6)])
        assert set(second.values()) == set(first.values())  # the same processes: no restart
        _, failures = run(pool, [Job("crash", kill_myself)])
        assert "died" in failures["crash"]
        third, _ = run(pool, [Job(str(i), my_pid) for i in range(6)])
        assert set(third.values()) <= set(pool.pids)


# ------------------------------------------------------------------ limits


def test_the_time_limit_ends_a_busy_job_with_one_line() -> None:
    with WorkerPool(1, WorkerSetup(Limits(seconds=1.0))) as pool:
        run(pool, [Job("warm", square, (1,))])
        started = time.monotonic()
        results, failures = run(pool, [Job("slow", sleep_in_python, (60,)),
                                       Job("next", square, (3,))])
        elapsed = time.monotonic() - started
    assert failures == {"slow": timeout_reason(1.0)}
    assert failures["slow"] == "took longer than 1s (time limit per PDF, pdf_timeout)"
    assert results == {"next": 9}
    assert elapsed < 1.0 + HARD_KILL_GRACE


def test_a_job_deaf_to_its_alarm_is_killed_with_the_same_reason() -> None:
    with WorkerPool(1, WorkerSetup(Limits(seconds=1.0))) as pool:
        run(pool, [Job("warm", square, (1,))])
        before = pool.pids
        started = time.monotonic()
        results, failures = run(pool, [Job("deaf", sleep_deaf, (120,)),
                                       Job("next", square, (4,))])
        elapsed = time.monotonic() - started
        assert pool.pids != before  # the stuck worker was killed and replaced
    assert failures == {"deaf": timeout_reason(1.0)}
    assert results == {"next": 16}
    assert 1.0 + HARD_KILL_GRACE - 0.5 < elapsed < 1.0 + HARD_KILL_GRACE + 20


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_the_memory_limit_ends_a_greedy_job_and_the_worker_is_replaced() -> None:
    with WorkerPool(1, WorkerSetup()) as probe:
        baseline = run(probe, [Job("peak", peak_mb)])[0]["peak"]
    limit = baseline + 200
    with WorkerPool(1, WorkerSetup(Limits(seconds=60, memory_mb=limit))) as pool:
        results, failures = run(pool, [Job("greedy", allocate, (2000,)),
                                       Job("modest", allocate, (50,)),
                                       Job("peak", peak_mb)])
    assert failures == {"greedy": memory_reason(limit)}
    assert failures["greedy"] == (f"needed more than {limit} MB of memory (limit per worker, "
                                  "worker_memory_mb)")
    assert results["modest"] == 50 and results["peak"] <= limit


def test_a_memory_limit_too_low_to_start_is_a_setting_error() -> None:
    with WorkerPool(1, WorkerSetup(Limits(memory_mb=20), _load_something_big)) as pool, \
            pytest.raises(ConfigError, match="worker_memory_mb = 20 is too low"):
        run(pool, [Job("x", square, (2,))])


def _load_something_big() -> None:
    allocate(100)


# ------------------------------------------------------------------ parents and signals

POOL_SCRIPT = textwrap.dedent("""
    import sys, time
    sys.path[:0] = {path!r}
    from paramminer.workers import Job, WorkerPool, WorkerSetup
    from test_workers import sleep_in_python
    pool = WorkerPool(2, WorkerSetup())
    jobs = [Job(str(i), sleep_in_python, (120,)) for i in range(2)]
    import threading
    def report():
        while len(pool.pids) < 2:
            time.sleep(0.05)
        print(" ".join(map(str, pool.pids)), flush=True)
    threading.Thread(target=report, daemon=True).start()
    pool.run(jobs, lambda k, v: None, lambda k, r: None)
""")


def _pool_parent(tmp_path: Path) -> tuple[subprocess.Popen[str], list[int]]:
    script = POOL_SCRIPT.format(path=[str(Path(__file__).parent)])
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                              text=True, cwd=tmp_path)
    assert parent.stdout is not None
    pids = [int(pid) for pid in parent.stdout.readline().split()]
    assert len(pids) == 2 and all(alive(pid) for pid in pids)
    return parent, pids


def test_a_stopped_worker_exits_at_once_without_the_teardown(tmp_path: Path) -> None:
    """Once its jobs are done a worker has nothing to save: it leaves with status 0 and
    skips the interpreter's teardown (freeing spaCy's objects one by one)."""
    marker = tmp_path / "teardown"
    pool = WorkerPool(1, WorkerSetup(initializer=functools.partial(mark_at_exit, str(marker))))
    results, _ = run(pool, [Job("a", square, (3,))])
    (worker,) = pool._workers
    pool.close()
    assert results == {"a": 9}
    assert worker.popen.returncode == 0 and not marker.exists()


def test_closing_a_pool_kills_a_worker_still_starting(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker still loading the rules holds nothing: closing the pool does not wait for it
    to finish loading and read the request to stop."""
    monkeypatch.setattr("paramminer.workers.STOP_TIMEOUT", 120.0)
    pool = WorkerPool(1, WorkerSetup(initializer=functools.partial(time.sleep, 120.0)))
    pool.warm_up(1)
    (worker,) = pool._workers
    started = time.monotonic()
    pool.close()
    assert time.monotonic() - started < 60.0  # not the 120 s start or stop wait
    assert worker.popen.returncode == -signal.SIGKILL


def test_workers_exit_when_their_parent_is_killed(tmp_path: Path) -> None:
    parent, pids = _pool_parent(tmp_path)
    parent.kill()  # kill -9: no cleanup in the parent at all
    parent.wait()
    assert wait_gone(pids) == []


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_and_sigterm_stop_the_workers(tmp_path: Path, stop: signal.Signals) -> None:
    """Ctrl-C unwinds the pool, which stops its workers; a plain SIGTERM ends this bare
    parent at once and the workers follow it (the CLI turns SIGTERM into Ctrl-C)."""
    parent, pids = _pool_parent(tmp_path)
    os.kill(parent.pid, stop)
    assert parent.wait(timeout=30) != 0
    assert wait_gone(pids) == []


def test_on_idle_runs_while_the_workers_are_busy() -> None:
    """A batch writer releases the warehouse in `on_idle`: it runs every IDLE_SECONDS while
    a long job keeps the pool waiting."""
    idle: list[float] = []
    with WorkerPool(1, WorkerSetup()) as pool:
        run(pool, [Job("warm", square, (1,))])
        pool.run([Job("slow", sleep_in_python, (1.0,))], lambda key, value: None,
                 lambda key, reason: None, on_idle=lambda: idle.append(time.monotonic()))
    assert len(idle) >= 2  # a 1 s job, IDLE_SECONDS apart


def test_on_idle_runs_after_each_round_of_results_once_the_workers_have_jobs() -> None:
    """After the callbacks of each round of results `on_idle` runs, and by then the worker
    holds its next job: a batch writer's release or read-ahead never keeps it waiting."""
    results: list[str] = []
    calls: list[tuple[int, int]] = []  # (results so far, jobs out) at each call of on_idle
    with WorkerPool(1, WorkerSetup()) as pool:
        run(pool, [Job("warm", square, (1,))])
        pool.run([Job(str(n), square, (n,)) for n in range(3)],
                 lambda key, value: results.append(f"{key}={value}"),
                 lambda key, reason: results.append(f"{key} failed"),
                 on_idle=lambda: calls.append((len(results), pool._busy())))
    assert results == ["0=0", "1=1", "2=4"]
    assert {(1, 1), (2, 1), (3, 0)} <= set(calls)
