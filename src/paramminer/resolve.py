"""Decide, per paper, which mentions are its own systems, the headline, confidence and flags."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from paramminer.models import Flag, Mention, Resolution, SystemRow
from paramminer.numbers import humanize

AUTO_THRESHOLD = 0.75  # confidence at or above which a headline is accepted without review
OWN_THRESHOLD = 0.6
CITED_THRESHOLD = 0.35
MIN_PLAUSIBLE, MAX_PLAUSIBLE = 1_000, 50 * 10**12

# Names of widely cited models. Used only to recognise *cited* work: a mention attached to
# one of these (and not to a name the paper introduces) is probably someone else's model.
KNOWN_MODELS = frozenset(
    name.lower()
    for name in (
        "GPT GPT-1 GPT-2 GPT-3 GPT-3.5 GPT-4 GPT-J GPT-NeoX GPT-Neo InstructGPT ChatGPT Codex "
        "BERT BERT-Base BERT-Large BERTBASE BERTLARGE RoBERTa ALBERT XLNet ELECTRA DeBERTa T5 mT5 "
        "BART PaLM PaLM-2 Flan-PaLM Flan-T5 FLAN LaMDA Chinchilla Gopher Jurassic Jurassic-1 "
        "MT-NLG Megatron Megatron-LM Megatron-Turing Turing-NLG OPT BLOOM LLaMA Llama Llama-2 "
        "Llama-3 Llama-3.1 Alpaca Vicuna Mistral Mixtral Falcon MPT Pythia Gemma Qwen Qwen2 "
        "DeepSeek Yi Baichuan GLM ChatGLM Switch Switch-C GLaM GShard Galactica Minerva "
        "Claude Gemini Grok Phi Phi-2 Phi-3 StarCoder CodeLlama Transformer-XL Reformer "
        "Longformer ResNet ResNet-50 ResNet-101 ResNet-152 ResNeXt VGG VGG-16 VGG-19 Inception "
        "GoogLeNet AlexNet DenseNet MobileNet MobileNetV2 MobileNetV3 EfficientNet ViT ViT-B "
        "ViT-L ViT-H ViT-G DeiT Swin ConvNeXt CLIP ALIGN DALL-E Imagen Parti Flamingo CoCa "
        "BEiT MAE SimCLR MoCo BYOL Whisper wav2vec HuBERT AlphaGo AlphaZero AlphaFold MuZero "
        "Word2Vec GloVe ELMo NASNet AmoebaNet GPipe Primer RETRO Retro WebGPT Sparrow "
        "Zero ZeRO".split()
    )
)
OWN_CUE = re.compile(
    r"\b(?:we|our|ours|us)\b|\bthis (?:paper|work)\b|\bproposed\b|\bthe resulting\b", re.IGNORECASE
)
CITATION = re.compile(r"\[\d+(?:[,–\-]\s*\d+)*\]|\bet al\.|\(\s*[A-Z][A-Za-z\-]+(?: and [A-Z]\w+)?,? (?:19|20)\d\d")
COMPARISON = re.compile(
    r"\b(?:than|compared (?:to|with)|comparison|outperform\w*|versus|vs\.?|surpass\w*|"
    r"rival\w*|competitive with|match(?:es|ing)?|beat\w*|prior|previous|existing|baselines?)\b",
    re.IGNORECASE,
)
INTRO_PATTERNS = [
    re.compile(
        r"\b[Ww]e (?:introduce|present|propose|release|develop|build|train|call|name|dub)\s+"
        r"(?:a |an |the )?(?:new |novel |family of |series of |suite of )?"
        r"(?:[a-z\-]+ ){0,4}?(?:called |named |dubbed |termed )?"
        r"(?P<name>[A-Z][\w\-.]*[A-Z0-9][\w\-.]*|[A-Z][a-z]+[A-Z][\w\-.]*|[A-Z]{2,}[\w\-.]*)"
    ),
    re.compile(
        r"\b(?:called|named|dubbed|termed|which we (?:call|name|refer to as)|referred to as)\s+"
        r"(?P<name>[A-Z][\w\-.]*[A-Z0-9][\w\-.]*|[A-Z][a-z]+[A-Z][\w\-.]*|[A-Z]{2,}[\w\-.]*|[A-Z][a-z]{3,})"
    ),
]
TITLE_NAME = re.compile(r"^\s*(?P<name>[A-Z][\w\-.+ ]{1,30}?)\s*:")
NAMEISH = re.compile(r"^(?:[A-Z][\w\-.]*[A-Z0-9][\w\-.]*|[A-Z][a-z]+[A-Z][\w\-.]*)$")
MOE_WORDS = re.compile(r"(?i)mixture[- ]of[- ]experts|\bMoE\b|\bexperts\b")
_STAMP = re.compile(r"arXiv:\S+")


@dataclass
class _Group:
    value: int
    mentions: list[Mention]

    @property
    def best(self) -> Mention:
        return max(self.mentions, key=lambda m: (m.score, -m.page))

    @property
    def score(self) -> float:
        support = len({(m.page, m.start) for m in self.mentions if m.scope == "own"})
        return min(1.0, self.best.score + 0.04 * max(0, support - 1))


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def guess_title(first_page: str) -> str:
    """The paper's title: the first substantial lines of page 1 (skipping stamps and venue lines)."""
    lines = []
    for line in first_page.split("\n"):
        text = _STAMP.sub("", line).strip()
        if not text or re.match(r"(?i)^(published|under review|preprint|proceedings|accepted)", text):
            if lines:
                break
            continue
        if re.search(r"(?i)@|university|institute|\babstract\b|^\d", text):
            break
        lines.append(text)
        if len(" ".join(lines)) > 120:
            break
    return " ".join(lines)[:200]


