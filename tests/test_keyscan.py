"""keyscan: fast keyword counts and line hints give exactly what the plain regex search gives."""

from __future__ import annotations

import random
import re

import pytest

from paramminer.dates import load_venues
from paramminer.domains import load_domain_rules
from paramminer.keyscan import (
    FOLDS_ONTO_ASCII,
    FirstCharScan,
    FoldedText,
    KeywordCounter,
    RunScanner,
    ascii_fold,
    fold,
    keyword_counters,
    match_prefixes,
    required_string_sets,
    required_strings,
    run_prefixes,
    starts_at_boundary,
)
from paramminer.lexicon import load_lexicon
from paramminer.tables import _vocab


def test_folds_onto_ascii_lists_every_such_code_point() -> None:
    ascii_class = re.compile(r"[\x00-\x7f]", re.IGNORECASE)
    folding = [chr(c) for c in range(128, 0x110000)
               if not 0xD800 <= c < 0xE000 and ascii_class.match(chr(c))]
    assert folding == ["\u0130", "\u0131", "\u017f", "\u212a"]
    assert all(FOLDS_ONTO_ASCII.match(c) for c in folding)
    assert FoldedText("\u0130MAGE \u0131mage \u017fpeech \u212aernel").folded == (
        "image image speech kernel")


def test_ascii_fold_finds_ascii_strings_where_a_case_insensitive_pattern_reads_them() -> None:
    pieces = ["PARAM", "Param", "param", "\u0130mage", "\u0131", "\u017fize", "\u212aernel", "Σ",
              "ΑΣ", "é", "ﬁ", "θ", "—", "中文", "\U0001d400", " ", "\n", "7B", "?", "size", "SIZE"]
    draw = random.Random(11)
    strings = ["param", "size", "image", "kernel", "i", "s", "k", "7b", "e p"]
    for _ in range(500):
        text = "".join(draw.choice(pieces) for _ in range(draw.randint(0, 12)))
        folded = ascii_fold(text)
        assert len(folded) == len(text) and folded.isascii()
        for string in strings:
            found = [i for i in range(len(folded)) if folded.startswith(string, i)]
            regex = re.compile(re.escape(string), re.IGNORECASE)
            assert found == [i for i in range(len(text)) if regex.match(text, i)], (text, string)
        if fold(text) is not None:  # `fold` where it lines up: the same ASCII characters
            assert all(a == b for a, b in zip(folded, fold(text) or "", strict=True)
                       if b.isascii() and b != "?")


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
            assert rule.regex is not None and rule.counter is not None
            assert KeywordCounter(rule.regex).count(folded) == len(rule.regex.findall(text))
            assert rule.counter.count(folded) == len(rule.regex.findall(text))
    assert all(rule.counter and rule.counter.scanner for rule in rules)  # one shared scan


def test_no_character_outside_word_lowers_to_an_ascii_word_character() -> None:
    everything = "".join(map(chr, range(0x110000)))
    outside_word = re.sub(r"\w", "", everything)
    assert len(outside_word) > 100000
    assert re.search("[a-z0-9_]", outside_word.lower()) is None
    assert re.sub(r"\w", "", "\u0130\u0131\u017f\u212a") == ""  # FOLDS_ONTO_ASCII: in \w


def test_starts_at_boundary_on_every_path() -> None:
    def boundary(pattern: str, flags: int = re.IGNORECASE) -> bool:
        return starts_at_boundary(re.compile(pattern, flags))

    assert boundary(r"\bimages?\b|\bvision\b")
    assert boundary(r"\b(?-i:BERT|T5)\b")
    assert boundary(r"(?=\w)(?:\bfoo|(?<!x)\bbar)")  # zero-width assertions first
    assert boundary(r"(?:\bfoo|(?!y))\bbar")  # each path meets a \b
    assert not boundary(r"\bimage|vision\b")  # one branch has none
    assert not boundary(r"image\b")
    assert not boundary(r"(?:\bfoo)?bar")
    assert not boundary(r"\Bfoo")
    assert not boundary(r"(?a:\bfoo)")  # an ASCII \b
    assert not boundary(r"(?=x)")  # no \b at all
    assert run_prefixes(re.compile(r"\bimage caption|\bpre-?train", re.IGNORECASE)) == (
        ("image caption", "image"), ("pre-train", "pre"), ("pretrain", "pretrain"))
    assert run_prefixes(re.compile(r"\bimage", re.IGNORECASE | re.ASCII)) is None
    assert run_prefixes(re.compile(r"\b-?foo", re.IGNORECASE)) is None  # "-foo" leads with "-"


def test_run_scanner_finds_where_runs_begin() -> None:
    scanner = RunScanner(["image", "pre"], ["gene"])
    text = "image preimage Images gene genes pre-gene_x gene-x \u00e9image 3image prefix"
    folded = FoldedText(text).folded
    assert folded is not None
    # after \u00e9 a run of [a-z0-9_] begins, though no \\b holds there: the regex decides
    assert scanner.scan(folded) == {"image": [0, 15, 52], "pre": [6, 33, 65], "gene": [22, 44]}


SCAN_CASES = [
    "Images, image; imagery preimage image-text IMAGE_x x_image 2image",
    "image at the start, vision-language and Vision2 in the middle",
    "caf\u00e9image \u00e9vision \u00fcber-image (\u00edmage) \u03b1vision \u2126image",
    "a \u212aernel and \u212aERNELS, the \u0131mage, x\u0131mage and \u0130MAGE",
    "pre-training corpus pretraining corpus prepre-training corpus pre- training corpus",
    "image captions image-captioning imagecaption \u00e9image caption image  caption",
    "Go game, games, gamer, play Go, playing Go, plays  Go, replay Go",
    "",
]


