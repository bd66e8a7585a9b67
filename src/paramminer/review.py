"""The review queue: human decisions on flagged extractions, kept append-only, that always win.

A review *item* is one system of one paper. Its key is the paper_id for the paper's headline
(so a decision follows "this paper's size" across re-extraction, whatever the system is
called) and `paper_id:hash8` (hash of name and value) for any other system.

Decisions live in the `decisions` table and are never updated or deleted: undo is a new row
whose `supersedes` names the cancelled decision. `systems_final` (and so `paramminer export`)
shows the decision in force, with status 'reviewed'. Re-extraction never touches decisions;
`reconcile` raises `changed_after_review` when the new extraction disagrees with one.
"""

from __future__ import annotations

import csv
import datetime as dt
import getpass
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import EllipsisType
from typing import Any

import duckdb

from paramminer.errors import ParamminerError, StorageError
from paramminer.numbers import humanize, parse_count
from paramminer.resolve import MAX_PLAUSIBLE, MIN_PLAUSIBLE
from paramminer.warehouse import Warehouse

ACTIONS = ("accept", "choose", "set", "reject")
REASON_CODES = (
    "several_candidates", "own_vs_cited", "low_confidence", "implausible_value",
    "moe_ambiguity", "date_conflict", "reference_mismatch", "changed_after_review",
)
REVIEW_STAGE = "review"  # flags raised by reconcile; re-extraction (stage 'extract') leaves them
REFERENCE_STAGE_PREFIX = "reference:"  # + source name: one stage per reference dataset
MAX_CANDIDATES = 9  # keys 1-9 in the interactive session
EXPORT_COLUMNS = (
    "item_id", "paper_id", "title", "system", "is_headline", "suggested", "suggested_human",
    "reasons", "decided_value", "decided_by", "page", "evidence", "candidates",
    "action", "value", "note", "reviewer", "seen_decision", "seen_extraction",
)
# A spreadsheet runs a cell that starts with one of these as a formula (or splits it): the
# export puts CELL_ESCAPE in front (and before a leading CELL_ESCAPE itself, so that the
# import, which removes one leading CELL_ESCAPE from every cell, gives back the exact text).
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
CELL_ESCAPE = "'"


class ReviewError(ParamminerError):
    """A review command that cannot be carried out (unknown item, nothing to accept...)."""

    exit_code = 2  # always a value the reviewer gave: an id, a value, a candidate, a file


class UnknownItemError(ReviewError):
    """No review item has this id."""

    exit_code = 2

    def __init__(self, key: str) -> None:
        super().__init__(f"no review item {key!r} (see `paramminer review list --all`)")
        self.key = key


class DecisionConflictError(ReviewError):
    """Someone decided the item after the reviewer looked at it; `item` is how it is now."""

    def __init__(self, item: ReviewItem) -> None:
        shown = "not stated" if item.decided_value is None else humanize(item.decided_value)
        who = f"{item.decided_by} ({item.decided_action} {shown}, decision #{item.decision_id})"
        super().__init__(f"{item.item_key}: {who if item.decision_id else 'an undo'} changed "
                         "this item after you looked at it; look again and confirm to supersede")
        self.item = item


class ImportRowsError(ReviewError):
    """A review CSV with bad rows; nothing was applied. `problems` is (line, message)."""

    exit_code = 2

    def __init__(self, path: str, problems: list[tuple[int, str]]) -> None:
        lines = "".join(f"\n  line {line}: {message}" for line, message in problems)
        super().__init__(f"{path}: {len(problems)} bad row(s), nothing applied:{lines}")
        self.path = path
        self.problems = problems


