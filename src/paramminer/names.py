"""The names a paper gives its own models, and the model names it cites.

Own names come from the title (the name before its colon, "X Technical Report", name-shaped
title words the paper never cites), from introducing phrases ("we introduce X", "X (ours)",
"X, our largest model", "our X family"), from acronyms the paper defines for a phrase of its
title or for what it introduces ("Lattice Network (LatNet)"), and from frequent names the
paper never cites and calls its own ("our X"). Cited names are those written next to a
citation marker, or on the list of widely cited models (rules/known-models-v*.csv). Being on
that list is evidence of citation, never a verdict: a name the paper introduces is its own
even when it is famous, and an own name is never cited.

An own *variant* is an own family name plus variant suffixes: sizes ("Foo-7B", "Foo 2 70B",
"Foo-235B-A22B"), size classes ("Foo-Large", "Foo-XL/14"), depths ("Foo-101"), tunings
("Foo-7B-Chat"). A version number is part of a name, not a variant: "Foo 2" is its own family.
The trigger phrases and word lists are data in rules/ (cues-v*.csv, words-v*.csv).
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from paramminer.keyscan import FoldedText, holds_any, match_prefixes, search_at_prefixes
from paramminer.lexicon import Lexicon, load_lexicon, normalize_name
from paramminer.titles import guess_title

__all__ = [
    "NAMEISH", "PaperNames", "acronym_long_form", "analyse_names", "guess_title",
    "introduced_names",
]

# a single name-shaped token with an inner capital or digit ("Foo-2", "FooNet")
NAMEISH = re.compile(r"^(?:[A-Z][\w\-.]*[A-Z0-9][\w\-.]*|[A-Z][a-z]+[A-Z][\w\-.]*)$")

# One word of a name: capitalised ("Halcyon", "FOO-4o"), lower-case with an inner capital
# or digit ("kNN-Foo", "foo2vec", "vFoo"), or opening with digits ("360Foo").
_WORD = (
    r"(?:[A-Z](?:[\w+\-.]*[\w+])?"
    r"|[a-z][a-z0-9]*[A-Z0-9](?:[\w+\-.]*[\w+])?"
    r"|\d+[A-Za-z](?:[\w+\-.]*[\w+])?)"
)
_VERSION = r"(?:[vV]?\d+(?:\.\d+)*|[a-z]\d+(?:\.\d+)+)(?![\w])"  # "2", "2.0", "v2", "b1.58"
_NAME = re.compile(rf"(?<![\w\-.]){_WORD}(?:[ \n](?:{_VERSION}|[A-Z][\w\-]*[\w]))*")
# _NAME's matches found faster (`_names_in`): a lower-case word is read once (it is a name's
# word where a digit or a capital follows its letters: then _WORD's tail ends where it ends),
# and a match is found after the character before it, to which the engine skips ahead.
_NAME_TEXT = (
    r"(?:[A-Z]|[a-z](?=[a-z]*+[0-9A-Z])|\d++[A-Za-z])(?:[\w+\-.]*[\w+])?"
    rf"(?:[ \n](?:{_VERSION}|[A-Z][\w\-]*[\w]))*"
)
_NAME_FIRST = re.compile(_NAME_TEXT)
_NAME_AFTER = re.compile(rf"[^\w\-.](?P<name>{_NAME_TEXT})")
_SIZE_TEXT = r"\d+(?:\.\d+)?[KMBT]|A\d+(?:\.\d+)?B|\d+x\d+(?:\.\d+)?[MB]"  # 7B, A22B, 8x7B
_SIZE = re.compile(rf"^(?i:{_SIZE_TEXT})$")
_VARIANT_TEXT = rf"{_SIZE_TEXT}|\d{{2,3}}|[A-UW-Z]\d{{1,2}}"  # and depths, patches, "B1" (not "V2")
_VARIANT_TOKEN = re.compile(rf"^(?i:{_SIZE_TEXT})$|^(?:{_VARIANT_TEXT})$")
_NAME_END = re.compile(r"\s*(?:[,(:;.–—]|$)|\s+(?:models?|networks?|architectures?)\b")
_SENTENCE = re.compile(r"(?<=[.!?])(?<!al\.)\s")
# the last boundary of _SENTENCE: the greedy .* gives back characters from the end, so the
# first boundary the rest of the pattern meets is the last one (no pass over the whole text)
_LAST_SENTENCE = re.compile(rf"(?s:.*){_SENTENCE.pattern}")
_PLAIN = re.compile(r"^[A-Z][a-z]+$")  # "Lattice": a word, unless the context makes it a name
_COMPOUND = re.compile(r"^[A-Z][a-z]+(?:-[A-Za-z][a-z]+)+$|-[a-z]+$")  # "Large-Scale", "X-like"
_SIZE_SUFFIX = re.compile(r"[-_ ]?\d+(?:\.\d+)?[MBTmbt]$")
_NOTE = re.compile(r"\s*[(\[][^()\[\]]*[)\]]\s*$")
_ACRONYM = re.compile(r"\((?P<acr>[A-Za-z][A-Za-z0-9\-]{1,14})\)")
# (*+, ++: possessive where giving back a character cannot lead to a match: found faster)
_MODEL_TEXT = (
    r"(?:[A-Z][\w\-.]*[A-Z0-9][\w\-]*+|[A-Z][a-z]++[A-Z][\w\-]*+"
    r"|[a-z][a-z0-9]*+[A-Z][\w\-]*+)(?![\w\-])"
)
_MODEL_TOKEN = re.compile(rf"(?<![\w\-]){_MODEL_TEXT}")
# Citable tokens (model tokens, or a capitalised word) as `finditer` finds them with a
# lookbehind (?<![\w\-]), but found from a capital letter, to which the engine skips ahead
# instead of trying every position: a token that starts with it (lookbehind after the
# capital), or a capital inside a word of lower-case letters and digits (`inner`, and the
# rest of the word), where a lower-case model token ("kNN", "word2Vec") may start at the
# word's start. A capital inside a token found is never tried again.
_CITABLE = re.compile(
    r"[A-Z](?:(?<![\w\-][A-Z])"
    r"(?:(?P<model>(?:[\w\-.]*[A-Z0-9][\w\-]*+|[a-z]++[A-Z][\w\-]*+)(?![\w\-]))"
    r"|[a-z]{2,}+(?![\w\-]))"
    r"|(?<=[a-z0-9][A-Z])(?P<inner>[\w\-]*+))"
)
_LOWER_START = re.compile(r"(?<![\w\-])[a-z]")  # where a lower-case model token may start
_LOWER_DIGITS = frozenset(string.ascii_lowercase + string.digits)
_CITED_VERSION = re.compile(r"\s(?:v?\d+(?:\.\d+)?)(?![\w.])")  # "Foo v2 [12]"
_REFERENCES = re.compile(r"\n\s*(?:\d+\.?\s+)?(?:References|REFERENCES|Bibliography)\s*\n")
_HEADING_TEXT = r"\s*\d{1,2}(?:\.\d{1,2})?\.?\s+([A-Z][^\n]{2,60})$"  # "3.2 Foo Architecture"
_HEADING = re.compile(rf"(?m)^{_HEADING_TEXT}")
_HEADING_AFTER = re.compile(rf"(?m)\n{_HEADING_TEXT}")  # found after its newline: faster
_PLURAL = re.compile(r"^.[^\s]*[A-Z][^\s]*[^s\s]s$")  # "FooNets"
_PLURAL_ENDS = ("s", "s\n")  # how a match of _PLURAL ends the text ($: before a last newline too)
_SEPARATOR = re.compile(r"([-_ ])")
_PARTS = re.compile(r"[-_\s/]+")
_GLUED = re.compile(r"[A-Z0-9\-]")
_DIMENSIONS = re.compile(r"[\d.x×\-]+[A-Za-z]?")
_NUMBER = re.compile(r"\d+(?:\.\d+)?[KMBTkmbt]?")
_INNER = re.compile(r"[a-z][A-Z]|[A-Za-z]\d|\d[A-Za-z]")
_ACRONYM_WORD = re.compile(r"[A-Z]{2,8}s?")
_NUMBER_SUFFIX = re.compile(r"[-_ ]?[\d.]+[kmb]?$")  # "CIFAR-10", "Foo-1K"
_LOWER_TAIL = re.compile(r"-[a-z]+$")
_LOWER_HEAD = re.compile(r"[a-z]+(?=[A-Z])")
_ASCII_LOWER = string.ascii_lowercase.encode()
_OUR_NAME = re.compile(  # \b[Oo]ur, found faster from "ur": the engine looks for that string
    r"ur(?<=[Oo]ur)(?<!\w[Oo]ur)\s+(?:[a-z\-]+\s+){0,2}(?P<name>[A-Za-z][\w\-.]*[\w])(?:\s+(?P<next>\w+))?"
)
_Token = tuple[int, int, bool]  # start, end, a model token (not just a capitalised word)
FREQUENT = 8  # a never-cited name used this often, and called "our X", is the paper's own
OPENING_PAGES = 3  # introducing phrases are looked for on the first pages
SHORT_TITLE = 3  # a title of this many words or fewer, all capitalised, is a name


def _norm(name: str) -> str:
    """normalize_name, with the plural of a name that has inner capitals dropped ("FooNets")."""
    if name.endswith(_PLURAL_ENDS) and _PLURAL.search(name):
        name = name[:-1]
    return normalize_name(name)


def _not_names(lexicon: Lexicon) -> frozenset[str]:
    """Words that are never the paper's model: the extractor's list and names.py's own."""
    return lexicon.word_list("not_model_names") | lexicon.word_list("not_own_names")


