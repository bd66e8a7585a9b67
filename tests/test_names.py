"""The paper's own model: its title from page 1, the names it introduces, the names it cites,
and its own variants. Every page and sentence here is written for the test."""

from __future__ import annotations

import re

import pytest

from paramminer.keyscan import FoldedText, holds_any
from paramminer.lexicon import load_lexicon
from paramminer.names import (
    _HEADING,
    _NAME,
    _OUR_NAME,
    PaperNames,
    _case_from_text,
    _citable_tokens,
    _cited_names,
    _headings,
    _likely_frequent,
    _model_tokens,
    _mostly_upper,
    _names_in,
    _norm,
    _variant_spans,
    _variant_tail,
    _whole,
    _whole_count,
    _whole_starts,
    acronym_long_form,
    analyse_names,
    guess_title,
    introduced_names,
)

AUTHORS = "Ada Lovelace1∗ Alan Turing2 Grace Hopper1\n1Lakeside University 2Hill Institute"
ABSTRACT = "Abstract\nWe study how models learn."


def page(*lines: str) -> str:
    """A first page: the given lines, then an abstract."""
    return "\n".join([*lines, ABSTRACT])


# --- titles -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first_page", "title"),
    [
        (page("arXiv:2401.00001v2 [cs.LG] 3 Jan 2031", "Sparse Lattices for Speech", AUTHORS),
         "Sparse Lattices for Speech"),
        (page("[cs.CL] 16 Oct 2031", "Sparse Lattices for Speech", AUTHORS),
         "Sparse Lattices for Speech"),
        (page("2031-05-14", "Halcyon 2: Open Models at a Modest Size", "Halcyon Team, Example Lab"),
         "Halcyon 2: Open Models at a Modest Size"),
        (page("Published as a conference paper at ICLR 2031", "TIDE: TINY DIFFUSION", AUTHORS),
         "TIDE: TINY DIFFUSION"),
        (page("Nature Machine Intelligence | Vol 9 | May 2031 | 101", "Article",
              "doi:10.0000/example.1234", "Folding proteins with lattices", AUTHORS),
         "Folding proteins with lattices"),
        (page("___________________", "*ada@example.org", "1https://example.org/code",
              "Lattice Models for Code", AUTHORS),
         "Lattice Models for Code"),
    ],
    ids=["arxiv-stamp", "stamp-tail", "date-line", "venue-line", "journal-header", "footnote"],
)
def test_title_skips_the_clutter_above_it(first_page: str, title: str) -> None:
    assert guess_title(first_page) == title


@pytest.mark.parametrize(
    ("lines", "title"),
    [
        (["Distributed Lattices of Words and Phrases", "and their Composition"],
         "Distributed Lattices of Words and Phrases and their Composition"),
        (["Sequence Lattices for Learning", "with Neural Networks"],
         "Sequence Lattices for Learning with Neural Networks"),
        (["LATTICE: A LIGHT MODEL FOR SELF-SUPERVISED", "LEARNING OF SPEECH"],
         "LATTICE: A LIGHT MODEL FOR SELF-SUPERVISED LEARNING OF SPEECH"),
        (["Efficient Lattice Networks for Mobile Vision", "Applications"],
         "Efficient Lattice Networks for Mobile Vision Applications"),
        (["Lattice Transformers Are Strong Learners", "of Speech and Text Together", "at Scale"],
         "Lattice Transformers Are Strong Learners of Speech and Text Together at Scale"),
        (["FooNet: Scaling Lattice Models to Long", "Contexts in Code Generation Tasks"],
         "FooNet: Scaling Lattice Models to Long Contexts in Code Generation Tasks"),
        (["Big Lattice Models Are", "Strong Few-Shot Learners"],
         "Big Lattice Models Are Strong Few-Shot Learners"),
        (["LONG LATTICES: SCALING TO A MIL-", "LION TOKENS"],
         "LONG LATTICES: SCALING TO A MIL-LION TOKENS"),
    ],
    ids=["lowercase-next", "connector-end", "all-caps", "one-word-tail", "three-lines",
         "long-line-wraps", "verb-end", "hyphen-break"],
)
def test_title_spanning_lines_is_joined_up_to_the_authors(lines: list[str], title: str) -> None:
    assert guess_title(page(*lines, AUTHORS)) == title


