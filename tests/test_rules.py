"""Rule files: they load, every rule has examples, and every example extracts what it says."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest
import spacy
from spacy.tokenizer import Tokenizer

from paramminer.countexpr import (
    COUNT_TEXT_RE,
    MOE_SHAPE_RE,
    MOE_SHAPE_SCAN,
    NAME_SIZE_RE,
    NAME_SIZE_SCAN,
    WordScan,
    count_of_match,
    scaled_value,
    short_bare_number,
)
from paramminer.errors import RuleError
from paramminer.extract import find_mentions
from paramminer.numbers import SCALE_WORDS
from paramminer.rules import (
    TOKENIZER_CACHE_CHUNKS,
    RuleSet,
    load_rules,
    parse_rule_file,
    rules_dir,
)

RULE_FILES = sorted(rules_dir().glob("*.jsonl"))
EXAMPLES = [
    (rule.key, example)
    for path in RULE_FILES
    for rule in parse_rule_file(path)
    for example in rule.examples
]


def test_every_rule_is_versioned_and_has_examples() -> None:
    rules = [rule for path in RULE_FILES for rule in parse_rule_file(path)]
    assert len(rules) >= 10
    for rule in rules:
        assert rule.version >= 1 and rule.description and rule.examples, rule.key
    assert len({rule.key for rule in rules}) == len(rules)


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return load_rules()


@pytest.mark.parametrize(
    ("key", "example"), EXAMPLES, ids=[f"{k}:{str(e['text'])[:30]}" for k, e in EXAMPLES]
)
def test_rule_examples(key: str, example: dict[str, object], ruleset: RuleSet) -> None:
    mentions = find_mentions([str(example["text"])], ruleset)
    assert sorted(m.value for m in mentions) == sorted(example["values"])  # type: ignore[arg-type]
    if "kinds" in example:
        assert sorted(m.kind for m in mentions) == sorted(example["kinds"])  # type: ignore[arg-type]
    assert all(m.rule in ruleset.rules for m in mentions)
    # every example says which rule found each of its values
    expected_rules = example["rules"] if "rules" in example else [example["rule"]] * len(mentions)
    found = [m.rule.split("@")[0] for m in sorted(mentions, key=lambda m: m.value)]
    assert found == expected_rules, (example["text"], found)


def test_every_example_names_its_rule() -> None:
    for path in RULE_FILES:
        for rule in parse_rule_file(path):
            for example in rule.examples:
                assert "rule" in example or "rules" in example, (rule.key, example)


def test_malformed_rule_file_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.jsonl"
    good = json.dumps({"id": "x", "version": 1, "pattern": [{"LOWER": "params"}]})
    bad.write_text(good + "\n{not json\n")
    with pytest.raises(RuleError, match=r"broken\.jsonl:2: not JSON"):
        load_rules(tmp_path)
    bad.write_text(json.dumps({"id": "x", "version": 1}) + "\n")
    with pytest.raises(RuleError, match=r"broken\.jsonl:1: missing 'pattern'"):
        load_rules(tmp_path)


def test_fingerprint_follows_rule_files(tmp_path: Path) -> None:
    shutil.copytree(rules_dir(), tmp_path, dirs_exist_ok=True)
    first = load_rules(tmp_path).fingerprint
    assert load_rules(tmp_path).fingerprint == first
    target = tmp_path / RULE_FILES[0].name
    target.write_text(target.read_text().replace('"version": 1', '"version": 2', 1))
    second = load_rules(tmp_path).fingerprint
    assert second != first
    words = tmp_path / "words-v1.csv"
    words.write_text(words.read_text() + "not_param_nouns,widgets,\n")
    assert load_rules(tmp_path).fingerprint != second


@pytest.mark.parametrize("scan", [NAME_SIZE_SCAN, MOE_SHAPE_SCAN], ids=["name_size", "moe"])
def test_word_scan_finds_what_finditer_finds(scan: WordScan) -> None:
    texts = ["LLaMA-65B and GPT-NeoX-20B, Mixtral 8x7B (2×13B) vs T5-11b.", "x-7B 8x7Bs a-1.3M.",
             "ResNet-50M_v2-3B 1x2B.3x4M ß-7T é_9m٣-2B", ""]
    rnd = random.Random(7)
    alphabet = [*"aZ9_-‐.x×MBTmbt ,é٣ß\n", "7B", "-13B", "8x7B", "GPT-3", "LLaMA-65B"]
    texts += ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 30)))
              for _ in range(3000)]
    for text in texts:
        assert ([m.span() for m in scan.finditer(text)]
                == [m.span() for m in scan.pattern.finditer(text)]), text


def test_only_the_word_attributes_read_are_computed(tmp_path: Path) -> None:
    """A word attribute a pattern names is computed; one nothing reads is not (spaCy's
    default computes ~20 per new word); spaCy's own blank pipeline is left as it was."""
    shutil.copytree(rules_dir(), tmp_path, dirs_exist_ok=True)
    (tmp_path / "zz-like-num.jsonl").write_text(json.dumps({
        "id": "like-num-params", "version": 1, "kind": "total",
        "pattern": [{"LIKE_NUM": True}, {"LOWER": "zorbles"}],
        "examples": [],
    }) + "\n")
    ruleset = load_rules(tmp_path)
    doc = ruleset.nlp("Seventeen zorbles at https://example.org/unseenword")
    assert doc[0].like_num and doc[0].lower_ == "seventeen"
    assert not doc[-1].like_url and doc[-1].shape_ == ""
    assert doc[-1].norm_ == "https://example.org/unseenword"
    assert [token.is_punct for token in ruleset.nlp("zorbles !")] == [False, True]
    assert not load_rules().nlp("Seventeen")[0].like_num  # no rule names LIKE_NUM
    assert spacy.blank("en")("https://example.org/unseenword")[0].like_url


