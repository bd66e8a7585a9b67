"""Ingest end to end through the real CLI: partial failures, idempotence, the text cache,
re-extraction without PDFs, and a kill -9 in the middle of a run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner, Result

from conftest import (
    SAMPLE_DIR,
    LoadedSample,
    build_bad_inputs,
    isolated_env,
    sample_pdfs,
    skip_if_source_changed,
    source_fingerprint,
)
from paramminer.cli import cli
from paramminer.config import Settings
from paramminer.ingest import discover, ingest, reextract, reextract_pages
from paramminer.warehouse import Warehouse

EXPECTED = {
    entry["file"]: entry for entry in json.loads((SAMPLE_DIR / "expected.json").read_text())
}
TABLES = ("documents", "pages", "papers", "candidates", "systems", "flags")
VOLATILE = {"ingested_at", "extracted_at", "parse_seconds", "raised_at", "failed_at"}
BAD_REASONS = {
    "not_a_pdf.pdf": "not a PDF",
    "empty.pdf": "empty file",
    "truncated.pdf": "damaged",
    "garbage_after_header.pdf": "damaged",
    "encrypted.pdf": "encrypted",
    "image_only.pdf": "no text layer",
}


def snapshot(
    path: Path, *, drop: Collection[str] = (), tables: tuple[str, ...] = TABLES
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of `tables` (sorted), leaving out the columns in `drop`."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        for table in tables:
            columns = [
                row[0] for row in con.execute(f"DESCRIBE {table}").fetchall() if row[0] not in drop
            ]
            rows = con.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
            out[table] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


def query(path: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def invoke(args: list[str], data_dir: Path) -> Result:
    """The real CLI in this process, with a private data dir and one worker."""
    return CliRunner().invoke(cli, args, env=isolated_env(data_dir), catch_exceptions=False)


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    """A private copy of the sample PDFs (tests may delete them)."""
    folder = tmp_path / "sample"
    folder.mkdir()
    for pdf in sample_pdfs():
        shutil.copy(pdf, folder / pdf.name)
    return folder


def test_batch_with_bad_inputs_is_partial_and_idempotent(
    tmp_path: Path, sample_copy: Path, loaded_sample: LoadedSample
) -> None:
    data = loaded_sample.data_dir  # warm text cache: this test is about the batch, not parsing
    bad = build_bad_inputs(tmp_path / "bad")
    missing = tmp_path / "absent.pdf"
    wh = tmp_path / "w.duckdb"
    args = [
        "ingest",
        str(sample_copy),
        str(tmp_path / "bad"),
        str(missing),
        "-w",
        str(wh),
        "--no-show",
    ]
    first = invoke(args, data)
    assert first.exit_code == 3, first.output
    assert f"{len(bad) + 1} input(s) failed:" in first.stderr
    for name, reason in BAD_REASONS.items():
        line = next(
            line
            for line in first.stderr.splitlines()
            if line.startswith(f"  FAILED {tmp_path / 'bad' / name}: ")
        )
        assert reason in line
    assert f"  FAILED {missing}: no such file or folder" in first.stderr
    assert first.stdout.startswith(f"{len(EXPECTED)} loaded, 0 unchanged, {len(bad) + 1} failed;")

    documents = query(
        wh, "SELECT source_file, paper_id, n_pages, stamp_date FROM documents ORDER BY source_file"
    )
    assert [row[0] for row in documents] == sorted(EXPECTED)
    for source_file, paper_id, n_pages, stamp_date in documents:
        expected = EXPECTED[source_file]
        assert (paper_id, n_pages) == (expected["paper_id"], expected["pages"])
        stamp = expected["arxiv_stamp"]
        assert (str(stamp_date) if stamp_date else None) == (stamp["date"] if stamp else None)
    assert query(wh, "SELECT count(*) FROM pages")[0][0] == sum(
        e["pages"] for e in EXPECTED.values()
    )
    assert {row[0] for row in query(wh, "SELECT paper_id FROM papers")} == {
        e["paper_id"] for e in EXPECTED.values()
    }
    failures = dict(query(wh, "SELECT source_path, reason FROM ingest_failures"))
    assert set(failures) == {str(p) for p in bad.values()} | {str(missing)}
    for name, reason in BAD_REASONS.items():
        assert reason in failures[str(tmp_path / "bad" / name)]

    before = snapshot(wh)
    again = invoke([*args, "--json"], data)
    assert again.exit_code == 3
    report = json.loads(again.stdout)
    assert (report["loaded"], report["unchanged"], report["parsed_pages"]) == (0, len(EXPECTED), 0)
    assert {f["path"] for f in report["failures"]} == set(failures)
    assert snapshot(wh) == before  # timestamps included: nothing was rewritten
    assert dict(query(wh, "SELECT source_path, reason FROM ingest_failures")) == failures

    status = invoke(["status", "-w", str(wh)], data)
    assert status.exit_code == 0
    for path, reason in failures.items():
        assert f"  FAILED {path}: {reason}" in status.stdout


def test_exit_codes_all_good_and_all_bad(tmp_path: Path, loaded_sample: LoadedSample) -> None:
    build_bad_inputs(tmp_path / "bad")
    good = invoke(
        ["ingest", str(SAMPLE_DIR), "-w", str(tmp_path / "good.duckdb"), "--json"],
        loaded_sample.data_dir,
    )
    assert good.exit_code == 0
    assert json.loads(good.stdout)["failures"] == []
    bad = invoke(
        ["ingest", str(tmp_path / "bad"), "-w", str(tmp_path / "bad.duckdb"), "--json"],
        tmp_path / "data",
    )
    assert bad.exit_code == 4
    report = json.loads(bad.stdout)
    assert report["loaded"] == report["unchanged"] == 0
    assert {Path(f["path"]).name for f in report["failures"]} == set(BAD_REASONS)
    assert query(tmp_path / "bad.duckdb", "SELECT count(*) FROM documents") == [(0,)]


def test_failure_is_cleared_when_the_input_later_succeeds(tmp_path: Path) -> None:
    pdf = tmp_path / "in" / "paper.pdf"
    pdf.parent.mkdir()
    pdf.write_bytes(b"%PDF-1.7\nnot yet")
    wh = tmp_path / "w.duckdb"
    assert invoke(["ingest", str(pdf), "-w", str(wh)], tmp_path / "data").exit_code == 4
    assert len(query(wh, "SELECT * FROM ingest_failures")) == 1
    shutil.copy(SAMPLE_DIR / "2203.90002v1.pdf", pdf)
    assert invoke(["ingest", str(pdf), "-w", str(wh)], tmp_path / "data").exit_code == 0
    assert query(wh, "SELECT * FROM ingest_failures") == []
    assert query(wh, "SELECT paper_id, source_file FROM papers") == [("2203.90002", "paper.pdf")]


def test_text_cache_means_a_fresh_warehouse_parses_nothing(
    tmp_path: Path, loaded_sample: LoadedSample
) -> None:
    total_pages = sum(e["pages"] for e in EXPECTED.values())
    first = loaded_sample.report  # the session's ingest, which started with an empty cache
    assert (first.pages, first.parsed_pages) == (total_pages, total_pages)
    cache = loaded_sample.data_dir / "cache" / "text"
    assert len(list(cache.rglob("*.json.gz"))) == len(EXPECTED)
    fresh = tmp_path / "fresh.duckdb"
    second = invoke(["ingest", str(SAMPLE_DIR), "-w", str(fresh), "--json"], loaded_sample.data_dir)
    report = json.loads(second.stdout)
    assert (report["loaded"], report["pages"], report["parsed_pages"]) == (
        len(EXPECTED),
        total_pages,
        0,
    )
    drop = {*VOLATILE, "source_path"}
    assert snapshot(fresh, drop=drop) == snapshot(loaded_sample.warehouse, drop=drop)
    assert query(fresh, "SELECT max(parse_seconds) FROM documents") == [(0.0,)]


def test_extract_reruns_without_the_pdfs(
    tmp_path: Path, sample_copy: Path, loaded_sample: LoadedSample
) -> None:
    wh = tmp_path / "w.duckdb"
    assert (
        invoke(["ingest", str(sample_copy), "-w", str(wh)], loaded_sample.data_dir).exit_code == 0
    )
    before = snapshot(wh, drop=VOLATILE)
    shutil.rmtree(sample_copy)  # neither the PDFs nor their cached text are needed:
    data = tmp_path / "empty-data"  # a data dir with no text cache
    result = invoke(["extract", "-w", str(wh), "--json"], data)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["loaded"], report["failures"], report["parsed_pages"]) == (len(EXPECTED), [], 0)
    assert snapshot(wh, drop=VOLATILE) == before
    one = invoke(["extract", "-w", str(wh), "--paper", "2401.90001", "--json"], data)
    assert json.loads(one.stdout)["loaded"] == 1
    assert snapshot(wh, drop=VOLATILE) == before


# six papers through one worker: two at a time until the last paper is handed out, then
# each result as it comes (while the worker runs the next); or each alone once
# EXTRACT_LOAD_SECONDS (0 here) have passed
@pytest.mark.parametrize(("batch", "seconds", "loads"),
                         [(2, 60.0, [2, 2, 1, 1]), (100, 0.0, [1] * 6)])
def test_extract_loads_results_in_batches(
    tmp_path: Path, loaded_sample: LoadedSample, monkeypatch: pytest.MonkeyPatch,
    batch: int, seconds: float, loads: list[int],
) -> None:
    """Results are loaded EXTRACT_LOAD_BATCH at a time, or each alone once a waiting result
    is EXTRACT_LOAD_SECONDS old, or as they come once every paper is handed out; the
    warehouse ends the same and every page is counted."""
    from paramminer import ingest as ingest_module
    from paramminer import load

    assert len(EXPECTED) == 6
    path = tmp_path / "w.duckdb"
    shutil.copy(loaded_sample.warehouse, path)
    before = snapshot(path, drop=VOLATILE)
    sizes: list[int] = []
    real_load = load.load_extractions
    monkeypatch.setattr(load, "load_extractions",
                        lambda wh, papers: (sizes.append(len(papers)), real_load(wh, papers)))
    monkeypatch.setattr(ingest_module, "EXTRACT_LOAD_BATCH", batch)
    monkeypatch.setattr(ingest_module, "EXTRACT_LOAD_SECONDS", seconds)
    settings = Settings(data_dir=loaded_sample.data_dir, warehouse=path, workers=1)
    with Warehouse.open(path) as wh:
        report = ingest_module.reextract(wh, settings)
    assert [size for size in sizes if size] == loads
    assert len(report.loaded) == len(EXPECTED)
    assert report.pages == sum(entry["pages"] for entry in EXPECTED.values())
    assert snapshot(path, drop=VOLATILE) == before


def test_replace_rows_deletes_and_inserts_only_what_differs() -> None:
    """A row that comes out the same keeps its place (its rowid); changed, gone and new rows
    are deleted or inserted; other papers' rows are untouched; duplicates count."""
    from paramminer.load import _replace_rows

    con = duckdb.connect()
    con.execute('CREATE TABLE t (paper_id VARCHAR, "rule" VARCHAR, score DOUBLE, chosen BOOLEAN)')
    con.execute("INSERT INTO t VALUES ('p', 'a', 1.5, true), ('p', 'b', 2.0, false), "
                "('p', 'b', 2.0, false), ('p', 'c', NULL, false), ('q', 'a', 1.5, true)")
    kept = con.execute("SELECT rowid FROM t WHERE \"rule\" = 'a' AND paper_id = 'p'").fetchall()
    _replace_rows(con, "t", ("paper_id", "rule", "score", "chosen"),
                  [("p", "a", 1.5, True), ("p", "b", 2.0, False), ("p", "c", 3.0, False),
                   ("p", "d", None, True)], ["p"])
    rows = con.execute('SELECT paper_id, "rule", score, chosen FROM t ORDER BY ALL').fetchall()
    assert rows == [("p", "a", 1.5, True), ("p", "b", 2.0, False), ("p", "c", 3.0, False),
                    ("p", "d", None, True), ("q", "a", 1.5, True)]
    assert con.execute("SELECT rowid FROM t WHERE \"rule\" = 'a' AND paper_id = 'p'"
                       ).fetchall() == kept


