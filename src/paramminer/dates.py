"""Publication dates: the first public appearance, with the source it came from."""

from __future__ import annotations

import re
from dataclasses import dataclass

from paramminer.models import ArxivMeta
from paramminer.pdftext import ArxivStamp

NEW_STYLE_ID = re.compile(r"^(?P<yy>\d{2})(?P<mm>\d{2})\.\d{4,5}$")
OLD_STYLE_ID = re.compile(r"^[a-z\-]+(?:\.[A-Z]{2})?/(?P<yy>\d{2})(?P<mm>\d{2})\d{3}$")
CONFLICT_MONTHS = 3


@dataclass(frozen=True)
class DateResult:
    """A date (YYYY-MM-DD), where it came from, and a conflict note if sources disagree."""

    date: str | None
    source: str | None
    conflict: str | None = None


def month_of_arxiv_id(arxiv_id: str) -> str | None:
    """'2204.02311' -> '2022-04-01'; 'hep-th/9901001' -> '1999-01-01'; else None."""
    match = NEW_STYLE_ID.match(arxiv_id) or OLD_STYLE_ID.match(arxiv_id)
    if not match:
        return None
    year, month = int(match["yy"]), int(match["mm"])
    if not 1 <= month <= 12:
        return None
    century = 1900 if year >= 91 else 2000
    return f"{century + year:04d}-{month:02d}-01"


def _months(date: str) -> int:
    return int(date[:4]) * 12 + int(date[5:7])


def publication_date(
    arxiv: ArxivMeta | None, arxiv_id: str | None, stamp: ArxivStamp | None
) -> DateResult:
    """Best date in order of trust: arXiv API v1, the id's YYMM, the PDF's margin stamp."""
    sources: list[tuple[str, str]] = []
    if arxiv and arxiv.published:
        sources.append((arxiv.published[:10], "arxiv_api"))
    if arxiv_id:
        month = month_of_arxiv_id(arxiv_id)
        if month:
            sources.append((month, "arxiv_id"))
    if stamp:
        sources.append((stamp.date, "pdf_stamp"))
    if not sources:
        return DateResult(None, None)
    best_date, best_source = sources[0]
    conflict = None
    for other_date, other_source in sources[1:]:
        if other_source == "pdf_stamp" and stamp and stamp.version not in (None, 1):
            continue  # a later version's stamp is expected to be later
        if abs(_months(other_date) - _months(best_date)) > CONFLICT_MONTHS:
            conflict = f"{best_source} {best_date} vs {other_source} {other_date}"
            break
    return DateResult(best_date, best_source, conflict)
