"""The fast paths of cues.py give exactly what the plain searches give (sentences written for
these tests)."""

from __future__ import annotations

import re

import pytest

from paramminer import cues
from paramminer.cues import CueSearch
from paramminer.keyscan import fold as folded
from paramminer.lexicon import KnownModels, _least, load_lexicon
from paramminer.models import Mention
from paramminer.names import PaperNames

LEXICON = load_lexicon()

SENTENCES = [
    "We train Halcyon, a 7B model, as our baseline.",
    "the proposed network has 5M parameters each (see [12]).",
    "GPT-3 (Brown, 2020) has 175B parameters, more than the 13B of Smith et al. in 2031",
    "we are currently training a larger model with up to ",
    "large models such as ",
    "a model with roughly ",
    "a model with ≈ ",
    "our system can efficiently train models with ",
    "We apply Gull to a ",
    "we remove 16 layers from the Halcyon ",
    " teacher into a 1.3B student",
    "As baselines, we train ",
    "With only ",
    "It has 236B parameters",
    "nothing to see here: 42 cats and 7 dogs",
    "",
    # non-ASCII letters the engine folds onto ASCII ones: dotted and dotless i, long s, Kelvin
    "We \u0130ntroduce Halcyon",
    "compared w\u0131th the 7B",
    "outperform\u017f the 7B",
    "the ba\u017feline has 7B",
    "our \u212aernel",
    "PRELIMINARY results with a 7B model",
    "Straße to a 7B Modell: ÜBER 7B",
]


@pytest.mark.parametrize("name", sorted(LEXICON.cues))
def test_cue_search_is_the_plain_search(name: str) -> None:
    finder = CueSearch(LEXICON)
    for text in SENTENCES:
        expected = LEXICON.cue(name).search(text) is not None
        assert finder.search(name, text) is expected, (name, text)
        assert finder.may_match(name, text) or not expected


def test_one_cue_search_for_every_cue_folds_each_text_once_and_answers_the_same() -> None:
    """A mention's CueSearch tries every cue on the same few texts: each is folded once."""
    finder = CueSearch(LEXICON)
    for name in sorted(LEXICON.cues):
        for text in SENTENCES:
            assert finder.search(name, text) is (LEXICON.cue(name).search(text) is not None)
    assert set(finder.folded) == set(SENTENCES)


def test_cue_search_skips_texts_without_the_cue_strings() -> None:
    finder = CueSearch(LEXICON)
    assert LEXICON.cue_strings["baseline_sentence"] == ("baseline",)
    assert finder.may_match("baseline_sentence", "we train a 7B model") is False
    assert finder.may_match("baseline_sentence", "a BaseLine, of 7B") is True
    assert finder.search("baseline_sentence", "a BaseLine, of 7B") is False  # no "as"/"for"
    assert finder.search("baseline_sentence", "As BASELINES, we train ") is True
    assert finder.may_match("per_member", "parameters EACH") is True
    assert finder.may_match("per_member", "parameters in all") is False


def test_folded_lower_cases_and_maps_letters_the_engine_folds() -> None:
    assert folded("Foo BAR-7B") == "foo bar-7b"
    assert folded("\u017fuch a\u017f") == "such as"
    assert folded("\u0130NTO") == "into"
    assert folded("\u212aernel") == "kernel"
    assert folded("Straße ≈ 7B") == "straße ≈ 7b"


def test_least_drops_strings_that_hold_another() -> None:
    assert _least(("our", "ours", "us", "we", "this ")) == ("our", "us", "we", "this ")
    assert _least(("prune", "pruned", "prunes", "pruning")) == ("prune", "pruning")
    assert _least(None) is None
    assert LEXICON.cue_strings["approximate"] is None  # "≈": no ASCII strings


def _scan(models: KnownModels, name: str) -> str | None:
    """KnownModels.match as it was written: a scan over the names in their order."""
    from paramminer.lexicon import _SIZE_SUFFIX, normalize_name

    lowered = _SIZE_SUFFIX.sub("", name.strip().lower())
    if not lowered:
        return None
    if lowered in models.names:
        return lowered
    for known in models.names:
        if normalize_name(lowered) == normalize_name(known) or lowered.startswith(known + "-"):
            return known
    return None


def test_known_models_index_finds_what_the_scan_finds() -> None:
    models = KnownModels(frozenset({"llama", "llama-2", "gpt-3", "gpt3", "gpt", "t5", "t-5",
                                    "bert", "opt", "palm", "mt-5"}))
    names = ["LLaMA-2-Chat", "llama-2-70B", "Llama2", "GPT-3-XL", "gpt 3", "GPT-3.5",
             "T5-Large", "t-5-xl", "MT-5-base", "mt5", "BERT", "Bertha", "OPT-175B",
             "-opt", "--", "", "Optimus-7B", "palm-2-s", "T 5", "gpt-neo"]
    for name in names:
        assert models.match(name) == _scan(models, name), name
    assert models.match("LLaMA-2-Chat") in {"llama", "llama-2"}
    assert models.match("GPT 3") in {"gpt-3", "gpt3"}
    assert models.match("Optimus-7B") is None


def test_bracketed_head_is_the_plain_search() -> None:
    texts = ["Our reference network (", "Our reference network ( ≈ ", "a net (~", "a model",
             "(a) our model (", "model ( x", "model (\n", "((", "  (", "Foo Bar ( ~ \n"]
    expected = ["Our reference network ", "Our reference network ", "a net ", "",
                "our model ", "", "model ", "", "", "Foo Bar "]
    assert [cues._bracketed_head(text) for text in texts] == expected
    for text in texts:
        plain = cues._BRACKET_HEAD.search(text)
        assert cues._bracketed_head(text) == (plain.group(1) if plain else "")


