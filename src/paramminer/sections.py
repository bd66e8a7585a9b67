"""Find section headings in page texts, so every offset maps to a section name.

A heading is a short line, numbered ("3", "3.2", "A.1", "IV") or not; the keywords that name
its section are data (rules/sections-v*.csv, first matching row wins). What a section means
in the paper's layout is decided here:

- after the references, a numbered heading we have no name for is the appendix ("A Proofs");
- a bare "Contributions" heading is the paper's summary when it is a numbered subsection
  ("1.2 Contributions") or comes before the results, conclusion and references; after them it
  opens the credits (acknowledgments).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from paramminer.lexicon import load_lexicon

_HEADING = re.compile(
    r"^\s*(?P<num>(?:\d{1,2}(?:\.\d{1,2}){0,2}|[A-H](?:\.\d{1,2})?|[IVX]{1,4})\.?\s+)?"
    r"(?P<title>[A-Z][A-Za-z\-&,:'’ ]{2,60})\s*$"
)
_APPENDIX_LINE = re.compile(r"^\s*(?:Appendix\s+)?[A-H](?:\.\d)?\.?\s+[A-Z][A-Za-z\- ]{3,50}\s*$")


def _line_body(regex: re.Pattern[str]) -> str:
    """The pattern of `regex`, which matches a whole line (`^...$`, `\\s` its only way to
    match a newline), without its anchors and with `[^\\S\\n]` for `\\s` (the same within
    a line): between a newline and the next it matches what `regex` matches in a line."""
    pattern = regex.pattern
    assert pattern.startswith("^") and pattern.endswith("$") and "\n" not in pattern
    assert not re.search(r"\[[^\]]*\\s", pattern), "\\s inside a class: replace it by hand"
    return pattern[1:-1].replace(r"\s", r"[^\S\n]")


# a line _HEADING or _APPENDIX_LINE matches, in "\n" + page + "\n": a search with a literal
# first character, so the engine skips to line starts
_CANDIDATE_LINE = re.compile(rf"\n(?:{_line_body(_HEADING)}|{_line_body(_APPENDIX_LINE)})(?=\n)")
MAX_WORDS = 7  # a longer line is a sentence, not a heading
SHORT_HEADING = 3  # an unnumbered heading has at most this many words (or is in capitals)
LONG_ALLOWED = frozenset({"abstract", "references", "appendix", "acknowledgments"})
WHOLE_LINE = frozenset({"references", "abstract"})  # unnumbered: the keyword is the whole line
CLOSING = frozenset({"experiments", "conclusion", "references", "appendix", "acknowledgments"})


@dataclass(frozen=True)
class Heading:
    """A heading found at (page, offset)."""

    page: int
    offset: int
    section: str
    text: str


def classify_heading(
    line: str, table: tuple[tuple[str, re.Pattern[str]], ...] | None = None
) -> str | None:
    """The section a heading line opens ("contributions" is resolved by SectionMap), or None
    if the line is not a heading. `table`: the lexicon's sections (read when not given)."""
    match = _HEADING.match(line)
    if not match:
        return None
    title = match["title"].strip()
    numbered = bool(match["num"])
    words = title.split()
    if len(words) > MAX_WORDS:
        return None
    for name, pattern in load_lexicon().sections if table is None else table:
        hit = pattern.match(title)
        if not hit:
            continue
        if not numbered and name not in LONG_ALLOWED and not (
            title.isupper() or len(words) <= SHORT_HEADING
        ):
            return None  # unnumbered: only short title-case or upper-case lines are headings
        if not numbered and hit.end() < len(title) and name in WHOLE_LINE:
            return None  # "References to prior work are..." is a sentence
        return name
    if numbered and match["num"].strip(". ")[0].isdigit() and len(words) <= MAX_WORDS - 1:
        return "body"  # a numbered heading we have no name for ("4 Scaling Study")
    return None


def _number(line: str) -> str:
    """'1.2' of '1.2. Contributions', '' of an unnumbered heading."""
    match = _HEADING.match(line)
    return match["num"].strip(". ") if match and match["num"] else ""


def _candidate_lines(text: str) -> list[tuple[int, str]]:
    """(offset, line) of each line of `text` (split at "\\n") that _HEADING or
    _APPENDIX_LINE matches, in order: every other line is no heading (`_section_of`)."""
    padded = f"\n{text}\n"  # offsets in `padded` are one past those in `text`
    return [(match.start(), padded[match.start() + 1 : match.end()])
            for match in _CANDIDATE_LINE.finditer(padded)]


class SectionMap:
    """Maps (page, offset) to the section in force there."""

    def __init__(self, pages: list[str],
                 table: tuple[tuple[str, re.Pattern[str]], ...] | None = None) -> None:
        """`table`: the lexicon's sections (read when not given). Only the lines that
        _HEADING or _APPENDIX_LINE match can be headings: they are found per page by one
        regex instead of trying both on every line."""
        self.headings: list[Heading] = []
        self._table = load_lexicon().sections if table is None else table  # once per paper
        in_references = False
        for page_no, text in enumerate(pages, 1):
            for offset, line in _candidate_lines(text):
                section = self._section_of(line, in_references)
                if section is not None:
                    if section == "references":
                        in_references = True
                    elif section == "appendix" or (in_references and section != "body"):
                        in_references = False
                    self.headings.append(Heading(page_no, offset, section, line.strip()))
        self._keys = [(h.page, h.offset) for h in self.headings]

    def _section_of(self, line: str, in_references: bool) -> str | None:
        section = classify_heading(line, self._table)
        if section is None:
            return "appendix" if in_references and _APPENDIX_LINE.match(line) else None
        if in_references and section == "body":
            return "appendix" if _APPENDIX_LINE.match(line) else "references"
        if section == "contributions":
            current = self.headings[-1].section if self.headings else "front"
            number = _number(line)
            if "." in number:  # part of the section it is numbered under
                top = number.split(".")[0]
                parents = [h.section for h in self.headings if _number(h.text) == top]
                return parents[-1] if parents else current
            if any(h.section in CLOSING for h in self.headings):
                return "acknowledgments"  # the credits at the end
            return "introduction" if current in ("front", "abstract") else current
        return section

    def section_at(self, page: int, offset: int) -> str:
        """Section name at 1-based `page` and character `offset` ("front" before any heading)."""
        index = bisect_right(self._keys, (page, offset)) - 1
        if index < 0:
            return "front"
        return self.headings[index].section

    def first_page_of(self, section: str) -> int | None:
        """Page on which `section` first starts."""
        for heading in self.headings:
            if heading.section == section:
                return heading.page
        return None
