"""Output that composes: JSON alone on stdout, whole tables in pipes, read commands that never
create a warehouse, the documented exit codes, and counts that agree with the exports."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import SAMPLE_DIR, LoadedSample, isolated_env
from paramminer.cli import cli
from paramminer.cli.harvest import warehouse_totals
from paramminer.config import Settings
from paramminer.fakearxiv import serve_in_thread
from paramminer.warehouse import Warehouse


@pytest.fixture
def warehouse(loaded_sample: LoadedSample, tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    shutil.copy(loaded_sample.warehouse, path)
    return path


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env={"PARAMMINER_REVIEWER": ""})
    return result.exit_code, result.stdout, result.stderr


def _piped(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The real command with stdout a pipe (not a terminal)."""
    return subprocess.run([sys.executable, "-m", "paramminer", *args], env=env,
                          capture_output=True, text=True, timeout=300)


def test_run_json_appends_exactly_one_json_line(tmp_path: Path) -> None:
    env = isolated_env(tmp_path / "data", PARAMMINER_API_DELAY="0.05",
                       PARAMMINER_PDF_DELAY="0.05", PARAMMINER_START_DATE="2000-01-01",
                       PARAMMINER_CONTACT="tests@example.org")
    runs = tmp_path / "runs.jsonl"
    with serve_in_thread(SAMPLE_DIR) as server:
        for _ in range(2):  # the second run finds nothing new
            done = _piped(["run", "--json", "--arxiv-url", server.base_url,
                           "--category", "cs.CL", "--ingest", str(tmp_path / "none")], env)
            with runs.open("a", encoding="utf-8") as handle:
                handle.write(done.stdout)
            assert "local ingest:" in done.stderr  # the human lines went to stderr
    lines = runs.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["new_papers"] > 0 and second["new_papers"] == 0
    assert first["warehouse"] == second["warehouse"]


def test_ingest_json_with_show_keeps_stdout_json(tmp_path: Path) -> None:
    env = isolated_env(tmp_path / "data")
    done = _piped(["ingest", str(SAMPLE_DIR / "2401.90001v1.pdf"), "--json", "--show"], env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["loaded"] == 1
    assert "Halcyon-70B" in done.stderr  # the systems table is for people: stderr


def test_piped_tables_are_whole(warehouse: Path, tmp_path: Path) -> None:
    env = isolated_env(tmp_path / "data")
    long_text = "evidence " * 40
    done = _piped(["sql", f"SELECT '{long_text.strip()}' AS evidence, 175000000000 AS n",
                   "-w", str(warehouse)], env)
    assert done.returncode == 0, done.stderr
    assert long_text.strip() in done.stdout and "175000000000" in done.stdout
    assert done.stderr.strip() == "1 row(s)"
    listed = _piped(["review", "list", "--all", "-w", str(warehouse)], env)
    assert listed.returncode == 0, listed.stderr
    assert "2401.90001:5db786c9" in listed.stdout  # ids and reasons never cut or wrapped
    assert max(len(line) for line in listed.stdout.splitlines()) > 100


@pytest.mark.parametrize("args", [
    ["sql", "SELECT 1"], ["review", "list"], ["review", "show", "x"], ["status"],
    ["export", "systems"], ["report", "--no-charts"], ["extract"], ["reference", "list"],
    ["review", "export", "--csv", "q.csv"], ["review", "accept", "x"], ["review"],
])
def test_read_commands_never_create_a_warehouse(args: list[str], tmp_path: Path) -> None:
    path = tmp_path / "elsewhere" / "paramminer.duckdb"
    code, out, err = _cli(*args, "-w", str(path)) if args != ["review"] else _cli(
        "review", "-w", str(path))
    assert (code, out) == (1, "")
    assert err == (f"paramminer: error: no warehouse at {path} (run `paramminer ingest` or "
                   "`paramminer demo` first, or pass --warehouse)\n")
    assert not path.parent.exists()


def test_bad_values_exit_2(warehouse: Path) -> None:
    for args, message in (
        (["extract", "--paper", "UNKNOWN"], "no paper 'UNKNOWN' in"),
        (["sql", "SELEKT 1"], "query failed"),
        (["review", "set", "2401.90001", "seven"], "not a parameter count"),
        (["review", "show", "nope"], "no review item 'nope'"),
        (["review", "check-reference", "nosuch"], "no reference"),
        (["export", "systems", "--format", "xml"], "Invalid value"),
    ):
        code, out, err = _cli(*args, "-w", str(warehouse))
        assert code == 2, (args, out, err)
        assert message in err and out == "", args


def test_status_and_run_count_from_the_export_views(warehouse: Path) -> None:
    def counted() -> dict[str, int]:
        code, out, _ = _cli("status", "--json", "-w", str(warehouse))
        assert code == 0
        status = json.loads(out)
        with Warehouse.open(warehouse, read_only=True) as wh:
            exported = dict(wh.con.execute(
                "SELECT status, count(*) FROM export_systems WHERE is_headline GROUP BY status"
            ).fetchall())
        assert {k: v for k, v in status["headline"].items() if v} == exported
        totals = warehouse_totals(Settings(warehouse=warehouse))
        assert totals["headline_systems"] == sum(exported.values())
        assert totals["flagged"] == exported.get("flagged", 0)
        return dict(status["headline"])

    before = counted()
    assert _cli("review", "set", "2401.90001", "71B", "--by", "ann", "-w", str(warehouse))[0] == 0
    assert _cli("review", "reject", "2305.90003", "--by", "ann", "-w", str(warehouse))[0] == 0
    after = counted()
    assert after["reviewed"] == before["reviewed"] + 1  # the rejected headline is not counted
    assert after["auto"] + after["flagged"] == before["auto"] + before["flagged"] - 2
