"""Count expressions in text ("175B", "1.5 billion", "6.7×10^9", "22,855,952", "LLaMA-65B",
"8x7B"): the regular expressions that the rules pipeline (rules.merge_counts), the prefilter
(windows.py), tables and cues share. No spaCy here, so that importing them is cheap.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from paramminer.keyscan import FirstCharScan
from paramminer.numbers import SCALE_WORDS

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_SCALE_WORD = r"thousand|millions?|billions?|trillions?|bn|mn"
_SCALE_LETTER = r"[KMBT]"
APPROX_SIGNS = "~≈∼"
_TAIL_OPTIONS = (  # what may follow the number: an exponent or a scale
    r"(?P<exp>\s?[×x*]\s?10\s?(?:\^\s?\{?(?P<pow>1[0-2]|[5-9])\}?|\s?(?P<pow2>1[0-2]|[5-9])(?!\d)))"
    r"|(?P<e>[eE]\+?(?P<epow>1[0-2]|0?[5-9]))"
    rf"|(?P<sw>\s?(?:{_SCALE_WORD})(?![A-Za-z]))"
    rf"|(?P<sl>{_SCALE_LETTER})(?![A-Za-z0-9])"
    # "40 M parameters": a unit letter apart from the number only right before the noun
    r"|\s(?P<sl2>[MBT])(?=\s?[-‐]?\s?(?:parameters?|params?)\b)"
    # "317m parameters": a lower-case unit letter only right before the noun (else "5m" is metres)
    r"|(?P<sl3>[kmbt])(?=\s?[-‐]?\s?(?:parameters?|params?)\b)"
)
_COUNT_TAIL = rf"(?:{_TAIL_OPTIONS})?(?![\d])"
COUNT_TEXT_RE = re.compile(
    rf"(?<![\w.,/^])(?P<approx>[{APPROX_SIGNS}]\s?)?(?P<num>{_NUM})" + _COUNT_TAIL
)
# COUNT_TEXT_RE for a text without an approximation sign, where its approx group never takes
# part: at every position it tries the number right there. So does this one, which starts
# with the number's first digit (a class: the engine skips ahead to the next digit instead of
# trying the lookbehind at every character) and reads the same lookbehind after it; then the
# same alternatives in the same order (\d{1,3} is \d then \d{0,2}; \d+ is \d then \d*) and
# the same tail. Same matches and group names (approx, last, never takes part); the group
# numbers differ. Use it through find_count_texts.
COUNT_DIGIT_FIRST_RE = re.compile(
    r"(?P<num>\d(?<![\w.,/^]\d)(?:\d{0,2}(?:,\d{3})+(?:\.\d+)?|\d*(?:\.\d+)?))"
    + _COUNT_TAIL + "(?P<approx>(?!))?"
)


# COUNT_DIGIT_FIRST_RE without the matches short_bare_number drops: where no tail follows,
# the number must be 5 characters or more. A number is [\d.,] only and the character before
# it is none of them (its lookbehind), so "the 5 characters before the end are [\d.,]" says
# just that. At a place where COUNT_DIGIT_FIRST_RE finds a short bare number, every other
# way to match (a shorter number) is followed by a digit, "." or ",", which no tail starts
# with, so is short and bare too: no match starts there, nor inside the number (its
# lookbehind), and the search goes on from its end as COUNT_DIGIT_FIRST_RE's does.
COUNT_LONG_DIGIT_FIRST_RE = re.compile(
    COUNT_DIGIT_FIRST_RE.pattern.replace(
        _COUNT_TAIL, rf"(?:{_TAIL_OPTIONS}|(?<=[\d.,]{{5}}))(?![\d])")
)


def find_count_texts(text: str) -> Iterator[re.Match[str]]:
    """`COUNT_TEXT_RE.finditer(text)`: the same matches, spans and named groups (read them
    by name); by COUNT_DIGIT_FIRST_RE, twice as fast, where no match can hold an
    approximation sign."""
    if any(sign in text for sign in APPROX_SIGNS):
        return COUNT_TEXT_RE.finditer(text)
    return COUNT_DIGIT_FIRST_RE.finditer(text)


def find_long_count_texts(text: str) -> Iterator[re.Match[str]]:
    """The matches of `find_count_texts(text)` but those `short_bare_number` drops, found
    without them where no match can hold an approximation sign (COUNT_LONG_DIGIT_FIRST_RE:
    most numbers on a page are such, and each match is a Python object)."""
    if any(sign in text for sign in APPROX_SIGNS):
        return (m for m in COUNT_TEXT_RE.finditer(text) if not short_bare_number(m))
    return COUNT_LONG_DIGIT_FIRST_RE.finditer(text)


NAME_SIZE_RE = re.compile(
    r"^(?P<name>[A-Za-z][\w.\-]*?[A-Za-z0-9])[-_‐](?P<num>\d+(?:\.\d+)?)(?P<sc>[MBTmbt])$"
)
MOE_SHAPE_RE = re.compile(r"^(?P<experts>\d+)[x×](?P<num>\d+(?:\.\d+)?)(?P<sc>[MBT])$")


def scaled_value(num: str, multiplier: int) -> int:
    """The number written `num` ("1,300.5") times `multiplier`, exactly."""
    return int(Decimal(num.replace(",", "")) * multiplier)


def short_bare_number(match: re.Match[str]) -> bool:
    """A match that is a bare number of under 5 characters ("2023", "0.5"): never a count
    (count_of_match gives None; "1,234" is the shortest count without a scale) and holding
    no space. Checked first, since most numbers on a page are such."""
    return match.lastgroup == "num" and not match["approx"] and match.end() - match.start() < 5


def count_of_match(match: re.Match[str]) -> tuple[int, str] | None:
    """(value, tag) for a COUNT_TEXT_RE match, or None when it is not a count."""
    num = match["num"]
    if match.lastgroup != "num":  # an exponent or a scale follows the number
        power = match["pow"] or match["pow2"] or match["epow"]
        if power:
            return scaled_value(num, 10 ** int(power)), "COUNT_SCALED"
        scale = (match["sw"] or match["sl"] or match["sl2"] or match["sl3"] or "").strip()
        if scale:
            return scaled_value(num, SCALE_WORDS[scale.lower()]), "COUNT_SCALED"
    if "," in num and len(num.replace(",", "").split(".")[0]) >= 4:
        return scaled_value(num, 1), "COUNT_PLAIN"
    if "." in num:
        return None  # a bare decimal is a count only inside a table with a unit header
    if len(num) >= 6:
        return int(num), "COUNT_PLAIN"
    return None


NAME_SIZE_WORD = re.compile(
    r"[A-Za-z][\w.\-]*?[A-Za-z0-9][-_‐]\d+(?:\.\d+)?[MBTmbt](?![\w.\-]*\w)"
)
MOE_SHAPE_WORD = re.compile(r"(?<![\w.])\d+[x×]\d+(?:\.\d+)?[MBT](?!\w)")


@dataclass(frozen=True)
class WordScan:
    """`pattern.finditer(text)`, fast: the pattern's matches lie inside runs of `run`
    characters, each holds a match of `anchor`, and nothing it tests lies outside its run
    (the character before or after a run is not a `run` character, and assertions read
    no further). So the pattern is tried only over the runs that hold an anchor, instead
    of at every character of the text."""

    pattern: re.Pattern[str]
    anchor: re.Pattern[str] | FirstCharScan
    run: re.Pattern[str]  # zero or more run characters

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        """The matches of `pattern` in `text`, exactly as `pattern.finditer(text)`."""
        run, done = self.run, 0
        for anchor in self.anchor.finditer(text):
            if anchor.start() < done:
                continue  # in a run already read
            start = anchor.start()
            while start > done and run.fullmatch(text, start - 1, start):
                start -= 1
            tail = run.match(text, anchor.end())  # zero or more: always a match
            done = tail.end() if tail else anchor.end()
            yield from self.pattern.finditer(text, start, done)


NAME_SIZE_SCAN = WordScan(NAME_SIZE_WORD, FirstCharScan("-_‐", r"\d+(?:\.\d+)?[MBTmbt]"),
                          re.compile(r"[\w.\-‐]*"))
MOE_SHAPE_SCAN = WordScan(MOE_SHAPE_WORD, FirstCharScan("x×", r"\d+(?:\.\d+)?[MBT]"),
                          re.compile(r"[\w.×]*"))
