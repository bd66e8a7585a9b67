"""Settings in layers: defaults < paramminer.toml < PARAMMINER_* environment < command flags."""

from __future__ import annotations

import csv
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from paramminer.errors import ConfigError

DEFAULT_DATA_DIR = Path("data")
CONFIG_FILE_NAME = "paramminer.toml"
ENV_PREFIX = "PARAMMINER_"
PDF_BACKENDS = ("pdfium", "pypdf")  # text backends of pdftext.py; the first is the default


@dataclass(frozen=True)
class QuerySpec:
    """One harvest query: arXiv categories OR'ed, keywords OR'ed, both AND'ed."""

    name: str
    categories: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
    """Every setting paramminer reads, resolved from all layers."""

    data_dir: Path = DEFAULT_DATA_DIR
    warehouse: Path | None = None  # default: data_dir / "paramminer.duckdb"
    cache_dir: Path | None = None  # default: data_dir / "cache"
    pdf_dir: Path | None = None  # default: data_dir / "pdfs"
    rules_dir: Path | None = None  # default: the rules bundled with paramminer
    workers: int = 0  # 0: one per core
    pdf_timeout: float = 120.0  # seconds one PDF may take (parse, extract, resolve) before it fails
    worker_memory_mb: int = 2048  # address space per worker process; 0: no limit
    pdf_backend: str = PDF_BACKENDS[0]  # which library reads PDF text (see PDF_BACKENDS)
    arxiv_url: str = "https://export.arxiv.org"
    api_delay: float = 3.0  # arXiv asks for at most one API request every 3 seconds
    contact: str = ""
    start_date: str = ""
    max_results: int = 200  # new papers per query per harvest run
    # Harvest transport (paramminer.harvest); defaults are polite for the real arXiv.
    pdf_url: str = ""  # base URL of /pdf/<id>vN; empty: arxiv_url (export.arxiv.org serves PDFs)
    pdf_delay: float = 3.0  # seconds between PDF request starts (same courtesy as the API)
    page_size: int = 100  # API results per request (arXiv allows up to 2,000)
    lookback_days: float = 3.0  # re-ask this far behind the watermark (announcements lag)
    http_timeout: float = 60.0  # seconds per HTTP request
    retries: int = 4  # attempts per HTTP request (429, 5xx, dropped or truncated)
    retry_backoff: float = 3.0  # first backoff in seconds, doubling, when no Retry-After is given
    max_retry_after: float = 300.0  # a longer Retry-After is recorded as a failure, not waited out
    max_paper_attempts: int = 5  # runs that may try one paper's PDF before it is given up
    queries: tuple[QuerySpec, ...] = field(default_factory=tuple)

    @property
    def warehouse_path(self) -> Path:
        """The DuckDB file every command uses."""
        return self.warehouse or self.data_dir / "paramminer.duckdb"

    @property
    def text_cache_dir(self) -> Path:
        """Where parsed page texts are cached (shared by every warehouse)."""
        return (self.cache_dir or self.data_dir / "cache") / "text"

    @property
    def pdf_store_dir(self) -> Path:
        """The content-addressed PDF store of harvested papers."""
        return self.pdf_dir or self.data_dir / "pdfs"

    @property
    def worker_count(self) -> int:
        """How many processes parse PDFs (both cores by default)."""
        return self.workers if self.workers > 0 else max(1, os.cpu_count() or 1)


_SCALAR_FIELDS = {f.name: f for f in fields(Settings) if f.name != "queries"}
SETTING_NAMES = frozenset(_SCALAR_FIELDS)


