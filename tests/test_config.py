"""Settings layers: defaults < paramminer.toml < PARAMMINER_* < flags.

A bad value gives a ConfigError naming the setting.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import SAMPLE_DIR
from paramminer.cli import cli
from paramminer.config import DEFAULT_DATA_DIR, QuerySpec, Settings, load_settings
from paramminer.errors import ConfigError
from paramminer.ingest import discover, ingest
from paramminer.warehouse import Warehouse


def _toml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults(clean_env: Path) -> None:
    settings = load_settings(environ={})
    assert settings == Settings()
    assert settings.data_dir == DEFAULT_DATA_DIR
    assert settings.warehouse_path == Path("data/paramminer.duckdb")
    assert settings.text_cache_dir == Path("data/cache/text")
    assert settings.pdf_store_dir == Path("data/pdfs")
    assert settings.api_delay == 3.0
    assert settings.worker_count == max(1, os.cpu_count() or 1)


def test_layers_in_order(tmp_path: Path) -> None:
    config = _toml(
        tmp_path / "p.toml",
        """
[paramminer]
data_dir = "from-file"
workers = 3
pdf_timeout = 30
api_delay = 1.5
contact = "file@example.org"
""",
    )
    from_file = load_settings(config, environ={})
    assert (from_file.data_dir, from_file.workers, from_file.pdf_timeout) == (
        Path("from-file"),
        3,
        30.0,
    )
    assert from_file.worker_count == 3
    assert from_file.warehouse_path == Path("from-file/paramminer.duckdb")

    env = {"PARAMMINER_WORKERS": "2", "PARAMMINER_PDF_TIMEOUT": "9.5", "PARAMMINER_CONTACT": ""}
    from_env = load_settings(config, environ=env)
    assert (from_env.data_dir, from_env.workers, from_env.pdf_timeout) == (
        Path("from-file"),
        2,
        9.5,
    )
    assert from_env.contact == "file@example.org"  # an empty variable does not count

    flags = load_settings(
        config, {"workers": 1, "pdf_timeout": None, "warehouse": "w.duckdb"}, environ=env
    )
    assert (flags.workers, flags.pdf_timeout, flags.api_delay) == (1, 9.5, 1.5)
    assert flags.warehouse_path == Path("w.duckdb")
    assert flags.text_cache_dir == Path("from-file/cache/text")


def test_top_level_keys_dashes_and_queries(tmp_path: Path) -> None:
    config = _toml(
        tmp_path / "p.toml",
        """
pdf-timeout = 12
cache_dir = "~/pm-cache"

[[query]]
name = "llms"
categories = ["cs.CL", "cs.LG"]
keywords = ["language model"]

[[query]]
keywords = ["parameters"]
""",
    )
    settings = load_settings(config, environ={})
    assert settings.pdf_timeout == 12.0
    assert settings.text_cache_dir == Path("~/pm-cache").expanduser() / "text"
    assert settings.queries == (
        QuerySpec("llms", ("cs.CL", "cs.LG"), ("language model",)),
        QuerySpec("query2", (), ("parameters",)),
    )


def test_config_from_env_and_from_cwd(clean_env: Path) -> None:
    _toml(clean_env / "paramminer.toml", "workers = 5\n")
    assert load_settings(environ={}).workers == 5
    other = _toml(clean_env / "other.toml", "workers = 6\n")
    assert load_settings(environ={"PARAMMINER_CONFIG": str(other)}).workers == 6
    assert load_settings(other, environ={}).workers == 6


@pytest.mark.parametrize(
    ("source", "setting"),
    [
        ({"toml": 'workers = "two"\n'}, "workers"),
        ({"toml": "workers = 2.5\n"}, "workers"),
        ({"toml": "workers = true\n"}, "workers"),
        ({"toml": 'pdf_timeout = "slow"\n'}, "pdf_timeout"),
        ({"toml": "pdf_timeout = 0\n"}, "pdf_timeout"),
        ({"toml": "api_delay = -1\n"}, "api_delay"),
        ({"toml": "bogus_setting = 1\n"}, "bogus_setting"),
        ({"toml": '[[query]]\nname = "q"\n'}, "query 'q'"),
        ({"toml": "query = 3\n"}, "[[query]]"),
        ({"env": {"PARAMMINER_WORKERS": "abc"}}, "PARAMMINER_WORKERS"),
        ({"env": {"PARAMMINER_WORKERS": "-1"}}, "workers"),
        ({"env": {"PARAMMINER_API_DELAY": "soon"}}, "api_delay"),
        ({"flags": {"max_results": "many"}}, "--max-results"),
        ({"flags": {"no_such": 1}}, "no_such"),
    ],
)
def test_bad_value_names_the_setting(
    tmp_path: Path, source: dict[str, object], setting: str
) -> None:
    config = _toml(tmp_path / "p.toml", str(source.get("toml", "")))
    env = source.get("env", {})
    flags = source.get("flags", {})
    assert isinstance(env, dict) and isinstance(flags, dict)
    with pytest.raises(ConfigError) as caught:
        load_settings(config, flags, environ=env)
    assert setting in str(caught.value)
    assert caught.value.exit_code == 2


def test_bad_toml_and_missing_explicit_file(tmp_path: Path) -> None:
    broken = _toml(tmp_path / "broken.toml", "workers = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(broken, environ={})
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "absent.toml", environ={})
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(environ={"PARAMMINER_CONFIG": str(tmp_path / "absent.toml")})


# ---------------------------------------------------------------- the warehouse path via the CLI


def _warehouse_with(path: Path, pdf_name: str, data_dir: Path) -> str:
    """A real warehouse at `path` holding one sample paper; returns that paper's id."""
    settings = Settings(data_dir=data_dir, warehouse=path, workers=1)
    items, _ = discover([SAMPLE_DIR / pdf_name])
    with Warehouse.open(path) as wh:
        report = ingest(items, wh, settings)
    assert len(report.loaded) == 1
    return report.loaded[0]


