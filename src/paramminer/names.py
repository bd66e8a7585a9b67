"""The names a paper gives its own models, and the model names it cites.

The paper's own names come from its title and from introducing phrases ("we introduce X",
"X (ours)", "our largest model, X"); cited names are those written next to a citation
marker, or on the list of widely cited models (rules/known-models-v*.csv). Being on that
list is evidence that a name is cited, never a verdict: a name the paper introduces is its
own even when it is famous.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from paramminer.lexicon import Lexicon, load_lexicon, normalize_name

INTRO_PATTERNS = [
    re.compile(
        r"\b[Ww]e (?:introduce|present|propose|release|develop|build|train|call|name|dub)\s+"
        r"(?:a |an |the )?(?:new |novel |family of |series of |suite of )?"
        r"(?:[a-z\-]+ ){0,4}?(?:called |named |dubbed |termed )?"
        r"(?P<name>[A-Z][\w\-.]*[A-Z0-9][\w\-.]*|[A-Z][a-z]+[A-Z][\w\-.]*|[A-Z]{2,}[\w\-.]*"
        r"|[A-Z][a-z]{2,}(?=\s*[,(:]))"
    ),
    re.compile(
        r"\b(?:called|named|dubbed|termed|which we (?:call|name|refer to as)|referred to as)\s+"
        r"(?P<name>[A-Z][\w\-.]*[A-Z0-9][\w\-.]*|[A-Z][a-z]+[A-Z][\w\-.]*|[A-Z]{2,}[\w\-.]*|[A-Z][a-z]{3,})"
    ),
]
INTRO_PATTERNS.extend(
    [
        # "Our largest model, GPT-2, is ..."
        re.compile(
            r"\b[Oo]ur\s+(?:\w+\s+){0,2}models?,?\s+(?:called\s+)?(?P<name>[A-Z][\w\-.]*[A-Z0-9][\w\-.]*),"
        ),
        # "our Data-efficient image Transformers (DeiT)"
        re.compile(r"\b[Oo]ur\s+(?:[\w\-]+\s+){0,5}\((?P<name>[A-Z][\w\-]*[A-Z][\w\-]*)\)"),
        # "We introduce a simpler ... method, Attention with Linear Biases (ALiBi)"
        re.compile(
            r"\b[Ww]e\s+(?:\w+\s+)?(?:introduce|present|propose)\b[^.]{0,120}?"
            r"\((?P<name>[A-Z][\w\-]*[A-Z][\w\-]*)\)"
        ),
    ]
)
TITLE_COMPOUND = re.compile(r"^[A-Z][a-z]+(?:-[A-Za-z][a-z]+)+$")
TITLE_NAME = re.compile(r"^\s*(?P<name>[A-Z][\w\-.+ ]{1,30}?)\s*:")
NAMEISH = re.compile(r"^(?:[A-Z][\w\-.]*[A-Z0-9][\w\-.]*|[A-Z][a-z]+[A-Z][\w\-.]*)$")
_STAMP = re.compile(r"arXiv:\S+")


_norm = normalize_name


def _not_model_names(lexicon: Lexicon) -> frozenset[str]:
    return frozenset(_norm(w) for w in lexicon.word_list("not_model_names"))


_TITLE_CONTINUES = re.compile(
    r"(?i)(?:\b(?:for|of|and|with|to|in|a|an|the|via|on|from|by|at)|[:\-,])$"
)


def guess_title(first_page: str) -> str:
    """The paper's title from page 1: the first real line, plus the next when the first
    obviously continues ("... for", "Title:"), skipping stamps and venue lines."""
    lines: list[str] = []
    for line in first_page.split("\n"):
        text = _STAMP.sub("", line).strip()
        if not text or re.match(
            r"(?i)^(published|under review|preprint|proceedings|accepted|"
            r"journal of|arxiv|vol\.|technical report)",
            text,
        ):
            continue
        if lines:
            if _TITLE_CONTINUES.search(lines[-1]) or (text[:1].islower() and len(text) < 80):
                lines.append(text)
                continue
            break
        if re.search(r"@|\b(?:university|institute)\b", text, re.IGNORECASE) or len(text) < 4:
            continue
        lines.append(text)
    return " ".join(lines)[:200]


_MODEL_TOKEN = re.compile(
    r"(?<![\w\-])(?:[A-Z][\w\-.]*[A-Z0-9][\w\-]*|[A-Z][a-z]+[A-Z][\w\-]*|[A-Z]{2,}[\w\-]*)(?![\w\-])"
)
_CITED_AFTER = re.compile(
    r"^[\s\-]{0,2}(?:\[\d[\d,\s–\-]*\]"
    r"|\(\s*[A-Z][A-Za-z\-]+(?: et al\.| and [A-Z][A-Za-z\-]+)?,?\s*(?:19|20)\d\d"
    r"|\(\s*\d{1,3}\s*\))"
)
_SIZE_SUFFIX = re.compile(r"[-_ ]?\d+(?:\.\d+)?[MBTmbt]$")


def _base_name(name: str) -> str:
    return _norm(_SIZE_SUFFIX.sub("", name))


@dataclass
class PaperNames:
    """What the paper calls its own models, and which model names it cites."""

    introduced: list[str]
    own: set[str]  # normalized: introduced names plus frequent never-cited names
    cited: set[str]  # normalized names that appear next to a citation somewhere
    lexicon: Lexicon

    def is_own(self, system: str) -> bool:
        """`system` is (a variant of) a name the paper gives its own model."""
        key = _base_name(system) or _norm(system)
        return bool(key) and any(
            key == name or (len(name) >= 3 and key.startswith(name)) for name in self.own
        )

    def is_cited(self, system: str) -> bool:
        """`system` is written next to a citation, or is a widely cited model's name."""
        key = _base_name(system) or _norm(system)
        if not key or len(key) < 2:
            return False
        return key in self.cited or self.lexicon.known_models.match(system) is not None


