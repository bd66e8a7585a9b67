"""Find parameter-count mentions in page texts with the spaCy rules of rules/.

By default only the windows of a page that can hold a count go through spaCy (windows.py).
Every read of a doc's tokens beyond a match goes through `_token` or `sentence_of`, which
raise windows.Short when a window lacks what the whole page would give, so that the
window is widened. `find_mentions(..., prefilter=False)` runs every page whole.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from spacy.attrs import SENT_START
from spacy.tokens import Doc, Span, Token

from paramminer.countholders import count_holders
from paramminer.models import Mention
from paramminer.rules import CountAt, Rule, RuleSet, count_tokens
from paramminer.runmatch import run_matchers
from paramminer.sections import SectionMap
from paramminer.tables import TableCell, find_table_cells
from paramminer.windows import (
    Bounds,
    PageText,
    Short,
    counts_in,
    find_spots,
    first_windows,
    merge,
    token_at,
    whole,
    widen,
    window_bounds,
)

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


def _bounds(doc: Doc) -> Bounds:
    bounds = doc.user_data.get("bounds")
    return bounds if isinstance(bounds, Bounds) else whole(doc)


def _token(doc: Doc, index: int) -> Token | None:
    """The page's token at `index` (None where the page has none: before its start, after its
    end); raises Short when the window lacks it."""
    bounds = _bounds(doc)
    if bounds.lo <= index < bounds.hi:
        return doc[index]
    if index < bounds.lo:
        if bounds.head_open:
            raise Short("head")
        return None
    if bounds.tail_open:
        raise Short("tail")
    return None


def _tokens(doc: Doc, start: int, end: int) -> list[Token]:
    """The page's tokens start..end-1 (doc[max(0, start):min(len(doc), end)] of the page)."""
    return [t for t in (_token(doc, i) for i in range(start, end)) if t is not None]


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
    index, limit = token.i + 1, token.i + 4
    following = _token(doc, index)
    while index < limit and following is not None and (
        following.lower_ in words.modifiers or following.is_space
    ):
        limit += 1 if following.is_space else 0
        index += 1
        following = _token(doc, index)
    return following.lower_ if following is not None else ""


KIND_CUES = (("active", "active"), ("non_embedding", "non_embedding"),
             ("per_expert", "per_expert"))


def _kind_near(token: Token, default: str, ruleset: RuleSet) -> str:
    """The kind the words around a count give it ("13B active", "2.6B non-embedding
    parameters", "7B per expert"); cues kind_<kind> of the lexicon, on "before | count | after"."""
    doc = token.doc
    before = " ".join(t.lower_ for t in _tokens(doc, token.i - 4, token.i))
    after = " ".join(t.lower_ for t in _tokens(doc, token.i + 1, token.i + 5))
    window = f"{before} | {after}"
    for kind, cue in KIND_CUES:
        if ruleset.lexicon.cue(f"kind_{cue}").search(window):
            return kind
    return default


def nearest_name(token: Token, sentence: Span, words: _Words, window: int = 10) -> str:
    """The model-like name attached to `token`: just after it ('175B-parameter GPT-3') or the
    closest before it in the same sentence ('' if none)."""
    doc = token.doc
    after: list[Token] = []
    for index in range(6):
        candidate = _token(doc, token.i + 1 + index)  # read lazily: a break needs no more
        if candidate is None:
            break
        after.append(candidate)
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
    for index in range(token.i - 1, token.i - window - 1, -1):
        candidate = _token(doc, index)
        if candidate is None:
            break
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
    neighbours = (_token(doc, i) for i in (token.i - 1, token.i + 1))
    return any(n is not None and CAPS_WORD.match(_word_at(n)) and _word_at(n) != word
               for n in neighbours)


def sentence_of(token: Token) -> Span:
    """The sentence holding `token` (token.sent walks the whole doc on every call)."""
    start, end = sentence_bounds(token.doc, token.i)
    return token.doc[start:end]


def sentence_bounds(doc: Doc, index: int) -> tuple[int, int]:
    """(start, end) of the sentence holding token `index`; raises Short when the window
    `doc` does not hold all of it."""
    starts = doc.user_data.get("sentence_starts")
    if starts is None:
        flags = doc.to_array(SENT_START)  # what doc.sents reads: 1 where a sentence starts
        starts = [0, *((flags[1:] == 1).nonzero()[0] + 1).tolist(), len(doc)]
        doc.user_data["sentence_starts"] = starts
    position = bisect_right(starts, index) - 1
    start, end = starts[position], starts[position + 1]
    bounds = _bounds(doc)
    if start < bounds.lo:
        raise Short("head")
    if bounds.tail_open and end >= bounds.hi:
        raise Short("tail")
    return start, end


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