_NOT_ON = r"(?![\w\-])"  # not followed by a word character or a hyphen


def _whole(words: list[str], joint: str = "") -> str:
    r"""The pattern (?<![\w\-])words, the words escaped and joined by the pattern `joint`, with
    the lookbehind written after the first character: the engine then looks for that character
    instead of trying the lookbehind at every position."""
    text = joint.join(map(re.escape, words))
    first = re.escape(words[0][:1])
    return first + r"(?<![\w\-](?s:.))" + text[len(first) :]


def _whole_starts(
    word: str, text: str, start: int = 0, ends: bool = True, folded: str | None = None
) -> Iterator[int]:
    r"""Where `word` stands in `text` from `start` on, found with `str.find` (no pattern to
    compile): the starts of `finditer(_whole([word]) + _NOT_ON, text, start)`, or with
    `ends=False` of `finditer(_whole([word]), text, start)` (not followed by (?![\w\-])).
    With `folded`, the text's keyscan.FoldedText copy, case-insensitively (re.IGNORECASE):
    `word` is then lower-case ASCII, found in `folded`."""
    within = text if folded is None else folded
    size = len(word)
    index = within.find(word, start)
    while index >= 0:
        if _in_word(text, index - 1) or (ends and _in_word(text, index + size)):
            index = within.find(word, index + 1)
        else:
            yield index
            index = within.find(word, index + max(size, 1))