def analyse_names(title: str, pages: list[str], lexicon: Lexicon | None = None) -> PaperNames:
    """Introduced names, frequent uncited (own) names and cited names of a paper."""
    lexicon = lexicon or load_lexicon()
    not_models = _not_model_names(lexicon)
    introduced = introduced_names(title, pages, lexicon)
    counts: Counter[str] = Counter()
    cited: Counter[str] = Counter()
    body = "\n".join(pages)
    references_at = _references_offset(body)
    for match in _MODEL_TOKEN.finditer(body, 0, references_at):
        key = _base_name(match.group(0))
        if len(key) < 2:
            continue
        counts[key] += 1
        if _CITED_AFTER.match(body[match.end() : match.end() + 40]):
            cited[key] += 1
    own = {_norm(n) for n in introduced if _norm(n)}
    frequent = [
        key
        for key, count in counts.items()
        if count >= 8
        and cited[key] == 0
        and lexicon.known_models.match(key) is None
        and key not in not_models
        and key not in own
    ]
    if frequent:
        claimed = {
            _base_name(m["name"] or m["name2"] or m["name3"])
            for m in _CLAIMED.finditer(body, 0, references_at)
        }
        for heading in _NUMBERED_HEADING.finditer(body, 0, references_at):
            # "4 CapsNet architecture": a section about a model is about the paper's own
            claimed.update(_base_name(w) for w in _MODEL_TOKEN.findall(heading.group(1)))
        own.update(key for key in frequent if key in claimed)
    return PaperNames(introduced, own, {k for k in cited if k not in own}, lexicon)


_NUMBERED_HEADING = re.compile(r"(?m)^\s*\d{1,2}(?:\.\d{1,2})?\.?\s+([A-Z][^\n]{2,60})$")

# "our CapsNet", "CycleMLP-B (ours)", "we call this network ResNet"
_CLAIMED = re.compile(
    r"\b[Oo]ur\s+(?:[a-z\-]+\s+){0,2}(?P<name>[A-Z][\w\-.]+)"
    r"|(?P<name2>[A-Z][\w\-.]+)\s*\((?:ours|Ours|our)\)"
    r"|\bwe (?:call|name|dub|term|refer to)\b[^.]{0,40}?(?P<name3>[A-Z][\w\-.]+)"
)


def _references_offset(text: str) -> int:
    """Where the (last) References heading starts, or the end of the text."""
    headings = list(re.finditer(
        r"\n\s*(?:\d+\.?\s+)?(?:References|REFERENCES|Bibliography)\s*\n", text))
    return headings[-1].start() if headings else len(text)


def introduced_names(title: str, pages: list[str], lexicon: Lexicon | None = None) -> list[str]:
    """Names the paper gives its own models: from the title and 'we introduce X' phrases."""
    lexicon = lexicon or load_lexicon()
    not_models = _not_model_names(lexicon)
    names: list[str] = []
    match = TITLE_NAME.match(title)
    if match and len(match["name"].split()) <= 3:
        names.append(match["name"].strip())
    head = title.split(":")[0]
    shouting = head.isupper()
    for word in re.findall(r"[A-Za-z][\w\-.]+", head):
        if shouting or lexicon.known_models.match(word) or len(word) <= 2:
            continue
        if TITLE_COMPOUND.match(word):
            continue  # "Fine-Tuning", "Large-Scale", "Squeeze-and-Excitation": words, not names
        if (NAMEISH.match(word) and not re.search(r"\d$", word)) or re.match(r"^[A-Z]{3,6}$", word):
            names.append(word)
    opening = "\n".join(pages[:3])
    for name in list(names):
        if " " in name:  # "Retentive Network" -> its acronym "(RetNet)"
            acronym = re.search(
                re.escape(name) + r"\s*\((?P<acr>[A-Z][\w\-]+)\)", opening, re.IGNORECASE
            )
            if acronym:
                names.append(acronym["acr"])
    for pattern in INTRO_PATTERNS:
        for found in pattern.finditer(opening):
            name = found["name"].rstrip(".,-")
            if (
                len(name) > 2
                and name not in ("We", "In", "The", "This", "Our")
                and (_norm(name) not in not_models)
            ):
                names.append(name)
    seen: dict[str, str] = {}
    for name in names:
        footnote = re.match(r"^(?P<base>[A-Za-z][\w\-]*[A-Za-z])\d$", name)
        if footnote and len(re.findall(rf"\b{re.escape(footnote['base'])}\b", opening)) >= 2:
            name = footnote["base"]  # "Whisper2": a footnote mark glued to the name
        seen.setdefault(_norm(name), name)
    return [name for key, name in seen.items() if key]
