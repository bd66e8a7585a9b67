"""Which counts of a page some rule could make a mention of: the others need no window.

A count becomes a mention only through a match that holds it (or as a table cell, which
has spots of its own). Rules are of two sorts:

- *producers* (role mention, no `needs_anchor`) make mentions of the counts they match;
- *dependents* make a mention only together with an anchor mention in the same sentence:
  a list rule's matches link counts to an anchor, and no token of them but the first may
  begin a sentence (IS_SENT_START false), so a linked group lies in one sentence; a
  `needs_anchor` rule's count needs an anchor before it in its sentence, and no token of
  its matches but the first and the last may begin one. A window holds the whole sentence
  of each of its counts and the token after it, so the anchor's window holds what these
  rules need. A dependent rule of any other shape turns this filter off.

A producer's match holds the count in one of its pattern tokens (one whose TAG, TEXT, ORTH
or LOWER admit the count's tag and text) and every one of its required words
(runmatch.required_words) within `reach` tokens of it. Every run of spaces separates two
tokens (only a count expression with a space inside is merged into one token), so those
words lie within `reach` chunks of non-spaces of the count, counting a count expression's
chunks as one. A count with no producer whose required words all occur there (lower-cased
for LOWER) is matched by no producer and needs no window. Counts that a producer without
required words may hold are always kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from spacy.attrs import LOWER

from paramminer.rules import CountAt, Rule, RuleSet
from paramminer.runmatch import required_lists


@dataclass(frozen=True)
class Producer:
    """A producer rule: the pattern tokens that may be its count, its required words (each a
    regex of the words, and whether it reads the lower-cased text)."""

    slots: tuple[Mapping[str, Any], ...]
    needs: tuple[tuple[re.Pattern[str], bool], ...]


TEXT_KEYS = ("TEXT", "ORTH", "LOWER")


@dataclass(frozen=True)
class TextTest:
    """A test a pattern token makes of a token's text (TEXT, ORTH, or LOWER: `lower`)."""

    lower: bool
    equals: str | None = None
    within: frozenset[Any] | None = None
    outside: frozenset[Any] = frozenset()
    regex: re.Pattern[str] | None = None

    def admits(self, text: str, lowered: str) -> bool:
        """Whether a token of this text (lower-cased: `lowered`) may pass."""
        value = lowered if self.lower else text
        return ((self.equals is None or value == self.equals)
                and (self.within is None or value in self.within)
                and value not in self.outside
                and (self.regex is None or self.regex.search(value) is not None))


def text_tests(slot: Mapping[str, Any]) -> list[TextTest]:
    """A pattern token's tests of the token's text (those this module reads: one value,
    IN, NOT_IN, REGEX; any other may pass)."""
    tests = []
    for key, spec in slot.items():
        name = str(key).upper()
        if name not in TEXT_KEYS:
            continue
        lower = name == "LOWER"
        if isinstance(spec, str):
            tests.append(TextTest(lower, equals=spec))
        elif isinstance(spec, dict):
            regex = spec.get("REGEX")
            tests.append(TextTest(
                lower, within=frozenset(spec["IN"]) if "IN" in spec else None,
                outside=frozenset(spec.get("NOT_IN", ())),
                regex=re.compile(regex) if isinstance(regex, str) else None))
    return tests


def may_be_count(slot: Mapping[str, Any], tag: str, text: str) -> bool:
    """Whether a pattern token may match a count token of this tag and text."""
    return admits_tag(slot, tag) and all(
        test.admits(text, text.lower()) for test in text_tests(slot))


def admits_tag(slot: Mapping[str, Any], tag: str) -> bool:
    """Whether a pattern token's TAG (if any) may accept `tag` (one value, IN, NOT_IN)."""
    for key, spec in slot.items():
        if str(key).upper() != "TAG":
            continue
        if isinstance(spec, str) and spec != tag:
            return False
        if isinstance(spec, dict) and (("IN" in spec and tag not in spec["IN"])
                                       or tag in spec.get("NOT_IN", ())):
            return False
    return True


def required_patterns(pattern: Sequence[Mapping[str, Any]]
                      ) -> tuple[tuple[re.Pattern[str], bool], ...]:
    """Each required word of a pattern as (regex of its words, read lower-cased)."""
    return tuple((re.compile("|".join(map(re.escape, sorted(words, key=len, reverse=True)))),
                  attr == LOWER) for attr, words in required_lists(pattern))


