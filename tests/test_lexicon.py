"""The lexicon in rules/: every cue row's example and counterexample, known-model matching,
and clear errors for a broken rules folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from paramminer.config import rules_dir
from paramminer.errors import ConfigError
from paramminer.lexicon import KnownModels, load_lexicon

LEXICON = load_lexicon()


@pytest.mark.parametrize("row", LEXICON.cue_rows, ids=lambda r: f"{r['cue']}:{r['example'][:30]}")
def test_cue_row_examples(row: dict[str, str]) -> None:
    cue = LEXICON.cue(row["cue"])
    assert cue.search(row["example"]), row
    if row["counterexample"]:
        assert not cue.search(row["counterexample"]), row


def test_every_cue_row_has_an_example() -> None:
    assert all(row["example"].strip() for row in LEXICON.cue_rows)


@pytest.mark.parametrize(
    ("name", "known"),
    [
        ("LLaMA-65B", "llama"),
        ("llama", "llama"),
        ("GPT-3", "gpt-3"),
        ("GPT3", "gpt-3"),
        ("BERT-Large", "bert"),
        ("Optimus-7B", None),  # not OPT: a known name matches exactly or as "name-"
        ("OPTIMA", None),
        ("Palmyra", None),
        ("", None),
    ],
)
def test_known_models_match_exactly_or_as_a_hyphen_prefix(name: str, known: str | None) -> None:
    models = KnownModels(frozenset({"llama", "gpt-3", "bert", "opt", "palm"}))
    assert models.match(name) == known


def test_missing_table_is_a_clear_error(tmp_path: Path) -> None:
    shutil.copytree(rules_dir(), tmp_path, dirs_exist_ok=True)
    next(tmp_path.glob("cues-v*.csv")).unlink()
    with pytest.raises(ConfigError, match=r"lacks cues-v\*\.csv"):
        load_lexicon(tmp_path)


def test_unknown_list_or_cue_is_an_error() -> None:
    with pytest.raises(ConfigError, match="no word list"):
        LEXICON.word_list("no-such-list")
    with pytest.raises(ConfigError, match="no cue"):
        LEXICON.cue("no-such-cue")


def test_highest_version_wins_and_bad_pattern_is_named(tmp_path: Path) -> None:
    shutil.copytree(rules_dir(), tmp_path, dirs_exist_ok=True)
    cues = next(tmp_path.glob("cues-v*.csv"))
    newer = tmp_path / "cues-v99.csv"
    newer.write_text(cues.read_text() + 'broken,"(unclosed",x,,\n')
    with pytest.raises(ConfigError, match=r"cues-v99\.csv row \d+"):
        load_lexicon(tmp_path)
    newer.write_text(cues.read_text() + "planned,\\bwidgets\\b,some widgets,,\n")
    assert load_lexicon(tmp_path).cue("planned").search("the widgets")
