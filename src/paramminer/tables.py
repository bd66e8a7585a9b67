"""Parameter-count cells in the tables of one page's text (pure text: no spaCy).

A page is read as pdftext gives it: one line per text line, cells separated by spaces. Two
shapes of table carry parameter counts:

- a *column* under a header label naming parameters ("#Params", "Params (M)", "Parameters
  (in millions)", "Size (B)"): the column is found by aligning the header's labels with the
  cells of the rows below it, checked against what the cells hold;
- a *sideways* row whose label names parameters ("# Params 7B 13B 70B", "Number of
  parameters 133 133 134" with the unit in the caption): each value belongs to a column,
  named on the table's column-label line above.

A table runs from its header until its caption, a blank line or returning prose; its caption
is found above or below it. The words and patterns used are data (rules/words-v1.csv and
rules/cues-v1.csv, lists and cues named table_* and unit_*); this module holds mechanisms.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache, partial
from itertools import accumulate, pairwise, repeat
from operator import add, itemgetter, methodcaller
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any, Literal, NamedTuple

from paramminer.countexpr import COUNT_TEXT_RE, count_of_match
from paramminer.keyscan import (
    FirstCharScan,
    FoldedText,
    ascii_fold,
    holds_any,
    required_string_sets,
    required_strings,
)
from paramminer.lexicon import Lexicon

Kind = Literal["total", "active", "non_embedding"]


@dataclass(frozen=True)
class TableCell:
    """One parameter count in a table, with where it is and what the table says about it."""

    start: int  # offsets of the number in the page text
    end: int
    value: int
    kind: Kind
    label: str  # the row's model name, or the column's name for a sideways row
    row: str  # the row, spaces normalised
    caption: str
    header: str  # the header line (the column-label line for a sideways row)
    unambiguous: bool  # the only count of its row under the only parameters column
    own_marker: bool  # the row (or column) is marked as the paper's own


@dataclass(frozen=True)
class _Vocab:
    """The lexicon entries tables use, compiled once per lexicon."""

    caption: re.Pattern[str]
    figure: re.Pattern[str]
    boundary: re.Pattern[str]
    params: re.Pattern[str]
    size: re.Pattern[str]
    size_is_params: re.Pattern[str]
    qualifier: re.Pattern[str]
    active: re.Pattern[str]
    non_embedding: re.Pattern[str]
    not_size: re.Pattern[str]
    other_counts: re.Pattern[str]
    compound: re.Pattern[str]
    in_brackets: re.Pattern[str]
    symbol: re.Pattern[str]
    own_row: re.Pattern[str]
    own_marker: re.Pattern[str]
    prose: frozenset[str]
    whole_prose: frozenset[str]  # the prose words a line's words are read as whole tokens
    abbreviations: frozenset[str]
    placeholders: frozenset[str]
    markers: str
    no_markers: dict[int, None]  # a str.translate table dropping the markers
    not_names: frozenset[str]
    not_param_nouns: frozenset[str]
    name_labels: frozenset[str]
    units: dict[str, int]
    plain: frozenset[str]  # first letters of tokens that can only be text (_plain_openers)
    short_numbers: bool  # whether a `_SHORT_NUMBER` token is a bare number (`_tokens`)
    names_in_words: bool  # `_in_words` of table_params, table_size, table_sizes_in_brackets
    # the strings every match of each of its patterns needs, by the pattern's id (`_needs`)
    needs: dict[int, _Needs] = field(default_factory=dict, compare=False, hash=False)
    # what `_token` finds of each word it classified (`_known_token`)
    known_tokens: dict[str, tuple[int, str, CellKind, int | None, float | None]] = field(
        default_factory=dict, compare=False, hash=False)


_VOCABS: dict[str, _Vocab] = {}
_UNIT_LISTS = {"unit_thousand": 10**3, "unit_million": 10**6, "unit_billion": 10**9,
               "unit_trillion": 10**12}


def _vocab(lexicon: Lexicon) -> _Vocab:
    cached = _VOCABS.get(lexicon.fingerprint)
    if cached is not None:
        return cached
    cue, words = lexicon.cue, lexicon.word_list
    placeholders, markers = words("table_placeholders"), words("table_row_markers")
    vocab = _Vocab(
        caption=cue("table_caption"),
        figure=cue("figure_caption"),
        boundary=cue("table_boundary"),
        params=cue("table_params"),
        size=cue("table_size"),
        size_is_params=cue("table_size_is_params"),
        qualifier=cue("table_param_qualifier"),
        active=cue("table_active"),
        non_embedding=cue("table_non_embedding"),
        not_size=cue("table_not_size"),
        other_counts=cue("table_other_counts"),
        compound=cue("table_compound_labels"),
        in_brackets=cue("table_sizes_in_brackets"),
        symbol=cue("table_param_symbol"),
        own_row=cue("table_own_row"),
        own_marker=cue("table_own_marker"),
        prose=words("prose_words"),
        whole_prose=_whole_token_words(words("prose_words")),
        abbreviations=words("table_abbreviations"),
        placeholders=placeholders,
        markers="".join(sorted(markers)),
        no_markers=dict.fromkeys(map(ord, "".join(markers))),
        not_names=words("not_model_names"),
        not_param_nouns=words("not_param_nouns"),
        name_labels=words("table_name_labels"),
        units={word: size for name, size in _UNIT_LISTS.items() for word in words(name)},
        plain=_plain_openers(placeholders, "".join(markers)),
        short_numbers=not any(map(_SHORT_NUMBER.fullmatch, placeholders))
        and not set("0123456789.") & set("".join(markers)),
        names_in_words=_in_words(cue("table_params"), cue("table_size"),
                                 cue("table_sizes_in_brackets")),
    )
    vocab.needs.update((id(regex), _Needs(required_strings(regex), required_string_sets(regex)))
                       for regex in vars(vocab).values() if isinstance(regex, re.Pattern))
    _VOCABS[lexicon.fingerprint] = vocab
    return vocab


class _Needs(NamedTuple):
    """What every match of a pattern needs: `required_strings`, `required_string_sets`."""

    strings: tuple[str, ...] | None
    sets: tuple[tuple[str, ...], ...] | None


def _needs(regex: re.Pattern[str], vocab: _Vocab) -> _Needs:
    """`_Needs` of one of the vocabulary's patterns, read once per vocabulary (a pattern is
    hashed whole, its compiled code too, on each `required_strings` call)."""
    return vocab.needs[id(regex)]


def _plain_openers(placeholders: frozenset[str], markers: str) -> frozenset[str]:
    """ASCII letters a token opening with is text for `_token`: no placeholder opens with
    it (in either case) and it is no marker, so the token, markers stripped, still opens
    with it, and neither a citation nor a number does."""
    if "" in placeholders:
        return frozenset()
    firsts = {word[0] for word in placeholders}
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return frozenset(c for c in letters if c.lower() not in firsts and c not in markers)


def _whole_token_words(prose: frozenset[str]) -> frozenset[str]:
    """The prose words a whitespace-separated word reading as one of them (lower-cased, ",;:()"
    stripped) is a whole token of `_TOKEN` of the same text: no piece of a token holding
    spaces, nor a word a number token ends inside, opens with what such a piece or word
    opens with (`_PIECE_OPENERS`, a digit) or is a number word ("7 billion")."""
    return frozenset(
        word for word in prose
        if word and word[0] not in _PIECE_OPENERS and not word[0].isdecimal()
        and word not in _NUMBER_WORDS
    )


# --- tokens and lines -------------------------------------------------------------------

CellKind = Literal["count", "num", "hold", "other", "text", "cite"]

_TOKEN = re.compile(
    r"(?=[~≈∼\d])(?:"  # what each number alternative opens with: the others are not tried
    r"[~≈∼]?\d[\d,]*(?:\.\d+)?\s?[×x]\s?10\s?\^?\s?\{?[−-]?\d{1,2}\}?(?![\w.])"  # 1.2 × 109
    r"|[~≈∼]?\d[\d,]*(?:\.\d+)?\s(?:thousand|millions?|billions?|trillions?)(?![A-Za-z])"
    r"|[~≈∼]?\d[\d,.]*\s?±\s?[\d.]+\S*"  # 78.3 ±1.4
    r"|\d+(?:\.\d+)?(?:\s?[×x]\s?\d+(?:\.\d+)?)+(?![\w.])"  # 224 × 224
    r")|\S+"
)
_NUMERIC = re.compile(r"^[~≈∼<>±]?[-+−]?\.?\d")
_BARE = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$|^\.\d+$")
_BRACKETS = re.compile(r"[()\[\]{}]")
_LETTER = re.compile(r"[A-Za-z]")
_NUMBER_OPENERS = frozenset("[~≈∼<>±-+−.")  # what _CITATION, _NUMERIC start with, or a digit
# what a word inside a _TOKEN match opens with (or a digit, or a number word), and openers
_PIECE_OPENERS = _NUMBER_OPENERS | frozenset("×x^{")
_NUMBER_WORDS = frozenset(("thousand", "million", "millions", "billion", "billions", "trillion",
                           "trillions"))
# from the first digit of a run of the characters _NUMERIC reads to the run's end: one match
# per run holding a digit, and each number token opens in a run of its own
_NUMBER_RUN = re.compile(r"\d[~≈∼<>±+\-−.\d]*")
_CITATION = re.compile(r"^\[\d[\d,;–\-]*\]?[,;]?$|^\d+\][,;.]?$")  # "[38]", "[42," "43]"
_CELL_KINDS: tuple[CellKind, ...] = ("count", "num", "other")  # the kinds of a table's value cells
_SENTENCE_END = re.compile(r"[a-z]{4,}\.")
# what a line holds where a token _SENTENCE_END matches has a token after it: that token is
# a whole word (no number token opens with a letter), so a space follows it
_SENTENCE_BREAK = re.compile(r"[a-z]{4}\.\s")
_SHORT_ABBREVIATION = re.compile(r"[A-Z][a-z]{0,4}\.")
_GLUED = re.compile(r"[A-Za-z]-$")
# a number `_token` reads as a bare number ("num"): no placeholder nor marker in it, no count
# (a decimal, or at most 5 digits), no citation; `_tokens` reads it without `_token`
_SHORT_NUMBER = re.compile(r"[0-9]{1,5}(?:\.[0-9]+)?")
_STRIP_WORD = methodcaller("strip", ",;:()")  # a word as a function word is read


class _Tok(NamedTuple):
    """One token of a line (a named tuple: made for every token read, so made cheaply)."""

    start: int  # page offsets of the token
    end: int
    text: str
    kind: CellKind
    value: int | None = None  # a self-describing count ("7B", "1.2 × 109", "22,855,952")
    number: float | None = None  # a bare number ("22.1"), a count only under a unit


_new_tok = partial(tuple.__new__, _Tok)  # _Tok from all six fields, skipping its __new__
_TEXT, _KIND = itemgetter(2), itemgetter(3)  # of a _Tok


LineRole = Literal["blank", "prose", "caption", "figure", "boundary", "data", "axis", "text"]


class _Line:
    """One line read (a plain class with slots: made for every line read, so cheaply)."""

    __slots__ = ("index", "role", "start", "text", "tokens")

    def __init__(self, index: int, start: int, text: str, tokens: tuple[_Tok, ...],
                 role: LineRole) -> None:
        self.index, self.start, self.text, self.tokens, self.role = (
            index, start, text, tokens, role)

    @property
    def label_size(self) -> int:
        """How many leading tokens are the row's label (text before the first cell)."""
        for index, token in enumerate(self.tokens):
            if token.kind not in ("text", "cite"):
                return index
        return len(self.tokens)

    @property
    def label(self) -> str:
        return " ".join(t.text for t in self.tokens[: self.label_size])

    @property
    def cells(self) -> tuple[_Tok, ...]:
        """The tokens after the label, citation marks left out ("46.0 [38]")."""
        return tuple(t for t in self.tokens[self.label_size :] if t.kind != "cite")

    @property
    def clean(self) -> str:
        return " ".join(self.text.split())


