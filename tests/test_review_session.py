"""The interactive review session through a pseudo-terminal, its line-mode fallback, and two
reviewers writing at once."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pexpect
import pytest
from rich.console import Console

from paramminer.review import ItemFilter, all_decisions, candidates_for, get_item, list_items
from paramminer.review_tui import LineKeys, ReviewSession
from paramminer.warehouse import Warehouse
from test_review import ACCURACY, TERN_2M, seed_warehouse

PARAMMINER = str(Path(sys.executable).with_name("paramminer"))


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARAMMINER_")}
    env.update(extra)
    return env


@pytest.fixture()
def wh_path(tmp_path: Path) -> Path:
    return seed_warehouse(tmp_path / "paramminer.duckdb")


def test_interactive_session_in_a_terminal(wh_path: Path) -> None:
    with Warehouse.open(wh_path) as wh:
        third = candidates_for(wh.con, get_item(wh.con, "tern"))[2]
    child = pexpect.spawn(PARAMMINER, ["review", "-w", str(wh_path), "--by", "tess"],
                          env=clean_env(TERM="xterm", COLUMNS="140", LINES="60"),
                          encoding="utf-8", timeout=30, dimensions=(60, 140))
    try:
        def screen(key: str) -> None:
            child.expect_exact(f"item {key}")
            child.expect_exact("key> ")

        screen("2305.90003")
        child.send("v")
        child.expect_exact("value")
        child.sendline("47B/13B")
        screen(ACCURACY)
        child.send("x")  # unknown key: stays on the item
        child.expect_exact("unknown key")
        child.send("n")  # not stated in paper
        screen("2502.90005")
        child.send("s")
        screen("tern")
        child.send("3")
        screen(TERN_2M)
        child.send("u")  # undo the pick: tern comes back
        screen("tern")
        child.send("a")
        screen(TERN_2M)
        child.send("q")
        child.expect_exact("4 decided, 1 undone, 1 skipped")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    with Warehouse.open(wh_path) as wh:
        got = [(d.item_key, d.action, d.new_value, d.new_active, d.reviewer, d.origin)
               for d in all_decisions(wh.con)]
        assert got == [
            ("2305.90003", "set", 47_000_000_000, 13_000_000_000, "tess", "session"),
            (ACCURACY, "reject", None, None, "tess", "session"),
            ("tern", "choose", third.parameters, None, "tess", "session"),
            ("tern", "undo", 340_000_000, None, "tess", "session"),
            ("tern", "accept", 340_000_000, None, "tess", "session"),
        ]
        assert [i.item_key for i in list_items(wh.con)] == ["2502.90005", TERN_2M]
        final = wh.con.execute("SELECT parameters, status FROM systems_final "
                               "WHERE paper_id = 'tern' AND is_headline").fetchone()
        assert final == (340_000_000, "reviewed")


def test_line_mode_when_stdin_is_not_a_terminal(wh_path: Path) -> None:
    out = io.StringIO()
    keys = LineKeys(io.StringIO("a\nv 5B\n\nbogus\nv\nlots\ns\nq\n"))
    session = ReviewSession(wh_path, "lena", console=Console(file=out, width=120), keys=keys)
    summary = session.run()
    assert "unknown key 'b'" in out.getvalue()
    assert "not a parameter count: 'lots'" in out.getvalue()
    assert summary.skipped == 1 and len(summary.decisions) == 2
    with Warehouse.open(wh_path) as wh:
        got = [(d.item_key, d.action, d.new_value, d.reviewer) for d in all_decisions(wh.con)]
    assert got == [("2305.90003", "accept", 47_000_000_000, "lena"),
                   (ACCURACY, "set", 5_000_000_000, "lena")]


WORKER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from paramminer.review import ItemFilter, decide, list_items
    from paramminer.warehouse import Warehouse

    path, name, rounds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    for round_ in range(rounds):
        with Warehouse.open(path, wait_seconds=60) as wh:
            keys = [i.item_key for i in list_items(wh.con, ItemFilter(include_decided=True))]
        for key in keys:  # one short open-write-close per decision, like the session
            with Warehouse.open(path, wait_seconds=60) as wh:
                decide(wh, key, "set", value=(1000 + round_) * 10**6, reviewer=name,
                       note=f"{name}/{round_}/{key}", origin="session")
""")


def test_two_reviewers_at_once_lose_nothing(wh_path: Path) -> None:
    with Warehouse.open(wh_path) as wh:
        keys = [i.item_key for i in list_items(wh.con, ItemFilter(include_decided=True))]
    rounds = 2
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(wh_path), name, str(rounds)],
                              env=clean_env(), stderr=subprocess.PIPE, text=True)
             for name in ("ann", "bob")]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    with Warehouse.open(wh_path) as wh:
        notes = sorted(d.note or "" for d in all_decisions(wh.con))
        assert notes == sorted(f"{name}/{r}/{key}" for name in ("ann", "bob")
                               for r in range(rounds) for key in keys)
        ids = [d.decision_id for d in all_decisions(wh.con)]
        assert len(set(ids)) == len(ids)
        assert not list_items(wh.con)  # every item decided