def test_extract_again_leaves_no_deleted_rows_behind(
    tmp_path: Path, loaded_sample: LoadedSample
) -> None:
    """Re-extracting with the same rules writes no candidate or system row again: DuckDB keeps
    deleted rows until their row group is rewritten, so rewriting grew the tables each run."""
    path = tmp_path / "w.duckdb"
    shutil.copy(loaded_sample.warehouse, path)
    before = snapshot(path, drop=VOLATILE)

    def stored_rows() -> list[int]:
        return [query(path, "SELECT coalesce(sum(count), 0) FROM pragma_storage_info(?) "
                      "WHERE column_name = 'paper_id' AND segment_type <> 'VALIDITY'",
                      [table])[0][0] for table in ("candidates", "systems")]

    first = stored_rows()
    settings = Settings(data_dir=loaded_sample.data_dir, warehouse=path, workers=1)
    for _ in range(2):
        with Warehouse.open(path) as wh:
            reextract(wh, settings)
        assert stored_rows() == first
    assert snapshot(path, drop=VOLATILE) == before


def test_prefetch_reads_by_papers_and_characters(tmp_path: Path) -> None:
    """One read takes the asked paper and the next ones, up to PAPERS_PER_READ papers or
    READ_CHARS characters (the asked paper always, however long)."""
    from paramminer.load import PagePrefetch

    class Small(PagePrefetch):
        PAPERS_PER_READ = 3
        READ_CHARS = 100

    sizes = {"a": 150, "b": 40, "c": 50, "d": 20, "e": 10, "f": 10}
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        prefetch = Small(wh, list(sizes), sizes)
        assert prefetch.next_read("a") == ["a"]  # longer than READ_CHARS alone
        assert prefetch.next_read("b") == ["b", "c"]  # with "d": 110 characters
        assert prefetch.next_read("c") == ["c", "d", "e"]  # PAPERS_PER_READ
        assert prefetch.next_read("f") == ["f"]
        assert prefetch.next_read("unknown") == ["unknown"]
        prefetch.read_up_to = 3  # a, b and c were read: asked again, one is read alone
        assert prefetch.next_read("b") == ["b"]
        assert prefetch.next_read("d") == ["d", "e", "f"]


