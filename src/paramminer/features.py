"""Candidate sizes of a paper and their features: what the fitted headline model reads.

A candidate is one distinct size (mentions within 1% of each other are one candidate). Its
features say how it is stated (rule, prose or table), where (sections, pages), whose it is
(own and cited cues, names), how it is hedged, and where it ranks among the paper's sizes.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from paramminer.cues import mention_cues
from paramminer.models import Mention
from paramminer.names import PaperNames

MIN_HEADLINE = 10_000  # smaller values stay candidates but never become a headline
MAX_PLAUSIBLE = 50 * 10**12
SAME_SIZE = 0.01  # mentions within 1% are one candidate size
EXCLUDED_SECTIONS = frozenset({"references", "acknowledgments"})
HEADLINE_KINDS = frozenset({"total", "non_embedding"})
CITED_CUES = frozenset({"cited_name", "citation", "comparison", "example", "baseline"})
NAMED_OWN = frozenset({"own_name", "own_pronoun"})  # the size is tied to an own model's name
OWN_SIGNALS = frozenset({"own_name", "own_near", "own_sentence", "own_table", "own_pronoun"})
CLOSE_OWN = OWN_SIGNALS - {"own_sentence"}  # tied to the number, not only somewhere in its sentence
HEDGES = frozenset({"citation", "comparison", "baseline", "derived_from", "hypothetical",
                    "bound", "example", "approximate", "planned", "cited_name", "per_member",
                    "part_of", "flattened", "applied_to"})

MENTION_FEATURES = (
    "explicit_prose", "explicit_table", "weak", "name_size", "named",
    "in_front", "in_intro", "in_body", "in_conclusion", "in_related", "in_appendix",
    "page_frac", "non_embedding",
    "own_name", "cited_name", "own_near", "own_sentence", "own_table", "own_pronoun",
    "citation", "comparison", "baseline", "derived_from", "hypothetical", "bound", "example",
    "approximate", "planned", "per_member", "part_of", "main", "clean", "front_own", "front_clean",
)
GROUP_FEATURES = (
    "log_mentions", "log_pages", "in_front", "clean_own", "clean_own_prose", "clean_named_prose",
    "clean_close_prose", "rank_frac",
    "is_max", "is_max_own", "is_max_clean", "log_ratio_max", "log_value", "log_groups",
    "larger_clean_own", "larger_named_own", "own_frac", "cited_frac", "front_own",
)
FRONT_SECTIONS = frozenset({"front", "abstract", "introduction"})
_SECTION_FEATURE = {
    "front": "in_front", "abstract": "in_front", "introduction": "in_intro", "method": "in_body",
    "experiments": "in_body", "body": "in_body", "conclusion": "in_conclusion",
    "related": "in_related", "appendix": "in_appendix",
}


@dataclass(frozen=True)
class Candidate:
    """One distinct size of a paper: its mentions with their cues and features, and the
    features of the size within the paper."""

    value: int
    mentions: tuple[Mention, ...]
    cues: tuple[frozenset[str], ...]  # aligned with mentions
    mention_features: tuple[tuple[float, ...], ...]  # aligned with mentions; MENTION_FEATURES
    features: tuple[float, ...]  # GROUP_FEATURES

    def feature(self, name: str) -> float:
        """One group feature by name."""
        return self.features[GROUP_FEATURES.index(name)]

    @property
    def clean_own(self) -> bool:
        """Some mention states the size outright, as the paper's own, without a hedge."""
        return self.feature("clean_own") > 0

    @property
    def evidence(self) -> Mention:
        """The mention to show: an explicit, clean own statement in prose if any."""
        ranked = sorted(
            zip(self.mentions, self.cues, strict=True),
            key=lambda mc: (
                -clean_statement(mc[0], mc[1], prose=True),
                -clean_statement(mc[0], mc[1], prose=False),
                -len(OWN_SIGNALS & mc[1]), len(HEDGES & mc[1]), mc[0].page, mc[0].start,
            ),
        )
        return ranked[0][0]


def clean_statement(mention: Mention, cues: frozenset[str], prose: bool) -> bool:
    """The mention states the size outright (in running text when `prose`), as the paper's
    own, without a hedge."""
    return (
        mention.explicit
        and not (prose and mention.table)
        and bool(OWN_SIGNALS & cues)
        and not HEDGES & cues
    )


def group_sizes(mentions: Sequence[Mention]) -> list[list[Mention]]:
    """Mentions grouped by size (within 1%), largest first."""
    groups: list[list[Mention]] = []
    for mention in sorted(mentions, key=lambda m: -m.value):
        if groups and abs(groups[-1][0].value - mention.value) <= SAME_SIZE * groups[-1][0].value:
            groups[-1].append(mention)
        else:
            groups.append([mention])
    return groups


def headline_mentions(mentions: Sequence[Mention]) -> list[Mention]:
    """Mentions that may state a paper's headline size (plausible totals outside references)."""
    return [
        m for m in mentions
        if m.kind in HEADLINE_KINDS and MIN_HEADLINE <= m.value <= MAX_PLAUSIBLE
        and m.section not in EXCLUDED_SECTIONS
    ]


