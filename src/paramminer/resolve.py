"""Decide, per paper, its systems, the headline, its confidence and the flags a reviewer sees.

The steps, each a function below: the paper's names (names.py) -> candidate sizes with their
features (features.py) -> the fitted model's headline and calibrated confidence
(headline_model.py) -> hard gates on `auto` -> reason codes -> MoE active count -> system rows.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from pathlib import Path

from paramminer.config import file_version
from paramminer.cues import CueSearch, PaperCues, mention_cues
from paramminer.features import (
    CITED_CUES,
    EXCLUDED_SECTIONS,
    MAX_PLAUSIBLE,
    MIN_HEADLINE,
    OWN_SIGNALS,
    Candidate,
    candidates,
    clean_statement,
    is_cited,
    mention_features,
)
from paramminer.headline_model import (
    Decision,
    Gate,
    HeadlineModel,
    load_model,
    model_path,
    neutral_model,
)
from paramminer.lexicon import Lexicon, load_lexicon
from paramminer.models import Flag, Mention, Resolution, SystemRow
from paramminer.names import PaperNames, analyse_names, guess_title
from paramminer.numbers import humanize

MIN_PLAUSIBLE = 1_000
RIVAL_SHARE = 0.25  # a runner-up with this much of the softmax makes the choice uncertain
SECONDARY_SHARE = 0.1  # other sizes listed as systems: clean own statements, or this share
OWN_SCORE = 0.5  # mention probability from which an own-looking mention has the own scope
# `auto` needs an explicit, unhedged statement in prose, own by the words next to the number
STATEMENT = "clean_close_prose"
LARGER = "larger_clean_own"  # the group feature that says a larger own size is stated
FAMILY_LIMIT = 5  # more own sizes than this: the system of record is a reviewer's call
IMPLAUSIBLE_RATIO = 1000  # a headline this far from every other own size is suspicious
MODEL_ENV = "PARAMMINER_HEADLINE_MODEL"
__all__ = ["MAX_PLAUSIBLE", "MIN_HEADLINE", "MIN_PLAUSIBLE", "guess_title", "resolve"]


@lru_cache(maxsize=2)
def _model(path: Path | None, stamp: int) -> HeadlineModel:
    return load_model(path)


def current_model() -> HeadlineModel:
    """The model in force: $PARAMMINER_HEADLINE_MODEL (a model file, or `none` for the
    unfitted neutral model that never auto-accepts), else the newest fitted model in rules/."""
    chosen = os.environ.get(MODEL_ENV, "")
    if chosen.lower() == "none":
        return neutral_model()
    path = Path(chosen) if chosen else model_path()
    return _model(path, file_version(path) if path else -1)


@dataclass(frozen=True)
class _Paper:
    """What resolve knows about the paper as a whole."""

    names: PaperNames
    title: str
    pages: list[str]
    lexicon: Lexicon

    @cached_property
    def presents_no_model(self) -> bool:
        """Its title, or the sentence of its first page that introduces its contribution,
        says it is a survey, a benchmark, an optimizer, a system or a tool, not a model."""
        return bool(self.lexicon.cue("not_model_paper").search(self.title)
                    or (self.pages and self.lexicon.cue("not_model_intro").search(
                        " ".join(self.pages[0].split()))))

    @cached_property
    def about_moe(self) -> bool:
        """Its first pages speak of a mixture of experts (searched once per paper)."""
        return CueSearch(self.lexicon).search("moe", "\n".join(self.pages[:4]))

    def unsized_variants(self, mentions: Sequence[Mention]) -> list[str]:
        """Own variants named by a size tier ("Foo-XL", "Foo-Large") that no count is tied
        to: the paper may present a larger model whose size it does not state."""
        tiers = self.lexicon.word_list("size_tier_words")
        sized = {_norm(m.system) for m in mentions if m.system}
        return [v for v in self.names.variants
                if _norm(v) not in sized and _tier(v) in tiers]


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _tier(variant: str) -> str:
    """The last word of a variant name: "Foo-XL" -> "xl"."""
    return re.split(r"[\s\-_/]+", variant.strip().lower())[-1]


def _in_family(cand: Candidate) -> bool:
    return any({"own_name", "own_table"} & cues for cues in cand.cues)


def own_family(cands: Sequence[Candidate]) -> int:
    """How many distinct sizes the paper ties to its own models by name or in its tables."""
    return sum(_in_family(c) for c in cands)


def below_family_top(cands: Sequence[Candidate], chosen: Candidate) -> bool:
    """A larger size of the paper's own family exists."""
    return any(c.value > chosen.value * 1.05 and _in_family(c) for c in cands)


def family_judgment(cands: Sequence[Candidate], chosen: Candidate, family: int) -> bool:
    """Which of many own sizes is the system of record is a reviewer's call, unless the
    chosen one is both the largest (DOMAIN.md: "the main one or the largest one") and the
    one the front matter states (the main one)."""
    return family > FAMILY_LIMIT and (below_family_top(cands, chosen)
                                      or not chosen.feature("in_front"))