def _in_word(text: str, index: int) -> bool:
    r"""The character at `index` is one of [\w\-] (False outside the text)."""
    if not 0 <= index < len(text):
        return False
    char = text[index]
    return char.isalnum() or char == "_" or char == "-"


def _whole_count(word: str, text: str) -> int:
    """len(re.findall(_whole([word]) + _NOT_ON, text))."""
    return sum(1 for _ in _whole_starts(word, text))


def _base_name(name: str) -> str:
    """The name without its size suffixes: "Foo-235B-A22B" -> "foo", "Foo7B" -> "foo"."""
    parts = _SEPARATOR.split(name.strip())
    while len(parts) > 2 and _SIZE.match(parts[-1]):
        parts = parts[:-2]
    return _norm(_SIZE_SUFFIX.sub("", "".join(parts)))


def _strip_note(system: str) -> str:
    """'Foo-7B (ours)' -> 'Foo-7B': a trailing note in brackets is not part of the name."""
    return _NOTE.sub("", system).strip() or system.strip()


def _key(system: str) -> str:
    system = _strip_note(system)
    return _base_name(system) or _norm(system)


@dataclass
class PaperNames:
    """What the paper calls its own models, and which model names it cites."""

    introduced: list[str]  # as written: the title's name first
    own: set[str]  # normalized: introduced names plus frequent never-cited names
    cited: set[str]  # normalized names written next to a citation, never an own name
    lexicon: Lexicon
    written: dict[str, str] = field(default_factory=dict)  # own key -> name as written
    variants: list[str] = field(default_factory=list)  # own variants mentioned, as written
    _own_memo: dict[str, bool] = field(default_factory=dict, repr=False, compare=False)
    _own_keys: tuple[str, ...] | None = field(default=None, repr=False, compare=False)

    def is_own(self, system: str) -> bool:
        """`system` is an own name, an own variant, or builds on an own name and is not cited
        ("PNASFoo-5" of own "PNAS", "Base-Foo-4B" of own "Foo")."""
        known = self._own_memo.get(system)
        if known is None:
            known = self._own_memo[system] = self._is_own(system)
        return known

    def _is_own(self, system: str) -> bool:
        if _is_row_label(system, self.lexicon):
            return True
        if not self._holds_own_key(system):
            return False
        key = _key(system)
        if not key:
            return False
        if key in self.own or self.family_of(system) is not None:
            return True
        if key in self.cited:
            return False
        return self._builds_on_own(_strip_note(system))

    def _holds_own_key(self, system: str) -> bool:
        """Some own key is in `system` normalized: else `_is_own` finds no own name, variant
        or name built on one (each key it looks up normalizes a part of `system`: its base
        name, a run of its parts, a prefix written as an own name)."""
        keys = self._own_keys
        if keys is None:
            keys = self._own_keys = tuple(
                self.own | set(self.written) | set(map(normalize_name, self.written.values())))
        normalized = normalize_name(system)
        return any(key in normalized for key in keys)

    def is_row_label(self, word: str) -> bool:
        """`word` is a table-row marker for the own model ("Ours", "Proposed"), which names
        nothing in running text ("the proposed mechanism")."""
        return _is_row_label(word, self.lexicon)

    def introduces_phrase(self, words: int) -> bool:
        """Some introduced name is written as `words` words or more ("Halcyon 2")."""
        return any(len(name.split()) >= words for name in self.introduced)

    def is_cited(self, system: str) -> bool:
        """`system` is not own and is written next to a citation or is a widely cited model."""
        key = _key(system)
        if len(key) < 2 or self.is_own(system):
            return False
        return key in self.cited or self.lexicon.known_models.match(_strip_note(system)) is not None

    def family_of(self, system: str) -> str | None:
        """The own family `system` belongs to (as written), or None: "Foo-7B-Chat" -> "Foo"."""
        parts = [p for p in _PARTS.split(_strip_note(system)) if p]
        words = self.lexicon.word_list("variant_words")
        for cut in range(len(parts), 0, -1):
            key = _norm(" ".join(parts[:cut]))
            if key in self.own and all(_is_variant(p, words) for p in parts[cut:]):
                return self.written.get(key, " ".join(parts[:cut]))
        return None

    def is_own_variant(self, system: str) -> bool:
        """`system` is an own family plus at least one variant suffix ("Foo-Large")."""
        family = self.family_of(system)
        return family is not None and _norm(family) != _norm(system)

    def _builds_on_own(self, system: str) -> bool:
        parts = [p for p in _PARTS.split(system) if p]
        for name, written in self.written.items():
            if len(name) < 3:
                continue
            if any(_norm(p) == name for p in parts[1:]):
                return True  # an own name as a later part: "Base-Foo-4B"
            glued = system[len(written) : len(written) + 1]
            if (
                system.lower().startswith(written.lower()) and _GLUED.match(glued)
                and self.lexicon.known_models.match(system) is None
            ):
                return True  # "FooNet-5" of own "Foo"
        return False


