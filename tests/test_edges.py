"""Clear edges: database and file errors end in one line with a documented exit code, and
`paramminer sql` reads the warehouse only, unless told otherwise."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import SAMPLE_DIR, LoadedSample, isolated_env
from paramminer.cli import cli

EXIT_BAD_SETTINGS, EXIT_IO = 2, 74


def invoke(args: list[str], data_dir: Path) -> Result:
    return CliRunner().invoke(cli, args, env=isolated_env(data_dir), catch_exceptions=False)


def one_error_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("paramminer: error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def test_a_data_folder_that_is_a_file_is_a_setting_error(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.write_text("not a folder")
    for args in (["status"], ["ingest", str(SAMPLE_DIR)], ["export", "systems"]):
        result = invoke(args, data)
        assert result.exit_code == EXIT_BAD_SETTINGS, args
        assert f"data folder {data} is a file, not a folder" in one_error_line(result)


def test_an_unwritable_export_target_is_one_line(
    loaded_sample: LoadedSample, tmp_path: Path
) -> None:
    target = tmp_path / "no-such-folder" / "systems.csv"
    for args in (["export", "systems", "-o", str(target)],
                 ["review", "export", "--csv", str(target)]):
        result = invoke([*args, "-w", str(loaded_sample.warehouse)], loaded_sample.data_dir)
        assert result.exit_code == EXIT_IO, args
        line = one_error_line(result)
        assert str(target.parent) in line and "No such file or directory" in line
    assert not list(tmp_path.rglob(".*.tmp"))


@pytest.mark.parametrize("query", ["", "   ", " ; ; ", "\n-- nothing here\n", "/* none */ ;"])
def test_an_empty_query_is_a_bad_argument(loaded_sample: LoadedSample, query: str) -> None:
    result = invoke(["sql", query, "-w", str(loaded_sample.warehouse)], loaded_sample.data_dir)
    assert result.exit_code == EXIT_BAD_SETTINGS
    assert one_error_line(result) == "paramminer: error: the SQL query is empty"


def test_sql_reads_the_warehouse_and_nothing_else(
    loaded_sample: LoadedSample, tmp_path: Path
) -> None:
    out = tmp_path / "papers.csv"
    elsewhere = tmp_path / "other.duckdb"
    refused = [
        f"COPY papers TO '{out}'",
        f"EXPORT DATABASE '{tmp_path / 'dump'}'",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM glob('/etc/*')",
        f"ATTACH '{elsewhere}'",
        "INSTALL httpfs",
        "SET enable_external_access = true",
    ]
    wh = ["-w", str(loaded_sample.warehouse)]
    for query in refused:
        result = invoke(["sql", query, *wh], loaded_sample.data_dir)
        assert result.exit_code == 2, query  # a refused or failing query is a bad value
        line = one_error_line(result)
        assert "query refused" in line or "query failed" in line, line
    assert not out.exists() and not (tmp_path / "dump").exists() and not elsewhere.exists()
    assert "--allow-external-access" in one_error_line(
        invoke(["sql", refused[0], *wh], loaded_sample.data_dir))

    ok = invoke(["sql", "SELECT count(*) AS n FROM papers", "--format", "csv", *wh],
                loaded_sample.data_dir)
    assert ok.exit_code == 0 and ok.stdout.splitlines()[0] == "n"
    allowed = invoke(["sql", f"COPY papers TO '{out}'", "--allow-external-access", *wh],
                     loaded_sample.data_dir)
    assert allowed.exit_code == 0, allowed.output
    assert out.read_text().startswith("paper_id,")
    changed = invoke(["sql", "DELETE FROM papers", "--allow-external-access", *wh],
                     loaded_sample.data_dir)
    assert changed.exit_code == 2  # read-only all the same


def _can_mount_tmpfs() -> bool:
    if shutil.which("unshare") is None or not sys.platform.startswith("linux"):
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs none /mnt"],
                           capture_output=True)
    return probe.returncode == 0


DISK_FULL = textwrap.dedent("""
    set -e
    mount -t tmpfs -o size=8m tmpfs "$ROOT/mnt"
    paramminer() {{ "{python}" -c "from paramminer.cli import main; main()" "$@"; }}
    paramminer ingest "{sample}/2203.90002v1.pdf" --no-show > /dev/null
    dd if=/dev/zero of="$ROOT/mnt/fill" bs=64k 2>/dev/null || true
    set +e
    paramminer ingest "{sample}" --no-show > /dev/null 2> "$ROOT/ingest.err"
    echo $? > "$ROOT/ingest.rc"
    paramminer export systems -o "$ROOT/mnt/out.csv" 2> "$ROOT/export.err"
    echo $? > "$ROOT/export.rc"
""")


@pytest.mark.skipif(not _can_mount_tmpfs(), reason="needs `unshare -rm` to mount a small tmpfs")
def test_a_full_disk_is_one_line_and_exit_74(tmp_path: Path) -> None:
    (tmp_path / "mnt").mkdir()
    script = DISK_FULL.format(python=sys.executable, sample=SAMPLE_DIR)
    env = isolated_env(tmp_path / "mnt" / "data", ROOT=str(tmp_path),
                       PARAMMINER_CACHE_DIR=str(tmp_path / "cache"))
    subprocess.run(["unshare", "-rm", "bash", "-c", script], env=env, check=True, timeout=600)
    for step in ("ingest", "export"):
        assert (tmp_path / f"{step}.rc").read_text().strip() == str(EXIT_IO), step
        lines = (tmp_path / f"{step}.err").read_text().strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("paramminer: error: "), lines
        assert "No space left on device" in lines[0]
