"""Write extraction results into the warehouse: one transaction per paper, idempotent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from paramminer.identity import fields_for, paper_identity
from paramminer.models import ArxivMeta
from paramminer.review import reconcile
from paramminer.warehouse import Warehouse

if TYPE_CHECKING:
    from paramminer.ingest import PaperResult

CANDIDATE_COLUMNS = (
    "candidate_id", "paper_id", "sha256", "parameters", "kind", "system", "page", "char_start",
    "char_end", "mention", "evidence", "section", "scope", "score", "rule", "chosen",
)


def _bulk_insert(
    con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str],
    rows: Sequence[Sequence[object]],
) -> None:
    """Insert many rows at once through Arrow (executemany binds row by row: ~100x slower)."""
    arrays = {name: [row[i] for row in rows] for i, name in enumerate(columns)}
    batch = pa.table(arrays)
    con.register("_bulk_rows", batch)
    try:
        con.execute(f"INSERT INTO {table} ({', '.join(columns)}) "
                    f"SELECT {', '.join(columns)} FROM _bulk_rows")
    finally:
        con.unregister("_bulk_rows")


def known_documents(warehouse: Warehouse) -> set[str]:
    """sha256 of every PDF already loaded."""
    return {row[0] for row in warehouse.con.execute("SELECT sha256 FROM documents").fetchall()}


def needs_metadata_update(warehouse: Warehouse, sha256: str, arxiv: ArxivMeta | None) -> bool:
    """True when a known PDF now comes with arXiv metadata its paper row lacks."""
    if arxiv is None:
        return False
    row = warehouse.con.execute(
        "SELECT count(*) FROM papers WHERE sha256 = ? AND published IS NOT NULL", [sha256]
    ).fetchone()
    return not row or row[0] == 0


def record_failure(warehouse: Warehouse, path: str, sha256: str | None, reason: str) -> None:
    """Remember an input that failed, so `paramminer status` and re-runs can list it."""
    warehouse.con.execute(
        "INSERT OR REPLACE INTO ingest_failures (source_path, sha256, reason, failed_at) "
        "VALUES (?, ?, ?, current_timestamp)",
        [path, sha256, reason],
    )


def _write_extraction(warehouse: Warehouse, paper_id: str, result: PaperResult) -> None:
    """Replace the paper's candidates, systems and extraction flags (inside a transaction)."""
    from paramminer.ingest import candidate_id

    con = warehouse.con
    resolution = result.resolution
    for table in ("candidates", "systems"):
        con.execute(f"DELETE FROM {table} WHERE paper_id = ?", [paper_id])
    con.execute("DELETE FROM flags WHERE paper_id = ? AND stage = 'extract'", [paper_id])
    chosen = {id(row.mention) for row in resolution.systems}
    candidate_rows = []
    ids_by_mention: dict[int, str] = {}
    seen: set[str] = set()
    for mention in resolution.mentions:
        cid = candidate_id(paper_id, mention.page, mention.start, mention.end, mention.rule)
        if cid in seen:
            continue
        seen.add(cid)
        ids_by_mention[id(mention)] = cid
        candidate_rows.append((
            cid, paper_id, result.sha256, mention.value, mention.kind, mention.system or None,
            mention.page, mention.start, mention.end, mention.text, mention.evidence,
            mention.section, mention.scope, mention.score, mention.rule, id(mention) in chosen,
        ))
    if candidate_rows:
        _bulk_insert(con, "candidates", CANDIDATE_COLUMNS, candidate_rows)
    seen_systems: set[tuple[str, int]] = set()
    for row in resolution.systems:
        key = (row.system, row.parameters)
        if key in seen_systems:
            continue
        seen_systems.add(key)
        con.execute(
            "INSERT INTO systems VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [paper_id, row.system, row.parameters, row.parameters_active, row.is_headline,
             row.confidence, row.status, ids_by_mention[id(row.mention)], row.mention.page,
             row.mention.evidence, row.mention.rule],
        )
    for flag in resolution.flags:
        con.execute(
            "INSERT INTO flags (paper_id, stage, system, reason, detail) "
            "VALUES (?, 'extract', ?, ?, ?)",
            [paper_id, flag.system, flag.reason, flag.detail],
        )
    reconcile(con, paper_id)  # decisions survive re-extraction; flag the ones it contradicts