def _is_variant(part: str, words: frozenset[str]) -> bool:
    return bool(_VARIANT_TOKEN.match(part)) or part.lower() in words


def _is_row_label(system: str, lexicon: Lexicon) -> bool:
    """"Ours", "Ours (7B)", "Ours-Large": a table row that stands for the paper's own model."""
    labels = lexicon.word_list("own_row_labels")
    label = _strip_note(system).lower()
    whole = system.strip().lower()
    return whole in labels or bool(labels and _label_start(labels).match(label))


@lru_cache(maxsize=8)
def _label_start(labels: frozenset[str]) -> re.Pattern[str]:
    """One of `labels` at the start of a text, then its end, a space or a hyphen."""
    return re.compile(rf"(?:{'|'.join(map(re.escape, sorted(labels)))})(?:$|[\s\-])")


def analyse_names(title: str, pages: list[str], lexicon: Lexicon | None = None) -> PaperNames:
    """Introduced names, frequent uncited (own) names, cited names and own variants."""
    lexicon = lexicon or load_lexicon()
    body = _body(pages)
    tokens = _citable_tokens(body)
    cited = _cited_names(body, lexicon, tokens)
    introduced = _introduced(title, pages, body, lexicon, cited)
    written = {_norm(n): n for n in reversed(introduced) if _norm(n)}
    for key, name in _frequent_own(body, lexicon, cited, set(written), tokens).items():
        written.setdefault(key, name)
    own = set(written)
    names = PaperNames(introduced, own, cited - own, lexicon, written)
    names.variants = _mentioned_variants(body, names)
    return names


def introduced_names(
    title: str, pages: list[str], lexicon: Lexicon | None = None,
    cited: set[str] | None = None,
) -> list[str]:
    """Names the paper gives its own models, as written: the title's first."""
    lexicon = lexicon or load_lexicon()
    body = _body(pages)
    if cited is None:
        cited = _cited_names(body, lexicon, _citable_tokens(body))
    return _introduced(title, pages, body, lexicon, cited)


def _body(pages: list[str]) -> str:
    """The pages before the references."""
    body = "\n".join(pages)
    return body[: _references_offset(body)]


def _introduced(
    title: str, pages: list[str], body: str, lexicon: Lexicon, cited: set[str]
) -> list[str]:
    """introduced_names, given the body before the references and its cited names."""
    opening = "\n".join(pages[:OPENING_PAGES])
    folded = FoldedText(opening).folded  # for case-insensitive finds in the opening
    names = _title_names(title, opening, body, lexicon, cited, folded)
    names += _phrase_names(opening, lexicon, folded)
    names += _defined_names(title, names, opening, lexicon, folded)
    seen: dict[str, str] = {}
    for name in names:
        name = _without_footnote(name, opening)
        seen.setdefault(_norm(name), name)
    return [name for key, name in seen.items() if len(key) >= 2]


def _without_footnote(name: str, text: str) -> str:
    """"Foo2" -> "Foo" when the text mostly writes "Foo": a footnote mark glued to the name."""
    match = re.fullmatch(r"(?P<base>[A-Za-z][\w\-]*[A-Za-z])\d", name)
    if not match:
        return name
    bare = _whole_count(match["base"], text)
    marked = _whole_count(name, text)
    return match["base"] if bare > marked else name


# --- the title -------------------------------------------------------------------------


def _title_names(
    title: str, opening: str, body: str, lexicon: Lexicon, cited: set[str],
    folded: str | None = None,
) -> list[str]:
    """The name before the title's colon (or before "Technical Report"), then name-shaped
    title words the paper uses and never cites."""
    head, rest = _title_head(title, lexicon)
    if not head and len(title.split()) <= SHORT_TITLE:
        head = title  # "Foo Normalization": a short title names the method
    names = [_case_from_text(n, opening, folded) for n in _head_names(head, lexicon)]
    shouting = _mostly_upper(title)
    not_models = _not_names(lexicon)
    connectors = lexicon.word_list("title_connectors")
    for found in re.finditer(r"[A-Za-z0-9][\w\-.+]*[\w+]", rest):
        word = _case_from_text(found.group(0), opening, folded) if shouting else found.group(0)
        if not _name_shaped(word) or _is_common(word, not_models | connectors):
            continue
        uses = _whole_count(word, body)
        if _base_name(word) in cited or uses < 2:
            continue
        if lexicon.known_models.match(word) and (
            uses < 3 or re.match(r"\s+[A-Z]", rest[found.end() :])
        ):
            continue  # a famous name is the paper's only if it dwells on it, not as a modifier
        names.append(word)
    return names


