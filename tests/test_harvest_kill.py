"""kill -9 a harvest at random points, run it again: same papers, nothing lost or doubled."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from paramminer.cli import cli
from paramminer.fakearxiv import serve_in_thread
from paramminer.fetch import stored_path, verify_pdf

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "fixtures" / "sample"
SAMPLE_IDS = {"2401.90001", "2203.90002", "2305.90003", "2011.90004", "2502.90005"}
KILLS = 3
# The library entry point, without the CLI's imports (matplotlib, pandas...): each
# subprocess then starts in about a second.
HARVEST = (
    "import sys\n"
    "from paramminer.config import QuerySpec, load_settings\n"
    "from paramminer.harvest import run_harvest\n"
    "q = QuerySpec('sample', ('cs.CL', 'cs.LG', 'cs.CV', 'eess.AS'))\n"
    "sys.exit(run_harvest(load_settings(overrides={'queries': (q,)})).exit_code)\n"
)


@pytest.mark.slow
def test_kill_9_at_random_points_then_rerun_gives_the_same_papers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed = int(os.environ.get("HARVEST_KILL_SEED", time.time_ns() % 10_000))
    rng = random.Random(seed)
    data = tmp_path / "data"
    with serve_in_thread(SAMPLE) as server:
        env = {
            **os.environ,
            "PARAMMINER_DATA_DIR": str(data),
            "PARAMMINER_ARXIV_URL": server.base_url,
            "PARAMMINER_API_DELAY": "0.2",
            "PARAMMINER_PDF_DELAY": "0.2",
            "PARAMMINER_RETRY_BACKOFF": "0.05",
            "PARAMMINER_CONTACT": "tests@example.org",
            "PARAMMINER_START_DATE": "2000-01-01",
            "PARAMMINER_WORKERS": "1",
            "PARAMMINER_CONFIG": "",
        }
        killed = 0
        for _ in range(KILLS):
            before = len(server.request_log)
            wait_for = rng.randint(1, 5)  # requests into the run: API, then PDFs
            proc = subprocess.Popen([sys.executable, "-c", HARVEST], env=env, cwd=tmp_path,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 60
            while (len(server.request_log) - before < wait_for and proc.poll() is None
                   and time.monotonic() < deadline):
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.4))  # mid-download, mid-parse or mid-write
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                killed += 1
            proc.wait(timeout=30)
        assert killed >= 1, f"seed {seed}: every run finished before its kill"

        monkeypatch.chdir(tmp_path)
        result = CliRunner().invoke(
            cli, ["harvest", "--category", "cs.CL", "--category", "cs.LG", "--category",
                  "cs.CV", "--category", "eess.AS", "--json"],
            env={k: v for k, v in env.items() if k.startswith("PARAMMINER_")},
        )
    assert result.exit_code == 0, f"seed {seed}: {result.output}"
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["failures"] == 0

    con = duckdb.connect(str(data / "paramminer.duckdb"), read_only=True)
    try:
        def one(sql: str) -> object:
            row = con.execute(sql).fetchone()
            assert row is not None
            return row[0]

        papers = {r[0] for r in con.execute("SELECT paper_id FROM papers").fetchall()}
        assert papers == SAMPLE_IDS, f"seed {seed}"
        assert one("SELECT count(*) FROM papers") == 5
        assert one("SELECT count(*) FROM paper_versions") == 5
        assert one("SELECT count(DISTINCT paper_id) FROM paper_versions") == 5
        assert one("SELECT count(*) FROM documents") == 5
        assert one("SELECT count(*) FROM harvest_queue") == 0
        assert one("SELECT count(*) FROM papers WHERE sha256 NOT IN "
                   "(SELECT sha256 FROM paper_versions)") == 0
        assert one("SELECT count(*) FROM systems WHERE paper_id NOT IN "
                   "(SELECT paper_id FROM papers)") == 0
        assert one("SELECT count(*) FROM (SELECT sha256, page FROM pages "
                   "GROUP BY ALL HAVING count(*) > 1)") == 0
        # Killed runs are closed as abandoned by the next one; nothing is left 'running'.
        statuses = [r[0] for r in con.execute(
            "SELECT status FROM harvest_runs ORDER BY run_id").fetchall()]
        assert statuses[-1] == "ok" and "running" not in statuses
        assert statuses.count("abandoned") <= killed
    finally:
        con.close()

    store = data / "pdfs"
    assert not list(store.glob("*/.*")), "a partial file survived"
    stored = list(store.glob("*/*.pdf"))
    assert len(stored) == 5
    for path in stored:
        content = path.read_bytes()
        assert path == stored_path(store, hashlib.sha256(content).hexdigest())
        assert verify_pdf(content) >= 1
