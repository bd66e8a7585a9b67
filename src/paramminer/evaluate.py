"""Score extraction against curated gold data, with the protocol of EVALUATION.md."""

from __future__ import annotations

import csv
import datetime as dt
import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from paramminer.config import Settings
from paramminer.dates import month_of_arxiv_id
from paramminer.errors import ConfigError
from paramminer.features import Candidate
from paramminer.headline_model import (
    MODEL_PREFIX,
    HeadlineModel,
    PaperExample,
    fit_model,
    model_path,
    paper_folds,
)
from paramminer.ingest import IngestReport, PaperResult, discover, ingest
from paramminer.models import Mention
from paramminer.resolve import MODEL_ENV, auto_allowed, resolve
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


@dataclass(frozen=True)
class CorpusPaper:
    """What evaluation keeps of one ingested paper: enough to resolve it again."""

    key: str
    pages: list[str]
    title: str
    mentions: list[Mention]
    candidates: tuple[Candidate, ...]
    allows_auto: bool  # presents a model of its own, all of whose size tiers are stated


@dataclass
class CrossValidation:
    """Pooled held-out metrics of a K-fold, paper-grouped cross-validation."""

    folds: int
    seed: int
    metrics: dict[str, dict[str, float | int]]
    outcomes: list[PaperOutcome]
    thresholds: list[float]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"folds": self.folds, "seed": self.seed, "metrics": self.metrics,
                "auto_thresholds": self.thresholds,
                "errors": [vars(o) for o in self.outcomes if not o.headline_ok]}


@dataclass
class EvalResult:
    """Metrics over all labeled papers and over the stated-in-text subset, plus details."""

    metrics: dict[str, dict[str, float | int]]
    outcomes: list[PaperOutcome]
    unlabeled_auto: list[tuple[str, int, str]]
    report: IngestReport
    cross_validation: CrossValidation | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "metrics": self.metrics,
            "cross_validated": self.cross_validation.to_dict() if self.cross_validation else None,
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
    folds: int = 0,
    seed: int = 0,
) -> EvalResult:
    """Ingest `pdfs` into a fresh temporary warehouse (text cache reused) and score it; with
    `folds`, also cross-validate the headline model (fit on K-1 folds of papers, score the
    held-out fold, pool)."""
    gold = read_gold(gold_csv, _manifest(gold_csv, manifest_csv))
    with tempfile.TemporaryDirectory(prefix="paramminer-eval-") as tmp:
        path = warehouse_path or Path(tmp) / "eval.duckdb"
        papers, report, warehouse = ingest_corpus(pdfs, settings, path)
        with warehouse:
            result = score(warehouse, gold, report)
    if folds:
        result.cross_validation = cross_validate(papers, gold, folds, seed)
    return result


def _manifest(gold_csv: Path, manifest_csv: Path | None) -> Path | None:
    manifest = manifest_csv or gold_csv.with_name("manifest.csv")
    return manifest if manifest.is_file() else None


def ingest_corpus(
    pdfs: Path, settings: Settings, warehouse_path: Path
) -> tuple[dict[str, CorpusPaper], IngestReport, Warehouse]:
    """Ingest every PDF of `pdfs` into a fresh warehouse; keep each paper's extraction."""
    if not pdfs.is_dir():
        raise ConfigError(f"PDF folder not found: {pdfs}")
    papers: dict[str, CorpusPaper] = {}

    def keep(result: PaperResult) -> None:
        resolution = result.resolution
        key = Path(result.path).stem
        papers[key] = CorpusPaper(key, result.pages, result.title, resolution.mentions,
                                  tuple(resolution.candidates),
                                  resolution.presents_model and not resolution.unsized_variants)

    items, failures = discover([pdfs])
    warehouse = Warehouse.open(warehouse_path)
    try:
        report = ingest(items, warehouse, replace(settings, warehouse=warehouse_path), force=True,
                        prior_failures=failures, on_loaded=keep)
    except BaseException:
        warehouse.close()
        raise
    return papers, report, warehouse


def training_examples(
    papers: dict[str, CorpusPaper], gold: dict[str, GoldPaper]
) -> list[PaperExample]:
    """Labeled papers as fitting examples: a candidate is right when it matches a gold value."""
    return [
        PaperExample(key, paper.candidates,
                     tuple(any(matches(c.value, g) for g in gold[key].values)
                           for c in paper.candidates),
                     paper.allows_auto, gold[key].stated)
        for key, paper in sorted(papers.items()) if key in gold
    ]