def test_warehouse_precedence_through_the_cli(clean_env: Path, tmp_path: Path) -> None:
    data = tmp_path / "shared-data"
    ids = {
        "default": _warehouse_with(
            clean_env / "data" / "paramminer.duckdb", "2401.90001v1.pdf", data
        ),
        "file": _warehouse_with(clean_env / "from-file.duckdb", "2203.90002v1.pdf", data),
        "env": _warehouse_with(clean_env / "from-env.duckdb", "2011.90004v1.pdf", data),
        "flag": _warehouse_with(
            clean_env / "from-flag.duckdb", "tern-recommendation-at-scale.pdf", data
        ),
    }
    assert len(set(ids.values())) == 4
    runner = CliRunner()
    no_env: dict[str, str | None] = {}

    def check(label: str, extra: list[str], env: Mapping[str, str | None], path: str) -> None:
        status = runner.invoke(cli, ["status", *extra], env=env)
        assert status.exit_code == 0, status.output
        assert status.stdout.splitlines()[0] == f"warehouse {path}", label
        assert "papers           1" in status.stdout
        export = runner.invoke(cli, ["export", "systems", *extra], env=env)
        assert export.exit_code == 0, export.output
        paper_ids = {line.split(",")[0] for line in export.stdout.splitlines()[1:]}
        assert paper_ids == {ids[label]}, label

    check("default", [], no_env, "data/paramminer.duckdb")
    _toml(clean_env / "paramminer.toml", 'warehouse = "from-file.duckdb"\n')
    check("file", [], no_env, "from-file.duckdb")
    env = {"PARAMMINER_WAREHOUSE": "from-env.duckdb"}
    check("env", [], env, "from-env.duckdb")
    check("flag", ["--warehouse", "from-flag.duckdb"], env, "from-flag.duckdb")
    check("flag", ["-w", "from-flag.duckdb"], env, "from-flag.duckdb")
    # the file named by --config also beats the default, and loses to the environment
    _toml(clean_env / "alt.toml", 'warehouse = "from-flag.duckdb"\n')
    alt = runner.invoke(cli, ["--config", "alt.toml", "status"], env=no_env)
    assert alt.stdout.splitlines()[0] == "warehouse from-flag.duckdb"
    alt_env = runner.invoke(cli, ["-c", "alt.toml", "status"], env=env)
    assert alt_env.stdout.splitlines()[0] == "warehouse from-env.duckdb"


def test_cli_reports_bad_settings_in_one_line(clean_env: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["status"], env={"PARAMMINER_WORKERS": "abc"})
    assert result.exit_code == 2
    assert result.stderr.startswith("paramminer: error: PARAMMINER_WORKERS: workers must be")
    assert result.stderr.count("\n") == 1 and "'abc'" in result.stderr
    missing = runner.invoke(cli, ["status"])
    assert missing.exit_code == 1
    assert "no warehouse at data/paramminer.duckdb" in missing.stderr
    absent = runner.invoke(cli, ["--config", "absent.toml", "status"])
    assert absent.exit_code == 2
    assert "config file not found: absent.toml" in absent.stderr