@pytest.mark.parametrize(
    "byline",
    [
        "Ada Lovelace, Alan Turing, Grace Hopper",
        "Ada Lovelace∗ Alan Turing†",
        "Ada M. Lovelace Alan Turing",
        "Halcyon Team",
        "ada@example.org",
        "Ada Lovelace 1 Alan Turing 2",
        "Ada Lovelace and Alan Turing",
    ],
)
def test_the_author_line_is_never_part_of_the_title(byline: str) -> None:
    first = page("Robust Lattices via Weak Supervision of Speech", byline, "Lakeside University")
    assert guess_title(first) == "Robust Lattices via Weak Supervision of Speech"


def test_a_single_author_under_a_short_title_is_not_part_of_it() -> None:
    first = page("Dynamic Routing Between Lattices", "Ada Lovelace", "Lakeside University",
                 "ada@example.org")
    assert guess_title(first) == "Dynamic Routing Between Lattices"


def test_a_person_after_a_full_title_line_is_not_part_of_it() -> None:
    first = page("Lattice Knowledge in Language Models Back to the Data", "Ada Lovelace",
                 "Lakeside University")
    assert guess_title(first) == "Lattice Knowledge in Language Models Back to the Data"


def test_a_running_header_above_the_title_is_skipped() -> None:
    first = page("Acme Lattice Models", "LATTICE 3.0 LANGUAGE MODELS", "Lattice Team, Acme")
    later = [f"Acme Lattice Models\nSection {n} text\n{n}" for n in range(2, 6)]
    assert guess_title(first, later) == "LATTICE 3.0 LANGUAGE MODELS"
    assert guess_title(first) == "Acme Lattice Models"  # without the later pages


def test_a_title_repeated_as_the_running_header_is_kept() -> None:
    first = page("Scaling Lattice Flow Models", "Ada Lovelace Alan Turing Grace Hopper Tim Lee")
    later = [f"Scaling Lattice Flow Models\nBody text {n}\n{n}" for n in range(2, 6)]
    assert guess_title(first, later) == "Scaling Lattice Flow Models"


def test_no_title_before_the_abstract_gives_an_empty_title() -> None:
    assert guess_title("1\nAbstract—We study lattices of many kinds.") == ""


def test_accents_printed_apart_are_rejoined() -> None:
    first = page("Lattices for Qu ́ebec French", "Ren ́e Tremblay, Ad ́ele Roy", "Universit ́e Laval")
    assert guess_title(first) == "Lattices for Quebec French"


# --- introduced (own) names -------------------------------------------------------------------


def names_of(title: str, *pages: str) -> PaperNames:
    return analyse_names(title, list(pages))