@dataclass(frozen=True)
class ReviewItem:
    """One system awaiting (or having had) a reviewer's decision."""

    item_key: str
    paper_id: str
    title: str
    system: str
    is_headline: bool
    suggested: int | None  # extracted value (None when extraction no longer yields the item)
    suggested_active: int | None
    confidence: float | None
    extract_status: str | None
    candidate_id: str | None
    page: int | None
    evidence: str | None
    reasons: tuple[str, ...]
    decision_id: int | None
    decided_action: str | None
    decided_value: int | None
    decided_active: int | None
    decided_by: str | None
    decided_at: dt.datetime | None
    decided_note: str | None
    is_open: bool
    publication_date: dt.date | None
    domain: str | None
    domains: str | None

    @property
    def value_in_force(self) -> int | None:
        """The value that counts now: the decision's when there is one, else the extracted one."""
        return self.decided_value if self.decision_id is not None else self.suggested

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (dates as ISO strings, reasons as a list)."""
        data = asdict(self)
        data["reasons"] = list(self.reasons)
        for name in ("decided_at", "publication_date"):
            value = data[name]
            data[name] = value.isoformat() if value is not None else None
        return data


@dataclass(frozen=True)
class Candidate:
    """A parameter-count mention a reviewer may pick, with its evidence."""

    candidate_id: str
    parameters: int
    kind: str
    system: str | None
    page: int
    mention: str
    evidence: str
    scope: str
    score: float
    rule: str


@dataclass(frozen=True)
class FlagInfo:
    """A reason code on an item, with its detail."""

    stage: str
    reason: str
    detail: str | None
    raised_at: dt.datetime


@dataclass(frozen=True)
class Decision:
    """One row of the decisions table."""

    decision_id: int
    item_key: str
    paper_id: str
    system: str
    action: str
    old_value: int | None
    new_value: int | None
    new_active: int | None
    extracted_value: int | None
    reviewer: str
    note: str | None
    origin: str
    decided_at: dt.datetime
    supersedes: int | None = None
    undone_by: int | None = None
    # the decision that was in force when this one was written (another reviewer's, perhaps)
    replaced: int | None = None
    replaced_by_reviewer: str | None = None


@dataclass(frozen=True)
class ItemFilter:
    """Which items `list_items` returns."""

    reasons: tuple[str, ...] = ()  # any of these
    domain: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    include_decided: bool = False  # False: only items waiting for a person
    paper_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReferenceMismatch:
    """A headline value that disagrees with a reference dataset."""

    paper_id: str
    system: str
    ours: int | None
    reference: int
    reference_system: str
    relative_difference: float | None
    detail: str


@dataclass
class ImportReport:
    """What `import_csv` applied."""

    applied: list[Decision] = field(default_factory=list)
    skipped_rows: int = 0  # rows without a decision
    already_applied: int = 0  # rows whose decision is already the one in force


# -- reading ---------------------------------------------------------------------------------

_ITEM_COLUMNS = (
    "item_key, paper_id, coalesce(title, ''), system, is_headline, suggested, suggested_active, "
    "confidence, extract_status, candidate_id, page, evidence, reasons, decision_id, "
    "decided_action, decided_value, decided_active, decided_by, decided_at, decided_note, "
    "is_open, publication_date, domain, domains"
)
_ITEM_ORDER = " ORDER BY paper_id, is_headline DESC, sort_value DESC, item_key"


def _item(row: Sequence[Any]) -> ReviewItem:
    values = list(row)
    values[12] = tuple(r for r in (values[12] or "").split(",") if r)
    values[20] = bool(values[20])
    return ReviewItem(*values)


def list_items(con: duckdb.DuckDBPyConnection, where: ItemFilter | None = None) -> list[ReviewItem]:
    """Review items in queue order (paper, headline first, larger values first)."""
    where = where or ItemFilter()
    clauses: list[str] = []
    params: list[Any] = []
    if not where.include_decided:
        clauses.append("is_open")
    if where.reasons:
        clauses.append("list_has_any(string_split(reasons, ','), ?)")
        params.append(list(where.reasons))
    if where.domain:
        clauses.append("(lower(domain) = lower(?) OR list_contains("
                       "string_split(lower(coalesce(domains, '')), ','), lower(?)))")
        params += [where.domain, where.domain]
    if where.since:
        clauses.append("publication_date >= ?")
        params.append(where.since)
    if where.until:
        clauses.append("publication_date <= ?")
        params.append(where.until)
    if where.paper_ids:
        clauses.append("paper_id IN (SELECT unnest(?))")
        params.append(list(where.paper_ids))
    query = f"SELECT {_ITEM_COLUMNS} FROM review_items"
    if clauses:
        query += " WHERE " + " AND ".join(clauses)
    return [_item(row) for row in con.execute(query + _ITEM_ORDER, params).fetchall()]


def get_item(con: duckdb.DuckDBPyConnection, key: str) -> ReviewItem:
    """The item with this key (raises UnknownItemError)."""
    row = con.execute(f"SELECT {_ITEM_COLUMNS} FROM review_items WHERE item_key = ?",
                      [key]).fetchone()
    if row is None:
        raise UnknownItemError(key)
    return _item(row)


_CANDIDATE_COLUMNS = (
    "candidate_id, parameters, kind, system, page, mention, evidence, scope, score, rule"
)


def candidates_for(con: duckdb.DuckDBPyConnection, item: ReviewItem,
                   limit: int = MAX_CANDIDATES) -> list[Candidate]:
    """The paper's candidates for this item, numbered from 1: the extracted one, then by score."""
    rows = con.execute(
        f"SELECT {_CANDIDATE_COLUMNS} FROM candidates WHERE paper_id = ? "
        "ORDER BY (candidate_id = ?) DESC NULLS LAST, score DESC, page, char_start",
        [item.paper_id, item.candidate_id or ""],
    ).fetchall()
    out: list[Candidate] = []
    seen: set[tuple[int, int, str]] = set()
    for row in rows:
        candidate = Candidate(*row)
        key = (candidate.parameters, candidate.page, candidate.evidence)
        if key in seen:
            continue
        seen.add(key)
        out.append(candidate)
        if len(out) >= limit:
            break
    return out


