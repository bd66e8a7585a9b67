"""Find parameter-count mentions in page texts with the spaCy rules of rules/."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from spacy.tokens import Doc, Span, Token

from paramminer.models import Mention
from paramminer.rules import Rule, RuleSet
from paramminer.sections import SectionMap
from paramminer.tables import TableCell, find_table_cells

NAME_TOKEN = re.compile(
    r"^(?=.*[A-Za-z])(?:[A-Z][\w.\-/]*[A-Z0-9][\w.\-/]*|[A-Z][a-z]+[A-Z][\w.\-]*|[A-Z][\w]*-[\w.\-]+"
    r"|\d+(?![KMBTG][a-z])[A-Z][a-z]{2,}[\w.\-]*)$"  # a name may start with digits: "42Quill"
)
CAPS_WORD = re.compile(r"^[A-Z]{2,}$")
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


@dataclass(frozen=True)
class _Words:
    """The word lists extraction uses (from the lexicon in rules/)."""

    not_param_nouns: frozenset[str]
    modifiers: frozenset[str]
    not_names: frozenset[str]  # as written, lower-case
    clause_breaks: frozenset[str]  # conjunctions that end the phrase a count belongs to
    datasets: frozenset[str]  # data set names that carry a size ("JFT-300M")
    headings: tuple[re.Pattern[str], ...] = ()  # section headings ("Abstract", "EVALUATION")

    def not_a_name(self, word: str) -> bool:
        """`word` is listed as never a model name, or is a section heading word."""
        return word.lower() in self.not_names or any(h.fullmatch(word) for h in self.headings)


def _words(ruleset: RuleSet) -> _Words:
    cached = ruleset.cache.get("words")
    if isinstance(cached, _Words):
        return cached
    lexicon = ruleset.lexicon
    words = _Words(
        not_param_nouns=lexicon.word_list("not_param_nouns"),
        modifiers=lexicon.word_list("count_modifiers"),
        not_names=lexicon.word_list("not_model_names"),
        clause_breaks=lexicon.word_list("clause_breaks"),
        datasets=frozenset(re.sub(r"[^a-z0-9]", "", w) for w in lexicon.word_list("dataset_names")),
        headings=tuple(pattern for _, pattern in lexicon.sections),
    )
    ruleset.cache["words"] = words
    return words


def _bound_name(rule: Rule, span: Span, token: Token, words: _Words) -> str:
    """The model name a rule binds to a count, as its `name` field declares ('' if none)."""
    if token.tag_ in ("NAME_SIZE", "MOE_SHAPE"):
        return str(token.text)  # "LLaMA-65B", "8x7B": the count token names itself
    if not rule.name.startswith("span:"):
        return ""
    slot = re.match(r"span:(?P<lo>-?\d+)(?:-(?P<hi>\d+))?$", rule.name)
    if slot is None:
        return ""
    lo = int(slot["lo"])
    hi = int(slot["hi"] or lo)
    if lo < 0:
        lo = hi = len(span) + lo
    if not 0 <= lo <= hi < len(span):
        return ""
    chosen = span[lo : hi + 1]
    if any(t._.count is not None or not t.text[:1].isalnum() for t in chosen) or (
        chosen.text.lower() in words.not_names or not chosen.text[:1].isupper()
    ):
        return ""  # "a 7B model": no name in the slot the pattern declares
    if len(chosen) == 1:
        return _word_at(chosen[0])  # the whole hyphenated word: "Flan-T5-XXL", not "XXL"
    return " ".join(t.text for t in chosen)


def _expand_lists(
    doc: Doc, pairs: list[tuple[int, int]], hits: dict[int, _Hit], ruleset: RuleSet,
    list_rule: Rule, words: _Words, offer: Callable[[Token, Rule, str, str], None],
) -> None:
    """Lists and ranges joined to an anchor mention: "7B, 13B, 33B and 65B parameters",
    "from 125M to 175B parameters"; members before the anchor inherit its kind."""
    linked: dict[int, frozenset[int]] = {}
    for a, b in pairs:
        group = linked.get(a, frozenset({a})) | linked.get(b, frozenset({b}))
        for member in group:
            linked[member] = group
    for group in set(linked.values()):
        anchors = [hits[i] for i in group if i in hits and ruleset.rules[hits[i].rule].list_anchor]
        if not anchors:
            continue
        anchor = max(anchors, key=lambda h: h.token.i)  # the count next to the noun
        for index in group:
            if index >= anchor.token.i or _next_word(doc[index], words) in words.not_param_nouns:
                continue  # members come before the anchor: "7B, 13B and 65B parameters"
            if index not in hits or not ruleset.rules[hits[index].rule].explicit:
                offer(doc[index], list_rule, anchor.kind, "")
        _assign_respectively(doc, sorted(i for i in group if i in hits), hits, words)


_NAME_STEM = re.compile(r"[-_‐\s]*\d+(?:\.\d+)?\s*[KMBTkmbt]?$")


def _dataset_name(system: str, words: _Words) -> bool:
    """The name is a data set's (rules: words list dataset_names), with or without its size."""
    stem = re.sub(r"[^a-z0-9]", "", _NAME_STEM.sub("", system.lower()))
    return bool(stem) and stem in words.datasets