@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        ("Halcyon: Open Models", "We study models.", "Halcyon"),
        ("Kestrel and Merlin: Two Small Models", "We study models.", "Merlin"),
        ("Halcyon-2 Technical Report", "We study models.", "Halcyon-2"),
        ("360Lark Technical Report", "We study models.", "360Lark"),
        ("Retentive Lattice: A Successor to Transformers", "We study models.",
         "Retentive Lattice"),
        ("HALCYON: OPEN LANGUAGE MODELS", "We present Halcyon, a model. Halcyon is small.",
         "Halcyon"),
        ("Lattice Normalization", "We study normalization.", "Lattice Normalization"),
    ],
    ids=["head", "two-heads", "report", "digit-first", "multi-word-head", "all-caps-head",
         "short-title"],
)
def test_the_title_names_the_papers_model(title: str, text: str, expected: str) -> None:
    assert expected in introduced_names(title, [text])


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("In this paper we introduce Halcyon, a family of language models.", "Halcyon"),
        ("We present Gradient Lattice Search, a method that finds networks.",
         "Gradient Lattice Search"),
        ("We propose kNN-Lattice, a model that retrieves neighbours.", "kNN-Lattice"),
        ("We release SpinNet b1.58, a ternary model.", "SpinNet b1.58"),
        ("We present sound2vec 2.0, a framework for speech.", "sound2vec 2.0"),
        ("We introduce Halcyon2.5-VL, a vision-language model.", "Halcyon2.5-VL"),
        ("In this work, we introduce Halcyon 3, the latest series.", "Halcyon 3"),
        ("We propose a small recurrent design, the Latticer, built from gates.", "Latticer"),
        ("We build a compact network, which we call TinyLattice, for phones.", "TinyLattice"),
        ("This report presents Kestrel-Omni, a speech model.", "Kestrel-Omni"),
        ("Our largest model, Kestrel-XL, has many layers.", "Kestrel-XL"),
        ("Kestrel-XL, our largest model, has many layers.", "Kestrel-XL"),
        ("We train and evaluate our Kestrel family of models.", "Kestrel"),
        ("Table 2: LatticeNet (ours) 81.2 top-1.", "LatticeNet"),
        ("Table 2: LatticeNet [ours] 81.2 top-1.", "LatticeNet"),
        ("We present Momentum Lattice (MoLa) for learning features.", "MoLa"),
        ("We introduce a simpler method, Attention with Lattice Biases (ALaBi).", "ALaBi"),
    ],
    ids=["introduce", "multi-word", "lower-case", "bitnet-like", "wav2vec-like", "dotted",
         "version", "the-X", "which-we-call", "this-report", "our-largest-model-X",
         "X-our-largest-model", "our-X-family", "ours", "ours-brackets", "acronym",
         "acronym-of-phrase"],
)
def test_introducing_phrases_name_the_papers_model(sentence: str, expected: str) -> None:
    assert expected in introduced_names("A Study of Models", [sentence])


@pytest.mark.parametrize(
    ("sentence", "not_expected"),
    [
        ("Years ago Smith [6] designed pocket-sized networks called PocketLat for phones.",
         "PocketLat"),
        ("An older ranking baseline, called RankLat [7], sorts items by score.", "RankLat"),
        ("We revisit how QuokkaLM is tuned (Smith et al., 2030) on long inputs.", "QuokkaLM"),
        ("We propose to shrink the Lattice encoder with pruning.", "Lattice"),
        ("We further present numbers on CIFAR-10 for every depth.", "CIFAR-10"),
        ("We release the weights at Example Model Hub, for free.", "Example Model Hub"),
        ("Sizes differ. Clearly, the main model, Kestrel-XL, is large.", "Clearly"),
        ("We present a reading of Hourglass blocks as lattices.", "Hourglass"),
    ],
    ids=["cited-before", "cited-after", "cited-near", "preposition", "dataset", "place",
         "adverb", "modifier"],
)
def test_names_credited_to_others_or_merely_used_are_not_introduced(
    sentence: str, not_expected: str
) -> None:
    assert not_expected not in introduced_names("A Study of Models", [sentence])


def test_a_field_named_in_the_title_is_not_the_papers_model() -> None:
    names = introduced_names(
        "FP4 Formats for Deep Learning",
        ["Progress in deep learning (DL) needs formats. DL uses them."],
    )
    assert "DL" not in names


def test_a_coined_acronym_of_a_title_phrase_is_the_papers_model() -> None:
    names = introduced_names(
        "Scaling Sparse Lattice Transformers",
        ["The Sparse Lattice Transformer (SLT) is a model. SLT models scale well."],
    )
    assert {"Sparse Lattice Transformer", "SLT"} <= set(names)


