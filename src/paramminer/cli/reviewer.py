"""Reviewer commands: the interactive queue, and scriptable list/show/decide/CSV round trip."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from paramminer.cli.common import (
    handle_errors,
    open_warehouse,
    settings_from,
    stdout_console,
    warehouse_option,
)
from paramminer.numbers import humanize
from paramminer.review import (
    REASON_CODES,
    Decision,
    ItemFilter,
    ReviewError,
    ReviewItem,
    candidates_for,
    decide,
    default_reviewer,
    export_csv,
    flag_reference_mismatches,
    flags_for,
    get_item,
    history,
    import_csv,
    list_items,
    parse_value,
    undo,
)


def _by_option(function: click.decorators.FC) -> click.decorators.FC:
    option = click.option("--by", default=None,
                          help="Reviewer name [env PARAMMINER_REVIEWER; default: login name]")
    return option(function)


def _filter_options(function: click.decorators.FC) -> click.decorators.FC:
    options = [
        click.option("--reason", "reasons", multiple=True, type=click.Choice(REASON_CODES),
                     help="Only items with this reason code (repeatable: any of them)."),
        click.option("--domain", default=None, help="Only papers in this domain (e.g. Language)."),
        click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None,
                     help="Only papers published on or after YYYY-MM-DD."),
        click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None,
                     help="Only papers published on or before YYYY-MM-DD."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _where(reasons: tuple[str, ...], domain: str | None, since: dt.datetime | None,
           until: dt.datetime | None, include_decided: bool = False) -> ItemFilter:
    return ItemFilter(reasons, domain, since.date() if since else None,
                      until.date() if until else None, include_decided)


@click.group("review", invoke_without_command=True)
@warehouse_option
@_by_option
@_filter_options
@click.pass_context
@handle_errors
def review_group(ctx: click.Context, warehouse: Path | None, by: str | None,
                 reasons: tuple[str, ...], domain: str | None, since: dt.datetime | None,
                 until: dt.datetime | None) -> None:
    """Review flagged extractions; without a subcommand, an interactive session.

    Keys: a accept, 1-9 pick candidate, v type a value (1.5B, 340M, 47B/13B for MoE),
    n not stated in paper, s skip, u undo, q quit. Each decision is written at once (the
    warehouse is held only while writing), so several reviewers can work at the same time.

    Example: paramminer review --reason own_vs_cited --by alice
    """
    if ctx.invoked_subcommand is not None:
        return
    from paramminer.review_tui import ReviewSession

    settings = settings_from(ctx, warehouse=warehouse)
    with open_warehouse(settings):
        pass  # migrate once, so the session's short opens find the review tables
    where = _where(reasons, domain, since, until)
    ReviewSession(settings.warehouse_path, default_reviewer(by), where,
                  Console(highlight=False)).run()


def _item_row(item: ReviewItem) -> dict[str, object]:
    return {
        "id": item.item_key, "paper_id": item.paper_id, "system": item.system,
        "is_headline": item.is_headline, "suggested": item.suggested,
        "suggested_active": item.suggested_active,
        "confidence": None if item.confidence is None else round(item.confidence, 3),
        "reasons": ",".join(item.reasons), "open": item.is_open,
        "decision": item.decided_action, "decided_value": item.decided_value,
        "decided_by": item.decided_by,
        "publication_date": item.publication_date.isoformat() if item.publication_date else None,
        "domain": item.domain, "title": item.title,
    }


@review_group.command("list")
@warehouse_option
@_filter_options
@click.option("--all", "include_decided", is_flag=True, help="Include decided and unflagged items.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@click.pass_context
@handle_errors
def list_command(ctx: click.Context, warehouse: Path | None, reasons: tuple[str, ...],
                 domain: str | None, since: dt.datetime | None, until: dt.datetime | None,
                 include_decided: bool, fmt: str) -> None:
    """List the items waiting for review (ids are stable: paper_id, or paper_id:hash).

    Example: paramminer review list --reason reference_mismatch --since 2023-01-01 --format csv
    """
    settings = settings_from(ctx, warehouse=warehouse)
    with open_warehouse(settings, read_only=True) as wh:
        items = list_items(wh.con, _where(reasons, domain, since, until, include_decided))
    rows = [_item_row(item) for item in items]
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["id"],
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        click.echo(buffer.getvalue(), nl=False)
    else:
        table = Table()
        table.add_column("id", no_wrap=True)  # ids are for copying: never cut them
        for name in ("system", "suggested", "reasons", "decision", "date", "domain"):
            table.add_column(name)
        for item in items:
            decided = ""
            if item.decided_action:
                shown = humanize(item.decided_value) if item.decided_value else "not stated"
                decided = f"{item.decided_action} {shown} ({item.decided_by})"
            table.add_row(item.item_key, item.system,
                          humanize(item.suggested) if item.suggested else "",
                          ", ".join(item.reasons), decided, str(item.publication_date or ""),
                          item.domain or "")
        stdout_console().print(table)
        click.echo(f"{len(items)} item(s)", err=True)


@review_group.command("show")
@click.argument("item_id")
@warehouse_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.pass_context
@handle_errors
def show_command(ctx: click.Context, item_id: str, warehouse: Path | None, fmt: str) -> None:
    """One item: its values, reasons, numbered candidates with evidence, and decision history.

    Example: paramminer review show 2401.90001
    """
    settings = settings_from(ctx, warehouse=warehouse)
    with open_warehouse(settings, read_only=True) as wh:
        item = get_item(wh.con, item_id)
        candidates = candidates_for(wh.con, item)
        flags = flags_for(wh.con, item_id)
        decisions = history(wh.con, item_id)
    if fmt == "json":
        data = item.to_dict()
        data["candidates"] = [vars(c) for c in candidates]
        data["flags"] = [{"stage": f.stage, "reason": f.reason, "detail": f.detail,
                          "raised_at": f.raised_at.isoformat()} for f in flags]
        data["history"] = [_decision_dict(d) for d in decisions]
        click.echo(json.dumps(data, ensure_ascii=False, indent=1, default=str))
        return
    from paramminer.review_tui import render_item

    render_item(stdout_console(), item, candidates, flags)
    if decisions:
        click.echo("history:")
        for decision in decisions:
            click.echo(f"  #{decision.decision_id} {decision.decided_at:%Y-%m-%d %H:%M} "
                       f"{decision.reviewer}: {decision.action} "
                       f"{_shown(decision.old_value)} -> {_shown(decision.new_value)}"
                       + (f" (note: {decision.note})" if decision.note else "")
                       + (f" [undone by #{decision.undone_by}]" if decision.undone_by else ""))


def _shown(value: int | None) -> str:
    return "none" if value is None else humanize(value)


def _decision_dict(decision: Decision) -> dict[str, object]:
    data = dict(vars(decision))
    data["decided_at"] = decision.decided_at.isoformat()
    return data


def _report(decision: Decision) -> None:
    new = "not stated in paper" if decision.new_value is None else _shown(decision.new_value)
    click.echo(f"{decision.item_key}: {decision.action} {new} by {decision.reviewer} "
               f"(decision #{decision.decision_id}; was {_shown(decision.old_value)})")


@review_group.command("accept")
@click.argument("item_id")
@warehouse_option
@_by_option
@click.option("--note", default=None, help="Why (kept with the decision).")
@click.pass_context
@handle_errors
def accept_command(ctx: click.Context, item_id: str, warehouse: Path | None, by: str | None,
                   note: str | None) -> None:
    """Accept the extracted value of an item.

    Example: paramminer review accept 2401.90001 --note "Table 1" --by alice
    """
    settings = settings_from(ctx, warehouse=warehouse)
    with open_warehouse(settings) as wh:
        _report(decide(wh, item_id, "accept", reviewer=default_reviewer(by), note=note))


@review_group.command("set")
@click.argument("item_id")
@click.argument("value")
@warehouse_option
@_by_option
@click.option("--note", default=None, help="Why (kept with the decision).")
@click.pass_context
@handle_errors
def set_command(ctx: click.Context, item_id: str, value: str, warehouse: Path | None,
                by: str | None, note: str | None) -> None:
    """Set an item's value (1.5B, 340M, 1.3e9, ...; TOTAL/ACTIVE for MoE, e.g. 47B/13B).

    Example: paramminer review set 2305.90003 47B/13B --note "Table 2" --by alice
    """
    try:
        total, active = parse_value(value)
    except ValueError as exc:
        raise ReviewError(f"{item_id}: {exc}") from None
    settings = settings_from(ctx, warehouse=warehouse)
    with open_warehouse(settings) as wh:
        _report(decide(wh, item_id, "set", reviewer=default_reviewer(by), note=note,
                       value=total, active=active))


@review_group.command("choose")
@click.argument("item_id")
@click.argument("number", type=click.IntRange(1, 9))
@warehouse_option
@_by_option
@click.option("--note", default=None, help="Why (kept with the decision).")
@click.pass_context
@handle_errors
def choose_command(ctx: click.Context, item_id: str, number: int, warehouse: Path | None,
                   by: str | None, note: str | None) -> None:
    """Pick candidate NUMBER (as numbered by `review show`) as the item's value.

    Example: paramminer review choose tern-recommendation-at-scale 2 --by alice
    """
    settings = settings_from(ctx, warehouse=warehouse)
    with open_warehouse(settings) as wh:
        _report(decide(wh, item_id, "choose", reviewer=default_reviewer(by), note=note,
                       candidate_number=number))


@review_group.command("reject")
@click.argument("item_id")
@warehouse_option
@_by_option
@click.option("--note", default=None, help="Why (kept with the decision).")
@click.pass_context
@handle_errors
def reject_command(ctx: click.Context, item_id: str, warehouse: Path | None, by: str | None,
                   note: str | None) -> None:
    """Mark an item "not stated in paper": it leaves systems_final and the export.

    Example: paramminer review reject 2203.90002:edc0c022 --note "accuracy, not a size"
    """
    settings = settings_from(ctx, warehouse=warehouse)
    with open_warehouse(settings) as wh:
        _report(decide(wh, item_id, "reject", reviewer=default_reviewer(by), note=note))


@review_group.command("undo")
@click.argument("item_id")
@warehouse_option
@_by_option
@click.option("--note", default=None, help="Why (kept with the undo row).")
@click.pass_context
@handle_errors
def undo_command(ctx: click.Context, item_id: str, warehouse: Path | None, by: str | None,
                 note: str | None) -> None:
    """Cancel the decision in force on an item (appends an undo row; nothing is deleted).

    Example: paramminer review undo 2401.90001 --by alice
    """
    settings = settings_from(ctx, warehouse=warehouse)
    with open_warehouse(settings) as wh:
        _report(undo(wh, item_id, reviewer=default_reviewer(by), note=note))


@review_group.command("export")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="CSV file to write.")
@warehouse_option
@_filter_options
@click.option("--all", "include_decided", is_flag=True, help="Include decided and unflagged items.")
@click.pass_context
@handle_errors
def export_command(ctx: click.Context, csv_path: Path, warehouse: Path | None,
                   reasons: tuple[str, ...], domain: str | None, since: dt.datetime | None,
                   until: dt.datetime | None, include_decided: bool) -> None:
    """Write the queue to a CSV; fill in action (accept/set/reject/choose), value, note, reviewer.

    Example: paramminer review export --csv queue.csv
    """
    settings = settings_from(ctx, warehouse=warehouse)
    where = _where(reasons, domain, since, until, include_decided)
    with open_warehouse(settings, read_only=True) as wh:
        count = export_csv(wh.con, csv_path, where)
    click.echo(f"{count} item(s) written to {csv_path}")


@review_group.command("import")
@click.option("--csv", "csv_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              required=True, help="Filled-in CSV from `review export`.")
@warehouse_option
@_by_option
@click.option("--force", is_flag=True,
              help="Apply rows whose item was decided or extracted again since the export.")
@click.pass_context
@handle_errors
def import_command(ctx: click.Context, csv_path: Path, warehouse: Path | None,
                   by: str | None, force: bool) -> None:
    """Apply a filled-in review CSV: every row is checked first; all or nothing.

    --by is the reviewer for rows whose reviewer cell is empty. Rows already applied are
    skipped (importing a file twice adds nothing); a row whose item changed since the
    export is refused with the reason, unless --force.

    Example: paramminer review import --csv queue.csv --by alice
    """
    settings = settings_from(ctx, warehouse=warehouse)
    with open_warehouse(settings) as wh:
        report = import_csv(wh, csv_path, default_by=default_reviewer(by), force=force)
    click.echo(f"{len(report.applied)} decision(s) applied, {report.already_applied} row(s) "
               f"already applied, {report.skipped_rows} row(s) without a decision")


@review_group.command("check-reference")
@click.argument("name")
@warehouse_option
@click.option("--tolerance", type=click.FloatRange(min=0), default=0.10, show_default=True,
              help="Relative difference allowed before a paper is flagged.")
@click.pass_context
@handle_errors
def check_reference_command(ctx: click.Context, name: str, warehouse: Path | None,
                            tolerance: float) -> None:
    """Flag papers whose headline differs from reference dataset NAME (matched by arXiv id).

    Example: paramminer review check-reference epoch --tolerance 0.05
    """
    settings = settings_from(ctx, warehouse=warehouse)
    with open_warehouse(settings) as wh:
        mismatches = flag_reference_mismatches(wh, name, tolerance)
    for mismatch in mismatches:
        click.echo(f"{mismatch.paper_id}: {mismatch.detail}")
    click.echo(f"{len(mismatches)} paper(s) flagged reference_mismatch")


COMMANDS = [review_group]
