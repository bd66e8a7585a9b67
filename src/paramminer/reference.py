"""Curated reference tables (Epoch AI's "Data on AI Models" CSV format) in the warehouse.

`import_reference` loads one CSV into `reference_systems` under a name (replacing an earlier
import of that name in one transaction) and records it in `reference_sources`.
"""

from __future__ import annotations

import csv
import re
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from paramminer.errors import ConfigError, InputError, WarehouseError
from paramminer.warehouse import Warehouse

REQUIRED_COLUMNS = ("Model", "Publication date", "Parameters")
OPTIONAL_COLUMNS = ("Domain", "Confidence", "Link", "Organization", "Parameters notes")
RESERVED_NAMES = {"extracted", "*"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
# New-style (2301.12345) and old-style (hep-th/9901001, cs.LG/0601001) identifiers.
_ARXIV_LINK = re.compile(
    r"arxiv\.org/(?:abs|pdf|html)/((?:\d{4}\.\d{4,5})|(?:[a-z\-]+(?:\.[A-Z]{2})?/\d{7}))",
    re.IGNORECASE,
)
_SPACES = re.compile(r"\s+")
# Epoch AI's exports carry columns no other table in this format has; their data is CC-BY 4.0
# and every chart that uses it must credit Epoch AI.
EPOCH_COLUMNS = ("Notability criteria", "Training compute (FLOP)")
EPOCH_PROVENANCE = ("Epoch AI, 'Data on AI Models'", "CC-BY 4.0",
                    "https://epoch.ai/data/ai-models")


@dataclass(frozen=True)
class Provenance:
    """Where a reference table comes from: the data's date, credit, licence and address."""

    data_date: date | None = None
    credit: str | None = None
    license: str | None = None
    url: str | None = None


def default_provenance(path: Path) -> Provenance:
    """Epoch AI's credit, licence and address for an Epoch export; nothing for other tables."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return Provenance()
    if all(column in header for column in EPOCH_COLUMNS):
        return Provenance(None, *EPOCH_PROVENANCE)
    return Provenance()


@dataclass(frozen=True)
class ImportResult:
    """What one import did."""

    name: str
    file: str
    rows: int
    skipped_no_parameters: int
    skipped_no_date: int

    @property
    def skipped(self) -> int:
        """Rows left out (no usable parameter count or date)."""
        return self.skipped_no_parameters + self.skipped_no_date


def arxiv_id_from_link(link: str | None) -> str | None:
    """The arXiv identifier (no version) of the first arxiv.org link in `link`, if any."""
    if not link:
        return None
    match = _ARXIV_LINK.search(link)
    return match[1] if match else None


def parse_date(text: str | None) -> date | None:
    """YYYY-MM-DD, YYYY-MM or YYYY (day and month default to 01); None when unusable."""
    text = (text or "").strip()
    forms = ((r"\d{4}-\d{2}-\d{2}", ""), (r"\d{4}-\d{2}", "-01"), (r"\d{4}", "-01-01"))
    for pattern, suffix in forms:
        if re.fullmatch(pattern, text):
            try:
                return date.fromisoformat(text + suffix)
            except ValueError:
                return None
    return None


def parse_parameters(text: str | None) -> float | None:
    """A positive finite count ("102000000000.0", "1.2e9"); None when unusable."""
    try:
        value = float((text or "").strip().replace(",", ""))
    except ValueError:
        return None
    return value if 0 < value < float("inf") else None


def _clean(text: str | None) -> str | None:
    text = _SPACES.sub(" ", text or "").strip()
    return text or None


def read_reference_csv(path: Path) -> tuple[pd.DataFrame, int, int]:
    """Rows of an Epoch-format CSV as reference_systems columns, plus the skipped counts."""
    if not path.is_file():
        raise InputError(str(path), "no such file")
    csv.field_size_limit(sys.maxsize)  # abstracts and notes can be long
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            missing = [c for c in REQUIRED_COLUMNS if c not in header]
            if missing:
                raise InputError(
                    str(path),
                    f"not an Epoch AI models table: missing column(s) {', '.join(missing)} "
                    f"(found: {', '.join(header[:8]) or 'nothing'})",
                )
            records = []
            no_parameters = no_date = 0
            for row in reader:
                parameters = parse_parameters(row.get("Parameters"))
                published = parse_date(row.get("Publication date"))
                if parameters is None:
                    no_parameters += 1
                    continue
                if published is None:
                    no_date += 1
                    continue
                domains = ",".join(
                    part.strip() for part in (row.get("Domain") or "").split(",") if part.strip()
                )
                link = _clean(row.get("Link"))
                records.append({
                    "system": _clean(row.get("Model")) or "",
                    "parameters": parameters,
                    "publication_date": published,
                    "domain": domains.split(",")[0] if domains else None,
                    "domains": domains or None,
                    "confidence": _clean(row.get("Confidence")),
                    "link": link,
                    "arxiv_id": arxiv_id_from_link(link),
                    "organization": _clean(row.get("Organization")),
                    "notes": _clean(row.get("Parameters notes")),
                })
    except UnicodeDecodeError:
        raise InputError(str(path), "not UTF-8 text (is it a CSV?)") from None
    except csv.Error as exc:
        raise InputError(str(path), f"malformed CSV: {exc}") from None
    columns = ["system", "parameters", "publication_date", "domain", "domains", "confidence",
               "link", "arxiv_id", "organization", "notes"]
    frame = pd.DataFrame.from_records(records, columns=columns)
    frame["publication_date"] = pd.to_datetime(frame["publication_date"])
    frame["parameters"] = frame["parameters"].astype("float64")
    return frame, no_parameters, no_date


def check_name(name: str) -> str:
    """A reference name: letters, digits, _ . -; not 'extracted' (the pipeline's own source)."""
    if not _NAME.match(name) or name.lower() in RESERVED_NAMES:
        raise ConfigError(
            f"bad reference name {name!r}: use letters, digits, _ . - (not 'extracted')"
        )
    return name


def import_reference(warehouse: Warehouse, path: Path, name: str,
                     provenance: Provenance | None = None) -> ImportResult:
    """Load `path` under `name`, replacing an earlier import of that name atomically.

    `provenance` fields left None take Epoch AI's credit when the file is an Epoch export.
    """
    check_name(name)
    frame, no_parameters, no_date = read_reference_csv(Path(path))
    given = provenance or Provenance()
    known = default_provenance(Path(path))
    facts = Provenance(given.data_date, given.credit or known.credit,
                       given.license or known.license, given.url or known.url)
    if frame.empty:
        raise InputError(str(path), "no row has both a parameter count and a publication date")
    with warehouse.transaction() as con:
        con.execute("DELETE FROM reference_systems WHERE source = ?", [name])
        con.register("incoming_reference", frame)
        try:
            con.execute(
                "INSERT INTO reference_systems (source, system, parameters, publication_date, "
                "domain, domains, confidence, link, arxiv_id, organization, notes) "
                "SELECT ?, system, parameters, CAST(publication_date AS DATE), domain, domains, "
                "confidence, link, arxiv_id, organization, notes FROM incoming_reference",
                [name],
            )
        finally:
            con.unregister("incoming_reference")
        con.execute("DELETE FROM reference_sources WHERE name = ?", [name])
        con.execute(
            "INSERT INTO reference_sources (name, file, imported_at, rows, skipped, data_date, "
            "credit, license, url) VALUES (?, ?, current_timestamp, ?, ?, ?, ?, ?, ?)",
            [name, str(Path(path).resolve()), len(frame), no_parameters + no_date,
             facts.data_date, facts.credit, facts.license, facts.url],
        )
    return ImportResult(name, str(path), len(frame), no_parameters, no_date)


def list_references(warehouse: Warehouse) -> list[tuple[str, str, str, int, int]]:
    """(name, file, imported_at, rows, skipped) of every imported reference, by name."""
    try:
        rows = warehouse.con.execute(
            "SELECT name, file, strftime(imported_at, '%Y-%m-%d %H:%M:%S'), rows, skipped "
            "FROM reference_sources ORDER BY name"
        ).fetchall()
    except duckdb.CatalogException:
        raise WarehouseError(
            f"{warehouse.path} has no reference tables yet (open it once for writing, e.g. "
            "`paramminer reference import`, to migrate it)"
        ) from None
    return [(str(a), str(b), str(c), int(d), int(e)) for a, b, c, d, e in rows]