def stays_in_sentence(pattern: Sequence[Mapping[str, Any]], last_free: bool) -> bool:
    """No token of a match but the first (and, with `last_free`, the last) may begin a
    sentence: each says IS_SENT_START false."""
    later = pattern[1:-1] if last_free else pattern[1:]
    return all(any(str(k).upper() == "IS_SENT_START" and v is False for k, v in token.items())
               for token in later)


# the text tests of each token of a producer that may be a count; [] when one has none
Slots = list[list[TextTest]]


class CountHolders:
    """`needed(flat, at, joined)`: whether the count `at` of the page text `flat` needs a
    window."""

    def __init__(self, producers: list[Producer], reach: int) -> None:
        self.producers = producers
        self.reach = reach
        self._by_tag: dict[str, list[tuple[Producer, Slots]]] = {}

    def _slots(self, tag: str) -> list[tuple[Producer, Slots]]:
        """The producers with a token that admits `tag`, each with those tokens' text tests;
        the producers without required words first."""
        if tag not in self._by_tag:
            entries = [(producer, [text_tests(slot) for slot in producer.slots
                                   if admits_tag(slot, tag)]) for producer in self.producers]
            self._by_tag[tag] = sorted(
                ((p, [] if [] in slots else slots) for p, slots in entries if slots),
                key=lambda entry: bool(entry[0].needs))
        return self._by_tag[tag]

    def needed(self, flat: str, at: CountAt, joined: Callable[[int], bool]) -> bool:
        """Some producer may hold the count and has its required words near it. `joined(i)`:
        the spaces before `i` lie inside a count expression (merged into one token)."""
        start, end, _, tag = at
        text = flat[start:end]
        lowered = text.lower()
        near = near_lowered = ""
        for producer, slots in self._slots(tag):
            if not _fits(slots, text, lowered):
                continue
            if not producer.needs:
                return True
            if not near:
                near = flat[chunks_before(flat, start, self.reach, joined) :
                            chunks_after(flat, end, self.reach, joined)]
                near_lowered = near.lower()
            if all(regex.search(near_lowered if lower else near)
                   for regex, lower in producer.needs):
                return True
        return False


def _fits(slots: Slots, text: str, lowered: str) -> bool:
    """Whether one of a producer's tokens (their text tests) admits the count's text."""
    return not slots or any(all(test.admits(text, lowered) for test in tests)
                            for tests in slots)


def chunks_before(text: str, position: int, count: int, joined: Callable[[int], bool]) -> int:
    """Where the `count`-th chunk (a run of non-spaces) before the one holding `position`
    starts (0 at most); a chunk `joined` to the one before it (inside a count expression)
    counts with it as one."""
    start = text.rfind(" ", 0, position) + 1
    while start > 0:
        if not joined(start):
            if count == 0:
                break
            count -= 1
        before = start - 1
        while before >= 0 and text[before] == " ":
            before -= 1
        if before < 0:
            return 0
        start = text.rfind(" ", 0, before) + 1
    return start


def chunks_after(text: str, position: int, count: int, joined: Callable[[int], bool]) -> int:
    """Where the `count`-th chunk after the one ending at or after `position` ends (len at
    most); a chunk `joined` to the one before it counts with it as one."""
    end = text.find(" ", position)
    while end >= 0:
        after = end
        while after < len(text) and text[after] == " ":
            after += 1
        if after >= len(text):
            return len(text)
        if not joined(after):
            if count == 0:
                break
            count -= 1
        end = text.find(" ", after)
    return len(text) if end < 0 else end


def count_holders(ruleset: RuleSet, reach: int | None) -> CountHolders | None:
    """The ruleset's CountHolders (None when the filter cannot hold: a rule of unbounded
    reach, or a dependent rule whose matches may leave their sentence)."""
    if reach is None:
        return None
    cached = ruleset.cache.get("count_holders", False)
    if cached is False:
        cached = ruleset.cache["count_holders"] = _build(list(ruleset.rules.values()), reach)
    return cached if isinstance(cached, CountHolders) else None


def _build(rules: list[Rule], reach: int) -> CountHolders | None:
    lists = [rule for rule in rules if rule.role == "list"]
    anchored = [rule for rule in rules if rule.role == "mention" and rule.needs_anchor]
    if not (all(stays_in_sentence(rule.pattern, last_free=False) for rule in lists)
            and all(stays_in_sentence(rule.pattern, last_free=True) for rule in anchored)):
        return None
    producers = [Producer(tuple(rule.pattern), required_patterns(rule.pattern))
                 for rule in rules if rule.role == "mention" and not rule.needs_anchor]
    return CountHolders(producers, reach)
