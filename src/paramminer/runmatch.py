"""The Matcher run only with the rules a run of tokens can hold.

A pattern token that every match holds (no OP, "+", or "{n}"/"{n,m}" with n >= 1) and that
lists its words (LOWER, ORTH or TEXT: one word or {"IN": [...]}) is a *required word*: a
run of tokens without any of its words holds no match of that rule. spaCy's Matcher tries
every pattern at every token and tests word lists and regexes in Python, so most of its
time goes to rules that cannot match where it looks (a page with no "parameters" on it).

`RunMatchers.matcher_for` gives a Matcher holding only the prose rules (role mention or
list; table rules are applied per table region) whose required words all occur in the run.
A Matcher holding some of the patterns finds exactly the matches the full one finds for
those patterns, in the same order: each pattern's partial matches advance on their own and
matches are listed as they complete (tests check this on every subset of the rules).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from spacy.attrs import LOWER, ORTH
from spacy.matcher import Matcher
from spacy.strings import StringStore
from spacy.tokens import Doc

from paramminer.rules import RuleSet

WORD_ATTRS = {"LOWER": LOWER, "ORTH": ORTH, "TEXT": ORTH}
_AT_LEAST = re.compile(r"^\{(\d+)(?:,\d*)?\}$")  # "{2}", "{1,3}", "{1,}"


@dataclass(frozen=True)
class WordNeed:
    """A match holds a token whose `attr` (LOWER or ORTH) is one of `words` (hashes)."""

    attr: int
    words: frozenset[int]


def _always_held(token: Mapping[str, Any]) -> bool:
    """Every match of the pattern holds this token at least once."""
    op = next((value for key, value in token.items() if str(key).upper() == "OP"), None)
    if op is None or op == "+":
        return True
    at_least = _AT_LEAST.match(str(op))
    return bool(at_least and int(at_least[1]) >= 1)


def _listed_words(token: Mapping[str, Any]) -> tuple[int, list[str]] | None:
    """(attr, words) when the token must be one of listed words; None otherwise."""
    for key, value in token.items():
        attr = WORD_ATTRS.get(str(key).upper())
        if attr is None:
            continue
        if isinstance(value, str):
            return attr, [value]
        if isinstance(value, dict) and set(value) == {"IN"} and all(
                isinstance(word, str) for word in value["IN"]):
            return attr, list(value["IN"])
    return None


def required_lists(pattern: Iterable[Mapping[str, Any]]) -> list[tuple[int, list[str]]]:
    """(attr, words) of each token of a pattern that every match holds and that lists its
    words: its required words."""
    return [listed for token in pattern
            if (listed := _listed_words(token)) is not None and _always_held(token)]


def required_words(pattern: Iterable[Mapping[str, Any]], strings: StringStore
                   ) -> tuple[WordNeed, ...]:
    """The required words of a pattern, one WordNeed per token that has them."""
    return tuple(WordNeed(attr, frozenset(strings.add(word) for word in words))
                 for attr, words in required_lists(pattern))


class RunMatchers:
    """The prose rules with their required words, and a Matcher per set of rules that can
    match (built when first needed).

    Each required word (a WordNeed) is a bit; `_word_bits[c]` gives, for a word read from
    attribute `attrs[c]`, the bits of the needs it meets. A run's bits are the OR of its
    tokens' words'; a rule can match there when every bit of its needs is set."""

    def __init__(self, ruleset: RuleSet) -> None:
        strings = ruleset.nlp.vocab.strings
        self.ruleset = ruleset
        self.rules = {key: rule for key, rule in ruleset.rules.items() if rule.role != "table"}
        self.needs = {key: required_words(rule.pattern, strings)
                      for key, rule in self.rules.items()}
        self.attrs: list[int | str] = sorted({n.attr for ns in self.needs.values() for n in ns})
        all_needs = sorted({n for ns in self.needs.values() for n in ns},
                           key=lambda n: (n.attr, sorted(n.words)))
        bit = {need: 1 << index for index, need in enumerate(all_needs)}
        self._word_bits: list[dict[int, int]] = [{} for _ in self.attrs]
        for need in all_needs:
            words = self._word_bits[self.attrs.index(need.attr)]
            for word in need.words:
                words[word] = words.get(word, 0) | bit[need]
        self._rule_bits = {key: sum(bit[n] for n in set(ns)) for key, ns in self.needs.items()}
        self._matchers: dict[int, Matcher | None] = {}

    def columns(self, doc: Doc) -> np.ndarray:
        """The doc's tokens' `attrs`, one row per token (read once per doc)."""
        if not self.attrs or not len(doc):
            return np.zeros((len(doc), len(self.attrs)), dtype=np.uint64)
        return doc.to_array(self.attrs).reshape(len(doc), len(self.attrs))

    def _bits(self, columns: np.ndarray) -> int:
        met = 0
        for words, column in zip(self._word_bits, columns.T.tolist(), strict=True):
            get = words.get
            for word in column:
                met |= get(word, 0)
        return met

    def _held(self, met: int) -> frozenset[str]:
        return frozenset(key for key, bits in self._rule_bits.items() if bits & ~met == 0)

    def held_by(self, columns: np.ndarray) -> frozenset[str]:
        """The rules whose required words all occur in these rows of `columns`."""
        return self._held(self._bits(columns))

    def matcher_for(self, columns: np.ndarray) -> Matcher | None:
        """A Matcher with the rules these tokens can hold (None: no rule can)."""
        met = self._bits(columns)
        if met not in self._matchers:
            keys = self._held(met)
            self._matchers[met] = self._build(keys) if keys else None
        return self._matchers[met]

    def _build(self, keys: frozenset[str]) -> Matcher:
        matcher = Matcher(self.ruleset.nlp.vocab)  # the patterns were validated at load
        for key, rule in self.rules.items():  # in the full Matcher's order
            if key in keys:
                matcher.add(key, [rule.pattern])
        return matcher


def run_matchers(ruleset: RuleSet) -> RunMatchers:
    """The ruleset's RunMatchers (built once per ruleset)."""
    cached = ruleset.cache.get("run_matchers")
    if not isinstance(cached, RunMatchers):
        cached = ruleset.cache["run_matchers"] = RunMatchers(ruleset)
    return cached
