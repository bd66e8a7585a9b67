"""Publication dates: the first public appearance, with the source it came from.

Sources in order of trust (`DateResult.source`):

- ``arxiv_api``: the arXiv API's ``published`` (the v1 submission date);
- ``arxiv_id``: the identifier's YYMM (month of v1), new style or old style;
- ``pdf_stamp``: arXiv's margin stamp; the v1 date only when it says v1 (a v1 stamp
  that agrees with the identifier's month refines that month to the day); a later
  version's stamp is an upper bound on v1;
- ``venue``: a venue or journal statement on page 1 ("Published as a conference paper
  at ICLR 2022", "Journal of Machine Learning Research 15 (2014) ... Published 6/14"),
  dated by an explicit month when the statement has one, else by the venue's usual
  month from rules/venues.csv (year only, month 01, when the table has no month);
- ``copyright``: "(c) 2014 IEEE", "Copyright 2010 by the authors" on page 1 (year only);
- ``references``: last resort, a lower bound: the newest year (or arXiv id month) the
  paper cites.

Two sources that disagree by more than CONFLICT_MONTHS give a `conflict` note, except
the expected cases: a later version's stamp after v1, a venue after the arXiv preprint
(up to VENUE_LAG_MONTHS), and the references bound before the date.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from paramminer import resources
from paramminer.config import file_version, read_table
from paramminer.errors import ConfigError
from paramminer.keyscan import FoldedText
from paramminer.models import ArxivMeta
from paramminer.pdftext import ArxivStamp

NEW_STYLE_ID = re.compile(r"^(?:arxiv:)?(?P<yy>\d{2})(?P<mm>\d{2})\.\d{4,5}(?:v\d+)?$", re.I)
OLD_STYLE_ID = re.compile(
    r"^(?:arxiv:)?[a-z]+(?:-[a-z]+)?(?:\.[A-Za-z\-]+)?/(?P<yy>\d{2})(?P<mm>\d{2})\d{3}(?:v\d+)?$",
    re.I,
)
CONFLICT_MONTHS = 3  # sources further apart than this are flagged
VENUE_LAG_MONTHS = 24  # a venue this much later than the arXiv preprint is flagged too
DEFAULT_VENUES = "venues.csv"

_MONTH_NAMES = {
    name: number
    for number, names in enumerate(
        ("jan january", "feb february", "mar march", "apr april", "may", "jun june",
         "jul july", "aug august", "sep sept september", "oct october", "nov november",
         "dec december"), 1)
    for name in names.split()
}
_MONTH_RE = r"(?P<month>" + "|".join(sorted(_MONTH_NAMES, key=len, reverse=True)) + r")\.?"
_YEAR_RE = r"(?P<year>(?:19[5-9]|20[0-4])\d)"
# "26 August 2021", "AUGUST 2013", "August 23–27, 2020", "Oct. 2012"
_EXPLICIT_DATE = re.compile(
    rf"(?i)\b(?:(?P<day>\d{{1,2}})\s+)?{_MONTH_RE}\s+(?:\d{{1,2}}(?:\s*[–-]\s*\d{{1,2}})?,?\s+)?"
    rf"{_YEAR_RE}\b"
)
_PUBLISHED_MM_YY = re.compile(r"(?i)\bPublished:?\s+(?P<mm>\d{1,2})/(?P<yy>\d{2})\b")
_YEAR = re.compile(rf"(?<![\d/.]){_YEAR_RE}(?![\d/])|[’'](?P<yy>\d{{2}})\b")
_STATEMENT_CUE = re.compile(
    r"(?i)proceedings|conference|published|appearing|to appear|paper at|accepted|workshop"
    r"|symposium|open access|journal|transactions|copyright|©|\bvol\b|volume|\(eds?\.\)"
)
_CITATION_CUE = re.compile(r"(?i)\bet al\.?,?\s*(?:\(?\d{4}|\[\d)|\[\d+(?:[,–-]\s*\d+)*\]|\bIn:\s")
_COPYRIGHT = re.compile(
    r"(?i)(?:©|\(c\)|/C223|\bcopyright\b)\s*(?:\(c\)|©)?[^\d\n]{0,60}?" + _YEAR_RE + r"(?!\d)"
)
_REFERENCES_HEADING = re.compile(r"(?im)^\s*(?:\d+\.?\s*)?(?:references|bibliography)\s*$")
_CITED_ARXIV = re.compile(r"(?i)(?:arxiv[:\s]*|abs/)(?P<yy>\d{2})(?P<mm>\d{2})\.\d{4,5}")
_CITED_YEAR = re.compile(r"[(,]\s*" + _YEAR_RE + r"[a-z]?[).,;:]")


@dataclass(frozen=True)
class DateResult:
    """A date (YYYY-MM-DD), where it came from, and a conflict note if sources disagree.

    `precision` is day, month or year: a year-only date is written YYYY-01-01.
    """

    date: str | None
    source: str | None
    conflict: str | None = None
    precision: str | None = None


@dataclass(frozen=True)
class Venue:
    """A venue from rules/venues.csv: its name, how it is written, its usual month."""

    name: str
    pattern: re.Pattern[str]
    month: int | None


@dataclass(frozen=True)
class _Dated:
    date: str
    source: str
    precision: str  # day / month / year
    role: str = "exact"  # exact / upper (v1 is not later) / lower (v1 is not earlier)
    detail: str = ""

    @property
    def span(self) -> tuple[int, int]:
        """First and last month (as year*12+month) the date may stand for."""
        year, month = int(self.date[:4]), int(self.date[5:7])
        if self.precision == "year":
            return year * 12 + 1, year * 12 + 12
        return year * 12 + month, year * 12 + month

    def label(self) -> str:
        shown = {"year": self.date[:4], "month": self.date[:7]}.get(self.precision, self.date)
        return f"{self.source} {shown}" + (f" ({self.detail})" if self.detail else "")


def month_of_arxiv_id(arxiv_id: str) -> str | None:
    """'2204.02311' -> '2022-04-01'; 'hep-th/9901001' -> '1999-01-01'; else None."""
    text = arxiv_id.strip()
    new = NEW_STYLE_ID.match(text)
    match = new or OLD_STYLE_ID.match(text)
    if not match:
        return None
    year, month = int(match["yy"]), int(match["mm"])
    if not 1 <= month <= 12:
        return None
    century = 2000 if new or year < 91 else 1900
    return f"{century + year:04d}-{month:02d}-01"


def load_venues(path: Path | None = None) -> tuple[Venue, ...]:
    """Venue table (venue, pattern, month) from `path` or rules/venues.csv ('#' = comment)."""
    table = path or resources.rules_dir() / DEFAULT_VENUES
    return _load_venues(table, file_version(table))


@lru_cache(maxsize=8)
def _load_venues(path: Path, mtime: int) -> tuple[Venue, ...]:
    """Parsed table, cached per file version (an edited file is read again)."""
    venues = []
    for number, row in read_table(path, "venue table"):
        try:
            name, pattern = row["venue"].strip(), re.compile(row["pattern"])
            month = int(row["month"]) if (row.get("month") or "").strip() else None
        except (KeyError, AttributeError, ValueError, re.error) as exc:
            raise ConfigError(f"{path}: bad venue row {number}: {exc}") from None
        if month is not None and not 1 <= month <= 12:
            raise ConfigError(f"{path}: bad venue row {number}: month {month}")
        venues.append(Venue(name, pattern, month))
    return tuple(venues)


def _year_near(window: str) -> tuple[int, int] | None:
    """(year, position) of the year closest to the start of `window`."""
    for match in _YEAR.finditer(window):
        if match["year"]:
            return int(match["year"]), match.start()
        return 2000 + int(match["yy"]), match.start()
    return None


def venue_date(first_page: str, venues: Sequence[Venue] | None = None) -> _Dated | None:
    """Date of the first venue or journal statement on page 1, else None."""
    flat = " ".join(first_page.split())
    table = load_venues() if venues is None else venues
    found: list[tuple[int, _Dated]] = []
    folded = FoldedText(flat)
    for venue in table:
        if not folded.may_hold(venue.pattern):
            continue  # none of the strings every match holds is on the page
        for match in venue.pattern.finditer(flat):
            before = flat[max(0, match.start() - 120):match.start()]
            after = flat[match.end():match.end() + 120]
            # a citation in the introduction is not the paper's own venue
            if _CITATION_CUE.search(before[-40:] + after[:40]):
                continue
            cued = _STATEMENT_CUE.search(before + flat[match.start():match.end()] + after[:60])
            if not cued and not _EXPLICIT_DATE.search(after[:40]):  # "KDD '20, August 23-27, 2020"
                continue
            dated = _statement_date(venue, flat[max(0, match.start() - 30):match.start()], after)
            if dated:
                found.append((match.start(), dated))
                break
    return min(found, key=lambda pair: pair[0])[1] if found else None


def _statement_date(venue: Venue, before: str, after: str) -> _Dated | None:
    published = _PUBLISHED_MM_YY.search(after)
    if published and 1 <= int(published["mm"]) <= 12:
        year = 2000 + int(published["yy"]) if int(published["yy"]) < 50 else 1900 + int(
            published["yy"])
        return _Dated(f"{year:04d}-{int(published['mm']):02d}-01", "venue", "month",
                      detail=f"{venue.name}, published {published['mm']}/{published['yy']}")
    explicit = _EXPLICIT_DATE.search(after[:100])
    if explicit:
        month = _MONTH_NAMES[explicit["month"].lower()]
        day = int(explicit["day"]) if explicit["day"] and 1 <= int(explicit["day"]) <= 31 else 0
        return _Dated(f"{int(explicit['year']):04d}-{month:02d}-{day or 1:02d}", "venue",
                      "day" if day else "month", detail=venue.name)
    near = _year_near(after[:90])
    if near is None:
        tail = list(_YEAR.finditer(before))
        if tail and tail[-1]["year"]:
            near = int(tail[-1]["year"]), 0
    if near is None:
        return None
    year = near[0]
    if venue.month is None:
        return _Dated(f"{year:04d}-01-01", "venue", "year", detail=venue.name)
    return _Dated(f"{year:04d}-{venue.month:02d}-01", "venue", "month", detail=venue.name)


def copyright_date(first_page: str) -> _Dated | None:
    """Year of a copyright line on page 1 ("(c) 2014 IEEE", "Copyright 2010 by the authors")."""
    match = _COPYRIGHT.search(first_page)
    if not match:
        return None
    return _Dated(f"{int(match['year']):04d}-01-01", "copyright", "year")


def references_date(pages: Sequence[str]) -> _Dated | None:
    """Lower bound from the reference list: the newest cited year, or cited arXiv id's month."""
    text = "\n".join(pages)
    headings = list(_REFERENCES_HEADING.finditer(text))
    heading = headings[-1] if headings else None
    refs = text[heading.end():] if heading else text[len(text) // 2:]
    months = [(2000 + int(m["yy"])) * 12 + int(m["mm"]) for m in _CITED_ARXIV.finditer(refs)
              if 1 <= int(m["mm"]) <= 12]
    years = [int(m["year"]) for m in _CITED_YEAR.finditer(refs)]
    if not months and not years:
        return None
    year = max([*years, *((m - 1) // 12 for m in months)])
    in_year = [m for m in months if (m - 1) // 12 == year]
    month = (max(in_year) - 1) % 12 + 1 if in_year else 1
    return _Dated(f"{year:04d}-{month:02d}-01", "references", "month" if in_year else "year",
                  role="lower")


def _gap(later: _Dated, earlier: _Dated) -> int:
    """Months by which `later` is after `earlier` (negative when before, 0 when overlapping)."""
    lo_a, hi_a = later.span
    lo_b, hi_b = earlier.span
    if lo_a > hi_b:
        return lo_a - hi_b
    if hi_a < lo_b:
        return hi_a - lo_b
    return 0


def _disagrees(best: _Dated, other: _Dated) -> bool:
    gap = _gap(other, best)
    if other.role == "upper":  # a later version: only wrong when before v1
        return gap < -CONFLICT_MONTHS
    if other.role == "lower":
        return False
    if other.source in ("venue", "copyright") and best.source in (
            "arxiv_api", "arxiv_id", "pdf_stamp"):
        return gap < -CONFLICT_MONTHS or gap > VENUE_LAG_MONTHS
    return abs(gap) > CONFLICT_MONTHS


def publication_date(
    arxiv: ArxivMeta | None,
    arxiv_id: str | None,
    stamp: ArxivStamp | None,
    pages: Sequence[str] = (),
    venues: Sequence[Venue] | None = None,
) -> DateResult:
    """Best date in order of trust (arXiv API v1, the id's YYMM, stamp, venue, copyright,
    references) from the API metadata, the id, the margin stamp and the page texts."""
    sources: list[_Dated] = []
    if arxiv and arxiv.published:
        sources.append(_Dated(arxiv.published[:10], "arxiv_api", "day"))
    id_month = month_of_arxiv_id(arxiv_id) if arxiv_id else None
    if id_month is None and stamp is not None:
        id_month = month_of_arxiv_id(stamp.arxiv_id)
    if id_month:
        sources.append(_Dated(id_month, "arxiv_id", "month"))
    if stamp is not None:
        v1 = stamp.version == 1
        if v1 and id_month and stamp.date[:7] == id_month[:7] and not (arxiv and arxiv.published):
            sources.insert(0, _Dated(stamp.date, "pdf_stamp", "day", detail="v1"))
        else:
            version = f"v{stamp.version}" if stamp.version else "version unknown"
            sources.append(_Dated(stamp.date, "pdf_stamp", "day", "exact" if v1 else "upper",
                                  detail=version))
    if pages:
        for found in (venue_date(pages[0], venues), copyright_date(pages[0])):
            if found:
                sources.append(found)
    exact = [s for s in sources if s.role == "exact"]
    if not exact and pages:
        bound = references_date(pages)
        if bound:
            exact.append(bound)
    if not exact:
        # only a later version's stamp: the best we have, an upper bound
        exact = [s for s in sources if s.role == "upper"]
    if not exact:
        return DateResult(None, None)
    best = exact[0]
    conflict = None
    for other in sources:
        if other is not best and _disagrees(best, other):
            conflict = f"{best.label()} vs {other.label()}"
            break
    return DateResult(best.date, best.source, conflict, best.precision)
