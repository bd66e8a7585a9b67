"""Score extraction against curated gold data, with the protocol of EVALUATION.md."""

from __future__ import annotations

import csv
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from paramminer.config import Settings
from paramminer.dates import month_of_arxiv_id
from paramminer.errors import ConfigError
from paramminer.ingest import IngestReport, discover, ingest
from paramminer.warehouse import Warehouse

TOLERANCE = 0.05
METRICS = (
    "auto_precision",
    "auto_recall",
    "headline_any",
    "headline_max",
    "candidate_recall",
    "error_capture",
    "flag_rate",
    "date_month",
    "domain",
)


def matches(value: float, gold: float) -> bool:
    """A value matches a gold value within 5% of the gold value."""
    return abs(value - gold) <= TOLERANCE * gold


@dataclass
class GoldPaper:
    """Curated values of one paper (a `key`: the PDF's file stem)."""

    key: str
    values: list[float] = field(default_factory=list)
    domains: set[str] = field(default_factory=set)
    date: str = ""
    arxiv_id: str = ""
    stated: bool = False


@dataclass
class PaperOutcome:
    """What we predicted for one labeled paper and whether it matched."""

    key: str
    predicted: int | None
    status: str | None
    gold: list[float]
    evidence: str
    page: int | None
    headline_ok: bool
    candidate_ok: bool
    date: str | None
    date_ok: bool
    domain: str | None
    domain_ok: bool
    stated: bool


@dataclass
class EvalResult:
    """Metrics over all labeled papers and over the stated-in-text subset, plus details."""

    metrics: dict[str, dict[str, float | int]]
    outcomes: list[PaperOutcome]
    unlabeled_auto: list[tuple[str, int, str]]
    report: IngestReport

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "metrics": self.metrics,
            "errors": [vars(o) for o in self.outcomes if not o.headline_ok],
            "unlabeled_auto": [
                {"key": k, "predicted": v, "evidence": e} for k, v, e in self.unlabeled_auto
            ],
            "ingest": {
                "papers": len(self.report.loaded) + len(self.report.unchanged),
                "failures": [vars(f) for f in self.report.failures],
                "pages": self.report.pages,
                "seconds": round(self.report.seconds, 2),
                "pages_per_second": round(self.report.pages / self.report.seconds, 2)
                if self.report.seconds
                else None,
            },
        }


def read_gold(gold_csv: Path, manifest_csv: Path | None) -> dict[str, GoldPaper]:
    """Gold values per key, with the stated-in-text flag from the manifest when given."""
    if not gold_csv.is_file():
        raise ConfigError(f"gold file not found: {gold_csv}")
    papers: dict[str, GoldPaper] = {}
    with gold_csv.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            try:
                value = float(row["parameters"])
            except (KeyError, ValueError):
                continue
            paper = papers.setdefault(row["key"], GoldPaper(row["key"]))
            paper.values.append(value)
            paper.domains.update(
                d.strip() for d in (row.get("domain") or "").split(",") if d.strip()
            )
            paper.date = paper.date or (row.get("publication_date") or "")
            paper.arxiv_id = paper.arxiv_id or (row.get("arxiv_id") or "")
    if manifest_csv and manifest_csv.is_file():
        with manifest_csv.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row.get("key") in papers:
                    papers[row["key"]].stated = row.get("stated_in_text") == "yes"
                    papers[row["key"]].arxiv_id = papers[row["key"]].arxiv_id or row.get(
                        "arxiv_id", ""
                    )
    return papers


def _date_ok(predicted: str | None, gold: GoldPaper) -> bool:
    if not predicted:
        return False
    expected = month_of_arxiv_id(gold.arxiv_id) if gold.arxiv_id else None
    if expected:
        return predicted[:7] == expected[:7]
    return bool(gold.date) and predicted[:4] == gold.date[:4]