def _names() -> PaperNames:
    return PaperNames(introduced=["Halcyon 2", "Gull"], own={"halcyon2", "halcyon", "gull"},
                      cited={"bert"}, lexicon=LEXICON,
                      written={"halcyon2": "Halcyon 2", "halcyon": "Halcyon", "gull": "Gull"})


def _own_name_in_plain(text: str, names: PaperNames) -> bool:
    words = cues._WORD.findall(text)
    return any(
        names.is_own(" ".join(words[start : start + size]))
        for size in (1, 2, 3) for start in range(len(words) - size + 1)
        if cues._LETTER.search(words[start]) and (size == 1 or names.introduces_phrase(size))
        and not names.is_row_label(words[start])
    )


def test_own_name_in_is_the_plain_scan() -> None:
    texts = ["both Halcyon 2 9B and", "We introduce Gull, a family", "the proposed mechanism",
             "BERT and RoBERTa", "2 9B and 27B", "", "ours", "Halcyon", "the Halcyon-2 model"]
    expected = [True, True, False, False, False, False, False, True, True]
    names = _names()
    assert [cues._own_name_in(text, cues.PaperCues(names)) for text in texts] == expected
    assert [_own_name_in_plain(text, _names()) for text in texts] == expected


def test_mostly_numbers() -> None:
    assert cues._mostly_numbers("64 OOM 58 101 172 12 7 9 Foo 6.9B") is True
    assert cues._mostly_numbers("1 2 3 4 5 6 7") is False  # fewer than NUMERIC_RUN words
    assert cues._mostly_numbers("1 2 3 4 5 6 7 8 and a long sentence of many words here it "
                                "goes on and on") is False
    assert cues._mostly_numbers("models of 1.3B 2.7B 6.7B 13B 30B 66B 175B and 540B") is False


# _ADJACENT_NAME as it was written: no look-behind, a greedy name that may give characters back
_ADJACENT_PLAIN = re.compile(r"(?P<name>[A-Za-z][\w\-.]*)(?:\s+\d{1,2}(?:\.\d)?)?[\s\-(]{0,3}$")


def test_adjacent_name_is_the_plain_search() -> None:
    texts = ["We train Halcyon 2 (", "the Gull-", "the Gull--", "Gull- - (", "a 3Foo ", "a ",
             "Foo-Bar.v2 12.5 ", "x_y2  \n", "Zeta 7 (\n", "ein Modell Größe ", "Größe-",
             "12 34 ", "", "-(", "model with (", "Heron-- (", "Heron---", "é7b ", "a.b.c -",
             "Kite 123 ", "Kite 1.25 ", "two words\n\n", "Owl\t9.5 - ("]
    for text in texts:
        plain, fast = _ADJACENT_PLAIN.search(text), cues._ADJACENT_NAME.search(text)
        assert (fast and (fast.span(), fast["name"])) == (
            plain and (plain.span(), plain["name"])), text
    assert cues._ADJACENT_NAME.search("We train Halcyon 2 (")["name"] == "Halcyon"
    assert cues._ADJACENT_NAME.search("the Gull-")["name"] == "Gull-"


def _mention(evidence: str, text: str, system: str = "", table: bool = False) -> Mention:
    return Mention(value=7_000_000_000, kind="total", page=1, start=0, end=len(text), text=text,
                   evidence=evidence, rule="test@1", system=system, table=table)


MENTIONS = [
    _mention("Table 2: Our models. | Model Params | Halcyon 7B", "7B", "Halcyon", table=True),
    _mention("Table 2: Our models. | Model Params | base 1.3B", "1.3B", "base", table=True),
    _mention("Table 2: Our models. | Model Params | 13B", "13B", table=True),
    _mention("Table 2: Our models. | Model Params | 2.7B", "2.7B", table=True),
    _mention("Table 3: Compared with BERT [4]. | Model Params | small 110M", "110M", "small",
             table=True),
    _mention("Table 3: Compared with BERT [4]. | Model Params | 340M", "340M", table=True),
    _mention("We train Halcyon 2 (7B parameters) and Gull.", "7B"),
    _mention("BERT has 340M parameters, more than our 110M model.", "340M", "BERT"),
    _mention("BERT has 340M parameters, more than our 110M model.", "110M"),
]


def test_cues_with_one_paper_cache_are_the_cues_of_each_mention_alone() -> None:
    """PaperCues keeps what a table's caption says and what the names say of a word: the
    cues come out as when every mention is read on its own."""
    names = _names()
    alone = [cues.mention_cues(m, names) for m in MENTIONS]
    paper = cues.PaperCues(names)
    assert [cues.mention_cues(m, names, paper) for m in MENTIONS] == alone
    assert [cues.mention_cues(m, names, paper) for m in reversed(MENTIONS)] == alone[::-1]
    assert "own_table" in alone[0] and "own_table" not in alone[4]
    assert len(paper.captions) == 4  # two captions, each read once with a row system, once without
    assert cues.mention_cues(MENTIONS[0], _names(), paper) == alone[0]  # other names: not shared


def test_without_list_run_is_the_plain_sub() -> None:
    texts = ["we train the 300M, 1.5B and ", "we train the 300M, 1.5B and 3.3B", "models of 7B or ",
             "sizes 1B/ ", "1B & \n", "with 2 million, ", "a 7B model and ", "7Band ", "or",
             "", " , ", "the 1.3B, 2.7B,\n", "up to 10B, and\n\n", "7B and\n x", "7 B or 8 B or"]
    for text in texts:
        assert cues._without_list_run(text) == cues._LIST_RUN.sub("", text), text
    assert cues._without_list_run("we train the 300M, 1.5B and ") == "we train the "