def _token(start: int, text: str, vocab: _Vocab) -> _Tok:
    """Classify one whitespace token of a row."""
    end = start + len(text)
    core = text.rstrip(vocab.markers)
    if core.lower() in vocab.placeholders or text.lower() in vocab.placeholders:
        return _Tok(start, end, text, "hold")
    first = text[0]
    if first not in _NUMBER_OPENERS and not first.isdecimal():
        return _Tok(start, end, text, "text")  # neither a citation nor numeric (cheap test)
    if _CITATION.match(text):
        return _Tok(start, end, text, "cite")
    if not core or not _NUMERIC.match(core) or _BRACKETS.search(core):
        return _Tok(start, end, text, "text")
    match = COUNT_TEXT_RE.fullmatch(core)
    counted = count_of_match(match) if match else None
    if counted is not None:
        return _Tok(start, start + len(core), core, "count", value=counted[0])
    if _BARE.match(core):
        return _Tok(start, start + len(core), core, "num", number=float(core.replace(",", "")))
    return _Tok(start, end, text, "other")


_KNOWN_TOKENS = 50_000  # the most words `_known_token` keeps


def _known_token(start: int, text: str, vocab: _Vocab) -> _Tok:
    """`_token(start, text, vocab)`: all but its offsets depend on `text` alone, so that
    much is found once per word (forgotten all at once past `_KNOWN_TOKENS` words)."""
    known = vocab.known_tokens.get(text)
    if known is None:
        if len(vocab.known_tokens) >= _KNOWN_TOKENS:
            vocab.known_tokens.clear()
        known = vocab.known_tokens[text] = _token(0, text, vocab)[1:]
    end, word, kind, value, number = known
    return _new_tok((start, start + end, word, kind, value, number))


def _no_match(text: str) -> None:
    return None


def _tokens(start: int, text: str, glued: bool, vocab: _Vocab) -> tuple[_Tok, ...]:
    tokens = []
    plain = vocab.plain
    short = _SHORT_NUMBER.fullmatch if vocab.short_numbers else _no_match
    for match in _TOKEN.finditer(text):
        word = match.group(0)
        at = start + match.start()
        if word[0] in plain:  # a word: text, as `_token` finds, without calling it
            tokens.append(_new_tok((at, at + len(word), word, "text", None, None)))
        elif short(word):  # "22.1", "85": a bare number, as `_token` finds
            tokens.append(_new_tok((at, at + len(word), word, "num", None, float(word))))
        else:
            tokens.append(_known_token(at, word, vocab))
    if glued and tokens and tokens[0].kind == "count":
        first = tokens[0]  # "JFT-" + "300M": the tail of a name split at a line break
        tokens[0] = _Tok(first.start, first.end, first.text, "text")
    return tuple(tokens)


def _is_prose(texts: list[str], numeric: int, vocab: _Vocab, line: str | None = None) -> bool:
    """Running text: function words outnumber numbers, or a sentence ends the line (the
    texts of a line's tokens, `numeric` of which are cells; `line`: its text, if known)."""
    prose = vocab.prose
    function = sum(map(prose.__contains__, map(_STRIP_WORD, map(str.lower, texts))))
    if function >= 2 and numeric <= function:
        return True
    breaks = len(texts) >= 6 and (line is None or bool(_SENTENCE_BREAK.search(line))) and any(
        a[-1:] == "." and b[:1].isupper() and _SENTENCE_END.fullmatch(a)
        and a not in vocab.abbreviations
        for a, b in pairwise(texts)
    )
    if breaks:
        return True  # "... vocoder. Step-Audio denotes ...": a sentence ends mid-line
    last = texts[-1] if texts else ""
    return (
        len(texts) >= 6
        and function >= 1
        and numeric == 0
        and last.endswith(".")
        and last.lower() not in vocab.abbreviations
        and not _SHORT_ABBREVIATION.fullmatch(last)  # "Avg." ends a header, not a sentence
    )


def _is_axis(tokens: tuple[_Tok, ...]) -> bool:
    """Tick labels of a chart's axis: three or more bare numbers in order, nothing else."""
    numbers = [t.number for t in tokens if t.number is not None]
    if len(numbers) < 3 or len(numbers) != len(tokens):
        return False
    pairs = list(pairwise(numbers))
    return all(a < b for a, b in pairs) or all(a > b for a, b in pairs)


