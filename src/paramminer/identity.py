"""Who a paper is and what is known about it, from a worker's result alone (no database):
its id, and its date and domains. Workers compute these, so the loading process only writes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from paramminer.dates import publication_date
from paramminer.domains import classify_domains

if TYPE_CHECKING:
    from paramminer.ingest import PaperResult

_ARXIV_STEM = re.compile(r"^(?P<id>\d{4}\.\d{4,5})(?:v(?P<v>\d+))?$")

PaperFields = tuple[str | None, str | None, str | None, str | None, str | None]


def paper_identity(
    result: PaperResult, source_file: str | None
) -> tuple[str, str | None, int | None]:
    """(paper_id, arxiv_id, version): API metadata, else margin stamp, else an id-like file name."""
    if result.arxiv is not None:
        return result.arxiv.arxiv_id, result.arxiv.arxiv_id, result.arxiv.version
    if result.stamp is not None:
        return result.stamp.arxiv_id, result.stamp.arxiv_id, result.stamp.version
    stem = Path(source_file or result.path).stem
    match = _ARXIV_STEM.match(stem)
    if match:
        return match["id"], match["id"], int(match["v"]) if match["v"] else None
    return stem, None, None


def paper_fields(result: PaperResult, source_file: str | None) -> PaperFields:
    """(publication_date, date_source, domain, domains, date conflict): pure, so workers
    compute it and the loading process only writes."""
    _, arxiv_id, _ = paper_identity(result, source_file)
    return fields_for(arxiv_id, result)


def fields_for(arxiv_id: str | None, result: PaperResult) -> PaperFields:
    """(publication_date, date_source, domain, domains, date conflict) for a paper."""
    dated = publication_date(result.arxiv, arxiv_id, result.stamp, result.pages)
    categories: list[str] = list(result.arxiv.categories) if result.arxiv else []
    if not categories and result.stamp:
        categories = [result.stamp.category]
    abstract = result.arxiv.abstract if result.arxiv else ""
    domain = classify_domains(categories, result.title, abstract, result.pages)
    return (dated.date, dated.source, domain.primary,
            ",".join(domain.domains) or None, dated.conflict)
