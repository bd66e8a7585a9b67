"""What the words around one mention say about it: the paper's own model or someone else's,
stated outright or hedged. Mechanisms only: every word and pattern comes from the lexicon.

A mention's cues are a set of names (below); features.py turns them into numbers per
candidate size, and the fitted model weighs them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from paramminer.countexpr import COUNT_TEXT_RE, count_of_match
from paramminer.keyscan import fold, holds_any
from paramminer.lexicon import Lexicon
from paramminer.models import Mention
from paramminer.names import NAMEISH, PaperNames

CUES = (
    "own_name",  # the attached model name is one the paper introduces
    "cited_name",  # the attached name is cited (citation marker, or a widely cited model)
    "own_near",  # "we"/"our" right next to the number
    "own_sentence",  # "we"/"our" elsewhere in the sentence
    "own_table",  # a table whose caption or row marks the paper's own models
    "own_pronoun",  # "It has 236B parameters" right after "we introduce X"
    "citation",  # a citation marker next to the number
    "comparison",  # "than", "compared with", "outperforms" just before the number
    "baseline",  # a baseline model
    "derived_from",  # "initialised from a pretrained 7B model": a starting point
    "hypothetical",  # "can train", "could", "enables": a possibility
    "bound",  # "up to", "more than": a bound, not an exact size
    "example",  # "such as", "e.g.": an example of others' models
    "approximate",  # "about", "roughly"
    "per_member",  # "380M parameters each": one member of an ensemble or a set
    "part_of",  # "1.9B (encoder 1.5B and vision 400M)": one part of a total
    "planned",  # preliminary, ongoing or planned work
    "main",  # "our largest/main/flagship model"
    "flattened",  # prose text that is a flattened chart or table: a run of bare numbers
    "applied_to",  # "we evaluate our method on a 70B model": the model a method is applied to
)

# The name right before a count ("Halcyon 2 (7B"). Its first match is the plain pattern's (no
# look-behind, a greedy `*`; tests/test_cues.py compares them), found without retrying inside
# words: where a match starts after a letter, one starts at that letter too, so the first
# never does; and a name cut short of its run of [\w\-.] leaves only "-"s (nothing else after
# it takes one), which [\s\-(]{0,3} must take with what the whole run leaves: the whole run
# then matches too.
_ADJACENT_NAME = re.compile(
    r"(?<![A-Za-z])(?P<name>[A-Za-z][\w\-.]*+)(?:\s+\d{1,2}(?:\.\d)?)?[\s\-(]{0,3}$")
NEAR_BEFORE, WIDE_BEFORE, NEAR_AFTER = 45, 70, 40  # characters around the number


@dataclass(frozen=True)
class _Context:
    """The text around a mention's number in its evidence."""

    before: str
    wide_before: str
    after: str
    sentence: str  # the sentence (for a table row: the row, without caption and header)
    after_clause: str  # the rest of the clause after the number
    sentence_before: str  # the sentence up to the number
    sentence_head: str  # the same, its colons and commas kept (see _sentence_before)

    @property
    def near(self) -> str:
        return self.before + self.after


def _context(mention: Mention, clause_break: re.Pattern[str]) -> _Context:
    evidence = mention.evidence
    found = evidence.rfind(mention.text) if mention.table else evidence.find(mention.text)
    position = max(0, found)
    end = position + len(mention.text)
    return _Context(
        before=evidence[max(0, position - NEAR_BEFORE) : position],
        wide_before=evidence[max(0, position - WIDE_BEFORE) : position],
        after=evidence[end : end + NEAR_AFTER],
        sentence=evidence.rsplit(" | ", 1)[-1],
        sentence_before=clause_break.split(evidence[:position].rsplit(" | ", 1)[-1])[-1],
        after_clause=clause_break.split(evidence[end : end + 2 * WIDE_BEFORE], maxsplit=1)[0],
        sentence_head=_sentence_before(mention),
    )


