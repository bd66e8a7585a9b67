"""The review queue: decisions win, survive re-extraction, round-trip CSV, check references."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from paramminer import load
from paramminer.cli import cli
from paramminer.config import load_settings
from paramminer.ingest import PaperResult, discover, ingest, reextract, reextract_pages
from paramminer.numbers import humanize
from paramminer.review import (
    ImportRowsError,
    ItemFilter,
    ReviewError,
    all_decisions,
    candidates_for,
    decide,
    flag_reference_mismatches,
    get_item,
    import_csv,
    list_items,
    parse_value,
    undo,
)
from paramminer.warehouse import Warehouse

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "fixtures" / "sample"
REFERENCE_DDL = """
CREATE TABLE IF NOT EXISTS reference_systems (source VARCHAR, system VARCHAR, parameters DOUBLE,
    publication_date DATE, domain VARCHAR, domains VARCHAR, confidence VARCHAR, link VARCHAR,
    arxiv_id VARCHAR, organization VARCHAR, notes VARCHAR);
CREATE TABLE IF NOT EXISTS reference_sources (name VARCHAR, file VARCHAR, imported_at TIMESTAMP,
    rows INTEGER);
"""


PAPERS = [  # paper_id, arxiv_id, title, publication_date, domain
    ("2401.90001", "2401.90001", "Halcyon: Open Foundation Models", "2024-01-12", "Language"),
    ("2502.90005", "2502.90005", "FactorAdam: Factored Second Moments", "2025-02-03", "Language"),
    ("2305.90003", "2305.90003", "Kestrel: Sparse Mixture-of-Experts", "2023-05-09", "Language"),
    ("2203.90002", "2203.90002", "LatticeNet: Lattice Attention", "2022-03-01", "Vision"),
    ("tern", None, "Tern: Sequential Recommendation at Scale", None, "Recommendation"),
]
CANDIDATES = [  # id, paper, value, kind, system, page, mention, evidence, scope, score
    ("h70", "2401.90001", 70_000_000_000, "total", "Halcyon-70B", 2, "70B",
     "Halcyon-70B 70B 80 8192 64", "own", 0.95),
    ("h7", "2401.90001", 7_000_000_000, "total", "Halcyon-7B", 2, "7B",
     "Halcyon-7B 7B 32 4096 32", "own", 0.9),
    ("g175", "2401.90001", 175_000_000_000, "total", "GPT-3", 1, "175B", "GPT-3 (175B)",
     "cited", 0.1),
    ("f7", "2502.90005", 7_000_000_000, "total", "", 1, "7B",
     "we fine-tune a 7B-parameter LLaMA model", "unknown", 0.55),
    ("f340", "2502.90005", 340_000_000, "total", "BERT-Large", 1, "340M",
     "BERT-Large (340M)", "cited", 0.25),
    ("k47", "2305.90003", 47_000_000_000, "total", "Kestrel-MoE", 2, "47B",
     "Kestrel-MoE has 47B total parameters", "own", 0.8),
    ("k13", "2305.90003", 13_000_000_000, "active", "Kestrel-MoE", 2, "13B",
     "of which 13B are active per token", "own", 0.8),
    ("k56", "2305.90003", 56_000_000_000, "total", "", 1, "56B", "a 56B dense model", "unknown",
     0.5),
    ("k4", "2305.90003", 4_000_000, "total", "accuracy", 3, "4M", "accuracy on 4M samples",
     "unknown", 0.6),
    ("l86", "2203.90002", 86_400_000, "total", "LatticeNet", 1, "86.4M",
     "LatticeNet has 86.4M parameters", "own", 0.95),
    ("t340", "tern", 340_000_000, "total", "Tern", 1, "340M", "Tern has 340M parameters", "own",
     0.85),
    ("t12", "tern", 1_200_000_000, "total", "", 1, "1.2 billion",
     "a benchmark with 1.2 billion interactions", "unknown", 0.55),
    ("t2", "tern", 2_000_000, "total", "Tern", 2, "2M", "Tern (2M) for ablations", "own", 0.65),
]
SYSTEMS = [  # paper, system, value, active, headline, confidence, status, candidate
    ("2401.90001", "Halcyon-70B", 70_000_000_000, None, True, 1.0, "auto", "h70"),
    ("2401.90001", "Halcyon-7B", 7_000_000_000, None, False, 1.0, "auto", "h7"),
    ("2502.90005", "FactorAdam (7B)", 7_000_000_000, None, True, 0.55, "flagged", "f7"),
    ("2305.90003", "Kestrel-MoE", 47_000_000_000, 13_000_000_000, True, 0.6, "flagged", "k47"),
    ("2305.90003", "accuracy", 4_000_000, None, False, 0.6, "flagged", "k4"),
    ("2203.90002", "LatticeNet", 86_400_000, None, True, 1.0, "auto", "l86"),
    ("tern", "Tern", 340_000_000, None, True, 0.85, "flagged", "t340"),
    ("tern", "Tern (2M)", 2_000_000, None, False, 0.65, "flagged", "t2"),
]
FLAGS = [
    ("2502.90005", "low_confidence", "no mention is clearly the paper's own model"),
    ("2305.90003", "moe_ambiguity", "mixture of experts without a clear active count"),
    ("tern", "own_vs_cited", "1.2B (p1) may also be the paper's own"),
]
OPEN_ITEMS = 5  # 2502.90005, 2305.90003, its "accuracy", tern, "Tern (2M)"


def seed_warehouse(path: Path) -> Path:
    """A small fixed warehouse (rows inserted directly, so extractor changes do not move it)."""
    with Warehouse.open(path) as warehouse, warehouse.transaction() as con:
        for paper_id, arxiv_id, title, date, domain in PAPERS:
            con.execute(
                "INSERT INTO papers (paper_id, sha256, source_file, arxiv_id, title, "
                "publication_date, date_source, domain, domains) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [paper_id, f"sha-{paper_id}", f"{paper_id}.pdf", arxiv_id, title, date,
                 "arxiv_id" if date else None, domain, domain])
        for cid, paper, value, kind, system, page, mention, evidence, scope, score in CANDIDATES:
            con.execute(
                "INSERT INTO candidates VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [cid, paper, f"sha-{paper}", value, kind, system or None, page, 0, len(mention),
                 mention, evidence, "method", scope, score, "count-param-noun@1",
                 any(s[7] == cid for s in SYSTEMS)])
        for paper, system, value, active, is_headline, confidence, status, cid in SYSTEMS:
            evidence = next(c[7] for c in CANDIDATES if c[0] == cid)
            page = next(c[5] for c in CANDIDATES if c[0] == cid)
            con.execute("INSERT INTO systems VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [paper, system, value, active, is_headline, confidence, status, cid,
                         page, evidence, "count-param-noun@1"])
        for paper, reason, detail in FLAGS:
            con.execute("INSERT INTO flags (paper_id, stage, reason, detail) "
                        "VALUES (?, 'extract', ?, ?)", [paper, reason, detail])
    return path


def item_key(paper_id: str, system: str, value: int) -> str:
    """The key review_items gives a non-headline system."""
    return f"{paper_id}:{hashlib.md5(f'{system}|{value}'.encode()).hexdigest()[:8]}"


ACCURACY = item_key("2305.90003", "accuracy", 4_000_000)
TERN_2M = item_key("tern", "Tern (2M)", 2_000_000)


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample PDFs really ingested, once; tests copy the file."""
    data_dir = tmp_path_factory.mktemp("review-data")
    settings = load_settings(overrides={"data_dir": str(data_dir), "workers": 1},
                             environ={})
    items, _ = discover([SAMPLE])
    with Warehouse.open(settings.warehouse_path) as warehouse:
        report = ingest(items, warehouse, settings)
    assert len(report.loaded) == 6
    return settings.warehouse_path


