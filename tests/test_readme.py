"""The README's Quickstart is what CI runs, and every command it documents exists."""

from __future__ import annotations

import re
from pathlib import Path

import click

from paramminer.cli import cli

REPO = Path(__file__).resolve().parents[1]


def quickstart_commands() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, re.S)]


def test_quickstart_has_exactly_two_commands_and_ci_runs_the_second() -> None:
    commands = quickstart_commands()
    assert len(commands) == 2
    assert all("\n" not in command for command in commands)
    assert "paramminer demo" in commands[0]
    ci_lines = [line for line in (REPO / ".ci" / "run").read_text().splitlines()
                if line and not line.startswith("#")]
    assert commands[1] in ci_lines  # CI runs exactly the README's test line
    assert ci_lines[-1] == "bash .ci/wheel-check"  # then checks the installed wheel


def test_every_command_in_the_readme_tables_exists() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`paramminer ([a-z\-]+)", readme))
    assert isinstance(cli, click.Group)
    commands = set(cli.list_commands(click.Context(cli)))
    assert documented <= commands, documented - commands
    assert commands <= documented, commands - documented
    for name in commands:  # every listed command imports and is what its name says
        command = cli.get_command(click.Context(cli), name)
        assert command is not None and command.name == name


def test_every_command_module_is_in_the_lazy_registry() -> None:
    """Commands load on use, by name: a command missing from COMMAND_MODULES would vanish."""
    import importlib

    from paramminer.cli import COMMAND_MODULES

    for module_name in set(COMMAND_MODULES.values()):
        module = importlib.import_module(f"paramminer.cli.{module_name}")
        for command in module.COMMANDS:
            assert COMMAND_MODULES.get(command.name or "") == module_name, command.name
