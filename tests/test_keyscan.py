"""keyscan: fast keyword counts and line hints give exactly what the plain regex search gives."""

from __future__ import annotations

import random
import re

import pytest

from paramminer.dates import load_venues
from paramminer.domains import load_domain_rules
from paramminer.keyscan import (
    FOLDS_ONTO_ASCII,
    FoldedText,
    KeywordCounter,
    LineHints,
    match_prefixes,
    required_strings,
)
from paramminer.lexicon import load_lexicon
from paramminer.tables import _SIZE_IN_BRACKETS, _vocab


def test_folds_onto_ascii_lists_every_such_code_point() -> None:
    ascii_class = re.compile(r"[\x00-\x7f]", re.IGNORECASE)
    folding = [chr(c) for c in range(128, 0x110000)
               if not 0xD800 <= c < 0xE000 and ascii_class.match(chr(c))]
    assert folding == ["\u0130", "\u0131", "\u017f", "\u212a"]
    assert all(FOLDS_ONTO_ASCII.match(c) for c in folding)
    assert FoldedText("\u0130MAGE \u0131mage \u017fpeech \u212aernel").folded == (
        "image image speech kernel")


def test_prefixes_read_through_assertions_groups_and_alternatives() -> None:
    def prefixes(pattern: str) -> tuple[str, ...] | None:
        return match_prefixes(re.compile(pattern, re.IGNORECASE))

    assert prefixes(r"\bimages?\b|\bvision\b") == ("image", "vision")
    assert prefixes(r"\b(?:semantic|scene) (?:segmentation|parsing)\b") == (
        "scene parsing", "scene segmentation", "semantic parsing", "semantic segmentation")
    assert prefixes(r"\b(?-i:BERT|T5)\b") == ("bert", "t5")
    assert prefixes(r"\bCIFAR-?(?:10|100)?") == ("cifar",)
    assert prefixes(r"\bpre-?training\b") == ("pre-training", "pretraining")
    assert prefixes(r"\bMS ?COCO\b|\bmsr") == ("ms coco", "mscoco", "msr")
    assert prefixes(r"(?<!\w)GPT") == ("gpt",)
    assert prefixes(r"\b\w+ing\b") is None  # no literal at the start
    assert prefixes(r"foo|\d+") is None  # one alternative has none
    assert prefixes(r"\bcafé") == ("caf",)  # only ASCII literals


CASES = [
    (r"\bimages?\b|\bvision\b", "Images, image; imagery VISION visions image-text"),
    (r"\b(?-i:BERT|GPT(?:-\d)?)\b", "BERT bert GPT-3 GPT-3x Bert GPT"),
    (r"aa", "aaaaa AAAaa"),  # overlapping prefix places: findall does not overlap
    (r"\bpre-?training corpus\b|\bpre\b", "pre pretraining corpus Pre-training corpus"),
    (r"\bimage\b", "an ımage and an \u0130mage"),  # dotless and dotted i: findall decides
    (r"\bkernel\b", "a \u212aernel"),  # the Kelvin sign folds onto k
    (r"\bstraße\b|\bstrasse\b", "Straße STRASSE straße"),  # ß lowers to itself
    (r"\w+ing\b", "reading writing"),  # no prefix: findall
]


@pytest.mark.parametrize(("pattern", "text"), CASES)
def test_count_is_findall_count(pattern: str, text: str) -> None:
    regex = re.compile(pattern, re.IGNORECASE)
    folded = FoldedText(text)
    assert KeywordCounter(regex).count(folded) == len(regex.findall(text))
    assert min(KeywordCounter(regex).count(folded, 1), 1) == min(1, len(regex.findall(text)))


def test_count_equals_findall_on_random_text_for_every_domain_rule() -> None:
    words = ["image", "images", "Image", "vision-language", "language", "models", "LLM",
             "LLMs", "tokens", "pre-training", "corpus", "GANs", "BERT", "bert", "GPT-4",
             "speech", "speaker", "3D", "shape", "object", "detection", "semantic", "scene",
             "segmentation", "CIFAR-10", "MS", "COCO", "robot", "robots", "ımage", "x"]
    seps = [" ", "  ", "\n", "-", ", ", "(", ")", ""]
    rules = [rule for rule in load_domain_rules() if rule.regex is not None]
    draw = random.Random(14)
    for _ in range(300):
        text = "".join(draw.choice(words) + draw.choice(seps) for _ in range(draw.randint(0, 40)))
        folded = FoldedText(text)
        for rule in rules:
            assert rule.regex is not None
            assert KeywordCounter(rule.regex).count(folded) == len(rule.regex.findall(text))


def test_required_strings_are_literal_runs_anywhere() -> None:
    def needed(pattern: str, flags: int = 0) -> tuple[str, ...] | None:
        return required_strings(re.compile(pattern, flags))

    assert needed(r"(?i)(?<![\w\-])(?:#\s*|n)?param(?:eter)?s?\b") == ("param",)
    assert needed(r"[(\[]\s*\d+[KMBT]\s*[)\]]") == ("(", "[")
    assert needed(r"\bab[cd]e") == ("abce", "abde")
    assert needed(r"\w+") is None
    assert needed(r"a\nb") is None  # a line never holds a newline: no hint
    # an alternation: one of the strings of each branch
    assert needed(r"\bICML\b|(?i:Conference on (?:Machine|Deep) Learning)") == (
        "conference on ", "icml")
    assert needed(r"(?:ab|\w)\d") is None  # a branch with no string


def test_may_hold_is_false_only_without_a_match() -> None:
    venues = [venue.pattern for venue in load_venues()]
    pieces = ["NeurIPS", "NIPS", "Neural Information Processing Systems", "ICML 2020", "In",
              "Proceedings", "of the", "ACL", "acl", "Nature", "vol.", "ımage", "\n", " ", "2"]
    draw = random.Random(3)
    for _ in range(300):
        text = " ".join(draw.choice(pieces) for _ in range(draw.randint(0, 20)))
        folded = FoldedText(text)
        for pattern in venues:
            assert folded.may_hold(pattern) or pattern.search(text) is None


def test_line_hints_keep_every_line_a_search_matches() -> None:
    vocab = _vocab(load_lexicon())
    patterns = [vocab.params, vocab.size, vocab.symbol, _SIZE_IN_BRACKETS]
    pieces = ["Model", "#Params", "PARAM", "Size (B)", "model size", "(7B)", "[1.5 M]", "θ",
              "denotes the number of parameters", "of", "12.3", "ımage", "\n", "\n", " "]
    draw = random.Random(7)
    for _ in range(200):
        page = " ".join(draw.choice(pieces) for _ in range(draw.randint(0, 60)))
        lines = page.split("\n")
        starts = [sum(len(line) + 1 for line in lines[:i]) for i in range(len(lines))]
        hinted = LineHints(page, starts).lines(*patterns)
        truth = [i for i, line in enumerate(lines) if any(p.search(line) for p in patterns)]
        assert set(truth) <= set(hinted)
        assert hinted == sorted(set(hinted))


def test_line_hints_skip_lines_without_the_strings() -> None:
    page = "Model Params\nsome prose here\nSize 7B"
    hints = LineHints(page, [0, 13, 29])
    params = re.compile(r"(?i)param")
    assert hints.lines(params) == [0]
    assert hints.lines(params, re.compile(r"(?i)\bsize\b")) == [0, 2]
    assert hints.lines(re.compile(r"\w+")) == [0, 1, 2]  # no hint: every line
