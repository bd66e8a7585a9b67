"""A paper's title from the text of its first page.

Page 1 opens with clutter (arXiv's margin stamp, a date line, a venue or journal header,
a label such as "Article", a running header repeated on every page), then the title, then
the authors (names with affiliation marks, "X Team", e-mail addresses) and affiliations.
The title is the first line that is not clutter, plus the lines that continue it: a line
continues the title when the previous one ends mid-phrase ("... for"), when it starts in
lower case, when both are in capitals, when it reads as a phrase (holds "of", "with", ...),
or, for a line of bare capitalised words, when an author line follows it and it cannot be a
person's name (a single word, or the title line before it is a full line).

The cue and word tables in rules/ hold the clutter, label, connector and affiliation words.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from paramminer.lexicon import Lexicon, load_lexicon

MAX_LINES = 4  # a title wraps over at most this many lines
MAX_CHARS = 300
FULL_LINE = 40  # a title line this long may wrap onto a short line of capitalised words
_MARKS = "∗*†‡§¶♠♣♦♥♢♡⋆★✉°#"
_LETTERS = re.compile(r"[^\W\d_]")
_MARKED_NAME = re.compile(
    rf"[^\W\d_][{_MARKS}]|^[{_MARKS}]|\s[{_MARKS}]+\s*(?:\d|,|$)|[a-z]\s[{_MARKS}]+\s+[A-Z]"
)
_NAME_WITH_NUMBER = re.compile(  # "Ada Lovelace1,2": a name with affiliation numbers
    r"\b[A-Z][a-z]+\s+[A-Z][\w'\-]*[a-z]\d{1,2}(?:,\d{1,2})*(?=[\s,;]|$)"
)
_SPACED_NUMBERS = re.compile(r"[a-z]\s+\d(?:\s*,?\s*\d)*(?=\s+[A-Z]|\s*$)")
_MIDDLE_INITIAL = re.compile(r"\b[A-Z][a-z]+\s+(?:[A-Z]\.\s*){1,2}[A-Z][a-z]")
_LOOSE_ACCENT = re.compile(r"\s?[\u0300-\u036f\u00b4\u00a8\u02c6\u02dc\u02d8\u02da\u00b8]\s?")
_INITIAL = re.compile(r"^(?:[A-Z]\.){1,2}$")
_TRAILING_MARKS = re.compile(rf"[\s{_MARKS}\d,]*[{_MARKS}][\s{_MARKS}\d,]*$")


class _Words:
    """The word lists and cues a title needs, looked up once per call."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.clutter = lexicon.cue("title_clutter")
        self.stop = lexicon.cue("title_stop")
        self.contact = lexicon.cue("contact")
        self.labels = lexicon.word_list("title_page_labels")
        self.connectors = lexicon.word_list("title_connectors")
        self.affiliations = lexicon.word_list("affiliation_words")
        self.authors = lexicon.word_list("author_words")
        self.particles = lexicon.word_list("name_particles")


def guess_title(
    first_page: str, other_pages: Sequence[str] = (), lexicon: Lexicon | None = None
) -> str:
    """The title printed on page 1 ("" when none is found before the abstract).

    `other_pages` (the paper's later pages) lets a running header that repeats on them be
    told from the title.
    """
    words = _Words(lexicon or load_lexicon())
    lines = [line for line in (_tidy(raw) for raw in first_page.split("\n")) if line]
    lines = [line for line in lines if not _is_clutter(line, words)]
    start = 0
    while start < len(lines) and words.contact.search(lines[start]) and len(lines[start]) < 60:
        start += 1  # a footnote's address printed above the title
    running = _running_lines(other_pages)
    while start < len(lines) - 1 and _key(lines[start]) in running and not _names_follow(
        lines[start + 1], words
    ):
        start += 1  # a running header above the title (the title repeated as one is kept)
    if start >= len(lines) or words.stop.search(lines[start]) or _is_byline(lines[start], words):
        return ""
    title = [lines[start]]
    for index in range(start + 1, len(lines)):
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if not _continues(title, lines[index], following, words):
            break
        title.append(lines[index])
    return _join(title)[:MAX_CHARS]


def _tidy(line: str) -> str:
    """One space between words; accents the PDF printed apart rejoined ("Universit ́e")."""
    return " ".join(_LOOSE_ACCENT.sub("", line).split())


def _key(line: str) -> str:
    return re.sub(r"[\W\d_]+", "", line.lower())


def _is_clutter(line: str, words: _Words) -> bool:
    if len(_LETTERS.findall(line)) < 4:
        return True  # page numbers, rules of underscores, lone marks
    return bool(words.clutter.search(line)) or line.lower().strip(" .:") in words.labels