def cross_validate(
    papers: dict[str, CorpusPaper], gold: dict[str, GoldPaper], folds: int, seed: int = 0
) -> CrossValidation:
    """Fit on K-1 folds of labeled papers, resolve the held-out fold with that model, pool."""
    if folds < 2:
        raise ConfigError("--folds must be at least 2")
    examples = training_examples(papers, gold)
    outcomes: list[PaperOutcome] = []
    thresholds = []
    for fold in paper_folds([e.key for e in examples], folds, seed):
        model = fit_model([e for e in examples if e.key not in fold], auto_allowed, seed=seed)
        thresholds.append(model.auto_threshold)
        outcomes.extend(_outcome(papers[key], gold[key], model) for key in fold)
    outcomes.extend(_missing_outcome(gold[key]) for key in sorted(gold) if key not in papers)
    outcomes.sort(key=lambda o: o.key)
    metrics = {
        "all": _metrics(outcomes, gold),
        "stated_in_text": _metrics([o for o in outcomes if o.stated],
                                   {k: g for k, g in gold.items() if g.stated}),
    }
    return CrossValidation(folds, seed, metrics, outcomes, thresholds)


def _outcome(paper: CorpusPaper, gold: GoldPaper, model: HeadlineModel) -> PaperOutcome:
    """The headline a model gives one paper, scored against its gold values."""
    resolution = resolve(paper.mentions, paper.pages, paper.title, model=model)
    head = next((s for s in resolution.systems if s.is_headline), None)
    predicted = head.parameters if head else None
    ok = predicted is not None and any(matches(predicted, g) for g in gold.values)
    candidate_ok = any(matches(m.value, g) for m in paper.mentions for g in gold.values)
    return PaperOutcome(
        key=paper.key, predicted=predicted, status=head.status if head else None,
        gold=gold.values, evidence=head.mention.evidence if head else "",
        page=head.mention.page if head else None, headline_ok=ok, candidate_ok=candidate_ok,
        date=None, date_ok=False, domain=None, domain_ok=False, stated=gold.stated,
    )


def _missing_outcome(gold: GoldPaper) -> PaperOutcome:
    return PaperOutcome(gold.key, None, None, gold.values, "", None, False, False, None, False,
                        None, False, gold.stated)


@dataclass
class FitResult:
    """A freshly fitted headline model, its file, and how it scores in and out of sample."""

    model: HeadlineModel
    path: Path
    in_sample: dict[str, dict[str, float | int]]
    cross_validation: CrossValidation


def fit_headline_model(
    gold_csv: Path, pdfs: Path, settings: Settings, output_dir: Path, *,
    manifest_csv: Path | None = None, folds: int = 5, seed: int = 0,
) -> FitResult:
    """Fit the headline model on the labeled papers of `pdfs` and write it as the next
    rules/headline-model-vN.json, with its cross-validated and in-sample report inside."""
    gold = read_gold(gold_csv, _manifest(gold_csv, manifest_csv))
    previous = os.environ.get(MODEL_ENV)
    os.environ[MODEL_ENV] = "none"  # candidates do not depend on a model: extract without one
    try:
        with tempfile.TemporaryDirectory(prefix="paramminer-fit-") as tmp:
            papers, _, warehouse = ingest_corpus(pdfs, settings, Path(tmp) / "fit.duckdb")
            warehouse.close()
    finally:
        if previous is None:
            os.environ.pop(MODEL_ENV, None)
        else:
            os.environ[MODEL_ENV] = previous
    validation = cross_validate(papers, gold, folds, seed)
    current = model_path(output_dir)
    version = int(current.stem.removeprefix(MODEL_PREFIX)) + 1 if current else 1
    model = fit_model(training_examples(papers, gold), auto_allowed, version=version, seed=seed)
    outcomes = [_outcome(papers[k], gold[k], model) for k in sorted(gold) if k in papers]
    outcomes += [_missing_outcome(gold[k]) for k in sorted(gold) if k not in papers]
    in_sample = {
        "all": _metrics(outcomes, gold),
        "stated_in_text": _metrics([o for o in outcomes if o.stated],
                                   {k: g for k, g in gold.items() if g.stated}),
    }
    report = {
        "fitted": dt.date.today().isoformat(), "corpus": str(pdfs), "papers": len(papers),
        "labeled": len(gold), "folds": folds, "seed": seed,
        "cross_validated": validation.metrics, "in_sample": in_sample,
        "fold_thresholds": validation.thresholds,
    }
    model = replace(model, report=report)
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / f"{MODEL_PREFIX}{version}.json"
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(model.to_json(), encoding="utf-8")
    temp.replace(path)
    return FitResult(model, path, in_sample, validation)
