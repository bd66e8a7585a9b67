"""Decide, per paper, which mentions are its own systems, the headline, confidence and flags."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from paramminer.models import Flag, Mention, Resolution, SystemRow
from paramminer.names import NAMEISH, PaperNames, analyse_names, guess_title
from paramminer.numbers import humanize

BASE_SCORE = 0.4  # a mention with no evidence either way; own needs evidence (OWN_THRESHOLD)
MIN_HEADLINE = 10_000  # smaller values stay candidates but never become a headline
AUTO_THRESHOLD = 0.7  # confidence at or above which a headline is accepted without review
OWN_THRESHOLD = 0.6
CITED_THRESHOLD = 0.35
MIN_PLAUSIBLE, MAX_PLAUSIBLE = 1_000, 50 * 10**12



@dataclass
class _Group:
    value: int
    mentions: list[Mention]

    @property
    def best(self) -> Mention:
        """The mention to show as evidence: an explicit own statement in prose if any."""
        return max(
            self.mentions,
            key=lambda m: (
                m.scope == "own"
                and m.rule.split("@")[0] in STRONG_RULES
                and not m.rule.startswith("table-row")
                and bool(OWN_SIGNALS & set(m.cues)),
                m.score,
                -m.page,
            ),
        )

    @property
    def score(self) -> float:
        support = len({(m.page, m.start) for m in self.mentions if m.scope == "own"})
        return min(1.0, self.best.score + 0.04 * max(0, support - 1))



# a name right before the number: "FLAN 137B", "Gemma 2 27B", "our Longformer (102M"
_ADJACENT_NAME = re.compile(r"(?P<name>[A-Za-z][\w\-.]*)(?:\s+\d{1,2}(?:\.\d)?)?[\s\-(]{0,3}$")
GENERIC_LABEL = re.compile(
    r"(?i)^(?:tiny|small|base|medium|large|xl|xxl|huge|giant|mini|nano|micro|[smlbhg]|"
    r"\d+(?:\.\d+)?[kmbt]?)$"
)
STRONG_RULES = frozenset({
    "count-param-noun", "param-noun-count", "table-row", "count-active", "count-list",
    "count-model",
})


def score_mention(mention: Mention, names: PaperNames) -> None:
    """Set scope, score and cues on a mention from section, cues and the attached name."""
    cues: list[str] = []
    score = BASE_SCORE
    rule = mention.rule.split("@")[0]
    if mention.section in ("references", "acknowledgments"):
        mention.scope, mention.score, mention.cues = "cited", 0.0, [f"section:{mention.section}"]
        return
    section_weight = {
        "related": -0.25,
        "front": 0.05,
        "abstract": 0.1,
        "introduction": 0.0,
        "method": 0.05,
        "experiments": 0.05,
        "conclusion": 0.0,
        "appendix": -0.1,
    }
    score += section_weight.get(mention.section, 0.0)
    cues.append(f"section:{mention.section}")
    rule_weight = {
        "count-param-noun": 0.1,
        "param-noun-count": 0.1,
        "count-active": 0.05,
        "table-row": 0.0,
        "count-model": 0.0,
        "name-size": 0.0,
        "count-list": 0.0,
        "name-count": -0.05,
        "name-variant-count": -0.05,
        "count-near-param": -0.1,
        "moe-shape": -0.3,
    }
    score += rule_weight.get(rule, 0.0)
    evidence = mention.evidence
    position = evidence.find(mention.text)
    if position < 0:
        position = 0
    before = evidence[max(0, position - 45) : position]
    wide_before = evidence[max(0, position - 70) : position]
    after = evidence[position + len(mention.text) : position + len(mention.text) + 40]
    near = before + mention.text + after
    adjacent = _ADJACENT_NAME.search(before)
    own_name = (bool(mention.system) and names.is_own(mention.system)) or bool(
        adjacent and names.is_own(adjacent["name"])
    )
    cited_name = not own_name and bool(mention.system) and names.is_cited(mention.system)
    if own_name:
        score += 0.3
        cues.append("own-name")
    elif cited_name:
        score -= 0.4
        cues.append(f"cited-name:{mention.system}")
    if (
        rule == "table-row"
        and " | " in evidence
        and not cited_name
        and (not mention.system or GENERIC_LABEL.match(mention.system) or own_name)
    ):
        context = evidence.rsplit(" | ", 1)[0]
        words = re.findall(r"[A-Za-z][\w\-.]*", context)
        mentions_own = names.lexicon.cue("own").search(context) or any(
            names.is_own(w) for w in words
        )
        mentions_cited = names.lexicon.cue("citation").search(context) or any(
            names.is_cited(w) for w in words if NAMEISH.match(w) or w.isupper()
        )
        if mentions_own and not mentions_cited:
            score += 0.15
            cues.append("own-table")
    cue = names.lexicon.cue
    if (not own_name and cue("pronoun_subject").match(evidence)
            and cue("introducing").search(mention.preceding)):
        own_name = True
        score += 0.25
        cues.append("own-pronoun")
    own_near = bool(names.lexicon.cue("own").search(near))
    # "a 7B model" is a generic phrase: only "our 7B model" / "we train a 7B model" binds it
    if names.lexicon.cue("own").search(evidence.rsplit(" | ", 1)[-1]) and not cited_name and (
        own_near or rule != "count-model"
    ):
        score += 0.25 if own_near else 0.2
        cues.append("own-cue")
    if names.lexicon.cue("derived_from").search(before[-40:]) and not own_name:
        score -= 0.2
        cues.append("baseline")  # "from an already pretrained 15B model": a starting point
    if names.lexicon.cue("citation").search(wide_before + mention.text + after):
        score -= 0.2
        cues.append("citation")
    if names.lexicon.cue("comparison").search(before[-40:]) and not own_name:
        score -= 0.2
        cues.append("comparison")
    if names.lexicon.cue("baseline").search(evidence) and not own_name:
        score -= 0.2
        cues.append("baseline")
    if names.lexicon.cue("hypothetical").search(before):
        score -= 0.25
        cues.append("hypothetical")
    if names.lexicon.cue("approximate").search(before):
        cues.append("approximate")
    if names.lexicon.cue("main").search(evidence) and (own_name or "own-cue" in cues):
        cues.append("main")
    mention.score = round(max(0.0, min(1.0, score)), 3)
    mention.scope = (
        "own"
        if mention.score >= OWN_THRESHOLD
        else ("cited" if mention.score <= CITED_THRESHOLD else "unknown")
    )
    mention.cues = cues


def _group(mentions: list[Mention]) -> list[_Group]:
    groups: list[_Group] = []
    for mention in sorted(mentions, key=lambda m: -m.value):
        for group in groups:
            if abs(group.value - mention.value) <= 0.01 * group.value:
                group.mentions.append(mention)
                break
        else:
            groups.append(_Group(mention.value, [mention]))
    for group in groups:
        group.value = Counter(m.value for m in group.mentions).most_common(1)[0][0]
    return groups


def _system_name(group: _Group, names: PaperNames) -> str:
    named = [m.system for m in group.mentions if m.system and names.is_own(m.system)]
    if named:
        return Counter(named).most_common(1)[0][0]
    if len(names.introduced) == 1:
        return f"{names.introduced[0]} ({humanize(group.value)})"
    others = [m.system for m in group.mentions if m.system and not names.is_cited(m.system)]
    return Counter(others).most_common(1)[0][0] if others else ""


OWN_SIGNALS = frozenset({"own-cue", "own-table", "own-pronoun", "own-name", "names-own-model"})
HEDGES = frozenset({"hypothetical", "approximate", "comparison", "citation", "baseline"})


FAMILY_LIMIT = 5  # more own sizes than this: the headline is a reviewer's call


def _distinct_sizes(values: list[int]) -> int:
    """How many sizes differ from each other by more than 5%."""
    distinct: list[int] = []
    for value in sorted(values):
        if not distinct or value > distinct[-1] * 1.05:
            distinct.append(value)
    return len(distinct)


def _hedged(group: _Group) -> bool:
    """Every mention of this value is hedged ("about", "up to", "than X", a citation)."""
    return all(HEDGES & set(m.cues) for m in group.mentions)


def _strong(group: _Group, prose: bool = False) -> bool:
    """Whether some own mention of this value is explicit and unhedged (in running text,
    not a table cell, when `prose`)."""
    return any(
        m.scope == "own"
        and m.rule.split("@")[0] in STRONG_RULES
        and not (prose and m.rule.startswith("table-row"))
        and not HEDGES & set(m.cues)
        and ({"own-name", "own-cue", "own-table", "own-pronoun"} & set(m.cues))
        for m in group.mentions
    )


def resolve(mentions: list[Mention], pages: list[str], title: str = "") -> Resolution:
    """Score every mention, build the paper's systems, pick the headline, flag what is unsure."""
    title = title or guess_title(pages[0] if pages else "")
    names = analyse_names(title, pages)
    for mention in mentions:
        score_mention(mention, names)
    plausible = [m for m in mentions if MIN_HEADLINE <= m.value <= MAX_PLAUSIBLE]
    totals = [m for m in plausible if m.kind == "total"]
    actives = [m for m in plausible if m.kind == "active" and m.scope != "cited"]
    own_groups = _group([m for m in totals if m.scope == "own"])
    unknown_groups = _group([m for m in totals if m.scope == "unknown"])
    flags: list[Flag] = []
    systems: list[SystemRow] = []
    if not own_groups and not unknown_groups:
        return Resolution(mentions, systems, flags, names.introduced, title)

    if own_groups:
        pool = (
            [g for g in own_groups if _strong(g, prose=True)]
            or [g for g in own_groups if _strong(g)]
            or own_groups
        )
        best_score = max(g.score for g in pool)
        eligible = [g for g in pool if g.score >= best_score - 0.2]
        main = [g for g in eligible if any("main" in m.cues for m in g.mentions)]
        headline = max(main or eligible, key=lambda g: g.value)
        confidence = headline.score
    else:
        headline = max(unknown_groups, key=lambda g: (g.score, g.value))
        confidence = min(headline.score, 0.55)
        flags.append(Flag("low_confidence", "no mention is clearly the paper's own model"))
    larger_own = [
        g
        for g in own_groups
        if g.value > headline.value * 1.05
        and (_strong(g) or g.score >= headline.score - 0.1)
        and not _hedged(g)
    ]
    if larger_own and not any("main" in m.cues for m in headline.mentions):
        flags.append(
            Flag(
                "several_candidates",
                "larger own-looking sizes: "
                + ", ".join(f"{humanize(g.value)} (p{g.best.page})" for g in larger_own[:5]),
            )
        )
        confidence -= 0.1
    family = _distinct_sizes([g.value for g in own_groups])
    if family > FAMILY_LIMIT and not any("main" in m.cues for m in headline.mentions):
        flags.append(
            Flag(
                "several_candidates",
                f"a family of {family} own sizes: which one is "
                "the system of record is a judgment call",
            )
        )
        confidence -= 0.1
    rivals = [
        g
        for g in unknown_groups
        if g.value > headline.value * 1.05
        and not _hedged(g)
        and any(OWN_SIGNALS & set(m.cues) for m in g.mentions)
    ]
    if rivals and own_groups:
        rival = max(rivals, key=lambda g: g.score)
        flags.append(
            Flag(
                "own_vs_cited",
                f"{humanize(rival.value)} (p{rival.best.page}) may also be the paper's own: "
                f'"{rival.best.evidence[:120]}"',
            )
        )
        confidence -= 0.15
    if not _strong(headline, prose=True):
        confidence = min(confidence, AUTO_THRESHOLD - 0.05)
        flags.append(
            Flag(
                "low_confidence",
                "no explicit, unhedged statement that this size is the paper's own",
            )
        )
    if not names.introduced:
        confidence = min(confidence, AUTO_THRESHOLD - 0.05)
        if not any(f.reason == "low_confidence" for f in flags):
            flags.append(Flag("low_confidence", "the paper names no model of its own"))
    is_moe = bool(names.lexicon.cue("moe").search("\n".join(pages[:4]))) and bool(actives)
    active_value = None
    if is_moe:
        candidates = [m for m in actives if m.value < headline.value]
        if candidates:
            anchor = headline.best
            support = Counter(m.value for m in candidates)
            active_value = max(
                candidates,
                key=lambda m: (
                    m.page == anchor.page
                    and m.evidence == anchor.evidence,  # "47B total, 13B active"
                    support[m.value],
                    m.score,
                ),
            ).value
        else:
            flags.append(Flag("moe_ambiguity", "mixture of experts without a clear active count"))
            confidence -= 0.2
    confidence = round(max(0.0, min(1.0, confidence)), 3)
    if confidence < AUTO_THRESHOLD and not any(f.reason == "low_confidence" for f in flags):
        flags.append(Flag("low_confidence", f"confidence {confidence:.2f} below {AUTO_THRESHOLD}"))
    status = "auto" if confidence >= AUTO_THRESHOLD and not flags else "flagged"
    for group in sorted(own_groups or [headline], key=lambda g: -g.value):
        is_headline = group is headline
        group_status = (
            status
            if is_headline
            else (
                "auto"
                if group.score >= AUTO_THRESHOLD and _strong(group, prose=True) and names.introduced
                else "flagged"
            )
        )
        systems.append(
            SystemRow(
                system=_system_name(group, names),
                parameters=group.value,
                parameters_active=active_value if is_headline else None,
                is_headline=is_headline,
                confidence=confidence if is_headline else round(group.score, 3),
                status=group_status,
                mention=group.best,
            )
        )
    return Resolution(mentions, systems, flags, names.introduced, title)