def _marked_role(text: str, vocab: _Vocab) -> LineRole | None:
    """The role a line of words has by its text alone: a table boundary, a caption, a
    figure caption (in this order), else None."""
    if vocab.boundary.search(text):
        return "boundary"
    if vocab.caption.match(text):
        return "caption"
    if vocab.figure.match(text):
        return "figure"
    return None


def _role(text: str, tokens: tuple[_Tok, ...], vocab: _Vocab) -> LineRole:
    if not tokens:
        return "blank"
    marked = _marked_role(text, vocab)
    if marked is not None:
        return marked
    kinds = list(map(_KIND, tokens))
    cells = sum(map(kinds.count, _CELL_KINDS))
    if _is_prose(list(map(_TEXT, tokens)), cells, vocab, text):
        return "prose"
    if len(tokens) >= 3 and kinds.count("num") == len(tokens) and _is_axis(tokens):
        return "axis"  # (only "num" tokens have a `number`)
    holds = kinds.count("hold")
    has_label = tokens[0].kind == "text"
    if (cells and has_label) or cells >= 2 or (cells and holds) or holds >= 2:
        return "data"
    return "text"


class _Page:
    """The lines of a page, each read (tokens, role) only when first looked at."""

    def __init__(self, page_text: str, vocab: _Vocab) -> None:
        self.texts = page_text.split("\n")
        lengths = map(add, map(len, self.texts[:-1]), repeat(1))  # each with its newline
        self.starts = list(accumulate(lengths, initial=0))
        self.vocab = vocab
        self._read: dict[int, _Line] = {}
        self._labels: dict[int, tuple[_Label, ...]] = {}
        self._sentences: dict[int, LineRole] = {}  # lines `never_a_row` holds: their roles
        # False when no line holds a string every match of table_param_symbol holds
        self.symbol_hint = True
        self._may_define_symbols: bool | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, index: int) -> _Line:
        line = self._read.get(index)
        if line is None:
            previous = self.texts[index - 1].rstrip() if index else ""
            glued = previous.endswith("-") and bool(_GLUED.search(previous))
            text = self.texts[index]
            tokens = _tokens(self.starts[index], text, glued, self.vocab)
            role = _role(text, tokens, self.vocab)
            line = self._read[index] = _Line(index, self.starts[index], text, tokens, role)
        return line

    def role(self, index: int) -> LineRole:
        """The role of line `index`. A line `never_a_row` holds is a sentence: its role is
        read off its text (`_marked_role`, else prose, as `_role` finds), its tokens unread."""
        line = self._read.get(index)
        if line is not None:
            return line.role
        role = self._sentences.get(index)
        if role is not None:
            return role
        if not _never_a_row_text(self.texts[index], self.vocab):  # (not read, no sentence)
            return self[index].role
        role = self._sentences[index] = _marked_role(self.texts[index], self.vocab) or "prose"
        return role

    def clean(self, index: int) -> str:
        """The text of line `index`, spaces normalised (`_Line.clean`), its tokens unread."""
        return " ".join(self.texts[index].split())

    @property
    def may_define_symbols(self) -> bool:
        """Whether a caption may define a header symbol (table_param_symbol). A caption is
        the words of at most `_CAPTION_LINES` lines from a line the caption pattern matches,
        joined by single spaces (and cut): False only when the symbol hint finds no line, or
        the pattern (which looks at no character around its match) matches in no such run
        of lines joined alike."""
        if self._may_define_symbols is None:
            vocab, texts = self.vocab, self.texts
            runs = (" ".join(" ".join(texts[i : i + _CAPTION_LINES]).split())
                    for i, text in enumerate(texts) if vocab.caption.match(text))
            self._may_define_symbols = self.symbol_hint and (
                not _context_free(vocab.symbol) or any(
                    FoldedText(run).may_hold(vocab.symbol) and vocab.symbol.search(run)
                    for run in runs))
        return self._may_define_symbols

    def never_a_row(self, index: int) -> bool:
        """True only when line `index` is read as neither data nor text: at least two
        function words and no more numbers (`_is_prose`, if no earlier role holds), counted
        without reading its tokens, the function words from below (words read as whole
        tokens, `_whole_token_words`) and the numbers from above (each opens in a
        `_NUMBER_RUN` of its own)."""
        line = self._read.get(index)
        if line is not None:
            return line.role not in ("data", "text")
        return index in self._sentences or _never_a_row_text(self.texts[index], self.vocab)

    def labels(self, index: int) -> tuple[_Label, ...]:
        """The column labels of line `index` (`_labels`), read once."""
        found = self._labels.get(index)
        if found is None:
            found = self._labels[index] = tuple(_labels(self.texts[index], self.vocab))
        return found



def _never_a_row_text(text: str, vocab: _Vocab) -> bool:
    """`_Page.never_a_row` of a line not read yet, from its text `text` alone."""
    # the line lower-cased whole splits into its words lower-cased (no character
    # lower-cases to or from a space; a final sigma is one in either)
    words = text.lower().split()
    function = sum(map(vocab.whole_prose.__contains__, map(_STRIP_WORD, words)))
    return function >= 2 and len(_NUMBER_RUN.findall(text)) <= function


# --- header labels and units -------------------------------------------------------------

LabelKind = Literal["P", "PA", "PN", "PB", "PS", "C", "O"]  # params (total, active,
# non-embedding, in brackets after a name, a "Size"), another count column, other


class _Label(NamedTuple):
    text: str
    kind: LabelKind
    unit: int | None


_UNIT = re.compile(
    r"[(\[]\s*(?:in\s+)?#?\s*(?P<a>[^()\[\]]{1,14}?)\s*[)\]]"
    r"|\bin\s+(?P<b>[A-Za-z]+)\b|(?P<c>[×x]\s?10\s?\^?\s?\d{1,2})(?!\d)"
    r"|\b(?P<d>[A-Za-z]{3,}\.?|[A-Z][a-z])\s+(?:of\s+)?(?=#?\s*[Pp]aram)",  # "Mio. Param"
)
_UNIT_NEEDS = re.compile(r"[(\[×x\s]")  # one of which every _UNIT match holds
_UNIT_MARK = re.compile(r"^[×x]\s?|\s")


def _unit(text: str, vocab: _Vocab) -> int | None:
    """The multiplier a label or caption fragment states: "(M)", "(in millions)", "×10^6"."""
    if not _UNIT_NEEDS.search(text):
        return None  # a word such as "Top-1": no bracket, "in", "×10" or "Mio. Param"
    for match in _UNIT.finditer(text):
        word = (match["a"] or match["b"] or match["c"] or match["d"] or "").lower()
        word = _UNIT_MARK.sub("", word)
        if word in vocab.units:
            return vocab.units[word]
    return None


def _spans(text: str, vocab: _Vocab) -> list[tuple[int, int, LabelKind]]:
    """Spans of the header that are one label each: compound labels, parameters labels (with
    their qualifiers and unit) and other count labels."""
    folded = ascii_fold(text)  # each pattern searched only where it may match (`_may_match`)
    compound, params, size, other_counts = (
        regex if _may_match(folded, regex, vocab) else _NEVER
        for regex in (vocab.compound, vocab.params, vocab.size, vocab.other_counts))
    spans: list[tuple[int, int, LabelKind]] = [
        (*_whole_words(text, m.start(), m.end()), "O") for m in compound.finditer(text)
    ]

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e, _ in spans)

    matches = [*params.finditer(text), *size.finditer(text)]
    for match in sorted(matches, key=lambda m: m.start()):
        start, end = match.start(), match.end()
        if not free(start, end):
            continue
        while text[start] != "#":  # "#" opens a label: "# layers # params" is two
            qualifier = vocab.qualifier.search(text[:start])
            if qualifier is None or qualifier.start() == start:
                break
            start = qualifier.start()
        previous = re.search(r"(\S+)\s+$", text[:start])
        if previous and vocab.not_size.fullmatch(previous[1]):
            start = previous.start(1)  # "Extra Params": one label, not a model's size
        unit = re.match(r"\s*(?:[(\[][^()\[\]]{0,20}[)\]]|[×x]\s?10\s?\^?\s?\d{1,2}\b)", text[end:])
        end += unit.end() if unit else 0
        start, end = _whole_words(text, start, end)
        spans.append((start, end, _param_kind(text[start:end], vocab)))
    for match in other_counts.finditer(text):
        start, end = _whole_words(text, match.start(), match.end())
        if free(start, end):
            spans.append((start, end, "C"))
    return sorted(spans)