def _title_head(title: str, lexicon: Lexicon) -> tuple[str, str]:
    report = lexicon.cue("title_report").search(title)
    if report:
        return title[: report.start()].strip(), ""
    head, colon, rest = title.partition(":")
    return (head.strip(), rest) if colon else ("", title)


def _head_names(head: str, lexicon: Lexicon) -> list[str]:
    """'Foo' / 'Foo and Bar' / 'Lattice Network': names, not a phrase ("Why X Works")."""
    connectors = lexicon.word_list("title_connectors") - {"and"}
    names = []
    if re.search(r"[,;?!]", head):
        return []  # "Train Fast, Test Well": a phrase
    for part in re.split(r"\s+(?:and|&)\s+", head):
        words = part.split()
        if not 1 <= len(words) <= 4 or any(w.lower() in connectors for w in words):
            return []
        if not all(w[:1].isupper() or w[:1].isdigit() or _name_shaped(w) for w in words):
            return []
        names.append(part.strip())
    return names


def _case_from_text(name: str, text: str, folded: str | None = None) -> str:
    """The spelling the text uses for a name printed in capitals ("FOONET" -> "FooNet").
    `folded`: the text's keyscan.FoldedText copy, if any (a word of ASCII is then found in it,
    case-insensitively, without a pattern)."""
    if not _mostly_upper(name):
        return name
    if folded is not None and name.isascii() and len(name.split()) == 1 and name == name.strip():
        found = (text[i : i + len(name)]
                 for i in _whole_starts(name.lower(), text, folded=folded))
    else:
        pattern = _whole(name.split(), r"[\s\-]?") + _NOT_ON
        found = (m.group(0) for m in re.finditer(pattern, text, re.IGNORECASE))
    spellings = Counter(spelling for spelling in found if not _mostly_upper(spelling))
    return spellings.most_common(1)[0][0] if spellings else name


def _mostly_upper(text: str) -> bool:
    ascii_text = text.encode("ascii", "ignore")
    if 5 * (len(ascii_text) - len(ascii_text.translate(None, _ASCII_LOWER))) > len(text):
        return False  # over a fifth of the text is a-z, so under 4/5 of its letters are capitals
    letters = "".join(filter(str.isalpha, text))  # map/filter: called on every line of a paper
    return len(letters) >= 2 and sum(map(str.isupper, letters)) >= 0.8 * len(letters)


def _name_shaped(word: str) -> bool:
    """A token that can only be a name: inner capitals or digits, an acronym, "kNN-Foo"."""
    if _COMPOUND.search(word) or _DIMENSIONS.fullmatch(word) or _NUMBER.fullmatch(word):
        return False
    inner = _INNER.search(word)
    acronym = _ACRONYM_WORD.fullmatch(word)
    return bool(inner or acronym or NAMEISH.match(word))


def _is_common(word: str, common: frozenset[str]) -> bool:
    lowered = word.lower()
    return (
        lowered in common or _norm(word) in common
        or _NUMBER_SUFFIX.sub("", lowered) in common
    )


# --- introducing phrases ---------------------------------------------------------------


def _phrase_names(opening: str, lexicon: Lexicon, folded: str | None) -> list[str]:
    """Names right after "we introduce", "called", "our largest model,", or marked "(ours)",
    "X, our largest model", "our X family"; never a name the sentence credits to others."""
    cue = lexicon.cue
    intro_before, intro_after = cue("name_intro_before"), cue("name_intro_after")
    family_after, own = cue("name_family_after"), cue("own")
    common = _not_names(lexicon) | lexicon.word_list("title_connectors")
    before_strings = lexicon.cue_strings["name_intro_before"]
    before_prefixes = match_prefixes(intro_before, classes=True)  # where its matches can start
    trimmed: dict[str, tuple[str, bool]] = {}  # a match -> _trim of it, and if that is plain
    words: dict[str, bool] = {}  # a token -> _is_word of it, within this call
    names = []
    for start, text in _names_in(opening):
        known = trimmed.get(text)
        if known is None:
            name = _trim(text.replace("\n", " "), common)
            known = trimmed[text] = (name, len(name.split()) == 1 and bool(_PLAIN.match(name)))
        name, plain = known
        if not name:
            continue
        end = start + len(name)
        after = opening[end : end + 80]
        family = bool(family_after.search(after))
        marked = not plain and bool(intro_after.search(after))
        if not (marked or family or _NAME_END.match(after)):
            continue  # neither marked nor introduced and ending ("our X family" is an end)
        before = opening[max(0, start - 120) : start]
        folded_before = folded and folded[start - len(before) : start]
        introduced = (family or bool(_NAME_END.match(after))) and bool(
            (holds_any(folded_before, before_strings)
             and search_at_prefixes(intro_before, before, folded_before, before_prefixes))
            or (family and own.search(before[-6:]))
        )
        if not (marked or introduced):
            continue
        first = name.split()[0]
        word = words.get(first)
        if word is None:
            word = words[first] = _is_word(first, opening)
        if word or _credited_to_others(before, after, lexicon):
            continue
        if marked and sum(_name_shaped(part) for part in name.split()) > 1:
            name = name.split()[-1]  # "FooNet BarNet BazNet (ours)": a table's row of names
        names.append(name)
    return names


