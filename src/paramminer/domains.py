"""Domains (Language, Vision, ...) from arXiv categories and words in the title and abstract."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

CATEGORY_DOMAINS: dict[str, str] = {
    "cs.CL": "Language",
    "cs.CV": "Vision",
    "eess.IV": "Vision",
    "cs.SD": "Speech",
    "eess.AS": "Speech",
    "cs.IR": "Recommendation",
    "cs.RO": "Robotics",
    "q-bio": "Biology",
    "cs.GT": "Games",
}
KEYWORD_DOMAINS: list[tuple[str, re.Pattern[str]]] = [
    ("Multimodal", re.compile(r"(?i)\b(vision[- ]language|multi-?modal|image[- ]text|text-to-image)\b")),
    ("Speech", re.compile(r"(?i)\b(speech|asr|spoken|audio|acoustic)\b")),
    ("Games", re.compile(r"(?i)\b(atari|go\b|chess|game|reinforcement learning agent|starcraft)")),
    ("Recommendation", re.compile(r"(?i)\b(recommend\w*|click[- ]through|ctr prediction|ad click)")),
    ("Biology", re.compile(r"(?i)\b(protein|genom\w*|molecul\w*|dna|rna|somatic|biolog\w*)\b")),
    ("Robotics", re.compile(r"(?i)\b(robot\w*|manipulation|locomotion)\b")),
    ("Vision", re.compile(r"(?i)\b(image|imagenet|visual|vision|convolutional|detection|segmentation|video)\b")),
    ("Language", re.compile(r"(?i)\b(language|translation|text|nlp|word|sentence|token|llm|bert|gpt)\b")),
]


@dataclass(frozen=True)
class DomainResult:
    """The primary domain and every domain that applies."""

    primary: str | None
    domains: tuple[str, ...]


def classify_domains(categories: Sequence[str], title: str, text: str) -> DomainResult:
    """Domains from arXiv categories first, then keywords in title and opening text."""
    found: list[str] = []
    for category in categories:
        domain = CATEGORY_DOMAINS.get(category) or CATEGORY_DOMAINS.get(category.split(".")[0])
        if domain and domain not in found:
            found.append(domain)
    scores: dict[str, int] = {}
    for domain, pattern in KEYWORD_DOMAINS:
        hits = len(pattern.findall(title)) * 5 + len(pattern.findall(text[:6000]))
        if hits:
            scores[domain] = hits
    for domain, _ in sorted(scores.items(), key=lambda kv: -kv[1]):
        if domain not in found and scores[domain] >= 3:
            found.append(domain)
    if not found and scores:
        found.append(max(scores, key=lambda d: scores[d]))
    return DomainResult(found[0] if found else None, tuple(found))
