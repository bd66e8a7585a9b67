"""Decide, per paper, which mentions are its own systems, the headline, confidence and flags."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from paramminer.models import Flag, Mention, Resolution, SystemRow
from paramminer.numbers import humanize

BASE_SCORE = 0.4  # a mention with no evidence either way; own needs evidence (OWN_THRESHOLD)
MIN_HEADLINE = 10_000  # smaller values stay candidates but never become a headline
AUTO_THRESHOLD = 0.7  # confidence at or above which a headline is accepted without review
OWN_THRESHOLD = 0.6
CITED_THRESHOLD = 0.35
MIN_PLAUSIBLE, MAX_PLAUSIBLE = 1_000, 50 * 10**12

# Names of widely cited models. Used only to recognise *cited* work: a mention attached to
# one of these (and not to a name the paper introduces) is probably someone else's model.
KNOWN_MODELS = frozenset(
    name.lower()
    for name in (
        [
            "GPT",
            "GPT-1",
            "GPT-2",
            "GPT-3",
            "GPT-3.5",
            "GPT-4",
            "GPT-J",
            "GPT-NeoX",
            "GPT-Neo",
            "InstructGPT",
            "ChatGPT",
            "Codex",
            "BERT",
            "BERT-Base",
            "BERT-Large",
            "BERTBASE",
            "BERTLARGE",
            "RoBERTa",
            "ALBERT",
            "XLNet",
            "ELECTRA",
            "DeBERTa",
            "T5",
            "mT5",
            "BART",
            "PaLM",
            "PaLM-2",
            "Flan-PaLM",
            "Flan-T5",
            "FLAN",
            "LaMDA",
            "Chinchilla",
            "Gopher",
            "Jurassic",
            "Jurassic-1",
            "MT-NLG",
            "Megatron",
            "Megatron-LM",
            "Megatron-Turing",
            "Turing-NLG",
            "OPT",
            "BLOOM",
            "LLaMA",
            "Llama",
            "Llama-2",
            "Llama-3",
            "Llama-3.1",
            "Alpaca",
            "Vicuna",
            "Mistral",
            "Mixtral",
            "Falcon",
            "MPT",
            "Pythia",
            "Gemma",
            "Qwen",
            "Qwen2",
            "DeepSeek",
            "Yi",
            "Baichuan",
            "GLM",
            "ChatGLM",
            "Switch",
            "Switch-C",
            "GLaM",
            "GShard",
            "Galactica",
            "Minerva",
            "Claude",
            "Gemini",
            "Grok",
            "Phi",
            "Phi-2",
            "Phi-3",
            "StarCoder",
            "CodeLlama",
            "Transformer-XL",
            "Reformer",
            "Longformer",
            "ResNet",
            "ResNet-50",
            "ResNet-101",
            "ResNet-152",
            "ResNeXt",
            "VGG",
            "VGG-16",
            "VGG-19",
            "Inception",
            "GoogLeNet",
            "AlexNet",
            "DenseNet",
            "MobileNet",
            "MobileNetV2",
            "MobileNetV3",
            "EfficientNet",
            "ViT",
            "ViT-B",
            "ViT-L",
            "ViT-H",
            "ViT-G",
            "DeiT",
            "Swin",
            "ConvNeXt",
            "CLIP",
            "ALIGN",
            "DALL-E",
            "Imagen",
            "Parti",
            "Flamingo",
            "CoCa",
            "BEiT",
            "MAE",
            "SimCLR",
            "MoCo",
            "BYOL",
            "Whisper",
            "wav2vec",
            "HuBERT",
            "AlphaGo",
            "AlphaZero",
            "AlphaFold",
            "MuZero",
            "Word2Vec",
            "GloVe",
            "ELMo",
            "NASNet",
            "AmoebaNet",
            "GPipe",
            "Primer",
            "RETRO",
            "Retro",
            "WebGPT",
            "Sparrow",
            "Zero",
            "ZeRO",
        ]
    )
)
OWN_CUE = re.compile(
    r"\b(?:we|our|ours|us)\b|\bthis (?:paper|work)\b|\bproposed\b|\bthe resulting\b", re.IGNORECASE
)
CITATION = re.compile(
    r"\[\d+(?:[,–\-]\s*\d+)*\]|\bet al\.|\(\s*[A-Z][A-Za-z\-]+(?: and [A-Z]\w+)?,? (?:19|20)\d\d"
)
COMPARISON = re.compile(
    r"\b(?:than|compared (?:to|with)|comparison|outperform\w*|versus|vs\.?|surpass\w*|"
    r"rival\w*|competitive with|match(?:es|ing)?|beat\w*|prior|previous|existing|baselines?|"
    r"underperform\w*|relative to|unlike|instead of|similar to)\b",
    re.IGNORECASE,
)
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
MOE_WORDS = re.compile(r"(?i)mixture[- ]of[- ]experts|\bMoE\b|\bexperts\b")
_STAMP = re.compile(r"arXiv:\S+")


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


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


KNOWN_MODELS_NORM = frozenset(_norm(name) for name in KNOWN_MODELS)


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


def analyse_names(title: str, pages: list[str]) -> PaperNames:
    """Introduced names, frequent uncited (own) names and cited names of a paper."""
    introduced = introduced_names(title, pages)
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
        and key not in KNOWN_MODELS_NORM
        and key not in _NOT_MODELS
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
    return PaperNames(introduced, own, {k for k in cited if k not in own})


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


_NOT_MODELS = frozenset(
    _norm(w)
    for w in (
        [
            "GPU",
            "GPUs",
            "TPU",
            "TPUs",
            "CPU",
            "NVIDIA",
            "FLOPs",
            "FLOPS",
            "MMLU",
            "BLEU",
            "ROUGE",
            "SQuAD",
            "GLUE",
            "SuperGLUE",
            "ImageNet",
            "CIFAR",
            "COCO",
            "MNIST",
            "WMT",
            "SGD",
            "AdamW",
            "LR",
            "ReLU",
            "GELU",
            "LSTM",
            "RNN",
            "CNN",
            "MLP",
            "FFN",
            "NLP",
            "KV",
            "QA",
            "AI",
            "ML",
            "LM",
            "LLM",
            "LLMs",
            "IEEE",
            "ACL",
            "EMNLP",
            "NAACL",
            "ICLR",
            "ICML",
            "NeurIPS",
            "NIPS",
            "CVPR",
            "ICCV",
            "ECCV",
            "AAAI",
            "URL",
            "API",
            "PDF",
            "HTML",
            "JSON",
            "SOTA",
            "BERTScore",
            "TABLE",
            "FIGURE",
            "BPE",
            "RL",
            "RLHF",
            "SFT",
            "DPO",
            "PPO",
            "OOD",
            "IID",
            "CV",
            "NLI",
            "MT",
            "ASR",
            "TTS",
            "GB",
            "MB",
            "TB",
            "FP16",
            "FP32",
            "BF16",
            "FP8",
            "INT8",
            "CUDA",
            "PyTorch",
            "TensorFlow",
            "JAX",
            "XLA",
        ]
    )
)


def introduced_names(title: str, pages: list[str]) -> list[str]:
    """Names the paper gives its own models: from the title and 'we introduce X' phrases."""
    names: list[str] = []
    match = TITLE_NAME.match(title)
    if match and len(match["name"].split()) <= 3:
        names.append(match["name"].strip())
    head = title.split(":")[0]
    shouting = head.isupper()
    for word in re.findall(r"[A-Za-z][\w\-.]+", head):
        if shouting or word.lower() in KNOWN_MODELS or len(word) <= 2:
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
                and (_norm(name) not in _NOT_MODELS)
            ):
                names.append(name)
    seen: dict[str, str] = {}
    for name in names:
        footnote = re.match(r"^(?P<base>[A-Za-z][\w\-]*[A-Za-z])\d$", name)
        if footnote and len(re.findall(rf"\b{re.escape(footnote['base'])}\b", opening)) >= 2:
            name = footnote["base"]  # "Whisper2": a footnote mark glued to the name
        seen.setdefault(_norm(name), name)
    return [name for key, name in seen.items() if key]


def _name_matches(system: str, own: set[str]) -> bool:
    key = _base_name(system) or _norm(system)
    return bool(key) and any(
        key == name or (len(name) >= 3 and key.startswith(name)) for name in own
    )


def _is_cited_name(system: str, names: PaperNames) -> bool:
    key = _base_name(system) or _norm(system)
    if not key or len(key) < 2:
        return False
    if key in names.cited or key in KNOWN_MODELS_NORM:
        return True
    return any(key.startswith(known) for known in KNOWN_MODELS_NORM if len(known) >= 3)


HYPOTHETICAL = re.compile(
    r"(?i)\b(?:up to|as large as|as many as|scal(?:e|es|ed|ing) (?:up )?to|allows?|enables?|"
    r"can (?:train|fit|scale|run|support)|could|would|more than|over|beyond|exceed\w*|"
    r"at least|at most|hundreds of|thousands of|even|future|hypothetical|such as|e\.g\.|"
    r"like|larger than|smaller than|fewer than)\W+(?:\w+\W+){0,3}$"
)
MAIN_CUE = re.compile(
    r"(?i)\b(?:primary|main|default|flagship|final|full|largest|biggest|best)\s+"
    r"(?:\w+\s+){0,2}(?:model|network|configuration|system|version|variant)"
)
APPROXIMATE = re.compile(r"(?i)(?:about|approximately|roughly|around|nearly|~|≈|∼)\s*$")
# a name right before the number: "FLAN 137B", "Gemma 2 27B", "our Longformer (102M"
_ADJACENT_NAME = re.compile(r"(?P<name>[A-Za-z][\w\-.]*)(?:\s+\d{1,2}(?:\.\d)?)?[\s\-(]{0,3}$")
GENERIC_LABEL = re.compile(
    r"(?i)^(?:tiny|small|base|medium|large|xl|xxl|huge|giant|mini|nano|micro|[smlbhg]|"
    r"\d+(?:\.\d+)?[kmbt]?)$"
)
BASELINE = re.compile(r"(?i)\bbaselines?\b")
DERIVED_FROM = re.compile(
    r"(?i)\b(?:pre-?trained|original|teacher|parent|source|starting|base|existing|off-the-shelf)"
    r"\W+(?:\w+\W+){0,2}$"
)
PRONOUN_SUBJECT = re.compile(
    r"^(?:It|This model|The model|The resulting model|This network|"
    r"The network|Our model|Our network|This system)\b"
)
INTRODUCING = re.compile(r"(?i)\bwe (?:present|introduce|propose|release|develop)\b")
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
    own_name = (bool(mention.system) and _name_matches(mention.system, names.own)) or bool(
        adjacent and _name_matches(adjacent["name"], names.own)
    )
    cited_name = not own_name and bool(mention.system) and _is_cited_name(mention.system, names)
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
        mentions_own = OWN_CUE.search(context) or any(
            _norm(w) in names.own or _base_name(w) in names.own for w in words
        )
        mentions_cited = CITATION.search(context) or any(
            _is_cited_name(w, names) for w in words if NAMEISH.match(w) or w.isupper()
        )
        if mentions_own and not mentions_cited:
            score += 0.15
            cues.append("own-table")
    if not own_name and PRONOUN_SUBJECT.match(evidence) and INTRODUCING.search(mention.preceding):
        own_name = True
        score += 0.25
        cues.append("own-pronoun")
    own_near = bool(OWN_CUE.search(near))
    # "a 7B model" is a generic phrase: only "our 7B model" / "we train a 7B model" binds it
    if OWN_CUE.search(evidence.rsplit(" | ", 1)[-1]) and not cited_name and (
        own_near or rule != "count-model"
    ):
        score += 0.25 if own_near else 0.2
        cues.append("own-cue")
    if DERIVED_FROM.search(before[-40:]) and not own_name:
        score -= 0.2
        cues.append("baseline")  # "from an already pretrained 15B model": a starting point
    if CITATION.search(wide_before + mention.text + after):
        score -= 0.2
        cues.append("citation")
    if COMPARISON.search(before[-40:]) and not own_name:
        score -= 0.2
        cues.append("comparison")
    if BASELINE.search(evidence) and not own_name:
        score -= 0.2
        cues.append("baseline")
    if HYPOTHETICAL.search(before):
        score -= 0.25
        cues.append("hypothetical")
    if APPROXIMATE.search(before):
        cues.append("approximate")
    if MAIN_CUE.search(evidence) and (own_name or "own-cue" in cues):
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
    named = [m.system for m in group.mentions if m.system and _name_matches(m.system, names.own)]
    if named:
        return Counter(named).most_common(1)[0][0]
    if len(names.introduced) == 1:
        return f"{names.introduced[0]} ({humanize(group.value)})"
    others = [m.system for m in group.mentions if m.system and not _is_cited_name(m.system, names)]
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
    is_moe = bool(MOE_WORDS.search("\n".join(pages[:4]))) and bool(actives)
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
