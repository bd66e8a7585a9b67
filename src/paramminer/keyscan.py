"""Count a keyword regex's matches in a long text fast, with exactly `len(findall)`'s result;
tell which lines of a page a regex cannot match, so that searching them can be skipped.

A case-insensitive pattern that starts with `\\b` gives Python's regex engine no prefix to
skip ahead with, so `findall` tries the whole pattern at every character. Most keyword
patterns start with literal words, though: `\\bimages?\\b|\\bvision\\b` can only match where
the lower-cased text reads "image" or "vision". `KeywordCounter` finds those places with
`str.find` on the lower-cased text (fast, in C), tries the pattern only there, and skips
what a match covers, as `findall` does. It is exact when

- every match of the pattern, lower-cased, starts with one of the prefixes read off the
  parsed pattern (literals after zero-width assertions, through groups and alternatives;
  only ASCII literals, since `str.lower` and the regex engine agree on ASCII), and
- the lower-cased text lines up with the text character by character, once the few
  characters the engine folds onto an ASCII letter other than by `str.lower`
  (`FOLDS_ONTO_ASCII`: dotted and dotless i, long s, the Kelvin sign) are that letter.

Where either cannot be shown (a pattern with no literal prefix), it falls back to `findall`.

When every match must start where `\\b` holds (`starts_at_boundary`), a prefix starting
with one of [a-z0-9_] can start a match only where a run of [a-z0-9_] begins in the
lower-cased text (no character outside `\\w` lower-cases to one of them; the characters of
`FOLDS_ONTO_ASCII` are in `\\w`). `RunScanner` finds such places for many prefixes in one
pass, so counters built by `keyword_counters` skip the prefixes a text lacks at no cost.

`FirstCharScan` finds the matches of a pattern opening with a class of a few characters
(`[.!?]...`) by one search per character, each opening with that literal character: the
engine skips ahead to a literal several times faster than to a class.

`required_strings` and `required_string_sets` give the strings a pattern cannot match
without (runs of literals or classes of literals, anywhere in the pattern): a text that
holds none of them needs no search.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import chain, pairwise
from operator import methodcaller
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

# Non-ASCII characters that an IGNORECASE pattern matches to an ASCII one (checked over every
# code point by tests/test_keyscan.py): dotted and dotless i, long s, the Kelvin sign.
FOLDS_ONTO_ASCII = re.compile("[\u0130\u0131\u017f\u212a]")
_ASCII_OF = {"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"}
MAX_PREFIXES = 64
_WORD = "abcdefghijklmnopqrstuvwxyz0123456789_"  # the lower-case ASCII of \w
_RUN_CLASS = "[a-z0-9_]"
_RUNS_ONLY = bytes(c if chr(c) in _WORD else 32 for c in range(256))  # others: a space


def fold(text: str) -> str | None:
    """`text` lower-cased so that finding a lower-case ASCII string in it finds what a
    case-insensitive pattern finds: the characters of FOLDS_ONTO_ASCII become the ASCII
    letter they match; None where lower-casing changes the length (positions would not
    line up)."""
    if text.isascii():
        return text.lower()
    if any(char in text for char in _ASCII_OF):  # a rare case: 4 quick finds first
        text = FOLDS_ONTO_ASCII.sub(lambda m: _ASCII_OF[m.group(0)], text)
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else None


def ascii_fold(text: str) -> str:
    """`text` with its ASCII letters lower-cased and every other character "?" (once the
    characters of FOLDS_ONTO_ASCII are the ASCII letter they match): an ASCII string
    without "?" is in it exactly where a case-insensitive pattern can read it, one character
    for one, so it stands in for `fold` in finding such strings (never None, and several
    times faster than `str.lower` on a text that is not ASCII)."""
    if text.isascii():
        return text.lower()
    if any(char in text for char in _ASCII_OF):
        text = FOLDS_ONTO_ASCII.sub(lambda m: _ASCII_OF[m.group(0)], text)
    return text.encode("ascii", "replace").lower().decode("ascii")


def holds_any(folded: str | None, strings: Sequence[str] | None) -> bool:
    """False only when the folded text `folded` holds none of `strings` (strings one of
    which every match of a pattern holds): then the pattern has no match in it. True when
    either is unknown (None)."""
    if folded is None or strings is None:
        return True
    return any(map(folded.__contains__, strings))


class FoldedText:
    """A text, its lower-cased copy when that can stand in for case-insensitive matching
    (else None), and the places each prefix occurs in it (found once, shared by patterns).
    The characters of FOLDS_ONTO_ASCII become the ASCII letter they match first."""

    def __init__(self, text: str, folded: str | None = None) -> None:
        """`folded`: the folded text when known (see `head`), else it is made here."""
        self.text = text
        self.folded = fold(text) if folded is None else folded
        self._starts: dict[str, list[int]] = {}
        self._runs: dict[RunScanner, dict[str, list[int]]] = {}

    def head(self, end: int) -> FoldedText:
        """The text up to `end`, its folded copy cut alike (`str.lower` may give a Greek
        sigma at the cut its final form: no ASCII prefix reads either form)."""
        if self.folded is None:
            return FoldedText(self.text[:end])
        return FoldedText(self.text[:end], self.folded[:end])

    def may_hold(self, regex: re.Pattern[str]) -> bool:
        """False only when no match of `regex` can be in the text: it lacks every string
        one of which each match holds (`required_strings`)."""
        return holds_any(self.folded, required_strings(regex))

    def starts(self, prefix: str) -> list[int]:
        """Every index where the lower-cased text reads `prefix` (overlaps included)."""
        found = self._starts.get(prefix)
        if found is None:
            found = []
            folded = self.folded or ""
            index = folded.find(prefix)
            while index >= 0:
                found.append(index)
                index = folded.find(prefix, index + 1)
            self._starts[prefix] = found
        return found

    def run_starts(self, scanner: RunScanner) -> dict[str, list[int]]:
        """`scanner.scan` of the text, done once."""
        found = self._runs.get(scanner)
        if found is None:
            found = self._runs[scanner] = scanner.scan(self.folded or "")
        return found


class RunScanner:
    """Where runs of [a-z0-9_] begin that start with (`leads`) or are (`words`) given
    strings, found in one pass of a regex (a trie of them) over the runs."""

    def __init__(self, leads: Iterable[str], words: Iterable[str]) -> None:
        self.leads, self.words = frozenset(leads), frozenset(words)
        self.lengths = sorted({len(lead) for lead in self.leads})
        trie = _trie([(lead, "") for lead in self.leads]
                     + [(word, f"(?!{_RUN_CLASS})") for word in self.words])
        self.regex = re.compile(f" (?={trie})({_RUN_CLASS}+)".encode("ascii"))

    def scan(self, folded: str) -> dict[str, list[int]]:
        """For each lead and word: the indices, in order, where a run of [a-z0-9_] of the
        lower-cased text `folded` begins that starts with it (lead) or is it (word)."""
        runs = b" " + folded.encode("ascii", "replace").translate(_RUNS_ONLY)
        places: dict[bytes, list[int]] = {}
        for match in self.regex.finditer(runs):  # a space, then the run at match.start() + 1
            places.setdefault(match.group(1), []).append(match.start())
        found: dict[str, list[int]] = {}
        for run, indices in places.items():
            text = run.decode("ascii")
            heads = [text[:n] for n in self.lengths if n <= len(text)]
            in_words = (text,) if text in self.words and text not in self.leads else ()
            for head in chain((h for h in heads if h in self.leads), in_words):
                found.setdefault(head, []).extend(indices)
        return {head: sorted(indices) for head, indices in found.items()}


def _trie(entries: list[tuple[str, str]]) -> str:
    """A regex for the strings of `entries`, each followed by its own tail regex; an entry
    with an empty tail ends the search there (the regex is used as a look-ahead)."""
    ends = [tail for key, tail in entries if not key]
    if "" in ends:
        return ""
    heads = sorted({key[0] for key, _ in entries if key})
    branches = [re.escape(head) + _trie([(key[1:], tail) for key, tail in entries
                                         if key[:1] == head]) for head in heads]
    options = ends + branches
    return options[0] if len(options) == 1 else "(?:" + "|".join(options) + ")"


class KeywordCounter:
    """`len(regex.findall(text))`, trying the regex only where one of its prefixes occurs
    (with a `scanner`: only where one begins a run of [a-z0-9_])."""

    def __init__(self, regex: re.Pattern[str], scanner: RunScanner | None = None) -> None:
        self.regex = regex
        self.prefixes = match_prefixes(regex)
        runs = run_prefixes(regex)
        usable = runs is not None and scanner is not None and all(
            lead in scanner.leads or (lead != prefix and lead in scanner.words)
            for prefix, lead in runs)
        self.scanner, self.runs = (scanner, runs) if usable else (None, None)

    def starts(self, text: FoldedText) -> list[int]:
        """In order, the places in `text` where a match can start."""
        if self.scanner is not None and self.runs is not None:
            found = text.run_starts(self.scanner)
            folded = text.folded or ""
            return sorted(set(chain.from_iterable(
                found.get(lead, ()) if lead == prefix else
                (i for i in found.get(lead, ()) if folded.startswith(prefix, i))
                for prefix, lead in self.runs)))
        assert self.prefixes is not None
        return sorted(set(chain.from_iterable(text.starts(p) for p in self.prefixes)))

    def count(self, text: FoldedText, limit: int | None = None) -> int:
        """Non-overlapping matches in `text`, as `findall` counts them; with `limit`, the
        count may stop there (any count >= limit stands for "at least limit")."""
        if self.prefixes is None or text.folded is None:
            return len(self.regex.findall(text.text))
        count = end = 0
        for start in self.starts(text):
            if start < end:  # inside the previous match: findall goes on from its end
                continue
            match = self.regex.match(text.text, start)
            if match:
                count += 1
                end = match.end()  # > start: every prefix is non-empty
                if limit is not None and count >= limit:
                    break
        return count


@lru_cache(maxsize=512)
def match_prefixes(regex: re.Pattern[str], classes: bool = False) -> tuple[str, ...] | None:
    """Non-empty lower-case ASCII strings one of which starts every match of `regex`,
    lower-cased; None when the pattern does not show such prefixes. With `classes`, also
    read through classes of ASCII literals ("[Ww]e" -> "we"; the keyword counters do not
    ask for it, so they scan as they did)."""
    try:
        parsed = sre_parse.parse(regex.pattern, regex.flags)
    except (re.error, TypeError, ValueError):
        return None
    found, _ = _prefixes(list(parsed), classes)
    if not found or "" in found:
        return None
    # a prefix that extends another finds nothing more: "cifar10" is where "cifar" is
    return tuple(sorted(p for p in found if not any(p != q and p.startswith(q) for q in found)))


def search_at_prefixes(
    regex: re.Pattern[str], text: str, folded: str | None, prefixes: tuple[str, ...] | None
) -> bool:
    """Whether `regex.search(text)` finds a match, trying `regex.match` only where one of
    `prefixes` (`match_prefixes(regex, classes=True)`) starts in `folded`, the text's
    folded copy (every match starts there); with either None, the search."""
    if folded is None or prefixes is None:
        return regex.search(text) is not None
    for prefix in prefixes:
        index = folded.find(prefix)
        while index >= 0:
            if regex.match(text, index):
                return True
            index = folded.find(prefix, index + 1)
    return False


def keyword_counters(regexes: Sequence[re.Pattern[str]]) -> list[KeywordCounter]:
    """A `KeywordCounter` for each regex; those whose matches start at a `\\b` share one
    `RunScanner`, so a text is scanned once for all their prefixes."""
    runs = [pair for regex in regexes for pair in run_prefixes(regex) or ()]
    scanner = RunScanner((lead for prefix, lead in runs if lead == prefix),
                         (lead for prefix, lead in runs if lead != prefix)) if runs else None
    return [KeywordCounter(regex, scanner) for regex in regexes]


@lru_cache(maxsize=512)
def run_prefixes(regex: re.Pattern[str]) -> tuple[tuple[str, str], ...] | None:
    """(prefix, its leading run of [a-z0-9_]) for each of `match_prefixes`, when every match
    starts where a Unicode `\\b` holds and every prefix starts with one of [a-z0-9_]."""
    prefixes = match_prefixes(regex)
    if prefixes is None or regex.flags & re.ASCII or not starts_at_boundary(regex):
        return None
    leads = [prefix[:len(prefix) - len(prefix.lstrip(_WORD))] for prefix in prefixes]
    if not all(leads):
        return None
    return tuple(zip(prefixes, leads, strict=True))


@lru_cache(maxsize=512)
def starts_at_boundary(regex: re.Pattern[str]) -> bool:
    """Whether on every path through the pattern a `\\b` comes before anything that
    consumes a character (zero-width assertions may come first)."""
    try:
        parsed = sre_parse.parse(regex.pattern, regex.flags)
    except (re.error, TypeError, ValueError):
        return False
    return _boundary_first(list(parsed)) is True


def _boundary_first(items: list[tuple[Any, Any]]) -> bool | None:
    """True: every path meets `\\b` first; False: some path may consume (or do what is not
    read here) first; None: all zero-width, no `\\b` on some path."""
    for op, arg in items:
        if op is sre.AT and arg is sre.AT_BOUNDARY:
            return True
        if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            continue
        if op is sre.SUBPATTERN:  # (group, added flags, removed flags, items)
            if arg[1] & sre.SRE_FLAG_ASCII:  # an ASCII \b
                return False
            result = _boundary_first(list(arg[3]))
        elif op is sre.BRANCH:
            results = [_boundary_first(list(branch)) for branch in arg[1]]
            result = False if False in results else None if None in results else True
        else:
            return False
        if result is not None:
            return result
    return None


def _prefixes(items: list[tuple[Any, Any]], classes: bool = False) -> tuple[set[str], bool]:
    """(prefixes every match of the item sequence starts with, whether they cover it whole);
    with `classes`, a class of ASCII literals adds each of its characters."""
    found = {""}
    for op, arg in items:
        if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):  # zero width: \b, ^, lookarounds
            continue
        if op is sre.LITERAL:
            if arg >= 128:
                return found, False
            found = {prefix + chr(arg).lower() for prefix in found}
            continue
        if classes and op is sre.IN and (chars := _literal_options(op, arg)) is not None:
            if len(found) * len(chars) > MAX_PREFIXES:
                return found, False
            found = {prefix + char for prefix in found for char in chars}
            continue
        if op is sre.SUBPATTERN:  # (group, added flags, removed flags, items)
            inner, whole = _prefixes(list(arg[3]), classes)
        elif op is sre.BRANCH:  # (None, [items of each alternative])
            parts = [_prefixes(list(branch), classes) for branch in arg[1]]
            inner = set().union(*(part for part, _ in parts))
            whole = all(done for _, done in parts)
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and arg[:2] == (0, 1):  # "x?": (0, 1, items)
            inner, whole = _prefixes(list(arg[2]), classes)
            if not whole:
                return found, False
            inner = inner | {""}
        else:  # repeats, classes, assertions: the prefix ends here
            return found, False
        joined = {prefix + tail for prefix in found for tail in inner}
        if len(joined) > MAX_PREFIXES:
            return found, False
        found = joined
        if not whole:
            return found, False
    return found, True


@lru_cache(maxsize=512)
def required_strings(regex: re.Pattern[str]) -> tuple[str, ...] | None:
    """Non-empty lower-case ASCII strings without a newline, one of which every match of
    `regex`, lower-cased, contains; None when the pattern does not show such strings."""
    try:
        parsed = sre_parse.parse(regex.pattern, regex.flags)
    except (re.error, TypeError, ValueError):
        return None
    best = _required(list(parsed))
    if not best or any("\n" in string for string in best):
        return None
    return tuple(sorted(best))


@lru_cache(maxsize=512)
def required_string_sets(regex: re.Pattern[str]) -> tuple[tuple[str, ...], ...] | None:
    """Every set of strings shown (see `required_strings`, which gives the best one): each
    match of `regex`, lower-cased, holds a string of each set; None when none is shown."""
    try:
        parsed = sre_parse.parse(regex.pattern, regex.flags)
    except (re.error, TypeError, ValueError):
        return None
    sets = {tuple(sorted(run)) for run in _required_options(list(parsed))
            if run and "" not in run and not any("\n" in string for string in run)}
    return tuple(sorted(sets)) or None


def _required_options(items: list[tuple[Any, Any]]) -> list[set[str]]:
    """The runs of literals of the item sequence, and the strings of each alternation every
    branch of which shows some (`_required`): a match holds a string of each."""
    options = list(_literal_runs(items))
    for op, arg in _flattened(items):
        if op is sre.BRANCH:  # (None, [items of each alternative]): one of them matches
            parts = [_required(list(branch)) for branch in arg[1]]
            if all(parts):
                options.append(set().union(*parts))
    return options


def _required(items: list[tuple[Any, Any]]) -> set[str]:
    """Strings one of which every match of the item sequence holds (empty: none shown): the
    longest run of literals, or the strings of an alternation every branch shows some of."""
    options = _required_options(items)
    best: set[str] = set()
    for run in options:
        if run and "" not in run and (not best or min(map(len, run)) > min(map(len, best))):
            best = run
    return best


def _literal_runs(items: list[tuple[Any, Any]]) -> list[set[str]]:
    """The runs of consecutive literals (or classes of literals) a match must go through,
    each as the set of strings it can read, lower-cased; groups are read through."""
    runs: list[set[str]] = []
    current = {""}
    for op, arg in _flattened(items):
        options = _literal_options(op, arg)
        joined = {a + b for a in current for b in options or ()}
        if options is None or len(joined) > MAX_PREFIXES:
            runs.append(current)
            current = {""} if options is None else set(options)
        else:
            current = joined
    runs.append(current)
    return runs


def _flattened(items: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """The items with every group's items put in its place (a group matches in sequence)."""
    flat: list[tuple[Any, Any]] = []
    for op, arg in items:
        if op is sre.SUBPATTERN:
            flat += _flattened(list(arg[3]))
        else:
            flat.append((op, arg))
    return flat