def flags_for(con: duckdb.DuckDBPyConnection, key: str) -> list[FlagInfo]:
    """Every flag on the item, oldest first."""
    rows = con.execute(
        "SELECT stage, reason, detail, raised_at FROM review_flags WHERE item_key = ? "
        "ORDER BY raised_at, reason", [key]
    ).fetchall()
    return [FlagInfo(*row) for row in rows]


_DECISION_COLUMNS = (
    "d.decision_id, d.item_key, d.paper_id, d.system, d.action, d.old_value, d.new_value, "
    "d.new_active, d.extracted_value, d.reviewer, d.note, d.origin, d.decided_at, d.supersedes, "
    "(SELECT min(u.decision_id) FROM decisions u WHERE u.action = 'undo' "
    "AND u.supersedes = d.decision_id)"
)


def history(con: duckdb.DuckDBPyConnection, key: str) -> list[Decision]:
    """Every decision ever made on the item (undone ones too), oldest first."""
    rows = con.execute(
        f"SELECT {_DECISION_COLUMNS} FROM decisions d WHERE d.item_key = ? ORDER BY d.decision_id",
        [key],
    ).fetchall()
    return [Decision(*row) for row in rows]


def all_decisions(con: duckdb.DuckDBPyConnection) -> list[Decision]:
    """The whole decisions table, oldest first."""
    rows = con.execute(
        f"SELECT {_DECISION_COLUMNS} FROM decisions d ORDER BY d.decision_id"
    ).fetchall()
    return [Decision(*row) for row in rows]


# -- deciding --------------------------------------------------------------------------------

def default_reviewer(explicit: str | None = None) -> str:
    """--by, else $PARAMMINER_REVIEWER, else the login name."""
    if explicit and explicit.strip():
        return explicit.strip()
    from_env = os.environ.get("PARAMMINER_REVIEWER", "").strip()
    if from_env:
        return from_env
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return "unknown"


def parse_value(text: str) -> tuple[int, int | None]:
    """A typed value: any form parse_count reads, optionally `TOTAL/ACTIVE` for MoE ("47B/13B").

    Raises ValueError with a message a reviewer can act on.
    """
    total_text, _, active_text = text.strip().partition("/")
    total = parse_count(total_text)
    if total is None:
        raise ValueError(f"not a parameter count: {total_text.strip()!r} (try 1.5B, 340M, 1.3e9)")
    _check_plausible(total)
    active = None
    if active_text.strip():
        active = parse_count(active_text)
        if active is None:
            raise ValueError(f"not a parameter count: {active_text.strip()!r}")
        if active >= total:
            raise ValueError(f"active {humanize(active)} must be below total {humanize(total)}")
    return total, active


def _check_plausible(value: int) -> None:
    if not MIN_PLAUSIBLE <= value <= MAX_PLAUSIBLE:
        raise ValueError(f"{value:,} is outside the plausible range "
                         f"{humanize(MIN_PLAUSIBLE)}..{humanize(MAX_PLAUSIBLE)}")


