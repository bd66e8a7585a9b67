"""Load the versioned spaCy pattern files in rules/ and build the pipeline that applies them.

The pipeline is `spacy.blank("en")` plus two rule-driven steps:
- `paramminer_counts` merges every count expression ("175B", "1.5 billion",
  "6.7×10^9", "22,855,952") into one token, tags it (COUNT_SCALED, COUNT_PLAIN,
  NAME_SIZE for "LLaMA-65B", MOE_SHAPE for "8x7B") and stores its value in `token._.count`;
- a Matcher holding the token patterns of rules/*.jsonl, which refer to those tags.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from spacy.attrs import IDS
from spacy.lang.en import English
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span, Token

from paramminer.config import rules_dir
from paramminer.countexpr import (
    MOE_SHAPE_RE,
    MOE_SHAPE_SCAN,
    NAME_SIZE_RE,
    NAME_SIZE_SCAN,
    count_of_match,
    find_long_count_texts,
    scaled_value,
)
from paramminer.errors import RuleError
from paramminer.lexicon import Lexicon, load_lexicon
from paramminer.numbers import SCALE_WORDS

RULES_EXTENSION = ".jsonl"
MAX_PAGE_CHARS = 20_000_000  # spaCy refuses longer texts by default (1M); a page is one text
# The tokenizer keeps the tokens of each whitespace-delimited chunk it splits, up to this
# many chunks (spaCy's default, 10,000, is full after a few papers; from then on every new
# word goes through the affix regexes again, twice the tokenizer's time): ~25 MB at most
TOKENIZER_CACHE_CHUNKS = 100_000

if not Token.has_extension("count"):
    Token.set_extension("count", default=None)


CountAt = tuple[int, int, int, str]  # start_char, end_char, value, tag
NAMED_WORDS = ((NAME_SIZE_SCAN, NAME_SIZE_RE, "NAME_SIZE"), (MOE_SHAPE_SCAN, MOE_SHAPE_RE,
                                                            "MOE_SHAPE"))


def count_at(match: re.Match[str]) -> CountAt | None:
    """A count expression match (find_long_count_texts) as merge_counts tags it, from after
    its approximation sign; None when it is no count."""
    counted = count_of_match(match)
    return None if counted is None else (match.start("num"), match.end(), *counted)


def named_at(match: re.Match[str], parser: re.Pattern[str], tag: str) -> CountAt | None:
    """A name-size or MoE-shape word (a NAMED_WORDS scan's match) as merge_counts tags it;
    None for a name-size word whose "name" is a number."""
    parsed = parser.match(match.group(0))
    if parsed is None or (tag == "NAME_SIZE" and parsed["name"].isdigit()):
        return None
    value = scaled_value(parsed["num"], SCALE_WORDS[parsed["sc"].lower()])
    return match.start(), match.end(), value, tag


def find_counts(text: str) -> tuple[list[CountAt], list[CountAt]]:
    """The count expressions and the name-size and MoE-shape words of `text`, in the order
    merge_counts tags them."""
    counts = [at for at in map(count_at, find_long_count_texts(text)) if at is not None]
    named = [at for scan, parser, tag in NAMED_WORDS for match in scan.finditer(text)
             if (at := named_at(match, parser, tag)) is not None]
    return counts, named


@Language.component("paramminer_counts")
def merge_counts(doc: Doc) -> Doc:
    """Merge count expressions into single tagged tokens with `token._.count` set.

    Works from regular-expression matches on the text (walking every token of a page is
    the slow part of spaCy from Python), then touches only the tokens found. The matches
    are `doc.user_data["counts"]` when the caller found them already (find_counts' result
    for the doc's text), else found here.
    """
    given = doc.user_data.pop("counts", None)
    counts, named = given or find_counts(doc.user_data.get("text") or doc.text)
    found: list[CountAt] = []
    spans: list[Span] = []
    for at in counts:
        # no token mixes spaces and other characters, so the tokens holding the match either
        # are exactly it or hold more than spaces beside it: the number is glued to other
        # text (a name-size token is tagged below)
        span = doc.char_span(at[0], at[1])  # None unless the tokens are exactly the match
        if span is not None:
            spans.append(span)
            found.append(at)
    _merge_spans(doc, spans)
    tagged: list[int] = []
    for start_char, end_char, value, tag in found + named:
        span = doc.char_span(start_char, end_char)
        if span is None or len(span) != 1 or span[0].tag_:
            continue
        token = span[0]
        token.tag_ = tag
        token._.count = value
        tagged.append(token.i)
    if len(doc) and not tagged:
        doc[0].tag_ = "O"  # marks the doc as tagged, so Matcher patterns may use TAG
    doc.user_data["count_tokens"] = sorted(tagged)
    return doc


def _merge_spans(doc: Doc, spans: list[Span]) -> None:
    """Merge each span (in order, disjoint) of more than one token into one token."""
    longer = [span for span in spans if len(span) > 1]
    if longer:
        with doc.retokenize() as retokenizer:
            for span in longer:
                retokenizer.merge(span)


def count_tokens(doc: Doc) -> list[int]:
    """The sorted indices of the doc's count tokens (`token._.count` set): as merge_counts
    recorded them, or found by reading every token of a doc it did not tag."""
    recorded = doc.user_data.get("count_tokens")
    if isinstance(recorded, list):
        return recorded
    return [token.i for token in doc if token._.count is not None]


RuleRole = Literal["mention", "list", "table"]
CountChoice = Literal["first", "last", "all"]
ROLES: tuple[RuleRole, ...] = ("mention", "list", "table")
COUNT_CHOICES: tuple[CountChoice, ...] = ("first", "last", "all")
_NAME_BINDING = re.compile(r"^(?:nearest|count|row|span:-?\d+(?:-\d+)?)$")


@dataclass(frozen=True)
class Rule:
    """One token pattern from a rules file, with everything the pipeline needs to know about it.

    - `priority`: when several rules match the same number, the lowest priority wins;
    - `explicit`: a mention found by this rule states a size outright and may support an
      automatic value (weak patterns never do);
    - `counts`: which counts of the matched span are mentions (first, last or all);
    - `name`: how the rule binds a model name to the count: `count` (the count token is a
      name-size token such as "LLaMA-65B"), `span:N` / `span:N-M` (tokens of the match),
      `row` (a table row's label), `nearest` (the closest model-like name in the sentence);
    - `check_next_word`: drop the count when the next word says it counts something else;
    - `role`: `mention` (each match is a mention), `list` (the match links counts into a
      list or range that inherits from an anchor), `table` (applied per table region);
    - `list_anchor`: lists and ranges may attach to a mention found by this rule;
    - `needs_anchor`: the count is a mention only when an anchor mention (a `list_anchor`
      rule's) stands earlier in its sentence, whose kind it takes ("it uses 277M parameters,
      while ours uses only 209M").
    """

    rule_id: str
    version: int
    kind: str
    pattern: list[dict[str, Any]]
    priority: int = 100
    explicit: bool = False
    counts: CountChoice = "all"
    name: str = "nearest"
    check_next_word: bool = True
    role: RuleRole = "mention"
    list_anchor: bool = False
    needs_anchor: bool = False
    description: str = ""
    examples: tuple[dict[str, Any], ...] = ()
    source: str = ""

    @property
    def key(self) -> str:
        """rule_id@version, as recorded on every mention."""
        return f"{self.rule_id}@{self.version}"


@dataclass
class RuleSet:
    """The rules in force and the spaCy pipeline applying them."""

    rules: dict[str, Rule]
    nlp: Language
    matcher: Matcher
    fingerprint: str
    lexicon: Lexicon
    files: list[str] = field(default_factory=list)
    cache: dict[str, object] = field(default_factory=dict)  # derived lookups, built once

    def by_role(self, role: RuleRole) -> Rule | None:
        """The rule (of the highest version) with this role, if any."""
        found = [r for r in self.rules.values() if r.role == role]
        return max(found, key=lambda r: r.version) if found else None

    def describe(self) -> str:
        """Short id of this rule set, stored with each extraction."""
        return f"rules:{self.fingerprint[:12]}"


def parse_rule_file(path: Path) -> list[Rule]:
    """Rules in one JSONL file; raises RuleError naming the file and line."""
    rules = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RuleError(path.name, line_no, f"not JSON ({exc.msg})") from None
        for key in ("id", "version", "pattern"):
            if key not in raw:
                raise RuleError(path.name, line_no, f"missing {key!r}")
        if not isinstance(raw["pattern"], list) or not raw["pattern"]:
            raise RuleError(path.name, line_no, "pattern must be a non-empty list of token dicts")
        rules.append(_rule(raw, path.name, line_no))
    return rules


def _rule(raw: dict[str, Any], source: str, line_no: int) -> Rule:
    """A Rule from one parsed line, its declared semantics checked."""
    role, counts = raw.get("role", "mention"), raw.get("counts", "all")
    name = raw.get("name", "nearest")
    if role not in ROLES:
        raise RuleError(source, line_no, f"role must be one of {', '.join(ROLES)}")
    if counts not in COUNT_CHOICES:
        raise RuleError(source, line_no, f"counts must be one of {', '.join(COUNT_CHOICES)}")
    if not isinstance(name, str) or not _NAME_BINDING.match(name):
        raise RuleError(source, line_no, "name must be nearest, count, row or span:N[-M]")
    return Rule(
        rule_id=str(raw["id"]),
        version=int(raw["version"]),
        kind=str(raw.get("kind", "total")),
        pattern=raw["pattern"],
        priority=int(raw.get("priority", 100)),
        explicit=bool(raw.get("explicit", False)),
        counts=counts,
        name=name,
        check_next_word=bool(raw.get("check_next_word", True)),
        role=role,
        list_anchor=bool(raw.get("list_anchor", False)),
        needs_anchor=bool(raw.get("needs_anchor", False)),
        description=str(raw.get("description", "")),
        examples=tuple(raw.get("examples", ())),
        source=source,
    )


# "3.7M." and "Chinchilla-70B." end a sentence: split the period off the count
COUNT_SUFFIXES = (r"(?<=[0-9][KMBTkmbt])\.",)
COUNT_PREFIXES = (r"[~≈∼](?=\d)",)  # "~13B" -> "~" "13B"
# the word attributes the code reads (extract.py: lower_, is_space; the sentencizer: is_punct)
CODE_READ_ATTRIBUTES = frozenset({"LOWER", "NORM", "IS_PUNCT", "IS_SPACE", "LANG"})
IDS_TO_NAMES = {attr_id: name for name, attr_id in IDS.items()}


def _count_english() -> Language:
    """`spacy.blank("en")` whose tokenizer also splits COUNT_SUFFIXES and COUNT_PREFIXES off
    a word, built with them (setting them afterwards rebuilds the tokenizer's tables)."""
    defaults = type("CountDefaults", (English.Defaults,), {
        "suffixes": [*(English.Defaults.suffixes or ()), *COUNT_SUFFIXES],
        "prefixes": [*(English.Defaults.prefixes or ()), *COUNT_PREFIXES],
    })
    language = type("CountEnglish", (English,), {"lang": "en", "Defaults": defaults})
    nlp: Language = language()
    return nlp


def _pattern_attributes(rules: Iterable[Rule]) -> set[str]:
    """The token attributes the rules' patterns name ("LOWER", "IS_PUNCT", ...)."""
    return {key.upper() for rule in rules for token in rule.pattern for key in token
            if key != "OP"}


def _compute_only_read_attributes(nlp: Language, rules: Iterable[Rule]) -> None:
    """Stop computing the word attributes that nothing reads (spaCy computes ~20 per new
    word: shape, like_url, ...): those the code reads and the patterns name are kept."""
    wanted = CODE_READ_ATTRIBUTES | _pattern_attributes(rules)
    getters: dict[int, Any] = nlp.vocab.lex_attr_getters  # type: ignore[attr-defined]
    for attr_id in list(getters):
        if IDS_TO_NAMES.get(attr_id) not in wanted:
            del getters[attr_id]


def load_rules(directory: Path | None = None, files: Iterable[Path] | None = None) -> RuleSet:
    """Build the pipeline and Matcher from every rules/*.jsonl file."""
    folder = directory or rules_dir()
    paths = sorted(files) if files is not None else sorted(folder.glob(f"*{RULES_EXTENSION}"))
    nlp = _count_english()
    nlp.max_length = MAX_PAGE_CHARS  # only the tokenizer and rules run: no parser memory
    if hasattr(nlp.tokenizer, "max_cache_size"):  # spaCy < 3.8 has it unbounded
        nlp.tokenizer.max_cache_size = TOKENIZER_CACHE_CHUNKS
    nlp.add_pipe("paramminer_counts")
    nlp.add_pipe("sentencizer")
    matcher = Matcher(nlp.vocab, validate=True)
    rules: dict[str, Rule] = {}
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
        for rule in parse_rule_file(path):
            if rule.key in rules:
                raise RuleError(path.name, 0, f"rule {rule.key} defined twice")
            try:
                matcher.add(rule.key, [rule.pattern])
            except (ValueError, KeyError) as exc:
                raise RuleError(path.name, 0, f"rule {rule.key}: {exc}") from None
            rules[rule.key] = rule
    for table in sorted([*folder.glob("*.csv"), *folder.glob("*.json")]):
        digest.update(table.name.encode() + b"\0" + table.read_bytes())  # lexicons, model
    _compute_only_read_attributes(nlp, rules.values())
    lexicon = load_lexicon(folder)
    return RuleSet(rules, nlp, matcher, digest.hexdigest(), lexicon, [p.name for p in paths])
