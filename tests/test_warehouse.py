"""The DuckDB warehouse: migrations once and recorded, views recreated, one writer at a time."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from conftest import REPO
from paramminer.errors import WarehouseBusyError, WarehouseError
from paramminer.warehouse import Warehouse, migrations, view_files

TABLES = {
    "documents",
    "pages",
    "papers",
    "candidates",
    "systems",
    "flags",
    "ingest_failures",
    "schema_migrations",
}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of warehouse/ (schema + views) that a test may change."""
    root = tmp_path / "home"
    shutil.copytree(REPO / "warehouse", root / "warehouse")
    monkeypatch.setenv("PARAMMINER_HOME", str(root))
    return root


def _tables(con: duckdb.DuckDBPyConnection, kind: str = "BASE TABLE") -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_type = ?", [kind]
    ).fetchall()
    return {row[0] for row in rows}


def _recorded(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str]]:
    return [
        (int(v), str(n))
        for v, n in con.execute(
            "SELECT version, name FROM schema_migrations ORDER BY version"
        ).fetchall()
    ]


def test_bundled_migrations_and_views_are_well_formed() -> None:
    found = migrations(REPO / "warehouse")
    versions = [version for version, _, _ in found]
    assert versions == sorted(set(versions))
    assert found[0][:2] == (1, "initial")
    assert [p.name for p in view_files(REPO / "warehouse")] == sorted(
        p.name for p in (REPO / "warehouse" / "views").glob("*.sql")
    )


def test_migrations_applied_once_and_recorded(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "w.duckdb"
    expected = [(version, name) for version, name, _ in migrations()]
    with Warehouse.open(path) as wh:
        assert path.exists()
        assert _recorded(wh.con) == expected
        assert _tables(wh.con) >= TABLES
        assert {"systems_final", "export_systems", "export_candidates"} <= _tables(wh.con, "VIEW")
        stamps = wh.con.execute("SELECT applied_at FROM schema_migrations").fetchall()
        wh.con.execute("INSERT INTO ingest_failures (source_path, reason) VALUES ('x.pdf', 'kept')")
    with Warehouse.open(path) as wh:
        assert wh.migrate() == []  # nothing new, on open or after
        assert _recorded(wh.con) == expected
        assert wh.con.execute("SELECT applied_at FROM schema_migrations").fetchall() == stamps
        assert wh.con.execute("SELECT reason FROM ingest_failures").fetchall() == [("kept",)]


def test_new_migration_applied_alone_and_views_recreated(tmp_path: Path, home: Path) -> None:
    path = tmp_path / "w.duckdb"
    with Warehouse.open(path) as wh:
        wh.con.execute("INSERT INTO ingest_failures (source_path, reason) VALUES ('a.pdf', 'bad')")
        wh.con.execute("DROP VIEW export_candidates")  # a lost view comes back on the next open
    schema = home / "warehouse" / "schema"
    (schema / "900_extra.sql").write_text(
        "CREATE TABLE extra (x INTEGER);\nINSERT INTO extra VALUES (42);\n"
    )
    view = home / "warehouse" / "views" / "90_extra.sql"
    view.write_text("CREATE OR REPLACE VIEW extra_view AS SELECT x * 2 AS y FROM extra;\n")
    with Warehouse.open(path) as wh:
        assert _recorded(wh.con)[-1] == (900, "extra")
        assert wh.con.execute("SELECT y FROM extra_view").fetchall() == [(84,)]
        assert "export_candidates" in _tables(wh.con, "VIEW")
        assert wh.con.execute("SELECT reason FROM ingest_failures").fetchall() == [("bad",)]
    view.write_text("CREATE OR REPLACE VIEW extra_view AS SELECT x + 1 AS y FROM extra;\n")
    with Warehouse.open(path) as wh:
        assert wh.con.execute("SELECT y FROM extra_view").fetchall() == [(43,)]
        assert wh.con.execute("SELECT count(*) FROM extra").fetchone() == (1,)  # not re-run
        assert [v for v, _ in _recorded(wh.con)].count(900) == 1


def test_failing_migration_is_rolled_back_and_reported(tmp_path: Path, home: Path) -> None:
    path = tmp_path / "w.duckdb"
    Warehouse.open(path).close()
    (home / "warehouse" / "schema" / "900_broken.sql").write_text(
        "CREATE TABLE half (x INTEGER);\nSELECT * FROM no_such_table;\n"
    )
    with pytest.raises(WarehouseError, match=r"900_broken\.sql"):
        Warehouse.open(path)
    with pytest.raises(WarehouseError, match=r"900_broken\.sql"):  # a reader migrates too
        Warehouse.open(path, read_only=True)
    (home / "warehouse" / "schema" / "900_broken.sql").unlink()
    # the failed open released the file, and left neither the table nor a record behind
    with Warehouse.open(path, read_only=True) as wh:
        assert "half" not in _tables(wh.con)
        assert 900 not in {v for v, _ in _recorded(wh.con)}


def test_badly_named_or_duplicate_migrations(tmp_path: Path, home: Path) -> None:
    schema = home / "warehouse" / "schema"
    (schema / "1_short.sql").write_text("SELECT 1;")
    with pytest.raises(WarehouseError, match=r"NNN_name\.sql"):
        migrations()
    (schema / "1_short.sql").unlink()
    (schema / "001_again.sql").write_text("SELECT 1;")
    with pytest.raises(WarehouseError, match="share a number"):
        migrations()


def test_broken_view_names_its_file(tmp_path: Path, home: Path) -> None:
    (home / "warehouse" / "views" / "99_bad.sql").write_text(
        "CREATE VIEW v AS SELECT nope FROM nowhere;"
    )
    with pytest.raises(WarehouseError, match=r"99_bad\.sql"):
        Warehouse.open(tmp_path / "w.duckdb")


def test_read_only_open_of_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError) as caught:
        Warehouse.open(tmp_path / "absent.duckdb", read_only=True)
    assert str(caught.value) == (
        f"no warehouse at {tmp_path / 'absent.duckdb'} (run `paramminer ingest` or "
        "`paramminer demo` first, or pass --warehouse)")
    assert not (tmp_path / "absent.duckdb").exists()


