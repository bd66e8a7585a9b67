"""Write extraction results into the warehouse: one transaction per paper, idempotent."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

import duckdb

from paramminer.identity import fields_for, paper_identity
from paramminer.models import ArxivMeta
from paramminer.review import reconcile_papers
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
    """Insert many rows in one statement: each column bound as one list and unnested
    (executemany binds row by row, ~100x slower; an Arrow table costs importing pyarrow
    and pandas, ~0.4 s, on a batch writer's first load)."""
    con.execute(f"INSERT INTO {table} ({', '.join(_quoted(columns))}) {_unnested(columns)}",
                _column_lists(rows, len(columns)))


def _unnested(columns: Sequence[str]) -> str:
    """A SELECT of one list parameter per column, unnested side by side into rows."""
    return "SELECT " + ", ".join(f"unnest(?) AS {name}" for name in _quoted(columns))


def _column_lists(rows: Sequence[Sequence[object]], width: int) -> list[list[object]]:
    """`rows` turned into `width` column lists."""
    return [[row[i] for row in rows] for i in range(width)]


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


SYSTEM_COLUMNS = (
    "paper_id", "system", "parameters", "parameters_active", "is_headline", "confidence",
    "status", "candidate_id", "page", "evidence", "rule",
)
FLAG_COLUMNS = ("paper_id", "stage", "system", "reason", "detail")


def _write_extraction(warehouse: Warehouse, paper_id: str, result: PaperResult) -> None:
    """Replace the paper's candidates, systems and extraction flags (inside a transaction)."""
    _write_extractions(warehouse.con, [(paper_id, result)])


def _write_extractions(
    con: duckdb.DuckDBPyConnection, papers: Sequence[tuple[str, PaperResult]]
) -> None:
    """Replace several papers' candidates, systems and extraction flags (inside a
    transaction), a few statements per table whatever the number of papers: candidates and
    systems by their differences (`_replace_rows`), flags deleted and inserted anew."""
    ids = [paper_id for paper_id, _ in papers]
    con.execute("DELETE FROM flags WHERE paper_id IN (SELECT unnest(?)) AND stage = 'extract'",
                [ids])
    candidate_rows: list[tuple[object, ...]] = []
    system_rows: list[tuple[object, ...]] = []
    flag_rows: list[tuple[object, ...]] = []
    for paper_id, result in papers:
        ids_by_mention = _candidate_rows(paper_id, result, candidate_rows)
        system_rows += _system_rows(paper_id, result, ids_by_mention)
        flag_rows += [(paper_id, "extract", flag.system, flag.reason, flag.detail)
                      for flag in result.resolution.flags]
    _replace_rows(con, "candidates", CANDIDATE_COLUMNS, candidate_rows, ids)
    _replace_rows(con, "systems", SYSTEM_COLUMNS, system_rows, ids)
    if flag_rows:
        _bulk_insert(con, "flags", FLAG_COLUMNS, flag_rows)
    reconcile_papers(con, ids)  # decisions survive re-extraction; flag the ones it contradicts


def _replace_rows(
    con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str],
    rows: Sequence[Sequence[object]], paper_ids: Sequence[str],
) -> None:
    """Make `rows` the rows of `table` for `paper_ids`, deleting and inserting only the rows
    that differ: DuckDB keeps a deleted row in its row group until the group is rewritten,
    so rewriting every row on each `extract` grew the table (and the cost of every
    checkpoint) by its size each time, for rows that mostly come out the same."""
    existing = con.execute(
        f"SELECT rowid, {', '.join(_quoted(columns))} FROM {table} "
        "WHERE paper_id IN (SELECT unnest(?))", [list(paper_ids)]).fetchall()
    wanted = Counter(tuple(row) for row in rows)
    stale = []
    for rowid, *values in existing:
        key = tuple(values)
        if wanted[key] > 0:
            wanted[key] -= 1  # already there: kept as it is
        else:
            stale.append(rowid)
    if stale:
        con.execute(f"DELETE FROM {table} WHERE rowid IN (SELECT unnest(?))", [stale])
    fresh = []
    for row in rows:
        key = tuple(row)
        if wanted[key] > 0:
            wanted[key] -= 1
            fresh.append(row)
    if fresh:
        _bulk_insert(con, table, columns, fresh)


def _quoted(columns: Sequence[str]) -> list[str]:
    """Column names quoted for SQL (some, such as "system" and "rule", are keywords)."""
    return [f'"{name}"' for name in columns]


def _candidate_rows(
    paper_id: str, result: PaperResult, rows: list[tuple[object, ...]]
) -> dict[int, str]:
    """Append the paper's candidate rows (one per distinct id) to `rows`; the candidate id
    of each mention, by the mention's id()."""
    from paramminer.ingest import candidate_id

    resolution = result.resolution
    chosen = {id(row.mention) for row in resolution.systems}
    ids_by_mention: dict[int, str] = {}
    seen: set[str] = set()
    for mention in resolution.mentions:
        cid = candidate_id(paper_id, mention.page, mention.start, mention.end, mention.rule)
        if cid in seen:
            continue
        seen.add(cid)
        ids_by_mention[id(mention)] = cid
        rows.append((
            cid, paper_id, result.sha256, mention.value, mention.kind, mention.system or None,
            mention.page, mention.start, mention.end, mention.text, mention.evidence,
            mention.section, mention.scope, mention.score, mention.rule, id(mention) in chosen,
        ))
    return ids_by_mention