def _record(
    con: duckdb.DuckDBPyConnection,
    item: ReviewItem,
    action: str,
    *,
    reviewer: str,
    note: str | None,
    origin: str,
    value: int | None = None,
    active: int | None = None,
    candidate: Candidate | None = None,
) -> Decision:
    """Append one decision for `item` (already read in this transaction)."""
    provenance: tuple[str | None, int | None, str | None, str | None] = (None, None, None, None)
    if action == "accept":
        if item.suggested is None:
            raise ReviewError(f"{item.item_key}: extraction has no value to accept; "
                              "set one or reject")
        value, active = item.suggested, item.suggested_active
        provenance = (item.candidate_id, item.page, item.evidence, None)
    elif action in ("choose", "set"):
        if value is None:
            raise ReviewError(f"{item.item_key}: {action} needs a value")
        if action == "set":
            candidate = candidate or _candidate_with_value(con, item.paper_id, value)
        if active is None and item.suggested_active is not None and item.suggested_active < value:
            active = item.suggested_active  # an MoE's active count survives a corrected total
        if candidate is not None:
            provenance = (candidate.candidate_id, candidate.page, candidate.evidence,
                          candidate.rule)
    elif action == "reject":
        value, active = None, None
    else:
        raise ReviewError(f"unknown action {action!r} (one of {', '.join(ACTIONS)})")
    row = con.execute(
        "INSERT INTO decisions (item_key, paper_id, system, is_headline, action, old_value, "
        "new_value, new_active, extracted_value, candidate_id, page, evidence, rule, reviewer, "
        "note, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "RETURNING decision_id, decided_at",
        [item.item_key, item.paper_id, item.system, item.is_headline, action,
         item.value_in_force, value, active, item.suggested, *provenance, reviewer,
         note or None, origin],
    ).fetchone()
    assert row is not None
    return Decision(
        int(row[0]), item.item_key, item.paper_id, item.system, action, item.value_in_force,
        value, active, item.suggested, reviewer, note or None, origin, row[1],
        replaced=item.decision_id, replaced_by_reviewer=item.decided_by,
    )


def _candidate_with_value(con: duckdb.DuckDBPyConnection, paper_id: str,
                          value: int) -> Candidate | None:
    """The best candidate stating exactly `value`, so a typed value keeps its evidence."""
    row = con.execute(
        f"SELECT {_CANDIDATE_COLUMNS} FROM candidates WHERE paper_id = ? AND parameters = ? "
        "ORDER BY (kind = 'total') DESC, score DESC, page LIMIT 1", [paper_id, value]
    ).fetchone()
    return Candidate(*row) if row else None


def decide(
    warehouse: Warehouse,
    key: str,
    action: str,
    *,
    reviewer: str,
    note: str | None = None,
    value: int | None = None,
    active: int | None = None,
    candidate_number: int | None = None,
    origin: str = "cli",
    seen_decision: int | EllipsisType | None = ...,
) -> Decision:
    """Record accept, choose (candidate_number, 1-based), set (value) or reject; one transaction.

    With `seen_decision` (the decision id in force when the reviewer looked, None for none),
    the decision is refused with DecisionConflictError if another one is in force now.
    """
    if value is not None:
        try:
            _check_plausible(value)
        except ValueError as exc:
            raise ReviewError(f"{key}: {exc}") from None
    with warehouse.transaction() as con:
        item = get_item(con, key)
        if seen_decision is not ... and item.decision_id != seen_decision:
            raise DecisionConflictError(item)
        candidate = None
        if action == "choose":
            options = candidates_for(con, item)
            if candidate_number is None or not 1 <= candidate_number <= len(options):
                raise ReviewError(f"{key}: no candidate {candidate_number} "
                                  f"(the item has {len(options)})")
            candidate = options[candidate_number - 1]
            value = candidate.parameters
        return _record(con, item, action, reviewer=reviewer, note=note, origin=origin,
                       value=value, active=active, candidate=candidate)


def undo_decision(warehouse: Warehouse, decision_id: int, *, reviewer: str,
                  note: str | None = None, origin: str = "cli") -> Decision:
    """Cancel one decision by appending an undo row; the previous decision or extraction returns."""
    with warehouse.transaction() as con:
        row = con.execute(
            f"SELECT {_DECISION_COLUMNS} FROM decisions d WHERE d.decision_id = ?", [decision_id]
        ).fetchone()
        if row is None:
            raise ReviewError(f"no decision {decision_id}")
        target = Decision(*row)
        if target.action == "undo":
            raise ReviewError(f"decision {decision_id} is an undo; decide again instead")
        if target.undone_by is not None:
            raise ReviewError(f"decision {decision_id} was already undone "
                              f"(by decision {target.undone_by})")
        item = get_item(con, target.item_key)
        previous = con.execute(
            "SELECT new_value FROM decisions d WHERE item_key = ? AND action <> 'undo' "
            "AND decision_id <> ? AND NOT EXISTS (SELECT 1 FROM decisions u "
            "WHERE u.action = 'undo' AND u.supersedes = d.decision_id) "
            "ORDER BY decision_id DESC LIMIT 1", [target.item_key, decision_id]
        ).fetchone()
        restored = previous[0] if previous else item.suggested
        inserted = con.execute(
            "INSERT INTO decisions (item_key, paper_id, system, is_headline, action, old_value, "
            "new_value, extracted_value, supersedes, reviewer, note, origin) "
            "VALUES (?, ?, ?, ?, 'undo', ?, ?, ?, ?, ?, ?, ?) RETURNING decision_id, decided_at",
            [item.item_key, item.paper_id, item.system, item.is_headline, target.new_value,
             restored, item.suggested, decision_id, reviewer, note or None, origin],
        ).fetchone()
        assert inserted is not None
        return Decision(int(inserted[0]), item.item_key, item.paper_id, item.system, "undo",
                        target.new_value, restored, None, item.suggested, reviewer, note or None,
                        origin, inserted[1], supersedes=decision_id)


