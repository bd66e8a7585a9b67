"""Maintainer commands: ingest PDFs, re-run extraction, the demo, warehouse status."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from paramminer.bookkeeping import alias_count, recorded_run, unfinished_runs
from paramminer.cli.common import (
    handle_errors,
    is_terminal,
    open_warehouse,
    output_console,
    progress_bar,
    require_rules,
    settings_from,
    stdout_console,
    warehouse_option,
)
from paramminer.errors import UsageError
from paramminer.ingest import IngestReport, discover, ingest, prestart_workers, reextract
from paramminer.numbers import humanize
from paramminer.resources import sample_dir
from paramminer.warehouse import Warehouse

SHOW_SYSTEMS_LIMIT = 40


def print_report(report: IngestReport, as_json: bool) -> None:
    """Failures, then the summary line (or one JSON object when asked / not a terminal)."""
    if as_json:
        click.echo(json.dumps({
            "inputs": report.inputs,
            "loaded": len(report.loaded), "unchanged": len(report.unchanged),
            "failures": [{"path": f.path, "reason": f.reason} for f in report.failures],
            "pages": report.pages, "parsed_pages": report.parsed_pages,
            "seconds": round(report.seconds, 2),
        }))
        return
    if report.failures:
        click.echo(f"{len(report.failures)} input(s) failed:", err=True)
        for failure in report.failures:
            click.echo(f"  FAILED {failure.path}: {failure.reason}", err=True)
    click.echo(report.summary())


def print_systems(warehouse: Warehouse, paper_ids: list[str] | None = None,
                  console: Console | None = None) -> None:
    """Each paper's headline system: value, status, page, and the evidence with the number
    highlighted; flagged ones with their reasons."""
    console = console or stdout_console()
    query = (
        "SELECT s.paper_id, s.system, s.parameters, s.parameters_active, s.status, s.confidence, "
        "s.page, s.evidence, coalesce(c.mention, ''), "
        "(SELECT string_agg(DISTINCT f.reason, ', ') FROM flags f WHERE f.paper_id = s.paper_id) "
        "FROM systems_final s LEFT JOIN candidates c USING (candidate_id) WHERE s.is_headline"
    )
    params: list[object] = []
    if paper_ids is not None:
        query += " AND s.paper_id IN (SELECT unnest(?))"
        params.append(paper_ids)
    rows = warehouse.con.execute(query + " ORDER BY s.paper_id", params).fetchall()
    no_headline = warehouse.con.execute(
        "SELECT count(*) FROM papers "
        "WHERE paper_id NOT IN (SELECT paper_id FROM systems WHERE is_headline)"
        + (" AND paper_id IN (SELECT unnest(?))" if paper_ids is not None else ""),
        params,
    ).fetchone()
    console.print(f"[bold]Systems found[/bold] ({len(rows)} paper(s), headline per paper)")
    for row in rows:
        paper_id, system, value, active, status, confidence, page, evidence, mention, reasons = row
        size = humanize(value) + (f" ({humanize(active)} active)" if active else "")
        colour = {"auto": "green", "reviewed": "cyan"}.get(status, "yellow")
        console.print(
            f"[bold]{escape(paper_id)}[/bold]  {escape(system or '-')}  [bold]{size}[/bold]  "
            f"[{colour}]{status}[/{colour}] {confidence:.2f}  p{page}"
            + (f"  [dim]({escape(reasons)})[/dim]" if status == "flagged" and reasons else ""),
            highlight=False,
        )
        text = escape(evidence[:240])
        if mention:
            text = text.replace(escape(mention), f"[bold underline]{escape(mention)}[/]", 1)
        console.print(f"    \u201c{text}\u201d", highlight=False)
    if no_headline and no_headline[0]:
        console.print(f"{no_headline[0]} paper(s) state no size of a model of their own.")


@click.command("ingest")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@warehouse_option
@click.option("--workers", "-j", type=click.IntRange(min=0), default=None,
              help="Processes parsing PDFs [default: one per core]")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=None,
              help="Seconds one PDF may take to parse, extract and resolve [default 120]")
@click.option("--memory-mb", type=click.IntRange(min=0), default=None,
              help="Memory (address space) of one worker process, 0 for no limit "
                   "[default 2048]")
@click.option("--force", is_flag=True, help="Re-parse and re-extract PDFs already loaded.")
@click.option("--resume", is_flag=True,
              help="Also ingest the inputs of earlier runs that were interrupted.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary instead of text.")
@click.option("--show/--no-show", default=None,
              help=f"Print the systems found [default: when at most {SHOW_SYSTEMS_LIMIT} papers]")
@click.pass_context
@handle_errors
def ingest_command(ctx: click.Context, paths: tuple[Path, ...], warehouse: Path | None,
                   workers: int | None, timeout: float | None, memory_mb: int | None,
                   force: bool, resume: bool, as_json: bool, show: bool | None) -> None:
    """Parse, extract and load PDFs (files or folders) into the warehouse.

    Example: paramminer ingest ../shared/corpus/pdfs

    Exit codes: 0 all loaded; 3 some inputs failed (listed); 4 every input failed;
    130 interrupted (Ctrl-C, SIGTERM: run it again, or --resume, to finish).
    """
    if not paths and not resume:
        raise click.UsageError("give PDF files or folders to ingest, or --resume")
    settings = settings_from(ctx, warehouse=warehouse, workers=workers, pdf_timeout=timeout,
                             worker_memory_mb=memory_mb)
    require_rules()
    with open_warehouse(settings, create=True) as wh:
        inputs = resume_inputs(wh, paths) if resume else list(paths)
        scope = [str(path.resolve()) for path in inputs]  # what the run record remembers
        items, failures = discover(inputs)
        with recorded_run(wh, "ingest", scope) as run, \
                progress_bar(len(items), "ingest", is_terminal() and not as_json) as advance:
            report = ingest(items, wh, settings, force=force, progress=advance,
                            prior_failures=failures)
            run.record(report)
        touched = report.loaded
        if show or (show is None and not as_json and 0 < len(touched) <= SHOW_SYSTEMS_LIMIT):
            print_systems(wh, touched, output_console(as_json))
    print_report(report, as_json)
    sys.exit(report.exit_code)


def resume_inputs(warehouse: Warehouse, paths: tuple[Path, ...]) -> list[Path]:
    """`paths` plus the inputs of every unfinished ingest run, without repeats."""
    inputs = list(paths)
    known = {str(path.resolve()) for path in inputs}
    for run in unfinished_runs(warehouse, "ingest"):
        inputs += [Path(path) for path in run.scope if path not in known]
        known.update(run.scope)
    if not inputs:
        raise click.UsageError("no interrupted ingest run to resume, and no PATHS given")
    return inputs


@click.command("extract")
@warehouse_option
@click.option("--paper", "paper_ids", multiple=True, help="Only this paper id (repeatable).")
@click.option("--workers", "-j", type=click.IntRange(min=0), default=None,
              help="Processes running the rules [default: one per core]")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary instead of text.")
@click.pass_context
@handle_errors
def extract_command(ctx: click.Context, warehouse: Path | None, paper_ids: tuple[str, ...],
                    workers: int | None, as_json: bool) -> None:
    """Re-run the rules over the stored text of ingested papers (no PDF is parsed again).

    Example: paramminer extract --paper 2302.13971
    """
    settings = settings_from(ctx, warehouse=warehouse, workers=workers)
    require_rules()
    prestart_workers(settings, len(paper_ids) or settings.worker_count)  # start while we read
    with open_warehouse(settings, batch=True) as wh:
        (papers,) = wh.con.execute("SELECT count(*) FROM papers").fetchall()[0]
        unknown = sorted(set(paper_ids) - {row[0] for row in wh.con.execute(
            "SELECT paper_id FROM papers WHERE paper_id IN (SELECT unnest(?))",
            [list(paper_ids)]).fetchall()})
        if unknown:
            raise UsageError(f"no paper {', '.join(map(repr, unknown))} in {wh.path} "
                             "(see `paramminer export systems`)")
        count = len(paper_ids) or int(papers)
        with recorded_run(wh, "extract", paper_ids) as run, \
                progress_bar(count, "extract", is_terminal() and not as_json) as advance:
            report = reextract(wh, settings, paper_ids=paper_ids, progress=advance)
            run.record(report)
    print_report(report, as_json)
    sys.exit(report.exit_code)


@click.command("demo")
@warehouse_option
@click.pass_context
@handle_errors
def demo_command(ctx: click.Context, warehouse: Path | None) -> None:
    """Harvest the bundled sample from a local arXiv, ingest it, print the systems found.

    Starts the local arXiv server over fixtures/sample on a free port, harvests it the
    way `paramminer harvest` harvests arxiv.org (0.2 s between API requests), ingests
    the one sample PDF that is not on arXiv (tern-recommendation-at-scale.pdf) as a
    local file, and prints each paper's headline system with its evidence. A second
    run finds nothing new (one API request) and prints the same table.

    Example: paramminer demo
    """
    from paramminer import fakearxiv
    from paramminer.cli.harvest import combine_exit_codes, print_harvest
    from paramminer.harvest import demo_settings, run_harvest

    settings = settings_from(ctx, warehouse=warehouse)
    require_rules()
    sample = sample_dir()
    with fakearxiv.serve_in_thread(sample) as server:
        click.echo(f"local arXiv: {len(server.catalogue)} papers of {sample} at {server.base_url}")
        harvest = run_harvest(
            demo_settings(settings, server.base_url), echo=click.echo,
            progress=lambda total, label: progress_bar(total, label, is_terminal()),
        )
        paper_ids = sorted(server.catalogue.papers)
    print_harvest(harvest)
    items, failures = discover([sample / "tern-recommendation-at-scale.pdf"])
    with open_warehouse(settings, create=True) as wh:
        report = ingest(items, wh, settings, prior_failures=failures)
        for item in items:
            row = wh.con.execute("SELECT paper_id FROM documents WHERE sha256 = ?",
                                 [item.sha256]).fetchone()
            if row:
                paper_ids.append(str(row[0]))
        print_systems(wh, paper_ids)
    click.echo(f"local file: {report.summary()}")
    click.echo(f"warehouse: {settings.warehouse_path}  (try: paramminer export systems)")
    sys.exit(combine_exit_codes(harvest.exit_code, report.exit_code))


def warehouse_counts(warehouse: Warehouse) -> dict[str, Any]:
    """Row counts, and headline systems by status as the exports count them (export_systems:
    a reviewed value counts as reviewed, a rejected one not at all); `run` reports the same."""
    con = warehouse.con
    counts: dict[str, Any] = {
        name: int(con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0])
        for name in ("papers", "documents", "candidates", "systems", "flags", "ingest_failures")
    }
    by_status = dict(con.execute(
        "SELECT status, count(*) FROM export_systems WHERE is_headline GROUP BY status"
    ).fetchall())
    counts["headline"] = {status: int(by_status.get(status, 0))
                          for status in ("auto", "flagged", "reviewed")}
    counts["review_open"] = int(
        con.execute("SELECT count(*) FROM review_items WHERE is_open").fetchall()[0][0])
    return counts


@click.command("status")
@warehouse_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
@handle_errors
def status_command(ctx: click.Context, warehouse: Path | None, as_json: bool) -> None:
    """Counts of papers, systems and flags, and inputs that failed.

    Example: paramminer status
    """
    from paramminer.harvest import queue_problems  # the arXiv client: only `status` needs it

    settings = settings_from(ctx, warehouse=warehouse)
    with open_warehouse(settings, read_only=True) as wh:
        counts = warehouse_counts(wh)
        counts["aliases"] = alias_count(wh)
        failures = wh.con.execute(
            "SELECT source_path, reason FROM ingest_failures ORDER BY source_path").fetchall()
        runs = unfinished_runs(wh)
        queued = queue_problems(wh)
    problems = [_unfinished_line(run) for run in runs] + [
        ("GAVE UP " if q.status == "gave_up" else "RETRY ") + q.describe()
        + ("  (paramminer requeue)" if q.status == "gave_up" else "") for q in queued]
    if as_json:
        click.echo(json.dumps({
            "warehouse": str(settings.warehouse_path), **counts,
            "failures": [{"path": p, "reason": r} for p, r in failures],
            "unfinished_runs": [{"run_id": r.run_id, "command": r.command, "status": r.status}
                                for r in runs],
            "gave_up": [q.describe() for q in queued if q.status == "gave_up"],
            "retrying": [q.describe() for q in queued if q.status != "gave_up"],
        }, default=str))
        return
    click.echo(f"warehouse {settings.warehouse_path}")
    for name, value in counts.items():
        if isinstance(value, dict):
            for status, number in value.items():
                click.echo(f"  {name} {status:7} {number}")
        else:
            click.echo(f"  {name:16} {value}")
    for path, reason in failures:
        click.echo(f"  FAILED {path}: {reason}")
    for line in problems:
        click.echo(f"  {line}")


def _unfinished_line(run: Any) -> str:
    hint = "paramminer ingest --resume" if run.command == "ingest" else "paramminer extract"
    return (f"{run.status.upper()} {run.command} run {run.run_id} "
            f"(started {run.started_at:%Y-%m-%d %H:%M}): finish it with `{hint}`")


COMMANDS = [ingest_command, extract_command, demo_command, status_command]
