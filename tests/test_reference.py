"""`paramminer reference import/list` on hand-made CSVs and, when present, Epoch AI's table."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from paramminer.cli import cli
from paramminer.errors import ConfigError, InputError
from paramminer.reference import arxiv_id_from_link, import_reference, parse_date
from paramminer.report import build_report
from paramminer.warehouse import Warehouse

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "shared" / "reference"
NOTABLE = REFERENCE_DIR / "notable_ai_models.csv"

HEADER = ("Model,Organization,Publication date,Domain,Task,Parameters,Parameters notes,"
          "Confidence,Link,Citations\n")
ROWS = (
    '"GPT-3 175B\n(davinci)",OpenAI,2020-05-28,Language,"Language modeling",'
    '175000000000.0,"175B, the largest of eight",Confident,'
    'https://arxiv.org/abs/2005.14165v4,1000\n'
    'Mixtral 8x7B,Mistral AI,2023-12-11,"Language,Multimodal",Chat,46700000000,'
    '"Mixture of experts, 12.9B active",Likely,"https://mistral.ai/news, '
    'https://arxiv.org/pdf/2401.04088",\n'
    "No size,Somebody,2021-01-01,Vision,Classification,,,Unknown,,\n"
    "No date,Somebody,,Vision,Classification,1000000,,Unknown,,\n"
    "Old style,Lab,1997-11-15,Speech,ASR,2e6,,Speculative,http://arxiv.org/abs/cs.CL/9711001,\n"
)


def write_csv(tmp_path: Path, text: str, name: str = "ref.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    warehouse = Warehouse.open(tmp_path / "w.duckdb")
    yield warehouse
    warehouse.close()


def test_import_loads_rows_and_counts_skipped(tmp_path: Path, wh: Warehouse) -> None:
    result = import_reference(wh, write_csv(tmp_path, HEADER + ROWS), "hand")
    assert (result.rows, result.skipped_no_parameters, result.skipped_no_date) == (3, 1, 1)
    got = wh.con.execute(
        "SELECT system, parameters, publication_date, domain, domains, confidence, arxiv_id, "
        "organization, notes FROM reference_systems ORDER BY publication_date").fetchall()
    assert got == [
        ("Old style", 2e6, date(1997, 11, 15), "Speech", "Speech", "Speculative",
         "cs.CL/9711001", "Lab", None),
        ("GPT-3 175B (davinci)", 175e9, date(2020, 5, 28), "Language", "Language", "Confident",
         "2005.14165", "OpenAI", "175B, the largest of eight"),
        ("Mixtral 8x7B", 46.7e9, date(2023, 12, 11), "Language", "Language,Multimodal", "Likely",
         "2401.04088", "Mistral AI", "Mixture of experts, 12.9B active"),
    ]
    assert wh.con.execute("SELECT name, rows, skipped FROM reference_sources").fetchall() == [
        ("hand", 3, 2)]
    moe = wh.con.execute("SELECT system FROM analysis_systems WHERE is_moe").fetchall()
    assert moe == [("Mixtral 8x7B",)]


def test_reimport_replaces_only_that_name(tmp_path: Path, wh: Warehouse) -> None:
    import_reference(wh, write_csv(tmp_path, HEADER + ROWS), "hand")
    import_reference(wh, write_csv(tmp_path, HEADER + ROWS), "other")
    smaller = HEADER + "Solo,Lab,2022-02-02,Games,Go,1e9,,Confident,,\n"
    import_reference(wh, write_csv(tmp_path, smaller, "small.csv"), "hand")
    counts = wh.con.execute("SELECT source, count(*) FROM reference_systems GROUP BY source "
                            "ORDER BY source").fetchall()
    assert counts == [("hand", 1), ("other", 3)]
    assert wh.con.execute("SELECT rows FROM reference_sources WHERE name = 'hand'").fetchall() == [
        (1,)]


def test_failed_import_keeps_the_previous_rows(tmp_path: Path, wh: Warehouse) -> None:
    import_reference(wh, write_csv(tmp_path, HEADER + ROWS), "hand")
    with pytest.raises(InputError, match="missing column"):
        import_reference(wh, write_csv(tmp_path, "Name,Size\nx,1\n", "bad.csv"), "hand")
    with pytest.raises(InputError, match="no row has both"):
        import_reference(wh, write_csv(tmp_path, HEADER + "x,y,,Vision,t,,,,,\n", "e.csv"), "hand")
    assert wh.con.execute("SELECT count(*) FROM reference_systems").fetchone() == (3,)


def test_bad_names_are_refused(tmp_path: Path, wh: Warehouse) -> None:
    path = write_csv(tmp_path, HEADER + ROWS)
    for name in ("extracted", "*", "has space", ""):
        with pytest.raises(ConfigError):
            import_reference(wh, path, name)


def test_parsers() -> None:
    assert arxiv_id_from_link("https://arxiv.org/abs/1706.03762v7") == "1706.03762"
    assert arxiv_id_from_link("https://openai.com/blog") is None
    assert arxiv_id_from_link("https://arxiv.org/pdf/2401.04088.pdf") == "2401.04088"
    assert parse_date("2020-05") == date(2020, 5, 1)
    assert parse_date("2019") == date(2019, 1, 1)
    assert parse_date("2020-13-01") is None and parse_date("May 2020") is None


def test_cli_import_list_and_clear_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    warehouse = str(tmp_path / "w.duckdb")
    path = write_csv(tmp_path, HEADER + ROWS)
    result = runner.invoke(cli, ["reference", "import", str(path), "--name", "hand",
                                 "-w", warehouse])
    assert result.exit_code == 0, result.output
    assert "3 systems loaded" in result.output and "1 without parameters" in result.output
    listed = runner.invoke(cli, ["reference", "list", "-w", warehouse])
    assert listed.exit_code == 0 and "hand" in listed.output
    for bad in (tmp_path / "missing.csv", write_csv(tmp_path, "a,b\n1,2\n", "bad.csv")):
        failed = runner.invoke(cli, ["reference", "import", str(bad), "--name", "x",
                                     "-w", warehouse])
        assert failed.exit_code != 0
        lines = failed.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("paramminer: error:"), failed.output
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    failed = runner.invoke(cli, ["reference", "import", str(binary), "--name", "x",
                                 "-w", warehouse])
    assert failed.exit_code != 0 and "paramminer: error:" in failed.output


@pytest.mark.skipif(not NOTABLE.is_file(),
                    reason=f"Epoch AI's table is not at {NOTABLE} (../shared/reference absent)")
def test_epoch_notable_models_give_sane_doubling_times(tmp_path: Path, wh: Warehouse) -> None:
    result = import_reference(wh, NOTABLE, "epoch")
    assert result.rows > 500
    assert wh.con.execute("SELECT count(*) FROM reference_systems WHERE arxiv_id IS NOT NULL"
                          ).fetchone()[0] > 200
    wh.con.execute("INSERT INTO eras VALUES "
                   "('1952-2018', DATE '1952-01-01', DATE '2018-01-01', NULL), "
                   "('2018-2022', DATE '2018-01-01', DATE '2022-07-01', NULL)")
    report = build_report(wh, None, source="epoch", resamples=200)
    summary = report.sources[0].summary.set_index(["fit", "domain", "era"])
    # Villalobos et al. (2022): 39.7 months 1952-2018; 4.0 months 2018-2022 (see docs/analysis.md)
    assert 25 < summary.loc[("systems", "All", "1952-2018"), "doubling_months"] < 60
    assert 2 < summary.loc[("systems", "All", "2018-2022"), "doubling_months"] < 12
    assert 3 < summary.loc[("systems", "All", "large-scale"), "doubling_months"] < 15
    row = summary.loc[("systems", "All", "2018-2022")]
    assert row["doubling_months_p5"] < row["doubling_months"] < row["doubling_months_p95"]
