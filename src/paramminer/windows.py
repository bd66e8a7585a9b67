"""The prefilter: the windows of a page that can hold a parameter count, cut so that spaCy
sees in each what it would see in the whole page.

Mentions come only from count tokens (what `rules.merge_counts` tags) that some rule may
match (countholders.py), and from table cells, and the rules read a count's own sentence
and a few tokens around it. So only the sentences holding such a count, a name-size token
or a table cell, with some context, need the tokenizer, the sentencizer and the Matcher;
the rest of a page is skipped.

Why a window gives the page's tokens (extract.py relies on it, and the corpus test checks it):

- it starts at a word right after a space, outside any count expression, where the token
  before is not punctuation (a space, or a word ending in a letter or digit). From there the
  tokenizer cuts the same tokens and the count regexes find the same counts; the
  sentencizer's state ("no sentence end seen since the last start") is the page's, so every
  sentence start is the page's except that the window's first token is always one;
- it ends at a word right after a space (or at the page end). Count expressions look a few
  characters past a word ("40 M parameters"), so the tokens of the last TAIL_CHARS characters'
  words may differ from the page's; those before do not.

Bounds says which tokens of a window doc are the page's; a read outside them (a sentence
running past the window, a name ten tokens back) raises Short, and the window is widened
on that side until the read holds, at most up to the whole page.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Literal

from spacy.attrs import IDX
from spacy.tokens import Doc

from paramminer.countexpr import find_long_count_texts
from paramminer.countholders import CountHolders
from paramminer.keyscan import FirstCharScan
from paramminer.rules import NAMED_WORDS, CountAt, count_at, named_at
from paramminer.tables import TableCell

TAIL_CHARS = 48  # a count expression reads at most ~17 characters past its number's word
HEAD_CONTEXT = 40  # characters kept before the sentence end that precedes a count
TAIL_CONTEXT = 60  # characters kept after the sentence end that follows a count (~8 tokens)
REACH = 600  # how far to look for those sentence ends
WIDEN = 256  # the least a window grows by when a read needs more of the page
# where a sentence probably ends (a first guess): one of the sentencizer's ASCII sentence-end
# characters (";" and ":" are none), closing quotes or brackets, a space. Its other ~120
# ("。", "۔"...) are rare here, and a class holding them all makes this scan 10x slower; a
# window whose guess is wrong is widened.
SENTENCE_END_CHARS = ".!?"
_STOP_SCAN = FirstCharScan(SENTENCE_END_CHARS, r"[\"')\]]*\s")
_STOP = _STOP_SCAN.pattern

Side = Literal["head", "tail"]


class Short(Exception):
    """A window lacks the context a read needs on one side ("head" or "tail")."""

    def __init__(self, side: Side) -> None:
        super().__init__(side)
        self.side: Side = side


@dataclass(frozen=True)
class Bounds:
    """Which tokens of a doc are the page's: tokens lo..hi-1 have the page's text, tags and
    sentence starts. `head_open`: the page goes on before the doc (then lo is 1: the first
    token's sentence start is the window's, not the page's); `tail_open`: after it."""

    lo: int
    hi: int
    head_open: bool = False
    tail_open: bool = False


def whole(doc: Doc) -> Bounds:
    """The bounds of a doc that is a whole page."""
    return Bounds(0, len(doc))


@dataclass
class PageText:
    """One page as extraction sees it: its lines (tables), its flat text (spaCy), its table
    cells, and for the prefilter where counts and cells are."""

    number: int
    lines: str
    flat: str
    cells: list[TableCell]
    spots: list[int] = field(default_factory=list)  # characters whose sentence must be read
    cuts: list[tuple[int, int]] = field(default_factory=list)  # count expressions with a space
    stops: list[int] = field(default_factory=list)  # probable sentence ends
    counts: list[CountAt] = field(default_factory=list)  # what merge_counts tags (find_spots)
    named: list[CountAt] = field(default_factory=list)

    def inside_count(self, position: int) -> bool:
        """`position`, right after a space, falls strictly inside a count expression ("1.5 |
        billion"). `cuts` holds only the count expressions that hold a space: one strictly
        around `position` holds the space before it, so the others could never answer."""
        index = bisect_left(self.cuts, (position, 0)) - 1  # the last one starting before
        return index >= 0 and self.cuts[index][1] > position


def find_spots(page: PageText, holders: CountHolders | None = None) -> None:
    """Fill in the page's count expressions and the characters the rules need read in
    context: every count `merge_counts` may tag that some rule may make a mention of
    (`holders`; all of them without), every name-size and MoE-shape word, the first and last
    character of every table cell. The counts and words merge_counts tags are kept
    (page.counts, page.named) for the windows' docs (`counts_in`)."""
    flat = page.flat
    spots: list[int] = []
    found = []
    for match in find_long_count_texts(flat):  # a short bare number: no count, no space
        if " " in match[0]:  # only these can hold a place right after a space (inside_count)
            page.cuts.append(match.span())
        at = count_at(match)
        if at is not None:
            page.counts.append(at)
            found.append((at, match.start("num") if match["approx"] else match.start()))
    spots += [spot for at, spot in found
              if holders is None or holders.needed(flat, at, page.inside_count)]
    for scan, parser, tag in NAMED_WORDS:
        for match in scan.finditer(flat):
            spots.append(match.start())
            named = named_at(match, parser, tag)
            if named is not None:
                page.named.append(named)
    for cell in page.cells:
        spots += [cell.start, max(cell.start, cell.end - 1)]
    page.spots = sorted(set(spots))
    if page.spots:
        page.stops = [match.start() for match in _STOP_SCAN.finditer(flat)]


def counts_in(page: PageText, start: int, end: int) -> tuple[list[CountAt], list[CountAt]]:
    """find_counts of page.flat[start:end], from the page's: the counts and words that lie
    inside the window, shifted to its offsets. They are what find_counts finds on the
    window's text except near its end, where a count the window cuts may be read shorter;
    those tokens are not the page's (window_bounds), and no read reaches them."""
    counts = []
    for s, e, value, tag in page.counts[bisect_left(page.counts, (start,)):]:  # by start
        if s >= end:
            break
        if e <= end:
            counts.append((s - start, e - start, value, tag))
    named = [(s - start, e - start, value, tag) for s, e, value, tag in page.named
             if start <= s and e <= end]  # in merge_counts' order: by kind, then start
    return counts, named


def cut_before(page: PageText, position: int) -> int:
    """The last place at or before `position` where a window may start (0: the page start)."""
    flat = page.flat
    start = flat.rfind(" ", 0, max(0, position)) + 1
    while start > 0:
        before = flat[start - 2] if start >= 2 else " "
        if (flat[start] != " " and (before == " " or before.isalnum())
                and not page.inside_count(start)):
            return start
        start = flat.rfind(" ", 0, start - 1) + 1
    return 0


def cut_after(page: PageText, position: int) -> int:
    """The first place at or after `position` where a window may end (len: the page end)."""
    flat = page.flat
    space = flat.find(" ", max(0, position - 1))
    while space != -1:
        end = space + 1
        if end < len(flat) and flat[end] != " " and not page.inside_count(end):
            return end
        space = flat.find(" ", end)
    return len(flat)


def first_windows(page: PageText) -> list[tuple[int, int]]:
    """A window per spot (its probable sentence and some context), overlaps merged."""
    windows = []
    for spot in page.spots:
        index = bisect_left(page.stops, spot)
        before = page.stops[index - 1] if index and page.stops[index - 1] > spot - REACH else -1
        after = page.stops[index] if index < len(page.stops) and (
            page.stops[index] < spot + REACH) else -1
        head = before - HEAD_CONTEXT if before >= 0 else spot - REACH
        tail = after + TAIL_CHARS + TAIL_CONTEXT if after >= 0 else spot + REACH
        windows.append((cut_before(page, head), cut_after(page, tail)))
    return merge(windows)


def widen(page: PageText, window: tuple[int, int], side: Side) -> tuple[int, int]:
    """`window` made larger on `side` (at least WIDEN characters, at most doubled)."""
    start, end = window
    step = max(WIDEN, end - start)
    if side == "head":
        return cut_before(page, start - step), end
    return start, cut_after(page, end + step)


def merge(windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping windows as one, in page order."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(windows):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def window_bounds(page: PageText, start: int, end: int, doc: Doc) -> Bounds:
    """Which tokens of the doc of page.flat[start:end] are the page's."""
    if start == 0 and end == len(page.flat):
        return whole(doc)
    tail_open = end < len(page.flat)
    hi = len(doc)
    if tail_open:
        space = page.flat.rfind(" ", start, max(start, end - TAIL_CHARS))
        exact_end = space + 1 if space >= 0 else start
        hi = bisect_left(token_starts(doc), exact_end - start)
    return Bounds(1 if start > 0 else 0, hi, start > 0, tail_open)


def token_starts(doc: Doc) -> list[int]:
    """Character offset of every token of the doc (computed once per doc)."""
    starts = doc.user_data.get("token_starts")
    if not isinstance(starts, list):
        starts = doc.to_array(IDX).tolist() if len(doc) else []
        doc.user_data["token_starts"] = starts
    return starts


def token_at(doc: Doc, char: int) -> int:
    """Index of the token holding character `char` of the doc's text."""
    return bisect_right(token_starts(doc), char) - 1