def _names_in(text: str) -> Iterator[tuple[int, str]]:
    """The start and text of each match of `_NAME.finditer(text)`. (A match never ends right
    before another's first character, so the character before that is never in a match.)"""
    first = _NAME_FIRST.match(text)
    if first:
        yield 0, first.group(0)
    for match in _NAME_AFTER.finditer(text, first.end() if first else 0):
        yield match.start("name"), match["name"]


def _is_word(token: str, text: str) -> bool:
    """"Large-Scale" or "Foo-like" is an English compound, not a name: the text also writes
    it in lower case, or it ends in a lower-case part ("X-based")."""
    if _LOWER_TAIL.search(token):
        return True
    if not _COMPOUND.search(token):
        return False
    return next(_whole_starts(token.lower(), text), None) is not None


def _credited_to_others(before: str, after: str, lexicon: Lexicon) -> bool:
    """A citation in the sentence before the name or right after it ("called X [7]",
    "X pretraining (Smith et al., 2030)")."""
    sentence = _last_sentence(before)
    near = after[:35].split(",")[0]
    return bool(
        lexicon.cue("citation").search(sentence) or lexicon.cue("citation").search(near)
        or lexicon.cue("cited_after").search(after)
    )


def _last_sentence(text: str) -> str:
    """`_SENTENCE.split(text)[-1]`: the text after the last sentence boundary (each boundary
    is one character, so every place the pattern matches is a boundary split finds)."""
    found = _LAST_SENTENCE.match(text)
    return text[found.end() :] if found else text


def _trim(name: str, common: frozenset[str]) -> str:
    """Cut a matched name at a common word or a size: "Foo 2 In" -> "Foo 2", "Foo 7B" -> "Foo"."""
    parts: list[str] = []
    for part in name.split(" ")[:4]:
        if part.lower() in common or _SIZE.match(part):
            break
        parts.append(part)
    if not parts or parts[0].lower() in common or _norm(parts[0]) in common:
        return ""
    glued = _LOWER_HEAD.match(parts[0])
    if glued and glued.group(0) in common:
        return ""  # "theFoo": words run together by the PDF, not a lower-case name
    return " ".join(parts)


def _defined_names(
    title: str, names: list[str], opening: str, lexicon: Lexicon, folded: str | None = None
) -> list[str]:
    """Acronyms defined for a phrase of the title, for an own name, or for what the sentence
    introduces: "Foo Bar Networks (FBN)" -> the phrase and "FBN"."""
    title_words = _plain_words(title)
    own = {_norm(n) for n in names}
    introducing = lexicon.cue("name_intro_before")
    common = _not_names(lexicon)
    found = []
    spellings: dict[str, str] = {}  # an acronym as printed -> as the text spells it
    for match in _ACRONYM.finditer(opening):
        acronym = spellings.get(match["acr"]) or _case_from_text(match["acr"], opening, folded)
        spellings[match["acr"]] = acronym
        acronym = re.sub(r"(?<=[A-Z])s$", "", acronym)
        if not re.search(r"[A-Z].*[A-Z]|[a-z][A-Z]", acronym):
            continue
        sentence = _SENTENCE.split(opening[max(0, match.start() - 300) : match.start()])[-1]
        long_form = acronym_long_form(acronym, sentence)
        if not long_form or len(long_form.split()) < 2:
            continue
        if _norm(long_form) in own:
            found.append(acronym)
            continue
        if _is_common(acronym, common):
            continue
        if _contains_phrase(title_words, _plain_words(long_form)):
            if _coined(long_form, acronym):
                found += [long_form, acronym]
        elif introducing.search(sentence[: sentence.rfind(long_form)]):
            found.append(acronym)
    return found


def _coined(long_form: str, acronym: str) -> bool:
    """A title phrase names the paper's own thing, not a field ("deep learning (DL)"), when it
    is written capitalised or its acronym is coined ("FooNet")."""
    capitalised = all(w[:1].isupper() for w in long_form.split() if len(w) > 3)
    return capitalised or bool(re.search(r"[a-z]", acronym))


