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
from paramminer.runmatch import always_held, listed_words


@dataclass(frozen=True)
class Producer:
    """A producer rule: the pattern tokens that may be its count, its required words (each a
    regex of the words, and whether it reads the lower-cased text)."""

    slots: tuple[Mapping[str, Any], ...]
    needs: tuple[tuple[re.Pattern[str], bool], ...]


def _admits(spec: Any, value: str) -> bool:
    """Whether a token attribute's pattern value may accept `value` (True when unsure)."""
    if isinstance(spec, str):
        return spec == value
    if isinstance(spec, dict):
        if "IN" in spec and value not in spec["IN"]:
            return False
        if "NOT_IN" in spec and value in spec["NOT_IN"]:
            return False
        regex = spec.get("REGEX")
        return not (isinstance(regex, str) and re.search(regex, value) is None)
    return True


TEXT_KEYS = ("TEXT", "ORTH", "LOWER")


def may_be_count(slot: Mapping[str, Any], tag: str, text: str) -> bool:
    """Whether a pattern token may match a count token of this tag and text."""
    return admits_tag(slot, tag) and all(
        _admits(spec, text.lower() if key == "LOWER" else text)
        for key, spec in text_specs(slot))


def admits_tag(slot: Mapping[str, Any], tag: str) -> bool:
    """Whether a pattern token's TAG (if any) may accept `tag`."""
    return all(_admits(spec, tag) for key, spec in slot.items() if str(key).upper() == "TAG")


def text_specs(slot: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """A pattern token's tests of the token's text: (TEXT, ORTH or LOWER, value)."""
    return [(str(key).upper(), spec) for key, spec in slot.items()
            if str(key).upper() in TEXT_KEYS]


def required_patterns(pattern: Sequence[Mapping[str, Any]]
                      ) -> tuple[tuple[re.Pattern[str], bool], ...]:
    """Each required word of a pattern as (regex of its words, read lower-cased)."""
    needs = []
    for token in pattern:
        listed = listed_words(token)
        if listed is not None and always_held(token):
            attr, words = listed
            ordered = sorted(words, key=len, reverse=True)
            needs.append((re.compile("|".join(map(re.escape, ordered))), attr == LOWER))
    return tuple(needs)


def stays_in_sentence(pattern: Sequence[Mapping[str, Any]], last_free: bool) -> bool:
    """No token of a match but the first (and, with `last_free`, the last) may begin a
    sentence: each says IS_SENT_START false."""
    later = pattern[1:-1] if last_free else pattern[1:]
    return all(any(str(k).upper() == "IS_SENT_START" and v is False for k, v in token.items())
               for token in later)


class CountHolders:
    """`needed(flat, at, joined)`: whether the count `at` of the page text `flat` needs a
    window."""

    def __init__(self, producers: list[Producer], reach: int) -> None:
        self.producers = producers
        self.reach = reach
        self._by_tag: dict[str, list[tuple[Producer, list[list[tuple[str, Any]]]]]] = {}

    def _slots(self, tag: str) -> list[tuple[Producer, list[list[tuple[str, Any]]]]]:
        """The producers with a token that admits `tag`, each with those tokens' text tests;
        the producers without required words first."""
        if tag not in self._by_tag:
            entries = [(producer, [text_specs(slot) for slot in producer.slots
                                   if admits_tag(slot, tag)]) for producer in self.producers]
            self._by_tag[tag] = sorted(((p, tests) for p, tests in entries if tests),
                                       key=lambda entry: bool(entry[0].needs))
        return self._by_tag[tag]

    def holders(self, tag: str, text: str) -> list[Producer]:
        """The producers that may hold a count of this tag and text (those without required
        words first)."""
        return [producer for producer, slots in self._slots(tag) if _fits(slots, text)]

    def needed(self, flat: str, at: CountAt, joined: Callable[[int], bool]) -> bool:
        """Some producer may hold the count and has its required words near it. `joined(i)`:
        the spaces before `i` lie inside a count expression (merged into one token). The
        words are looked for first: most counts of a page are near none."""
        start, end, _, tag = at
        near = lowered = ""
        for producer, slots in self._slots(tag):
            if producer.needs:
                if not near:
                    near = flat[chunks_before(flat, start, self.reach, joined) :
                                chunks_after(flat, end, self.reach, joined)]
                    lowered = near.lower()
                if not all(regex.search(lowered if lower else near)
                           for regex, lower in producer.needs):
                    continue
            if _fits(slots, flat[start:end]):
                return True
        return False


def _fits(slots: list[list[tuple[str, Any]]], text: str) -> bool:
    """Whether one of a producer's tokens (their text tests) admits the count's text."""
    lowered = text.lower()
    return any(all(_admits(spec, lowered if key == "LOWER" else text) for key, spec in tests)
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
