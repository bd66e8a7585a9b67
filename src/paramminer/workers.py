"""Worker processes for the per-PDF work: started once and kept warm, bounded in time and
memory, one job at a time each, and never losing a job.

Each worker is a fresh interpreter (``python -c``: the caller's main module is not
imported again) that loads what it needs once (``WorkerSetup.initializer``: spaCy and the
rules) and then runs jobs sent over a socket. The parent gives a worker one job at a
time, so it always knows which job a worker holds:

* a job that raises ends with its own error (errors pickle intact, see errors.py);
* a job that runs longer than ``Limits.seconds`` is interrupted inside the worker; a
  worker that does not answer ``HARD_KILL_GRACE`` seconds later is killed; both end with
  the same one-line reason;
* a worker has an address-space limit (``RLIMIT_AS``, ``Limits.memory_mb``): a job that
  needs more fails with a memory reason and the worker is replaced;
* when a worker dies (a crash in C code, the kernel's OOM killer, ``kill -9``), its job
  is run again at the end of the batch, alone, in a fresh worker; only a job that kills
  its worker a second time is recorded as failed, with the way the worker died.

Workers ignore Ctrl-C (the parent stops them) and exit when the parent dies
(``PR_SET_PDEATHSIG`` on Linux, and a watchdog thread everywhere).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import itertools
import logging
import os
import pickle
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from paramminer.alarms import alarm
from paramminer.config import SETTING_NAMES
from paramminer.errors import ConfigError, InputError, ParamminerError, WorkerError

log = logging.getLogger(__name__)

HARD_KILL_GRACE = 5.0  # seconds past the time limit before the parent kills a worker
START_TIMEOUT = 120.0  # seconds a worker may take to load the rules
MAX_START_FAILURES = 3  # workers dying before their first job, in a row, before giving up
STOP_TIMEOUT = 2.0  # seconds a stopped worker may take to exit before it is killed
WATCHDOG_SECONDS = 1.0  # how often a worker checks that its parent is alive
MAX_REASON_CHARS = 400
IDLE_SECONDS = 0.2  # waiting this long with nothing to hand back calls a run's `on_idle`
WORKER_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
_PR_SET_PDEATHSIG = 1
_WORKER_MAIN = "from paramminer.workers import serve_worker; serve_worker()"

Args = tuple[Any, ...]
OnResult = Callable[[str, Any], None]
OnFailure = Callable[[str, str], None]
OnIdle = Callable[[], None]


@dataclass(frozen=True)
class Job:
    """One unit of work: `function(*args)` in a worker; `args` may be a callable evaluated
    just before the job is sent (so a large batch never holds every input in memory)."""

    key: str
    function: Callable[..., Any]
    args: Args | Callable[[], Args] = ()


@dataclass(frozen=True)
class Limits:
    """Bounds on one job: wall-clock seconds (None: none) and the worker's memory in MB."""

    seconds: float | None = None
    memory_mb: int | None = None


@dataclass(frozen=True)
class WorkerSetup:
    """What a worker does before its first job; picklable (module-level functions only)."""

    limits: Limits = field(default_factory=Limits)
    initializer: Callable[[], None] | None = None


class LimitError(ParamminerError):
    """A job went past its time limit."""


class MemoryLimitError(LimitError):
    """A job went past the worker's memory limit (the worker is replaced afterwards)."""


class _Unpicklable(ParamminerError):
    """Stands in for an error that cannot be pickled, with the same one-line reason."""


class _JobTimeout(BaseException):
    """Raised by SIGALRM inside a job: a BaseException, so pypdf's `except Exception`
    handlers cannot swallow it."""


# ------------------------------------------------------------------ reasons