def acronym_long_form(acronym: str, text: str) -> str | None:
    """The phrase at the end of `text` that `acronym` abbreviates, or None.

    Schwartz & Hearst (2003): the acronym's characters are found right to left in the text,
    its first at the start of a word; the phrase has at most min(n + 5, 2n) words.
    """
    letters = [c.lower() for c in acronym if c.isalnum()]
    if not letters:
        return None
    text = text.rstrip()
    index = len(text) - 1
    for position in range(len(letters) - 1, -1, -1):
        char = letters[position]
        while index >= 0 and (
            text[index].lower() != char
            or (position == 0 and index > 0 and text[index - 1].isalnum())
        ):
            index -= 1
        if index < 0:
            return None
        index -= 1
    phrase = " ".join(text[index + 1 :].split()).strip(" ,;:\"'“”‘’")
    limit = min(len(letters) + 5, 2 * len(letters))
    return phrase if 0 < len(phrase.split()) <= limit else None


def _plain_words(text: str) -> list[str]:
    return [w.rstrip("s") for w in re.findall(r"[a-z0-9]+", text.lower())]


def _contains_phrase(words: list[str], phrase: list[str]) -> bool:
    size = len(phrase)
    return any(words[i : i + size] == phrase for i in range(len(words) - size + 1))


# --- frequent own names, cited names, variants -------------------------------------------


def _frequent_own(
    body: str, lexicon: Lexicon, cited: set[str], own: set[str], tokens: list[_Token]
) -> dict[str, str]:
    """Names used at least FREQUENT times, never cited, not widely cited, that the paper
    claims ("our X", "X (ours)", "we call ... X", a numbered heading "X architecture")."""
    common = _not_names(lexicon)
    models = [(first, last) for first, last, model in tokens if model]
    keys = _likely_frequent(body, models, cited | own, lambda n: _may_be_own(n, lexicon, common))
    counts: Counter[str] = Counter()
    spelling: dict[str, str] = {}
    chosen = [(first, last) for first, last in models if body[first:last] in keys]
    for token, count in _model_tokens(body, chosen).items():  # in order of first use
        key = keys[token]
        counts[key] += count
        spelling.setdefault(key, token)
    frequent = {
        key for key, count in counts.items()
        if count >= FREQUENT and _may_be_own(spelling[key], lexicon, common)
    }
    if not frequent:
        return {}
    spans = [(first, last) for first, last in chosen if keys[body[first:last]] in frequent]
    claimed = _claimed(body, lexicon, spans)  # only the claims of frequent names count
    for heading in _headings(body):
        if lexicon.cue("model_heading").search(heading):
            claimed.update(_base_name(w) for w in _MODEL_TOKEN.findall(heading))
    return {key: spelling[key] for key in frequent & claimed}


def _may_be_own(name: str, lexicon: Lexicon, common: frozenset[str]) -> bool:
    """`name` is not widely cited, not one of the `common` words, and distinctive: it may be
    a frequent own name."""
    return (
        lexicon.known_models.match(name) is None and not _is_common(name, common)
        and _distinctive(name)
    )


def _likely_frequent(
    body: str, models: list[tuple[int, int]], taken: set[str], fits: Callable[[str], bool]
) -> dict[str, str]:
    """Each model token (of the spans `models`) whose base name may be a frequent own name,
    and that base name: used FREQUENT times or more counting every line (`_model_tokens`
    leaves out some, never adds), not in `taken`, and one of its spellings `fits` (the one
    `_frequent_own` checks is among them). The lines in capitals are read for these only."""
    written = Counter(body[first:last] for first, last in models)
    keys = {token: _base_name(token) for token in written}
    uses: Counter[str] = Counter()
    for token, count in written.items():
        uses[keys[token]] += count
    likely = {
        key for key, count in uses.items()
        if count >= FREQUENT and len(key) >= 2 and key not in taken
    }
    likely = {keys[token] for token in keys if keys[token] in likely and fits(token)}
    return {token: key for token, key in keys.items() if key in likely}


def _model_tokens(body: str, models: list[tuple[int, int]]) -> Counter[str]:
    """The model tokens of `body` (their spans `models`) and how often each is used, not
    counting lines in capitals (a heading's words are not names)."""
    kept = []
    line_end, upper = -1, False  # the end of the line of the last token, which is in capitals
    for first, last in models:  # in order; a token never spans lines
        if first > line_end:
            start = body.rfind("\n", 0, first) + 1
            line_end = body.find("\n", first)
            line_end = len(body) if line_end < 0 else line_end
            upper = _mostly_upper(body[start:line_end])
        if not upper:
            kept.append(body[first:last])
    return Counter(kept)


def _headings(body: str) -> Iterator[str]:
    """The text of each numbered heading, as `_HEADING.finditer` finds them."""
    first = _HEADING.match(body)
    if first:
        yield first[1]
    yield from (m[1] for m in _HEADING_AFTER.finditer(body, first.end() if first else 0))


def _distinctive(name: str) -> bool:
    """Long or mixed enough to be a name, not an abbreviation ("WER") or a compound word."""
    if _COMPOUND.search(name):
        return False
    return len(_norm(name)) >= 4 or bool(re.search(r"[a-z]", name) and re.search(r"[A-Z]", name))