def test_a_footnote_mark_glued_to_a_name_is_dropped() -> None:
    text = "We present Kestrel2, a model. Kestrel is small. Kestrel is fast. Kestrel wins."
    assert "Kestrel" in introduced_names("A Study of Models", [text])


def test_acronym_long_form_finds_the_phrase_the_acronym_abbreviates() -> None:
    assert acronym_long_form("RetLat", "we propose the Retentive Lattice") == "Retentive Lattice"
    assert acronym_long_form("ALaBi", "a method, Attention with Lattice Biases") == (
        "Attention with Lattice Biases"
    )
    assert acronym_long_form("XYZ", "nothing matches here") is None


# --- own and cited -----------------------------------------------------------------------------


def test_a_famous_name_the_paper_introduces_is_its_own_not_cited() -> None:
    names = names_of("Chinchilla: Efficient Dialogue Agents",
                     "We present Chinchilla, a dialogue agent. Chinchilla-12B is our model.")
    assert names.is_own("Chinchilla-12B") and not names.is_cited("Chinchilla-12B")


def test_known_models_and_names_next_to_citations_are_cited() -> None:
    names = names_of(
        "Halcyon: Open Models",
        "We introduce Halcyon. It beats LLaMA-65B, Zephyrine [12], Quokka (Smith et al., 2030)"
        " and Wombat-9B by Smith et al. in our tests.",
    )
    for cited in ("LLaMA-65B", "Zephyrine", "Quokka-7B", "Wombat-9B"):
        assert names.is_cited(cited), cited
        assert not names.is_own(cited), cited
    assert not names.is_cited("Numbat-3B")  # neither known nor next to a citation


def test_an_own_name_sharing_a_prefix_with_a_famous_name_is_not_cited() -> None:
    names = names_of("Optimus: Scalable Models", "We present Optimus. OPT-175B [3] is larger.")
    assert names.is_own("Optimus-7B") and not names.is_cited("Optimus-7B")
    assert names.is_cited("OPT-175B") and not names.is_own("OPT-175B")


@pytest.mark.parametrize("label", ["Ours", "ours", "Ours (7B)", "Ours-Large", "Our model"])
def test_row_markers_stand_for_the_papers_own_model(label: str) -> None:
    names = names_of("A Study of Models", "We study models.")
    assert names.is_own(label) and not names.is_cited(label)


def test_a_frequent_name_the_paper_claims_is_its_own() -> None:
    body = " ".join(["Our LatNet model is deep."] + ["LatNet works well."] * 8)
    names = names_of("Dynamic Routing Between Lattices", body)
    assert names.is_own("LatNet")


def test_a_frequent_name_marked_ours_past_the_opening_pages_is_its_own() -> None:
    """"X (ours)" claims X wherever it stands (the cue is anchored at the text after X); a
    frequent name left unmarked is not claimed."""
    opening = ["A Study of Lattice Routing\nWe study routing in lattices."] * 4
    uses = "ZorbNet routes well. " * 8
    marked = names_of("A Study of Lattice Routing", *opening,
                      uses + "\nTable 4: results.\nZorbNet (ours) 81.2\nResNet [3] 79.0\n")
    unmarked = names_of("A Study of Lattice Routing", *opening,
                        uses + "\nTable 4: results.\nZorbNet 81.2\nResNet [3] 79.0\n")
    assert marked.is_own("ZorbNet") and not unmarked.is_own("ZorbNet")


def test_a_frequent_name_claimed_as_data_is_not_a_model() -> None:
    body = " ".join(["Our LatSet dataset is large."] + ["LatSet is hard."] * 8)
    assert not names_of("Dynamic Routing Between Lattices", body).is_own("LatSet")


def test_names_after_the_references_do_not_count() -> None:
    body = "We introduce Halcyon.\nReferences\nSmith. Zephyrine: a model. 2030."
    names = names_of("A Study of Models", body)
    assert names.is_own("Halcyon") and not names.is_cited("Zephyrine")