def _anchor_before(token: Token, hits: dict[int, _Hit], ruleset: RuleSet) -> _Hit | None:
    """The last anchor mention (of a `list_anchor` rule) before `token` in its sentence."""
    sentence = sentence_of(token)
    found = [hit for index, hit in hits.items()
             if sentence.start <= index < token.i and ruleset.rules[hit.rule].list_anchor]
    return max(found, key=lambda h: h.token.i) if found else None


def _next_word(token: Token, words: _Words) -> str:
    """The first word after `token` that is not a modifier ("1.4T training tokens" -> tokens)."""
    doc = token.doc
    index = token.i + 1
    limit = min(len(doc), token.i + 4)
    while index < limit and (doc[index].lower_ in words.modifiers or doc[index].is_space):
        index += 1
        limit = min(len(doc), limit + (1 if doc[index - 1].is_space else 0))
    return doc[index].lower_ if index < len(doc) else ""


KIND_CUES = (("active", "active"), ("non_embedding", "non_embedding"),
             ("per_expert", "per_expert"))


def _kind_near(token: Token, default: str, ruleset: RuleSet) -> str:
    """The kind the words around a count give it ("13B active", "2.6B non-embedding
    parameters", "7B per expert"); cues kind_<kind> of the lexicon, on "before | count | after"."""
    doc = token.doc
    before = " ".join(t.lower_ for t in doc[max(0, token.i - 4) : token.i])
    after = " ".join(t.lower_ for t in doc[token.i + 1 : min(len(doc), token.i + 5)])
    window = f"{before} | {after}"
    for kind, cue in KIND_CUES:
        if ruleset.lexicon.cue(f"kind_{cue}").search(window):
            return kind
    return default


def nearest_name(token: Token, sentence: Span, words: _Words, window: int = 10) -> str:
    """The model-like name attached to `token`: just after it ('175B-parameter GPT-3') or the
    closest before it in the same sentence ('' if none)."""
    doc = token.doc
    after = doc[token.i + 1 : min(len(doc), token.i + 7)]
    for index, candidate in enumerate(after):
        if (candidate.text in (".", ";", ",") or candidate.lower_ in words.clause_breaks
                or candidate.tag_ in ("COUNT_SCALED", "COUNT_PLAIN")):
            break  # "86M parameters and 16 GFLOPs": the name after a conjunction is not bound
        text = candidate.text.strip("(),;:")
        previous = [t.lower_ for t in after[max(0, index - 3) : index]]
        if (
            index >= 1
            and {"parameter", "parameters", "param", "params", "version", "variant"} & set(previous)
            and (candidate.tag_ == "NAME_SIZE" or NAME_TOKEN.match(text))
            and not words.not_a_name(text)
        ):
            return text
        if candidate.lower_ in ("of", "the") and index >= 1:
            continue
    start = max(0, token.i - window)
    for index in range(token.i - 1, start - 1, -1):
        candidate = doc[index]
        if candidate.text in (".", "!", "?", ";") or (
            candidate.is_sent_start and index < token.i - 1 and index < sentence.start
        ):
            break
        text = _word_at(candidate)
        if (words.not_a_name(text) or candidate.tag_ in ("COUNT_SCALED", "COUNT_PLAIN")
                or _in_caps_run(candidate, text)):
            continue
        if candidate.tag_ == "NAME_SIZE" or NAME_TOKEN.match(text):
            return text
    return ""


