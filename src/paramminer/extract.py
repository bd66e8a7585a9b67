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

UNIT_IN_HEADER = re.compile(
    r"(?i)(?:params?\.?|parameters)\s*(?:\(|\[)\s*(?:#\s*)?(?P<unit>[KMB]|millions?|billions?|mio\.?|"
    r"10\^?6|10\^?9)\s*(?:\)|\])"
    r"|(?:in|\()\s*(?P<unit2>millions|billions)"
    r"|(?P<unit3>millions?|billions?|mio\.?)\s+(?:of\s+)?(?:params?|parameters)"
)
NAME_TOKEN = re.compile(
    r"^(?=.*[A-Za-z])(?:[A-Z][\w.\-/]*[A-Z0-9][\w.\-/]*|[A-Z][a-z]+[A-Z][\w.\-]*|[A-Z][\w]*-[\w.\-]+)$"
)
MIN_COUNT, MAX_COUNT = 1_000, 10**15  # outside: not a parameter count (or an id, a hash...)


@dataclass
class _Hit:
    token: Token
    rule: str
    kind: str
    system: str
    context: str = ""  # table caption and header, shown before the row in the evidence
    unambiguous: bool = False  # a table cell that cannot be in the wrong column


def rule_name(key: str) -> str:
    """'count-param-noun@1' -> 'count-param-noun'."""
    return key.split("@", 1)[0]


@dataclass(frozen=True)
class _Words:
    """The word lists extraction uses (from the lexicon in rules/)."""

    not_param_nouns: frozenset[str]
    modifiers: frozenset[str]
    not_names: frozenset[str]  # as written, lower-case
    prose: frozenset[str]


def _words(ruleset: RuleSet) -> _Words:
    cached = ruleset.cache.get("words")
    if isinstance(cached, _Words):
        return cached
    lexicon = ruleset.lexicon
    words = _Words(
        not_param_nouns=lexicon.word_list("not_param_nouns"),
        modifiers=lexicon.word_list("count_modifiers"),
        not_names=lexicon.word_list("not_model_names"),
        prose=lexicon.word_list("prose_words"),
    )
    ruleset.cache["words"] = words
    return words


def _bound_name(rule: Rule, span: Span, token: Token) -> str:
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
    if lo == hi and (chosen[0]._.count is not None or not NAME_TOKEN.match(chosen[0].text)):
        return ""  # "a 7B model": no name in the declared slot
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


def _next_word(token: Token, words: _Words) -> str:
    """The first word after `token` that is not a modifier ("1.4T training tokens" -> tokens)."""
    doc = token.doc
    index = token.i + 1
    limit = min(len(doc), token.i + 4)
    while index < limit and (doc[index].lower_ in words.modifiers or doc[index].is_space):
        index += 1
        limit = min(len(doc), limit + (1 if doc[index - 1].is_space else 0))
    return doc[index].lower_ if index < len(doc) else ""


def _kind_near(token: Token, default: str) -> str:
    doc = token.doc
    window = doc[token.i + 1 : min(len(doc), token.i + 5)]
    words = [t.lower_ for t in window]
    text = " ".join(words)
    before = " ".join(t.lower_ for t in doc[max(0, token.i - 4) : token.i])
    if words[:1] in (["active"], ["activated"]) or (
        "active" in words[:3] and "total" not in words[:1]
    ):
        return "active"
    if (
        "activated" in words[:3]
        or "activated" in before.split()[-2:]
        or "active" in before.split()[-2:]
    ):
        return "active"
    if "non - embedding" in text or "non-embedding" in text or "nonembedding" in text:
        return "non_embedding"
    if "non-embedding" in before or "non - embedding" in before:
        return "non_embedding"
    if re.search(r"\b(per|each|every) expert", text):
        return "per_expert"
    return default


