"""Find section headings in page texts, so every offset maps to a section name."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from paramminer.lexicon import load_lexicon

_HEADING = re.compile(
    r"^\s*(?P<num>(?:\d{1,2}(?:\.\d{1,2}){0,2}|[A-H](?:\.\d{1,2})?|[IVX]{1,4})\.?\s+)?"
    r"(?P<title>[A-Z][A-Za-z\-&,:' ]{2,60})\s*$"
)


@dataclass(frozen=True)
class Heading:
    """A heading found at (page, offset)."""

    page: int
    offset: int
    section: str
    text: str


def classify_heading(line: str) -> str | None:
    """The canonical section a heading line opens, or None if it is not a heading."""
    match = _HEADING.match(line)
    if not match:
        return None
    title = match["title"].strip()
    numbered = bool(match["num"])
    words = title.split()
    if len(words) > 7:
        return None
    for name, pattern in load_lexicon().sections:
        hit = pattern.match(title)
        if not hit:
            continue
        if (
            not numbered
            and name not in ("abstract", "references", "appendix", "acknowledgments")
            and not (title.isupper() or len(words) <= 3)
        ):
            return None  # unnumbered: only short title-case or upper-case lines are headings
        if not numbered and hit.end() < len(title) and name in ("references", "abstract"):
            return None  # "References to prior work are..." is a sentence
        return name
    if (
        numbered
        and match["num"].strip(". ")[0].isdigit()
        and title[0].isupper()
        and len(words) <= 6
    ):
        return "body"  # a numbered heading we have no name for ("4 Scaling Study")
    return None


class SectionMap:
    """Maps (page, offset) to the section in force there."""

    def __init__(self, pages: list[str]) -> None:
        self.headings: list[Heading] = []
        in_references = False
        for page_no, text in enumerate(pages, 1):
            offset = 0
            for line in text.split("\n"):
                section = classify_heading(line)
                if section is not None:
                    if in_references and section == "body":
                        section = "appendix" if _is_appendix_heading(line) else "references"
                    if section == "references":
                        in_references = True
                    elif section in ("appendix",) or (in_references and section != "body"):
                        in_references = section == "references"
                    self.headings.append(Heading(page_no, offset, section, line.strip()))
                elif in_references and _is_appendix_heading(line):
                    self.headings.append(Heading(page_no, offset, "appendix", line.strip()))
                    in_references = False
                offset += len(line) + 1
        self._keys = [(h.page, h.offset) for h in self.headings]

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


_APPENDIX_LINE = re.compile(r"^\s*(?:Appendix\s+)?[A-H](?:\.\d)?\.?\s+[A-Z][A-Za-z\- ]{3,50}\s*$")


def _is_appendix_heading(line: str) -> bool:
    return bool(_APPENDIX_LINE.match(line))
