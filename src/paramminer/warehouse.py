"""The DuckDB warehouse: numbered migrations from warehouse/schema, views from warehouse/views."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

import duckdb

from paramminer import resources
from paramminer.errors import WarehouseBusyError, WarehouseError

logger = logging.getLogger(__name__)
_MIGRATION_NAME = re.compile(r"^(\d{3})_([\w\-]+)\.sql$")
LOCK_RETRY_SECONDS = 10.0
POLL_SECONDS = 0.02  # how often an open retries while another process holds the file
RELEASE_GAP_SECONDS = 0.03  # a writer that released the file leaves it free this long
# before taking it again: longer than POLL_SECONDS, so a reader polling for it gets in
WAITING_GAP_SECONDS = 0.1  # the gap when a paramminer reader has said it waits (busy machine)
WAITING_FRESH_SECONDS = 2.0  # a waiter's marker file counts this long after its last poll
HOLD_SECONDS = 0.5  # a batch writer keeps the file across papers at most this long
# Written in DuckDB's v1.0.0 storage format, which every DuckDB client since 1.0 opens (the
# CLI, Python, R, JDBC); DuckDB 2.x's own default format cannot be read by any 1.x client.
STORAGE_VERSION = "v1.0.0"


def sql_dir() -> Path:
    """The folder holding schema/ and views/."""
    return resources.sql_dir()


def migrations(directory: Path | None = None) -> list[tuple[int, str, Path]]:
    """(version, name, path) of every migration file, in version order."""
    folder = (directory or sql_dir()) / "schema"
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise WarehouseError(f"{path}: migration files are named NNN_name.sql")
        found.append((int(match[1]), match[2], path))
    if not found:
        raise WarehouseError(f"no migrations in {folder}: paramminer's SQL files are missing")
    versions = [version for version, _, _ in found]
    if len(set(versions)) != len(versions):
        raise WarehouseError(f"{folder}: two migrations share a number")
    return found


def view_files(directory: Path | None = None) -> list[Path]:
    """View definitions, applied in file-name order (so a view may use an earlier one)."""
    return sorted(((directory or sql_dir()) / "views").glob("*.sql"))


def _is_lock_error(exc: BaseException) -> bool:
    """Another process holds the file, or (in this process) another connection holds it
    read-only while we want to write, or the other way round: both end when it is released."""
    text = str(exc).lower()
    return ("lock" in text and ("conflicting" in text or "could not set lock" in text)) or (
        "different configuration than existing connections" in text)


def _connect(path: Path, read_only: bool, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection to `path`, polling while another process holds the file.

    DuckDB lets one process write a file, or several read it, never both at once; writers
    hold it only for short transactions (see Warehouse.release), so a reader gets in
    within one of them. After `wait_seconds` the open fails with WarehouseBusyError.
    """
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only,
                                  config={"storage_compatibility_version": STORAGE_VERSION})
        except (duckdb.IOException, duckdb.ConnectionException) as exc:
            if not _is_lock_error(exc):
                raise WarehouseError(f"cannot open warehouse {path}: {exc}") from None
            _mark_waiting(path)
            if time.monotonic() >= deadline:
                raise WarehouseBusyError(
                    f"warehouse {path} is busy: another process has held it for "
                    f"{wait_seconds:g}s (a DuckDB client left open on it?); try again"
                ) from None
            time.sleep(POLL_SECONDS)
        except duckdb.Error as exc:
            raise WarehouseError(f"cannot open warehouse {path}: {exc}") from None


def _waiting_marker(path: Path) -> Path:
    return path.with_name(f".{path.name}.waiting")


def _mark_waiting(path: Path) -> None:
    """Tell the writer holding `path` that someone waits for it (see Warehouse.con)."""
    with contextlib.suppress(OSError):
        _waiting_marker(path).touch()


def _someone_waiting(path: Path) -> bool:
    try:
        return time.time() - _waiting_marker(path).stat().st_mtime < WAITING_FRESH_SECONDS
    except OSError:
        return False