def nearest_name(token: Token, sentence: Span, words: _Words, window: int = 10) -> str:
    """The model-like name attached to `token`: just after it ('175B-parameter GPT-3') or the
    closest before it in the same sentence ('' if none)."""
    doc = token.doc
    after = doc[token.i + 1 : min(len(doc), token.i + 7)]
    for index, candidate in enumerate(after):
        if candidate.text in (".", ";", ",") or candidate.tag_ in ("COUNT_SCALED", "COUNT_PLAIN"):
            break
        text = candidate.text.strip("(),;:")
        previous = [t.lower_ for t in after[max(0, index - 3) : index]]
        if (
            index >= 1
            and {"parameter", "parameters", "param", "params", "version", "variant"} & set(previous)
            and (candidate.tag_ == "NAME_SIZE" or NAME_TOKEN.match(text))
            and text.lower() not in words.not_names
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
        if text.lower() in words.not_names or candidate.tag_ in ("COUNT_SCALED", "COUNT_PLAIN"):
            continue
        if candidate.tag_ == "NAME_SIZE" or NAME_TOKEN.match(text):
            return text
    return ""


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
    text = sentence.text
    start = token.idx - sentence.start_char
    if len(text) > limit:
        lo = max(0, start - limit // 2)
        text = text[lo : lo + limit]
    return " ".join(text.split())


@dataclass
class _Table:
    """A table region under a header naming parameters."""

    start: int  # first character after the header line
    end: int
    header: str
    columns: list[str]  # kinds of the count columns in header order: P(arams)/F(LOPs)/T(okens)/X
    labels: list[str]  # header labels (for unit tables)
    unit: int | None  # "Params (M)" -> 10**6
    transposed: bool  # the header line itself carries the values ("# Params 7B 13B 70B")
    header_start: int = 0
    caption: str = ""  # the "Table N: ..." line next to the table, if found


_COLUMN_WORDS = re.compile(
    r"(?i)(?P<P>#\s?params?\.?|\bparams?\b\.?|\bparameters?\b|\bsize\b)"
    r"|(?P<F>\b(?:g|t|m)?flops?\b|\bmacs\b|\bmadds?\b|\bmult-adds\b|\bflops/\w+)"
    r"|(?P<T>\btokens?\b|\bdata\b)"
    r"|(?P<X>\bbatch\b|\bthroughput\b|\bim/s\b|\bspeed\b|\blatency\b|\bmemory\b)"
)
_HEADER_PARAM = re.compile(
    r"(?i)#\s?params?\b|\bparams?\b\.?|\bparameters\b|#\s?param\.|\bparameter count"
)


def _header_columns(header: str) -> list[str]:
    """Kinds of the count columns in a header, in order: P, PA (active), PN (non-embedding),
    F (FLOPs), T (tokens), X (other)."""
    kinds: list[str] = []
    for match in _COLUMN_WORDS.finditer(header):
        kind = match.lastgroup or "X"
        if (
            kind == "P"
            and match.group(0).lower() == "size"
            and not re.search(r"(?i)model\s+size", header[max(0, match.start() - 6) : match.end()])
        ):
            continue
        before = header[max(0, match.start() - 14) : match.start()].strip().lower()
        if (
            kind.startswith("P")
            and kinds
            and kinds[-1].startswith("P")
            and before.endswith(("(#", "("))
        ):
            continue  # "Model Size (# parameters)" is one column
        if kind == "P" and re.search(r"activ\w*\s*#?$", before):
            kind = "PA"  # "Active params"
        elif kind == "P" and re.search(r"(?:non-?\s?emb\w*\.?|embedding)\s*#?$", before):
            kind = "PN"
        kinds.append(kind)
    return kinds


def _header_labels(header: str) -> list[str]:
    """Column labels of a header line; "(in millions)" and "# Params" stay one label."""
    labels: list[str] = []
    depth = 0
    for word in header.split():
        if labels and (depth > 0 or word.startswith(("(", "[")) or labels[-1] in ("#",)):
            labels[-1] += " " + word
        else:
            labels.append(word)
        depth = max(
            0, depth + word.count("(") + word.count("[") - word.count(")") - word.count("]")
        )
    return labels


def _tables(page_text: str, words: _Words) -> list[_Table]:
    """Table regions under a header line naming a parameters column."""
    tables = []
    lines = page_text.split("\n")
    positions = []
    offset = 0
    for line in lines:
        positions.append(offset)
        offset += len(line) + 1
    for index, line in enumerate(lines):
        stripped = line.strip()
        if len(stripped) > 160 or not _HEADER_PARAM.search(stripped):
            continue
        header_words = stripped.split()
        function_words = sum(1 for w in header_words if w.lower() in words.prose)
        if function_words >= 2 or stripped.endswith(".") or len(header_words) < 2:
            continue  # prose that mentions parameters, not a column header
        param_match = _HEADER_PARAM.search(stripped)
        transposed = (
            param_match is not None and len(COUNT_CELL.findall(stripped[param_match.end() :])) >= 2
        )
        unit = None
        unit_match = UNIT_IN_HEADER.search(stripped)
        above = lines[index - 1] if index else ""
        if (
            unit_match is None
            and re.search(r"(?i)\bmillions?\b", above)
            and re.search(r"(?i)\bparam", stripped)
        ):
            unit_match = re.match(r"(?P<unit>M)(?P<unit2>)(?P<unit3>)", "M")  # two-line header
        if unit_match:
            word = (unit_match["unit"] or unit_match["unit2"] or unit_match["unit3"] or "").lower()
            unit = (
                10**9
                if word.startswith(("b", "10^9", "109"))
                else (10**3 if word == "k" else 10**6)
            )
        end_index = index + 1
        if not transposed:
            while end_index < len(lines) and end_index - index <= 30:
                follow = lines[end_index].strip()
                if re.match(r"^(Table|Figure|Fig\.)\s*\d", follow) or (
                    len(follow) > 140 and sum(1 for w in follow.split() if w.islower()) > 12
                ):
                    break
                end_index += 1
        end = positions[end_index] if end_index < len(lines) else len(page_text)
        caption = _caption(lines, index)
        tables.append(
            _Table(
                start=positions[index] if transposed else positions[index] + len(line) + 1,
                end=positions[index] + len(line) if transposed else end,
                header=stripped,
                columns=_header_columns(stripped),
                labels=_header_labels(stripped),
                unit=unit,
                transposed=transposed,
                header_start=positions[index],
                caption=caption,
            )
        )
    return tables


_CAPTION = re.compile(r"^\s*(?:Table|TABLE|Tab\.)\s*[A-Z]?\d+[.:|]?")


def _caption(lines: list[str], header_index: int) -> str:
    """The caption of the table whose header is at `header_index` (above or below it)."""
    order = [
        *range(header_index - 1, max(-1, header_index - 8), -1),
        *range(header_index + 1, min(len(lines), header_index + 40)),
    ]
    for index in order:
        if _CAPTION.match(lines[index]):
            return " ".join(lines[index].split())[:160]
    return ""


COUNT_CELL = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*\s?[KMBT]\b|\d{1,3}(?:,\d{3}){2,}")
_CELL = re.compile(r"(?<![\w.])\d+(?:\.\d+)?[%×x†*]?(?![\w.])")


def _line_of(text: str, offset: int) -> tuple[int, int]:
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return start, (len(text) if end < 0 else end)


def _table_context(table: _Table) -> str:
    parts = [table.caption] if table.caption else []
    if not table.transposed:
        parts.append(table.header[:120])
    return " | ".join(parts)


def _column_names(text: str, header_start: int, count: int) -> list[str]:
    """Model names heading the columns of a transposed table: the last `count` words of the
    closest line above with at least `count` words."""
    above = text[:header_start].rstrip("\n").split("\n")[-3:]
    for line in reversed(above):
        words = line.split()
        if len(words) >= count:
            return [w.rstrip("*†‡") for w in words[-count:]]
    return [""] * count


def _table_row_hits(
    doc: Doc, text: str, table: _Table, rule: str, words: _Words
) -> list[_Hit]:
    """The counts of a table that sit in a parameters column."""
    hits: list[_Hit] = []
    if table.transposed:
        header_span = doc.char_span(table.header_start, table.end, alignment_mode="expand")
        prefix = table.header.lower()
        kind = "total"
        if "activ" in prefix:
            kind = "active"
        elif "non-emb" in prefix or "non emb" in prefix or "embedding" in prefix:
            kind = "non_embedding"
        tokens = [t for t in header_span or [] if t.tag_ in ("COUNT_SCALED", "COUNT_PLAIN")]
        names = _column_names(text, table.header_start, len(tokens))
        context = _table_context(table)
        for token, name in zip(tokens, names, strict=False):
            hits.append(_Hit(token, rule, kind, name, context))
        return hits
    region = doc.char_span(table.start, table.end, alignment_mode="expand")
    rows: dict[int, list[Token]] = {}
    for token in region or []:
        if token.tag_ in ("COUNT_SCALED", "COUNT_PLAIN"):
            rows.setdefault(_line_of(text, token.idx)[0], []).append(token)
    param_positions = [i for i, kind in enumerate(table.columns) if kind.startswith("P")]
    column_kind = {"P": "total", "PA": "active", "PN": "non_embedding"}
    for line_start, tokens in rows.items():
        if not param_positions:
            break
        if len(table.columns) > 1 and len(tokens) >= 1:
            chosen = [tokens[i] for i in param_positions if i < len(tokens)]
            if len(tokens) < len(table.columns) and not chosen:
                chosen = tokens[:1]
        else:
            chosen = tokens[:1]
        label = text[line_start : tokens[0].idx].strip().split(" ")
        unambiguous = (
            len(tokens) == 1
            and table.columns.count("P") == 1
            and not ({"F", "T", "PA", "PN"} & set(table.columns))
        )
        for token in chosen:
            if _next_word(token, words) in words.not_param_nouns:
                continue
            position = tokens.index(token)
            kind = (
                column_kind.get(table.columns[position], "total")
                if (len(tokens) == len(table.columns) or position < len(table.columns))
                else "total"
            )
            hits.append(
                _Hit(
                    token,
                    rule,
                    kind,
                    label[0] if label and label[0] else "",
                    _table_context(table),
                    unambiguous,
                )
            )
    if table.unit is not None:
        hits.extend(_unit_table_cells(doc, text, table, rule, set(rows)))
    return hits


def _unit_table_cells(
    doc: Doc, text: str, table: _Table, rule: str, rows_with_counts: set[int]
) -> list[_Hit]:
    """Unitless numbers in the parameters column of a table whose header gives the unit.

    Cells are aligned from the right (row labels on the left may hold several words).
    """
    hits: list[_Hit] = []
    p_index = next((i for i, label in enumerate(table.labels) if _HEADER_PARAM.search(label)), None)
    if p_index is None or p_index == 0 or table.unit is None:
        return hits
    from_right = len(table.labels) - p_index
    for line_match in re.finditer(r"[^\n]+", text[table.start : table.end]):
        line_start = table.start + line_match.start()
        if line_start in rows_with_counts:
            continue
        line = line_match.group(0)
        numbers = list(_CELL.finditer(line))
        if len(numbers) < from_right:
            continue
        number = numbers[len(numbers) - from_right]
        if not number.group(0)[-1].isdigit():
            continue  # a percentage or a "2×" in the parameters column: not a count
        char = line_start + number.start()
        span = doc.char_span(char, char + len(number.group(0)))
        if span is None or len(span) != 1:
            continue
        token = span[0]
        try:
            token._.count = int(float(number.group(0)) * table.unit)
        except ValueError:
            continue
        label = line[: numbers[0].start()].strip()
        if not re.search(r"[A-Za-z]", label) and len(numbers) < 3:
            continue  # bare numbers: the tick labels of a chart's axis, not a table row
        hits.append(
            _Hit(token, rule, "total", label.split(" ")[0] if label else "", _table_context(table))
        )
    return hits


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
            offer(token, rule, rule.kind, _bound_name(rule, span, token))

    list_rule = ruleset.by_role("list")
    if list_pairs and list_rule is not None:
        _expand_lists(doc, list_pairs, hits, ruleset, list_rule, words, offer)

    table_rule = ruleset.by_role("table")
    if table_rule is not None:
        for table in _tables(lines_text, words):
            for hit in _table_row_hits(doc, lines_text, table, table_rule.key, words):
                current = hits.get(hit.token.i)
                if current is None or table_rule.priority < ruleset.rules[current.rule].priority:
                    hits[hit.token.i] = hit

    mentions = []
    for hit in sorted(hits.values(), key=lambda h: h.token.i):
        token = hit.token
        sentence = sentence_of(token)
        value = int(token._.count)
        if not MIN_COUNT <= value <= MAX_COUNT:
            continue
        kind = _kind_near(token, hit.kind)
        system = hit.system or nearest_name(token, sentence, words)
        if ruleset.rules[hit.rule].role == "table":
            line_start, line_end = _line_of(lines_text, token.idx)
            evidence = " ".join(lines_text[line_start:line_end].split())
            if hit.context:
                evidence = f"{hit.context} | {evidence}"
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
                preceding=flat_text[max(0, sentence.start_char - 200) : sentence.start_char],
                unambiguous_cell=hit.unambiguous,
            )
        )
    return mentions


def find_mentions(pages: list[str], ruleset: RuleSet) -> list[Mention]:
    """All mentions in a paper's normalized pages, each with page, span, sentence and rule."""
    sections = SectionMap(pages)
    mentions: list[Mention] = []
    flat = (page.replace("\n", " ") for page in pages)
    for page_no, doc in enumerate(ruleset.nlp.pipe(flat, batch_size=8), 1):
        mentions.extend(find_page_mentions(doc, page_no, ruleset, sections, pages[page_no - 1]))
    return mentions
