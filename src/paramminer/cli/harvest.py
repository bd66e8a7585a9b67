"""Maintainer commands for arXiv: serve the local arXiv, harvest, and `run` (the cron job)."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import click

from paramminer import fakearxiv
from paramminer.cli.common import (
    handle_errors,
    is_terminal,
    open_warehouse,
    progress_bar,
    require_rules,
    settings_from,
    warehouse_option,
)
from paramminer.config import QuerySpec, Settings
from paramminer.errors import ConfigError
from paramminer.harvest import HarvestReport, run_harvest
from paramminer.ingest import IngestReport, discover, ingest

F = TypeVar("F", bound=Callable[..., Any])

EXIT_CODES_HELP = (
    "Exit codes: 0 ok (also: nothing new); 2 bad settings; 3 partial: some queries or papers "
    "failed (recorded, retried next run); 4 nothing could be done (every query failed and no "
    "paper was harvested); 75 busy: another harvest holds the lock (or the warehouse stayed "
    "locked); 130 interrupted."
)


def harvest_options(function: F) -> F:
    """Flags shared by `harvest` and `run`; each overrides paramminer.toml and PARAMMINER_*."""
    options = [
        warehouse_option,
        click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
                     default=None, help="Data folder: PDF store, lock file [default data]"),
        click.option("--arxiv-url", default=None,
                     help="arXiv API base URL [env PARAMMINER_ARXIV_URL; "
                          "default https://export.arxiv.org]"),
        click.option("--pdf-url", default=None,
                     help="Base URL of /pdf/<id>vN [default: the --arxiv-url]"),
        click.option("--api-delay", type=click.FloatRange(min=0), default=None,
                     help="Seconds between API requests [default 3, as arXiv asks]"),
        click.option("--pdf-delay", type=click.FloatRange(min=0), default=None,
                     help="Seconds between PDF requests [default 3]"),
        click.option("--contact", default=None,
                     help="E-mail address for the User-Agent (arXiv asks for one)"),
        click.option("--start-date", default=None,
                     help="First run: papers submitted since YYYY-MM-DD [default: a week ago]"),
        click.option("--max-results", type=click.IntRange(min=0), default=None,
                     help="New papers per query per run [default 200]"),
        click.option("--lookback-days", type=click.FloatRange(min=0), default=None,
                     help="Re-ask this many days behind each watermark [default 3]"),
        click.option("--query", "query_names", multiple=True,
                     help="Only this [[query]] of paramminer.toml (repeatable)."),
        click.option("--category", "categories", multiple=True,
                     help="Ad-hoc query instead of the configured ones: an arXiv category "
                          "(repeatable, OR'ed)."),
        click.option("--keyword", "keywords", multiple=True,
                     help="Ad-hoc query keyword or phrase (repeatable, OR'ed; AND'ed with "
                          "the categories)."),
        click.option("--dry-run", is_flag=True,
                     help="Ask the API and print what would be fetched; download and write "
                          "nothing."),
        click.option("--json", "as_json", is_flag=True,
                     help="End with a one-line JSON summary [default when stdout is not a "
                          "terminal]."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def harvest_settings(ctx: click.Context, flags: dict[str, Any]) -> Settings:
    """Settings from every layer plus the harvest flags; the query selection applied."""
    query_names: tuple[str, ...] = flags.pop("query_names")
    categories: tuple[str, ...] = flags.pop("categories")
    keywords: tuple[str, ...] = flags.pop("keywords")
    settings = settings_from(ctx, **flags)
    queries = settings.queries
    if categories or keywords:
        queries = (QuerySpec("adhoc", tuple(categories), tuple(keywords)),)
    elif query_names:
        known = {q.name: q for q in queries}
        missing = [name for name in query_names if name not in known]
        if missing:
            raise ConfigError(f"no [[query]] named {', '.join(map(repr, missing))} "
                              f"(configured: {', '.join(known) or 'none'})")
        queries = tuple(known[name] for name in query_names)
    return settings_from(ctx, **flags, queries=queries)


def _interrupt_on_sigterm() -> None:
    """systemd and cron stop jobs with SIGTERM: unwind like Ctrl-C so the run row is closed."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def _progress(enabled: bool) -> Callable[[int, str], AbstractContextManager[Any]]:
    return lambda total, label: progress_bar(total, label, enabled)