def auto_gate(paper: _Paper, unsized: Sequence[str], family: int) -> Gate:
    """The hard conditions of `auto` for this paper, beyond the model's confidence: it
    presents a model, states the size of every size tier it names, and its family of own
    sizes is small enough that the system of record is not a judgment call."""

    def gate(cands: Sequence[Candidate], index: int) -> bool:
        return (auto_allowed(cands, index) and not paper.presents_no_model and not unsized
                and not family_judgment(cands, cands[index], family))

    return gate


def auto_allowed(cands: Sequence[Candidate], index: int) -> bool:
    """An unreviewed value needs an explicit, unhedged statement in running text that ties the
    size to the paper's own model by the words next to it (an own name, "our", "we train"),
    no larger size the paper also states outright as its own, and no mention of the size as
    one member of several ("5 LSTMs with 380M parameters each": the system may be the sum)."""
    chosen = cands[index]
    return (chosen.feature(STATEMENT) > 0 and chosen.feature(LARGER) == 0
            and not any("per_member" in cues for cues in chosen.cues))


def resolve(
    mentions: list[Mention], pages: list[str], title: str = "",
    model: HeadlineModel | None = None, lexicon: Lexicon | None = None,
) -> Resolution:
    """Score every mention, build the paper's systems, pick the headline, flag what is unsure."""
    lexicon = lexicon or load_lexicon()
    title = title or (guess_title(pages[0], pages[1:]) if pages else "")
    paper = _Paper(analyse_names(title, pages, lexicon), title, pages, lexicon)
    model = model or current_model()
    paper_cues = PaperCues(paper.names)
    cues = {id(m): mention_cues(m, paper.names, paper_cues) for m in mentions
            if m.section not in EXCLUDED_SECTIONS}
    cands = candidates(mentions, paper.names, len(pages), cues)
    unsized = paper.unsized_variants(mentions)
    family = own_family(cands)
    decision = model.decide(cands, auto_gate(paper, unsized, family))
    scored = _score_mentions(mentions, cues, paper, model)
    if decision.index is None:
        return Resolution(scored, [], [], paper.names.introduced, title, cands, decision,
                          not paper.presents_no_model, unsized)
    flags = _flags(cands, decision, paper, model)
    if unsized:
        flags.append(Flag("several_candidates", "own variants whose size the paper does not "
                          "state: " + ", ".join(unsized[:5])))
    if family_judgment(cands, cands[decision.index], family):
        flags.append(Flag("several_candidates", f"a family of {family} own sizes: which one "
                          "is the system of record is a judgment call"))
    flags = _unique(flags)
    auto = decision.auto and not flags
    active = _active_count(scored, cands[decision.index], paper)
    if active is None and _is_moe(scored, paper):
        flags.append(Flag("moe_ambiguity", "mixture of experts without a clear active count"))
        auto = False
    systems = _systems(cands, decision, auto, active, paper.names, scored)
    return Resolution(scored, systems, flags, paper.names.introduced, title, cands, decision,
                      not paper.presents_no_model and family <= FAMILY_LIMIT, unsized)


def _score_mentions(
    mentions: list[Mention], cues_of: dict[int, frozenset[str]], paper: _Paper,
    model: HeadlineModel,
) -> list[Mention]:
    """New mentions with score (probability of stating a recorded size), scope and cues.
    Mentions in the references or acknowledgments are cited and score 0."""
    scored = []
    for mention in mentions:
        if mention.section in EXCLUDED_SECTIONS:
            scored.append(replace(mention, score=0.0, scope="cited",
                                  cues=[f"section:{mention.section}"]))
            continue
        cues = cues_of[id(mention)]
        row = mention_features(mention, cues, len(paper.pages))
        probability = _probability(model.mentions.score(row))
        scored.append(replace(mention, score=round(probability, 3),
                              scope=_scope(probability, cues), cues=sorted(cues)))
    return scored


def _scope(probability: float, cues: frozenset[str]) -> str:
    """own: the paper's own size, said so and likely; cited: someone else's, said so."""
    if OWN_SIGNALS & cues and not CITED_CUES & cues and probability >= OWN_SCORE:
        return "own"
    if is_cited(cues):
        return "cited"
    return "unknown"


def _probability(score: float) -> float:
    from math import exp

    return 1.0 / (1.0 + exp(-score)) if score > -60 else 0.0