def _in_caps_run(token: Token, word: str) -> bool:
    """`word` is one of two or more capitalised words in a row ("2.5 BENCHMARK EVALUATION",
    "SCALING LAWS"): a heading or an all-caps title, not a model's name."""
    if not CAPS_WORD.match(word):
        return False
    doc = token.doc
    neighbours = (doc[i] for i in (token.i - 1, token.i + 1) if 0 <= i < len(doc))
    return any(CAPS_WORD.match(_word_at(n)) and _word_at(n) != word for n in neighbours)


def sentence_of(token: Token) -> Span:
    """The sentence holding `token` (token.sent walks the whole doc on every call)."""
    doc = token.doc
    starts = doc.user_data.get("sentence_starts")
    if starts is None:
        starts = [sent.start for sent in doc.sents] + [len(doc)]
        doc.user_data["sentence_starts"] = starts
    index = bisect_right(starts, token.i) - 1
    return doc[starts[index] : starts[index + 1]]


def _assign_respectively(
    doc: Doc, indexes: list[int], hits: dict[int, _Hit], words: _Words
) -> None:
    """'A-T, A-S and A-L, with 22M, 48M and 86M parameters respectively': name each count."""
    if len(indexes) < 2:
        return
    sentence = sentence_of(doc[indexes[0]])
    if "respectively" not in sentence.text.lower():
        return
    names: list[str] = []
    for token in doc[sentence.start : indexes[0]]:
        word = _word_at(token)
        if (
            (token.tag_ == "NAME_SIZE" or NAME_TOKEN.match(word))
            and word.lower() not in words.not_names
            and (not names or names[-1] != word)
        ):
            names.append(word)
    if len(names) == len(indexes):
        for index, name in zip(indexes, names, strict=True):
            hits[index].system = name


def _word_at(token: Token) -> str:
    """The whitespace-delimited word holding `token` ("Kestrel-MoE" for the token "MoE"),
    without surrounding punctuation."""
    text = token.doc.user_data.get("text") or token.doc.text
    start = text.rfind(" ", 0, token.idx) + 1
    end = text.find(" ", token.idx + len(token.text))
    word = text[start : len(text) if end < 0 else end]
    return word.strip("(),;:.\"'“”[]")


