"""countholders.py: counts no rule can make a mention of get no window, and the mentions
of a page stay what they are on the whole page."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from paramminer.config import rules_dir
from paramminer.countholders import (
    CountHolders,
    chunks_after,
    chunks_before,
    count_holders,
    may_be_count,
    stays_in_sentence,
)
from paramminer.extract import find_mentions, match_reach
from paramminer.rules import RuleSet, load_rules
from paramminer.windows import PageText, find_spots

FILLER = "The schedule follows earlier runs closely and the data pass repeats twice. "


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules()


@pytest.fixture(scope="module")
def holders(rules: RuleSet) -> CountHolders:
    found = count_holders(rules, match_reach(rules))
    assert found is not None
    return found


def never_joined(position: int) -> bool:
    return False


def test_chunks_are_runs_of_non_spaces_counted_from_the_counts_own() -> None:
    text = "aa bb  cc dd ee"
    cc = text.index("cc")
    assert chunks_before(text, cc, 0, never_joined) == cc
    assert chunks_before(text, cc, 1, never_joined) == text.index("bb")  # two spaces: one gap
    assert chunks_before(text, cc, 5, never_joined) == 0
    assert chunks_after(text, cc + 2, 0, never_joined) == text.index(" dd")
    assert chunks_after(text, cc + 2, 1, never_joined) == text.index(" ee")
    assert chunks_after(text, cc + 2, 9, never_joined) == len(text)
    assert chunks_before(text, cc + 1, 1, never_joined) == text.index("bb")  # inside a chunk


def test_the_chunks_of_one_count_expression_count_once() -> None:
    text = "xx 1.5 billion yy zz"
    inside = text.index("billion")
    joined = inside.__eq__  # the space before "billion" is inside a count expression
    assert chunks_after(text, text.index(" yy") - 3, 1, never_joined) == text.index(" zz")
    assert chunks_before(text, text.index("yy"), 1, never_joined) == inside
    assert chunks_before(text, text.index("yy"), 1, joined) == text.index("1.5")
    assert chunks_after(text, 2, 2, joined) == text.index(" zz")


@pytest.mark.parametrize(("slot", "tag", "text", "expected"), [
    ({"TAG": "COUNT_SCALED"}, "COUNT_SCALED", "7B", True),
    ({"TAG": "COUNT_SCALED"}, "COUNT_PLAIN", "1,234", False),
    ({"TAG": {"IN": ["COUNT_PLAIN", "X"]}}, "COUNT_PLAIN", "1,234", True),
    ({"TAG": {"NOT_IN": ["COUNT_PLAIN"]}}, "COUNT_PLAIN", "1,234", False),
    ({"TAG": "COUNT_SCALED", "TEXT": {"REGEX": "[BMT]$"}}, "COUNT_SCALED", "100K", False),
    ({"TAG": "COUNT_SCALED", "TEXT": {"REGEX": "[BMT]$"}}, "COUNT_SCALED", "7B", True),
    ({"LOWER": {"IN": ["parameters"]}}, "COUNT_SCALED", "7B", False),
    ({"lower": "7b"}, "COUNT_SCALED", "7B", True),
    ({"OP": "{0,6}", "IS_SENT_START": False}, "COUNT_PLAIN", "1,234", True),
    ({"LENGTH": {">=": 9}}, "COUNT_PLAIN", "1,234", True),  # not read: may match
])
def test_a_pattern_token_may_be_a_count_unless_a_test_it_makes_refuses(
        slot: dict[str, object], tag: str, text: str, expected: bool) -> None:
    assert may_be_count(slot, tag, text) is expected


def test_a_dependent_rule_stays_in_its_sentence_when_its_later_tokens_say_so() -> None:
    inner = {"LOWER": "and", "IS_SENT_START": False}
    last = {"TAG": "COUNT_SCALED", "IS_SENT_START": False}
    assert stays_in_sentence([{"TAG": "COUNT_SCALED"}, inner, last], last_free=False)
    assert not stays_in_sentence([{"TAG": "COUNT_SCALED"}, inner, {"TAG": "X"}],
                                 last_free=False)
    assert stays_in_sentence([{"TAG": "COUNT_SCALED"}, inner, {"TAG": "X"}], last_free=True)
    assert not stays_in_sentence([{"TAG": "C"}, {"LOWER": "and"}, last], last_free=True)


def needed(holders: CountHolders, text: str, count: str) -> bool:
    page = PageText(1, text, text, [])
    find_spots(page)
    start = text.index(count)
    (at,) = [at for at in page.counts if at[0] == start]
    return holders.needed(text, at, page.inside_count)


@pytest.mark.parametrize(("text", "count", "expected"), [
    ("We keep 1,234,567 images for training.", "1,234,567", False),
    ("It has 1,234,567 trainable parameters.", "1,234,567", True),
    ("We run 100K steps on each shard.", "100K", False),
    ("The adapter adds 100K parameters.", "100K", True),
    ("Training used 13B tokens.", "13B", True),  # a name-size rule holds it: no words needed
    ("one two three four five six seven eight nine ten eleven 1,234,567 parameters", "1,234,567",
     True),
    ("We keep 1,234,567 images a b c d e f g h i j k l m, not parameters.", "1,234,567", False),
])
def test_a_count_needs_a_window_when_a_rule_may_hold_it_with_its_words_near(
        holders: CountHolders, text: str, count: str, expected: bool) -> None:
    assert needed(holders, text, count) is expected


def test_counts_no_rule_can_hold_get_no_window_and_nothing_is_lost(rules: RuleSet) -> None:
    inert = " ".join(f"{n},000,000 images" for n in range(2, 40)) + ". "
    members = ", ".join(f"{n}00K" for n in range(1, 12))
    text = (f"{FILLER * 4}{inert}{FILLER * 4}We compare {members} and 1,200K parameters. "
            f"{FILLER * 4}")
    page = PageText(1, text, text, [])
    find_spots(page, count_holders(rules, match_reach(rules)))
    assert not any(text.index(inert) <= spot < text.index(inert) + len(inert)
                   for spot in page.spots)
    windowed = find_mentions([text], rules)
    assert windowed == find_mentions([text], rules, prefilter=False)
    assert {m.value for m in windowed} >= {100_000, 1_200_000}  # a member far from its noun


def test_a_list_rule_that_may_leave_its_sentence_turns_the_filter_off(tmp_path: Path) -> None:
    shutil.copytree(rules_dir(), tmp_path, dirs_exist_ok=True)
    for old in tmp_path.glob("*.jsonl"):
        old.unlink()
    rule = {"id": "loose-list", "version": 1, "role": "list",
            "pattern": [{"TAG": "COUNT_SCALED"}, {"LOWER": "and"}, {"TAG": "COUNT_SCALED"}]}
    (tmp_path / "own.jsonl").write_text(json.dumps(rule))
    own = load_rules(tmp_path)
    assert count_holders(own, match_reach(own)) is None
    assert count_holders(own, None) is None
