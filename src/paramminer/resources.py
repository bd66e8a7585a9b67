"""Where the data paramminer ships lives: the rules, the warehouse SQL, the demo sample.

An installed wheel carries them as package data in `paramminer/_data/` (mapped there from
the repository's top-level rules/, warehouse/ and fixtures/sample at build time); an
editable checkout reads the top-level folders themselves. Settings override both:

- `PARAMMINER_RULES_DIR` (or `rules_dir` in paramminer.toml): a user's own rules folder;
- `PARAMMINER_HOME`: a folder laid out like the checkout (rules/, warehouse/,
  fixtures/sample/), for developers trying changes to all of them at once.

A folder that is missing or empty is a ConfigError naming it, never a silent empty run.
"""

from __future__ import annotations

import os
from functools import cache
from importlib.resources import files
from pathlib import Path

from paramminer.errors import ConfigError

RULES_ENV = "PARAMMINER_RULES_DIR"
HOME_ENV = "PARAMMINER_HOME"
_PACKAGE_DATA = "_data"
# (name under _data/ and under a checkout or PARAMMINER_HOME, what it must contain)
_LAYOUT = {
    "rules": ("rules", "*.jsonl"),
    "warehouse": ("warehouse", "schema/*.sql"),
    "sample": ("fixtures/sample", "metadata.jsonl"),
}


@cache
def _bundled(name: str) -> Path | None:
    """The folder inside the installed package, or in the source checkout (editable install);
    found once (where the package is installed does not change while it runs)."""
    relative = _LAYOUT[name][0]
    packaged = files("paramminer").joinpath(_PACKAGE_DATA, name)
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / relative
    return checkout if checkout.is_dir() else None


def _located(name: str) -> tuple[Path | None, str]:
    """(folder, where the setting came from) for one kind of shipped data."""
    if name == "rules" and os.environ.get(RULES_ENV):
        return Path(os.environ[RULES_ENV]).expanduser(), f"{RULES_ENV} / rules_dir"
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV]).expanduser() / _LAYOUT[name][0], HOME_ENV
    return _bundled(name), "the installed package"


def data_dir(name: str) -> Path:
    """The folder of `name` (rules, warehouse or sample); raises ConfigError when unusable."""
    folder, origin = _located(name)
    pattern = _LAYOUT[name][1]
    if folder is None:
        raise ConfigError(f"paramminer's {name} files are missing from {origin}: "
                          "reinstall paramminer, or set PARAMMINER_HOME to a checkout")
    if not folder.is_dir():
        raise ConfigError(f"{name} folder not found: {folder} (from {origin})")
    if not any(folder.glob(pattern)):
        raise ConfigError(f"{name} folder {folder} (from {origin}) holds no {pattern}")
    return folder


def rules_dir() -> Path:
    """The rules folder in force (rules/*.jsonl and the editable rules/*.csv tables)."""
    return data_dir("rules")


def sql_dir() -> Path:
    """The folder holding the warehouse's schema/ migrations and views/."""
    return data_dir("warehouse")


def sample_dir() -> Path:
    """The demo sample (fixtures/sample: PDFs and metadata.jsonl for the local arXiv)."""
    return data_dir("sample")