def _claimed(body: str, lexicon: Lexicon, models: list[tuple[int, int]]) -> set[str]:
    """Base names the paper claims: "our X", "X (ours)" (`models`: the model tokens' spans)."""
    blockers = lexicon.word_list("claim_blockers")
    claimed = {
        _base_name(m["name"]) for m in _OUR_NAME.finditer(body)
        if (m["next"] or "").lower() not in blockers  # "our Foo dataset" is not a model
    }
    after = lexicon.cue("name_intro_after")
    claimed.update(
        _base_name(body[start:end]) for start, end in models
        if after.match(body[end : end + 60])  # a slice: "^" holds at a string's start only
    )
    return claimed


def _citable_tokens(body: str) -> list[_Token]:
    """The citable tokens of `body` in order, as `finditer` with a lookbehind would find them."""
    tokens = []
    for match in _CITABLE.finditer(body):
        if match["inner"] is None:
            tokens.append((match.start(), match.end(), match["model"] is not None))
            continue
        start = match.start() - 1  # the word of lower-case letters and digits before it
        while start and body[start - 1] in _LOWER_DIGITS:
            start -= 1
        if _LOWER_START.match(body, start):  # its lookbehind sees the text before `start`
            tokens.append((start, match.end(), True))
    return tokens


def _cited_names(body: str, lexicon: Lexicon, tokens: list[_Token]) -> set[str]:
    """Normalized names written right before a citation marker."""
    search = lexicon.cue("cited_after").search
    version = _CITED_VERSION.match  # "Foo v2 [12]"; its match in body[end : end + 8]
    written = {body[start:end] for start, end, _ in tokens if search(body[end : end + 60])}
    written.update(
        body[start : found.end()] for start, end, _ in tokens
        if (found := version(body, end, end + 8)) and search(body[found.end() : found.end() + 60])
    )
    return {key for key in map(_base_name, written) if len(key) >= 2}


def _mentioned_variants(body: str, names: PaperNames) -> list[str]:
    """Own variant names the paper writes ("Foo-7B", "Foo-Large", "Foo 2 70B"), as written:
    suffixes after a hyphen, slash or underscore; after a space only a size or a capitalised
    variant word, at most two ("Foo 7B Chat")."""
    words = sorted(names.lexicon.word_list("variant_words"), key=len, reverse=True)
    tail = _variant_tail(tuple(words))
    found: dict[str, tuple[int, str]] = {}
    variant: dict[str, bool] = {}  # a text -> is_own_variant of it, within this call
    for written in sorted(set(names.written.values()), key=len, reverse=True):
        for start, end in _variant_spans(body, written, tail):
            text = " ".join(body[start:end].split())
            known = variant.get(text)
            if known is None:
                known = variant[text] = names.is_own_variant(text)
            if known:
                found.setdefault(_norm(text), (start, text))
    return [text for _, text in sorted(found.values())]


@lru_cache(maxsize=8)
def _variant_tail(words: tuple[str, ...]) -> re.Pattern[str]:
    """What may follow a name in a variant: joined and spaced suffixes, then no word (compiled
    once: the variant words make it long)."""
    word = "|".join(re.escape(w) for w in words)
    joined = rf"[\-_/](?:{_VARIANT_TEXT}|(?i:{word}))"
    spaced = rf"[ ](?:{_SIZE_TEXT}|(?=[A-Z])(?i:{word}))"
    return re.compile(rf"(?:{joined})*(?:{spaced}(?:{joined})*){{0,2}}(?![\w\-])")


def _variant_spans(body: str, written: str, tail: re.Pattern[str]) -> Iterator[tuple[int, int]]:
    """The spans `finditer` gives for the name `written` followed by `tail`. The name's words
    match in one way only from a given start (no word after the first starts with a hyphen,
    which its separator could take), so the tail is matched after each match of the name."""
    words = written.split()
    family = _whole(words, r"[\s\-]?")
    if any(w.startswith("-") for w in words[1:]):
        yield from (m.span() for m in re.finditer(family + tail.pattern, body))
        return
    name = re.compile(family) if len(words) > 1 or written != words[0] else None
    position = 0
    while (head := _name_span(name, written, body, position)) is not None:
        rest = tail.match(body, head[1])
        if rest is None:
            position = head[0] + 1
            continue
        yield head[0], rest.end()
        position = rest.end()


def _name_span(
    name: re.Pattern[str] | None, word: str, body: str, position: int
) -> tuple[int, int] | None:
    """The span of `name.search(body, position)`, or where `name` is None, of the single
    word `word` as `_whole([word])` finds it (with `str.find`: no pattern to compile)."""
    if name is not None:
        head = name.search(body, position)
        return head.span() if head else None
    start = next(_whole_starts(word, body, position, ends=False), None)
    return None if start is None else (start, start + len(word))


def _references_offset(text: str) -> int:
    """Where the (last) References heading starts, or the end of the text."""
    headings = list(_REFERENCES.finditer(text))
    return headings[-1].start() if headings else len(text)
