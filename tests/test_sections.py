"""Section headings: every offset maps to the section in force there. Pages written for the test."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from paramminer.config import rules_dir
from paramminer.lexicon import load_lexicon
from paramminer.sections import (
    _APPENDIX_LINE,
    _HEADING,
    SectionMap,
    _candidate_lines,
    _line_body,
    classify_heading,
)


def section_of(pages: list[str], marker: str) -> str:
    """The section in force where `marker` is written."""
    sections = SectionMap(pages)
    for number, text in enumerate(pages, 1):
        if marker in text:
            return sections.section_at(number, text.index(marker))
    raise AssertionError(f"{marker!r} not on any page")


@pytest.mark.parametrize(
    ("line", "section"),
    [
        ("Abstract", "abstract"),
        ("1 Introduction", "introduction"),
        ("2. Related Work", "related"),
        ("3 Method", "method"),
        ("4.1 Experimental Setup", "experiments"),
        ("5 Conclusion", "conclusion"),
        ("References", "references"),
        ("REFERENCES", "references"),
        ("Acknowledgements", "acknowledgments"),
        ("Author Contributions", "acknowledgments"),
        ("Appendix A", "appendix"),
        ("4 Scaling Study", "body"),
        ("References to prior work are given inline", None),
        ("We train the model on eight machines for a week", None),
        ("the model is small", None),
    ],
)
def test_classify_heading(line: str, section: str | None) -> None:
    assert classify_heading(line) == section


def test_a_numbered_contributions_subsection_belongs_to_the_introduction() -> None:
    pages = [
        "Abstract\nWe study lattices.\n1 Introduction\nLattices matter.\n"
        "1.1 Contributions\nWe train Halcyon with 7B parameters.\n2 Method\nWe use layers.",
        "5 Conclusion\nDone.\nAcknowledgments\nWe thank the lab.",
    ]
    assert section_of(pages, "We train Halcyon") == "introduction"
    assert section_of(pages, "We thank the lab") == "acknowledgments"


def test_a_contributions_subsection_follows_its_parent_not_its_sibling() -> None:
    pages = ["1 Introduction\nText.\n1.1 Related Efforts\nOthers.\n1.2 Main Contributions\n"
             "Our model has 3B parameters.\n2 Method\nLayers."]
    assert section_of(pages, "Our model has 3B") == "introduction"


def test_an_unnumbered_contributions_heading_early_is_the_papers_summary() -> None:
    pages = ["1 Introduction\nText.\nContributions\nOur model has 3B parameters.\n2 Method\nX."]
    assert section_of(pages, "Our model has 3B") == "introduction"


@pytest.mark.parametrize(
    "heading", ["Contributions", "Contributions and Acknowledgments", "A Contributions"]
)
def test_a_contributions_heading_at_the_end_is_the_credits(heading: str) -> None:
    pages = [
        "1 Introduction\nText.\n4 Experiments\nResults.\n5 Conclusion\nDone.",
        f"References\n[1] A. Author. A paper. 2030.\n{heading}\nAda Lovelace led the 7B model.",
    ]
    assert section_of(pages, "Ada Lovelace led") == "acknowledgments"


def test_references_then_appendix() -> None:
    pages = [
        "1 Introduction\nOur model has 7B parameters.\n6 Conclusion\nDone.",
        "References\n[1] A. Author. The 175B model. 2030.\n[2] B. Author. Another. 2031.",
        "A Proofs of the Lemmas\nThe 2B variant proves it.",
    ]
    assert section_of(pages, "Our model has 7B") == "introduction"
    assert section_of(pages, "The 175B model") == "references"
    assert section_of(pages, "The 2B variant") == "appendix"
    assert SectionMap(pages).first_page_of("references") == 2


def test_a_numbered_heading_inside_the_references_stays_references() -> None:
    pages = ["References\n[1] A. Author. A paper. 2030.\n12 Smith and Jones\nMore entries."]
    assert section_of(pages, "More entries") == "references"


def test_before_any_heading_is_the_front() -> None:
    assert section_of(["Halcyon: Open Models\nAda Lovelace\n1 Introduction"], "Ada") == "front"


def test_section_keywords_come_from_the_rules_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(rules_dir(), rules)
    table = rules / "sections-v1.csv"
    table.write_text(table.read_text() + "experiments,findings,a new keyword\n")
    assert classify_heading("4 Findings") == "body"
    monkeypatch.setenv("PARAMMINER_HOME", str(tmp_path))
    assert classify_heading("4 Findings") == "experiments"


def test_candidate_lines_are_the_lines_a_heading_or_appendix_pattern_matches() -> None:
    page = ("2 Method\nWe train it.\n  3.1\tSetup  \nAppendix\tB Proofs\n\n"
            "The model is trained\nIV RESULTS\r\nlower case line\nA.1 More Results")
    assert _candidate_lines(page) == [  # a sentence is classified later ("The model...")
        (0, "2 Method"), (22, "  3.1\tSetup  "), (36, "Appendix\tB Proofs"),
        (55, "The model is trained"), (76, "IV RESULTS\r"), (104, "A.1 More Results")]
    lines = page.split("\n")
    offsets = [sum(len(before) + 1 for before in lines[:index]) for index in range(len(lines))]
    assert _candidate_lines(page) == [
        (offset, line) for offset, line in zip(offsets, lines, strict=True)
        if _HEADING.match(line) or _APPENDIX_LINE.match(line)]
    assert _candidate_lines("") == []
    assert _candidate_lines("References") == [(0, "References")]


def test_a_section_map_reads_the_sections_table_it_is_given() -> None:
    pages = ["Abstract\nText.\n1 Introduction\nMore.", "References\n[1] A paper."]
    given = SectionMap(pages, load_lexicon().sections)
    assert given.headings == SectionMap(pages).headings
    assert SectionMap(pages, ()).headings[0].section == "body"  # "1 Introduction" unnamed


def test_a_line_pattern_becomes_a_pattern_between_newlines() -> None:
    assert _line_body(re.compile(r"^\s*x\s+y$")) == r"[^\S\n]*x[^\S\n]+y"
    with pytest.raises(AssertionError):  # [\s,] cannot become [[^\S\n],]
        _line_body(re.compile(r"^[\s,]+x$"))
    with pytest.raises(AssertionError):
        _line_body(re.compile(r"x\s+y$"))  # no ^: not a whole line