def one_line(text: str) -> str:
    """Whitespace folded to single spaces, at most MAX_REASON_CHARS characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_REASON_CHARS else flat[: MAX_REASON_CHARS - 3] + "..."


def timeout_reason(seconds: float) -> str:
    """Why a job that overran its time limit failed."""
    return f"took longer than {seconds:g}s (time limit per PDF, pdf_timeout)"


def memory_reason(memory_mb: int | None) -> str:
    """Why a job that ran out of memory failed."""
    if memory_mb:
        return f"needed more than {memory_mb} MB of memory (limit per worker, worker_memory_mb)"
    return "ran out of memory"


def died_reason(returncode: int | None) -> str:
    """Why a job whose worker died twice failed."""
    return (f"the worker process died ({describe_exit(returncode)}) while handling this PDF, "
            "also when retried alone")


def describe_exit(returncode: int | None) -> str:
    """'killed by SIGKILL', 'exit code 3'..."""
    if returncode is None:
        return "no exit status"
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


def reason_of(error: BaseException) -> str:
    """The one-line reason a job failed with `error` (the same in a worker and here)."""
    if isinstance(error, InputError):
        text = error.reason
    elif isinstance(error, ParamminerError):
        text = str(error)
    else:
        text = f"internal error: {type(error).__name__}: {error}"
    return one_line(text)


# ------------------------------------------------------------------ running one job


def _expire_job() -> NoReturn:
    raise _JobTimeout


def execute(function: Callable[..., Any], args: Args, limits: Limits) -> tuple[bool, Any]:
    """Run one job under the time limit: (True, result) or (False, the error)."""
    try:
        with alarm(limits.seconds, _expire_job):
            return True, function(*args)
    except _JobTimeout:
        return False, LimitError(timeout_reason(limits.seconds or 0))
    except MemoryError:
        return False, MemoryLimitError(memory_reason(limits.memory_mb))
    except Exception as exc:  # noqa: BLE001 - a bug on one input must not stop the batch
        return False, exc


def _portable(error: BaseException) -> BaseException:
    """`error` if it survives pickling, else a stand-in with the same reason."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:  # noqa: BLE001 - any pickling failure
        return _Unpicklable(reason_of(error))
    return error


# ------------------------------------------------------------------ the worker process