def _running_lines(pages: Sequence[str]) -> set[str]:
    """Lines printed at the top or bottom of at least two later pages."""
    seen: Counter[str] = Counter()
    for page in pages:
        lines = [_key(line) for line in page.split("\n") if line.strip()]
        seen.update({key for key in lines[:2] + lines[-2:] if len(key) >= 6})
    return {key for key, count in seen.items() if count >= 2}


def _tokens(line: str) -> list[str]:
    return re.findall(r"[^\W_][\w'’\-.]*", line)


def _is_byline(line: str, words: _Words) -> bool:
    """An author, affiliation or contact line (what follows a title)."""
    return _is_author(line, words) or _is_affiliation(line, words)


def _is_affiliation(line: str, words: _Words) -> bool:
    """An affiliation or contact line, or the start of the abstract."""
    if words.contact.search(line) or words.stop.search(line):
        return True
    lowered = {t.lower().rstrip(".,") for t in _tokens(line)}
    return bool(lowered & words.affiliations)


def _is_author(line: str, words: _Words) -> bool:
    """Names with affiliation marks or initials, "X Team", or a list of person names."""
    if _MARKED_NAME.search(line) or _MIDDLE_INITIAL.search(line):
        return True
    lowered = {t.lower().rstrip(".,") for t in _tokens(line)}
    if lowered & words.authors or "et al" in line.lower():
        return True
    if not lowered & (words.connectors - {"and"}) and (
        _NAME_WITH_NUMBER.search(line) or len(_SPACED_NUMBERS.findall(line)) >= 2
    ):
        return True
    chunks = [c.strip() for c in re.split(r",|;|&|\band\b", line) if c.strip()]
    return len(chunks) >= 2 and all(_is_person(chunk, words) for chunk in chunks)


def _names_follow(line: str, words: _Words) -> bool:
    """The line after a candidate title names people: authors, one person, or a run of
    four or more name words ("Ada Lovelace Alan Turing")."""
    tokens = line.split()
    run = len(tokens) >= 4 and all(_is_name_part(t) or t in words.particles for t in tokens)
    return _is_byline(line, words) or _is_person(line, words) or run


def _is_person(chunk: str, words: _Words) -> bool:
    tokens = chunk.split()
    return 2 <= len(tokens) <= 4 and all(
        _is_name_part(t) or t in words.particles for t in tokens
    )


def _is_name_part(token: str) -> bool:
    """"Ada", "Jean-Luc", "O'Neil", "J.": capitalised parts in mixed case, or an initial."""
    parts = re.split(r"[-'’]", token)
    return bool(_INITIAL.match(token)) or all(
        part.isalpha() and part[0].isupper() and any(c.islower() for c in part) for part in parts
    )


def _is_upper(line: str) -> bool:
    letters = _LETTERS.findall(line)
    return bool(letters) and sum(c.isupper() for c in letters) >= 0.8 * len(letters)


def _continues(title: list[str], line: str, following: str, words: _Words) -> bool:
    """Whether `line` carries on the title whose lines so far are `title`."""
    if len(title) >= MAX_LINES or len(_join(title)) + len(line) > MAX_CHARS:
        return False
    if _is_byline(line, words) or re.match(r"[(\[]", line):
        return False
    previous = title[-1]
    tokens = [t.lower().rstrip(".,:;?") for t in _tokens(line)]
    last = previous.split()[-1].lower()
    if last in words.connectors or previous[-1] in ":,-–&":
        return True
    if line[0].islower() or (tokens and tokens[0] in words.connectors):
        return True
    if _is_upper(title[0]) and _is_upper(line):
        return True
    if set(tokens) & words.connectors:
        return not (line.endswith(".") and len(line) > 60)  # a sentence is not a title line
    capitalised = all(t[:1].isupper() or t[:1].isdigit() for t in _tokens(line))
    short = len(tokens) == 1 or (len(previous) >= FULL_LINE and len(tokens) <= 4)
    if not capitalised or not short:
        return False
    if len(tokens) == 1 or _is_person(line, words):  # "Ada Lovelace" or "Robust Learners"
        named = _names_follow(following, words) and not _is_affiliation(following, words)
        return named or _named_contact(following, words)  # a title's last line, then authors
    return _is_byline(following, words) or len(following.split()) == 1


def _named_contact(line: str, words: _Words) -> bool:
    """"Ada Lovelace ada@example.org": a person with an address on one line."""
    if not words.contact.search(line):
        return False
    rest = [t for t in line.split() if not words.contact.search(t) and "@" not in t]
    return sum(_is_name_part(t) for t in rest) >= 2


def _join(lines: list[str]) -> str:
    text = lines[0]
    for line in lines[1:]:
        glued = text.endswith("-") and text[-2:-1].isalpha() and line[:1].isalpha()
        text = text + line if glued else f"{text} {line}"
    return _TRAILING_MARKS.sub("", text).strip()
