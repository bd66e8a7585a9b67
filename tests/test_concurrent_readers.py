"""Readers never wait for a backfill: `sql`, `review list` and a plain DuckDB client answer
within 2 s while an `ingest` of many PDFs runs in another process, and nothing is lost.

The PDFs are copies of the bundled sample's conference paper (no arXiv stamp, so each file
is its own paper), each with a different trailing comment so that every copy has its own
sha256 and is parsed, extracted and loaded like a new paper.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from conftest import SAMPLE_DIR, isolated_env
from paramminer.cli import cli

pytestmark = pytest.mark.slow

COPIES = 60
ANSWER_SECONDS = 2.0


PLAIN_CLIENT = textwrap.dedent("""
    import sys, time, duckdb
    # a plain DuckDB client in its own process: for each line on stdin, open the file
    # read-only (retrying while a paper is being written), query, print the seconds taken
    for _ in sys.stdin:
        started = time.monotonic()
        while True:
            try:
                con = duckdb.connect(sys.argv[1], read_only=True)
                break
            except duckdb.IOException:
                time.sleep(0.02)
        count = con.execute("SELECT count(*) FROM systems_final").fetchone()[0]
        con.close()
        print(count, time.monotonic() - started, flush=True)
""")


def _plain_client(client: subprocess.Popen[str]) -> float:
    """Ask the plain client process for one read; the seconds it took to answer."""
    assert client.stdin is not None and client.stdout is not None
    client.stdin.write("read\n")
    client.stdin.flush()
    count, seconds = client.stdout.readline().split()
    assert int(count) > 0
    return float(seconds)


def _copies(folder: Path) -> list[Path]:
    folder.mkdir()
    source = (SAMPLE_DIR / "tern-recommendation-at-scale.pdf").read_bytes()
    paths = []
    for number in range(COPIES):
        path = folder / f"tern-{number:03d}.pdf"
        path.write_bytes(source + f"% copy {number}\n".encode())
        paths.append(path)
    return paths


def _reads(warehouse: Path, client: subprocess.Popen[str]) -> list[tuple[str, float]]:
    """One round of reads, each timed: the commands run in this process (their start-up
    time is not the warehouse's), the ingest in its own."""
    runner = CliRunner()
    timed = []
    for name, args in (
        ("sql", ["sql", "SELECT count(*) FROM papers", "--format", "csv", "-w", str(warehouse)]),
        ("review list", ["review", "list", "--all", "--format", "csv", "-w", str(warehouse)]),
    ):
        started = time.monotonic()
        result = runner.invoke(cli, args)
        timed.append((name, time.monotonic() - started))
        assert result.exit_code == 0, f"{name}: {result.output}"
    timed.append(("duckdb", _plain_client(client)))
    return timed


def test_reads_answer_within_two_seconds_during_an_ingest(
    tmp_path: Path, clean_env: Path
) -> None:
    env = isolated_env(tmp_path / "data", PARAMMINER_WORKERS="2")
    warehouse = tmp_path / "data" / "paramminer.duckdb"
    script = [sys.executable, "-m", "paramminer"]
    first = subprocess.run([*script, "ingest", str(SAMPLE_DIR), "--no-show"], env=env,
                           capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    pdfs = _copies(tmp_path / "pdfs")
    client = subprocess.Popen([sys.executable, "-c", PLAIN_CLIENT, str(warehouse)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    _reads(warehouse, client)  # imports done before the clock matters
    ingest = subprocess.Popen([*script, "ingest", str(tmp_path / "pdfs"), "--json"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    reads: list[tuple[str, float]] = []
    try:
        time.sleep(1.0)  # the pool is up and papers are being written
        while ingest.poll() is None:
            reads += _reads(warehouse, client)
    finally:
        out, err = ingest.communicate(timeout=600)
        client.kill()
        client.wait()
    assert ingest.returncode == 0, err
    assert len(reads) >= 9, f"the ingest ended before three rounds of reads: {reads}"
    slowest = max(reads, key=lambda read: read[1])
    assert slowest[1] < ANSWER_SECONDS, f"slowest of {len(reads)} reads: {slowest}"
    # nothing lost: every copy is a paper, once
    con = duckdb.connect(str(warehouse), read_only=True)
    ids = {row[0] for row in con.execute("SELECT paper_id FROM papers").fetchall()}
    assert {path.stem for path in pdfs} <= ids
    per_copy = con.execute(
        "SELECT count(DISTINCT paper_id), count(*) FROM documents WHERE paper_id LIKE 'tern-0%'"
    ).fetchone()
    assert per_copy == (COPIES, COPIES)
    assert json.loads(out.strip().splitlines()[-1])["loaded"] == COPIES