def _die_with_parent(parent_pid: int, deathsig: bool) -> None:
    """Exit when the parent dies: at once by the kernel (Linux), else within a second."""
    if deathsig and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:
        os._exit(1)  # the parent died before the signal was armed

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(WATCHDOG_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds, so temporary files are removed


def _limit_memory(memory_mb: int | None) -> None:
    if memory_mb:
        limit = memory_mb << 20
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def serve_worker() -> None:
    """Entry point of a worker process; argv: socket fd, parent pid, 1 to arm PDEATHSIG."""
    fd, parent_pid, deathsig = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us
    signal.signal(signal.SIGTERM, _on_sigterm)
    _die_with_parent(parent_pid, deathsig)
    conn = Connection(fd)
    try:
        sys.path[:] = conn.recv()  # the parent's import path, before any job is unpickled
        setup: WorkerSetup = conn.recv()
        _limit_memory(setup.limits.memory_mb)
        if setup.initializer is not None:
            setup.initializer()
    except EOFError:
        return
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
        conn.send(("init_error", 0, _portable(exc)))
        return
    conn.send(("ready", os.getpid(), None))
    _serve_jobs(conn, setup.limits)
    _exit_at_once()


def _exit_at_once() -> NoReturn:
    """End a worker whose jobs are done without the interpreter's teardown, which frees
    spaCy's and the rules' objects one by one (~0.1 s the parent would wait for at every
    exit); nothing is left to save then, only log output to flush (a worker that stopped
    after a memory error exits too, whatever flushing does)."""
    try:
        logging.shutdown()
        sys.stderr.flush()
    finally:
        os._exit(0)


def _serve_jobs(conn: Connection, limits: Limits) -> None:
    while True:
        try:
            kind, job_id, payload = conn.recv()
        except EOFError:
            return
        if kind != "job":
            return
        try:
            function, args = pickle.loads(payload)
        except Exception as exc:  # noqa: BLE001 - e.g. a function this worker cannot import
            ok, outcome = False, exc
        else:
            ok, outcome = execute(function, args, limits)
        try:
            conn.send(("done" if ok else "failed", job_id, outcome if ok else _portable(outcome)))
        except Exception as exc:  # noqa: BLE001 - the result itself would not pickle
            conn.send(("failed", job_id, _Unpicklable(reason_of(exc))))
        if isinstance(outcome, MemoryLimitError):
            return  # after MemoryError the heap may be in pieces: a fresh worker is cheaper


# ------------------------------------------------------------------ the parent side


@dataclass
class _Worker:
    popen: subprocess.Popen[bytes]
    conn: Connection
    started: float
    ready: bool = False
    job: Job | None = None
    job_id: int = 0
    deadline: float = 0.0


@dataclass
class _Batch:
    """The state of one `run`: what is left, what to retry alone, and the callbacks."""

    queue: deque[Job]
    on_result: OnResult
    on_failure: OnFailure
    last_try: bool  # a death now blames the job (it is already being retried alone)
    on_idle: OnIdle | None = None
    suspects: list[Job] = field(default_factory=list)
    outcomes: list[tuple[Job, bool, Any]] = field(default_factory=list)


class WorkerPool:
    """Up to `size` worker processes, started when jobs need them and kept until `close`.

    Use as a context manager, or through :func:`shared_pool` to keep the workers warm
    for later batches in this process.
    """

    def __init__(self, size: int, setup: WorkerSetup) -> None:
        self.size = max(1, size)
        self.setup = setup
        self.in_use = False
        self._workers: list[_Worker] = []
        self._start_failures = 0
        self._in_process = False
        self._ids = itertools.count(1)
        self._fingerprint = _environment()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.terminate()

    def matches(self, size: int, setup: WorkerSetup) -> bool:
        """Whether this pool's workers can serve a batch asking for `size` and `setup`."""
        return (self.size, self.setup, self._fingerprint) == (size, setup, _environment())

    @property
    def pids(self) -> list[int]:
        """Process ids of the live workers (for tests and diagnostics)."""
        return [w.popen.pid for w in self._workers]

    def warm_up(self, count: int) -> None:
        """Start up to `count` workers now, without waiting for them: their start-up (spaCy,
        the rules) overlaps whatever the caller does before the first job."""
        if not self._in_process:
            self._start(min(count, self.size))

    def run(self, jobs: Iterable[Job], on_result: OnResult, on_failure: OnFailure,
            on_idle: OnIdle | None = None) -> None:
        """Run every job; each ends in exactly one call of `on_result` or `on_failure`.

        The callbacks run in this process, one at a time, while the workers go on with
        the next jobs; `on_idle` runs after the callbacks of each round of results (the
        workers have their next jobs by then), whenever this process has waited
        IDLE_SECONDS for the workers with nothing to hand back, and before a job runs in
        this process: a batch writer releases the warehouse and reads ahead there, never
        while a worker waits for its next job. On any exception (Ctrl-C, SIGTERM turned into
        KeyboardInterrupt, a callback's error) every worker is stopped before it propagates.
        """
        try:
            batch = _Batch(deque(jobs), on_result, on_failure, last_try=False, on_idle=on_idle)
            self._drain(batch)
            for job in batch.suspects:  # their worker died: once more, alone
                self._drain(_Batch(deque([job]), on_result, on_failure, last_try=True,
                                   on_idle=on_idle))
        except BaseException:
            self.terminate()
            raise

    def _drain(self, batch: _Batch) -> None:
        width = 1 if batch.last_try else self.size
        while batch.queue or self._busy():
            if self._in_process:
                self._run_here(batch)
                return
            self._start(min(width, len(batch.queue) + self._busy()))
            if not self._workers:
                continue  # every start failed (counted), or no process can start here
            self._dispatch(batch)
            self._wait(batch)
            self._dispatch(batch)  # keep the workers busy while the results are loaded
            outcomes, batch.outcomes = batch.outcomes, []
            for job, ok, value in outcomes:
                if ok:
                    batch.on_result(job.key, value)
                else:
                    batch.on_failure(job.key, value)
            if outcomes and batch.on_idle is not None:
                batch.on_idle()  # the workers have their next jobs: this costs them nothing

    def _busy(self) -> int:
        return sum(1 for w in self._workers if w.job is not None)

    def _start(self, wanted: int) -> None:
        if self._start_failures >= MAX_START_FAILURES and self._workers:
            return  # new workers keep dying at start-up: go on with those there are
        while len(self._workers) < wanted:
            try:
                self._workers.append(self._spawn())
            except OSError as exc:
                if self._workers:
                    return  # run on the workers we have
                log.warning("cannot start worker processes (%s); running in this process, "
                            "without the memory limit", exc)
                self._in_process = True
                return

    def _spawn(self) -> _Worker:
        parent_sock, child_sock = socket.socketpair()
        deathsig = threading.current_thread() is threading.main_thread()
        try:
            popen = subprocess.Popen(
                [sys.executable, "-c", _WORKER_MAIN, str(child_sock.fileno()),
                 str(os.getpid()), "1" if deathsig else "0"],
                pass_fds=(child_sock.fileno(),), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, env={**os.environ, **WORKER_ENV},
            )
        except BaseException:
            parent_sock.close()
            raise
        finally:
            child_sock.close()
        conn = Connection(parent_sock.detach())
        try:
            conn.send(list(sys.path))
            conn.send(self.setup)
        except OSError:
            pass  # it died at once: seen as a start failure by _wait
        return _Worker(popen, conn, time.monotonic())

    def _dispatch(self, batch: _Batch) -> None:
        for worker in self._workers:
            if not batch.queue:
                return
            if worker.ready and worker.job is None:
                self._send(worker, batch)

    def _send(self, worker: _Worker, batch: _Batch) -> None:
        job = batch.queue.popleft()
        try:
            args = job.args() if callable(job.args) else job.args
            payload = pickle.dumps((job.function, args), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - this job's input could not be prepared
            batch.outcomes.append((job, False, reason_of(exc)))
            return
        worker.job_id = next(self._ids)
        try:
            worker.conn.send(("job", worker.job_id, payload))
        except OSError:
            batch.queue.appendleft(job)  # never started: not this job's fault
            self._lost(worker, batch)
            return
        worker.job = job
        seconds = self.setup.limits.seconds
        worker.deadline = time.monotonic() + seconds + HARD_KILL_GRACE if seconds else 0.0

    def _wait(self, batch: _Batch) -> None:
        now = time.monotonic()
        deadlines = [w.deadline for w in self._workers if w.job is not None and w.deadline]
        deadlines += [w.started + START_TIMEOUT for w in self._workers if not w.ready]
        timeout = max(0.0, min(deadlines) - now) if deadlines else None
        if batch.on_idle is not None:
            timeout = IDLE_SECONDS if timeout is None else min(timeout, IDLE_SECONDS)
        ready = wait([w.conn for w in self._workers], timeout)
        if not ready and batch.on_idle is not None:
            batch.on_idle()
        for worker in list(self._workers):
            if worker.conn in ready:
                self._receive(worker, batch)
        now = time.monotonic()
        for worker in list(self._workers):
            if worker.job is not None and worker.deadline and now >= worker.deadline:
                job = worker.job
                self._discard(worker)
                batch.outcomes.append(
                    (job, False, timeout_reason(self.setup.limits.seconds or 0)))
            elif not worker.ready and now >= worker.started + START_TIMEOUT:
                self._discard(worker)
                self._start_failed(f"no worker was ready after {START_TIMEOUT:g}s")

    def _receive(self, worker: _Worker, batch: _Batch) -> None:
        try:
            kind, job_id, value = worker.conn.recv()
        except (EOFError, OSError):
            self._lost(worker, batch)
            return
        except Exception as exc:  # noqa: BLE001 - a result this process cannot unpickle
            kind, job_id, value = "failed", worker.job_id, _Unpicklable(reason_of(exc))
        if kind == "ready":
            worker.ready = True
            self._start_failures = 0
        elif kind == "init_error":
            self._discard(worker)
            raise _init_error(value, self.setup.limits)
        elif worker.job is not None and job_id == worker.job_id:
            job, worker.job, worker.deadline = worker.job, None, 0.0
            batch.outcomes.append((job, kind == "done",
                                   value if kind == "done" else reason_of(value)))

    def _lost(self, worker: _Worker, batch: _Batch) -> None:
        """The worker's connection closed: it died. Its job is retried alone, or blamed."""
        job, was_ready = worker.job, worker.ready
        self._discard(worker)
        code = worker.popen.returncode
        if job is not None:
            if batch.last_try:
                batch.outcomes.append((job, False, died_reason(code)))
            else:
                log.warning("a worker died (%s) on %s; it will be retried alone",
                            describe_exit(code), job.key)
                batch.suspects.append(job)
        elif not was_ready:
            self._start_failed(f"workers die at start-up ({describe_exit(code)})")

    def _start_failed(self, why: str) -> None:
        """A worker died before its first job. Only when no worker is ready and several
        died in a row is it the machine, not a kill from outside: then give up."""
        self._start_failures += 1
        if (self._start_failures >= MAX_START_FAILURES
                and not any(w.ready for w in self._workers)):
            raise WorkerError(f"cannot run worker processes: {why}")

    def _discard(self, worker: _Worker) -> None:
        self._workers.remove(worker)
        _stop([worker], kill=True)

    def _run_here(self, batch: _Batch) -> None:
        """The fallback when no process can be started: the jobs run in this process."""
        while batch.queue:
            job = batch.queue.popleft()
            try:
                args = job.args() if callable(job.args) else job.args
            except Exception as exc:  # noqa: BLE001 - this job's input could not be prepared
                batch.on_failure(job.key, reason_of(exc))
                continue
            if batch.on_idle is not None:
                batch.on_idle()
            ok, value = execute(job.function, args, Limits(self.setup.limits.seconds))
            if ok:
                batch.on_result(job.key, value)
            else:
                batch.on_failure(job.key, reason_of(value))

    def close(self) -> None:
        """Ask idle workers to exit, killing any that do not within STOP_TIMEOUT; kill the
        ones still starting at once (they hold nothing yet, and would read the request only
        once they have loaded the rules)."""
        workers, self._workers = self._workers, []
        _stop([worker for worker in workers if not worker.ready], kill=True)
        ready = [worker for worker in workers if worker.ready]
        for worker in ready:
            with contextlib.suppress(OSError):
                worker.conn.send(("stop", 0, b""))
        _stop(ready, kill=False)

    def terminate(self) -> None:
        """Stop every worker now (SIGTERM, then SIGKILL), busy or not."""
        workers, self._workers = self._workers, []
        for worker in workers:
            with contextlib.suppress(OSError):
                worker.popen.terminate()
        _stop(workers, kill=False)


def _stop(workers: list[_Worker], *, kill: bool) -> None:
    """Wait for `workers` to exit (killing them at once when `kill`), then close pipes."""
    deadline = time.monotonic() + (0.0 if kill else STOP_TIMEOUT)
    for worker in workers:
        if kill:
            with contextlib.suppress(OSError):
                worker.popen.kill()
        try:
            worker.popen.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            worker.popen.kill()
            worker.popen.wait()
        worker.conn.close()


def _init_error(error: BaseException, limits: Limits) -> ParamminerError:
    if isinstance(error, MemoryError) and limits.memory_mb:
        return ConfigError(f"worker_memory_mb = {limits.memory_mb} is too low: a worker could "
                           "not load the rules within it")
    if isinstance(error, ParamminerError):
        return error
    return WorkerError(f"a worker could not start: {reason_of(error)}")


def _environment() -> tuple[object, ...]:
    """What a worker inherits at its start and may read: a pool started under other values
    is stale. Settings are left out: they reach the workers in jobs and WorkerSetup."""
    passed = {f"PARAMMINER_{name.upper()}" for name in SETTING_NAMES}
    inherited = tuple(sorted((k, v) for k, v in os.environ.items()
                             if k.startswith("PARAMMINER_") and k not in passed))
    return inherited, str(Path.cwd()), tuple(sys.path)


_shared: WorkerPool | None = None
_shared_lock = threading.Lock()


@contextlib.contextmanager
def shared_pool(size: int, setup: WorkerSetup) -> Iterator[WorkerPool]:
    """A pool whose workers stay warm for the next batch of this process (a harvest ingests
    one paper at a time; a test session runs many batches). A pool busy elsewhere, or made
    for other settings, is not shared: a new one is made."""
    global _shared
    with _shared_lock:
        pool = _shared
        if pool is None or pool.in_use or not pool.matches(size, setup):
            pool = WorkerPool(size, setup)
            if _shared is None or not _shared.in_use:
                stale, _shared = _shared, pool
                if stale is not None:
                    stale.close()
        pool.in_use = True
    try:
        yield pool
    except BaseException:
        pool.terminate()
        with _shared_lock:
            if _shared is pool:
                _shared = None
        raise
    finally:
        pool.in_use = False
        if pool is not _shared:
            pool.close()


@atexit.register
def close_shared_pool() -> None:
    """Stop the warm workers (at exit, or when a caller wants them gone)."""
    global _shared
    with _shared_lock:
        pool, _shared = _shared, None
    if pool is not None:
        pool.close()