_NEVER = re.compile("(?!)")  # a pattern without a match


def _whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    """A span widened to whole words: "Steps" in "Steps/second", "Param" in "Param(M)"."""
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return start, end


def _param_kind(label: str, vocab: _Vocab) -> LabelKind:
    if vocab.non_embedding.search(label):
        return "PN"
    if vocab.not_size.search(label):
        return "O"
    if not vocab.params.search(label):
        return "PS"  # "Size": parameters only if the table says so
    return "PA" if vocab.active.search(label) else "P"


def _sized(label: _Label, context: str, vocab: _Vocab) -> LabelKind:
    """A "Size" label counts parameters when it has a count unit ("Size (B)"), says "Model
    size", or the table says its sizes are the models' (caption, a two-line header)."""
    if label.kind != "PS":
        return label.kind
    said = label.unit or vocab.size_is_params.search(f"{label.text} | {context}")
    return "P" if said else "O"


def _names_params(text: str, vocab: _Vocab) -> bool:
    return bool(vocab.params.search(text) or vocab.size.search(text))


def _labels(text: str, vocab: _Vocab) -> list[_Label]:
    """The column labels of a header line, in order."""
    spans = _spans(text, vocab)
    pieces: list[tuple[str, LabelKind]] = []
    position = 0
    for start, end, kind in [*spans, (len(text), len(text), "O")]:
        for word in text[position:start].split():
            pieces.append((word, "O"))
        if end > start:
            pieces.append((text[start:end].strip(), kind))
        position = max(position, end)
    labels: list[_Label] = []
    depth = 0
    for word, kind in pieces:
        joins = labels and (depth > 0 or word.startswith(("(", "[")) or labels[-1].text == "#")
        if joins:
            last = labels.pop()
            merged = f"{last.text} {word}"
            inner = kind if kind != "O" else last.kind
            if last.kind == "O" and kind.startswith("P") and word.startswith(("(", "[")):
                inner = "PB"  # "Model (#Params)": the size is in brackets after the name
            labels.append(_Label(merged, inner, _unit(merged, vocab)))
        else:
            labels.append(_Label(word, kind, _unit(word, vocab)))
        opened = word.count("(") + word.count("[") - word.count(")") - word.count("]")
        depth = max(0, depth + opened)
    return labels


def _caption_unit(caption: str, vocab: _Vocab) -> int | None:
    """A unit the caption gives parameters: "#Params in millions", "sizes (in billions)"."""
    for match in re.finditer(r"[(\[][^()\[\]]{1,16}[)\]]|\bin\s+[A-Za-z]+", caption):
        unit = _unit(match.group(0), vocab)
        if unit is None:
            continue
        before = caption[max(0, match.start() - 50) : match.start()]
        before = re.split(r"[.;]\s", before)[-1]
        if vocab.params.search(before) or (
            match.group(0).lstrip("([").lower().startswith("in")
            and not vocab.other_counts.search(before)
        ):
            return unit
    return None


# --- tables ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    """What a table's rows share: caption, header line, unit, marker symbols meaning ours."""

    caption: str
    header: str
    own_symbols: str


def _top(lines: _Page, index: int) -> int:
    """First line of the table holding line `index` (caption, blank, prose end it)."""
    top = index
    while top > 0 and not _ends_table(lines, top - 1):
        top -= 1
    return top


def _bottom(lines: _Page, index: int, cap: int) -> int:
    """Last line of the table holding line `index`, or `cap` when that comes first (the
    lines past it are not read)."""
    bottom = index
    while bottom + 1 < len(lines) and bottom < cap and not _ends_table(lines, bottom + 1):
        bottom += 1
    return bottom


def _ends_table(lines: _Page, index: int) -> bool:
    """A blank, prose, caption, figure or boundary line."""
    return lines.role(index) in ("blank", "prose", "caption", "figure", "boundary")


def _caption(lines: _Page, top: int, bottom: Callable[[int], int]) -> str:
    """The caption of the table from line `top`: just above it, else just below it.
    `bottom(cap)`: the table's last line, or any line from `cap` on when it is past `cap`
    (only the least of the two and `cap` is used)."""
    index = top - 1
    while index >= 0 and top - index <= 8 and lines.role(index) in ("prose", "text", "blank"):
        index -= 1
    if index >= 0 and top - index <= 8 and lines.role(index) == "caption":
        limit = bottom(index + _CAPTION_LINES)
        return _paragraph(lines, index, _caption_end(lines, index, limit))
    index = bottom(len(lines)) + 1
    while index < len(lines) and lines.role(index) == "blank":
        index += 1
    if index < len(lines) and lines.role(index) == "caption":
        return _paragraph(lines, index, _caption_end(lines, index, len(lines)))
    return ""


_CAPTION_LINES = 8  # the most lines a caption takes


def _caption_end(lines: _Page, start: int, limit: int) -> int:
    """Where the caption starting at `start` ends: prose lines continue it, and so does a
    short line finishing its sentence ("all trained from scratch.")."""
    end = start + 1
    while end < min(limit, start + _CAPTION_LINES):
        role = lines.role(end)
        ended = lines.texts[end - 1].rstrip().endswith(".")
        finishes = not ended and lines.texts[end].rstrip().endswith(".")
        if role != "prose" and not (role == "text" and finishes):
            break
        end += 1
    return end


def _paragraph(lines: _Page, start: int, end: int) -> str:
    return " ".join(lines.clean(i) for i in range(start, end)).strip()[:400]


def _own_symbols(caption: str, vocab: _Vocab) -> str:
    """Marker symbols the caption explains as the paper's own ("† denotes our models")."""
    return "".join(
        symbol
        for symbol in vocab.markers
        if symbol in caption and any(
            vocab.own_marker.match(caption[m.end() : m.end() + 80])
            for m in re.finditer(re.escape(symbol), caption)
        )
    )


def _is_own(text: str, context: _Context, vocab: _Vocab) -> bool:
    return bool(vocab.own_row.search(text)) or any(s in text for s in context.own_symbols)


_BRACKETED = re.compile(r"\s*[(\[][^()\[\]]*[)\]]")


def _name(text: str, vocab: _Vocab) -> str:
    """A row label as a model name: brackets, citations and marker symbols dropped."""
    text = _BRACKETED.sub("", text)
    text = text.translate(vocab.no_markers)
    return " ".join(text.replace("(", " ").replace(")", " ").split()).strip(" ,;:")


def _count_value(token: _Tok, unit: int | None, vocab: _Vocab, after: str = "") -> int | None:
    """The parameter count a cell gives (None for accuracies, placeholders, '1.4T tokens')."""
    if after.lower().strip(".,;:") in vocab.not_param_nouns:
        return None
    if token.kind == "count":
        return token.value
    if token.kind == "num" and unit is not None and token.number is not None:
        return round(token.number * unit)
    return None


# --- sideways rows -----------------------------------------------------------------------