# --- variants ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("system", "family"),
    [
        ("Halcyon-7B", "Halcyon"),
        ("Halcyon-Large", "Halcyon"),
        ("Halcyon 7B", "Halcyon"),
        ("Halcyon-235B-A22B", "Halcyon"),
        ("Halcyon-7B-Chat", "Halcyon"),
        ("Halcyon-XL/14", "Halcyon"),
        ("Halcyon-101", "Halcyon"),
        ("Kestrel 2 70B", "Kestrel 2"),
        ("Kestrel-2-9B", "Kestrel 2"),
    ],
)
def test_own_variants_and_their_family(system: str, family: str) -> None:
    names = names_of("Halcyon: Open Models", "We introduce Kestrel 2, a second family.")
    assert names.family_of(system) == family
    assert names.is_own_variant(system) and names.is_own(system)


@pytest.mark.parametrize("system", ["Halcyon", "Halcyon 3", "Halcyon-V2", "Zephyrine-7B"])
def test_a_family_name_or_a_new_version_is_not_a_variant(system: str) -> None:
    names = names_of("Halcyon: Open Models", "We study models.")
    assert not names.is_own_variant(system)


def test_the_own_variants_the_paper_mentions_are_listed() -> None:
    names = names_of(
        "Halcyon: Open Models",
        "We introduce Halcyon. Halcyon-7B and Halcyon-70B-Chat are trained; Halcyon Large is"
        " planned. Table 3: Halcyon 12 34 56. LLaMA-65B is cited [4].",
    )
    assert names.variants == ["Halcyon-7B", "Halcyon-70B-Chat", "Halcyon Large"]


def test_a_name_built_on_an_own_name_is_own_unless_cited() -> None:
    names = names_of("Kestrel: Open Models", "We introduce Kestrel. KestrelNet [4] came first.")
    assert names.is_own("Base-Kestrel-4B")  # an own name as a later part
    assert names.is_own("KestrelLM-5")  # glued at a capital
    assert not names.is_own("KestrelNet") and names.is_cited("KestrelNet")
    assert not names.is_own("Kestrelfish")  # a different word


def test_a_frequent_name_claimed_as_a_baseline_is_not_the_papers_model() -> None:
    body = " ".join(["Our LatBase baseline is small."] + ["LatBase is weak."] * 8)
    assert not names_of("Dynamic Routing Between Lattices", body).is_own("LatBase")


def test_variant_spans_are_those_of_the_whole_pattern() -> None:
    tail = _variant_tail(("large", "chat", "base", "instruct"))
    body = ("Foo Bar-7B and FooBar 13B Chat, Foo-Bar-Large; xFoo Bar, Foo Bar Foo Bar-2 "
            "Foo\nBar 70B-Instruct Foo Bar-Largest Foo -Bar-7B Foo--Bar 8x7B Foo Bar")
    for written in ("Foo Bar", "FooBar", "Foo", "Foo -Bar", "Bar"):
        family = r"(?<![\w\-])" + r"[\s\-]?".join(re.escape(w) for w in written.split())
        whole = [m.span() for m in re.finditer(family + tail.pattern, body)]
        assert list(_variant_spans(body, written, tail)) == whole, written


# --- faster scans, same matches -------------------------------------------------------------

SCANNED = (
    "FooNet [3] beats kNN-Bar and Halcyon.Base-2 (Smith et al., 2031); a.BarNet, 3D, x3D "
    "GPT-4o\nThe Lattice-Net of C++Foo uses word2Vec, ResNet-50 and foo-BarNet2.\nQux"
)