@dataclass(frozen=True)
class _Where:
    """Where a doc's text comes from: page.flat[offset:end]."""

    page: PageText
    offset: int
    end: int
    sections: SectionMap
    reach: int = 0  # the most tokens a rule's match spans

    def section_at(self, char: int) -> str:
        return self.sections.section_at(self.page.number, self.offset + char)

    def preceding(self, sentence: Span) -> str:
        """The 200 characters of the page before `sentence`."""
        start = self.offset + sentence.start_char
        return self.page.flat[max(0, start - 200) : start]


def _table_mentions(
    doc: Doc, where: _Where, ruleset: RuleSet, hits: dict[int, _Hit]
) -> list[Mention]:
    """The parameter-count cells of the page's tables (tables.py) in this doc, as mentions of
    the table rule. A cell a stronger prose rule already holds stays that rule's; a cell taken
    from a weaker one is removed from `hits`."""
    rule = ruleset.by_role("table")
    if rule is None:
        return []
    offset = where.offset
    mentions = []
    for cell in where.page.cells:
        if not offset <= cell.start < where.end:
            continue  # another window's
        if cell.end > where.end:
            raise Short("tail")
        span = doc.char_span(cell.start - offset, cell.end - offset, alignment_mode="expand")
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
                page=where.page.number,
                start=cell.start,
                end=cell.end,
                text=where.page.lines[cell.start : cell.end],
                evidence=_cell_evidence(cell),
                rule=rule.key,
                system=cell.label,
                section=where.section_at(cell.start - offset),
                preceding=where.preceding(sentence),
                unambiguous_cell=cell.unambiguous,
                explicit=rule.explicit,
                table=True,
                own_marker=cell.own_marker,
            )
        )
    return mentions


def _check_spots(doc: Doc, where: _Where, bounds: Bounds) -> None:
    """Every count and cell of a window lies in a sentence the window holds whole, and so far
    inside the window that every match the page has over it is in the window too (a match
    spans at most `where.reach` tokens): raises Short otherwise."""
    spots = where.page.spots
    first = bisect_left(spots, where.offset)
    margin = where.reach - 1
    for spot in spots[first : bisect_left(spots, where.end, first)]:
        index = token_at(doc, spot - where.offset)
        if bounds.head_open and index < bounds.lo + margin:
            raise Short("head")
        if bounds.tail_open and index >= bounds.hi - margin:
            raise Short("tail")
        sentence_bounds(doc, index)


def _doc_mentions(doc: Doc, where: _Where, ruleset: RuleSet) -> list[Mention]:
    """Every parameter-count mention in one doc: a whole page, or a window of one.

    The doc is page.flat[offset:end] run through the pipeline (flat: newlines replaced by
    spaces, so patterns match across line breaks); the page's lines are for tables.
    """
    bounds = window_bounds(where.page, where.offset, where.end, doc)
    doc.user_data["bounds"] = bounds
    if bounds.head_open or bounds.tail_open:
        _check_spots(doc, where, bounds)
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
    count_indices = count_tokens(doc)
    for match_id, start, end in count_matches(doc, ruleset, where.reach):
        if start < bounds.lo or end > bounds.hi:
            continue  # no count the window answers for is in it (a window's edge)
        rule = ruleset.rules[doc.vocab.strings[match_id]]
        span = doc[start:end]
        counts = [doc[i] for i in count_indices[bisect_left(count_indices, start):
                                                bisect_left(count_indices, end)]]
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

    mentions = _table_mentions(doc, where, ruleset, hits)
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
        mentions.append(
            Mention(
                value=value,
                kind=kind,
                page=where.page.number,
                start=where.offset + token.idx,
                end=where.offset + token.idx + len(token.text),
                text=token.text,
                evidence=_evidence(sentence, token),
                rule=hit.rule,
                system=system,
                section=where.section_at(token.idx),
                preceding=where.preceding(sentence),
                explicit=rule.explicit,
            )
        )
    return mentions


def count_matches(doc: Doc, ruleset: RuleSet, reach: int) -> list[tuple[int, int, int]]:
    """(match_id, start, end) of the prose rules' matches over `doc` that hold a count token,
    all of them, in the Matcher's order. With `reach` (the most tokens a match spans) > 0
    the Matcher reads only the runs of tokens within reach of a count, not the whole doc
    (most tokens of a page are nowhere near a count); in each run (or the whole doc) it
    runs only the rules whose required words occur there (runmatch.py)."""
    counts = count_tokens(doc)
    runs = _count_runs(counts, reach, len(doc)) if reach > 0 else [(0, len(doc))]
    plan = run_matchers(ruleset)
    columns = plan.columns(doc)
    found: list[tuple[int, int, int]] = []
    for lo, hi in runs:
        matcher = plan.matcher_for(columns[lo:hi])
        if matcher is None:
            continue
        found.extend((match_id, lo + start, lo + end)
                     for match_id, start, end in matcher(doc[lo:hi])
                     if _holds_count(doc, lo + start, lo + end))
    return found