def _literal_options(op: Any, arg: Any) -> set[str] | None:
    """The ASCII characters (lower-cased) one item can match, or None if it is not one
    literal or a plain class of literals."""
    if op is sre.LITERAL:
        return {chr(arg).lower()} if arg < 128 else None
    if op is sre.IN and arg and all(kind is sre.LITERAL and code < 128 for kind, code in arg):
        return {chr(code).lower() for _, code in arg}
    return None


_START = methodcaller("start")


class FirstCharScan:
    """`pattern.finditer(text, pos)` (as a list), fast, for `pattern` = `[firsts]rest`: one
    search per character of `firsts` the text holds, each with that character as a literal
    first character, their matches merged in order. That is the same list where no two
    merged matches overlap (the first place they would differ is a match one of them finds
    and the other skips, inside an earlier match both find: an overlap), which holds when
    no match of `rest` holds a character of `firsts`; where two overlap, `pattern` is used.
    Every match must be non-empty (the first character is)."""

    def __init__(self, firsts: str, rest: str) -> None:
        self.pattern = re.compile(f"[{re.escape(firsts)}]{rest}")
        self.parts = tuple((first, re.compile(re.escape(first) + rest)) for first in firsts)

    def finditer(self, text: str, pos: int = 0) -> list[re.Match[str]]:
        """The matches of `pattern` in `text` from `pos`, in order."""
        parts = [part for first, part in self.parts if text.find(first, pos) >= 0]
        if len(parts) <= 1:  # the other characters are absent: the same search
            return list(parts[0].finditer(text, pos)) if parts else []
        found = sorted((match for part in parts for match in part.finditer(text, pos)),
                       key=_START)
        if any(match.end() > after.start() for match, after in pairwise(found)):
            return list(self.pattern.finditer(text, pos))
        return found