@pytest.fixture()
def wh_path(tmp_path: Path) -> Path:
    """A private seeded warehouse."""
    return seed_warehouse(tmp_path / "paramminer.duckdb")


@pytest.fixture()
def wh(wh_path: Path) -> Iterator[Warehouse]:
    with Warehouse.open(wh_path) as warehouse:
        yield warehouse


def final_rows(warehouse: Warehouse) -> list[tuple[object, ...]]:
    return warehouse.con.execute(
        "SELECT paper_id, system, parameters, parameters_active, is_headline, status, evidence "
        "FROM systems_final ORDER BY ALL").fetchall()


def headline(warehouse: Warehouse, paper_id: str) -> tuple[object, ...]:
    row = warehouse.con.execute(
        "SELECT parameters, parameters_active, status, page, evidence, source, reviewed_by "
        "FROM systems_final WHERE paper_id = ? AND is_headline", [paper_id]).fetchone()
    assert row is not None
    return tuple(row)


def test_queue_holds_flagged_items_only(wh: Warehouse) -> None:
    keys = [item.item_key for item in list_items(wh.con)]
    assert keys == ["2305.90003", ACCURACY, "2502.90005", "tern", TERN_2M]
    assert len(keys) == OPEN_ITEMS
    tern = get_item(wh.con, "tern")
    assert tern.reasons == ("own_vs_cited",) and tern.suggested == 340_000_000
    assert get_item(wh.con, TERN_2M).reasons == ("low_confidence",)  # flagged status alone
    own_vs_cited = list_items(wh.con, ItemFilter(reasons=("own_vs_cited", "moe_ambiguity")))
    assert [i.item_key for i in own_vs_cited] == ["2305.90003", "tern"]
    vision = list_items(wh.con, ItemFilter(domain="vision", include_decided=True))
    assert {i.item_key for i in vision} == {"2203.90002"}
    recent = list_items(wh.con, ItemFilter(since=dt.date(2025, 1, 1)))
    assert [i.item_key for i in recent] == ["2502.90005"]
    old = list_items(wh.con, ItemFilter(until=dt.date(2024, 12, 31), include_decided=True))
    assert {i.paper_id for i in old} == {"2401.90001", "2305.90003", "2203.90002"}