def _echo(to_stderr: bool) -> Callable[[str], None]:
    """click.echo to stdout, or to stderr when stdout carries the JSON summary."""
    return lambda message: click.echo(message, err=to_stderr)


def print_harvest(report: HarvestReport, json_out: bool = False) -> None:
    """The dry-run listing, the failures (stderr) and the summary line (stderr when the
    JSON summary is stdout's only line)."""
    echo = _echo(json_out)
    if report.dry_run:
        for planned in report.planned:
            title = planned.paper.title[:70]
            echo(f"would fetch {planned.label:16} {planned.reason:11} "
                 f"{planned.paper.published}  {title}")
    for failure in report.failures:
        click.echo(f"  FAILED {failure.item} ({failure.stage}): {failure.reason}", err=True)
    if report.stale_lock_pid:
        click.echo(f"took over the lock of pid {report.stale_lock_pid} (no longer running)",
                   err=True)
    echo(report.summary())


def _json_wanted(as_json: bool) -> bool:
    return as_json or not sys.stdout.isatty()


@click.command("harvest")
@harvest_options
@click.pass_context
@handle_errors
def harvest_command(ctx: click.Context, /, dry_run: bool, as_json: bool, **flags: Any) -> None:
    """Harvest new arXiv papers of the configured queries: metadata, PDFs, ingest.

    Each [[query]] in paramminer.toml (categories OR'ed, keywords OR'ed, both AND'ed)
    keeps a watermark, so a run asks only for what changed since the last one. One
    harvest at a time per data folder (lock file data/harvest.lock).

    Example: paramminer harvest --contact me@example.org --start-date 2024-01-01

    \b
    Stdout (when not a terminal, or --json): exactly one line, one JSON object with
    api_requests, new_papers, pdfs_downloaded, failures, errors, ...
    """
    settings = harvest_settings(ctx, flags)
    json_out = _json_wanted(as_json)
    if not dry_run:
        require_rules()
    _interrupt_on_sigterm()
    report = run_harvest(settings, dry_run=dry_run, echo=_echo(json_out),
                         progress=_progress(is_terminal() and not json_out))
    print_harvest(report, json_out)
    if json_out:
        click.echo(json.dumps(report.to_json()))
    sys.exit(report.exit_code)


harvest_command.help = (harvest_command.help or "") + "\n\n" + EXIT_CODES_HELP


def combine_exit_codes(*codes: int) -> int:
    """0 when all are 0; 4 when all are 4; otherwise 3 (partial)."""
    if all(code == 0 for code in codes):
        return 0
    if all(code == 4 for code in codes):
        return 4
    return 3


def warehouse_totals(settings: Settings) -> dict[str, int]:
    """Papers, headline systems and flagged ones awaiting review, counted as `status` and
    the exports count them."""
    from paramminer.cli.maintainer import warehouse_counts

    with open_warehouse(settings, read_only=True) as wh:
        counts = warehouse_counts(wh)
    headline: dict[str, int] = counts["headline"]
    return {"papers": counts["papers"], "headline_systems": sum(headline.values()),
            **{f"headline_{status}": number for status, number in headline.items()},
            "flagged": headline["flagged"]}


@click.command("run")
@harvest_options
@click.option("--ingest", "local_paths", multiple=True, type=click.Path(path_type=Path),
              help="Also ingest local PDFs (file or folder, e.g. an S3 bulk dump; repeatable).")