@pytest.mark.parametrize("text", [
    SCANNED, "Lattice " + SCANNED, "-" + SCANNED, "", "Foo",
    "Abc.Def FooBarBaz A.b ABC-def-G1 xYz- Foo- Foo_bar aB.c Ab1.x Q.E.D. Fig.3 Fig. 3 iOS.",
    "kNN fooBarBaz x_kNN 9aB 12ab3Cd ab.cD AB.cD.eF Ab.cdE éaB word2Vec-XL foo-barBaz aB",
    "xY", "iPhone", "a1B.c", "(kNN) [fooBar], -kNN, ab3 Cd",
])
def test_citable_tokens_are_those_of_the_lookbehind_pattern(text: str) -> None:
    model = (
        r"(?<![\w\-])(?P<model>(?:[A-Z][\w\-.]*[A-Z0-9][\w\-]*|[A-Z][a-z]+[A-Z][\w\-]*"
        r"|[a-z][a-z0-9]*[A-Z][\w\-]*)(?![\w\-]))"
    )
    whole = re.compile(rf"{model}|(?<![\w\-])[A-Z][a-z]{{2,}}(?![\w\-])")  # not possessive
    expected = [(m.start(), m.end(), m["model"] is not None) for m in whole.finditer(text)]
    assert _citable_tokens(text) == expected


def test_citable_tokens_say_which_are_model_tokens() -> None:
    assert [(SCANNED[s:e], model) for s, e, model in _citable_tokens(SCANNED)] == [
        ("FooNet", True), ("kNN-Bar", True), ("Halcyon.Base-2", True), ("Smith", False),
        ("BarNet", True), ("x3D", True), ("GPT-4o", True), ("The", False),
        ("Lattice-Net", True), ("Foo", False), ("word2Vec", True), ("ResNet-50", True),
        ("Qux", False),
    ]
    assert _citable_tokens("Lattice") == [(0, 7, False)]


@pytest.mark.parametrize(
    ("words", "joint", "flags"),
    [(["Foo"], "", 0), (["foo-bar"], "", 0), (["Foo", "Bar"], r"[\s\-]?", 0),
     (["FOO", "BAR"], r"[\s\-]?", re.IGNORECASE), (["(x"], "", 0), (["\n"], "", 0)],
)
def test_whole_finds_what_the_leading_lookbehind_finds(
    words: list[str], joint: str, flags: int
) -> None:
    text = "Foo FooBar xFoo -Foo foo-bar Foo-Bar Foo Bar\nfoo bar (x a(x \n\n x\n Foo"
    lookbehind = r"(?<![\w\-])" + joint.join(map(re.escape, words)) + r"(?![\w\-])"
    spans = [m.span() for m in re.finditer(lookbehind, text, flags)]
    faster = _whole(words, joint) + r"(?![\w\-])"
    assert [m.span() for m in re.finditer(faster, text, flags)] == spans


@pytest.mark.parametrize(
    "body",
    ["1 Introduction\nWe study.\n\n 3.2 Foo Architecture\n4. Training Data",
     "text\n2 Lattice Model\n\n\n10 Results and More", "no headings here"],
)
def test_headings_are_those_of_the_multiline_pattern(body: str) -> None:
    assert list(_headings(body)) == [m[1] for m in _HEADING.finditer(body)]


@pytest.mark.parametrize(
    ("text", "upper"),
    [("LATTICE NETWORKS", True), ("Lattice Networks", False), ("LATTICE Networks FOR X", False),
     ("FOONET: A LaTTICE", True), ("Ⓐ", False), ("ΑΒΓΔ αβ", False), ("ΑΒΓΔΕ ΖΗΘΙ α", True),
     ("ab", False), ("A", False), ("", False), ("12 FOO 34", True)],
)
def test_mostly_upper_counts_letters(text: str, upper: bool) -> None:
    assert _mostly_upper(text) is upper


@pytest.mark.parametrize("text", [
    "We introduce Halcyon 2 and FooNet-7B (ours), kNN-Foo, foo2vec, 360Foo and C++ Bar.",
    "Foo", "", "x Foo+Bar Baz 2.0 v3 b1.58\nQux -Foo .Foo Foo. a1 ab abC 12 12ab Foo_bar",
    "Bar\nBaz 7B Qux-. wordA Ab+. A+ B aB.c+D 3D x3D fooBar-baz. Z",
])
def test_names_in_finds_what_the_name_pattern_finds(text: str) -> None:
    assert list(_names_in(text)) == [(m.start(), m.group(0)) for m in _NAME.finditer(text)]


