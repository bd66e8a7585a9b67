"""Shared CLI plumbing: settings from flags, the warehouse option, one-line errors, progress."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from paramminer.config import Settings, load_settings
from paramminer.errors import ParamminerError, WarehouseError
from paramminer.resources import RULES_ENV, rules_dir
from paramminer.warehouse import LOCK_RETRY_SECONDS, Warehouse

F = TypeVar("F", bound=Callable[..., Any])
err_console = Console(stderr=True)
BATCH_WAIT_SECONDS = 300.0  # ingest, demo, run: how long a write may wait for a reader
PIPE_WIDTH = 100_000  # stdout that is not a terminal: tables come out whole, never squeezed


def stdout_console() -> Console:
    """The console for a command's output: the terminal's width on a terminal; when stdout
    is a pipe or a file, wide enough that no table column is cut and no line wrapped."""
    probe = Console()
    if probe.is_terminal:
        return Console(highlight=False)
    return Console(highlight=False, width=PIPE_WIDTH, soft_wrap=True)


def output_console(as_json: bool) -> Console:
    """Human output: stdout normally, stderr when stdout carries JSON."""
    return Console(stderr=True, highlight=False) if as_json else stdout_console()


def warehouse_option(function: F) -> F:
    """--warehouse PATH, else $PARAMMINER_WAREHOUSE, else paramminer.toml, else the default.

    The default is data/paramminer.duckdb (under the data dir).
    """
    return click.option(
        "--warehouse", "-w", type=click.Path(dir_okay=False, path_type=Path), default=None,
        help="DuckDB file [env PARAMMINER_WAREHOUSE; default data/paramminer.duckdb]",
    )(function)


def settings_from(ctx: click.Context, **overrides: Any) -> Settings:
    """Resolve settings from the config file in the group context plus this command's flags."""
    root = ctx.find_root().obj or {}
    settings = load_settings(root.get("config"), overrides)
    if settings.rules_dir is not None:  # workers and every loader read it from the environment
        _set_env_for_this_command(ctx, RULES_ENV, str(settings.rules_dir.resolve()))
    return settings


def _set_env_for_this_command(ctx: click.Context, name: str, value: str) -> None:
    previous = os.environ.get(name)
    os.environ[name] = value

    def restore() -> None:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous

    ctx.find_root().call_on_close(restore)


def require_rules() -> None:
    """Fail at once, with the reason, when the rules folder is missing or empty (before any
    input is read, rather than as a failure of every input)."""
    rules_dir()


def handle_errors(function: F) -> F:
    """Turn ParamminerError into one line on stderr and its exit code."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except ParamminerError as exc:
            click.echo(f"paramminer: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("paramminer: interrupted; re-run the same command to finish", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


@contextmanager
def open_warehouse(settings: Settings, *, read_only: bool = False, create: bool = False,
                   batch: bool = False) -> Iterator[Warehouse]:
    """The warehouse of these settings, closed on exit. Only commands that load data
    `create` it; for every other command a missing warehouse is a one-line error. Batch
    writers (those that create, and `batch`) wait longer for a reader to let go."""
    path = settings.warehouse_path
    if not create and not path.is_file():
        raise WarehouseError(f"no warehouse at {path} (run `paramminer ingest` or "
                             "`paramminer demo` first, or pass --warehouse)")
    wait = BATCH_WAIT_SECONDS if create or batch else LOCK_RETRY_SECONDS
    warehouse = Warehouse.open(path, read_only=read_only, wait_seconds=wait)
    if create or batch:
        warehouse.release()  # migrated; a batch takes the file again only to write
    try:
        yield warehouse
    finally:
        warehouse.close()


@contextmanager
def progress_bar(total: int, label: str, enabled: bool) -> Iterator[Callable[[str, bool], None]]:
    """A rich progress bar on stderr when it is a terminal; the callback advances it."""
    if not enabled or total == 0:
        yield lambda key, ok: None
        return
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
               TextColumn("{task.fields[current]}"))
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task(label, total=total, current="")

        def advance(key: str, ok: bool) -> None:
            progress.update(task, advance=1, current=Path(key).name[:40])

        yield advance


def is_terminal() -> bool:
    """Whether stderr is an interactive terminal (progress bars only then)."""
    return err_console.is_terminal