class CueSearch:
    """`lexicon.cue(name).search(text)`, skipped where it cannot match: every match of the
    cue holds one of its strings (Lexicon.cue_strings), so a folded text that holds none of
    them has none. Cheaper than most cue searches, which try a leading `\b` at every
    character."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.cue = lexicon.cue
        self.strings = lexicon.cue_strings
        self.folded: dict[str, str | None] = {}  # a mention's few texts, each folded once

    def may_match(self, name: str, text: str) -> bool:
        """False only when the cue has no match in `text`."""
        needed = self.strings.get(name)
        return needed is None or holds_any(self._folded(text), needed)

    def search(self, name: str, text: str) -> bool:
        """The cue matches somewhere in `text` (`may_match` inlined: it is called for every
        cue on every mention)."""
        needed = self.strings.get(name)
        if needed is not None:
            folded = self._folded(text)
            if folded is not None and not any(map(folded.__contains__, needed)):
                return False
        return self.cue(name).search(text) is not None

    def _folded(self, text: str) -> str | None:
        if text not in self.folded:
            self.folded[text] = fold(text)
        return self.folded[text]


class PaperCues:
    """What the mentions of one paper share, each found once: what its names say of a word or
    a system (`names` is complete: it no longer changes), and what each table's caption
    says of its models (every cell of a table has the same caption and header)."""

    def __init__(self, names: PaperNames) -> None:
        self.names = names
        self.is_own = names.is_own  # memoized by PaperNames
        self.cited: dict[str, bool] = {}
        self.row_labels: dict[str, bool] = {}
        self.captions: dict[tuple[str, bool], bool] = {}  # (caption, cell has a system)

    def is_cited(self, system: str) -> bool:
        """`names.is_cited`."""
        if system not in self.cited:
            self.cited[system] = self.names.is_cited(system)
        return self.cited[system]

    def is_row_label(self, word: str) -> bool:
        """`names.is_row_label`."""
        if word not in self.row_labels:
            self.row_labels[word] = self.names.is_row_label(word)
        return self.row_labels[word]


def mention_cues(mention: Mention, names: PaperNames,
                 paper: PaperCues | None = None) -> frozenset[str]:
    """The cues (names from CUES) that hold for `mention`; `paper`: made for `names` and
    shared by the paper's mentions (else one is made here)."""
    cue = names.lexicon.cue
    cue_search = CueSearch(names.lexicon)
    paper = paper if paper is not None and paper.names is names else PaperCues(names)
    finds = cue_search.search
    context = _context(mention, cue("clause_break"))
    found: set[str] = set()
    adjacent = _ADJACENT_NAME.search(context.before)
    flattened_row = (not mention.table
                     and (_in_count_row(context.after) or _after_count_run(context.before))
                     and not (mention.system and mention.system in mention.text))  # "Foo-7B"
    own_name = not flattened_row and (  # a flattened row's names are column labels
        (bool(mention.system) and names.is_own(mention.system))
        or bool(adjacent and names.is_own(adjacent["name"]))
        or (not mention.system and _own_name_in(_last_words(context.sentence_before), paper))
        or _fronted_for_own(context, names, cue_search))
    if own_name:
        found.add("own_name")
    elif (mention.system and not flattened_row and not cue("generic_label").match(mention.system)
          and paper.is_cited(mention.system)):  # "LARGE": a size tier is nobody's name
        found.add("cited_name")
    if mention.table and _own_table(mention, paper, "cited_name" in found):
        found.add("own_table")
    if (not own_name and _subject_match(cue("pronoun_subject"), context.sentence)
            and (finds("introducing", mention.preceding)
                 or _own_name_in(mention.preceding[-PRONOUN_REACH:], paper))
            and not _compared_with_own(mention, cue("comparison"), paper)):
        found.add("own_pronoun")
    phrase_after = _PHRASE_END.split(context.after[:25])[0]
    before = _without_list_run(context.wide_before)  # "we train the 300M, 1.5B and 3.3B"
    if cue_search.may_match("own_non_model", before):  # else sub changes nothing
        before = cue("own_non_model").sub(" ", before)  # "our method on a 70B model": not ours
    if (finds("own", before[-25:] + mention.text + phrase_after + " "
              + _bracketed_head(context.before))
            or finds("own_announce", context.sentence_head)):
        found.add("own_near")
    elif finds("own", context.sentence):
        found.add("own_sentence")
    checks = (
        ("citation", context.wide_before + mention.text + context.after),
        ("comparison", context.before[-40:]),
        ("derived_from", _without_tier(context.wide_before, mention.system, cue)),
        ("hypothetical", context.before),
        ("bound", context.before),
        ("example", context.before),
        ("approximate", context.before),
        ("applied_to", context.wide_before),
        ("per_member", context.after),
        ("baseline", context.before[-40:] + mention.text + context.after_clause),
        ("planned", context.before[-40:] + mention.text + context.after),
        ("main", context.sentence),
    )
    found.update(name for name, text in checks if finds(name, text))
    if finds("derived_after", context.after):
        found.add("derived_from")
    if finds("baseline_sentence", context.sentence_head):
        found.add("baseline")
    if _in_breakdown(mention):
        found.add("part_of")
    if not mention.table and _mostly_numbers(context.sentence):
        found.add("flattened")

    if own_name:
        for name in ("comparison", "derived_from", "baseline"):
            if name in found and _own_name_after(cue(name), context.before[-40:], paper):
                found.discard(name)  # "than CapsNet with 11M": the own model, compared
    return frozenset(found)


