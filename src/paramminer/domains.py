"""Domains (Language, Vision, ...) from arXiv categories and words in the paper.

The rules live in rules/domains.csv (kind, pattern, domain, weight), editable without
code. A domain's score adds up:

- its arXiv categories: the primary (first) one in full, cross-lists at half weight;
  cs.LG / stat.ML / cs.AI say nothing and have no rule;
- keyword hits: in the title (TITLE_FACTOR x weight, once per rule), in the abstract or
  the opening of page 1 (up to OPENING_CAP hits per rule), and in the body before the
  references (all hits, log-damped so long papers do not swamp the rest).

The primary domain is the best score; every domain within SECONDARY_RATIO of it applies too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from paramminer import resources
from paramminer.config import file_version, read_table
from paramminer.errors import ConfigError
from paramminer.keyscan import FoldedText, KeywordCounter, keyword_counters, required_strings

DEFAULT_RULES = "domains.csv"
TITLE_FACTOR = 3.0
OPENING_CAP = 3
OPENING_CHARS = 3000  # page 1 opening used when no abstract is known
BODY_FACTOR = 2.0
SECONDARY_RATIO = 0.5
MIN_SCORE = 3.0  # below this a domain is not claimed at all

_REFERENCES_HEADING = re.compile(r"(?im)^\s*(?:\d+\.?\s*)?(?:references|bibliography)\s*$")
_HEADING_LEAD = re.compile(r"[\s\d.]")  # what _REFERENCES_HEADING allows before its word


@dataclass(frozen=True)
class DomainRule:
    """One row of rules/domains.csv."""

    kind: str  # category / keyword
    pattern: str
    domain: str
    weight: float
    regex: re.Pattern[str] | None = None  # compiled keyword pattern
    counter: KeywordCounter | None = field(default=None, compare=False, repr=False)  # fast count


@dataclass(frozen=True)
class DomainResult:
    """The primary domain, every domain that applies (primary first) and the scores."""

    primary: str | None
    domains: tuple[str, ...]
    scores: tuple[tuple[str, float], ...] = ()


def load_domain_rules(path: Path | None = None) -> tuple[DomainRule, ...]:
    """Rules from `path` or rules/domains.csv; lines starting with '#' are comments."""
    table = path or resources.rules_dir() / DEFAULT_RULES
    return _load_rules(table, file_version(table))


@lru_cache(maxsize=8)
def _load_rules(path: Path, mtime: int) -> tuple[DomainRule, ...]:
    """Parsed rules, cached per file version (an edited file is read again)."""
    rules = []
    for number, row in read_table(path, "domain rules"):
        try:
            kind, pattern = row["kind"].strip(), row["pattern"].strip()
            domain, weight = row["domain"].strip(), float(row["weight"])
            if kind == "keyword":
                regex = re.compile(pattern, re.IGNORECASE)
                rules.append(DomainRule(kind, pattern, domain, weight, regex))
            elif kind == "category":
                rules.append(DomainRule(kind, pattern, domain, weight))
            else:
                raise ValueError(f"unknown kind {kind!r}")
        except (KeyError, AttributeError, ValueError, re.error) as exc:
            raise ConfigError(f"{path}: bad domain rule on row {number}: {exc}") from None
    counters = iter(keyword_counters([rule.regex for rule in rules if rule.regex]))  # one scan
    return tuple(replace(rule, counter=next(counters)) if rule.regex else rule for rule in rules)


def _category_matches(pattern: str, category: str) -> bool:
    if pattern.endswith(".*"):
        return category == pattern[:-2] or category.startswith(pattern[:-1])
    return category == pattern


def body_text(pages: Sequence[str]) -> str:
    """The pages joined, cut at the last References heading after page 1 (cited titles are
    not the paper's topic)."""
    return _body(pages).text


def _body(pages: Sequence[str]) -> FoldedText:
    """`body_text`, folded."""
    joined = FoldedText("\n".join(pages))
    headings = _references_headings(joined)
    if headings and headings[-1].start() > len(pages[0]):  # not a title-page heading
        return joined.head(headings[-1].start())
    return joined


def _references_headings(text: FoldedText) -> list[re.Match[str]]:
    """`list(_REFERENCES_HEADING.finditer(text.text))`, the pattern tried only where a match
    can start. Every match holds one of the pattern's words (`required_strings`), which the
    folded text shows, and before it only characters of _HEADING_LEAD. So from where the
    search stands, the next match can start no earlier than where the run of those
    characters before the next such word begins, and no later than that word (whose first
    letter is none of them); failing there, it holds a later word."""
    words = required_strings(_REFERENCES_HEADING)
    if words is None or text.folded is None:
        return list(_REFERENCES_HEADING.finditer(text.text))
    found: list[re.Match[str]] = []
    searched_to = 0  # the end of the last match: the next starts there or later
    for place in sorted(index for word in words for index in text.starts(word)):
        if place < searched_to:
            continue
        start = place
        while start > searched_to and _HEADING_LEAD.match(text.text, start - 1):
            start -= 1
        match = next(filter(None, (_REFERENCES_HEADING.match(text.text, at)
                                   for at in range(start, place + 1))), None)
        if match:
            found.append(match)
            searched_to = match.end()
    return found


def classify_domains(
    categories: Sequence[str],
    title: str,
    abstract: str = "",
    pages: Sequence[str] = (),
    rules: Sequence[DomainRule] | None = None,
) -> DomainResult:
    """Primary domain and all that apply, from categories, title, abstract and page texts."""
    table = load_domain_rules() if rules is None else rules
    scores: dict[str, float] = {}

    def add(domain: str, value: float) -> None:
        if value:
            scores[domain] = scores.get(domain, 0.0) + value

    for position, category in enumerate(c.strip() for c in categories if c.strip()):
        for rule in table:
            if rule.kind == "category" and _category_matches(rule.pattern, category):
                add(rule.domain, rule.weight * (1.0 if position == 0 else 0.5))
    opening = FoldedText(abstract or (pages[0][:OPENING_CHARS] if pages else ""))
    body = _body(pages)
    body_hits: dict[str, float] = {}
    for rule in table:
        if rule.regex is None:
            continue
        counter = rule.counter or KeywordCounter(rule.regex)
        in_title = 1 if rule.regex.search(title) else 0
        in_opening = min(counter.count(opening, OPENING_CAP), OPENING_CAP)
        add(rule.domain, rule.weight * (TITLE_FACTOR * in_title + in_opening))
        hits = counter.count(body)
        if hits:
            body_hits[rule.domain] = body_hits.get(rule.domain, 0.0) + rule.weight * hits
    for domain, weighted in body_hits.items():
        add(domain, BODY_FACTOR * math.log2(1.0 + weighted))
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    if not ranked or ranked[0][1] < MIN_SCORE:
        return DomainResult(None, (), tuple((d, round(s, 2)) for d, s in ranked))
    top = ranked[0][1]
    domains = tuple(d for d, s in ranked if s >= SECONDARY_RATIO * top and s >= MIN_SCORE)
    return DomainResult(domains[0], domains, tuple((d, round(s, 2)) for d, s in ranked))
