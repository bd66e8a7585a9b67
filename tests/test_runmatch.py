"""runmatch.py: the words a rule's every match holds, and Matchers holding only the rules a
run of tokens can match, which find what the full Matcher finds for them, in its order."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import pytest
from spacy.attrs import LOWER, ORTH
from spacy.strings import StringStore

from paramminer.config import rules_dir
from paramminer.extract import _parse
from paramminer.rules import RuleSet, load_rules
from paramminer.runmatch import WordNeed, required_words, run_matchers


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules()


def needs(pattern: list[dict[str, object]]) -> list[tuple[int, set[str]]]:
    strings = StringStore()
    return [(need.attr, {strings[h] for h in need.words})
            for need in required_words(pattern, strings)]


def test_a_token_every_match_holds_with_listed_words_is_required() -> None:
    assert needs([{"LOWER": "weights"}]) == [(LOWER, {"weights"})]
    assert needs([{"lower": {"IN": ["a", "b"]}, "OP": "+"}]) == [(LOWER, {"a", "b"})]
    assert needs([{"ORTH": "(", "OP": "{1,2}"}, {"TEXT": {"IN": ["X"]}, "OP": "{2}"}]) == [
        (ORTH, {"("}), (ORTH, {"X"})]


@pytest.mark.parametrize("op", ["?", "*", "{0,3}", "{,2}", "!"])
def test_a_token_a_match_may_lack_requires_nothing(op: str) -> None:
    assert needs([{"LOWER": {"IN": ["parameters"]}, "OP": op}]) == []
    assert needs([{"lower": {"IN": ["parameters"]}, "op": op}]) == []


@pytest.mark.parametrize("token", [
    {"TAG": "COUNT_SCALED"},
    {"LOWER": {"NOT_IN": ["and"]}},
    {"TEXT": {"REGEX": "^[A-Z]"}},
    {"LOWER": {"IN": ["a"], "NOT_IN": ["b"]}},
    {"NORM": "not"},  # a norm need not be the token's text
])
def test_tokens_without_a_plain_word_list_require_nothing(token: dict[str, object]) -> None:
    assert needs([token]) == []


def test_only_rules_whose_required_words_occur_are_held(rules: RuleSet) -> None:
    plan = run_matchers(rules)
    assert all(rule.role != "table" for rule in plan.rules.values())
    doc = _parse(rules, "The encoder has 350M weights in total.")
    held = plan.held_by(plan.columns(doc))
    plain = _parse(rules, "The encoder was trained on 350M images.")
    held_plain = plan.held_by(plan.columns(plain))
    by_id = {rules.rules[key].rule_id for key in held}
    assert {"count-param-noun", "count-near-param", "name-size"} <= by_id
    assert not {"count-param-noun", "count-near-param"} & {
        rules.rules[key].rule_id for key in held_plain}
    assert held_plain < held


def test_a_run_no_rule_can_match_gets_no_matcher(tmp_path: Path) -> None:
    shutil.copytree(rules_dir(), tmp_path, dirs_exist_ok=True)
    for old in tmp_path.glob("*.jsonl"):
        old.unlink()
    patterns = [[{"TAG": "COUNT_SCALED"}, {"LOWER": {"IN": ["parameters", "weights"]}}],
                [{"LOWER": "params"}, {"ORTH": ":", "OP": "?"}, {"TAG": "COUNT_SCALED"}]]
    (tmp_path / "own.jsonl").write_text("\n".join(
        json.dumps({"id": f"r{i}", "version": 1, "pattern": p}) for i, p in enumerate(patterns)))
    own = load_rules(tmp_path)
    plan = run_matchers(own)
    assert plan.matcher_for(plan.columns(_parse(own, "It has 7B tokens."))) is None
    matcher = plan.matcher_for(plan.columns(_parse(own, "It has 7B weights.")))
    assert matcher is not None
    doc = _parse(own, "It has 7B weights.")
    assert [(doc.vocab.strings[k], doc[s:e].text) for k, s, e in matcher(doc)] == [
        ("r0@1", "7B weights")]


PAGE = ("We train Kestrel-7B and Kestrel-13B (13B), with 7B and 13B parameters respectively, "
        "while the baseline uses 2B. Parameters: 6.7B. Our 8x7B model has 13B active "
        "parameters; Kestrel large 70B is a 70B-parameter model, and 1,234,567 weights "
        "stay frozen. Models range from 125M to 175B parameters.")


def test_a_matcher_of_some_rules_finds_the_full_matchers_matches_of_them_in_order(
        rules: RuleSet) -> None:
    plan = run_matchers(rules)
    doc = _parse(rules, PAGE)
    full = [m for m in rules.matcher(doc) if doc.vocab.strings[m[0]] in plan.rules]
    assert len({doc.vocab.strings[m[0]] for m in full}) >= 6
    keys = list(plan.rules)
    subsets = [frozenset(c) for size in (1, 2, len(keys) - 1, len(keys))
               for c in itertools.combinations(keys, size)]
    for subset in subsets:
        expected = [m for m in full if doc.vocab.strings[m[0]] in subset]
        assert plan._build(subset)(doc) == expected, sorted(subset)


def test_word_needs_are_read_from_the_attributes_they_name(rules: RuleSet) -> None:
    plan = run_matchers(rules)
    assert set(plan.attrs) == {need.attr for ns in plan.needs.values() for need in ns}
    assert all(isinstance(need, WordNeed) for ns in plan.needs.values() for need in ns)
