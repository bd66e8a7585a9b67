"""Domains from arXiv categories and keywords, with the rule table editable as CSV."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from paramminer import domains
from paramminer.domains import body_text, classify_domains, load_domain_rules
from paramminer.errors import ConfigError
from paramminer.keyscan import FoldedText


@pytest.mark.parametrize(
    ("category", "domain"),
    [
        ("cs.CL", "Language"),
        ("cs.CV", "Vision"),
        ("eess.IV", "Vision"),
        ("cs.SD", "Speech"),
        ("eess.AS", "Speech"),
        ("cs.IR", "Recommendation"),
        ("cs.RO", "Robotics"),
        ("q-bio.BM", "Biology"),
        ("q-bio.GN", "Biology"),
    ],
)
def test_category_alone_decides(category: str, domain: str) -> None:
    result = classify_domains([category], "A Method", "", ["We propose a method."])
    assert (result.primary, result.domains) == (domain, (domain,))


@pytest.mark.parametrize("category", ["cs.LG", "stat.ML", "cs.AI", "cs.NE"])
def test_general_ml_categories_say_nothing(category: str) -> None:
    result = classify_domains([category], "A Method", "", ["We propose a method."])
    assert (result.primary, result.domains) == (None, ())


def test_general_category_with_image_classification_text_is_vision() -> None:
    pages = ["We train convolutional networks for image classification on ImageNet and CIFAR-10."]
    assert classify_domains(["cs.LG"], "Better Training", "", pages).primary == "Vision"


def test_primary_category_outweighs_a_cross_list() -> None:
    result = classify_domains(["cs.CV", "cs.CL"], "A Model", "", [])
    assert result.primary == "Vision"
    assert result.domains == ("Vision", "Language")
    assert dict(result.scores) == {"Vision": 12.0, "Language": 6.0}


@pytest.mark.parametrize(
    ("title", "domain"),
    [
        ("Playing Atari Games with Deep Reinforcement Learning", "Games"),
        ("Deep Speech: Scaling up end-to-end speech recognition", "Speech"),
        ("Neural Collaborative Filtering for Recommendation", "Recommendation"),
        ("Protein structure prediction with deep learning", "Biology"),
        ("Learning dexterous robot manipulation", "Robotics"),
        ("Scaling vision-language pretraining with noisy image-text pairs", "Multimodal"),
        ("Hierarchical text-to-image generation with diffusion models", "Image generation"),
        ("Efficient training of large language models on GPU clusters", "Language"),
        ("Deep residual learning for image recognition", "Vision"),
    ],
)
def test_title_keywords(title: str, domain: str) -> None:
    assert classify_domains([], title, "", []).primary == domain


def test_llm_training_system_in_a_systems_category_is_language() -> None:
    pages = ["We train GPT models with up to a trillion parameters; language model training "
             "throughput on 3072 GPUs. Tokens per second."]
    result = classify_domains(["cs.DC"], "Pipeline parallel training at scale", "", pages)
    assert result.primary == "Language"


def test_abstract_is_used_when_known() -> None:
    result = classify_domains(["cs.LG"], "A Method", "We evaluate on speech recognition (ASR).", [])
    assert result.primary == "Speech"


def test_references_do_not_count() -> None:
    body = "We study image classification on ImageNet with convolutional networks. " * 3
    refs = "References\n" + "A. Author. Speech recognition with acoustic models. 2015.\n" * 40
    pages = [body, body, refs]
    assert body_text(pages).rstrip().endswith("networks.")
    assert classify_domains([], "A Method", "", pages).primary == "Vision"


def test_body_text_cuts_at_the_last_heading_after_page_one() -> None:
    first = "Title\nWe cite references in prose.\n"
    second = "Body text on images.\n2\n\n References \nA. Author. Speech.\nSee the references\n"
    assert body_text([first, second]) == first + "\nBody text on images.\n"
    # a heading on page 1 only: nothing is cut
    assert body_text(["Bibliography\nx", "more text"]) == "Bibliography\nx\nmore text"
    # the last of two headings; words in prose are no heading
    pages = ["T", "a\nREFERENCES\nb\n3. Bibliography\n", "c"]
    assert body_text(pages) == "T\na\nREFERENCES\nb\n"
    assert body_text(["T", "no heading: references x\n"]) == "T\nno heading: references x\n"


HEADING_TEXTS = [
    "References\nA. Author.",  # at the very start
    "Intro\n\n\n  3. REFERENCES  \n\nA. Author.",  # blank lines and spaces before and after
    "we cite references in prose\nReferences here\n",  # none a heading
    "a\nReferences\nReferences\nb",  # two in a row: the second starts at the first's end
    "a\nReferences\n\nReferences\n",
    "a\n12Bibliography\n7 bibliography\n\t\u00a0References\u2003\n",  # digits, odd spaces
    "a\n\u0663 References\n",  # an Arabic-Indic digit is a \\d
    "a\n1.2 References\nx\n1. References",  # "1.2" is more than a number and a dot
    "a\nReferen\u017fe\u017f\nb\nBIBL\u0130OGRAPHY\n",  # long s, dotted I: the engine folds
    "a\n2\n\n References \nb\nreferences.\n",  # a dot after the word: no heading
    "references", "\n", "", "a\nReferences",
]


def test_references_headings_are_the_plain_search() -> None:
    for text in HEADING_TEXTS:
        plain = [m.span() for m in domains._REFERENCES_HEADING.finditer(text)]
        fast = [m.span() for m in domains._references_headings(FoldedText(text))]
        assert fast == plain, text
    assert len(domains._references_headings(FoldedText(HEADING_TEXTS[5]))) == 3
    unfolded = FoldedText(HEADING_TEXTS[1])
    unfolded.folded = None  # no folded copy: the plain search
    assert [m.span() for m in domains._references_headings(unfolded)] == [(6, 26)]


def test_several_domains_primary_first() -> None:
    pages = ["Image captioning: a vision-language model reads images and text. "
             "ImageNet classification and image recognition results."]
    result = classify_domains([], "A multimodal image-text model", "", pages)
    assert result.domains == ("Multimodal", "Vision")
    # the primary arXiv category tips the balance, the keywords still add a domain
    result = classify_domains(["cs.CV"], "A multimodal image-text model", "", pages)
    assert result.domains == ("Vision", "Multimodal")


def test_nothing_known_gives_no_domain() -> None:
    assert classify_domains([], "", "", []).primary is None


def test_same_inputs_same_result() -> None:
    args = (["cs.CL"], "Language models", "We train a language model.", ["text"])
    assert classify_domains(*args) == classify_domains(*args)


def write_rules(path: Path, rows: str) -> Path:
    path.write_text("kind,pattern,domain,weight\n# comment line\n" + rows, encoding="utf-8")
    return path


def test_rule_table_is_editable(tmp_path: Path) -> None:
    table = write_rules(tmp_path / "domains.csv", "category,cs.LG,Other,5\n")
    rules = load_domain_rules(table)
    assert classify_domains(["cs.LG"], "A Method", "", [], rules).primary == "Other"
    assert classify_domains(["cs.LG"], "A Method", "", []).primary is None  # default table
    write_rules(table, "keyword,\\bwidgets?\\b,Widgets,4\n")
    os.utime(table, ns=(1, 1))  # a new file version even on coarse-mtime file systems
    result = classify_domains(["cs.LG"], "Learning widgets", "", [], load_domain_rules(table))
    assert (result.primary, dict(result.scores)) == ("Widgets", {"Widgets": 12.0})


def test_category_prefix_rule(tmp_path: Path) -> None:
    rules = load_domain_rules(write_rules(tmp_path / "d.csv", "category,astro-ph.*,Astronomy,10\n"))
    assert classify_domains(["astro-ph.GA"], "", "", [], rules).primary == "Astronomy"
    assert classify_domains(["astro-ph"], "", "", [], rules).primary == "Astronomy"
    assert classify_domains(["astro-phx"], "", "", [], rules).primary is None


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("keyword,(unclosed,Vision,1\n", "row 2"),
        ("category,cs.CV,Vision,heavy\n", "row 2"),
        ("pattern,cs.CV,Vision,1\n", "unknown kind"),
    ],
)
def test_bad_rule_table_is_a_config_error(tmp_path: Path, rows: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_domain_rules(write_rules(tmp_path / "bad.csv", rows))


def test_default_table_uses_epoch_domain_names() -> None:
    names = {rule.domain for rule in load_domain_rules()}
    assert {"Language", "Vision", "Image generation", "Speech", "Games", "Multimodal",
            "Recommendation", "Biology", "Robotics"} <= names
