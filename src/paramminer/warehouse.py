"""The DuckDB warehouse: numbered migrations from warehouse/schema, views from warehouse/views."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

import duckdb

from paramminer import resources
from paramminer.errors import WarehouseBusyError, WarehouseError

_MIGRATION_NAME = re.compile(r"^(\d{3})_([\w\-]+)\.sql$")
LOCK_RETRY_SECONDS = 10.0


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
    versions = [version for version, _, _ in found]
    if len(set(versions)) != len(versions):
        raise WarehouseError(f"{folder}: two migrations share a number")
    return found


def view_files(directory: Path | None = None) -> list[Path]:
    """View definitions, applied in file-name order (so a view may use an earlier one)."""
    return sorted(((directory or sql_dir()) / "views").glob("*.sql"))


def _is_lock_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set lock" in text)


class Warehouse:
    """An open warehouse. Use as a context manager; `con` is the DuckDB connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, read_only: bool) -> None:
        self.con = con
        self.path = path
        self.read_only = read_only

    @classmethod
    def open(
        cls, path: Path, *, read_only: bool = False, wait_seconds: float = LOCK_RETRY_SECONDS
    ) -> Warehouse:
        """Open (creating if needed) and migrate the warehouse at `path`.

        Another process writing the file makes DuckDB refuse the open; we retry for
        `wait_seconds`, then raise WarehouseBusyError with a clear message.
        """
        path = Path(path)
        if read_only and not path.exists():
            raise WarehouseError(f"no warehouse at {path} (run `paramminer ingest` first)")
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + wait_seconds
        delay = 0.1
        while True:
            try:
                con = duckdb.connect(str(path), read_only=read_only)
                break
            except duckdb.IOException as exc:
                if not _is_lock_error(exc):
                    raise WarehouseError(f"cannot open warehouse {path}: {exc}") from None
                if time.monotonic() >= deadline:
                    raise WarehouseBusyError(
                        f"warehouse {path} is busy: another paramminer process is writing it; "
                        "try again when it finishes"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
            except duckdb.Error as exc:
                raise WarehouseError(f"cannot open warehouse {path}: {exc}") from None
        warehouse = cls(con, path, read_only)
        if not read_only:
            try:
                warehouse.migrate()
            except BaseException:
                con.close()  # else this process keeps the file locked
                raise
        return warehouse

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
        self.con.close()

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
        digest = hashlib.sha256()
        for path in files:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        current = digest.hexdigest()
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
