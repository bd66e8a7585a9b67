"""Shared test fixtures: repository paths, the bundled sample, the shared corpus, bad inputs.

Every fixture that writes uses tmp_path; nothing here touches data/ or the network.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from paramminer.config import Settings
from paramminer.ingest import IngestReport, discover, ingest
from paramminer.warehouse import Warehouse

REPO = Path(__file__).resolve().parent.parent
SAMPLE_DIR = REPO / "fixtures" / "sample"
BUILDER_PATH = REPO / "fixtures" / "build_fixtures.py"
CORPUS_DIR = REPO.parent / "shared" / "corpus"
BUILDER_MODULE = "paramminer_build_fixtures"  # the name tests/test_fixtures_build.py uses too


def require_corpus() -> Path:
    """The shared corpus folder, or skip the calling test saying where it was looked for."""
    pdfs = CORPUS_DIR / "pdfs"
    if not pdfs.is_dir() or not any(pdfs.glob("*.pdf")):
        pytest.skip(f"shared corpus not found: no PDFs in {pdfs} (a sibling checkout ../shared)")
    return CORPUS_DIR


def load_builder() -> ModuleType:
    """fixtures/build_fixtures.py as a module (it is a script, not part of the package)."""
    if BUILDER_MODULE in sys.modules:
        return sys.modules[BUILDER_MODULE]
    spec = importlib.util.spec_from_file_location(BUILDER_MODULE, BUILDER_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[BUILDER_MODULE] = module
    spec.loader.exec_module(module)
    return module


def build_bad_inputs(out_dir: Path) -> dict[str, Path]:
    """Write the builder's bad PDFs (not_a_pdf, empty, truncated, encrypted, ...) into out_dir."""
    paths: dict[str, Path] = load_builder().build_bad_inputs(out_dir)
    return paths


def source_fingerprint() -> str:
    """Hash of the code, rules and SQL an ingest runs (it changes when someone edits them)."""
    digest = hashlib.sha256()
    roots = (REPO / "src" / "paramminer", REPO / "rules", REPO / "warehouse")
    for path in sorted(p for root in roots for p in root.rglob("*") if p.is_file()):
        if "__pycache__" not in path.parts:
            digest.update(str(path).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def skip_if_source_changed(since: str) -> None:
    """Skip a comparison of two runs when the code changed between them (live edits)."""
    if source_fingerprint() != since:
        pytest.skip(
            "paramminer's code, rules or SQL changed while this test ran; "
            "runs made by different code cannot be compared"
        )


def sample_pdfs() -> list[Path]:
    """The bundled sample PDFs, sorted by name."""
    return sorted(SAMPLE_DIR.glob("*.pdf"))


def isolated_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """os.environ without any PARAMMINER_* setting, plus a private data dir and one worker."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARAMMINER_")}
    env["PARAMMINER_DATA_DIR"] = str(data_dir)
    env["PARAMMINER_WORKERS"] = "1"
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The checkout (holds rules/, warehouse/, fixtures/)."""
    return REPO


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """fixtures/sample: the bundled sample papers and their expected values."""
    assert any(SAMPLE_DIR.glob("*.pdf")), f"no sample PDFs in {SAMPLE_DIR}"
    return SAMPLE_DIR


@pytest.fixture
def corpus_dir() -> Path:
    """../shared/corpus, or the test is skipped with the reason."""
    return require_corpus()


@pytest.fixture(scope="session")
def builder() -> ModuleType:
    """The fixture builder module."""
    return load_builder()


@pytest.fixture
def bad_inputs(tmp_path: Path) -> dict[str, Path]:
    """Freshly built bad PDFs in tmp_path/bad, keyed by stem."""
    return build_bad_inputs(tmp_path / "bad")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with a private data dir (warehouse, text cache) and a single worker."""
    return Settings(data_dir=tmp_path / "data", workers=1)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Run in an empty cwd with no PARAMMINER_* variables set; yields the cwd."""
    for name in list(os.environ):
        if name.startswith("PARAMMINER_"):
            monkeypatch.delenv(name)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    yield cwd


@dataclass(frozen=True)
class LoadedSample:
    """The bundled sample ingested once per session (read it; copy it before changing it)."""

    warehouse: Path
    data_dir: Path  # its text cache holds every sample PDF
    report: IngestReport


@pytest.fixture(scope="session")
def loaded_sample(tmp_path_factory: pytest.TempPathFactory) -> LoadedSample:
    """fixtures/sample ingested (one worker) into a session-wide warehouse, cache cold at start."""
    root = tmp_path_factory.mktemp("loaded-sample")
    settings = Settings(data_dir=root / "data", workers=1)
    items, failures = discover([SAMPLE_DIR])
    assert not failures
    with Warehouse.open(settings.warehouse_path) as warehouse:
        report = ingest(items, warehouse, settings)
    assert not report.failures, report.failures
    return LoadedSample(settings.warehouse_path, settings.data_dir, report)
