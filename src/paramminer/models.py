"""Plain data passed between the stages: mentions, systems, flags, paper metadata."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ArxivMeta:
    """What the arXiv API says about one version of a paper."""

    arxiv_id: str
    version: int | None = None
    title: str = ""
    abstract: str = ""
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    published: str = ""  # YYYY-MM-DD of v1
    updated: str = ""


@dataclass
class Mention:
    """One parameter-count mention in a paper's text, with its provenance."""

    value: int
    kind: str  # total / active / non_embedding / per_expert
    page: int  # 1-based
    start: int  # char span of the number in the normalized page text
    end: int
    text: str  # the matched text
    evidence: str  # the sentence or table row
    rule: str  # rule_id@version
    system: str = ""  # model name attached to the mention
    section: str = "body"
    scope: str = "unknown"  # own / cited / unknown
    score: float = 0.0
    cues: list[str] = field(default_factory=list)
    preceding: str = ""  # text just before the sentence (for "It has 236B parameters")
    unambiguous_cell: bool = False  # the only count of its row, under the only parameters column
    explicit: bool = False  # found by a rule that states a size outright (see rules/README.md)
    table: bool = False  # a table cell (the evidence is caption | header | row)
    own_marker: bool = False  # a table row marked as the paper's own ("ours")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


@dataclass
class SystemRow:
    """A system the paper presents: its size, the evidence, and how sure we are."""

    system: str
    parameters: int
    parameters_active: int | None
    is_headline: bool
    confidence: float
    status: str  # auto / flagged
    mention: Mention


@dataclass(frozen=True)
class Flag:
    """A reason a person should look at a paper's extraction."""

    reason: str
    detail: str
    system: str | None = None


@dataclass
class Resolution:
    """Everything extraction decided about one paper."""

    mentions: list[Mention]
    systems: list[SystemRow]
    flags: list[Flag]
    introduced_names: list[str]
    title: str = ""
    candidates: list[Any] = field(default_factory=list)  # features.Candidate, for evaluation
    decision: Any = None  # headline_model.Decision
    presents_model: bool = True  # False: a survey, benchmark, system or tool paper
    unsized_variants: list[str] = field(default_factory=list)  # own tiers with no size stated
