"""The `paramminer` command: a thin layer over the library, one module per audience."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from paramminer import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


from paramminer.cli import (  # noqa: E402  (commands register on import)
    analysis,
    analyst,
    harvest,
    maintainer,
    reviewer,
    web,
)

for module in (maintainer, harvest, analyst, analysis, reviewer, web):
    for command in module.COMMANDS:
        cli.add_command(command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="paramminer")