def introduced_names(title: str, pages: list[str]) -> list[str]:
    """Names the paper gives its own models: from the title and 'we introduce X' phrases."""
    names: list[str] = []
    match = TITLE_NAME.match(title)
    if match and len(match["name"].split()) <= 3:
        names.append(match["name"].strip())
    for word in re.findall(r"[A-Za-z][\w\-.]+", title.split(":")[0]):
        if NAMEISH.match(word) and word.lower() not in KNOWN_MODELS and len(word) > 2:
            names.append(word)
    opening = "\n".join(pages[:3])
    for pattern in INTRO_PATTERNS:
        for found in pattern.finditer(opening):
            name = found["name"].rstrip(".,-")
            if len(name) > 2 and name not in ("We", "In", "The", "This", "Our"):
                names.append(name)
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(_norm(name), name)
    return [name for key, name in seen.items() if key]


def _matches_name(system: str, names: list[str]) -> bool:
    key = _norm(system)
    return bool(key) and any(key.startswith(_norm(n)) or _norm(n).startswith(key) for n in names if len(_norm(n)) >= 3)


def _is_known(system: str) -> bool:
    key = system.lower().strip("()[],.;:")
    base = re.sub(r"[-\s]?\d+(?:\.\d+)?[mbt]$", "", key)
    return key in KNOWN_MODELS or base in KNOWN_MODELS or base.split("-")[0] in KNOWN_MODELS


def score_mention(mention: Mention, names: list[str]) -> None:
    """Set scope, score and cues on a mention from section, cues and the attached name."""
    cues: list[str] = []
    score = 0.5
    rule = mention.rule.split("@")[0]
    if mention.section in ("references", "acknowledgments"):
        mention.scope, mention.score, mention.cues = "cited", 0.0, [f"section:{mention.section}"]
        return
    section_weight = {"related": -0.25, "front": 0.05, "abstract": 0.1, "introduction": 0.0,
                      "method": 0.05, "experiments": 0.05, "conclusion": 0.05, "appendix": -0.05}
    score += section_weight.get(mention.section, 0.0)
    cues.append(f"section:{mention.section}")
    rule_weight = {"count-param-noun": 0.1, "param-noun-count": 0.1, "count-active": 0.05,
                   "table-row": 0.0, "count-model": 0.0, "name-size": 0.0, "count-list": 0.0,
                   "name-count": -0.05, "count-near-param": -0.1, "moe-shape": -0.3}
    score += rule_weight.get(rule, 0.0)
    evidence = mention.evidence
    position = evidence.find(mention.text)
    near = evidence[max(0, position - 80) : position + len(mention.text) + 60] if position >= 0 else evidence
    own_name = bool(mention.system) and _matches_name(mention.system, names)
    known = bool(mention.system) and _is_known(mention.system) and not own_name
    if own_name:
        score += 0.3
        cues.append(f"own-name:{mention.system}")
    elif known:
        score -= 0.4
        cues.append(f"cited-name:{mention.system}")
    if OWN_CUE.search(evidence) and not known:
        score += 0.15 if OWN_CUE.search(near) else 0.08
        cues.append("own-cue")
    if CITATION.search(near):
        score -= 0.2
        cues.append("citation")
    if COMPARISON.search(near) and not own_name:
        score -= 0.1
        cues.append("comparison")
    if names and any(_norm(n) in _norm(evidence) for n in names) and not known and not own_name:
        score += 0.05
        cues.append("names-own-model")
    mention.score = round(max(0.0, min(1.0, score)), 3)
    mention.scope = "own" if mention.score >= OWN_THRESHOLD else (
        "cited" if mention.score <= CITED_THRESHOLD else "unknown")
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