@pytest.mark.parametrize("text", SCAN_CASES)
def test_counters_sharing_a_scan_count_as_findall(text: str) -> None:
    patterns = [r"\bimages?\b|\bvision\b", r"\bkernels?\b", r"\bimage caption(?:ing|s)?\b",
                r"\bpre-?training corpus\b", r"\bgames?\b|\bplay(?:ing|s)? Go\b",
                r"\b(?-i:Go)\b", r"image\b", r"(?a:\bimage)"]
    regexes = [re.compile(pattern, re.IGNORECASE) for pattern in patterns]
    counters = keyword_counters(regexes)
    assert [counter.scanner is not None for counter in counters] == [True] * 6 + [False] * 2
    folded = FoldedText(text)
    assert [counter.count(folded) for counter in counters] == [
        len(regex.findall(text)) for regex in regexes]


def test_shared_scan_counts_exactly() -> None:
    patterns = (r"\bimages?\b", r"\bkernels?\b", r"\bimage caption(?:ing|s)?\b")
    images, kernels, captions = keyword_counters([re.compile(p, re.IGNORECASE) for p in patterns])
    text = FoldedText("Image x\u0131mage \u0131mage \u00e9image preimage \u212aernel "
                      "image captions")
    assert (images.count(text), kernels.count(text), captions.count(text)) == (3, 1, 1)


def test_head_is_the_folded_text_cut() -> None:
    text = FoldedText("An \u0130mage, a \u212aernel")
    head = text.head(8)
    assert (head.text, head.folded) == ("An \u0130mage", "an image")


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


def test_required_string_sets_are_each_run_and_alternation() -> None:
    def sets(pattern: str, flags: int = 0) -> tuple[tuple[str, ...], ...] | None:
        return required_string_sets(re.compile(pattern, flags))

    assert sets(r"(?i)#?\w+\s+(?:is|means)\s+the\s+number\s+of\s+param") == (
        ("is", "means"), ("number",), ("of",), ("param",), ("the",))
    assert sets(r"ab(?:cd)?ef") == (("ab",), ("ef",))  # an optional group ends a run
    assert sets(r"\w+") is None
    vocab = _vocab(load_lexicon())
    found = sets(vocab.symbol.pattern, vocab.symbol.flags)
    assert found is not None and ("param",) in found
    for line in ("#P denotes the number of parameters", "Params: the count of the params"):
        if vocab.symbol.search(line):
            assert all(any(s in line.lower() for s in strings) for strings in found)


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


def test_first_char_scan_finds_what_its_pattern_finds() -> None:
    scan = FirstCharScan(".!?", r"[\"')\]]*\s")
    assert scan.pattern.pattern == r"[\.!\?][\"')\]]*\s"
    text = 'One. Two?) Three!" Four.. Five?\nSix'
    assert [m.group(0) for m in scan.finditer(text)] == [". ", "?) ", '!" ', ". ", "?\n"]
    assert [m.start() for m in scan.finditer(text, 10)] == [16, 24, 30]
    assert scan.finditer("no end at all") == []
    assert [m.span() for m in scan.finditer("only dots. here. ")] == [(9, 11), (15, 17)]
    groups = FirstCharScan("([", r"\s*(?P<size>\d+[MB])\s*[)\]]")
    assert [m["size"] for m in groups.finditer("A (7B) and B [13B], C (x)")] == ["7B", "13B"]


def test_first_char_scan_falls_back_where_matches_would_overlap() -> None:
    """`[ab]b?`: the "b" search finds the b inside each "ab" match; merged, those overlap."""
    scan = FirstCharScan("ab", "b?")
    assert [m.span() for m in scan.finditer("abab b")] == [(0, 2), (2, 4), (5, 6)]
    rnd = random.Random(3)
    for _ in range(500):
        text = "".join(rnd.choice("ab b") for _ in range(rnd.randint(0, 12)))
        assert ([m.span() for m in scan.finditer(text)]
                == [m.span() for m in scan.pattern.finditer(text)]), text


def test_class_prefixes_read_classes_of_literals() -> None:
    from paramminer.keyscan import match_prefixes

    regex = re.compile(r"\b(?:[Ww]e|[Tt]his (?:paper|work))\s+call|(?i:\bnamed)\s+$")
    assert match_prefixes(regex) is None  # the classes end its prefixes
    assert match_prefixes(regex, classes=True) == ("named", "this paper", "this work", "we")
    ranged = re.compile(r"[a-z]+ called")
    assert match_prefixes(ranged, classes=True) is None  # a range is not read


@pytest.mark.parametrize("text", [
    "In this paper we propose a model called ",
    "This work presents ",
    "we present the results and we call ",
    "nothing here names it ",
    "WE CALL ",
])
def test_search_at_prefixes_is_the_search(text: str) -> None:
    from paramminer.keyscan import fold, match_prefixes, search_at_prefixes

    regex = re.compile(r"\b(?:[Ww]e|[Tt]his (?:paper|work))\s+(?:[a-z]+\s+){0,3}?"
                       r"(?:presents?|call)\s+$|(?i:\bcalled)\s+$")
    prefixes = match_prefixes(regex, classes=True)
    assert prefixes is not None
    expected = regex.search(text) is not None
    assert search_at_prefixes(regex, text, fold(text), prefixes) is expected
    assert search_at_prefixes(regex, text, None, prefixes) is expected