def _sideways_cells(lines: _Page, index: int, vocab: _Vocab) -> list[TableCell]:
    """Cells of a row whose label names parameters: "# Params 7B 13B 70B"."""
    line = lines[index]
    label = line.label
    cells = line.cells
    if not cells or any(t.kind in ("text", "other") for t in cells):
        return []
    if vocab.compound.search(label) or vocab.other_counts.search(label):
        return []  # "Vocab size 256000", "Params / FLOPs"
    top = _top(lines, index)
    caption = _caption(lines, top, partial(_bottom, lines, index))
    kind = _sized(_Label(label, _param_kind(label, vocab), _unit(label, vocab)), caption, vocab)
    if kind not in ("P", "PA", "PN"):
        return []
    unit = _unit(label, vocab) or _caption_unit(caption, vocab)
    values = [_count_value(t, unit, vocab) for t in cells]
    if not any(values):
        return []
    names_index, names = _column_names(lines, top, index, len(cells), vocab)
    header = lines[names_index].clean if names_index is not None else ""
    context = _Context(caption, header, _own_symbols(caption, vocab))
    out = []
    for token, value, name in zip(cells, values, names, strict=True):
        if value:
            out.append(
                TableCell(
                    token.start, token.end, value, _KINDS[kind], _name(name, vocab), line.clean,
                    caption, header, len(cells) == 1, _is_own(name, context, vocab),
                )
            )
    return out


_KINDS: dict[str, Kind] = {"P": "total", "PA": "active", "PN": "non_embedding", "PB": "total"}


def _name_words(line: _Line, vocab: _Vocab) -> list[str]:
    """The words of a column-label line; a bracket joins the word before it ("X (ours)"),
    and so does a hyphenated tail ("-Instruct")."""
    words: list[str] = []
    for token in line.tokens:
        if words and token.text.startswith(("(", "[")):
            words[-1] += " " + token.text
        elif words and token.text.startswith("-") and len(token.text) > 1:
            words[-1] += token.text  # "Foo2.5-3B" over "-Instruct" in one header cell
        elif not token.text.strip(vocab.markers):
            continue  # "• ResNet-50 ◦ Swin-T": the symbols mark rows, they are not names
        else:
            words.append(token.text)
    return words


def _name_score(word: str, vocab: _Vocab) -> int:
    """How much a word looks like a model's name: 2 with a digit, hyphen or inner capital."""
    core = word.split(" ")[0].strip(vocab.markers + ",;:")
    if not _LETTER.search(core) or core.lower() in vocab.not_names | vocab.prose:
        return 0
    if core.startswith("-"):  # the tail of a name broken over the header's lines
        return 0
    if re.search(r"\d|-|[a-z][A-Z]|^[A-Z]{2,}", core):
        return 2
    return 1 if core[0].isupper() else 0


def _column_names(
    lines: _Page, top: int, index: int, count: int, vocab: _Vocab
) -> tuple[int | None, list[str]]:
    """The column names of a sideways row: the line above in its table whose last `count`
    words look most like distinct model names (not a random line above)."""
    best: tuple[int, int] | None = None
    for candidate in range(index - 1, top - 1, -1):
        if lines.role(candidate) != "text":
            continue  # data rows (other sideways rows) carry values, not names
        line = lines[candidate]
        words = _name_words(line, vocab)
        if len(words) < count:
            continue
        chosen = words[-count:]
        score = sum(_name_score(w, vocab) for w in chosen)
        score += count if count > 1 and len(set(chosen)) == count else 0
        if count > 1 and len(set(chosen)) == 1:
            continue  # "RoPE RoPE RoPE": a property of every column, not their names
        if score >= 2 * count and (best is None or score > best[0]):
            best = (score, candidate)
    if best is None:
        return None, [""] * count
    return best[1], _name_words(lines[best[1]], vocab)[-count:]


# --- columns -----------------------------------------------------------------------------


class _Row(NamedTuple):
    line: _Line
    label: str
    cells: tuple[_Tok, ...]
    wrapped: _Line | None = None  # the line the row's last cells wrapped onto

    @property
    def text(self) -> str:
        return f"{self.line.clean} {self.wrapped.clean}" if self.wrapped else self.line.clean


def _rows(lines: _Page, header: int, vocab: _Vocab) -> list[_Row]:
    """The data rows under a header, until the table ends."""
    rows = []
    quiet = 0
    for index in range(header + 1, len(lines)):
        if _ends_table(lines, index):
            break
        line = lines[index]
        if line.role == "axis":
            break
        if line.role == "data":
            rows.append(_Row(line, line.label, line.cells))
            quiet = 0
            continue
        if rows and _names_params(line.text, vocab) and len(lines.labels(index)) >= 2:
            break  # the header of the next table
        quiet += 1
        if quiet > 6:
            break
    return rows


def _unwrapped(rows: list[_Row], labels: list[_Label], vocab: _Vocab) -> list[_Row]:
    """Rows wrapped over two lines, read as one: when the rows alternate between a named row
    of one width and a shorter line after it, and the header names more columns than the
    named rows fill (and at least as many as both lines), each short line holds the last
    cells of the row above it ("Foo-S 256 × 256 0.4 33 400" over "Pre-LN 153.6")."""
    if len(rows) < 4 or len(rows) % 2:
        return rows
    named, tails = rows[0::2], rows[1::2]
    columns = len(labels) - (labels[0].text.lower() in vocab.name_labels)
    ends = [tuple(t for t in row.line.tokens if t.kind != "cite") for row in tails]
    widths = {len(row.cells) for row in named}
    width = min(widths)
    if (len(widths) > 1 or not all(row.label for row in named)
            or len({len(end) for end in ends}) > 1 or not 0 < len(ends[0]) < width
            or not width < columns or width + len(ends[0]) > columns):
        return rows
    return [
        _Row(row.line, row.label, row.cells + end, tail.line)
        for row, tail, end in zip(named, tails, ends, strict=True)
    ]


def _spanned(rows: list[_Row], lines: _Page, header: int) -> list[_Row]:
    """Rows under group cells that span them and stand on lines of their own ("18" and
    "0.5×" above "No 11 61.2", "Yes 12 62.9"), read as the widest rows' last cells: when
    the rows are either full or short by the same number of leading cells, that many
    one-cell lines stand between the header and the first (short) row, holding the kinds
    of cell the full rows open with (numbers, "2×"; never words, which may be a section's
    name), and every short row has the kinds of the full rows' last cells. The missing
    cells are absent: never a count, nor a name."""
    if any(row.wrapped for row in rows):
        return rows
    tokens = [tuple(t for t in row.line.tokens if t.kind != "cite") for row in rows]
    full = max(len(cells) for cells in tokens)
    widest = [cells for cells in tokens if len(cells) == full]
    gaps = {full - len(cells) for cells in tokens} - {0}
    above = [lines[i] for i in range(header + 1, rows[0].line.index)]
    if len(gaps) != 1 or len(tokens[0]) == full or len(rows) - len(widest) < 2:
        return rows
    gap = gaps.pop()
    kinds = [tuple(c.kind for c in cells[:gap]) for cells in widest]
    group = tuple(line.tokens[0].kind if len(line.tokens) == 1 else "text" for line in above)
    if len(above) != gap or "text" in group or any(k != group for k in kinds):
        return rows
    shapes = {_shape(cells[len(cells) - full + gap :]) for cells in tokens}
    if len(shapes) > 1:
        return rows
    return [
        _Row(row.line, "", tuple(_absent(row.line) for _ in range(full - len(cells))) + cells)
        for row, cells in zip(rows, tokens, strict=True)
    ]


def _absent(line: _Line) -> _Tok:
    """A cell a row lacks (held by a group cell spanning it): seen, never a count."""
    return _Tok(line.start, line.start, "", "other")


def _modal(values: list[int]) -> int:
    return Counter(values).most_common(1)[0][0] if values else 0


def _aligned(rows: list[_Row], width: int, column: int, unit: int | None) -> float:
    """Share of rows whose cell in `column` (of `width` right-aligned cells) is a count."""
    seen = hits = 0
    for row in rows:
        if len(row.cells) < width:
            continue
        cell = row.cells[len(row.cells) - width + column]
        if cell.kind == "hold":
            continue
        seen += 1
        hits += cell.kind == "count" or (unit is not None and cell.kind == "num")
    return hits / seen if seen else 0.0