def _system_name(group: _Group, names: list[str]) -> str:
    named = [m.system for m in group.mentions if m.system and _matches_name(m.system, names)]
    if named:
        return Counter(named).most_common(1)[0][0]
    if len(names) == 1:
        return f"{names[0]} ({humanize(group.value)})"
    others = [m.system for m in group.mentions if m.system and not _is_known(m.system)]
    return Counter(others).most_common(1)[0][0] if others else ""


def resolve(mentions: list[Mention], pages: list[str], title: str = "") -> Resolution:
    """Score every mention, build the paper's systems, pick the headline, flag what is unsure."""
    title = title or guess_title(pages[0] if pages else "")
    names = introduced_names(title, pages)
    for mention in mentions:
        score_mention(mention, names)
    plausible = [m for m in mentions if MIN_PLAUSIBLE <= m.value <= MAX_PLAUSIBLE]
    totals = [m for m in plausible if m.kind == "total"]
    actives = [m for m in plausible if m.kind == "active" and m.scope != "cited"]
    own_groups = [g for g in _group([m for m in totals if m.scope == "own"])]
    unknown_groups = [g for g in _group([m for m in totals if m.scope == "unknown"])]
    flags: list[Flag] = []
    systems: list[SystemRow] = []
    if not own_groups and not unknown_groups:
        return Resolution(mentions, systems, flags, names, title)

    is_moe = bool(MOE_WORDS.search("\n".join(pages[:4]))) and bool(actives)
    if own_groups:
        headline = max(own_groups, key=lambda g: g.value)
        confidence = headline.score
    else:
        headline = max(unknown_groups, key=lambda g: (g.score, g.value))
        confidence = min(headline.score, 0.55)
        flags.append(Flag("low_confidence", "no mention is clearly the paper's own model"))
    rivals = [g for g in unknown_groups if g.value > headline.value * 1.05 and g.score >= 0.5]
    if rivals and own_groups:
        rival = max(rivals, key=lambda g: g.score)
        flags.append(Flag(
            "own_vs_cited",
            f"{humanize(rival.value)} (p{rival.best.page}) may also be the paper's own: "
            f"\"{rival.best.evidence[:120]}\"",
        ))
        confidence -= 0.15
    if len(own_groups) > 1 and not names:
        flags.append(Flag("several_candidates",
                          "several own sizes and no model name: " +
                          ", ".join(humanize(g.value) for g in own_groups[:6])))
        confidence -= 0.1
    best = headline.best
    if best.rule.split("@")[0] in ("count-near-param", "name-count", "count-list"):
        confidence -= 0.1
    if not names and "own-cue" not in best.cues:
        confidence -= 0.1
    active_value = None
    if is_moe:
        candidates = [m for m in actives if m.value < headline.value]
        if candidates:
            active_value = max(candidates, key=lambda m: m.score).value
        else:
            flags.append(Flag("moe_ambiguity", "mixture of experts without a clear active count"))
            confidence -= 0.2
    confidence = round(max(0.0, min(1.0, confidence)), 3)
    if confidence < AUTO_THRESHOLD and not any(f.reason == "low_confidence" for f in flags):
        flags.append(Flag("low_confidence", f"confidence {confidence:.2f} below {AUTO_THRESHOLD}"))
    status = "auto" if confidence >= AUTO_THRESHOLD and not flags else "flagged"
    for group in sorted(own_groups or [headline], key=lambda g: -g.value):
        is_headline = group is headline
        systems.append(SystemRow(
            system=_system_name(group, names),
            parameters=group.value,
            parameters_active=active_value if is_headline else None,
            is_headline=is_headline,
            confidence=confidence if is_headline else round(group.score, 3),
            status=status if is_headline else ("auto" if group.score >= AUTO_THRESHOLD else "flagged"),
            mention=group.best,
        ))
    for mention in mentions:
        mention_chosen = any(row.mention is mention for row in systems)
        if mention_chosen:
            mention.cues.append("chosen")
    return Resolution(mentions, systems, flags, names, title)