def load_paper(
    warehouse: Warehouse, result: PaperResult, *, source_file: str | None, source_path: str | None
) -> str:
    """Load one parsed and extracted PDF in a single transaction; returns its paper_id."""
    paper_id, arxiv_id, version = paper_identity(result, source_file)
    stamp = result.stamp
    arxiv = result.arxiv
    fields = result.fields or fields_for(arxiv_id, result)
    date, date_source, domain, domains, conflict = fields
    harvested = arxiv is not None
    with warehouse.transaction() as con:
        con.execute(
            "INSERT OR IGNORE INTO documents (sha256, paper_id, source_file, source_path, "
            "arxiv_id, "
            "arxiv_version, stamp_date, stamp_category, n_pages, n_chars, parse_seconds) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [result.sha256, paper_id, None if harvested else source_file, source_path, arxiv_id,
             version, stamp.date if stamp else None, stamp.category if stamp else None,
             len(result.pages), sum(len(p) for p in result.pages), result.parse_seconds],
        )
        exists = con.execute("SELECT count(*) FROM pages WHERE sha256 = ?",
                             [result.sha256]).fetchall()
        if not exists or exists[0][0] == 0:
            _bulk_insert(con, "pages", ("sha256", "page", "text"),
                         [(result.sha256, number, text)
                          for number, text in enumerate(result.pages, 1)])
        con.execute(
            "INSERT OR REPLACE INTO papers (paper_id, sha256, source_file, arxiv_id, "
            "arxiv_version, "
            "title, abstract, authors, categories, published, publication_date, date_source, "
            "domain, domains, extracted_at, ruleset) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, current_timestamp, ?)",
            [paper_id, result.sha256, None if harvested else source_file, arxiv_id, version,
             result.title or None, arxiv.abstract if arxiv else None,
             ", ".join(arxiv.authors) if arxiv else None,
             ",".join(arxiv.categories) if arxiv else (stamp.category if stamp else None),
             arxiv.published[:10] if arxiv and arxiv.published else None,
             date, date_source, domain, domains, result.ruleset],
        )
        _write_extraction(warehouse, paper_id, result)
        _flag_date_conflict(con, paper_id, conflict)
        if source_path:
            con.execute("DELETE FROM ingest_failures WHERE source_path = ?", [source_path])
    return paper_id


def _flag_date_conflict(
    con: duckdb.DuckDBPyConnection, paper_id: str, conflict: str | None
) -> None:
    if conflict:
        con.execute(
            "INSERT INTO flags (paper_id, stage, reason, detail) "
            "VALUES (?, 'extract', 'date_conflict', ?)",
            [paper_id, conflict],
        )


def load_extraction(warehouse: Warehouse, paper_id: str, result: PaperResult) -> None:
    """Replace one paper's extraction after `paramminer extract` (one transaction); dates and
    domains are recomputed too, so edits to rules/*.csv take effect."""
    with warehouse.transaction() as con:
        _write_extraction(warehouse, paper_id, result)
        con.execute(
            "UPDATE papers SET extracted_at = current_timestamp, ruleset = ? WHERE paper_id = ?",
            [result.ruleset, paper_id],
        )
        if result.fields is not None:
            date, date_source, domain, domains, conflict = result.fields
            con.execute(
                "UPDATE papers SET publication_date = ?, date_source = ?, domain = ?, "
                "domains = ? WHERE paper_id = ?",
                [date, date_source, domain, domains, paper_id],
            )
            _flag_date_conflict(con, paper_id, conflict)


def papers_for_extract(
    warehouse: Warehouse, paper_ids: Sequence[str] = ()
) -> list[tuple[str, str, str, ArxivMeta | None]]:
    """(paper_id, sha256, title, arxiv metadata) of the papers to re-extract."""
    query = ("SELECT paper_id, sha256, coalesce(title, ''), arxiv_id, arxiv_version, "
             "coalesce(abstract, ''), coalesce(categories, ''), published FROM papers")
    params: list[object] = []
    if paper_ids:
        query += " WHERE paper_id IN (SELECT unnest(?))"
        params.append(list(paper_ids))
    rows = warehouse.con.execute(query + " ORDER BY paper_id", params).fetchall()
    out = []
    for paper_id, sha, title, arxiv_id, version, abstract, categories, published in rows:
        arxiv = None
        if published is not None and arxiv_id:
            arxiv = ArxivMeta(arxiv_id, version, title, abstract, (),
                              tuple(c for c in categories.split(",") if c), str(published))
        out.append((paper_id, sha, title, arxiv))
    return out


def stored_pages(warehouse: Warehouse, sha256: str) -> list[str]:
    """Normalized page texts of a loaded document, in page order."""
    return stored_pages_of(warehouse, [sha256]).get(sha256, [])


def stored_pages_of(warehouse: Warehouse, shas: Sequence[str]) -> dict[str, list[str]]:
    """Normalized page texts of several loaded documents in one query (each query scans
    the pages table), in page order."""
    rows = warehouse.con.execute(
        "SELECT sha256, text FROM pages WHERE sha256 IN (SELECT unnest(?)) "
        "ORDER BY sha256, page", [list(shas)]
    ).fetchall()
    pages: dict[str, list[str]] = {sha: [] for sha in shas}
    for sha, text in rows:
        pages[sha].append(text)
    return pages


class PagePrefetch:
    """Stored pages read ahead for papers asked for in order, PAPERS_PER_READ at a time."""

    PAPERS_PER_READ = 16

    def __init__(self, warehouse: Warehouse, shas: Sequence[str]) -> None:
        self.warehouse = warehouse
        self.order = {sha: index for index, sha in enumerate(shas)}
        self.shas = list(shas)
        self.ready: dict[str, list[str]] = {}

    def pages(self, sha256: str) -> list[str]:
        """The pages of `sha256` (one query for it and the next papers, when not read yet)."""
        if sha256 not in self.ready:
            start = self.order.get(sha256, len(self.shas))
            batch = [sha256, *self.shas[start + 1 : start + self.PAPERS_PER_READ]]
            self.ready = stored_pages_of(self.warehouse, batch)
        return self.ready.pop(sha256)
