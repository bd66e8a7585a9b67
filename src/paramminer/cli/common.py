"""Shared CLI plumbing: settings from flags, the warehouse option, one-line errors, progress."""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import click
import duckdb
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from paramminer.config import Settings, load_settings
from paramminer.errors import (
    EXIT_IO,
    ConfigError,
    ParamminerError,
    WarehouseError,
    is_storage_failure,
)
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
    check_folders(settings)
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


def check_folders(settings: Settings) -> None:
    """A file where the data folder (or the warehouse's folder) should be is a bad setting."""
    for what, folder in (("data folder", settings.data_dir),
                         ("warehouse folder", settings.warehouse_path.parent)):
        if folder.exists() and not folder.is_dir():
            raise ConfigError(f"{what} {folder} is a file, not a folder "
                              "(set data_dir / --warehouse to a folder path)")


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def boundary_error(error: BaseException) -> tuple[str, int] | None:
    """The one-line message and exit code of an error reaching a command, or None for a bug
    (which keeps its traceback). Database and file errors exit 74 (EX_IOERR)."""
    if isinstance(error, ParamminerError):  # ours: one line, or one line per bad CSV row
        return str(error), error.exit_code
    if isinstance(error, OSError):
        where = f"{error.filename}: " if error.filename else ""
        return f"{where}{error.strerror or _one_line(error)}", EXIT_IO
    if isinstance(error, duckdb.Error) and is_storage_failure(error):
        return f"database file error: {_one_line(error)}", EXIT_IO
    if isinstance(error, duckdb.Error):
        return f"database error: {_one_line(error)}", 1
    return None


def handle_errors(function: F) -> F:
    """Turn paramminer's, DuckDB's and the OS's errors into one line on stderr and an exit
    code (README: Exit codes); Ctrl-C and SIGTERM exit 130 after stopping cleanly."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with sigterm_interrupts():
                return function(*args, **kwargs)
        except KeyboardInterrupt:
            click.echo("paramminer: interrupted; re-run the same command to finish", err=True)
            sys.exit(130)
        except (ParamminerError, duckdb.Error, OSError) as exc:
            message, code = boundary_error(exc) or (_one_line(exc), 1)
            click.echo(f"paramminer: error: {message}", err=True)
            sys.exit(code)

    return wrapper  # type: ignore[return-value]


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Inside the block SIGTERM (systemd, cron, `kill`) unwinds like Ctrl-C, so workers are
    stopped and the run is recorded as interrupted; the previous handler comes back after."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


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
