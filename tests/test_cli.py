"""The CLI: the export output contract (CSV, JSON, Parquet, -o), help everywhere, demo, status."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path
from typing import Any

import click
import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner, Result

from conftest import LoadedSample, isolated_env
from paramminer import __version__
from paramminer.cli import cli

CONTRACT = [
    "paper_id",
    "source_file",
    "system",
    "parameters",
    "parameters_active",
    "is_headline",
    "publication_date",
    "date_source",
    "domain",
    "status",
    "confidence",
    "page",
    "evidence",
    "rule",
]
CANDIDATE_CONTRACT = {"paper_id", "source_file", "parameters", "page", "evidence", "rule", "chosen"}


def invoke(args: list[str], data_dir: Path) -> Result:
    return CliRunner().invoke(cli, args, env=isolated_env(data_dir), catch_exceptions=False)


def export(sample: LoadedSample, *args: str) -> Result:
    result = invoke(["export", *args, "-w", str(sample.warehouse)], sample.data_dir)
    assert result.exit_code == 0, result.output
    return result


def rows_from_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def canonical(value: Any) -> str:
    """One spelling per value across CSV, JSON and Parquet (missing -> '')."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "True" if value else "False"
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1e6:
        return str(int(value))
    return str(value)


def canonical_rows(records: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{key: canonical(value) for key, value in record.items()} for record in records]