def _evidence(sentence: Span, token: Token, limit: int = 320) -> str:
    """The sentence around `token`, at most `limit` characters of it (sliced from the page's
    text, never rebuilt from tokens: a sentence can be a page long)."""
    text = token.doc.user_data.get("text") or token.doc.text
    lo, hi = sentence.start_char, sentence.end_char
    if hi - lo > limit:
        lo = max(lo, token.idx - limit // 2)
        hi = min(hi, lo + limit)
    return " ".join(text[lo:hi].split())


def _cell_evidence(cell: TableCell) -> str:
    """'caption | header | row': what a reviewer needs to read a table cell."""
    parts = (cell.caption[:240], cell.header[:120], cell.row)
    return " | ".join(part for part in parts if part)


def _table_mentions(
    doc: Doc, page: int, ruleset: RuleSet, sections: SectionMap, page_text: str,
    hits: dict[int, _Hit],
) -> list[Mention]:
    """The parameter-count cells of the page's tables (tables.py), as mentions of the table
    rule. A cell a stronger prose rule already holds stays that rule's; a cell taken from a
    weaker one is removed from `hits`."""
    rule = ruleset.by_role("table")
    if rule is None:
        return []
    flat_text = doc.user_data.get("text") or doc.text
    mentions = []
    for cell in find_table_cells(page_text, ruleset.lexicon):
        span = doc.char_span(cell.start, cell.end, alignment_mode="expand")
        if span is None or not len(span) or not MIN_COUNT <= cell.value <= MAX_COUNT:
            continue
        token = span[0]
        current = hits.get(token.i)
        if current is not None and ruleset.rules[current.rule].priority <= rule.priority:
            continue
        hits.pop(token.i, None)
        sentence = sentence_of(token)
        mentions.append(
            Mention(
                value=cell.value,
                kind=cell.kind,
                page=page,
                start=cell.start,
                end=cell.end,
                text=page_text[cell.start : cell.end],
                evidence=_cell_evidence(cell),
                rule=rule.key,
                system=cell.label,
                section=sections.section_at(page, cell.start),
                preceding=flat_text[max(0, sentence.start_char - 200) : sentence.start_char],
                unambiguous_cell=cell.unambiguous,
                explicit=rule.explicit,
                table=True,
                own_marker=cell.own_marker,
            )
        )
    return mentions


def find_page_mentions(
    doc: Doc, page: int, ruleset: RuleSet, sections: SectionMap, page_text: str | None = None
) -> list[Mention]:
    """Every parameter-count mention on one page.

    `doc` is the page run through the pipeline with newlines replaced by spaces (so patterns
    match across line breaks); `page_text` is the page with its lines, for tables.
    """
    flat_text = doc.text
    doc.user_data["text"] = flat_text  # doc.text rebuilds the string on every access
    lines_text = page_text if page_text is not None else flat_text
    hits: dict[int, _Hit] = {}

    words = _words(ruleset)

    def offer(token: Token, rule: Rule, kind: str, system: str) -> None:
        if token._.count is None:
            return
        current = hits.get(token.i)
        if current is None or rule.priority < ruleset.rules[current.rule].priority:
            hits[token.i] = _Hit(token, rule.key, kind, system)

    list_pairs: list[tuple[int, int]] = []
    anchored: list[tuple[Token, Rule]] = []
    for match_id, start, end in ruleset.matcher(doc):
        rule = ruleset.rules[doc.vocab.strings[match_id]]
        span = doc[start:end]
        counts = [t for t in span if t._.count is not None]
        if not counts or rule.role == "table":
            continue  # table rules are applied per table region below
        if rule.role == "list":
            list_pairs.append((counts[0].i, counts[-1].i))
            continue
        if rule.counts != "all":
            counts = counts[:1] if rule.counts == "first" else counts[-1:]
        for token in counts:
            if rule.check_next_word and _next_word(token, words) in words.not_param_nouns:
                continue
            if rule.needs_anchor:
                anchored.append((token, rule))
            else:
                offer(token, rule, rule.kind, _bound_name(rule, span, token, words))
    for token, rule in anchored:
        anchor = _anchor_before(token, hits, ruleset)
        if anchor is not None:
            offer(token, rule, anchor.kind, "")

    list_rule = ruleset.by_role("list")
    if list_pairs and list_rule is not None:
        _expand_lists(doc, list_pairs, hits, ruleset, list_rule, words, offer)

    mentions = _table_mentions(doc, page, ruleset, sections, lines_text, hits)
    for hit in sorted(hits.values(), key=lambda h: h.token.i):
        token = hit.token
        sentence = sentence_of(token)
        value = int(token._.count)
        if not MIN_COUNT <= value <= MAX_COUNT:
            continue
        kind = _kind_near(token, hit.kind, ruleset)
        system = hit.system or nearest_name(token, sentence, words)
        if _dataset_name(system, words):
            continue  # "JFT-300M", "LAION-5B": a data set's size, not a model's
        rule = ruleset.rules[hit.rule]
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
                preceding=flat_text[max(0, sentence.start_char - 200) : sentence.start_char],
                explicit=rule.explicit,
            )
        )
    return sorted(mentions, key=lambda m: m.start)


def find_mentions(pages: list[str], ruleset: RuleSet) -> list[Mention]:
    """All mentions in a paper's normalized pages, each with page, span, sentence and rule."""
    sections = SectionMap(pages)
    mentions: list[Mention] = []
    flat = (page.replace("\n", " ") for page in pages)
    for page_no, doc in enumerate(ruleset.nlp.pipe(flat, batch_size=8), 1):
        mentions.extend(find_page_mentions(doc, page_no, ruleset, sections, pages[page_no - 1]))
    return mentions