def _choose_column(
    rows: list[_Row], labels: list[_Label], position: int, unit: int | None, vocab: _Vocab,
    one_per_line: bool = False,
) -> tuple[int | None, bool]:
    """Which cell (of the usual row width) is under label `position`, and whether it is the
    only one the layout allows.

    A header label covers one or more words, never less, so the cell lies between two
    bounds: aligned from the right (every label right of it is one column) and from the left
    (the row names take as many labels as they usually have words, or none when the header
    does not open with a names label such as "Model"). Of the cells in that range,
    the one holding counts in most rows is chosen; a tie is no choice. When each label has
    a line of its own, the labels are the columns: the cell is counted from the left.
    """
    width = _modal([len(r.cells) for r in rows])
    name_words = _modal([len(_name(r.label, vocab).split()) for r in rows])
    if labels[0].text.lower() not in vocab.name_labels:
        name_words = 0  # the header may not label the names' column at all
    if one_per_line:  # one cell per label, after the names label over one-word names
        column = position - 1 if name_words == 1 else None
        return _counted_from_left(rows, column, width, unit), False
    low = max(0, position - (len(labels) - width))
    high = min(width - 1, max(low, position - name_words))
    scored = {column: _aligned(rows, width, column, unit) for column in range(low, high + 1)}
    good = [column for column, score in scored.items() if score >= 0.5]
    if len(good) == 1:
        return good[0], low == high
    if high in good and name_words == 1 and _left_exact(rows, labels, position, width, vocab):
        return high, True
    return None, False


def _counted_from_left(
    rows: list[_Row], column: int | None, width: int, unit: int | None
) -> int | None:
    """`column` counted from the left, when the cells before it are single tokens (never
    words, which may be several cells) and it holds counts in most rows."""
    if column is None or not 0 <= column < width:
        return None
    full = [row for row in rows if len(row.cells) == width]
    if any(cell.kind == "text" for row in full for cell in row.cells[:column]):
        return None
    return column if _aligned(rows, width, column, unit) >= 0.5 else None


def _left_exact(
    rows: list[_Row], labels: list[_Label], position: int, width: int, vocab: _Vocab
) -> bool:
    """Whether the labels left of `position` are one column each, so the cell under it is
    found by counting from the left: the header opens with a names label, every label up to
    `position` ends where a column ends (a bracket, "Flops (G)"; a label of several words,
    "Image resolution"; a parameters label), and the cells before it are single tokens
    (numbers, "256 × 256", placeholders), never words that may be several cells."""
    if labels[0].text.lower() not in vocab.name_labels or position < 2:
        return False
    if not all(_closed(label, vocab) for label in labels[1:position]):
        return False
    column = position - 1
    return all(
        cell.kind != "text" for row in rows if len(row.cells) == width
        for cell in row.cells[:column]
    )


def _closed(label: _Label, vocab: _Vocab) -> bool:
    """A label whose last word ends a column: a bracket ("Steps (K)", "FID (no guidance)"),
    a label of several words known as one ("Batch size"), a parameters label."""
    text = label.text
    if text.endswith((")", "]")) or label.kind in ("P", "PA", "PN"):
        return True
    return " " in text and bool(vocab.compound.search(text))


@dataclass(frozen=True)
class _Plan:
    """How the cells under one parameters label are read."""

    kind: Kind
    position: int  # the label's index in the header
    counts: tuple[int, ...]  # indexes of the header's count labels (parameters and others)
    width: int  # the usual number of cells in a row
    column: int | None  # the cell under the label, in rows of `width` cells
    agreed: bool  # both alignments found that cell
    unit: int | None
    single: bool  # the header's only count label
    shape: tuple[bool, ...]  # which cells of a usual row are text


def _no_params_label(
    labels: tuple[_Label, ...], may_define_symbols: Callable[[], bool]
) -> bool:
    """Whether `_stacked` finds no parameters label, or fewer than two labels, among a
    header's `labels`: one label is split in two only when it is a "Size", and an other
    label becomes a parameters one only when the caption defines it as a symbol (asked
    last: `may_define_symbols` may read the page)."""
    if len(labels) < 2 and not (labels and labels[0].kind == "PS"):
        return True
    return all(label.kind in ("O", "C") for label in labels) and not may_define_symbols()


def _stacked(
    lines: _Page, index: int, labels: list[_Label], caption: str, named: bool, vocab: _Vocab
) -> list[_Label]:
    """The header's labels, a "Size" among them read with what the table says about it: the
    caption, the rest of the header, the word stacked above it when the header takes two
    lines ("Model" over "Size"). A header opening with "Model Size" over named rows is a name
    column and a size column. A symbol the caption defines as the parameter count ("#P
    denotes the number of parameters") is a parameters label."""
    header = lines.texts[index]  # `labels` are its _labels
    above = lines.texts[index - 1].split() if index and lines.role(index - 1) == "text" else []
    symbols = {" ".join(m["symbol"].split()) for m in vocab.symbol.finditer(caption)
               } if _may_match(ascii_fold(caption), vocab.symbol, vocab) else set()
    first = labels[0].text.split(" ", 1) if labels else []
    if named and labels[0].kind == "PS" and len(first) == 2 and vocab.size.fullmatch(first[1]):
        labels[:1] = [_Label(first[0], "O", None), _Label(first[1], "PS", labels[0].unit)]
    out = []
    for label in labels:
        position = len(header[: header.find(label.text)].split())
        stacked = above[position] if position < len(above) else ""
        rest = header.replace(label.text, " ", 1)
        kind = "P" if label.text in symbols and label.kind == "O" else label.kind
        said = f"{caption} | {rest} | {stacked} {label.text}"
        out.append(_Label(label.text, _sized(_Label(label.text, kind, label.unit), said, vocab),
                          label.unit))
    return out


def _label_line(lines: _Page, index: int) -> bool:
    """A line that is one header label: words ("Heads", "Mio.", "Top-1 Acc."), no number
    standing alone, read as a single label."""
    return (
        lines.role(index) == "text" and bool(_LETTER.search(lines.texts[index]))
        and not any(t.kind in ("count", "num") for t in lines[index].tokens)
        and len(lines.labels(index)) == 1
    )


def _one_per_line(lines: _Page, index: int, vocab: _Vocab) -> tuple[int, int] | None:
    """First and last line of a header written one label per line around line `index`
    (three lines or more, each one label, the rows just below), or None."""
    if not _label_line(lines, index):
        return None
    first = last = index
    while first > 0 and _label_line(lines, first - 1):
        first -= 1
    while last + 1 < len(lines) and _label_line(lines, last + 1):
        last += 1
    below = last + 1
    if last - first < 2 or below >= len(lines) or lines.role(below) != "data":
        return None
    return first, last


def _line_labels(lines: _Page, first: int, last: int, caption: str, vocab: _Vocab
                 ) -> list[_Label]:
    """The labels of a header written one per line: each line is one label, except a unit
    or qualifier standing alone ("Mio." over "Param", "(M)" under "Params"), which is part
    of the parameters label next to it."""
    texts: list[str] = []
    qualifier = ""
    for index in range(first, last + 1):
        text = lines.clean(index)
        if index < last and _names_params(lines.texts[index + 1], vocab) and (
                vocab.qualifier.fullmatch(f"{text} ")):
            qualifier = f"{text} "  # "Mio." over "Param"
        elif texts and text.startswith(("(", "[")) and _word_unit(text, vocab) and (
                _names_params(texts[-1], vocab)):
            texts[-1] += f" {text}"  # "(M)" under "Params"
        else:
            texts.append(qualifier + text)
            qualifier = ""
    header = " ".join(texts)
    out = []
    for text in texts:
        kinds = [label.kind for label in _labels(text, vocab) if label.kind != "O"]
        label = _Label(text, kinds[0] if kinds else "O", _unit(text, vocab))
        out.append(_Label(text, _sized(label, f"{caption} | {header}", vocab), label.unit))
    return out