WHOLE_TEXT = "Foo FooBar xFoo -Foo foo-bar Foo-Bar Foo Bar\nFOO fooFoo (Foo) Foo_ Foo. FooFoo Foo"


@pytest.mark.parametrize("word", ["Foo", "foo", "Bar", "FooFoo", "foo-bar", "(Foo)", "o"])
@pytest.mark.parametrize("start", [0, 5, 40])
def test_whole_starts_are_those_of_the_whole_pattern(word: str, start: int) -> None:
    pattern = re.compile(_whole([word]) + r"(?![\w\-])")
    expected = [m.start() for m in pattern.finditer(WHOLE_TEXT, start)]
    assert list(_whole_starts(word, WHOLE_TEXT, start)) == expected
    open_end = re.compile(_whole([word]))
    assert list(_whole_starts(word, WHOLE_TEXT, start, ends=False)) == [
        m.start() for m in open_end.finditer(WHOLE_TEXT, start)
    ]
    assert _whole_count(word, WHOLE_TEXT) == len(pattern.findall(WHOLE_TEXT))


def test_whole_starts_in_the_folded_text_are_case_insensitive() -> None:
    text = "FOO Foo foo xFoo FoO-Bar \u212aey KEY kEY"  # a Kelvin sign folds onto k
    folded = FoldedText(text).folded
    for word in ("foo", "key", "foo-bar"):
        pattern = re.compile(_whole([word]) + r"(?![\w\-])", re.IGNORECASE)
        expected = [m.start() for m in pattern.finditer(text)]
        assert list(_whole_starts(word, text, folded=folded)) == expected


@pytest.mark.parametrize("name", ["FOONET", "KEY", "FOO NET", "BAR", "FO-O"])
def test_case_from_text_is_the_same_with_the_folded_text(name: str) -> None:
    text = "FooNet and FOONET, fooNet FooNet; Foo Net \u212aey Key KEY fo-o Fo-O Fo-O"
    folded = FoldedText(text).folded
    assert _case_from_text(name, text, folded) == _case_from_text(name, text)
    assert _case_from_text("FOONET", text, folded) == "FooNet"
    assert _case_from_text("KEY", text, folded) == "\u212aey"  # first of the most used, as re


def test_holds_any_says_no_only_without_the_strings() -> None:
    text = "We present FooNet. Then BarNet."
    folded = FoldedText(text).folded
    assert folded is not None
    assert holds_any(folded[0:11], ("present", "introduce"))
    assert not holds_any(folded[11:], ("present", "introduce"))
    assert not holds_any(folded[0:9], ("present",))  # "We presen": cut
    assert holds_any(None, ("x",)) and holds_any(folded[0:1], None)


@pytest.mark.parametrize("text", [
    "our FooNet model and Our BarNet, four Baz, sour Qux, your Quux; our  new  big Lattice",
    "our Foo", "Our X1 y", "xour Foo our", "ur Foo", "our our Foo our Bar dataset",
])
def test_our_name_finds_what_the_word_boundary_pattern_finds(text: str) -> None:
    boundary = re.compile(
        r"\b[Oo]ur\s+(?:[a-z\-]+\s+){0,2}(?P<name>[A-Za-z][\w\-.]*[\w])(?:\s+(?P<next>\w+))?"
    )
    assert [(m["name"], m["next"], m.end()) for m in _OUR_NAME.finditer(text)] == [
        (m["name"], m["next"], m.end()) for m in boundary.finditer(text)
    ]


def test_cited_names_are_those_right_before_a_citation_perhaps_after_a_version() -> None:
    body = ("We compare Foo v2 [12] and Bar [3], Baz (Smith et al., 2020) and Qux 2.1 (4) "
            "with Zed. Then Quux 12345678 [5] and X [1].")
    cited = _cited_names(body, load_lexicon(), _citable_tokens(body))
    assert cited == {"foov2", "bar", "baz", "qux21"}  # a version is read within 8 characters


