"""Analyst commands: export the warehouse, score extraction against gold data."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import click
from rich.table import Table

from paramminer.cli.common import (
    handle_errors,
    open_warehouse,
    require_rules,
    settings_from,
    stdout_console,
    warehouse_option,
)
from paramminer.errors import ConfigError
from paramminer.evaluate import METRICS, evaluate
from paramminer.numbers import humanize

EXPORT_VIEWS = {"systems": "export_systems", "candidates": "export_candidates"}


@click.command("export")
@click.argument("what", type=click.Choice(sorted(EXPORT_VIEWS)))
@warehouse_option
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "parquet"]), default="csv",
              show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write [default: stdout]")
@click.option("--headline-only", is_flag=True, help="systems: only each paper's headline row.")
@click.pass_context
@handle_errors
def export_command(ctx: click.Context, what: str, warehouse: Path | None, fmt: str,
                   output: Path | None, headline_only: bool) -> None:
    """Export systems or candidates with the columns of the output contract.

    Example: paramminer export systems --format csv -o systems.csv
    """
    settings = settings_from(ctx, warehouse=warehouse)
    if fmt == "parquet" and output is None and sys.stdout.isatty():
        raise ConfigError("Parquet is binary: give -o FILE or redirect stdout")
    with open_warehouse(settings, read_only=True) as wh:
        query = f"SELECT * FROM {EXPORT_VIEWS[what]}"
        if headline_only and what == "systems":
            query += " WHERE is_headline"
        frame = wh.con.execute(query).df()
    for column in ("parameters", "parameters_active", "page"):
        if column in frame:
            frame[column] = frame[column].astype("Int64")
    if fmt == "csv":
        text = frame.to_csv(index=False)
        _write_text(text, output)
    elif fmt == "json":
        records = json.loads(frame.to_json(orient="records", force_ascii=False))
        _write_text(json.dumps(records, ensure_ascii=False, indent=1) + "\n", output)
    else:
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        if output is None:
            sys.stdout.buffer.write(buffer.getvalue())
        else:
            _atomic_write(output, buffer.getvalue())


def _atomic_write(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_bytes(data)
    temp.replace(path)


def _write_text(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        _atomic_write(output, text.encode("utf-8"))


@click.command("eval")
@click.option("--gold", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="Gold CSV (EVALUATION.md format: key, parameters, domain, publication_date...)")
@click.option("--pdfs", type=click.Path(exists=True, file_okay=False, path_type=Path),
              required=True,
              help="Folder of PDFs named <key>.pdf")
@click.option("--manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Manifest with stated_in_text [default: manifest.csv beside gold]")
@click.option("--workers", "-j", type=click.IntRange(min=0), default=None)
@click.option("--json", "as_json", is_flag=True, help="Print everything as one JSON object.")
@click.option("--keep-warehouse", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the evaluation warehouse here instead of a temporary file.")
@click.option("--folds", type=click.IntRange(min=0), default=0, show_default=True,
              help="Also cross-validate the headline model over K paper-grouped folds.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the fold split.")
@click.pass_context
@handle_errors
def eval_command(ctx: click.Context, gold: Path, pdfs: Path, manifest: Path | None,
                 workers: int | None, as_json: bool, keep_warehouse: Path | None,
                 folds: int, seed: int) -> None:
    """Ingest PDFS into a fresh warehouse and score it against GOLD (EVALUATION.md).

    In-sample numbers use the shipped model, which was fitted on the dev corpus; with
    --folds K the headline model is refitted on K-1 folds of papers and scored on the
    held-out fold, and the pooled held-out metrics are printed beside the in-sample ones.

    Example: paramminer eval --gold ../shared/corpus/gold.csv --pdfs ../shared/corpus/pdfs --folds 5
    """
    if folds == 1:
        raise ConfigError("--folds must be 0 (no cross-validation) or at least 2")
    settings = settings_from(ctx, workers=workers)
    require_rules()
    result = evaluate(gold, pdfs, settings, manifest_csv=manifest, warehouse_path=keep_warehouse,
                      folds=folds, seed=seed)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=1, default=str))
        return
    console = stdout_console()
    columns = {f"{subset} in-sample": result.metrics[subset] for subset in result.metrics}
    if result.cross_validation:
        for subset, values in result.cross_validation.metrics.items():
            columns[f"{subset} {result.cross_validation.folds}-fold CV"] = values
    console.print(metrics_table("Extraction against gold", columns))
    errors = [o for o in (result.cross_validation or result).outcomes if not o.headline_ok]
    which = "held-out" if result.cross_validation else "in-sample"
    console.print(f"[bold]{len(errors)} labeled paper(s) without a matching {which} headline:"
                  "[/bold]")
    for outcome in errors:
        predicted = humanize(outcome.predicted) if outcome.predicted else "none"
        gold_text = ", ".join(humanize(int(g)) for g in outcome.gold)
        console.print(f"  {outcome.key}: predicted {predicted} ({outcome.status or '-'}, "
                      f"p{outcome.page or '-'}) gold {gold_text}"
                      + (f'\n      "{outcome.evidence[:160]}"' if outcome.evidence else ""),
                      highlight=False)
    if result.unlabeled_auto:
        console.print(f"{len(result.unlabeled_auto)} unlabeled paper(s) got an automatic headline:")
        for key, value, evidence in result.unlabeled_auto:
            console.print(f"  {key}: {humanize(value)} \"{evidence[:120]}\"", highlight=False)
    console.print(f"ingest: {result.report.summary()}")


def metrics_table(title: str, columns: dict[str, dict[str, float | int]]) -> Table:
    """Metrics side by side, one column per (subset, way of measuring)."""
    table = Table(title=title)
    table.add_column("metric")
    for name, values in columns.items():
        table.add_column(f"{name} (n={values['papers']})", justify="right")
    for metric in (*METRICS, "auto_headlines", "wrong_headlines"):
        table.add_row(metric, *(str(values[metric]) for values in columns.values()))
    return table


@click.command("fit")
@click.option("--gold", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="Gold CSV (EVALUATION.md format)")
@click.option("--pdfs", type=click.Path(exists=True, file_okay=False, path_type=Path),
              required=True, help="Folder of PDFs named <key>.pdf")
@click.option("--manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Manifest with stated_in_text [default: manifest.csv beside gold]")
@click.option("--folds", type=click.IntRange(min=2), default=5, show_default=True,
              help="Folds of the cross-validated report.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write headline-model-vN.json [default: the rules folder]")
@click.option("--workers", "-j", type=click.IntRange(min=0), default=None)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
@handle_errors
def fit_command(ctx: click.Context, gold: Path, pdfs: Path, manifest: Path | None, folds: int,
                seed: int, output_dir: Path | None, workers: int | None, as_json: bool) -> None:
    """Refit the headline model on the labeled papers and write the next model version.

    Prints the cross-validated report (fit on K-1 folds, scored on the held-out one) beside
    the in-sample numbers. The newest rules/headline-model-vN.json is the one in force.

    Example: paramminer fit --gold ../shared/corpus/gold.csv --pdfs ../shared/corpus/pdfs
    """
    from paramminer.config import rules_dir
    from paramminer.evaluate import fit_headline_model

    settings = settings_from(ctx, workers=workers)
    fitted = fit_headline_model(gold, pdfs, settings, output_dir or rules_dir(),
                                manifest_csv=manifest, folds=folds, seed=seed)
    if as_json:
        click.echo(json.dumps({"path": str(fitted.path), **fitted.model.report}, indent=1))
        return
    console = stdout_console()
    columns = {f"{s} {folds}-fold CV": v for s, v in fitted.cross_validation.metrics.items()}
    columns.update({f"{s} in-sample": v for s, v in fitted.in_sample.items()})
    console.print(metrics_table("Headline model: cross-validated and in-sample", columns))
    console.print(f"auto threshold {fitted.model.auto_threshold:.3f} (per fold: "
                  f"{', '.join(f'{t:.3f}' for t in fitted.cross_validation.thresholds)})")
    console.print(f"wrote {fitted.path}")


COMMANDS = [export_command, eval_command, fit_command]