def undo(warehouse: Warehouse, key: str, *, reviewer: str, note: str | None = None,
         origin: str = "cli") -> Decision:
    """Cancel the decision in force on an item."""
    item = get_item(warehouse.con, key)
    if item.decision_id is None:
        raise ReviewError(f"{key}: no decision in force to undo")
    return undo_decision(warehouse, item.decision_id, reviewer=reviewer, note=note, origin=origin)


# -- flags the review stage raises -------------------------------------------------------------

FlagRow = tuple[str, str | None, str | None, str, str]  # paper_id, item_key, system, reason, detail


def _sync_flags(con: duckdb.DuckDBPyConnection, stage: str, wanted: Iterable[FlagRow],
                paper_ids: Sequence[str] | None = None) -> None:
    """Make `stage`'s flags (of some papers, or all) exactly `wanted`.

    Flags that are already there are kept as they are, so their raised_at does not move and a
    decision made after them keeps the item closed.
    """
    query = "SELECT paper_id, item_key, system, reason, detail FROM flags WHERE stage = ?"
    params: list[Any] = [stage]
    if paper_ids is not None:
        query += " AND paper_id IN (SELECT unnest(?))"
        params.append(list(paper_ids))
    existing = {tuple(row) for row in con.execute(query, params).fetchall()}
    target = set(wanted)
    for row in existing - target:
        con.execute(
            "DELETE FROM flags WHERE stage = ? AND paper_id = ? "
            "AND item_key IS NOT DISTINCT FROM ? AND system IS NOT DISTINCT FROM ? "
            "AND reason = ? AND detail IS NOT DISTINCT FROM ?",
            [stage, *row],
        )
    for row in sorted(target - existing, key=lambda r: tuple(str(v) for v in r)):
        con.execute(
            "INSERT INTO flags (paper_id, stage, item_key, system, reason, detail) "
            "VALUES (?, ?, ?, ?, ?, ?)", [row[0], stage, *row[1:]],
        )


def _show(value: int | None) -> str:
    return "not stated" if value is None else f"{humanize(value)} ({value:,})"


def reconcile(con: duckdb.DuckDBPyConnection, paper_id: str) -> None:
    """After (re-)extraction of a paper: keep every decision, flag those it now contradicts.

    Runs inside load's transaction. A decision is contradicted when the extracted value changed
    since the decision was made and is not the decided value either; it stays in force and the
    item is raised again as `changed_after_review`, with both values. Also flags
    `implausible_value` (an MoE active count not below its total).
    """
    reconcile_papers(con, [paper_id])


def reconcile_papers(con: duckdb.DuckDBPyConnection, paper_ids: Sequence[str]) -> None:
    """`reconcile` for several papers at once, in three queries whatever their number."""
    wanted: list[FlagRow] = []
    decisions = con.execute(
        "SELECT d.paper_id, d.item_key, d.system, d.action, d.new_value, d.extracted_value, "
        "d.reviewer, d.decided_at, s.parameters, s.system FROM review_current d "
        "LEFT JOIN systems_keyed s USING (item_key) WHERE d.paper_id IN (SELECT unnest(?))",
        [list(paper_ids)],
    ).fetchall()
    for (paper_id, key, system, action, decided, extracted_then, reviewer, when, now,
         now_system) in decisions:
        if now in (extracted_then, decided):
            continue
        what = ("extraction no longer finds it" if now is None
                else f"extraction now says {_show(now)}")
        detail = (f"{what} (was {_show(extracted_then)} when reviewed); {reviewer}'s decision "
                  f"({action}: {_show(decided)}, {when:%Y-%m-%d}) stays in force")
        wanted.append((paper_id, key, now_system or system or None, "changed_after_review", detail))
    for paper_id, key, system, total, active in con.execute(
        "SELECT paper_id, item_key, system, parameters, parameters_active FROM systems_keyed "
        "WHERE paper_id IN (SELECT unnest(?)) AND parameters_active >= parameters",
        [list(paper_ids)],
    ).fetchall():
        wanted.append((paper_id, key, system or None, "implausible_value",
                       f"active {_show(active)} is not below total {_show(total)}"))
    _sync_flags(con, REVIEW_STAGE, wanted, paper_ids)