def _coerce(name: str, raw: Any, origin: str) -> Any:
    """Convert a raw value (TOML value, env string, CLI value) to the field's type."""
    kind = str(_SCALAR_FIELDS[name].type)
    try:
        if "Path" in kind:
            return Path(str(raw)).expanduser() if raw not in (None, "") else None
        if isinstance(raw, bool) and kind in ("int", "float"):
            raise TypeError  # TOML `workers = true` is a mistake, not 1
        if kind == "int":
            if isinstance(raw, float) and not raw.is_integer():
                raise ValueError  # int(2.5) would silently truncate
            return int(raw)
        if kind == "float":
            return float(raw)
        return str(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{origin}: {name} must be a {kind}, got {raw!r}") from None


def _queries_from(raw: Any, origin: str) -> tuple[QuerySpec, ...]:
    if not isinstance(raw, list):
        raise ConfigError(f"{origin}: [[query]] must be an array of tables")
    specs = []
    for index, item in enumerate(raw, 1):
        if not isinstance(item, dict):
            raise ConfigError(f"{origin}: query #{index} must be a table")
        name = str(item.get("name") or f"query{index}")
        categories = tuple(str(c) for c in item.get("categories", []))
        keywords = tuple(str(k) for k in item.get("keywords", []))
        if not categories and not keywords:
            raise ConfigError(f"{origin}: query {name!r} needs categories or keywords")
        specs.append(QuerySpec(name, categories, keywords))
    return tuple(specs)


def load_settings(
    config_path: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve settings: defaults, then the TOML file, then the environment, then `overrides`.

    `config_path` None means ./paramminer.toml if it exists (or $PARAMMINER_CONFIG).
    Keys in `overrides` whose value is None are ignored (a flag that was not given).
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    queries: tuple[QuerySpec, ...] = ()
    env_config = env.get(f"{ENV_PREFIX}CONFIG")
    explicit = config_path or (Path(env_config) if env_config else None)
    path = explicit or Path(CONFIG_FILE_NAME)
    if explicit is not None and not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    if path.is_file():
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from None
        section = document.get("paramminer", document)
        for key, raw in section.items():
            name = key.replace("-", "_")
            if name in ("query", "queries"):
                queries = _queries_from(raw, str(path))
            elif name in _SCALAR_FIELDS:
                values[name] = _coerce(name, raw, str(path))
            elif not isinstance(raw, dict):
                raise ConfigError(f"{path}: unknown setting {key!r}")
        if "query" in document and "query" not in section:
            queries = _queries_from(document["query"], str(path))
    for name in _SCALAR_FIELDS:
        env_name = ENV_PREFIX + name.upper()
        if env.get(env_name):
            values[name] = _coerce(name, env[env_name], env_name)
    for name, raw in (overrides or {}).items():
        if raw is None:
            continue
        if name == "queries":
            queries = tuple(raw)
        elif name in _SCALAR_FIELDS:
            values[name] = _coerce(name, raw, f"--{name.replace('_', '-')}")
        else:
            raise ConfigError(f"unknown setting {name!r}")
    settings = replace(Settings(), **values, queries=queries)
    for name, bad, rule in (("api_delay", settings.api_delay < 0, ">= 0"),
                            ("pdf_timeout", settings.pdf_timeout <= 0, "> 0"),
                            ("workers", settings.workers < 0, ">= 0"),
                            ("worker_memory_mb", settings.worker_memory_mb < 0, ">= 0"),
                            # harvest settings
                            ("pdf_delay", settings.pdf_delay < 0, ">= 0"),
                            ("lookback_days", settings.lookback_days < 0, ">= 0"),
                            ("http_timeout", settings.http_timeout <= 0, "> 0"),
                            ("retries", settings.retries < 1, ">= 1"),
                            ("retry_backoff", settings.retry_backoff < 0, ">= 0"),
                            ("max_results", settings.max_results < 0, ">= 0"),
                            ("max_paper_attempts", settings.max_paper_attempts < 1, ">= 1"),
                            ("page_size", not 1 <= settings.page_size <= 2000, "1..2000")):
        if bad:
            raise ConfigError(f"{name} must be {rule}, got {getattr(settings, name)!r}")
    if settings.pdf_backend not in PDF_BACKENDS:
        raise ConfigError(f"pdf_backend must be one of {', '.join(PDF_BACKENDS)}, "
                          f"got {settings.pdf_backend!r}")
    return settings


def file_version(path: Path) -> int:
    """A cache key that changes when the file is edited (-1 when it cannot be read)."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return -1


def read_table(path: Path, what: str) -> list[tuple[int, dict[str, str]]]:
    """(row number, row) of an editable CSV table in rules/; '#' lines are comments.

    Row numbers count the header as row 1, as a spreadsheet shows them.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc}") from None
    rows = csv.DictReader(line for line in lines if line.strip() and not line.startswith("#"))
    return list(enumerate(rows, 2))


def rules_dir() -> Path:
    """The folder holding the rules: pattern files, word lists, cues, the fitted model.

    $PARAMMINER_RULES_DIR (the `rules_dir` setting), else the rules installed with the
    package (the checkout's rules/ in an editable install); see paramminer.resources.
    """
    from paramminer import resources

    return resources.rules_dir()


def project_root() -> Path:
    """The source checkout (for development tools such as bench/); the installed package
    finds its rules, SQL and sample through paramminer.resources instead."""
    return Path(__file__).resolve().parents[2]