def _count_runs(counts: list[int], reach: int, length: int) -> list[tuple[int, int]]:
    """The token runs [i - reach + 1, i + reach) around the count tokens `counts` (sorted),
    clipped to the doc, overlapping or touching runs merged: every match of at most `reach`
    tokens that holds a count lies inside one run."""
    runs: list[tuple[int, int]] = []
    for index in counts:
        lo, hi = max(0, index - reach + 1), min(length, index + reach)
        if runs and lo <= runs[-1][1]:
            runs[-1] = (runs[-1][0], max(runs[-1][1], hi))
        else:
            runs.append((lo, hi))
    return runs


def _holds_count(doc: Doc, start: int, end: int) -> bool:
    """doc[start:end] holds a count token."""
    counts = count_tokens(doc)
    index = bisect_left(counts, start)
    return index < len(counts) and counts[index] < end


def find_mentions(pages: list[str], ruleset: RuleSet, *, prefilter: bool = True) -> list[Mention]:
    """All mentions in a paper's normalized pages, each with page, span, sentence and rule.

    With `prefilter` (the default) spaCy runs only over the windows that can hold a count
    (windows.py); without, over every page whole. Both give the same mentions.
    """
    sections = SectionMap(pages, ruleset.lexicon.sections)
    reach = match_reach(ruleset) if prefilter else None
    table_rule = ruleset.by_role("table")
    mentions: list[Mention] = []
    for number, lines in enumerate(pages, 1):
        cells = find_table_cells(lines, ruleset.lexicon) if table_rule else []
        page = PageText(number, lines, lines.replace("\n", " "), cells)
        mentions.extend(_page_mentions(page, sections, ruleset, reach))
    return mentions


def _page_mentions(
    page: PageText, sections: SectionMap, ruleset: RuleSet, reach: int | None
) -> list[Mention]:
    """The mentions of one page: from its windows, each widened until it reads what the whole
    page would give, or from the whole page when `reach` is None."""
    if reach is None:
        windows = [(0, len(page.flat))]
    else:
        find_spots(page, count_holders(ruleset, reach))
        windows = first_windows(page)
    found: dict[tuple[int, int], list[Mention]] = {}
    while True:
        grown = []
        for start, end in windows:
            if (start, end) in found:
                continue
            doc = _parse(ruleset, page.flat[start:end],
                         counts_in(page, start, end) if reach is not None else None)
            try:
                found[start, end] = _doc_mentions(
                    doc, _Where(page, start, end, sections, reach or 0), ruleset)
            except Short as short:
                grown.append(widen(page, (start, end), short.side))
        if not grown:
            return sorted((m for w in windows for m in found[w]), key=lambda m: m.start)
        windows = merge([w for w in windows if w in found] + grown)


def _parse(ruleset: RuleSet, text: str,
           counts: tuple[list[CountAt], list[CountAt]] | None = None) -> Doc:
    """`text` through the pipeline, the text kept in user_data (doc.text rebuilds it);
    `counts`: rules.find_counts of `text`, when known already."""
    doc = ruleset.nlp.make_doc(text)
    doc.user_data["text"] = text
    if counts is not None:
        doc.user_data["counts"] = counts
    return ruleset.nlp(doc)


_REPEAT = re.compile(r"^\{(?P<lo>\d*)(?:(?P<comma>,)(?P<hi>\d*))?\}$")


def match_reach(ruleset: RuleSet) -> int | None:
    """The most tokens a match of any rule can span (None: some rule's has no bound)."""
    cached = ruleset.cache.get("reach", False)
    if cached is not False:
        return cached if isinstance(cached, int) else None
    longest: int | None = 0
    for rule in ruleset.rules.values():
        span = 0
        for token in rule.pattern:
            op = str(token.get("OP", ""))
            repeat = _REPEAT.match(op)
            if op in ("+", "*") or (repeat and repeat["comma"] and not repeat["hi"]):
                longest = None
                break
            span += int(repeat["hi"] or repeat["lo"]) if repeat else 1
        if longest is None:
            break
        longest = max(longest, span)
    ruleset.cache["reach"] = longest
    return longest
