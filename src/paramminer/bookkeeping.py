"""The maintainer's records in the warehouse: ingest and extract runs (so an interrupted run is
seen and finished), and other file names of PDFs already loaded (aliases)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from paramminer.warehouse import Warehouse

log = logging.getLogger(__name__)

RUN_STATUS = {0: "ok", 3: "partial", 4: "failed"}  # by the run's exit code


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# ------------------------------------------------------------------ aliases


@dataclass(frozen=True)
class DocumentSource:
    """Where a loaded document came from: its paper keeps this file name."""

    name: str
    path: str | None

    @classmethod
    def of(cls, path: str) -> DocumentSource:
        """The source of a document first loaded from `path`."""
        return cls(Path(path).name, path)


def document_sources(warehouse: Warehouse) -> dict[str, DocumentSource]:
    """sha256 -> source of every document loaded (harvested ones: named by their paper id)."""
    rows = warehouse.con.execute(
        "SELECT sha256, coalesce(source_file, paper_id || '.pdf'), source_path FROM documents"
    ).fetchall()
    return {sha: DocumentSource(name, path) for sha, name, path in rows}


def record_alias(warehouse: Warehouse, sha256: str, path: str) -> None:
    """Remember that the document `sha256` was also given as `path` (idempotent)."""
    warehouse.con.execute(
        "INSERT INTO document_aliases (sha256, source_path, source_file, seen_at) "
        "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [sha256, path, Path(path).name, _now()],
    )


# ------------------------------------------------------------------ runs


@dataclass(frozen=True)
class RunRecord:
    """An ingest or extract run as recorded."""

    run_id: int
    command: str
    status: str
    started_at: datetime
    scope: tuple[str, ...]  # paths (ingest) or paper ids (extract); () = every paper


class Outcome(Protocol):
    """What a run reports (IngestReport)."""

    inputs: int
    loaded: list[str]
    unchanged: list[str]

    @property
    def failures(self) -> Sequence[object]: ...

    @property
    def exit_code(self) -> int: ...


@dataclass
class RunCounts:
    """What a run did, filled in by the caller (`record`) before the run ends."""

    exit_code: int | None = None
    inputs: int | None = None
    loaded: int | None = None
    unchanged: int | None = None
    failed: int | None = None

    def record(self, outcome: Outcome) -> None:
        """Take the counts and the exit code of a finished run."""
        self.exit_code = outcome.exit_code
        self.inputs = outcome.inputs
        self.loaded = len(outcome.loaded)
        self.unchanged = len(outcome.unchanged)
        self.failed = len(outcome.failures)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def start_run(warehouse: Warehouse, command: str, scope: Sequence[str]) -> int:
    """Add a 'running' row; rows of runs whose process is gone become 'abandoned'."""
    con = warehouse.con
    for run_id, pid in con.execute(
            "SELECT run_id, pid FROM ingest_runs WHERE status = 'running'").fetchall():
        if not _alive(int(pid)):
            con.execute("UPDATE ingest_runs SET status = 'abandoned' WHERE run_id = ?", [run_id])
    row = con.execute("SELECT nextval('ingest_run_ids')").fetchone()
    assert row is not None
    run_id = int(row[0])
    con.execute(
        "INSERT INTO ingest_runs (run_id, command, started_at, status, pid, paths) "
        "VALUES (?, ?, ?, 'running', ?, ?)",
        [run_id, command, _now(), os.getpid(), json.dumps(list(scope))],
    )
    return run_id


def finish_run(warehouse: Warehouse, run_id: int, status: str, counts: RunCounts) -> None:
    """Close a run; a run that went to its end also finishes earlier unfinished runs of the
    same command whose inputs it covered."""
    con = warehouse.con
    con.execute(
        "UPDATE ingest_runs SET status = ?, finished_at = ?, inputs = ?, loaded = ?, "
        "unchanged = ?, failed = ? WHERE run_id = ?",
        [status, _now(), counts.inputs, counts.loaded, counts.unchanged, counts.failed, run_id],
    )
    if status not in RUN_STATUS.values():
        return
    (command, raw) = con.execute(
        "SELECT command, paths FROM ingest_runs WHERE run_id = ?", [run_id]).fetchall()[0]
    scope = tuple(json.loads(raw))
    for earlier in unfinished_runs(warehouse, command):
        if earlier.run_id < run_id and _covers(scope, earlier.scope):
            con.execute("UPDATE ingest_runs SET finished_by = ? WHERE run_id = ?",
                        [run_id, earlier.run_id])


def _covers(scope: tuple[str, ...], earlier: tuple[str, ...]) -> bool:
    """Whether a run over `scope` did all a run over `earlier` asked (() means everything)."""
    if not scope:
        return True
    if not earlier:
        return False
    return all(any(_within(item, path) for path in scope) for item in earlier)


def _within(item: str, path: str) -> bool:
    return item == path or Path(item).is_relative_to(path)


def has_table(warehouse: Warehouse, name: str) -> bool:
    """Whether the warehouse has this table (a read-only look at an older file may not)."""
    row = warehouse.con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()
    return bool(row and row[0])


def alias_count(warehouse: Warehouse) -> int:
    """How many other file names of loaded PDFs were seen."""
    if not has_table(warehouse, "document_aliases"):
        return 0
    row = warehouse.con.execute("SELECT count(*) FROM document_aliases").fetchone()
    return int(row[0]) if row else 0


def unfinished_runs(warehouse: Warehouse, command: str | None = None) -> list[RunRecord]:
    """Runs that were interrupted or abandoned and that no later run has finished."""
    if not has_table(warehouse, "ingest_runs"):
        return []
    sql = ("SELECT run_id, command, status, started_at, paths, pid FROM ingest_runs "
           "WHERE status IN ('interrupted', 'abandoned', 'running') AND finished_by IS NULL")
    params: list[object] = []
    if command is not None:
        sql += " AND command = ?"
        params.append(command)
    rows = warehouse.con.execute(sql + " ORDER BY run_id", params).fetchall()
    return [RunRecord(int(run_id), cmd, "abandoned" if status == "running" else status,
                      started, tuple(json.loads(paths)))
            for run_id, cmd, status, started, paths, pid in rows
            if status != "running" or not _alive(int(pid))]


@contextlib.contextmanager
def recorded_run(
    warehouse: Warehouse, command: str, scope: Sequence[str]
) -> Iterator[RunCounts]:
    """Record a run around the block: 'interrupted' on Ctrl-C or SIGTERM, 'failed' on an
    error, else by the exit code the block puts in the yielded counts."""
    run_id = start_run(warehouse, command, scope)
    counts = RunCounts()
    try:
        yield counts
    except KeyboardInterrupt:
        _close_quietly(warehouse, run_id, "interrupted", counts)
        raise
    except BaseException:
        _close_quietly(warehouse, run_id, "failed", counts)
        raise
    status = RUN_STATUS.get(counts.exit_code if counts.exit_code is not None else 1, "failed")
    finish_run(warehouse, run_id, status, counts)


def _close_quietly(warehouse: Warehouse, run_id: int, status: str, counts: RunCounts) -> None:
    """Close the run row on the way out of an error; never hide the error itself."""
    try:
        finish_run(warehouse, run_id, status, counts)
    except Exception as exc:  # noqa: BLE001 - the original error matters more
        log.warning("could not record run %d as %s: %s", run_id, status, exc)
