"""Find parameter-count mentions in page texts with the spaCy rules of rules/."""

from __future__ import annotations

import re
from dataclasses import dataclass

from spacy.tokens import Doc, Span, Token

from paramminer.models import Mention
from paramminer.rules import RuleSet
from paramminer.sections import SectionMap

# Rule specificity: when several rules match the same number, the first listed wins.
RULE_PRIORITY = [
    "count-active", "count-param-noun", "param-noun-count", "table-row", "count-model",
    "name-size", "name-count", "count-list", "count-near-param", "moe-shape",
]
NOT_PARAM_NOUNS = frozenset(
    "tokens token words images examples samples steps flops gflops tflops pflops flop gpus gpu "
    "hours sentences pairs documents bytes gb mb tb kb frames queries characters subwords pages "
    "videos clips seconds iterations updates epochs dollars users items edges nodes triples "
    "questions utterances games positions episodes transitions tokens/s instances records "
    "chips tpus cores vectors entities passages articles sequences batches macs multiply "
    "adds madds operations ops fps hz khz lines files repositories functions problems "
    "prompts responses conversations dialogues labels classes categories people views "
    "downloads stars citations patches pixels points voxels atoms molecules proteins "
    "residues reads genes cells miles km meters".split()
)
LIST_SEPARATORS = frozenset({",", "and", "or", "to", "-", "–", "—", "from", "&", "/", "through", "up"})
PARAM_WORDS = re.compile(r"(?i)(?:#\s?|num(?:ber)?\.? (?:of )?)?\b(?:params?\.?|parameters?|weights)\b")
TABLE_HEADER = re.compile(
    r"(?i)(#\s?params?\.?|\bparams?\.|\bparams\b|\bparameters\b|#\s?param\b|\bparam\b\.?|\bsize\b)"
)
UNIT_IN_HEADER = re.compile(
    r"(?i)(?:params?\.?|parameters)\s*(?:\(|\[)\s*(?P<unit>[KMB]|millions?|billions?|10\^?6|10\^?9)\s*(?:\)|\])"
    r"|(?:in|\()\s*(?P<unit2>millions|billions)"
)
NAME_TOKEN = re.compile(r"^(?=.*[A-Za-z])(?:[A-Z][\w.\-/]*[A-Z0-9][\w.\-/]*|[A-Z][a-z]+[A-Z][\w.\-]*|[A-Z][\w]*-[\w.\-]+)$")
NAME_STOPWORDS = frozenset(
    "We Our The This These Table Figure Fig Section In For With As On At It Its Both Each All An A "
    "Appendix Eq Equation TPU GPU GPUs TPUs CPU NVIDIA A100 V100 H100 FLOPs FLOPS MMLU BLEU SQuAD "
    "GLUE ImageNet CIFAR COCO C4 WMT LR SGD AdamW Adam ReLU GeLU GELU LSTM RNN CNN MLP FFN "
    "KV QA NLP ML AI LM LMs LLM LLMs".split()
)


MIN_COUNT, MAX_COUNT = 1_000, 10**15  # outside: not a parameter count (or an id, a hash...)


@dataclass
class _Hit:
    token: Token
    rule: str
    kind: str
    system: str


def rule_name(key: str) -> str:
    """'count-param-noun@1' -> 'count-param-noun'."""
    return key.split("@", 1)[0]


def _priority(rule_key: str) -> int:
    name = rule_name(rule_key)
    return RULE_PRIORITY.index(name) if name in RULE_PRIORITY else len(RULE_PRIORITY)


def _next_word(token: Token) -> str:
    doc = token.doc
    index = token.i + 1
    while index < len(doc) and doc[index].text in ("-", "‐", "(", ")"):
        index += 1
    return doc[index].lower_ if index < len(doc) else ""


def _kind_near(token: Token, default: str) -> str:
    doc = token.doc
    window = doc[token.i + 1 : min(len(doc), token.i + 5)]
    words = [t.lower_ for t in window]
    text = " ".join(words)
    before = " ".join(t.lower_ for t in doc[max(0, token.i - 4) : token.i])
    if words[:1] in (["active"], ["activated"]) or "active" in words[:3] and "total" not in words[:1]:
        return "active"
    if "activated" in words[:3] or "activated" in before.split()[-2:] or "active" in before.split()[-2:]:
        return "active"
    if "non - embedding" in text or "non-embedding" in text or "nonembedding" in text:
        return "non_embedding"
    if "non-embedding" in before or "non - embedding" in before:
        return "non_embedding"
    if re.search(r"\b(per|each|every) expert", text):
        return "per_expert"
    return default


