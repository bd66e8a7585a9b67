"""What the review pages show: the queue in work order, progress, and one item with its page.

Everything is read through paramminer.review (the functions the CLI uses); this module only
orders, counts and locates evidence on the PDF page (paramminer.pdfpage).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from paramminer.numbers import humanize
from paramminer.pdfpage import (
    Box,
    Located,
    PaperPdf,
    PdfUnavailableError,
    TextSpot,
    find_pdf,
    locate_all,
)
from paramminer.review import (
    Candidate,
    Decision,
    FlagInfo,
    ItemFilter,
    ReviewItem,
    candidates_for,
    flags_for,
    get_item,
    history,
    list_items,
)

# What a reviewer should look at first, most urgent first: a decision in force that may now
# be wrong, then disagreement with curated data, impossible values, then the extractor's doubts.
REASON_PRIORITY = (
    "changed_after_review", "reference_mismatch", "implausible_value", "own_vs_cited",
    "moe_ambiguity", "several_candidates", "date_conflict", "low_confidence",
)
TABLE_RULE_PREFIX = "table"  # rules that read table rows (table-row@1)
DUMP_LENGTH = 320  # evidence longer than this is a run of table cells, not a sentence
DUMP_NUMBERS = (6, 0.25)  # or evidence with at least 6 numbers making a quarter of its words
NUMBER = re.compile(r"^[~≈]?\d[\d.,]*(?:e-?\d+)?[%KMBTkmbt]?$")
EVIDENCE_CONTEXT = 160  # characters shown each side of the number in long evidence
ARXIV_ABS = "https://arxiv.org/abs/"


def _urgency(item: ReviewItem) -> int:
    ranks = [REASON_PRIORITY.index(r) for r in item.reasons if r in REASON_PRIORITY]
    return min(ranks, default=len(REASON_PRIORITY))


def work_order(items: list[ReviewItem]) -> list[ReviewItem]:
    """Headline items before secondary systems; then the most urgent reason; then paper order."""
    return sorted(items, key=lambda i: (not i.is_headline, _urgency(i), i.paper_id,
                                        -(i.suggested or 0), i.item_key))


@dataclass(frozen=True)
class Queue:
    """The open items of a filter in work order, and how far the reviewers have come."""

    open_items: list[ReviewItem]
    done: int  # items of the filter that were flagged and now have a decision
    total: int  # done + open

    def after(self, key: str) -> ReviewItem | None:
        """The open item to show after `key` (the first one when `key` is not in the queue)."""
        keys = [i.item_key for i in self.open_items]
        if key in keys:
            rest = self.open_items[keys.index(key) + 1:] + self.open_items[:keys.index(key)]
            return rest[0] if rest else None
        return self.open_items[0] if self.open_items else None

    def position(self, key: str) -> int | None:
        """1-based place of `key` among the open items."""
        keys = [i.item_key for i in self.open_items]
        return keys.index(key) + 1 if key in keys else None


def load_queue(con: duckdb.DuckDBPyConnection, where: ItemFilter) -> Queue:
    """Open items in work order, plus the count of decided ones under the same filter."""
    everything = list_items(con, ItemFilter(where.reasons, where.domain, where.since,
                                            where.until, include_decided=True))
    open_items = work_order([i for i in everything if i.is_open])
    done = sum(1 for i in everything if not i.is_open and i.decision_id is not None)
    return Queue(open_items, done, done + len(open_items))


def facets(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[str]]:
    """The reason codes and domains that occur among items (for the filter menus)."""
    reasons = sorted({r for (text,) in con.execute(
        "SELECT DISTINCT reasons FROM review_items WHERE reasons <> ''").fetchall()
        for r in str(text).split(",") if r})
    domains = [str(d) for (d,) in con.execute(
        "SELECT DISTINCT domain FROM papers WHERE domain IS NOT NULL ORDER BY domain").fetchall()]
    return reasons, domains


@dataclass(frozen=True)
class Shown:
    """A candidate as the item page shows it: the number marked inside its evidence."""

    number: int
    candidate: Candidate
    value: str
    before: str
    mention: str
    after: str
    is_table: bool
    located: Located | None

    @property
    def boxes(self) -> tuple[tuple[str, Box], ...]:
        """(css class, box) of the marks to draw over the page image."""
        if self.located is None:
            return ()
        return (tuple(("evidence", b) for b in self.located.evidence)
                + tuple(("mention", b) for b in self.located.mention))


@dataclass
class ItemPage:
    """Everything one item page needs."""

    item: ReviewItem
    candidates: list[Shown]
    flags: list[FlagInfo]
    decisions: list[Decision]
    arxiv_url: str | None
    pdf: PaperPdf | None
    pdf_problem: str | None
    shown: Shown | None  # the candidate whose page is displayed
    shown_page: int | None


def _split(text: str, mention: str) -> tuple[str, str, str]:
    """(before, number, after) with the number standing alone (not inside 'Halcyon-7B')."""
    match = re.search(rf"(?<![\w.\-]){re.escape(mention)}(?![\w])", text) if mention else None
    at = match.start() if match else (text.find(mention) if mention else -1)
    if at < 0:
        return text, "", ""
    return text[:at], mention, text[at + len(mention):]


def _trim(before: str, after: str) -> tuple[str, str]:
    if len(before) > EVIDENCE_CONTEXT:
        before = "…" + before[-EVIDENCE_CONTEXT:].lstrip()
    if len(after) > EVIDENCE_CONTEXT:
        after = after[:EVIDENCE_CONTEXT].rstrip() + "…"
    return before, after


def _candidate_rows(con: duckdb.DuckDBPyConnection, ids: list[str]) -> dict[str, tuple[int, str]]:
    """char_start and page text of each candidate, to find the right occurrence on the page."""
    rows = con.execute(
        "SELECT c.candidate_id, c.char_start, p.text FROM candidates c "
        "JOIN pages p ON p.sha256 = c.sha256 AND p.page = c.page "
        "WHERE c.candidate_id IN (SELECT unnest(?))", [ids]).fetchall()
    return {str(r[0]): (int(r[1]), str(r[2])) for r in rows}


def is_table_like(candidate: Candidate) -> bool:
    """Whether the evidence is table cells (a table rule, or a long run of numbers)."""
    words = candidate.evidence.split()
    numbers = sum(1 for w in words if NUMBER.match(w))
    return (candidate.rule.startswith(TABLE_RULE_PREFIX) or len(candidate.evidence) > DUMP_LENGTH
            or (numbers >= DUMP_NUMBERS[0] and numbers >= DUMP_NUMBERS[1] * len(words)))


def _spot(candidate: Candidate, context: tuple[int, str] | None) -> TextSpot:
    return TextSpot(candidate.page, candidate.evidence, candidate.mention,
                    context[1] if context else None, context[0] if context else None,
                    is_table_like(candidate))


def _show(number: int, candidate: Candidate, located: Located | None) -> Shown:
    is_table = is_table_like(candidate)
    text = candidate.evidence
    if is_table and located is not None and located.row_text:
        text = located.row_text
    before, mention, after = _split(text, candidate.mention)
    before, after = _trim(before, after)
    return Shown(number, candidate, humanize(candidate.parameters), before, mention, after,
                 is_table, located)


def _locations(pdf: PaperPdf | None, candidates: list[Candidate],
               contexts: dict[str, tuple[int, str]]) -> list[Located | None]:
    """Each candidate's place on its page (None for all when the PDF cannot be read)."""
    if pdf is None:
        return [None] * len(candidates)
    try:
        return list(locate_all(pdf, [_spot(c, contexts.get(c.candidate_id))
                                     for c in candidates]))
    except PdfUnavailableError:
        return [None] * len(candidates)