def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        with pytest.raises(RuntimeError), wh.transaction() as con:
            con.execute("INSERT INTO ingest_failures (source_path, reason) VALUES ('a', 'r')")
            raise RuntimeError("boom")
        assert wh.con.execute("SELECT count(*) FROM ingest_failures").fetchone() == (0,)
        with wh.transaction() as con:
            con.execute("INSERT INTO ingest_failures (source_path, reason) VALUES ('a', 'r')")
        assert wh.con.execute("SELECT count(*) FROM ingest_failures").fetchone() == (1,)


# ---------------------------------------------------------------- one writer at a time

HOLDER = textwrap.dedent("""
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    print("ready", flush=True)
    time.sleep(float(sys.argv[2]))
    con.close()
""")


@pytest.fixture
def lock_holder(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    """A child process holding the warehouse open for writing (for up to 60 s)."""
    path = tmp_path / "w.duckdb"
    Warehouse.open(path).close()
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), "60"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        yield path, child
    finally:
        child.kill()
        child.wait()


def test_second_writer_gets_busy_error_after_the_wait(
    lock_holder: tuple[Path, subprocess.Popen[str]],
) -> None:
    path, child = lock_holder
    for read_only in (False, True):
        started = time.monotonic()
        with pytest.raises(WarehouseBusyError) as caught:
            Warehouse.open(path, read_only=read_only, wait_seconds=0.6)
        waited = time.monotonic() - started
        assert 0.6 <= waited < 5
        message = str(caught.value)
        assert message == (
            f"warehouse {path} is busy: another process has held it for 0.6s "
            "(a DuckDB client left open on it?); try again"
        )
        assert caught.value.exit_code == 75
    child.kill()
    child.wait()
    with Warehouse.open(path, wait_seconds=0) as wh:  # free again once the holder is gone
        assert wh.migrate() == []


def test_writer_waits_for_the_lock_to_be_released(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    Warehouse.open(path).close()
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), "1.0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        started = time.monotonic()
        with Warehouse.open(path, wait_seconds=30) as wh:
            assert _recorded(wh.con)[0] == (1, "initial")
        assert time.monotonic() - started >= 0.5  # it really waited for the holder
    finally:
        child.kill()
        child.wait()


def _can_open_elsewhere(path: Path) -> bool:
    """Whether another process can open the file right now (read-only, no waiting)."""
    probe = ("import sys, duckdb\ntry:\n    duckdb.connect(sys.argv[1], read_only=True).close()\n"
             "except duckdb.IOException:\n    sys.exit(1)\n")
    return subprocess.run([sys.executable, "-c", probe, str(path)], check=False).returncode == 0


def test_a_batch_writer_keeps_the_file_only_briefly(tmp_path: Path) -> None:
    """yield_to_readers keeps the file between papers (no reopening per paper) until it has
    been held for HOLD_SECONDS, or at once when a paramminer reader has said it waits."""
    from paramminer import warehouse as module

    path = tmp_path / "w.duckdb"
    with Warehouse.open(path) as wh:
        connection = wh.con
        wh.yield_to_readers()
        assert wh.con is connection  # just opened: kept
        assert not _can_open_elsewhere(path)
        time.sleep(module.HOLD_SECONDS)
        wh.yield_to_readers()
        assert _can_open_elsewhere(path)  # held long enough: released
        connection = wh.con
        module._mark_waiting(path)
        wh.yield_to_readers()
        assert _can_open_elsewhere(path)  # a reader waits: released at once
        assert wh.con is not connection


def test_a_writer_waits_for_a_reader_of_the_same_process(tmp_path: Path) -> None:
    """DuckDB refuses a read-write connection beside a read-only one of the same process (a
    web server thread reading while a command of that process writes): a wait, not an error."""
    import threading

    path = tmp_path / "w.duckdb"
    Warehouse.open(path).close()
    reader = Warehouse.open(path, read_only=True)
    reader.con.execute("SELECT 1").fetchall()
    timer = threading.Timer(0.5, reader.release)
    timer.start()
    started = time.monotonic()
    with Warehouse.open(path, wait_seconds=10) as writer:
        assert writer.con.execute("SELECT 1").fetchone() == (1,)
    assert time.monotonic() - started >= 0.4  # it waited for the reader
    timer.join()