def test_norm_drops_the_plural_of_a_name_with_inner_capitals_only() -> None:
    assert [_norm(n) for n in ["FooNets", "Foos", "FooNet", "FooNetss", "Foo Nets"]] == [
        "foonet", "foos", "foonet", "foonetss", "foonets"]
    assert _norm("FooNets\n") == "foonets"  # "$" holds before the last newline: it is dropped


def test_model_tokens_skip_lines_in_capitals() -> None:
    body = "FooNet beats BarNet.\nFOONET ARCHITECTURE BarNet\nFooNet again, BazNet"
    models = [(s, e) for s, e, model in _citable_tokens(body) if model]
    assert _model_tokens(body, models) == {"FooNet": 2, "BarNet": 1, "BazNet": 1}
    assert list(_model_tokens(body, models)) == ["FooNet", "BarNet", "BazNet"]  # first use


def test_likely_frequent_keeps_the_tokens_of_names_that_may_be_frequent_own_names() -> None:
    body = "\n".join([
        "FooNet-7B and FooNet-7B beat BarNet; FooNet " * 2,
        "FOONET-7B BARNET BAZNET QUXNET FOONET",  # counted: capitals only ever lower a count
        "BarNet " * 4 + "BazNet " * 8 + "QuxNet " * 7,
    ])
    models = [(s, e) for s, e, model in _citable_tokens(body) if model]
    likely = _likely_frequent(body, models, {"baznet"}, lambda name: name.lower() != "quxnet")
    assert likely == {"FooNet-7B": "foonet", "FooNet": "foonet", "FOONET-7B": "foonet",
                      "FOONET": "foonet"}  # 8 uses; BarNet 7, BazNet taken, QuxNet unfit
    assert _likely_frequent(body, models, set(), lambda name: name == "QUXNET") == {
        "QUXNET": "quxnet", "QuxNet": "quxnet"}  # one spelling that fits keeps them all


def test_a_name_holding_no_own_key_is_not_own_but_a_row_label_still_is() -> None:
    names = PaperNames(["Kestrel"], {"kestrel"}, {"falcon"}, load_lexicon(),
                       {"kestrel": "Kestrel"})
    assert names._holds_own_key("Base-KESTREL-4B") and names._holds_own_key("Kestrel (ours)")
    assert not names._holds_own_key("Falcon-7B") and not names._holds_own_key("Kestral")
    assert names._holds_own_key("Kest-rel?")  # normalized: letters and digits only
    assert not names.is_own("Falcon-7B") and names.is_cited("Falcon-7B")
    assert names.is_own("Ours (7B)") and names.is_own("our model")  # row labels
    assert names.is_own("Base-Kestrel-4B") and names.is_own("KestrelLM-5")


def test_a_name_written_for_an_own_key_counts_as_one_of_its_keys() -> None:
    """A `written` spelling is a key too: a name built on it ("Merlin-5") is looked at."""
    names = PaperNames(["Merlin"], {"foo"}, set(), load_lexicon(), {"foo": "Merlin"})
    assert names._holds_own_key("MerlinNet-5") and not names._holds_own_key("Falcon")
    assert names.is_own("MerlinNet-5") and not names.is_own("Falcon")


# --- faster finds, the same results -------------------------------------------------------


@pytest.mark.parametrize("text", [
    "We trained it. Then we called it Foo",
    "As shown by Smith et al. the Foo net",
    "No boundary at all here",
    "Ends with a boundary! ",
    "One. Two? Three! Four",
    "",
])
def test_last_sentence_is_the_last_piece_of_a_split(text: str) -> None:
    from paramminer.names import _SENTENCE, _last_sentence

    assert _last_sentence(text) == _SENTENCE.split(text)[-1]