def score(warehouse: Warehouse, gold: dict[str, GoldPaper], report: IngestReport) -> EvalResult:
    """Compute every metric from the warehouse's export views."""
    con = warehouse.con
    headlines: dict[str, tuple[int, str, str, int, str | None, str | None]] = {}
    for key, value, status, evidence, page, date, domain in con.execute(
        "SELECT regexp_replace(source_file, '\\.[Pp][Dd][Ff]$', ''), parameters, status, evidence, "
        "page, publication_date, domain FROM export_systems WHERE is_headline "
        "ORDER BY confidence DESC"
    ).fetchall():
        headlines.setdefault(key, (value, status, evidence, page, date, domain))
    candidates: dict[str, list[int]] = defaultdict(list)
    for key, value in con.execute(
        "SELECT regexp_replace(source_file, '\\.[Pp][Dd][Ff]$', ''), parameters "
        "FROM export_candidates"
    ).fetchall():
        candidates[key].append(value)
    outcomes = []
    for key, paper in sorted(gold.items()):
        head = headlines.get(key)
        predicted = head[0] if head else None
        ok = predicted is not None and any(matches(predicted, g) for g in paper.values)
        outcomes.append(
            PaperOutcome(
                key=key,
                predicted=predicted,
                status=head[1] if head else None,
                gold=paper.values,
                evidence=head[2] if head else "",
                page=head[3] if head else None,
                headline_ok=ok,
                candidate_ok=any(
                    matches(v, g) for v in candidates.get(key, []) for g in paper.values
                ),
                date=head[4] if head else None,
                date_ok=head is not None and _date_ok(head[4], paper),
                domain=head[5] if head else None,
                domain_ok=head is not None and (head[5] or "") in paper.domains,
                stated=paper.stated,
            )
        )
    metrics = {
        "all": _metrics(outcomes, gold),
        "stated_in_text": _metrics(
            [o for o in outcomes if o.stated], {k: g for k, g in gold.items() if g.stated}
        ),
    }
    unlabeled_auto = [
        (key, head[0], head[2])
        for key, head in sorted(headlines.items())
        if key not in gold and head[1] == "auto"
    ]
    return EvalResult(metrics, outcomes, unlabeled_auto, report)


def _metrics(outcomes: list[PaperOutcome], gold: dict[str, GoldPaper]) -> dict[str, float | int]:
    n = len(outcomes)
    with_head = [o for o in outcomes if o.predicted is not None]
    auto = [o for o in with_head if o.status == "auto"]
    wrong = [o for o in with_head if not o.headline_ok]
    flagged = [o for o in with_head if o.status == "flagged"]

    def ratio(a: int, b: int) -> float:
        return round(a / b, 3) if b else 0.0

    return {
        "papers": n,
        "auto_precision": ratio(sum(o.headline_ok for o in auto), len(auto)),
        "auto_recall": ratio(sum(o.headline_ok for o in auto), n),
        "headline_any": ratio(sum(o.headline_ok for o in outcomes), n),
        "headline_max": ratio(
            sum(
                o.predicted is not None and matches(o.predicted, max(gold[o.key].values))
                for o in outcomes
            ),
            n,
        ),
        "candidate_recall": ratio(sum(o.candidate_ok for o in outcomes), n),
        "error_capture": ratio(sum(o.status == "flagged" for o in wrong), len(wrong)),
        "flag_rate": ratio(len(flagged), len(with_head)),
        "date_month": ratio(sum(o.date_ok for o in with_head), len(with_head)),
        "domain": ratio(sum(o.domain_ok for o in outcomes), n),
        "auto_headlines": len(auto),
        "wrong_headlines": len(wrong),
    }


def evaluate(
    gold_csv: Path,
    pdfs: Path,
    settings: Settings,
    *,
    manifest_csv: Path | None = None,
    warehouse_path: Path | None = None,
) -> EvalResult:
    """Ingest `pdfs` into a fresh temporary warehouse (text cache reused) and score it."""
    if not pdfs.is_dir():
        raise ConfigError(f"PDF folder not found: {pdfs}")
    manifest = manifest_csv or gold_csv.with_name("manifest.csv")
    gold = read_gold(gold_csv, manifest if manifest.is_file() else None)
    with tempfile.TemporaryDirectory(prefix="paramminer-eval-") as tmp:
        path = warehouse_path or Path(tmp) / "eval.duckdb"
        eval_settings = replace(settings, warehouse=path)
        items, failures = discover([pdfs])
        with Warehouse.open(path) as warehouse:
            report = ingest(items, warehouse, eval_settings, force=True, prior_failures=failures)
            return score(warehouse, gold, report)
