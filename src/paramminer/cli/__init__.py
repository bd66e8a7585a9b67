"""The `paramminer` command: a thin layer over the library, one module per audience.

Command modules are imported only when their command runs (a reader's `paramminer sql`
does not pay for the harvest's or the report's imports), so every command starts fast.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

import click

from paramminer import __version__

# command name -> module under paramminer.cli that defines it (in its COMMANDS list)
COMMAND_MODULES = {
    "ingest": "maintainer", "extract": "maintainer", "demo": "maintainer",
    "status": "maintainer",
    "harvest": "harvest", "run": "harvest", "serve-arxiv": "harvest",
    "export": "analyst", "eval": "analyst",
    "report": "analysis", "sql": "analysis", "reference": "analysis",
    "review": "reviewer",
    "fit": "analyst", "serve": "web",
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMAND_MODULES, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = COMMAND_MODULES.get(cmd_name)
        if module_name is None:
            return super().get_command(ctx, cmd_name)
        module = importlib.import_module(f"paramminer.cli.{module_name}")
        commands: list[click.Command] = module.COMMANDS
        return next(command for command in commands if command.name == cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="paramminer")
@click.option("--config", "-c", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Settings file [default ./paramminer.toml; env PARAMMINER_CONFIG]")
@click.option("--verbose", "-v", is_flag=True, help="Log what happens, to stderr.")
@click.pass_context
def cli(ctx: click.Context, config: Path | None, verbose: bool) -> None:
    """Mine ML papers for parameter counts, with evidence, into a DuckDB warehouse."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    ctx.obj = {"config": config}


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="paramminer")