def test_decisions_win_and_undo_appends(wh: Warehouse) -> None:
    before = headline(wh, "2502.90005")
    assert before[2] == "flagged"
    decide(wh, "2502.90005", "set", value=7_200_000_000, reviewer="ann", note="Table 3")
    after = headline(wh, "2502.90005")
    assert after[0] == 7_200_000_000 and after[2] == "reviewed" and after[5] == "reviewed"
    assert after[6] == "ann"
    exported = wh.con.execute(
        "SELECT parameters, status FROM export_systems WHERE paper_id = '2502.90005' "
        "AND is_headline").fetchone()
    assert exported == (7_200_000_000, "reviewed")
    assert not get_item(wh.con, "2502.90005").is_open

    junk = ACCURACY  # "accuracy 4M": not a model size
    assert get_item(wh.con, junk).system == "accuracy"
    decide(wh, junk, "reject", reviewer="ann", note="accuracy, not a size")
    assert all(row[1] != "accuracy" for row in final_rows(wh))
    undo(wh, junk, reviewer="ann")
    assert any(row[1] == "accuracy" and row[5] == "flagged" for row in final_rows(wh))
    assert get_item(wh.con, junk).is_open

    undo(wh, "2502.90005", reviewer="bob")
    assert headline(wh, "2502.90005")[:3] == before[:3]
    history = all_decisions(wh.con)
    assert [d.action for d in history] == ["set", "reject", "undo", "undo"]
    assert history[2].supersedes == history[1].decision_id
    assert history[0].undone_by == history[3].decision_id
    with pytest.raises(ReviewError):
        undo(wh, "2502.90005", reviewer="bob")