# -- reference datasets ------------------------------------------------------------------------

_REFERENCE_QUERY = r"""
WITH ref AS (
    SELECT
        coalesce(system, '') AS ref_system,
        CAST(round(parameters) AS BIGINT) AS ref_parameters,
        regexp_replace(regexp_replace(lower(trim(coalesce(
            nullif(trim(arxiv_id), ''),
            nullif(regexp_extract(coalesce(link, ''),
                                  'arxiv\.org/(?:abs|pdf)/([0-9]{4}\.[0-9]{4,5})', 1), '')
        ))), '^arxiv:', ''), 'v[0-9]+$', '') AS arxiv_key
    FROM reference_systems
    WHERE source = ? AND parameters IS NOT NULL AND parameters > 0
)
SELECT p.paper_id, f.system, f.parameters, ref.ref_system, ref.ref_parameters
FROM papers p
JOIN ref ON ref.arxiv_key = regexp_replace(lower(p.arxiv_id), 'v[0-9]+$', '')
LEFT JOIN systems_final f ON f.paper_id = p.paper_id AND f.is_headline
ORDER BY p.paper_id, ref.ref_parameters
"""


def flag_reference_mismatches(warehouse: Warehouse, source_name: str,
                              tolerance: float = 0.10) -> list[ReferenceMismatch]:
    """Flag `reference_mismatch` where a paper's headline differs from reference `source_name`.

    Papers are matched on arXiv id (papers.arxiv_id; the reference's arxiv_id, else its link).
    The value in force counts (a reviewed value too). A paper is flagged when its headline is
    more than `tolerance` (relative to the reference) from every reference row of the paper, or
    has no value while the reference has one. Re-running replaces this source's flags; flags
    that still hold keep their date, so they do not reopen items decided since.
    """
    if tolerance < 0:
        raise ReviewError(f"tolerance must be >= 0, got {tolerance}")
    con = warehouse.con
    tables = {row[0] for row in con.execute(
        "SELECT table_name FROM information_schema.tables").fetchall()}
    if "reference_systems" not in tables:
        raise ReviewError("no reference data in this warehouse: "
                          "run `paramminer reference import FILE.csv --name NAME` first")
    known = {row[0] for row in con.execute("SELECT DISTINCT source FROM reference_systems")
             .fetchall()}
    if "reference_sources" in tables:
        known |= {row[0] for row in con.execute("SELECT name FROM reference_sources").fetchall()}
    if source_name not in known:
        names = ", ".join(sorted(str(n) for n in known)) or "none"
        raise ReviewError(f"no reference source {source_name!r} (imported: {names})")
    by_paper: dict[str, list[tuple[str | None, int | None, str, int]]] = {}
    for paper_id, system, ours, ref_system, ref_value in con.execute(
        _REFERENCE_QUERY, [source_name]
    ).fetchall():
        by_paper.setdefault(paper_id, []).append((system, ours, ref_system, ref_value))
    mismatches: list[ReferenceMismatch] = []
    for paper_id, rows in sorted(by_paper.items()):
        system, ours = rows[0][0], rows[0][1]

        def distance(row: tuple[str | None, int | None, str, int],
                     ours: int | None = ours) -> float:
            return abs((ours or 0) - row[3]) / row[3]

        closest = min(rows, key=distance)
        difference = distance(closest) if ours is not None else None
        if difference is not None and difference <= tolerance:
            continue
        apart = f", {difference:.0%} apart" if difference is not None else ""
        label = f" ({closest[2]})" if closest[2] else ""
        detail = (f"{source_name}: ours {_show(ours)} vs reference {_show(closest[3])}"
                  f"{label}{apart}")
        mismatches.append(ReferenceMismatch(paper_id, system or "", ours, closest[3], closest[2],
                                            difference, detail))
    with warehouse.transaction() as tx:
        _sync_flags(tx, REFERENCE_STAGE_PREFIX + source_name, [
            (m.paper_id, m.paper_id, m.system or None, "reference_mismatch", m.detail)
            for m in mismatches
        ])
    return mismatches


# -- spreadsheet round trip ---------------------------------------------------------------------

def _candidate_summary(candidates: Sequence[Candidate]) -> str:
    return "; ".join(f"{n}) {humanize(c.parameters)} p{c.page}"
                     for n, c in enumerate(candidates, 1))