def _column_cells(lines: _Page, index: int, vocab: _Vocab) -> list[TableCell]:
    """Cells under the parameters labels of the header at line `index` (or of the header
    written one label per line that holds it)."""
    run = _one_per_line(lines, index, vocab)
    first, last = run or (index, index)
    if not run and _no_params_label(lines.labels(index), lambda: lines.may_define_symbols):
        return []  # no parameters column, seen before reading the rows
    rows = _rows(lines, last, vocab)
    if not rows or (not run and _no_values(rows, lines.labels(index))):
        return []
    top = _top(lines, first)
    last_row = rows[-1].line.index
    caption = _caption(lines, top, lambda cap: last_row)
    named = sum(1 for r in rows if r.label) * 2 > len(rows)
    if run:
        labels = _line_labels(lines, first, last, caption, vocab)
        header = " ".join(label.text for label in labels)
    else:
        labels = _stacked(lines, index, list(lines.labels(index)), caption, named, vocab)
        header = lines[index].clean
    params = [i for i, label in enumerate(labels) if label.kind in ("P", "PA", "PN", "PB")]
    if not params or len(labels) < 2:
        return []
    rows = _spanned(_unwrapped(rows, labels, vocab), lines, last)
    context = _Context(caption, header, _own_symbols(caption, vocab))
    fallback_unit = _caption_unit(caption, vocab)
    if not run:
        fallback_unit = _other_line_unit(lines, index, labels, vocab) or fallback_unit
    counts = tuple(i for i, label in enumerate(labels) if label.kind in ("P", "PA", "PN", "C"))
    width = _modal([len(r.cells) for r in rows])
    shapes = [_shape(r.cells) for r in rows if len(r.cells) == width]
    shape = Counter(shapes).most_common(1)[0][0]
    found: dict[int, TableCell] = {}
    for position in params:
        label = labels[position]
        if label.kind == "PB":
            cells = _bracket_cells(rows, context, vocab)
        else:
            unit = label.unit or fallback_unit
            column, agreed = _choose_column(rows, labels, position, unit, vocab, bool(run))
            plan = _Plan(
                _KINDS[label.kind], position, counts, width, column, agreed, unit,
                counts == (position,), shape,
            )
            cells = _cells_under(rows, plan, context, vocab)
        for cell in cells:
            found.setdefault(cell.start, cell)
    return list(found.values())


def _no_values(rows: list[_Row], labels: tuple[_Label, ...]) -> bool:
    """Whether the rows under a header of `labels` give no value whatever the caption says:
    a cell's value is a count, or a bare number under a unit (`_count_value`), and the rows
    read as one (`_unwrapped`, `_spanned`) hold only their lines' tokens and absent cells,
    so lines holding neither give none; nor does a size in brackets after a row's name,
    read only under a label naming parameters in brackets ("PB", found by `_labels`)."""
    return not any(label.kind == "PB" for label in labels) and not any(
        token.kind in ("count", "num") for row in rows for token in row.line.tokens)


def _cells_under(
    rows: list[_Row], plan: _Plan, context: _Context, vocab: _Vocab
) -> list[TableCell]:
    out = []
    for row in rows:
        for name, cells in _chunks(row, plan):
            cell = _cell_in(row, name, cells, plan, context, vocab)
            if cell is not None:
                out.append(cell)
    return out


def _chunks(row: _Row, plan: _Plan) -> list[tuple[str, list[_Tok]]]:
    """A row's name and cells; rows longer than usual are cut to the usual width, from the
    right. A row holding several usual rows (same width, text cells in the same places) is
    rows the text extraction put on one line ("Kestrel 7B 54.1 30.2 13B 60.3 40.5")."""
    cells = list(row.cells)
    width = plan.width
    if plan.column is None or len(cells) <= width:
        return [(row.label, cells)]
    chunks = [cells[i : i + width] for i in range(0, len(cells), width)]
    if width >= 3 and all(_shape(chunk) == plan.shape for chunk in chunks):
        return [(row.label, chunk) for chunk in chunks]
    extra = cells[: len(cells) - width]
    name = row.label
    if len(extra) == 1 and extra[0].kind in ("num", "text") and len(extra[0].text) <= 4:
        name = f"{name} {extra[0].text}".strip()  # "Foo 2 7B ...": the 2 is the name's
    return [(name, cells[len(cells) - width :])]


def _shape(cells: list[_Tok] | tuple[_Tok, ...]) -> tuple[bool, ...]:
    return tuple(cell.kind == "text" for cell in cells)


def _cell_in(
    row: _Row, name: str, cells: list[_Tok], plan: _Plan, context: _Context, vocab: _Vocab
) -> TableCell | None:
    """The parameter count among one row's cells, if any."""
    countish = [c for c in cells if c.kind == "count"]
    if plan.column is not None and len(cells) == plan.width:
        chosen: _Tok | None = cells[plan.column]
        sure = plan.agreed and all(c is chosen for c in countish)
    else:
        chosen = _by_count_order(countish, plan.counts, plan.position)
        sure = len(countish) == 1
    if chosen is None:
        return None
    value = _count_value(chosen, plan.unit, vocab, _next_text(row.line, chosen))
    if not value:
        return None
    return TableCell(
        chosen.start, chosen.end, value, plan.kind, _name(name, vocab), row.text,
        context.caption, context.header, plan.single and sure, _is_own(row.label, context, vocab),
    )


def _by_count_order(
    countish: list[_Tok], counts: tuple[int, ...], position: int
) -> _Tok | None:
    """The count under label `position` when a row's counts match the header's count
    columns one to one ("5.3M 0.39B" under "#Params #FLOPs"), or the row's only count
    under the header's only count column."""
    if len(countish) == len(counts) and len(counts) > 1:
        return countish[counts.index(position)]
    if len(countish) == 1 and counts == (position,) and not countish[0].text.endswith("K"):
        return countish[0]
    return None


def _next_text(line: _Line, token: _Tok) -> str:
    after = [t for t in line.tokens if t.start >= token.end]
    return after[0].text if after and after[0].kind == "text" else ""


def _other_line_unit(
    lines: _Page, index: int, labels: list[_Label], vocab: _Vocab
) -> int | None:
    """A unit on the other line of a two-line header ("Params FLOPs" over "(M) (G)", or
    "Million Million" over "Mult-Adds Parameters"), aligned from the right."""
    params = [i for i, label in enumerate(labels) if label.kind.startswith("P")]
    for other in (index + 1, index - 1):
        if not 0 <= other < len(lines) or lines.role(other) != "text" or len(params) != 1:
            continue
        units = [_word_unit(word, vocab) for word in lines.texts[other].split()]
        shifted = len(units) - (len(labels) - params[0])
        if 0 <= shifted < len(units) and units[shifted] is not None:
            return units[shifted]
        found = [u for u in units if u is not None]
        if len(found) == 1:
            return found[0]
    return None


def _word_unit(word: str, vocab: _Vocab) -> int | None:
    """The unit of one word of a header line: "(M)", "[B]", "millions"."""
    bare = word.strip("()[].,;:").lower()
    if len(bare) >= 3 and not word.startswith(("(", "[")):
        return vocab.units.get(bare)
    return _unit(word, vocab)


# spaces within a line ([^\S\n], never a newline): its matches in a page are its lines'
_SIZE_IN_BRACKETS_SCAN = FirstCharScan(
    "([", r"[^\S\n]*(?P<size>[~≈]?\d+(?:\.\d+)?[^\S\n]?[KMBT])[^\S\n]*[)\]]"
)
_SIZE_IN_BRACKETS = _SIZE_IN_BRACKETS_SCAN.pattern


def _bracket_cells(rows: list[_Row], context: _Context, vocab: _Vocab) -> list[TableCell]:
    """Sizes written in brackets after each row's name: "LLaMA (7B)", "Ours (1.3B)"."""
    out = []
    for row in rows:
        line = row.line
        limit = row.cells[0].start - line.start if row.cells else len(line.text)
        match = _SIZE_IN_BRACKETS.search(line.text, 0, limit)
        parsed = COUNT_TEXT_RE.fullmatch(match["size"]) if match else None
        counted = count_of_match(parsed) if parsed else None
        if match is None or counted is None:
            continue
        start = line.start + match.start("size")
        out.append(
            TableCell(
                start, line.start + match.end("size"), counted[0], "total",
                _name(row.label, vocab), line.clean, context.caption, context.header, False,
                _is_own(row.label, context, vocab),
            )
        )
    return out