def is_cited(cues: frozenset[str]) -> bool:
    """The mention is written as someone else's model (and not tied to an own name)."""
    return bool(CITED_CUES & cues) and not NAMED_OWN & cues


def candidates(
    mentions: Sequence[Mention], names: PaperNames, n_pages: int,
    known_cues: Mapping[int, frozenset[str]] | None = None,
) -> list[Candidate]:
    """The paper's candidate sizes with their features, largest first. A size every mention
    of which is someone else's model is no candidate. `known_cues` (by id of the mention)
    saves computing cues a caller already has."""
    known_cues = known_cues or {}
    groups, cues = [], []
    for group in group_sizes(headline_mentions(mentions)):
        group_cues = [known_cues[id(m)] if id(m) in known_cues else mention_cues(m, names)
                      for m in group]
        if not all(is_cited(c) for c in group_cues):
            groups.append(group)
            cues.append(group_cues)
    own_values = [g[0].value for g, c in zip(groups, cues, strict=True)
                  if any(OWN_SIGNALS & cs for cs in c)]
    clean_values = [g[0].value for g, c in zip(groups, cues, strict=True)
                    if any(clean_statement(m, cs, prose=False) for m, cs in zip(g, c, strict=True))]
    named_values = [g[0].value for g, c in zip(groups, cues, strict=True)
                    if any(clean_statement(m, cs, prose=False) and NAMED_OWN & cs
                           for m, cs in zip(g, c, strict=True))]
    paper = _PaperContext(
        n_pages=max(1, n_pages), n_groups=len(groups),
        max_value=groups[0][0].value if groups else 1,
        max_own=max(own_values, default=0), clean_values=clean_values,
        named_values=named_values,
    )
    return [
        Candidate(
            value=Counter(m.value for m in group).most_common(1)[0][0],
            mentions=tuple(group),
            cues=tuple(group_cues),
            mention_features=tuple(
                mention_features(m, c, paper.n_pages)
                for m, c in zip(group, group_cues, strict=True)
            ),
            features=_group_features(group, group_cues, rank, paper),
        )
        for rank, (group, group_cues) in enumerate(zip(groups, cues, strict=True))
    ]


@dataclass(frozen=True)
class _PaperContext:
    n_pages: int
    n_groups: int
    max_value: int
    max_own: int
    clean_values: list[int]
    named_values: list[int]  # sizes stated outright as an own model's, by name


def mention_features(mention: Mention, cues: frozenset[str], n_pages: int) -> tuple[float, ...]:
    """The mention's features, in MENTION_FEATURES order."""
    on = set(cues)
    on.add("explicit_prose" if mention.explicit and not mention.table else
           "explicit_table" if mention.explicit else "weak")
    if mention.system:
        on.add("named")
        if mention.system == mention.text:
            on.add("name_size")
    if mention.section in _SECTION_FEATURE:
        on.add(_SECTION_FEATURE[mention.section])
    if mention.kind == "non_embedding":
        on.add("non_embedding")
    own = bool(OWN_SIGNALS & cues) and not is_cited(cues)
    if clean_statement(mention, cues, prose=False):
        on.add("clean")
        if mention.section in FRONT_SECTIONS:
            on.add("front_clean")
    if own and mention.section in FRONT_SECTIONS:
        on.add("front_own")
    page_frac = (mention.page - 1) / max(1, n_pages)
    return tuple(page_frac if name == "page_frac" else float(name in on)
                 for name in MENTION_FEATURES)


def _group_features(
    group: list[Mention], cues: list[frozenset[str]], rank: int, paper: _PaperContext
) -> tuple[float, ...]:
    value = group[0].value
    pairs = list(zip(group, cues, strict=True))
    values = {
        "log_mentions": math.log1p(len(group)),
        "log_pages": math.log1p(len({m.page for m in group})),
        "in_front": float(any(m.section in ("front", "abstract") for m in group)),
        "clean_own": float(any(clean_statement(m, c, prose=False) for m, c in pairs)),
        "clean_own_prose": float(any(clean_statement(m, c, prose=True) for m, c in pairs)),
        "clean_named_prose": float(any(clean_statement(m, c, prose=True) and NAMED_OWN & c
                                       for m, c in pairs)),
        "clean_close_prose": float(any(clean_statement(m, c, prose=True) and CLOSE_OWN & c
                                       for m, c in pairs)),
        "rank_frac": rank / max(1, paper.n_groups - 1),
        "is_max": float(rank == 0),
        "is_max_own": float(value == paper.max_own),
        "is_max_clean": float(value == max(paper.clean_values, default=0)),
        "log_ratio_max": math.log10(value / paper.max_value),
        "log_value": math.log10(value) - 9.0,
        "log_groups": math.log1p(paper.n_groups),
        "larger_clean_own": float(any(v > value * 1.05 for v in paper.clean_values)),
        "larger_named_own": float(any(v > value * 1.05 for v in paper.named_values)),
        "own_frac": sum(bool(OWN_SIGNALS & c) and not is_cited(c) for c in cues) / len(cues),
        "cited_frac": sum(is_cited(c) for c in cues) / len(cues),
        "front_own": float(any(m.section in FRONT_SECTIONS and OWN_SIGNALS & c
                               and not is_cited(c) for m, c in pairs)),
    }
    return tuple(values[name] for name in GROUP_FEATURES)
