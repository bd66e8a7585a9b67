"""The prefilter (windows.py): spaCy reads only the windows of a page that can hold a count,
and extraction finds exactly what it finds on whole pages: on pages written for these tests
(counts at every distance from a window's edge, long sentences, names far back, tables,
headings in capitals) and on the stored text of every PDF of the development corpus."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import pytest

from conftest import CORPUS_DIR
from paramminer.countexpr import (
    COUNT_DIGIT_FIRST_RE,
    COUNT_TEXT_RE,
    count_of_match,
    find_count_texts,
    find_long_count_texts,
    short_bare_number,
)
from paramminer.extract import _count_runs, _parse, count_matches, find_mentions, match_reach
from paramminer.models import Mention
from paramminer.rules import RuleSet, count_tokens, find_counts, load_rules
from paramminer.windows import (
    _STOP,
    SENTENCE_END_CHARS,
    TAIL_CHARS,
    PageText,
    counts_in,
    cut_after,
    cut_before,
    find_spots,
    first_windows,
)

FILLER = ("The training recipe follows prior work closely. We use a cosine schedule with "
          "warm-up and decay the learning rate to a tenth of its peak value. ")


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules()


def both(pages: list[str], rules: RuleSet) -> list[Mention]:
    """The mentions of `pages`, asserted identical with and without the prefilter."""
    whole = find_mentions(pages, rules, prefilter=False)
    windowed = find_mentions(pages, rules)
    assert windowed == whole
    return windowed


def page_text(text: str) -> PageText:
    page = PageText(1, text, text.replace("\n", " "), [])
    find_spots(page)
    return page


def test_a_long_page_is_read_only_around_its_counts() -> None:
    text = FILLER * 40 + "Kestrel-7B has 6.7 billion parameters. " + FILLER * 40
    page = page_text(text)
    windows = first_windows(page)
    count = text.index("6.7 billion")
    assert len(windows) == 1
    start, end = windows[0]
    assert start < count < end
    assert end - start < len(text) / 10
    assert text[start - 1] == " " and text[end - 1] == " "  # whole words on both sides


def test_a_page_without_counts_has_no_windows(rules: RuleSet) -> None:
    assert first_windows(page_text(FILLER * 20)) == []
    assert both([FILLER * 20, ""], rules) == []


@pytest.mark.parametrize("shift", range(0, 130, 3))
def test_counts_at_every_distance_from_a_window_edge(shift: int, rules: RuleSet) -> None:
    words = FILLER.split()
    lead = " ".join((words * 4)[:shift])
    text = (f"{FILLER * 3}{lead} Our Kestrel-MoE uses 13B active parameters, while "
            f"LLaMA-65B has 65B parameters and GPT-Q has 40 M parameters. {FILLER}"
            f"{lead} The 7B, 13B and 70B models have 2.5 × 10^9 parameters in total. "
            f"{FILLER * 2}The dense baseline of 1,300,000 params. {lead}")
    found = both([text], rules)
    assert {m.value for m in found} >= {13 * 10**9, 65 * 10**9, 40 * 10**6, 7 * 10**9,
                                        2_500_000_000, 1_300_000}


CLAUSES = ", ".join(f"then stage {i} repeats the data pass with a fresh seed" for i in range(30))


@pytest.mark.parametrize("sentence", [
    f"In our setup Kestrel-XL, {CLAUSES}, has 175B parameters and needs no tuning. ",
    f"Kestrel-XL has 175B parameters, {CLAUSES}, and needs no tuning. ",
])
def test_a_sentence_longer_than_a_window_is_read_whole(sentence: str, rules: RuleSet) -> None:
    found = both([f"{FILLER * 5}{sentence}{FILLER * 5}"], rules)
    assert [m.value for m in found] == [175 * 10**9]
    assert "175B parameters" in found[0].evidence


def test_a_name_ten_tokens_back_is_found_across_a_window_head(rules: RuleSet) -> None:
    text = (f"{FILLER * 8}Kestrel-Large trained for a week on our cluster has 7B "
            f"parameters. {FILLER * 8}")
    found = both([text], rules)
    assert [(m.value, m.system) for m in found] == [(7 * 10**9, "Kestrel-Large")]


def test_capitals_next_to_a_window_edge(rules: RuleSet) -> None:
    for heading in ("2.5 BENCHMARK EVALUATION", "SCALING LAWS FOR MODELS", "KESTREL"):
        text = f"{FILLER * 6}{heading} The 7B model has 7B parameters. {FILLER * 6}"
        both([text], rules)


def test_a_table_on_a_long_page(rules: RuleSet) -> None:
    table = "\n".join(["Model #Params Top-1", "NetA 12.5M 76.1", "NetB 48.2M 80.3",
                       "Table 3: Results of the Net family."])
    text = f"{FILLER * 10}\n{table}\n{FILLER * 10}\nNetC has 7B parameters.\n{FILLER * 3}"
    pages = [text, f"{FILLER}\n{table}"]
    found = both(pages, rules)
    assert sorted((m.page, m.value, m.table) for m in found) == [
        (1, 12_500_000, True), (1, 48_200_000, True), (1, 7 * 10**9, False),
        (2, 12_500_000, True), (2, 48_200_000, True)]
    for mention in found:  # offsets point into the page with its lines
        page = pages[mention.page - 1]
        assert page[mention.start : mention.end] == mention.text


def test_rules_of_unbounded_reach_read_whole_pages(rules: RuleSet) -> None:
    assert match_reach(rules) == 8  # count-near-param: a count, up to 6 tokens, the noun
    key, rule = next(iter(rules.rules.items()))
    loose = dataclasses.replace(rule, pattern=[*rule.pattern, {"OP": "*"}])
    unbounded = dataclasses.replace(rules, rules={**rules.rules, key: loose}, cache={})
    assert match_reach(unbounded) is None
    text = f"{FILLER * 5}The model has 7B parameters. {FILLER * 5}"
    assert find_mentions([text], unbounded) == find_mentions([text], rules, prefilter=False)


def _corpus_pages() -> list[tuple[str, list[str]]]:
    from paramminer.pdftext import TextCache, load_pdf_text

    pdfs = sorted((CORPUS_DIR / "pdfs").glob("*.pdf"))
    if not pdfs:
        pytest.skip(f"shared corpus not found: no PDFs in {CORPUS_DIR / 'pdfs'}")
    cache_dir = os.environ.get("PARAMMINER_CACHE_DIR")
    cache = TextCache(Path(cache_dir) / "text") if cache_dir else None
    return [(pdf.name, load_pdf_text(pdf, cache).pages) for pdf in pdfs]


@pytest.mark.corpus
@pytest.mark.slow
def test_the_prefilter_changes_nothing_on_the_corpus(rules: RuleSet) -> None:
    """Every mention, every field, in the same order, on every corpus PDF (set
    PARAMMINER_CACHE_DIR to a text cache to skip parsing)."""
    differ = []
    total = 0
    for name, pages in _corpus_pages():
        whole = find_mentions(pages, rules, prefilter=False)
        total += len(whole)
        if find_mentions(pages, rules) != whole:
            differ.append(name)
    assert total > 1000
    assert differ == []


COUNTS_PAGE = (
    "We train Kestrel-7B and Kestrel-13B, with 7B and 13B parameters respectively. " + FILLER
    + "Our largest model has 70 billion parameters, trained on 1.4T tokens. " + FILLER * 2
    + "Models range from 125M to 175B parameters; the 8x7B mixture uses 13B active parameters. "
    + "A 22,855,952-parameter encoder and ~1.5 billion parameters in total."
)


def test_the_matcher_around_counts_finds_what_it_finds_on_the_whole_doc(rules: RuleSet) -> None:
    """Every prose rule's match that holds a count, in the same order, as the Matcher over
    the whole doc (table rules are applied per table region, not from matches)."""
    reach = match_reach(rules)
    assert reach is not None
    doc = _parse(rules, COUNTS_PAGE)
    everything = [m for m in rules.matcher(doc)
                  if any(t._.count is not None for t in doc[m[1]:m[2]])
                  and rules.rules[doc.vocab.strings[m[0]]].role != "table"]
    assert len(everything) >= 8
    assert count_matches(doc, rules, reach) == everything
    assert count_matches(doc, rules, 0) == everything


def test_count_tokens_are_recorded_by_the_pipeline_and_found_without_it(rules: RuleSet) -> None:
    doc = _parse(rules, "It has 7B parameters and Kestrel-13B has ~1.5 billion.")
    recorded = count_tokens(doc)
    assert [doc[i].text for i in recorded] == ["7B", "Kestrel-13B", "1.5 billion"]
    del doc.user_data["count_tokens"]
    assert count_tokens(doc) == recorded


def test_count_runs_merge_runs_that_touch_and_clip_to_the_doc() -> None:
    assert _count_runs([], 4, 50) == []
    assert _count_runs([1], 4, 50) == [(0, 5)]
    assert _count_runs([10, 16, 30], 4, 50) == [(7, 20), (27, 34)]  # 10: 7-14, 16: 13-20
    assert _count_runs([10, 17], 4, 50) == [(7, 21)]  # 7-14 and 14-21 touch
    assert _count_runs([48], 4, 50) == [(45, 50)]


def test_windows_start_and_end_at_sentence_ends_not_at_semicolons(rules: RuleSet) -> None:
    """The sentencizer ends no sentence at ";" or ":", so a window's first guess does not either:
    it holds the whole sentence at once (a guess at ";" fell short and was read again)."""
    assert [m.group(0) for m in _STOP.finditer("a; b: c. d! e?) f")] == [". ", "! ", "?) "]
    sentence = ("In short: the data pass repeats; the seed changes; and Kestrel-XL, our "
                "largest model, has 175B parameters; it needs no tuning: none at all. ")
    text = f"{FILLER * 5}{sentence}{FILLER * 5}"
    windows = first_windows(page_text(text))
    assert len(windows) == 1
    start, end = windows[0]
    assert start < text.index(sentence) and end > text.index(sentence) + len(sentence)
    assert [(m.value, m.system) for m in both([text], rules)] == [(175 * 10**9, "Kestrel-XL")]


def test_probable_sentence_ends_are_the_sentencizers_ascii_ones() -> None:
    sentencizer = load_rules().nlp.get_pipe("sentencizer")
    punct_chars = sentencizer.punct_chars  # type: ignore[attr-defined]
    assert set(SENTENCE_END_CHARS) == {c for c in punct_chars if c.isascii()}


COUNT_SENTENCES = [
    "Kestrel-7B has 6.7 billion parameters, 22,855,952 weights and 6.7×10^9 or 6.7 x 10 9 ops.",
    "We train 40 M parameters, 317m parameters and 5m of cable; 1e9, 2E+10, 1,300.5 and 12.",
    "Tables 1, 2 and 3: 1.2.3 v2 x86 GPT-3 3/4 10^9 ^7 .5 ,7 a1 123456 12345 1,234 7B 8x7B",
    "A 1.5 bn budget at 3 thousand steps, 2 millions of 4 trillion tokens, 5 mn and 13b params",
    "Unicode digits ٣٤٥٦٧٨٩ and ３ billion, ४५ million, nothing else",
    "",
]


def _match_key(match: re.Match[str]) -> tuple[object, ...]:
    return (match.span(), match.lastgroup, match.groupdict(), count_of_match(match))


def test_find_count_texts_finds_what_count_text_re_finds() -> None:
    for sentence in COUNT_SENTENCES:
        for text in (sentence, sentence + " about ~ 7B", "≈3 billion and ∼ 5M: " + sentence):
            fast = [_match_key(m) for m in find_count_texts(text)]
            assert fast == [_match_key(m) for m in COUNT_TEXT_RE.finditer(text)], text
        # without an approximation sign, the digit-first pattern gives every match
        assert ([_match_key(m) for m in COUNT_DIGIT_FIRST_RE.finditer(sentence)]
                == [_match_key(m) for m in COUNT_TEXT_RE.finditer(sentence)])
    found = [m[0] for m in find_count_texts(COUNT_SENTENCES[0])]
    assert found == ["7B", "6.7 billion", "22,855,952", "6.7×10^9", "6.7 x 10 9"]


def test_long_count_texts_are_the_count_texts_but_short_bare_numbers() -> None:
    text = "In 2023 we had 12345, 1,234, 0.5, 12.34, 7B, 3 M params and 9 runs of 12,3456."
    assert [m[0] for m in find_long_count_texts(text)] == [  # "12,3456": "12", then none
        "12345", "1,234", "12.34", "7B", "3 M"]
    assert [m[0] for m in find_long_count_texts("~ 7B or ~12 and 2023, ≈1.5 billion")] == [
        "~ 7B", "~12", "≈1.5 billion"]
    for sentence in COUNT_SENTENCES:
        for text in (sentence, sentence + " about ~ 7B", "≈3 billion and ∼ 5M: " + sentence):
            assert [_match_key(m) for m in find_long_count_texts(text)] == [
                _match_key(m) for m in find_count_texts(text) if not short_bare_number(m)]


def test_count_cuts_are_the_count_expressions_that_hold_a_space() -> None:
    text = "It has 1.5 billion parameters, 22,855,952 weights, ~ 7B and 40 M params in 12 runs."
    page = page_text(text)
    assert [text[start:end] for start, end in page.cuts] == ["1.5 billion", "~ 7B", "40 M"]
    assert [text[spot:spot + 4] for spot in page.spots] == ["1.5 ", "22,8", "7B a", "40 M"]


def test_a_cut_without_a_space_never_holds_a_place_after_a_space() -> None:
    text = "It has 1.5 billion parameters, 22,855,952 weights, ~ 7B and 40 M params in 12 runs."
    page = page_text(text)
    every = PageText(1, text, text, [], cuts=[m.span() for m in COUNT_TEXT_RE.finditer(text)])
    assert len(every.cuts) == 5 and len(page.cuts) == 3
    after_space = [index + 1 for index, char in enumerate(text) if char == " "]
    assert ([p for p in after_space if every.inside_count(p)]
            == [p for p in after_space if page.inside_count(p)]
            == [text.index("billion"), text.index("7B"), text.index("M params")])
    for position in range(len(text) + 1):
        assert cut_before(page, position) == cut_before(every, position)
        assert cut_after(page, position) == cut_after(every, position)


COUNTS_AND_WORDS = ("Kestrel-7B has ~1.5 billion weights; its 8x7B sibling has 46.7B. "
                    "A 22,855,952-parameter encoder and 3 × 10^9 parameters, "
                    "and Kestrel-13B with ≈ 13 B parameters. " + FILLER)


def test_a_windows_counts_are_what_find_counts_finds_on_its_text() -> None:
    """counts_in (the page's counts inside a window) gives find_counts of the window's text,
    at every place a window may start; where it ends, on all but its last TAIL_CHARS."""
    page = page_text(COUNTS_AND_WORDS * 2)
    flat = page.flat
    assert len(page.counts) >= 10 and len(page.named) >= 4
    starts = sorted({cut_before(page, i) for i in range(len(flat))})
    ends = sorted({cut_after(page, i) for i in range(len(flat))})
    assert len(starts) > 20 and len(ends) > 20
    for start in starts:
        assert counts_in(page, start, len(flat)) == find_counts(flat[start:]), start
    for end in ends:
        safe = max(0, end - TAIL_CHARS)
        given, found = counts_in(page, 0, end), find_counts(flat[:end])
        for got, expected in zip(given, found, strict=True):
            assert [c for c in got if c[1] <= safe] == [c for c in expected if c[1] <= safe]


def test_merge_counts_tags_the_same_tokens_with_given_or_found_counts(rules: RuleSet) -> None:
    text = COUNTS_AND_WORDS
    given = _parse(rules, text, find_counts(text))
    found = _parse(rules, text)
    assert "counts" not in given.user_data
    assert [(t.text, t.tag_, t._.count) for t in given] == [
        (t.text, t.tag_, t._.count) for t in found]
    assert len(count_tokens(given)) >= 6