def _bracket_table_cells(lines: _Page, index: int, vocab: _Vocab) -> list[TableCell]:
    """Cells of a table whose caption says its rows give sizes in brackets."""
    line = lines[index]
    top = _top(lines, index)
    caption = _caption(lines, top, partial(_bottom, lines, index))
    if not vocab.in_brackets.search(caption):
        return []
    header = lines.clean(top) if lines.role(top) == "text" else ""
    context = _Context(caption, header, _own_symbols(caption, vocab))
    row = _Row(line, line.label, line.cells)
    return _bracket_cells([row], context, vocab)


# --- the page -----------------------------------------------------------------------------


def find_table_cells(page_text: str, lexicon: Lexicon) -> list[TableCell]:
    """Every parameter-count cell in the tables of one page, in page order."""
    vocab = _vocab(lexicon)
    folded = ascii_fold(page_text)
    openers = _openers(page_text, folded, vocab)
    if not openers:
        return []  # no line to act on: the page is not split into lines
    lines = _Page(page_text, vocab)
    # False when no line holds a string every match of table_param_symbol holds
    lines.symbol_hint = holds_any(folded, _needs(vocab.symbol, vocab).strings)
    found: dict[int, TableCell] = {}
    for opener in openers:
        index = bisect_left(lines.starts, opener.start)
        cells = []  # a table starts at a line naming parameters or giving sizes
        if opener.opens:  # (a line read as a sentence since: `_cells_of` gives nothing)
            cells += _cells_of(lines, lines[index], vocab)
        if opener.symbol:
            cells += _symbol_cells(lines, index, vocab)
        for cell in cells:
            found.setdefault(cell.start, cell)
    return sorted(found.values(), key=lambda c: c.start)


class _Opener(NamedTuple):
    """A line `find_table_cells` acts on, and what it asks of it."""

    start: int  # where the line starts in the page
    opens: bool  # the cells it opens (`_cells_of`)
    symbol: bool  # the cells under the parameters symbol it defines (`_symbol_cells`)


def _openers(page_text: str, folded: str, vocab: _Vocab) -> list[_Opener]:
    """In page order, the lines that may open a table (not proved a sentence, and naming
    parameters or a size, or giving sizes in brackets) or define a parameters symbol, each
    judged by its own text before the page is split into lines (`folded`: the page's
    `ascii_fold`). Each pattern is searched only on the lines holding a string every match
    of it needs (`_lines_holding`)."""
    known: dict[str, set[int]] = {}
    params, size, symbol = (_lines_holding(page_text, folded, _needs(regex, vocab), known)
                            for regex in (vocab.params, vocab.size, vocab.symbol))
    brackets = _bracket_lines(page_text, folded, vocab)
    out = []
    for start in sorted(params | size | symbol | (brackets or set())):
        end = page_text.find("\n", start)
        text = page_text[start:] if end < 0 else page_text[start:end]
        opens = not _never_a_row_text(text, vocab) and bool(
            (start in params and vocab.params.search(text))
            or (start in size and vocab.size.search(text))
            or (start in brackets if brackets is not None else _SIZE_IN_BRACKETS.search(text)))
        defines = bool(start in symbol and _may_match(folded[start : start + len(text)],
                                                      vocab.symbol, vocab)
                       and vocab.symbol.search(text))
        if opens or defines:
            out.append(_Opener(start, opens, defines))
    return out


def _lines_holding(page_text: str, folded: str, needs: _Needs,
                   known: dict[str, set[int]]) -> set[int]:
    """The starts of the lines holding one of the strings every match of a pattern holds
    one of (`needs.strings`, none with a newline), so the lines a search can match on; every
    line's start when the pattern shows no such strings. `known`: the lines of each string,
    found once per page."""
    strings = needs.strings
    if strings is None:
        return {0, *(m.end() for m in _NEWLINE.finditer(page_text))}
    found: set[int] = set()
    for string in strings:
        lines = known.get(string)
        if lines is None:
            lines = known[string] = _lines_with(folded, string)
        found |= lines
    return found


def _lines_with(text: str, string: str) -> set[int]:
    """The starts of the lines of `text` holding `string` (which holds no newline)."""
    found = set()
    index = text.find(string)
    while index >= 0:
        found.add(text.rfind("\n", 0, index) + 1)
        end = text.find("\n", index)
        index = -1 if end < 0 else text.find(string, end)
    return found


_NEWLINE = re.compile("\n")


def _bracket_lines(page_text: str, folded: str, vocab: _Vocab) -> set[int] | None:
    """The starts of the lines holding a size in brackets ("(7B)"), or None when only the
    lines another pattern brings need this asked (of their own text: a page's matches are
    its lines', as no match spans a newline).

    None is sound where no caption on the page can say that rows give sizes in brackets. A
    line without a string every match of table_params and of table_size needs holds no
    label naming either (its label is its words), so it gives cells only as a row of sizes
    in brackets (`_cells_of`), under a caption table_sizes_in_brackets matches
    (`_bracket_table_cells`). A caption is the page's words joined by spaces, so when each
    string a match of that pattern needs is a word's piece (no whitespace in it), the page
    lacking them all leaves no caption to match."""
    if vocab.names_in_words and not holds_any(folded, _needs(vocab.in_brackets, vocab).strings):
        return None
    return {page_text.rfind("\n", 0, m.start()) + 1
            for m in _SIZE_IN_BRACKETS_SCAN.finditer(page_text)}


def _in_words(*regexes: re.Pattern[str]) -> bool:
    """Whether each pattern shows strings one of which each of its matches holds
    (`required_strings`), none holding whitespace (so each such string lies within a word)."""
    found = list(map(required_strings, regexes))
    return all(strings is not None and all(s.split() == [s] for s in strings) for strings in found)


def _may_match(folded: str | None, regex: re.Pattern[str], vocab: _Vocab) -> bool:
    """False only when the text `folded` (folded: `ascii_fold`) lacks every string of one
    of the sets each match of `regex`, a pattern of `vocab`, holds a string of
    (`required_string_sets`)."""
    sets = _needs(regex, vocab).sets
    if sets is None or folded is None:
        return True
    return all(any(map(folded.__contains__, strings)) for strings in sets)


@lru_cache(maxsize=64)
def _context_free(regex: re.Pattern[str]) -> bool:
    """Whether the pattern's matches depend on the characters they consume only (no anchor,
    word boundary or look-around), so a match in a piece of a text is one in the text."""
    return _consumes_only(sre_parse.parse(regex.pattern, regex.flags))


def _consumes_only(pattern: Any) -> bool:
    for op, arg in pattern:
        if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            return False
        parts = arg if isinstance(arg, (tuple, list)) else [arg]  # a branch: a list of them
        nested = [p for part in parts for p in (part if isinstance(part, list) else [part])]
        if not all(_consumes_only(p) for p in nested if isinstance(p, sre_parse.SubPattern)):
            return False
    return True


def _symbol_cells(lines: _Page, index: int, vocab: _Vocab) -> list[TableCell]:
    """Cells under a header symbol a caption line defines ("#P denotes the number of model
    parameters"): the header is the nearest line around the caption holding the symbol."""
    symbols = {" ".join(m["symbol"].split()) for m in vocab.symbol.finditer(lines.texts[index])}
    for other in sorted(range(max(0, index - 12), min(len(lines), index + 12)),
                        key=lambda i: abs(i - index)):
        words = set(lines.texts[other].split())
        if other != index and symbols & words and lines.role(other) in ("text", "data"):
            return _column_cells(lines, other, vocab)
    return []


def _cells_of(lines: _Page, line: _Line, vocab: _Vocab) -> list[TableCell]:
    """The cells a line opens: a sideways row, a header's column, sizes after row names."""
    if line.role not in ("data", "text"):
        return []
    label = line.label
    if line.role == "data" and _names_params(label, vocab):
        cells = _sideways_cells(lines, line.index, vocab)
        if cells or any(t.kind == "count" for t in line.tokens):
            return cells
    if _names_params(line.text, vocab) and not any(t.kind == "count" for t in line.tokens):
        return _column_cells(lines, line.index, vocab)
    if line.role == "data" and _SIZE_IN_BRACKETS.search(label):
        return _bracket_table_cells(lines, line.index, vocab)
    return []
