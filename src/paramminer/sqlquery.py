"""Ad-hoc SQL for analysts (`paramminer sql`): read-only, and without file or network access
unless asked for, since a query may come from anywhere (a wiki page, a colleague's chat)."""

from __future__ import annotations

from typing import Any

import duckdb

from paramminer.errors import ConfigError, UsageError
from paramminer.warehouse import Warehouse

SANDBOX = (
    "SET enable_external_access = false",  # no COPY TO, EXPORT, read_csv('/etc/...'), ATTACH
    "SET autoinstall_known_extensions = false",  # nothing fetched from the network
    "SET autoload_known_extensions = false",
    "SET lock_configuration = true",  # the query cannot SET them back
)


def run_query(
    warehouse: Warehouse, query: str, *, allow_external: bool = False
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """(column names, rows) of one query; ConfigError for an empty query, UsageError (one
    line, exit 2) when DuckDB refuses it."""
    if not _has_statement(query):
        raise ConfigError("the SQL query is empty")
    con = warehouse.con
    try:
        if not allow_external:
            for statement in SANDBOX:
                con.execute(statement)
        result = con.execute(query)
        names = [column[0] for column in (result.description or [])]
        rows = result.fetchall() if names else []
    except duckdb.PermissionException as exc:
        raise UsageError(f"query refused: {_flat(exc)} (files and network are off for "
                             "`paramminer sql`; --allow-external-access turns them on)") from None
    except duckdb.Error as exc:
        raise UsageError(f"query failed: {_flat(exc)}") from None
    return names, rows


def _flat(error: BaseException) -> str:
    return " ".join(str(error).split())


def _has_statement(query: str) -> bool:
    """Whether `query` holds more than whitespace, semicolons and SQL comments."""
    text, index = query, 0
    while index < len(text):
        if text.startswith("--", index):
            end = text.find("\n", index)
            index = len(text) if end < 0 else end + 1
        elif text.startswith("/*", index):
            end = text.find("*/", index + 2)
            index = len(text) if end < 0 else end + 2
        elif text[index].isspace() or text[index] == ";":
            index += 1
        else:
            return True
    return False
