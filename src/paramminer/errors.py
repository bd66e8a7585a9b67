"""The typed error tree: every error carries the context a user needs to act on it."""

from __future__ import annotations


class ParamminerError(Exception):
    """Base of every error paramminer raises on purpose; the CLI prints it as one line."""

    exit_code = 1


class ConfigError(ParamminerError):
    """A bad option, setting or configuration file."""

    exit_code = 2


class UsageError(ParamminerError):
    """A value a command cannot use: an unknown id, a malformed value, a failing query."""

    exit_code = 2


class InputError(ParamminerError):
    """An input file that cannot be used (missing, not a PDF, encrypted, no text...)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class PdfError(InputError):
    """A PDF that pypdf cannot read, or that yields no text."""


class WarehouseError(ParamminerError):
    """The DuckDB warehouse cannot be opened, migrated or written."""


class WarehouseBusyError(WarehouseError):
    """Another process holds the warehouse's write lock."""

    exit_code = 75  # EX_TEMPFAIL: try again later


class RuleError(ParamminerError):
    """A rule file in rules/ is malformed."""

    def __init__(self, rule_file: str, line: int, reason: str) -> None:
        super().__init__(f"{rule_file}:{line}: {reason}")
        self.rule_file = rule_file
        self.line = line