def nearest_name(token: Token, sentence: Span, window: int = 10) -> str:
    """The model-like name closest before `token` in its sentence ('' if none)."""
    start = max(sentence.start, token.i - window)
    for index in range(token.i - 1, start - 1, -1):
        candidate = token.doc[index]
        text = candidate.text.strip("(),;:")
        if text in NAME_STOPWORDS or candidate.tag_ in ("COUNT_SCALED", "COUNT_PLAIN"):
            continue
        if candidate.tag_ == "NAME_SIZE" or NAME_TOKEN.match(text):
            return text
    return ""


def _evidence(sentence: Span, token: Token, limit: int = 320) -> str:
    text = sentence.text
    start = token.idx - sentence.start_char
    if len(text) > limit:
        lo = max(0, start - limit // 2)
        text = text[lo : lo + limit]
    return " ".join(text.split())


def _table_regions(page_text: str) -> list[tuple[int, int, int | None, str]]:
    """(start, end, unit multiplier, header) of each region that follows a params header."""
    regions = []
    offset = 0
    lines = page_text.split("\n")
    positions = []
    for line in lines:
        positions.append(offset)
        offset += len(line) + 1
    for index, line in enumerate(lines):
        stripped = line.strip()
        if len(stripped) > 160 or not TABLE_HEADER.search(stripped):
            continue
        words = stripped.split()
        lowercase_words = sum(1 for w in words if w.isalpha() and w.islower() and len(w) > 3)
        if lowercase_words > max(2, len(words) // 2) or stripped.endswith("."):
            continue  # prose that mentions parameters, not a column header
        if not PARAM_WORDS.search(stripped) and "size" not in stripped.lower():
            continue
        unit = None
        unit_match = UNIT_IN_HEADER.search(stripped)
        if unit_match:
            word = (unit_match["unit"] or unit_match["unit2"] or "").lower()
            unit = 10**9 if word.startswith(("b", "10^9", "109")) else (
                10**3 if word == "k" else 10**6)
        end_index = index + 1
        while end_index < len(lines) and end_index - index <= 30:
            follow = lines[end_index].strip()
            if re.match(r"^(Table|Figure|Fig\.)\s*\d", follow) or (
                len(follow) > 140 and sum(1 for w in follow.split() if w.islower()) > 12
            ):
                break
            end_index += 1
        end = positions[end_index] if end_index < len(lines) else len(page_text)
        regions.append((positions[index], end, unit, stripped))
    return regions


_DECIMAL = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.%])")


def _line_of(text: str, offset: int) -> tuple[int, int]:
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return start, (len(text) if end < 0 else end)