def neutralise(text: str) -> str:
    """A cell a spreadsheet shows as text, never runs: CELL_ESCAPE before a formula lead."""
    return CELL_ESCAPE + text if text.startswith((*FORMULA_LEADS, CELL_ESCAPE)) else text


def restore(text: str) -> str:
    """The exact text `neutralise` was given (one leading CELL_ESCAPE removed)."""
    return text[1:] if text.startswith(CELL_ESCAPE) else text


def _seen_state(con: duckdb.DuckDBPyConnection, item_key: str, paper_id: str) -> tuple[str, str]:
    """(latest decision id on the item, when its paper was last extracted), as text: what an
    export saw, so an import can tell that the item changed since."""
    row = con.execute(
        "SELECT (SELECT max(decision_id) FROM decisions WHERE item_key = ?), "
        "(SELECT strftime(extracted_at, '%Y-%m-%dT%H:%M:%S.%f') FROM papers WHERE paper_id = ?)",
        [item_key, paper_id],
    ).fetchone()
    decision, extracted = row if row else (None, None)
    return ("" if decision is None else str(decision)), extracted or ""


def export_csv(con: duckdb.DuckDBPyConnection, path: Path, where: ItemFilter | None = None) -> int:
    """Write the queue as a CSV to fill in (action, value, note, reviewer); returns rows written.

    Text from papers is neutralised (see FORMULA_LEADS); `seen_decision` and
    `seen_extraction` record the item's state for the import's checks.
    """
    items = list_items(con, where)
    temp = path.with_name(f".{path.name}.tmp")
    try:
        with temp.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(EXPORT_COLUMNS)
            for item in items:
                writer.writerow([neutralise(str(cell)) for cell in _export_row(con, item)])
        temp.replace(path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise StorageError(f"cannot write {path}: {exc.strerror or exc}") from None
    return len(items)


def _export_row(con: duckdb.DuckDBPyConnection, item: ReviewItem) -> list[object]:
    return [
        item.item_key, item.paper_id, item.title, item.system,
        "true" if item.is_headline else "false",
        "" if item.suggested is None else item.suggested,
        "" if item.suggested is None else humanize(item.suggested),
        ",".join(item.reasons),
        "" if item.decided_value is None else item.decided_value,
        item.decided_by or "", item.page or "", item.evidence or "",
        _candidate_summary(candidates_for(con, item)), "", "", "", "",
        *_seen_state(con, item.item_key, item.paper_id),
    ]


@dataclass(frozen=True)
class _PlannedRow:
    line: int
    key: str
    action: str
    value: int | None
    active: int | None
    candidate_number: int | None
    note: str | None
    reviewer: str
    already_applied: bool = False  # the decision in force already says this


_ACTION_ALIASES = {"not stated": "reject", "not_stated": "reject", "n": "reject"}


def _parse_decision(con: duckdb.DuckDBPyConnection, item: ReviewItem, action: str,
                    raw_value: str) -> tuple[int | None, int | None, int | None] | str:
    """(value, active, candidate number) the row asks for, or an error message."""
    if action == "set":
        if not raw_value:
            return "set needs a value"
        try:
            value, active = parse_value(raw_value)
        except ValueError as exc:
            return str(exc)
        return value, active, None
    if action == "choose":
        if not raw_value.lstrip("#").isdigit():
            return f"choose needs a candidate number in value, got {raw_value!r}"
        number = int(raw_value.lstrip("#"))
        options = candidates_for(con, item)
        if not 1 <= number <= len(options):
            return f"no candidate {number}"
        return options[number - 1].parameters, None, number
    if raw_value:
        return f"{action} takes no value (got {raw_value!r}); use action set"
    if action == "accept":
        if item.suggested is None:
            return "nothing to accept: extraction has no value for this item"
        return item.suggested, item.suggested_active, None
    return None, None, None


def _in_force(item: ReviewItem, action: str, value: int | None, active: int | None,
              note: str | None) -> bool:
    """Whether the decision in force is already this one (so importing it again adds nothing)."""
    return (item.decision_id is not None and item.decided_action == action
            and item.decided_value == value and (active is None or item.decided_active == active)
            and (item.decided_note or None) == note)


def _changed_since_export(con: duckdb.DuckDBPyConnection, item: ReviewItem, action: str,
                          row: dict[str, str]) -> str | None:
    """Why the item is no longer what the export showed (None: unchanged)."""
    seen_decision, seen_extraction = _seen_state(con, item.item_key, item.paper_id)
    if "seen_decision" in row and row["seen_decision"].strip() != seen_decision:
        latest = f"decision #{seen_decision}" if seen_decision else "an undo"
        return (f"{item.item_key} was decided since the export ({latest}"
                + (f", {item.decided_action} by {item.decided_by}" if item.decided_by else "")
                + ")")
    if "seen_extraction" in row and row["seen_extraction"].strip() != seen_extraction:
        return f"{item.paper_id} was extracted again since the export (at {seen_extraction})"
    exported = row.get("suggested", "").strip()
    if action == "accept" and exported and exported != str(item.suggested):
        return (f"extraction changed since export: suggested was {exported}, "
                f"now {item.suggested}; review the item again")
    return None


def _plan_row(con: duckdb.DuckDBPyConnection, line: int, row: dict[str, str],
              default_by: str, force: bool = False) -> _PlannedRow | str | None:
    """A validated row, an error message, or None for a row without a decision."""
    key = row.get("item_id", "").strip()
    action = row.get("action", "").strip().lower()
    raw_value = row.get("value", "").strip()
    if not action and not raw_value:
        return None
    if not key:
        return "item_id is empty"
    action = _ACTION_ALIASES.get(action, action or "set")
    if action not in ACTIONS:
        return f"action {action!r} is not one of accept, set, reject, choose"
    try:
        item = get_item(con, key)
    except UnknownItemError:
        return f"no review item {key!r}"
    parsed = _parse_decision(con, item, action, raw_value)
    if isinstance(parsed, str):
        return parsed
    value, active, number = parsed
    note = row.get("note", "").strip() or None
    reviewer = row.get("reviewer", "").strip() or default_by
    if _in_force(item, action, value, active, note):
        return _PlannedRow(line, key, action, value, active, number, note, reviewer, True)
    changed = _changed_since_export(con, item, action, row)
    if changed and not force:
        return f"{changed}; not applied (--force applies it anyway)"
    return _PlannedRow(line, key, action, value, active, number, note, reviewer)


def import_csv(warehouse: Warehouse, path: Path, *, default_by: str,
               force: bool = False) -> ImportReport:
    """Apply a filled-in review CSV: validate every row first; apply all in one transaction or none.

    Columns: item_id and action (accept / set / reject / choose) are required; value (for set:
    any count form, or TOTAL/ACTIVE; for choose: candidate number), note and reviewer are
    optional. Rows with neither action nor value are skipped, and so are rows whose decision is
    already the one in force (importing a file twice adds nothing). A row whose item was
    decided or extracted again since the export (`seen_decision`, `seen_extraction`) is
    refused unless `force`. Raises ImportRowsError listing every bad row with its line number.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReviewError(f"cannot read {path}: {exc}") from None
    reader = csv.DictReader(text.splitlines(keepends=True))
    fields = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in ("item_id", "action") if name not in fields]
    if missing:
        raise ImportRowsError(str(path), [(1, f"missing column(s): {', '.join(missing)}")])
    reader.fieldnames = fields
    problems: list[tuple[int, str]] = []
    planned: list[_PlannedRow] = []
    first_line: dict[str, int] = {}
    report = ImportReport()
    con = warehouse.con
    line = 1
    try:
        for row in reader:
            start, line = line + 1, reader.line_num
            if None in row:
                problems.append((start, "more cells than header columns"))
                continue
            cells = {k: restore(v or "") for k, v in row.items()}
            result = _plan_row(con, start, cells, default_by, force)
            if result is None:
                report.skipped_rows += 1
            elif isinstance(result, str):
                problems.append((start, result))
            elif result.key in first_line:
                problems.append((start, f"item {result.key} is also decided on line "
                                        f"{first_line[result.key]}"))
            elif result.already_applied:
                first_line[result.key] = start
                report.already_applied += 1
            else:
                first_line[result.key] = start
                planned.append(result)
    except csv.Error as exc:
        problems.append((reader.line_num, f"not valid CSV: {exc}"))
    if problems:
        raise ImportRowsError(str(path), problems)
    origin = f"csv:{path.name}"
    with warehouse.transaction() as tx:
        for plan in planned:
            item = get_item(tx, plan.key)
            candidate = None
            value = plan.value
            if plan.action == "choose" and plan.candidate_number is not None:
                candidate = candidates_for(tx, item)[plan.candidate_number - 1]
                value = candidate.parameters
            report.applied.append(_record(
                tx, item, plan.action, reviewer=plan.reviewer, note=plan.note, origin=origin,
                value=value, active=plan.active, candidate=candidate,
            ))
    return report