def _counts_as_first_written(ruleset: RuleSet, text: str) -> list[tuple[str, str, object]]:
    """(text, tag, count) of every token, by merge_counts as first written: every
    COUNT_TEXT_RE match, its tokens by char_span(expand), kept when their text stripped is
    the match's; name-size and MoE-shape words by their plain finditer."""
    doc = ruleset.nlp.make_doc(text)
    found, spans = [], []
    for match in COUNT_TEXT_RE.finditer(text):
        counted = count_of_match(match)
        start = match.start() if not match["approx"] else match.start("num")
        span = doc.char_span(start, match.end(), alignment_mode="expand")
        if counted is None or span is None or span.text.strip() != text[start:match.end()].strip():
            continue
        spans.append(span)
        found.append((span.start_char, span.end_char, *counted))
    with doc.retokenize() as retokenizer:
        taken: set[int] = set()
        for span in spans:
            if len(span) > 1 and not taken.intersection(range(span.start, span.end)):
                retokenizer.merge(span)
                taken.update(range(span.start, span.end))
    for scan, exact, tag in ((NAME_SIZE_SCAN, NAME_SIZE_RE, "NAME_SIZE"),
                             (MOE_SHAPE_SCAN, MOE_SHAPE_RE, "MOE_SHAPE")):
        for match in scan.pattern.finditer(text):
            parsed = exact.match(match.group(0))
            if parsed is None or (tag == "NAME_SIZE" and parsed["name"].isdigit()):
                continue
            found.append((match.start(), match.end(),
                          scaled_value(parsed["num"], SCALE_WORDS[parsed["sc"].lower()]), tag))
    tags: dict[int, tuple[str, int]] = {}
    for start_char, end_char, value, tag in found:
        span = doc.char_span(start_char, end_char)
        if span is not None and len(span) == 1 and span[0].i not in tags:
            tags[span[0].i] = (tag, value)
    return [(t.text, *tags.get(t.i, ("", None))) for t in doc]


def test_merge_counts_as_first_written(ruleset: RuleSet) -> None:
    """merge_counts (digit-first regex, strict char_span) merges and tags the tokens its
    first writing did, on count expressions glued to words, spaced, approximate, in names."""
    texts = ["LLaMA-65B has 65B parameters, ~13B active and ≈ 1.5 billion frozen.",
             "x175B 175Bx (175B) 1,300,000 12,34 1234 12345 123456 1.5\u00a0billion 6.7×10^9",
             "40 M parameters, 317m params, 5m run, 8x7B and 2×13B, GPT-3 1e9 2E+10 3.5 bn.",
             "a  7B  b ~ 7B ~7B, 22,855,952. 1.3M. Chinchilla-70B.", "", " ", "7B"]
    rnd = random.Random(11)
    alphabet = [*" .,~-x×()B", "\u00a0", "7B", "1.5", " billion", "13", "LLaMA-65B", "8x7B",
                "1,300", ",000", "M params", "≈", "10^9", "e9", "word"]
    texts += ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 14)))
              for _ in range(1500)]
    for text in texts:
        doc = ruleset.nlp(text)
        got = [(t.text, t.tag_ if t._.count is not None else "", t._.count) for t in doc]
        assert got == _counts_as_first_written(ruleset, text), text


@pytest.mark.skipif(not hasattr(Tokenizer, "max_cache_size"),
                    reason="this spaCy (< 3.8) has no tokenizer cache limit to raise")
def test_tokenizer_cache_keeps_the_tokens(ruleset: RuleSet) -> None:
    """The larger chunk cache of the tokenizer gives the tokens an uncached one gives, on a
    text's first reading and its next ones (special cases, affixes, counts)."""
    tokenizer = ruleset.nlp.tokenizer
    assert isinstance(tokenizer, Tokenizer)
    assert tokenizer.max_cache_size == TOKENIZER_CACHE_CHUNKS
    uncached = Tokenizer(
        ruleset.nlp.vocab, rules=tokenizer.rules, prefix_search=tokenizer.prefix_search,
        suffix_search=tokenizer.suffix_search, infix_finditer=tokenizer.infix_finditer,
        token_match=tokenizer.token_match, url_match=tokenizer.url_match, max_cache_size=0)
    texts = ["Zorblax-7B (e.g. 3.7M.) don't ~13B :) zorblax-7B, (zorblax) zorblax.",
             "zorblax (e.g. Zorblax-7B.) ~13B don't :) zorblax-7B. 3.7M, a.m. 22,855,952 params"]
    for text in [*texts, *texts]:
        assert [t.text for t in tokenizer(text)] == [t.text for t in uncached(text)], text


def test_short_bare_numbers_are_never_counts() -> None:
    """The shortcut the count scans take: every match it skips is no count and has no space."""
    text = "In 2023 we ran 0.5 epochs, ~12 runs, 1,234 steps, 7B and 12345 or 123456 items."
    for match in COUNT_TEXT_RE.finditer(text):
        if short_bare_number(match):
            assert count_of_match(match) is None and " " not in match[0]
    skipped = [m[0] for m in COUNT_TEXT_RE.finditer(text) if short_bare_number(m)]
    assert skipped == ["2023", "0.5"]