def arxiv_url(con: duckdb.DuckDBPyConnection, paper_id: str) -> str | None:
    """The paper's arXiv abstract page (the version ingested), when it has an arXiv id."""
    row = con.execute("SELECT arxiv_id, arxiv_version FROM papers WHERE paper_id = ?",
                      [paper_id]).fetchone()
    if row is None or not row[0]:
        return None
    version = f"v{row[1]}" if row[1] else ""
    return f"{ARXIV_ABS}{row[0]}{version}"


def load_item_page(con: duckdb.DuckDBPyConnection, key: str, pdf_dir: Path,
                   roots: tuple[Path, ...], show: int | None = None) -> ItemPage:
    """The item, its candidates located on their pages, flags, history and links."""
    item = get_item(con, key)
    candidates = candidates_for(con, item)
    pdf: PaperPdf | None = None
    problem = None
    try:
        pdf = find_pdf(con, item.paper_id, pdf_dir, roots)
    except PdfUnavailableError as exc:
        problem = str(exc)
    contexts = _candidate_rows(con, [c.candidate_id for c in candidates])
    located = _locations(pdf, candidates, contexts)
    shown = [_show(n, c, at) for n, (c, at) in enumerate(zip(candidates, located, strict=True), 1)]
    focus = None
    if show is not None and 1 <= show <= len(shown):
        focus = shown[show - 1]
    elif shown:
        focus = next((s for s in shown if s.candidate.candidate_id == item.candidate_id),
                     shown[0])
    page = focus.candidate.page if focus else item.page
    return ItemPage(item, shown, flags_for(con, key), history(con, key),
                    arxiv_url(con, item.paper_id), pdf, problem, focus, page)