_WORD = re.compile(r"\w[\w\-.]*\w|\w")  # a name may start with digits: "42Quill"
_LETTER = re.compile(r"[A-Za-z]")
_PHRASE_END = re.compile(r"[,;:)]|\.\s")  # "a 7B model, we opted for": "we" is the next phrase's
PRONOUN_REACH = 150  # characters before a sentence where its pronoun subject's referent is
NAME_REACH = 10  # words: how far before a count an own name still binds to it in its clause


def _last_words(text: str) -> str:
    return " ".join(text.split()[-NAME_REACH:])


def _own_name_in(text: str, paper: PaperCues) -> bool:
    """Some word of `text`, or a phrase of two or three words, is a name the paper gives its
    own model ("We introduce Halcyon, a family of models ranging from 1.3B to 70B
    parameters", "both Halcyon 2 9B and 27B"); a row marker ("proposed") is no name here."""
    words = _WORD.findall(text)
    starts = [start for start, word in enumerate(words)  # the words a name may start with
              if _LETTER.search(word) and not paper.is_row_label(word)]
    return any(
        paper.is_own(" ".join(words[start : start + size]))
        for size in (1, 2, 3) if size == 1 or paper.names.introduces_phrase(size)
        for start in starts if start + size <= len(words)
    )


def _own_name_after(pattern: re.Pattern[str], text: str, paper: PaperCues) -> bool:
    """An own model name stands between the cue's last match in `text` and the number
    ("better than CapsNet with 11M"), so the number is the own model's, not the compared one
    ("surpassing the larger 33B model")."""
    matches = list(pattern.finditer(text))
    if not matches:
        return False  # the cue is after the number ("7B, used as our baseline"): it holds
    return _own_name_in(text[matches[-1].end():], paper)


def _without_tier(before: str, system: str, cue: Callable[[str], re.Pattern[str]]) -> str:
    """The text before a count without the size-tier label it is the size of ("BASE (95M":
    the tier, not a base model the paper starts from)."""
    if system and cue("generic_label").match(system):
        cut = before.rfind(system)
        return before[:cut] if cut >= 0 else before
    return before


_SUBJECT_AFTER = re.compile(r"^[\w\s\-]{0,30}?,\s+(?:our\s+|the\s+)?(?P<name>[A-Za-z][\w\-.]*)")


