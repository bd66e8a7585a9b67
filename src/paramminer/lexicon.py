"""The extractor's knowledge as data: word lists, cue patterns, section keywords and the list of
widely cited model names, read from versioned CSV tables in rules/.

| file | columns | what |
|---|---|---|
| `words-vN.csv` | list, word, note | exact (lower-case) words, grouped into named lists |
| `cues-vN.csv` | cue, pattern, example, counterexample, note | regular expressions, OR-ed per cue |
| `known-models-vN.csv` | name, note | widely cited models (recognises cited work; never a value) |
| `sections-vN.csv` | section, pattern, note | heading keywords -> canonical section, in order |

Of each table the highest version present is read. Every cue row carries an example it must
find and may carry a counterexample it must not; tests run them all.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from paramminer.config import file_version, read_table, rules_dir
from paramminer.errors import ConfigError
from paramminer.keyscan import required_strings

TABLES = ("words", "cues", "known-models", "sections")
_VERSIONED = re.compile(r"^(?P<base>[a-z\-]+)-v(?P<version>\d+)\.csv$")


_NOT_ALNUM = re.compile(r"[^a-z0-9]")


def normalize_name(name: str) -> str:
    """Lower-case letters and digits only: 'GPT-3' -> 'gpt3'."""
    return _NOT_ALNUM.sub("", name.lower())


_SIZE_SUFFIX = re.compile(r"[-_ ]?\d+(?:\.\d+)?[MBTmbt]$")


@dataclass(frozen=True)
class KnownModels:
    """Names of widely cited models, matched exactly or as a `name-` prefix.

    "LLaMA-65B" and "BERT-Large" are known (llama, bert); "Optimus-7B" is not (opt is a
    different name, not a prefix followed by a hyphen).
    """

    names: frozenset[str]  # lower-case, as written ("gpt-3", "llama")

    def match(self, name: str) -> str | None:
        """The known name `name` refers to, or None."""
        lowered = _SIZE_SUFFIX.sub("", name.strip().lower())
        if not lowered:
            return None
        if lowered in self.names:
            return lowered
        ordered, place, first_of = self._index
        found = [first_of.get(normalize_name(lowered), len(ordered))]
        found += [place[lowered[:cut]] for cut, char in enumerate(lowered)  # "known-" prefixes
                  if char == "-" and lowered[:cut] in place]
        first = min(found)  # the first that matches in `names` order, as a scan would find
        return ordered[first] if first < len(ordered) else None

    @cached_property
    def _index(self) -> tuple[tuple[str, ...], dict[str, int], dict[str, int]]:
        """The names in `names` order, each one's place in it, and per normalized name the
        place of the first name that normalizes to it (computed once)."""
        ordered = tuple(self.names)
        first_of: dict[str, int] = {}
        for place, known in enumerate(ordered):
            first_of.setdefault(normalize_name(known), place)
        return ordered, {known: place for place, known in enumerate(ordered)}, first_of


@dataclass(frozen=True)
class Lexicon:
    """Every word list and cue of rules/, loaded once."""

    words: Mapping[str, frozenset[str]]
    cues: Mapping[str, re.Pattern[str]]
    cue_rows: tuple[dict[str, str], ...]
    known_models: KnownModels
    sections: tuple[tuple[str, re.Pattern[str]], ...]
    files: tuple[str, ...]
    fingerprint: str

    def word_list(self, name: str) -> frozenset[str]:
        """A named word list; a missing list is an error in the rules, not an empty set."""
        try:
            return self.words[name]
        except KeyError:
            raise ConfigError(f"rules: no word list {name!r} in words-v*.csv") from None

    def cue(self, name: str) -> re.Pattern[str]:
        """A named cue pattern."""
        try:
            return self.cues[name]
        except KeyError:
            raise ConfigError(f"rules: no cue {name!r} in cues-v*.csv") from None

    @cached_property
    def cue_strings(self) -> dict[str, tuple[str, ...] | None]:
        """Per cue, lower-case ASCII strings one of which every match holds, lower-cased
        (keyscan.required_strings), without those that hold another; None where the pattern
        shows none. cues.CueSearch skips a search on a text that lacks them all."""
        return {name: _least(required_strings(pattern)) for name, pattern in self.cues.items()}


def _least(strings: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """The strings without any that holds another (a text holding it holds the other too)."""
    if strings is None:
        return None
    return tuple(s for s in strings if not any(o != s and o in s for o in strings))


def latest_tables(folder: Path) -> dict[str, Path]:
    """The highest version of each versioned CSV table in `folder`."""
    found: dict[str, tuple[int, Path]] = {}
    for path in folder.glob("*-v*.csv"):
        match = _VERSIONED.match(path.name)
        if match:
            version = int(match["version"])
            if match["base"] not in found or found[match["base"]][0] < version:
                found[match["base"]] = (version, path)
    return {base: path for base, (_, path) in found.items()}


_LEADING_FLAGS = re.compile(r"^\(\?(?P<flags>[aiLmsux]+)\)")


def _scoped(pattern: str) -> str:
    """'(?i)abc' -> '(?i:abc)', so that rows with their own flags can be OR-ed."""
    match = _LEADING_FLAGS.match(pattern)
    if match:
        return f"(?{match['flags']}:{pattern[match.end():]})"
    return f"(?:{pattern})"


def _compile(pattern: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ConfigError(f"rules: bad pattern in {where}: {exc}") from None


def _load(folder: Path) -> Lexicon:
    tables = latest_tables(folder)
    missing = [name for name in TABLES if name not in tables]
    if missing:
        raise ConfigError(f"rules: {folder} lacks {', '.join(f'{m}-v*.csv' for m in missing)}")
    digest = hashlib.sha256()
    for name in TABLES:
        digest.update(tables[name].name.encode() + b"\0" + tables[name].read_bytes())
    words: dict[str, set[str]] = {}
    for _, row in read_table(tables["words"], "word lists"):
        words.setdefault(row["list"].strip(), set()).add(row["word"].strip().lower())
    cue_parts: dict[str, list[str]] = {}
    cue_rows = []
    for number, row in read_table(tables["cues"], "cues"):
        where = f"{tables['cues'].name} row {number}"
        _compile(row["pattern"], where)
        cue_parts.setdefault(row["cue"].strip(), []).append(row["pattern"])
        cue_rows.append(dict(row))
    cues = {
        name: _compile("|".join(_scoped(p) for p in parts), f"cue {name}")
        for name, parts in cue_parts.items()
    }
    known = frozenset(
        row["name"].strip().lower() for _, row in read_table(tables["known-models"], "models")
    )
    sections = tuple(
        (row["section"].strip(), _compile(f"(?i:{row['pattern']})\\b", f"{where} {number}"))
        for number, row in read_table(tables["sections"], "sections")
        for where in [tables["sections"].name + " row"]
    )
    return Lexicon(
        words={k: frozenset(v) for k, v in words.items()},
        cues=cues,
        cue_rows=tuple(cue_rows),
        known_models=KnownModels(known),
        sections=sections,
        files=tuple(sorted(p.name for p in tables.values())),
        fingerprint=digest.hexdigest(),
    )


@lru_cache(maxsize=4)
def _cached(folder: Path, stamp: tuple[int, ...]) -> Lexicon:
    return _load(folder)


def load_lexicon(folder: Path | None = None) -> Lexicon:
    """The lexicon of `folder` (default: the rules folder), re-read when a table changes."""
    folder = folder or rules_dir()
    stamp = tuple(file_version(p) for p in sorted(latest_tables(folder).values()))
    return _cached(folder, stamp)