def test_accept_choose_keep_provenance(wh: Warehouse) -> None:
    item = get_item(wh.con, "tern")
    options = candidates_for(wh.con, item)
    assert options[0].candidate_id == item.candidate_id  # the extracted one comes first
    pick = next(n for n, c in enumerate(options, 1) if c.parameters != item.suggested)
    chosen = options[pick - 1]
    decide(wh, item.item_key, "choose", candidate_number=pick, reviewer="cy")
    value, _, status, page, evidence, _, _ = headline(wh, item.paper_id)
    assert (value, status, page, evidence) == (chosen.parameters, "reviewed", chosen.page,
                                               chosen.evidence)
    # a typed value equal to a candidate keeps that candidate's evidence
    decide(wh, "2305.90003", "set", value=47_000_000_000, reviewer="cy")
    row = headline(wh, "2305.90003")
    assert row[0] == 47_000_000_000 and row[1] == 13_000_000_000  # MoE active count kept
    assert "47" in str(row[4])
    decide(wh, "2401.90001", "accept", reviewer="cy")
    assert headline(wh, "2401.90001")[:3] == (70_000_000_000, None, "reviewed")
    with pytest.raises(ReviewError, match="plausible"):
        decide(wh, "2401.90001", "set", value=7, reviewer="cy")


def _modified_result(wh: Warehouse, paper_id: str, new_value: int) -> PaperResult:
    """A real re-extraction of the stored text, with the headline value changed (a rules change)."""
    ((_, sha, title, arxiv),) = load.papers_for_extract(wh, [paper_id])
    result = reextract_pages(paper_id, sha, load.stored_pages(wh, sha), title, arxiv)
    result.resolution.systems = [
        dataclasses.replace(row, parameters=new_value) if row.is_headline else row
        for row in result.resolution.systems
    ]
    return result


def test_reextraction_keeps_decisions(sample_warehouse: Path, tmp_path: Path) -> None:
    wh_path = tmp_path / "sample.duckdb"
    shutil.copy(sample_warehouse, wh_path)
    with Warehouse.open(wh_path) as wh:
        paper_id, value = wh.con.execute(
            "SELECT paper_id, parameters FROM systems WHERE is_headline ORDER BY paper_id LIMIT 1"
        ).fetchone() or ("", 0)
        other = wh.con.execute("SELECT item_key, system FROM systems_keyed WHERE NOT is_headline "
                               "ORDER BY item_key LIMIT 1").fetchone()
        assert paper_id and other
        decide(wh, paper_id, "accept", reviewer="ann", note="checked Table 1")
        decide(wh, other[0], "reject", reviewer="ann")
        before = final_rows(wh)
        count = len(all_decisions(wh.con))

        # unchanged re-extraction (the real `paramminer extract` path): nothing new to look at
        settings = load_settings(overrides={"data_dir": str(tmp_path), "workers": 1,
                                            "warehouse": str(wh_path)}, environ={})
        reextract(wh, settings)
        assert final_rows(wh) == before
        assert headline(wh, paper_id)[2] == "reviewed"
        assert wh.con.execute("SELECT count(*) FROM flags WHERE reason = 'changed_after_review'"
                              ).fetchone() == (0,)

        # a rules change that alters the headline: the decision stays, the item comes back
        changed = value * 2
        load.load_extraction(wh, paper_id, _modified_result(wh, paper_id, changed))
        assert wh.con.execute("SELECT parameters FROM systems WHERE paper_id = ? AND is_headline",
                              [paper_id]).fetchone() == (changed,)
        assert headline(wh, paper_id)[0] == value and headline(wh, paper_id)[2] == "reviewed"
        details = wh.con.execute(
            "SELECT detail FROM flags WHERE reason = 'changed_after_review'").fetchall()
        assert len(details) == 1
        assert humanize(changed) in details[0][0] and humanize(value) in details[0][0]
        item = get_item(wh.con, paper_id)
        assert item.is_open and "changed_after_review" in item.reasons
        assert len(all_decisions(wh.con)) == count
        # the same change again keeps the one flag; a new decision closes the item for good
        load.load_extraction(wh, paper_id, _modified_result(wh, paper_id, changed))
        assert len(wh.con.execute("SELECT * FROM flags WHERE reason = 'changed_after_review'"
                                  ).fetchall()) == 1
        decide(wh, paper_id, "accept", reviewer="bob", note="the new value is right")
        assert not get_item(wh.con, paper_id).is_open
        load.load_extraction(wh, paper_id, _modified_result(wh, paper_id, changed))
        assert wh.con.execute("SELECT count(*) FROM flags WHERE reason = 'changed_after_review'"
                              ).fetchone() == (0,)
        assert headline(wh, paper_id)[0] == changed
        assert [d.reviewer for d in all_decisions(wh.con)] == ["ann", "ann", "bob"]