def _fronted_for_own(context: _Context, names: PaperNames, cue_search: CueSearch) -> bool:
    """The count opens the sentence in a fronted phrase whose subject, after the comma, is an
    own model ("With only 5.3M parameters, Halcyon achieves 77% top-1")."""
    if not cue_search.search("fronted_phrase", context.sentence_head):
        return False
    subject = _SUBJECT_AFTER.match(context.after)
    return bool(subject and names.is_own(subject["name"]))


_HEADING_NUMBER = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2}){0,3}\.?|[IVX]{1,4}\.|[A-H]\.?)$")
HEADING_WORDS = 6  # the longest numbered heading a sentence may start with


def _subject_match(pattern: re.Pattern[str], sentence: str) -> bool:
    """The sentence starts with the pattern's subject, perhaps after a numbered heading the
    text glued to it ("3 Model The model has 1.2B parameters")."""
    if pattern.match(sentence):
        return True
    words = sentence.split(" ")
    if not words or not _HEADING_NUMBER.match(words[0]):
        return False
    return any(pattern.match(" ".join(words[cut:])) for cut in range(2, HEADING_WORDS + 2)
               if all(w[:1].isupper() or w[:1] == "&" for w in words[1:cut]))


_LIST_RUN = re.compile(
    r"(?:[~≈]?\d[\d.,]*\s?(?:[KMBT]|[kmb](?![a-z])|million|billion|trillion)\w*\s*"
    r"(?:,\s*(?:and|or)?|and|or|&|/)\s*)+$")
_LIST_RUN_ENDS = (",", "and", "or", "&", "/")  # what a match of _LIST_RUN ends with, spaces aside


def _without_list_run(before: str) -> str:
    """`before` without the run of counts listed right before the number ("the 300M, 1.5B
    and "). A match ends at the end, past only white space after one of _LIST_RUN_ENDS: a
    text that ends otherwise has none (the cheap test spares the search at every character)."""
    if not before.rstrip().endswith(_LIST_RUN_ENDS):
        return before
    return _LIST_RUN.sub("", before)


def _sentence_before(mention: Mention) -> str:
    """The mention's sentence up to its number (colons and commas kept)."""
    evidence = mention.evidence.rsplit(" | ", 1)[-1]
    position = max(0, evidence.find(mention.text))
    return re.split(r"[.!?]\s", evidence[:position])[-1]


_BARE_NUMBER = re.compile(r"^[~≈±(]?\d[\d.,]*%?\)?$|^OOM$|^[-–—]$")
NUMERIC_RUN = 8  # bare numbers in a "sentence", at least
NUMERIC_SHARE = 0.4  # of its words


def _mostly_numbers(sentence: str) -> bool:
    """The "sentence" is mostly bare numbers ("64 OOM 58 101 172 ... Foo 6.9B"): a chart's
    ticks or a table the text flattened, not running prose. Sizes with a unit ("1.3B") do
    not count, so a prose list of model sizes stays prose."""
    words = sentence.split()
    if len(words) < NUMERIC_RUN:
        return False  # too few words to hold the run
    numbers = len(list(filter(_BARE_NUMBER.match, words)))
    return numbers >= NUMERIC_RUN and numbers >= NUMERIC_SHARE * len(words)


_ROW_TOKEN = re.compile(r"^(?:[~≈]?\d[\d.,]*[KMBTkmbt]?|[×x*^]|10\^?\d*|\(|\)|-|–)$")


def _after_count_run(before: str) -> bool:
    """Two or more counts stand right before the count with no word between ("Foo-V2
    67B 72B 8x22B 70B"): a flattened header row, whose names are column labels."""
    counts = 0
    for word in reversed(before.split()[-4:]):
        if not _SIZE_TOKEN.match(word):
            break
        counts += 1
    return counts >= 2


_SIZE_TOKEN = re.compile(r"^(?:\d+x)?[~≈]?\d[\d.,]*[KMBTkmbt]$")


