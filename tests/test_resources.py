"""Where the shipped data is found: the package's copy, a user's rules folder, PARAMMINER_HOME;
a missing or empty folder is a one-line error, never an empty run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import REPO, SAMPLE_DIR
from paramminer import resources
from paramminer.cli import cli
from paramminer.errors import ConfigError
from paramminer.rules import load_rules
from paramminer.warehouse import Warehouse


def test_the_bundled_folders_are_the_repository_ones() -> None:
    for found, folder in ((resources.rules_dir(), "rules"), (resources.sql_dir(), "warehouse"),
                          (resources.sample_dir(), "fixtures/sample")):
        expected = REPO / folder
        names = sorted(p.relative_to(found).as_posix() for p in found.rglob("*") if p.is_file())
        assert names == sorted(p.relative_to(expected).as_posix()
                               for p in expected.rglob("*") if p.is_file())


def test_a_users_rules_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine = tmp_path / "my-rules"
    shutil.copytree(REPO / "rules", mine)
    monkeypatch.setenv(resources.RULES_ENV, str(mine))
    assert resources.rules_dir() == mine
    assert load_rules().rules  # the copy's rules are the ones loaded


def test_toml_rules_dir_reaches_every_loader(tmp_path: Path, clean_env: Path) -> None:
    (clean_env / "empty").mkdir()
    (clean_env / "paramminer.toml").write_text('[paramminer]\nrules_dir = "empty"\n')
    result = CliRunner().invoke(cli, ["ingest", str(SAMPLE_DIR / "2401.90001v1.pdf"), "-j", "1"])
    assert result.exit_code == 2
    assert result.stderr == (
        f"paramminer: error: rules folder {clean_env / 'empty'} (from PARAMMINER_RULES_DIR / "
        "rules_dir) holds no *.jsonl\n")


def test_missing_or_empty_folders_are_errors(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(resources.HOME_ENV, str(tmp_path / "home"))
    with pytest.raises(ConfigError, match=r"warehouse folder not found: .*home/warehouse"):
        resources.sql_dir()
    (tmp_path / "home" / "warehouse" / "schema").mkdir(parents=True)
    with pytest.raises(ConfigError, match=r"holds no schema/\*\.sql"):
        Warehouse.open(tmp_path / "w.duckdb")
    with pytest.raises(ConfigError, match=r"rules folder not found: .*home/rules"):
        load_rules()


def test_python_dash_m(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "paramminer", "--version"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("paramminer, version ")