def test_prefetch_reads_ahead_while_the_workers_are_busy(
    tmp_path: Path, loaded_sample: LoadedSample, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`read_ahead` reads the next papers once fewer than `low` read ones wait; `pages`
    then answers without a query, in order, and a paper asked for again is read alone."""
    from paramminer import load

    path = tmp_path / "w.duckdb"
    shutil.copy(loaded_sample.warehouse, path)
    with Warehouse.open(path) as wh:
        shas = sorted(row[0] for row in wh.con.execute("SELECT sha256 FROM documents").fetchall())
        expected = {sha: load.stored_pages(wh, sha) for sha in shas}

        class Two(load.PagePrefetch):
            PAPERS_PER_READ = 2

        prefetch = Two(wh, shas)
        reads: list[list[str]] = []
        real = load.stored_pages_of

        def counted(warehouse: Warehouse, batch: list[str]) -> dict[str, list[str]]:
            reads.append(list(batch))
            return real(warehouse, batch)

        monkeypatch.setattr(load, "stored_pages_of", counted)
        prefetch.read_ahead()
        assert reads == [shas[:2]] and prefetch.read_up_to == 2
        prefetch.read_ahead()  # two papers wait: nothing to do
        assert len(reads) == 1
        assert prefetch.pages(shas[0]) == expected[shas[0]]
        prefetch.read_ahead()
        assert reads[-1] == shas[2:4]
        assert [prefetch.pages(sha) for sha in shas[1:4]] == [expected[s] for s in shas[1:4]]
        assert len(reads) == 2
        assert prefetch.pages(shas[0]) == expected[shas[0]]  # a retried job
        assert reads[-1] == [shas[0]]


def test_force_reloads_without_duplicates(tmp_path: Path, loaded_sample: LoadedSample) -> None:
    path = tmp_path / "w.duckdb"
    shutil.copy(loaded_sample.warehouse, path)
    settings = Settings(data_dir=loaded_sample.data_dir, warehouse=path, workers=1)
    before = snapshot(path, drop=VOLATILE)
    items, _ = discover([SAMPLE_DIR])
    with Warehouse.open(path) as wh:
        report = ingest(items, wh, settings, force=True)
    assert len(report.loaded) == len(EXPECTED) and report.parsed_pages == 0
    assert snapshot(path, drop=VOLATILE) == before
    assert report.exit_code == 0


# ---------------------------------------------------------------- kill -9 midway

COPIES = 20


def _padded_copies(folder: Path) -> list[Path]:
    """COPIES sample PDFs, each with distinct bytes (a comment after %%EOF)."""
    folder.mkdir()
    sources = sample_pdfs()
    out = []
    for index in range(COPIES):
        source = sources[index % len(sources)]
        target = folder / f"{index:02d}-{source.name}"
        target.write_bytes(source.read_bytes() + f"\n%pad {index}\n".encode())
        out.append(target)
    return out


def _ingest_process(folder: Path, wh: Path, data: Path, cache: Path) -> subprocess.Popen[bytes]:
    env = isolated_env(data, PARAMMINER_CACHE_DIR=str(cache))
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from paramminer.cli import main; main()",
            "ingest",
            str(folder),
            "-w",
            str(wh),
            "--json",
            "--no-show",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _cached(cache: Path) -> int:
    return len(list(cache.rglob("*.json.gz")))


def _kill_after(process: subprocess.Popen[bytes], cache: Path, parsed: int) -> bool:
    """kill -9 once `parsed` more PDFs reached the text cache; False if it finished first.

    The worker writes a paper's cache file, hands the paper over and gets the next PDF
    while the paper is loaded, so the kill lands just before, during or just after a load.
    """
    start = _cached(cache)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            process.communicate()
            return False
        if _cached(cache) >= start + parsed:
            os.kill(process.pid, signal.SIGKILL)
            process.communicate()
            return True
        time.sleep(0.002)
    process.kill()
    process.communicate()
    pytest.fail("ingest made no progress in 60 s")


def _check_consistent(wh: Path) -> None:
    """No half-loaded paper: every paper has its document, all pages, and its rows only."""
    orphans = {
        "paper without document": "SELECT paper_id FROM papers WHERE sha256 NOT IN "
        "(SELECT sha256 FROM documents)",
        "document with missing pages": "SELECT d.sha256 FROM documents d LEFT JOIN pages p USING "
        "(sha256) GROUP BY d.sha256, d.n_pages "
        "HAVING count(p.page) != d.n_pages OR max(p.page) != d.n_pages",
        "document without paper": "SELECT sha256 FROM documents WHERE paper_id NOT IN "
        "(SELECT paper_id FROM papers)",
        "pages without document": "SELECT DISTINCT sha256 FROM pages WHERE sha256 NOT IN "
        "(SELECT sha256 FROM documents)",
        "systems of unloaded paper": "SELECT paper_id FROM systems WHERE paper_id NOT IN "
        "(SELECT paper_id FROM papers)",
        "candidates of another document": "SELECT c.paper_id FROM candidates c JOIN papers p "
        "USING (paper_id) WHERE c.sha256 != p.sha256",
        "candidates of unloaded paper": "SELECT paper_id FROM candidates WHERE paper_id NOT IN "
        "(SELECT paper_id FROM papers)",
        "system without its candidate": "SELECT s.paper_id FROM systems s WHERE s.candidate_id "
        "NOT IN (SELECT candidate_id FROM candidates)",
    }
    for problem, sql in orphans.items():
        assert query(wh, sql) == [], problem


@pytest.mark.slow
def test_kill_minus_nine_midway_then_resume(tmp_path: Path) -> None:
    folder = tmp_path / "pdfs"
    copies = _padded_copies(folder)
    data = tmp_path / "data"
    wh = tmp_path / "w.duckdb"
    cache = tmp_path / "cache"  # PARAMMINER_CACHE_DIR: the text lands in cache/text
    code = source_fingerprint()  # every run below must be made by the same code
    loaded_after_kill = []
    # The worker starts PDF n+1 only once paper n-1 is loaded: after 3 parsed PDFs the first
    # paper has landed when the first kill comes.
    for parsed in (3, 3, 1):
        process = _ingest_process(folder, wh, data, cache)
        killed = _kill_after(process, cache, parsed)
        if wh.exists():
            _check_consistent(wh)
            loaded_after_kill.append(query(wh, "SELECT count(*) FROM documents")[0][0])
        if not killed:
            break
    assert loaded_after_kill and loaded_after_kill[0] >= 1  # the first paper had landed
    assert loaded_after_kill[-1] < COPIES  # and the kills came before the end
    final = _ingest_process(folder, wh, data, cache)
    stdout, stderr = final.communicate(timeout=120)
    assert final.returncode == 0, stderr.decode()
    report = json.loads(stdout)
    assert report["failures"] == []
    assert report["loaded"] + report["unchanged"] == COPIES
    assert report["unchanged"] == loaded_after_kill[-1]
    _check_consistent(wh)

    clean = tmp_path / "clean.duckdb"  # one uninterrupted run over the same files
    stdout, stderr = _ingest_process(folder, clean, data, cache).communicate(timeout=120)
    report_clean = json.loads(stdout)
    assert (report_clean["loaded"], report_clean["parsed_pages"]) == (COPIES, 0), stderr.decode()
    skip_if_source_changed(code)
    assert snapshot(wh, drop=VOLATILE) == snapshot(clean, drop=VOLATILE)
    assert query(wh, "SELECT count(*) FROM documents") == [(len(copies),)]
    assert query(wh, "SELECT count(*) FROM ingest_failures") == [(0,)]


def _loaded_in_fresh_python(code: str, modules: tuple[str, ...]) -> list[str]:
    """Which of `modules` a fresh interpreter has loaded after running `code`."""
    probe = f"{code}\nimport sys\nprint(*[m for m in {modules!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    return done.stdout.split()


def test_the_batch_process_does_not_import_spacy() -> None:
    """Only the workers run the rules: the process that hands out jobs and loads their results
    imports none of spaCy (~0.5 s of CPU that would compete with the workers' start-up)."""
    code = ("import paramminer.ingest, paramminer.load, paramminer.resolve, paramminer.review\n"
            "import paramminer.cues, paramminer.names, paramminer.tables, paramminer.countexpr")
    assert _loaded_in_fresh_python(code, ("spacy", "thinc")) == []


def test_the_batch_commands_load_neither_the_arxiv_client_nor_pyarrow() -> None:
    """`ingest` and `extract` start without the harvest's client (httpx, arxiv: ~0.3 s) or
    pyarrow and pandas (~0.4 s; results are bound as lists, see load._bulk_insert)."""
    code = ("from click.testing import CliRunner\n"
            "from paramminer.cli import cli\n"
            "for command in ('ingest', 'extract'):\n"
            "    assert CliRunner().invoke(cli, [command, '--help']).exit_code == 0\n"
            "import paramminer.load, paramminer.ingest")
    modules = ("httpx", "arxiv", "pyarrow", "pandas", "paramminer.harvest")
    assert _loaded_in_fresh_python(code, modules) == []


def test_an_extract_job_sends_back_its_page_count_not_the_stored_text() -> None:
    pages = ["Kestrel-7B has 6.7 billion parameters.", "Appendix. More tables follow."]
    result = reextract_pages("2401.00001", "ab" * 32, pages, "Kestrel", None)
    assert result.pages == [] and result.pages_read == 2
    assert 6_700_000_000 in {m.value for m in result.resolution.mentions}