def _in_count_row(after: str) -> bool:
    """More numbers follow the count with no word between ("#Params 1.6M 3K 1.9M 4K"): a
    table row the text flattened, whose names are column labels, not the nearest word."""
    numbers = 0
    for word in after.split()[:6]:
        if not _ROW_TOKEN.match(word):
            break
        numbers += word[0].isdigit()
    return numbers >= 2


_BRACKET_HEAD = re.compile(r"((?:[\w\-]+\s+){1,5})\(\s*(?:[~≈]\s*)?$")
# the tail of _BRACKET_HEAD: every text it matches holds a match of this one, which the engine
# finds fast (it starts with a literal), while _BRACKET_HEAD is tried at every character
_OPEN_TAIL = re.compile(r"\(\s*(?:[~≈]\s*)?$")


def _bracketed_head(before: str) -> str:
    """The noun phrase a bracketed count belongs to ("Our reference network (86M"): up to
    five words right before the bracket, whose "our" owns the count as much as an adjacent
    one."""
    found = _OPEN_TAIL.search(before) and _BRACKET_HEAD.search(before)
    return found.group(1) if found else ""


def _has_count(text: str) -> bool:
    return any(count_of_match(m) for m in COUNT_TEXT_RE.finditer(text))


def _in_breakdown(mention: Mention) -> bool:
    """The count is one of several in brackets right after a total ("1.9B (encoder 1.5B and
    vision 400M)"): a part of the model, not the model. One count alone in brackets ("a 7B
    model (6.7B parameters)") restates the size and is no part."""
    evidence = mention.evidence
    position = max(0, evidence.find(mention.text))
    end = position + len(mention.text)
    opened = evidence.rfind("(", 0, position)
    closed = evidence.find(")", end)
    if opened < 0 or closed < 0 or evidence.rfind(")", 0, position) > opened:
        return False
    inside = evidence[opened + 1 : position] + " " + evidence[end:closed]
    return _has_count(inside) and _has_count(evidence[max(0, opened - 40) : opened])


def _compared_with_own(mention: Mention, comparison: re.Pattern[str], paper: PaperCues) -> bool:
    """The count is compared with an own model later in its sentence ("This model has 24M
    parameters, twice as many as Halcyon"): the subject is some other model."""
    evidence = mention.evidence
    end = max(0, evidence.find(mention.text)) + len(mention.text)
    return _own_name_after(comparison, evidence[end : end + 2 * WIDE_BEFORE], paper)


def _own_table(mention: Mention, paper: PaperCues, cited: bool) -> bool:
    """The table's caption or the row marks the paper's own models ("Ours", "our models")."""
    if mention.own_marker:
        return True
    if cited or " | " not in mention.evidence:
        return False
    names, system = paper.names, mention.system
    if system and not (names.lexicon.cue("generic_label").match(system)
                       or names.is_own(system)):
        return False
    key = (mention.evidence.rsplit(" | ", 1)[0], bool(system))
    if key not in paper.captions:
        paper.captions[key] = _caption_owns(*key, paper)
    return paper.captions[key]


def _caption_owns(context: str, for_system: bool, paper: PaperCues) -> bool:
    """The caption and header `context` mark the paper's own models: for a cell no row
    names (not `for_system`), they name own models and compare none."""
    words = re.findall(r"[A-Za-z][\w\-.]*", context)
    finds = CueSearch(paper.names.lexicon).search
    if not for_system:
        return (any(paper.is_own(w) for w in words)
                and not finds("comparison", context) and not finds("baseline", context)
                and not any(paper.is_cited(w) for w in words if NAMEISH.match(w) or w.isupper()))
    mentions_own = finds("own", context) or any(paper.is_own(w) for w in words)
    mentions_cited = finds("citation", context) or any(
        paper.is_cited(w) for w in words if NAMEISH.match(w) or w.isupper()
    )
    return bool(mentions_own) and not mentions_cited