def db_rows(sample: LoadedSample, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(sample.warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# ---------------------------------------------------------------- export systems


def test_export_systems_csv_has_the_contract_columns(loaded_sample: LoadedSample) -> None:
    result = export(loaded_sample, "systems", "--format", "csv")
    header = result.stdout.splitlines()[0].split(",")
    assert header[: len(CONTRACT)] == CONTRACT
    rows = rows_from_csv(result.stdout)
    (systems,) = db_rows(loaded_sample, "SELECT count(*) FROM systems")[0]
    assert len(rows) == systems > 0
    assert result.stderr == ""
    papers = dict(db_rows(loaded_sample, "SELECT paper_id, source_file FROM papers"))
    for row in rows:
        assert row["source_file"] == papers[row["paper_id"]]
        assert int(row["parameters"]) > 0
        assert row["parameters_active"] == "" or int(row["parameters_active"]) < int(
            row["parameters"]
        )
        assert row["is_headline"] in ("True", "False")
        assert len(row["publication_date"]) == 10 and row["publication_date"][4] == "-"
        assert row["status"] in ("auto", "flagged", "reviewed")
        assert 0 <= float(row["confidence"]) <= 1
        assert int(row["page"]) >= 1
        assert row["evidence"].strip()
        assert "@" in row["rule"]
    headlines = [row["paper_id"] for row in rows if row["is_headline"] == "True"]
    assert len(headlines) == len(set(headlines))  # at most one headline per paper


def test_export_formats_have_the_same_rows(loaded_sample: LoadedSample, tmp_path: Path) -> None:
    as_csv = rows_from_csv(export(loaded_sample, "systems").stdout)
    as_json = json.loads(export(loaded_sample, "systems", "--format", "json").stdout)
    assert list(as_json[0])[: len(CONTRACT)] == CONTRACT
    parquet_path = tmp_path / "systems.parquet"
    export(loaded_sample, "systems", "--format", "parquet", "-o", str(parquet_path))
    frame = pd.read_parquet(parquet_path)
    assert list(frame.columns)[: len(CONTRACT)] == CONTRACT
    assert str(frame["parameters"].dtype) == "Int64"
    as_parquet = frame.to_dict(orient="records")
    parquet_stdout = export(loaded_sample, "systems", "--format", "parquet").stdout_bytes
    assert pd.read_parquet(io.BytesIO(parquet_stdout)).equals(frame)
    assert canonical_rows(as_json) == as_csv
    assert canonical_rows([{str(k): v for k, v in row.items()} for row in as_parquet]) == as_csv


def test_exported_evidence_contains_the_number_as_written(loaded_sample: LoadedSample) -> None:
    rows = rows_from_csv(export(loaded_sample, "systems").stdout)
    mentions = {
        (paper_id, system, parameters): (mention, page)
        for paper_id, system, parameters, mention, page in db_rows(
            loaded_sample,
            "SELECT s.paper_id, s.system, s.parameters, c.mention, c.page "
            "FROM systems s JOIN candidates c USING (candidate_id)",
        )
    }
    assert len(mentions) == len(rows)
    for row in rows:
        mention, page = mentions[(row["paper_id"], row["system"], int(row["parameters"]))]
        assert mention and mention in row["evidence"], (mention, row["evidence"])
        assert int(row["page"]) == page


def test_candidates_point_into_the_page_text(loaded_sample: LoadedSample) -> None:
    rows = db_rows(
        loaded_sample,
        "SELECT c.mention, c.char_start, c.char_end, p.text, c.evidence FROM candidates c "
        "JOIN pages p ON p.sha256 = c.sha256 AND p.page = c.page",
    )
    (candidates,) = db_rows(loaded_sample, "SELECT count(*) FROM candidates")[0]
    assert len(rows) == candidates > 0  # every candidate's page exists
    for mention, start, end, text, evidence in rows:
        assert text[start:end] == mention
        assert mention in evidence


def test_export_candidates(loaded_sample: LoadedSample) -> None:
    rows = rows_from_csv(export(loaded_sample, "candidates").stdout)
    assert set(rows[0]) >= CANDIDATE_CONTRACT
    assert list(rows[0])[:3] == ["paper_id", "source_file", "parameters"]
    (candidates,) = db_rows(loaded_sample, "SELECT count(*) FROM candidates")[0]
    assert len(rows) == candidates
    assert {row["chosen"] for row in rows} == {"True", "False"}
    chosen = {row["candidate_id"] for row in rows if row["chosen"] == "True"}
    assert chosen == {row[0] for row in db_rows(loaded_sample, "SELECT candidate_id FROM systems")}


def test_headline_only(loaded_sample: LoadedSample) -> None:
    rows = rows_from_csv(export(loaded_sample, "systems", "--headline-only").stdout)
    assert rows and all(row["is_headline"] == "True" for row in rows)
    expected = db_rows(loaded_sample, "SELECT paper_id FROM systems WHERE is_headline ORDER BY 1")
    assert [row["paper_id"] for row in rows] == [row[0] for row in expected]


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_output_file_is_written_atomically(
    loaded_sample: LoadedSample, tmp_path: Path, fmt: str
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / f"systems.{fmt}"
    target.write_text("old content\n")
    result = export(loaded_sample, "systems", "--format", fmt, "-o", str(target))
    assert result.stdout == ""
    assert [p.name for p in out_dir.iterdir()] == [target.name]  # no temp file left beside it
    if fmt == "parquet":
        assert target.read_bytes()[:4] == b"PAR1"
    else:
        assert (
            target.read_text(encoding="utf-8")
            == export(loaded_sample, "systems", "--format", fmt).stdout
        )


def test_failed_export_leaves_the_output_alone(tmp_path: Path) -> None:
    target = tmp_path / "systems.csv"
    target.write_text("previous export\n")
    result = invoke(
        ["export", "systems", "-w", str(tmp_path / "absent.duckdb"), "-o", str(target)],
        tmp_path / "data",
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("paramminer: error: no warehouse at ")
    assert target.read_text() == "previous export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["systems.csv"]


# ---------------------------------------------------------------- help, version, demo, status


def _commands(
    group: click.Group, prefix: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], click.Command]]:
    found: list[tuple[tuple[str, ...], click.Command]] = []
    context = click.Context(group)
    for name in sorted(group.list_commands(context)):
        command = group.get_command(context, name)
        assert command is not None, name
        found.append(((*prefix, name), command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, (*prefix, name)))
    return found


def test_every_command_has_help_text(tmp_path: Path) -> None:
    commands = _commands(cli)
    names = {path[0] for path, _ in commands}
    assert {"ingest", "extract", "export", "status", "demo", "eval"} <= names
    root = invoke(["--help"], tmp_path)
    assert root.exit_code == 0 and cli.help
    for path, command in commands:
        assert (command.help or "").strip(), f"`paramminer {' '.join(path)}` has no help text"
        assert command.get_short_help_str().strip()
        assert path[-1] in root.stdout or len(path) > 1
        result = invoke([*path, "--help"], tmp_path)
        assert result.exit_code == 0, (path, result.output)
        assert f"{' '.join(path)} [OPTIONS]" in result.stdout
        first_line = (command.help or "").strip().splitlines()[0].strip()
        assert first_line in " ".join(result.stdout.split())


def test_version(tmp_path: Path) -> None:
    result = invoke(["--version"], tmp_path)
    assert result.exit_code == 0
    assert __version__ in result.stdout


def test_demo_then_status(loaded_sample: LoadedSample, tmp_path: Path) -> None:
    wh = tmp_path / "demo.duckdb"
    demo = invoke(["demo", "-w", str(wh)], loaded_sample.data_dir)
    assert demo.exit_code == 0, demo.output
    assert f"warehouse: {wh}" in demo.stdout
    status = invoke(["status", "-w", str(wh)], loaded_sample.data_dir)
    assert status.exit_code == 0
    assert status.stdout.splitlines()[0] == f"warehouse {wh}"
    counts = {
        name: int(value)
        for name, value in (line.split() for line in status.stdout.splitlines()[1:7])
    }
    expected = dict(
        zip(
            counts,
            db_rows(
                loaded_sample,
                "SELECT " + ", ".join(f"(SELECT count(*) FROM {name})" for name in counts),
            )[0],
            strict=True,
        )
    )
    assert counts["papers"] == expected["papers"] == len(loaded_sample.report.loaded)
    assert counts["documents"] == expected["documents"]
    assert counts["ingest_failures"] == 0


def test_status_of_a_copy_is_read_only(loaded_sample: LoadedSample, tmp_path: Path) -> None:
    wh = tmp_path / "copy.duckdb"
    shutil.copy(loaded_sample.warehouse, wh)
    before = wh.read_bytes()
    result = invoke(["status", "-w", str(wh)], tmp_path)
    assert result.exit_code == 0
    assert wh.read_bytes() == before