def _run(args: list[str], wh_path: Path, **env: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [*args[:2], "-w", str(wh_path), *args[2:]],
                                env={"PARAMMINER_REVIEWER": "", **env})
    return result.exit_code, result.output


def test_csv_round_trip(wh_path: Path, tmp_path: Path) -> None:
    queue = tmp_path / "queue.csv"
    code, out = _run(["review", "export", "--csv", str(queue)], wh_path)
    assert code == 0, out
    rows = list(csv.DictReader(queue.open(encoding="utf-8")))
    by_id = {row["item_id"]: row for row in rows}
    by_id["tern"].update(action="accept", note="abstract says so",
                                                 reviewer="dana")
    by_id["2502.90005"].update(action="set", value="7.0 billion", note="own model is 7B")
    by_id[ACCURACY].update(action="not stated", reviewer="eve")
    by_id["2305.90003"].update(value="47B/13B")  # no action: a value means set
    with queue.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    code, out = _run(["review", "import", "--csv", str(queue), "--by", "frank"], wh_path)
    assert code == 0, out
    assert "4 decision(s) applied" in out
    with Warehouse.open(wh_path) as wh:
        got = {(d.item_key, d.action, d.new_value, d.reviewer, d.note, d.origin)
               for d in all_decisions(wh.con)}
        assert got == {
            ("tern", "accept", 340_000_000, "dana", "abstract says so",
             "csv:queue.csv"),
            ("2502.90005", "set", 7_000_000_000, "frank", "own model is 7B", "csv:queue.csv"),
            (ACCURACY, "reject", None, "eve", None, "csv:queue.csv"),
            ("2305.90003", "set", 47_000_000_000, "frank", None, "csv:queue.csv"),
        }
        assert headline(wh, "2305.90003")[:3] == (47_000_000_000, 13_000_000_000, "reviewed")


def test_malformed_csv_changes_nothing(wh_path: Path, tmp_path: Path) -> None:
    queue = tmp_path / "queue.csv"
    assert _run(["review", "export", "--csv", str(queue)], wh_path)[0] == 0
    rows = list(csv.DictReader(queue.open(encoding="utf-8")))
    rows[0].update(action="accept", note="fine")  # line 2: good
    rows[1].update(action="set", value="lots")  # line 3: not a count
    rows[2].update(action="frobnicate")  # line 4: unknown action
    rows[3].update(item_id="nope", action="accept")  # line 5: unknown item
    rows[4].update(action="reject", value="7B")  # line 6: reject takes no value
    with queue.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with Warehouse.open(wh_path) as wh:
        before = final_rows(wh)
        with pytest.raises(ImportRowsError) as caught:
            import_csv(wh, queue, default_by="gus")
        assert [line for line, _ in caught.value.problems] == [3, 4, 5, 6]
        assert all_decisions(wh.con) == [] and final_rows(wh) == before
    code, out = _run(["review", "import", "--csv", str(queue)], wh_path)
    assert code == 2 and "nothing applied" in out
    lines = out.splitlines()  # each bad row on its own line
    assert [line.split(":")[0].strip() for line in lines[1:]] == [
        "line 3", "line 4", "line 5", "line 6"]
    missing = tmp_path / "bad.csv"
    missing.write_text("paper,value\nx,1B\n", encoding="utf-8")
    code, out = _run(["review", "import", "--csv", str(missing)], wh_path)
    assert code == 2 and "missing column" in out


