"""The typed error tree: every error carries the context a user needs to act on it.

Every error pickles and unpickles intact (class, message and attributes), so an error
raised in a worker process reaches the parent as the same error.
"""

from __future__ import annotations

import re
from typing import Any

EXIT_IO = 74  # EX_IOERR (sysexits.h): a file or the database could not be read or written
_STORAGE_TROUBLE = re.compile(
    r"No space left on device|Disk quota exceeded|Read-only file system|Permission denied|"
    r"File too large|Input/output error|Could not (?:write|read|open|create|sync|truncate)",
    re.IGNORECASE)


def is_storage_failure(error: BaseException) -> bool:
    """Whether an error (the OS's, or DuckDB's in any of its classes) says that a file could
    not be read or written: disk full, permissions, a vanished disk."""
    if isinstance(error, OSError):
        return True
    if type(error).__name__ in ("IOException", "PermissionException"):
        return True
    return bool(_STORAGE_TROUBLE.search(str(error)))


def _rebuild(cls: type[ParamminerError], args: tuple[Any, ...],
             state: dict[str, Any]) -> ParamminerError:
    """Unpickle an error without calling its __init__ (whose signature varies by class)."""
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class ParamminerError(Exception):
    """Base of every error paramminer raises on purpose; the CLI prints it as one line."""

    exit_code = 1

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception's default pickling calls cls(*self.args), which breaks every subclass
        # whose __init__ takes other arguments than the message (InputError(path, reason)).
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


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


class StorageError(ParamminerError):
    """A file or the warehouse could not be read or written (disk full, permissions...)."""

    exit_code = EXIT_IO


class WorkerError(ParamminerError):
    """Worker processes could not be started or kept running."""


class RuleError(ParamminerError):
    """A rule file in rules/ is malformed."""

    def __init__(self, rule_file: str, line: int, reason: str) -> None:
        super().__init__(f"{rule_file}:{line}: {reason}")
        self.rule_file = rule_file
        self.line = line