def _flags(
    cands: Sequence[Candidate], decision: Decision, paper: _Paper, model: HeadlineModel
) -> list[Flag]:
    """Reason codes for a person to look at the headline (empty: it may be auto)."""
    assert decision.index is not None
    chosen = cands[decision.index]
    flags: list[Flag] = []
    if decision.confidence < model.auto_threshold:
        flags.append(Flag("low_confidence", f"confidence {decision.confidence:.2f} below "
                          f"{model.auto_threshold:.2f}"))
    rivals = [c for i, c in enumerate(cands)  # the model weighs rivals; shown when unsure
              if i != decision.index and decision.probabilities[i] >= RIVAL_SHARE
              and not decision.auto]
    larger = [c for c in cands if c.value > chosen.value * 1.05 and c.clean_own]
    if rivals or larger:
        shown = sorted({id(c): c for c in [*rivals, *larger]}.values(), key=lambda c: -c.value)[:5]
        flags.append(Flag("several_candidates", "other sizes the paper may present: " + ", ".join(
            f"{humanize(c.value)} (p{c.evidence.page})" for c in shown)))
    if not chosen.feature(STATEMENT) and any(CITED_CUES & c for c in chosen.cues):
        flags.append(Flag("own_vs_cited", "the size is also written next to cited work: "
                          f'"{chosen.evidence.evidence[:120]}"'))
    elif not chosen.feature(STATEMENT):
        flags.append(Flag("low_confidence", "no explicit, unhedged statement in the text that "
                          "ties this size to the paper's own, named model"))
    if paper.presents_no_model:
        flags.append(Flag("low_confidence", "the title reads as a survey, benchmark, system or "
                          "tool paper, not a model"))
    if _implausible(chosen, cands):
        flags.append(Flag("implausible_value", f"{humanize(chosen.value)} is far from every "
                          "other size the paper states as its own"))
    return _unique(flags)


def _unique(flags: list[Flag]) -> list[Flag]:
    seen: set[str] = set()
    kept = []
    for flag in flags:
        if flag.reason not in seen:
            seen.add(flag.reason)
            kept.append(flag)
    return kept


def _implausible(chosen: Candidate, cands: Sequence[Candidate]) -> bool:
    """Every other own-looking size is over IMPLAUSIBLE_RATIO times larger or smaller."""
    others = [c.value for c in cands
              if c is not chosen and any(OWN_SIGNALS & cues for cues in c.cues)]
    return bool(others) and all(
        max(v, chosen.value) / min(v, chosen.value) > IMPLAUSIBLE_RATIO for v in others
    )


def _is_moe(mentions: Sequence[Mention], paper: _Paper) -> bool:
    return paper.about_moe and any(m.kind == "active" for m in mentions)


def _active_count(mentions: Sequence[Mention], chosen: Candidate, paper: _Paper) -> int | None:
    """The MoE active count of the headline: an own-looking active count below the total,
    preferably stated in the same sentence ("47B total, 13B active")."""
    if not paper.about_moe:
        return None
    actives = [m for m in mentions if m.kind == "active" and m.scope != "cited"
               and MIN_HEADLINE <= m.value < chosen.value]
    if not actives:
        return None
    anchor = chosen.evidence
    support = Counter(m.value for m in actives)
    best = max(actives, key=lambda m: (
        m.page == anchor.page and m.evidence == anchor.evidence, support[m.value], m.score))
    return best.value


def _systems(
    cands: Sequence[Candidate], decision: Decision, auto: bool, active: int | None,
    names: PaperNames, mentions: Sequence[Mention],
) -> list[SystemRow]:
    """The headline and every other size the paper presents as its own. Another size is
    `auto` only beside an `auto` headline and with a clean statement in prose that binds it
    to an own name (it is listed as a system of its own, so it needs one; "It combines a 6B
    encoder with a 70B language model" names parts, not systems)."""
    by_id = {(m.page, m.start, m.end, m.rule): m for m in mentions}
    rows = []
    for index, cand in enumerate(cands):
        is_headline = index == decision.index
        if not (is_headline or cand.clean_own or decision.probabilities[index] >= SECONDARY_SHARE):
            continue
        evidence = cand.evidence
        mention = by_id.get((evidence.page, evidence.start, evidence.end, evidence.rule), evidence)
        rows.append(SystemRow(
            system=_system_name(cand, names),
            parameters=cand.value,
            parameters_active=active if is_headline else None,
            is_headline=is_headline,
            confidence=decision.confidence if is_headline else decision.probabilities[index],
            status="auto" if auto and (is_headline or _named_statement(cand)) else "flagged",
            mention=mention,
        ))
    return _distinct_names(rows)


def _distinct_names(rows: list[SystemRow]) -> list[SystemRow]:
    """Systems of different sizes that got the same name are told apart by their size
    ("Foo (1.3B)" beside "Foo (33B)")."""
    shared = Counter(row.system for row in rows)
    return [replace(row, system=f"{row.system} ({humanize(row.parameters)})")
            if row.system and shared[row.system] > 1 else row for row in rows]


def _named_statement(cand: Candidate) -> bool:
    """Some mention states the size outright in prose, bound to an own name, unhedged."""
    return any("own_name" in cues and clean_statement(m, cues, prose=True)
               for m, cues in zip(cand.mentions, cand.cues, strict=True))


def _system_name(cand: Candidate, names: PaperNames) -> str:
    named = [m.system for m in cand.mentions if m.system and names.is_own(m.system)]
    if named:
        return Counter(named).most_common(1)[0][0]
    if names.introduced:  # the title's name first: the paper's main model
        return f"{names.introduced[0]} ({humanize(cand.value)})"
    others = [m.system for m in cand.mentions if m.system and not names.is_cited(m.system)]
    return Counter(others).most_common(1)[0][0] if others else ""