def test_reference_mismatch(wh: Warehouse) -> None:
    wh.con.execute(REFERENCE_DDL)
    wh.con.executemany(
        "INSERT INTO reference_systems (source, system, parameters, arxiv_id, link, "
        "publication_date) VALUES (?, ?, ?, ?, ?, DATE '2024-01-01')",
        [("epoch", "Halcyon-70B", 70e9, "2401.90001", None),
         ("epoch", "FactorAdam", 13e9, "arXiv:2502.90005v2", None),
         ("epoch", "LatticeNet-B", 80e6, None, "https://arxiv.org/abs/2203.90002v1"),
         ("other", "Halcyon-70B", 1e9, "2401.90001", None)])
    with pytest.raises(ReviewError, match="no reference source"):
        flag_reference_mismatches(wh, "nosuch")
    found = flag_reference_mismatches(wh, "epoch", tolerance=0.10)
    assert [(m.paper_id, m.ours, m.reference) for m in found] == [
        ("2502.90005", 7_000_000_000, 13_000_000_000)]
    assert "7B" in found[0].detail and "13B" in found[0].detail
    assert "reference_mismatch" in get_item(wh.con, "2502.90005").reasons
    # 86.4M vs 80M is 8% apart: flagged only with a tighter tolerance
    assert {m.paper_id for m in flag_reference_mismatches(wh, "epoch", 0.05)} == {
        "2502.90005", "2203.90002"}
    assert {m.paper_id for m in flag_reference_mismatches(wh, "epoch")} == {"2502.90005"}
    flags = wh.con.execute("SELECT paper_id, stage FROM flags WHERE reason = 'reference_mismatch'"
                           ).fetchall()
    assert flags == [("2502.90005", "reference:epoch")]
    # a decision closes it; re-running the check keeps it closed; a reviewed value counts
    decide(wh, "2502.90005", "accept", reviewer="ann", note="ref counts the LoRA too")
    flag_reference_mismatches(wh, "epoch")
    assert not get_item(wh.con, "2502.90005").is_open
    decide(wh, "2502.90005", "set", value=13_000_000_000, reviewer="ann")
    assert flag_reference_mismatches(wh, "epoch") == []
    # a decided item the reference later contradicts comes back
    decide(wh, "2401.90001", "accept", reviewer="ann")
    flag_reference_mismatches(wh, "other")
    assert get_item(wh.con, "2401.90001").is_open


def test_cli_decide_list_show(wh_path: Path) -> None:
    code, out = _run(["review", "accept", "2502.90005", "--note", "ok"], wh_path,
                     PARAMMINER_REVIEWER="rita")
    assert code == 0 and "by rita" in out, out
    code, out = _run(["review", "set", "tern", "1.2B", "--by", "sam"],
                     wh_path)
    assert code == 0 and "1.2B" in out, out
    code, out = _run(["review", "set", "2305.90003", "seven"], wh_path)
    assert code == 2 and "not a parameter count" in out
    code, out = _run(["review", "show", "nope"], wh_path)
    assert code == 2 and "no review item" in out
    code, out = _run(["review", "list", "--format", "json", "--all"], wh_path)
    assert code == 0
    items = {row["id"]: row for row in json.loads(out[out.index("["):])}
    assert items["2502.90005"]["decided_by"] == "rita"
    assert items["tern"]["decided_value"] == 1_200_000_000
    code, out = _run(["review", "list", "--format", "csv", "--reason", "low_confidence"], wh_path)
    assert code == 0 and out.startswith("id,") and "2502.90005," not in out
    code, out = _run(["review", "show", "2502.90005"], wh_path)
    assert code == 0 and "FactorAdam" in out and "rita: accept" in out
    code, out = _run(["review", "undo", "2502.90005", "--by", "rita"], wh_path)
    assert code == 0 and "undo" in out


def test_every_review_command_has_help() -> None:
    group = cli.get_command(click.Context(cli), "review")
    assert isinstance(group, click.Group)
    assert group.help
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        assert command.help and "Example:" in command.help, name


@given(st.integers(min_value=1_000, max_value=50 * 10**12))
def test_parse_value_reads_plain_counts(value: int) -> None:
    assert parse_value(f"{value:,}") == (value, None)
    assert parse_value(str(value)) == (value, None)


def test_parse_value_forms() -> None:
    assert parse_value("1.5B") == (1_500_000_000, None)
    assert parse_value("47B / 13B") == (47_000_000_000, 13_000_000_000)
    for bad in ("", "abc", "13B/47B", "5"):
        with pytest.raises(ValueError):
            parse_value(bad)
