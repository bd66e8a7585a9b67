"""The fixture builder: deterministic, committed output up to date, stamps and bad inputs right."""

import hashlib
import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest
from pypdf import PasswordType, PdfReader
from pypdf.errors import EmptyFileError, FileNotDecryptedError, PdfReadError
from pypdf.generic import ContentStream

BUILDER_PATH = Path(__file__).resolve().parent.parent / "fixtures" / "build_fixtures.py"
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
STAMP = re.compile(
    r"arXiv:(?P<id>\d{4}\.\d{5})v(?P<version>\d+)\s+\[(?P<category>[\w.\-]+)\]\s+"
    r"(?P<day>\d{1,2}) (?P<month>[A-Z][a-z]{2}) (?P<year>\d{4})"
)
TEXT_SHOWING = {b"Tj", b"TJ", b"'", b'"'}
METADATA_KEYS = {
    "id",
    "version",
    "title",
    "summary",
    "authors",
    "categories",
    "primary_category",
    "published",
    "updated",
    "comment",
    "journal_ref",
    "doi",
    "pdf",
}


def _load_builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("paramminer_build_fixtures", BUILDER_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bf = _load_builder()


def _hashes(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def _squashed_pages(path: Path) -> list[str]:
    return [re.sub(r"\s+", " ", page.extract_text()) for page in PdfReader(path).pages]


def _metadata(folder: Path) -> list[dict]:
    lines = (folder / "metadata.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("fresh")
    bf.build_sample(root / "sample")
    bf.build_sample_v2(root / "sample-v2")
    return {"sample": root / "sample", "sample-v2": root / "sample-v2"}


@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return bf.build_bad_inputs(tmp_path_factory.mktemp("bad"))


# --------------------------------------------------------------------------- determinism


def test_build_is_deterministic(fresh: dict[str, Path], tmp_path: Path) -> None:
    bf.build_sample(tmp_path / "sample")
    bf.build_sample_v2(tmp_path / "sample-v2")
    for name in ("sample", "sample-v2"):
        assert _hashes(tmp_path / name) == _hashes(fresh[name])


@pytest.mark.parametrize("name", ["sample", "sample-v2"])
def test_committed_fixtures_equal_a_fresh_build(fresh: dict[str, Path], name: str) -> None:
    committed = bf.FIXTURES / name
    assert committed.is_dir(), f"fixtures/{name} missing: run python fixtures/build_fixtures.py"
    assert _hashes(committed) == _hashes(fresh[name]), (
        f"fixtures/{name} differs from a fresh build: never edit fixtures by hand; "
        "change fixtures/build_fixtures.py and run it"
    )


# --------------------------------------------------------------------------- the sample


def test_sample_has_six_small_papers_five_stamped() -> None:
    pdfs = sorted(bf.SAMPLE_DIR.glob("*.pdf"))
    assert len(pdfs) == 6
    served = {line["pdf"] for line in _metadata(bf.SAMPLE_DIR)}
    assert len(served) == 5
    unserved = [p for p in pdfs if p.name not in served]
    assert [p.name for p in unserved] == ["tern-recommendation-at-scale.pdf"]
    for pdf in pdfs:
        assert pdf.stat().st_size < 60_000, pdf.name
        assert 3 <= len(PdfReader(pdf).pages) <= 5, pdf.name


@pytest.mark.parametrize("folder", [bf.SAMPLE_DIR, bf.SAMPLE_V2_DIR], ids=["sample", "v2"])
def test_metadata_lines_match_the_pdf_stamps(folder: Path) -> None:
    lines = _metadata(folder)
    assert lines
    for line in lines:
        assert set(line) == METADATA_KEYS
        pdf = folder / line["pdf"]
        assert pdf.is_file(), line["pdf"]
        assert pdf.name == f"{line['id']}v{line['version']}.pdf"
        match = STAMP.search(PdfReader(pdf).pages[0].extract_text())
        assert match, f"{pdf.name}: no arXiv stamp on page 1"
        assert match["id"] == line["id"]
        assert int(match["version"]) == line["version"]
        assert match["category"] == line["primary_category"]
        assert line["primary_category"] in line["categories"]
        month = MONTHS.index(match["month"]) + 1
        stamp_date = f"{match['year']}-{month:02d}-{int(match['day']):02d}"
        assert stamp_date == line["updated"][:10], "the stamp shows this version's date"
        yymm = line["id"][:4]
        assert line["published"][:7] == f"20{yymm[:2]}-{yymm[2:]}", "id YYMM = v1 month"
        assert line["published"] <= line["updated"]
        assert line["summary"] and line["title"] and line["authors"]


def test_v2_is_the_same_paper_with_a_new_size() -> None:
    (v1,) = [m for m in _metadata(bf.SAMPLE_DIR) if m["id"] == "2401.90001"]
    (v2,) = _metadata(bf.SAMPLE_V2_DIR)
    assert (v2["id"], v2["version"], v1["version"]) == ("2401.90001", 2, 1)
    assert v2["published"] == v1["published"] and v2["updated"] > v1["updated"]
    text_v1 = " ".join(_squashed_pages(bf.SAMPLE_DIR / v1["pdf"]))
    text_v2 = " ".join(_squashed_pages(bf.SAMPLE_V2_DIR / v2["pdf"]))
    assert "Halcyon-34B" not in text_v1
    assert "Halcyon-34B 34B 48 8192 64 1.5e-4" in text_v2


def test_unstamped_paper_has_only_a_venue_line() -> None:
    pages = _squashed_pages(bf.SAMPLE_DIR / "tern-recommendation-at-scale.pdf")
    assert "arXiv:" not in pages[0]
    assert all("Published as a conference paper at ICLR 2022" in page for page in pages)


@pytest.mark.parametrize(
    "statement",
    [
        "We introduce Halcyon, a family of models ranging from 1.3B to 70B parameters",
        "GPT-3 (175B)",
        "PaLM 540B",
        "BERT-Large (340M parameters)",
        "Model Params (M) FLOPs (G)",
        "LatticeNet-L has 86.4M parameters",
        "ResNet-50 has 25.6M parameters",
        "Kestrel-MoE has 47B total parameters, of which 13B are active per token",
        "Marlin-XL has 1.5×10^9 parameters",
        "1.2 billion weights are non-embedding parameters",
        "we fine-tune a 7B-parameter LLaMA model",
        "BERT-Base (110M)",
        "Our model has 340 million parameters",
    ],
)
def test_size_statements_survive_pypdf(statement: str) -> None:
    texts = [" ".join(_squashed_pages(p)) for p in bf.SAMPLE_DIR.glob("*.pdf")]
    assert any(statement in text for text in texts), statement


def test_table_rows_come_out_one_per_line() -> None:
    reader = PdfReader(bf.SAMPLE_DIR / "2203.90002v1.pdf")
    lines = {line.strip() for page in reader.pages for line in page.extract_text().splitlines()}
    assert "Model Params (M) FLOPs (G) Throughput (img/s) Top-1 (%)" in lines
    assert "LatticeNet-L 86.4 15.9 301 85.1" in lines


@pytest.mark.parametrize("folder", [bf.SAMPLE_DIR, bf.SAMPLE_V2_DIR], ids=["sample", "v2"])
def test_expected_json_evidence_is_on_the_stated_page(folder: Path) -> None:
    expectations = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    assert {e["file"] for e in expectations} == {p.name for p in folder.glob("*.pdf")}
    for exp in expectations:
        pages = _squashed_pages(folder / exp["file"])
        for group in ("systems", "cited", "other_own_counts"):
            for item in exp.get(group, []):
                assert item["evidence"] in pages[item["page"] - 1], (exp["file"], item)
        headlines = [s["system"] for s in exp["systems"] if s["is_headline"]]
        assert headlines == ([exp["headline"]] if exp["headline"] else [])
        for system in exp["systems"]:
            active = system["parameters_active"]
            assert active is None or 0 < active < system["parameters"]


def test_expected_md_names_every_paper() -> None:
    text = (bf.SAMPLE_DIR / "EXPECTED.md").read_text(encoding="utf-8")
    for pdf in [*bf.SAMPLE_DIR.glob("*.pdf"), *bf.SAMPLE_V2_DIR.glob("*.pdf")]:
        assert f"## {pdf.name}:" in text


# --------------------------------------------------------------------------- bad inputs


def test_bad_inputs_are_all_there(bad: dict[str, Path]) -> None:
    assert set(bad) == {
        "not_a_pdf",
        "empty",
        "truncated",
        "encrypted",
        "image_only",
        "garbage_after_header",
    }
    for stem, path in bad.items():
        assert path.name == f"{stem}.pdf" and path.is_file()


def test_not_a_pdf_has_no_header(bad: dict[str, Path]) -> None:
    data = bad["not_a_pdf"].read_bytes()
    assert data and b"%PDF-" not in data
    with pytest.raises(PdfReadError):
        PdfReader(bad["not_a_pdf"], strict=True)


def test_empty_is_empty(bad: dict[str, Path]) -> None:
    assert bad["empty"].stat().st_size == 0
    with pytest.raises(EmptyFileError):
        PdfReader(bad["empty"])


@pytest.mark.parametrize("strict", [False, True])
def test_truncated_is_a_prefix_pypdf_cannot_open(bad: dict[str, Path], strict: bool) -> None:
    whole = bf.pdf_bytes(bf.halcyon(1))
    data = bad["truncated"].read_bytes()
    assert data.startswith(b"%PDF-") and whole.startswith(data)
    assert 0.35 < len(data) / len(whole) < 0.45
    with pytest.raises(PdfReadError):
        PdfReader(bad["truncated"], strict=strict)


@pytest.mark.parametrize("strict", [False, True])
def test_garbage_after_header_cannot_be_opened(bad: dict[str, Path], strict: bool) -> None:
    assert bad["garbage_after_header"].read_bytes().startswith(b"%PDF-1.7")
    with pytest.raises(PdfReadError):
        PdfReader(bad["garbage_after_header"], strict=strict)


def test_encrypted_needs_its_password(bad: dict[str, Path]) -> None:
    reader = PdfReader(bad["encrypted"])
    assert reader.is_encrypted
    expected_v = {"AES-256": 5, "RC4-128": 2}[bf.encryption_algorithm()]
    assert reader.trailer["/Encrypt"]["/V"] == expected_v
    assert reader.decrypt("") == PasswordType.NOT_DECRYPTED
    with pytest.raises(FileNotDecryptedError):
        reader.pages[0].extract_text()
    unlocked = PdfReader(bad["encrypted"])
    assert unlocked.decrypt(bf.ENCRYPTED_PASSWORD) != PasswordType.NOT_DECRYPTED
    assert "arXiv:2401.90001v1" in unlocked.pages[0].extract_text()


def test_image_only_has_pictures_but_no_text(bad: dict[str, Path]) -> None:
    reader = PdfReader(bad["image_only"])
    assert not reader.is_encrypted and len(reader.pages) >= 1
    for page in reader.pages:
        assert page.extract_text().strip() == ""
        operators = {op for _, op in ContentStream(page.get_contents(), reader).operations}
        assert not operators & TEXT_SHOWING, "no text may be drawn"
        assert b"Do" in operators, "the page draws an image XObject"
        xobjects = page["/Resources"]["/XObject"]
        assert any(xobjects[name]["/Subtype"] == "/Image" for name in xobjects)
