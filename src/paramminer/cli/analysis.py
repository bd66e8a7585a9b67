"""Analysis commands: the trend report, ad-hoc SQL, curated reference tables."""

from __future__ import annotations

import csv
import json
import math
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
import duckdb
from rich.table import Table

from paramminer.cli.common import (
    handle_errors,
    open_warehouse,
    settings_from,
    stdout_console,
    warehouse_option,
)
from paramminer.errors import UsageError


@click.command("report")
@warehouse_option
@click.option("--source", "-s", default=None,
              help="Only this source: 'extracted' or a reference name [default: every source]")
@click.option("--output", "-o", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Folder for the charts [default: DATA_DIR/report]")
# defaults equal analysis.DEFAULT_RESAMPLES / DEFAULT_SEED (not imported: that loads pandas)
@click.option("--resamples", type=click.IntRange(min=10), default=1000,
              show_default=True, help="Bootstrap resamples per fit.")
@click.option("--seed", type=int, default=2207_02852, show_default=True,
              help="Bootstrap random seed (same seed, same intervals).")
@click.option("--no-charts", is_flag=True, help="Only print the tables.")
@click.pass_context
@handle_errors
def report_command(ctx: click.Context, warehouse: Path | None, source: str | None,
                   out_dir: Path | None, resamples: int, seed: int, no_charts: bool) -> None:
    """Doubling times with bootstrap intervals, record setters, gap counts; PNG + HTML charts.

    Example: paramminer report --source epoch -o report/
    """
    settings = settings_from(ctx, warehouse=warehouse)
    target = None if no_charts else (out_dir or settings.data_dir / "report")
    with open_warehouse(settings) as wh:  # writes its bootstrap cache (trend_bootstrap)
        from paramminer.report import build_report, print_report  # matplotlib: load on use

        report = build_report(wh, target, source=source, resamples=resamples, seed=seed)
    print_report(report, stdout_console())


def _plain(value: Any) -> Any:
    """A JSON-friendly value (dates as ISO text, NaN as null)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes | bytearray):
        return value.hex()
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


@click.command("sql")
@click.argument("query")
@warehouse_option
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@click.pass_context
@handle_errors
def sql_command(ctx: click.Context, query: str, warehouse: Path | None, fmt: str) -> None:
    """Run one SQL query on a read-only connection to the warehouse and print the result.

    Example: paramminer sql "SELECT * FROM trend_fits WHERE domain = 'All'" --format csv
    """
    settings = settings_from(ctx, warehouse=warehouse)
    with open_warehouse(settings, read_only=True) as wh:
        try:
            result = wh.con.execute(query)
            names = [column[0] for column in (result.description or [])]
            rows = result.fetchall() if names else []
        except duckdb.Error as exc:
            message = " ".join(str(exc).split())
            raise UsageError(f"query failed: {message}") from None
    if fmt == "json":
        records = [{n: _plain(v) for n, v in zip(names, row, strict=True)} for row in rows]
        click.echo(json.dumps(records, ensure_ascii=False, indent=1))
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(names)
        writer.writerows([["" if v is None else _plain(v) for v in row] for row in rows])
    else:
        table = Table(show_lines=False)
        for name in names:
            table.add_column(name, overflow="fold")
        for row in rows:
            table.add_row(*("NULL" if v is None else str(_plain(v)) for v in row))
        stdout_console().print(table)
        click.echo(f"{len(rows)} row(s)", err=True)


@click.group("reference")
def reference_group() -> None:
    """Curated reference tables (Epoch AI's CSV format) to compare and fit against."""


@reference_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name", "-n", required=True, help="Name of the reference (its `source` in views).")
@click.option("--data-date", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Date of the data (the export's date), shown on every chart.")
@click.option("--credit", default=None,
              help="Whom charts credit [default for Epoch AI exports: Epoch AI].")
@click.option("--license", "license_", default=None,
              help="The data's licence [default for Epoch AI exports: CC-BY 4.0].")
@click.option("--url", default=None, help="Where the data comes from.")
@warehouse_option
@click.pass_context
@handle_errors
def reference_import_command(ctx: click.Context, file: Path, name: str,
                             data_date: datetime | None, credit: str | None,
                             license_: str | None, url: str | None,
                             warehouse: Path | None) -> None:
    """Load FILE into reference_systems under NAME (re-importing NAME replaces it).

    Example: paramminer reference import ../shared/reference/notable_ai_models.csv --name epoch
    --data-date 2026-03-30
    """
    settings = settings_from(ctx, warehouse=warehouse)
    with open_warehouse(settings, create=True) as wh:
        from paramminer.reference import Provenance, import_reference

        facts = Provenance(data_date.date() if data_date else None, credit, license_, url)
        result = import_reference(wh, file, name, facts)
    click.echo(f"reference {result.name}: {result.rows} systems loaded from {file}; skipped "
               f"{result.skipped_no_parameters} without parameters, "
               f"{result.skipped_no_date} without a date")


@reference_group.command("list")
@warehouse_option
@click.pass_context
@handle_errors
def reference_list_command(ctx: click.Context, warehouse: Path | None) -> None:
    """Show the imported references.

    Example: paramminer reference list
    """
    settings = settings_from(ctx, warehouse=warehouse)
    with open_warehouse(settings, read_only=True) as wh:
        from paramminer.reference import list_references

        rows = list_references(wh)
    if not rows:
        click.echo("no references imported (paramminer reference import FILE.csv --name NAME)")
        return
    table = Table(title="Reference tables")
    for column in ("name", "rows", "skipped", "imported", "file"):
        table.add_column(column, overflow="fold")
    for name, path, imported, count, skipped in rows:
        table.add_row(name, str(count), str(skipped), imported, path)
    stdout_console().print(table)


COMMANDS = [report_command, sql_command, reference_group]