@click.pass_context
@handle_errors
def run_command(ctx: click.Context, /, dry_run: bool, as_json: bool,
                local_paths: tuple[Path, ...], **flags: Any) -> None:
    """The scheduled job: harvest, ingest (plus any --ingest folders), print a summary.

    What cron or a systemd timer calls; see docs/harvest.md.

    Example: paramminer run --json >> data/runs.jsonl
    """
    settings = harvest_settings(ctx, flags)
    json_out = _json_wanted(as_json)
    if not dry_run:
        require_rules()
    show_progress = is_terminal() and not json_out
    _interrupt_on_sigterm()
    echo = _echo(json_out)
    report = run_harvest(settings, dry_run=dry_run, echo=echo,
                         progress=_progress(show_progress))
    print_harvest(report, json_out)
    local = IngestReport()
    if local_paths and not dry_run:
        items, failures = discover(local_paths)
        with open_warehouse(settings, create=True) as wh, \
                progress_bar(len(items), "ingest", show_progress) as advance:
            local = ingest(items, wh, settings, progress=advance, prior_failures=failures)
        echo(f"local ingest: {local.summary()}")
        for failure in local.failures:
            click.echo(f"  FAILED {failure.path}: {failure.reason}", err=True)
    totals: dict[str, int] = {}
    if not dry_run and settings.warehouse_path.exists():
        totals = warehouse_totals(settings)
        echo(f"warehouse {settings.warehouse_path}: {totals['papers']} papers, "
                   f"{totals['headline_systems']} headline systems, "
                   f"{totals['flagged']} flagged for review")
        if show_progress and report.paper_ids:
            from paramminer.cli.maintainer import print_systems

            with open_warehouse(settings, read_only=True) as wh:
                print_systems(wh, report.paper_ids)
    codes = [report.exit_code] + ([local.exit_code] if local_paths and not dry_run else [])
    exit_code = combine_exit_codes(*codes)
    if json_out:
        summary = report.to_json()
        summary.update({
            "exit_code": exit_code,
            "local": {"loaded": len(local.loaded), "unchanged": len(local.unchanged),
                      "failures": len(local.failures)},
            "warehouse": totals,
        })
        click.echo(json.dumps(summary))
    sys.exit(exit_code)


run_command.help = (run_command.help or "") + "\n\n" + EXIT_CODES_HELP


@click.command("serve-arxiv")
@click.option("--data", "data_dirs", multiple=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder with metadata.jsonl and PDFs (repeatable; later ones add versions) "
                   "[default: the bundled sample]")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True)
@click.option("--rate-limit-every", type=click.IntRange(min=0), default=0, metavar="N",
              help="Every Nth request: 429 with Retry-After.")
@click.option("--retry-after", type=click.FloatRange(min=0), default=1.0, metavar="S",
              help="Seconds announced in Retry-After.")
@click.option("--retry-after-http-date", is_flag=True, help="Announce Retry-After as a date.")
@click.option("--unavailable-every", type=click.IntRange(min=0), default=0, metavar="N",
              help="Every Nth request: 503 with Retry-After.")
@click.option("--slow-seconds", type=click.FloatRange(min=0), default=0.0, metavar="S",
              help="Sleep S seconds before answering...")
@click.option("--slow-count", type=click.IntRange(min=0), default=None, metavar="K",
              help="...the first K requests [default: all].")
@click.option("--drop-every", type=click.IntRange(min=0), default=0, metavar="N",
              help="Every Nth request: close the connection without an answer.")
@click.option("--truncate-pdfs", is_flag=True, help="Send half of every PDF, then close.")
@click.option("--truncate-every", type=click.IntRange(min=0), default=0, metavar="N",
              help="Send half of every Nth PDF, then close.")
@click.option("--seed", type=int, default=None,
              help="Faults fire at random (probability 1/N) instead of every Nth request.")
@handle_errors
def serve_arxiv_command(data_dirs: tuple[Path, ...], host: str, port: int,
                        **faults: Any) -> None:
    """Serve a folder of papers as a local arXiv (Atom API and /pdf/), until Ctrl-C.

    Example: paramminer serve-arxiv --port 8765 --data fixtures/sample --data fixtures/sample-v2

    Then: PARAMMINER_ARXIV_URL=http://127.0.0.1:8765 paramminer harvest --category cs.CL
    """
    try:
        fakearxiv.serve_forever(list(data_dirs) or None, host, port, **faults)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


COMMANDS = [harvest_command, run_command, serve_arxiv_command]