def views_digest(files: list[Path]) -> str:
    """Digest of the view files: names and contents."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


class Warehouse:
    """An open warehouse. Use as a context manager; `con` is the DuckDB connection.

    `release()` closes the connection so that other processes may open the file; the next
    use of `con` opens it again. Batch writers (ingest, extract) call `yield_to_readers()`
    after every paper and release while they wait for the workers, so readers never wait
    for a backfill to end.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, read_only: bool,
                 wait_seconds: float = LOCK_RETRY_SECONDS) -> None:
        self._con: duckdb.DuckDBPyConnection | None = con
        self.path = path
        self.read_only = read_only
        self.wait_seconds = wait_seconds
        self._released_at = 0.0
        self._opened_at = time.monotonic()

    @classmethod
    def open(
        cls, path: Path, *, read_only: bool = False, wait_seconds: float = LOCK_RETRY_SECONDS
    ) -> Warehouse:
        """Open (creating if needed) and migrate the warehouse at `path`.

        Read-only: a missing file is a WarehouseError naming it (nothing is created); a file
        whose schema or views are older than this paramminer is migrated first. Another
        process holding the file makes the open poll for `wait_seconds`, then raise
        WarehouseBusyError.
        """
        path = Path(path)
        if read_only:
            return cls._open_for_reading(path, wait_seconds)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WarehouseError(f"cannot create {path.parent}: {exc.strerror}") from None
        warehouse = cls(_connect(path, False, wait_seconds), path, False, wait_seconds)
        try:
            warehouse.migrate()
        except BaseException:
            warehouse.close()  # else this process keeps the file locked
            raise
        return warehouse

    @classmethod
    def _open_for_reading(cls, path: Path, wait_seconds: float) -> Warehouse:
        if not path.is_file():
            raise WarehouseError(f"no warehouse at {path} (run `paramminer ingest` or "
                                 "`paramminer demo` first, or pass --warehouse)")
        warehouse = cls(_connect(path, True, wait_seconds), path, True, wait_seconds)
        try:
            outdated = warehouse.outdated()
        except BaseException:
            warehouse.close()
            raise
        if outdated:  # written by an older paramminer: bring it up to date once
            warehouse.release()
            cls.open(path, wait_seconds=wait_seconds).close()
        return warehouse

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The connection, opened again (waiting for the file if needed) after a release."""
        if self._con is None:
            gap = WAITING_GAP_SECONDS if _someone_waiting(self.path) else RELEASE_GAP_SECONDS
            pause = gap - (time.monotonic() - self._released_at)
            if pause > 0:
                time.sleep(pause)  # let a process that is polling for the file in first
            self._con = _connect(self.path, self.read_only, self.wait_seconds)
            self._opened_at = time.monotonic()
        return self._con

    def release(self) -> None:
        """Close the connection (checkpointing the WAL) so other processes can open the file."""
        if self._con is not None:
            con, self._con = self._con, None
            con.close()
            self._released_at = time.monotonic()
            logger.debug("%s held for %.3fs", self.path.name, self._released_at - self._opened_at)

    def yield_to_readers(self) -> None:
        """Between a batch writer's papers: release the file once it has been held for
        HOLD_SECONDS or a paramminer reader waits for it; else keep it, since opening the
        file and checkpointing it on close cost more than a paper's rows."""
        if self._con is not None and (
            time.monotonic() - self._opened_at >= HOLD_SECONDS or _someone_waiting(self.path)
        ):
            self.release()

    def outdated(self) -> bool:
        """True when a migration or a view file is newer than this file's schema."""
        tables = {row[0] for row in self.con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_name IN ('schema_migrations', 'schema_views')").fetchall()}
        if tables != {"schema_migrations", "schema_views"}:
            return True
        applied = {int(r[0]) for r in
                   self.con.execute("SELECT version FROM schema_migrations").fetchall()}
        if {version for version, _, _ in migrations()} - applied:
            return True
        row = self.con.execute("SELECT digest FROM schema_views").fetchone()
        return row is None or row[0] != views_digest(view_files())

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (checkpointing the WAL)."""
        self.release()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All statements inside commit together or not at all."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        else:
            self.con.execute("COMMIT")

    def applied_migrations(self) -> set[int]:
        """Versions already applied to this file."""
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            "version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, "
            "applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)"
        )
        rows = self.con.execute("SELECT version FROM schema_migrations").fetchall()
        return {int(row[0]) for row in rows}

    def migrate(self) -> list[int]:
        """Apply every migration not yet applied (each in its own transaction), then the views."""
        applied = self.applied_migrations()
        newly = []
        for version, name, path in migrations():
            if version in applied:
                continue
            with self.transaction() as con:
                try:
                    con.execute(path.read_text(encoding="utf-8"))
                except duckdb.Error as exc:
                    raise WarehouseError(f"migration {path.name} failed: {exc}") from None
                con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                            [version, name])
            newly.append(version)
        self.apply_views(force=bool(newly))
        return newly

    def apply_views(self, *, force: bool = False) -> None:
        """(Re)create every view from warehouse/views when a view file changed (or `force`).

        The digest of the view files is kept in `schema_views`, so opening an up-to-date
        warehouse costs no view rebinding (tens of milliseconds per view).
        """
        files = view_files()
        current = views_digest(files)
        self.con.execute("CREATE TABLE IF NOT EXISTS schema_views (digest VARCHAR NOT NULL, "
                         "applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)")
        row = self.con.execute("SELECT digest FROM schema_views").fetchone()
        if row and row[0] == current and not force:
            return
        with self.transaction() as con:
            for path in files:
                try:
                    con.execute(path.read_text(encoding="utf-8"))
                except duckdb.Error as exc:
                    raise WarehouseError(f"{path.name}: {exc}") from None
            con.execute("DELETE FROM schema_views")
            con.execute("INSERT INTO schema_views (digest) VALUES (?)", [current])