def find_page_mentions(doc: Doc, page: int, ruleset: RuleSet, sections: SectionMap) -> list[Mention]:
    """Every parameter-count mention on one page (`doc` is the page run through the pipeline)."""
    hits: dict[int, _Hit] = {}

    def offer(token: Token, rule_key: str, kind: str, system: str) -> None:
        if token._.count is None:
            return
        current = hits.get(token.i)
        if current is None or _priority(rule_key) < _priority(current.rule):
            hits[token.i] = _Hit(token, rule_key, kind, system)

    list_pairs: list[tuple[int, int]] = []
    for match_id, start, end in ruleset.matcher(doc):
        rule_key = doc.vocab.strings[match_id]
        rule = ruleset.rules[rule_key]
        name = rule_name(rule_key)
        span = doc[start:end]
        counts = [t for t in span if t._.count is not None]
        if not counts:
            continue
        if name == "table-row":
            continue  # applied per table region below
        if name == "count-list":
            list_pairs.append((counts[0].i, counts[-1].i))
            continue
        if name == "param-noun-count":
            counts = counts[-1:]
        elif name in ("count-param-noun", "count-active", "count-model"):
            counts = counts[:1]
        for token in counts:
            if name in ("name-size", "name-count", "count-model", "count-near-param", "moe-shape") and (
                _next_word(token) in NOT_PARAM_NOUNS
            ):
                continue
            system = ""
            if token.tag_ in ("NAME_SIZE", "MOE_SHAPE"):
                system = token.text
            elif name == "name-count":
                system = span[0].text
            offer(token, rule_key, rule.kind, system)

    # list and range expansion: "7B, 13B, 33B and 65B parameters", "from 125M to 175B"
    if list_pairs:
        linked: dict[int, set[int]] = {}
        for a, b in list_pairs:
            group = linked.get(a, {a}) | linked.get(b, {b})
            for member in group:
                linked[member] = group
        list_rule = next((k for k in ruleset.rules if rule_name(k) == "count-list"), "count-list@1")
        for group in {frozenset(g) for g in linked.values()}:
            anchors = [hits[i] for i in group if i in hits]
            if not anchors:
                continue
            anchor = min(anchors, key=lambda h: _priority(h.rule))
            if rule_name(anchor.rule) == "count-near-param":
                continue
            for index in group:
                if index not in hits:
                    offer(doc[index], list_rule, anchor.kind, "")

    # tables with a parameters column
    table_rule = next((k for k in ruleset.rules if rule_name(k) == "table-row"), None)
    if table_rule is not None:
        for region_start, region_end, unit, header in _table_regions(doc.text):
            for token in doc.char_span(region_start, region_end, alignment_mode="expand") or []:
                if token.tag_ not in ("COUNT_SCALED", "COUNT_PLAIN"):
                    continue
                if _next_word(token) in NOT_PARAM_NOUNS:
                    continue
                line_start, _ = _line_of(doc.text, token.idx)
                label = doc.text[line_start : token.idx].strip().split(" ")
                offer(token, table_rule, "total", label[0] if label and label[0] else "")
            if unit is not None:
                _unit_table_cells(doc, page, region_start, region_end, unit, header, table_rule, hits)

    mentions = []
    for hit in sorted(hits.values(), key=lambda h: h.token.i):
        token = hit.token
        sentence = token.sent
        value = int(token._.count)
        if not MIN_COUNT <= value <= MAX_COUNT:
            continue
        kind = _kind_near(token, hit.kind)
        system = hit.system or nearest_name(token, sentence)
        if rule_name(hit.rule) in ("table-row",):
            line_start, line_end = _line_of(doc.text, token.idx)
            evidence = " ".join(doc.text[line_start:line_end].split())
        else:
            evidence = _evidence(sentence, token)
        mention_text = token.text
        if token.tag_ == "NAME_SIZE":
            mention_text = token.text
        mentions.append(
            Mention(
                value=value,
                kind=kind,
                page=page,
                start=token.idx,
                end=token.idx + len(token.text),
                text=mention_text,
                evidence=evidence,
                rule=hit.rule,
                system=system,
                section=sections.section_at(page, token.idx),
            )
        )
    return mentions


def _unit_table_cells(
    doc: Doc, page: int, start: int, end: int, unit: int, header: str, rule: str,
    hits: dict[int, _Hit],
) -> None:
    """Unitless numbers under a header like 'Params (M)': the first number of each row."""
    text = doc.text
    for line_match in re.finditer(r"[^\n]+", text[start:end]):
        line = line_match.group(0)
        if line.strip() == header:
            continue
        for number in _DECIMAL.finditer(line):
            char = start + line_match.start() + number.start()
            span = doc.char_span(char, char + len(number.group(0)))
            if span is None or len(span) != 1:
                break
            token = span[0]
            if token.i in hits:
                break
            try:
                token._.count = int(float(number.group(0)) * unit)
            except ValueError:
                break
            label = line[: number.start()].strip().split(" ")
            hits[token.i] = _Hit(token, rule, "total", label[0] if label and label[0] else "")
            break  # one cell per row: the first number after the row label


def find_mentions(pages: list[str], ruleset: RuleSet) -> list[Mention]:
    """All mentions in a paper's normalized pages, each with page, span, sentence and rule."""
    sections = SectionMap(pages)
    mentions: list[Mention] = []
    for page_no, doc in enumerate(ruleset.nlp.pipe(pages, batch_size=8), 1):
        mentions.extend(find_page_mentions(doc, page_no, ruleset, sections))
    return mentions