def _system_rows(
    paper_id: str, result: PaperResult, ids_by_mention: dict[int, str]
) -> list[tuple[object, ...]]:
    """The paper's system rows, the first of each (system, parameters)."""
    rows: list[tuple[object, ...]] = []
    seen: set[tuple[str, int]] = set()
    for row in result.resolution.systems:
        key = (row.system, row.parameters)
        if key in seen:
            continue
        seen.add(key)
        rows.append((paper_id, row.system, row.parameters, row.parameters_active,
                     row.is_headline, row.confidence, row.status,
                     ids_by_mention[id(row.mention)], row.mention.page, row.mention.evidence,
                     row.mention.rule))
    return rows


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
    load_extractions(warehouse, [(paper_id, result)])


def load_extractions(
    warehouse: Warehouse, papers: Sequence[tuple[str, PaperResult]]
) -> None:
    """`load_extraction` for several papers in one transaction: a batch writer's papers
    cost one statement per table, not one per row."""
    if not papers:
        return
    with warehouse.transaction() as con:
        _write_extractions(con, papers)
        rows = [(paper_id, result.ruleset, *(result.fields or (None,) * 5))
                for paper_id, result in papers]
        _bulk_update_papers(con, [row for row, (_, result) in zip(rows, papers, strict=True)
                                  if result.fields is not None], with_fields=True)
        _bulk_update_papers(con, [row for row, (_, result) in zip(rows, papers, strict=True)
                                  if result.fields is None], with_fields=False)
        for paper_id, result in papers:
            if result.fields is not None:
                _flag_date_conflict(con, paper_id, result.fields[4])


_PAPER_UPDATE_COLUMNS = ("paper_id", "ruleset", "publication_date", "date_source", "domain",
                         "domains", "conflict")


def _bulk_update_papers(
    con: duckdb.DuckDBPyConnection, rows: Sequence[Sequence[object]], *, with_fields: bool
) -> None:
    """Set extracted_at and ruleset (and with_fields: dates and domains) of the papers in
    `rows` (paper_id, ruleset, date, date source, domain, domains, conflict) at once."""
    if not rows:
        return
    fields = (", publication_date = CAST(u.publication_date AS DATE), "
              "date_source = u.date_source, domain = u.domain, domains = u.domains"
              if with_fields else "")
    con.execute(f"UPDATE papers SET extracted_at = current_timestamp, ruleset = u.ruleset"
                f"{fields} FROM ({_unnested(_PAPER_UPDATE_COLUMNS)}) u "
                "WHERE papers.paper_id = u.paper_id",
                _column_lists(rows, len(_PAPER_UPDATE_COLUMNS)))


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


def document_sizes(warehouse: Warehouse) -> dict[str, int]:
    """Characters of text of every loaded document, by sha256."""
    rows = warehouse.con.execute("SELECT sha256, n_chars FROM documents").fetchall()
    return {sha: int(chars or 0) for sha, chars in rows}


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
    """Stored pages read ahead for papers asked for in order: each read takes the next
    papers, up to PAPERS_PER_READ papers or READ_CHARS characters (every read scans the
    pages table and may reopen the file, so fewer reads cost less). `read_ahead` reads the
    next ones before they are asked for, while the workers are busy."""

    PAPERS_PER_READ = 64
    READ_CHARS = 8_000_000

    def __init__(self, warehouse: Warehouse, shas: Sequence[str],
                 sizes: dict[str, int] | None = None) -> None:
        self.warehouse = warehouse
        self.order = {sha: index for index, sha in enumerate(shas)}
        self.shas = list(shas)
        self.sizes = sizes or {}
        self.ready: dict[str, list[str]] = {}
        self.read_up_to = 0  # every paper before this index has been read
        self.asked: set[str] = set()

    @property
    def all_asked(self) -> bool:
        """Whether the pages of every paper have been asked for."""
        return len(self.asked) == len(self.order)

    def pages(self, sha256: str) -> list[str]:
        """The pages of `sha256` (one query for it and the next papers, when not read yet)."""
        self.asked.add(sha256)
        if sha256 not in self.ready:
            self._read(sha256)
        return self.ready.pop(sha256)

    def read_ahead(self, low: int = 2) -> None:
        """Read the next papers once fewer than `low` read ones wait to be asked for."""
        if len(self.ready) < low and self.read_up_to < len(self.shas):
            self._read(self.shas[self.read_up_to])

    def _read(self, sha256: str) -> None:
        batch = self.next_read(sha256)
        self.ready.update(stored_pages_of(self.warehouse, batch))
        index = self.order.get(sha256, -1)
        if index >= self.read_up_to:
            self.read_up_to = index + len(batch)

    def next_read(self, sha256: str) -> list[str]:
        """`sha256` and the papers after it that one read takes (only it when it was read
        before: a job asked for again)."""
        index = self.order.get(sha256, len(self.shas))
        batch, chars = [sha256], self.sizes.get(sha256, 0)
        if index < self.read_up_to:
            return batch
        for sha in self.shas[index + 1:]:
            chars += self.sizes.get(sha, 0)
            if len(batch) >= self.PAPERS_PER_READ or chars > self.READ_CHARS:
                break
            batch.append(sha)
        return batch
