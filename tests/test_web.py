"""`paramminer serve` over real HTTP: queue order and filters, decisions through review.py,
two reviewers on one item, the guards (Host, token, cross-site POSTs, escaping, page routes),
locating evidence on sample PDF pages, and the report page with its data credits."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from paramminer.config import Settings
from paramminer.pdfpage import find_pdf, locate, render_png
from paramminer.review import all_decisions, decide, get_item, list_items
from paramminer.warehouse import Warehouse
from paramminer.web.app import ServeOptions, make_server
from paramminer.web.queue import work_order
from paramminer.web.security import Guard
from test_review import ACCURACY, TERN_2M, seed_warehouse

PARAMMINER = str(Path(sys.executable).with_name("paramminer"))
FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@contextmanager
def serving(warehouse: Path, pdf_dir: Path | None = None, **extra: object) -> Iterator[str]:
    """A real server on a free loopback port, in a thread; yields its URL."""
    options = ServeOptions(warehouse, pdf_dir or warehouse.parent / "pdfs", "tess",
                           resamples=50, **extra)  # type: ignore[arg-type]
    server, url = make_server(options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
        server.app.close()


def form_token(client: httpx.Client, path: str = "/queue") -> str:
    match = FORM_TOKEN.search(client.get(path).text)
    assert match, "no form token on the page"
    return match[1]


@pytest.fixture()
def seeded(tmp_path: Path) -> Path:
    return seed_warehouse(tmp_path / "paramminer.duckdb")


@pytest.fixture()
def sample_copy(loaded_sample: object, tmp_path: Path) -> Path:
    """A private copy of the ingested sample (PDFs found at their absolute source paths)."""
    target = tmp_path / "sample.duckdb"
    shutil.copy(loaded_sample.warehouse, target)  # type: ignore[attr-defined]
    return target


def test_work_order_puts_headlines_and_urgent_reasons_first(seeded: Path) -> None:
    with Warehouse.open(seeded, read_only=True) as wh:
        ordered = [i.item_key for i in work_order(list_items(wh.con))]
    assert ordered == ["tern", "2305.90003", "2502.90005", ACCURACY, TERN_2M]


def test_queue_page_filters_and_counts(seeded: Path) -> None:
    with serving(seeded) as url, httpx.Client(base_url=url) as client:
        page = client.get("/queue").text
        keys = re.findall(r'<td><a href="/item/[^"]+">([^<]+)</a></td>', page)
        assert keys == ["tern", "2305.90003", "2502.90005", ACCURACY, TERN_2M]
        assert "<b>0 of 5</b> decided" in page
        only = client.get("/queue", params={"reason": "own_vs_cited"}).text
        assert re.findall(r'<td><a href="/item/[^"]+">([^<]+)</a></td>', only) == ["tern"]
        vision = client.get("/queue", params={"domain": "Recommendation"}).text
        assert re.findall(r'<td><a href="/item/[^"]+">([^<]+)</a></td>', vision) == [
            "tern", TERN_2M]
        assert client.get("/queue", params={"reason": "nonsense"}).status_code == 400
        with Warehouse.open(seeded) as wh:
            decide(wh, "tern", "accept", reviewer="ann")
        assert "<b>1 of 5</b> decided" in client.get("/queue").text


def test_decisions_go_through_the_review_library(seeded: Path) -> None:
    with serving(seeded) as url, httpx.Client(base_url=url) as client:
        token = form_token(client)
        item = client.get("/item/tern").text
        assert "own_vs_cited" in item and "1.2B (p1) may also be the paper" in item
        answer = client.post("/item/tern/decide", data={
            "form_token": token, "seen": "", "choice": "choose:3", "note": "p1 abstract"})
        assert answer.status_code == 303
        decided = answer.headers["location"]
        assert decided.startswith("/item/2305.90003?last=")  # the next item in work order
        with Warehouse.open(seeded, read_only=True) as wh:
            tern = get_item(wh.con, "tern")
            [decision] = all_decisions(wh.con)
        assert (tern.decided_action, tern.decided_value, tern.decided_by) == (
            "choose", 1_200_000_000, "tess")
        assert (decision.origin, decision.note) == ("web", "p1 abstract")
        bad = client.post("/item/2305.90003/decide", data={
            "form_token": token, "seen": "", "choice": "set", "value": "lots"})
        assert bad.status_code == 400 and "not a parameter count" in bad.text
        undo = client.post("/undo", data={"form_token": token,
                                          "decision": str(decision.decision_id)})
        assert (undo.status_code, undo.headers["location"]) == (303, "/item/tern")
        with Warehouse.open(seeded, read_only=True) as wh:
            assert get_item(wh.con, "tern").decision_id is None
            assert [d.action for d in all_decisions(wh.con)] == ["choose", "undo"]


def test_second_reviewer_must_confirm_to_supersede(seeded: Path) -> None:
    with serving(seeded) as url, httpx.Client(base_url=url) as client:
        token = form_token(client)
        assert 'name="seen" value=""' in client.get("/item/tern").text  # what tess saw
        with Warehouse.open(seeded) as wh:  # meanwhile ann decides from the CLI
            first = decide(wh, "tern", "reject", reviewer="ann", note="a dataset size")
        clash = client.post("/item/tern/decide", data={
            "form_token": token, "seen": "", "choice": "accept"})
        assert clash.status_code == 409
        assert "<b>ann</b> decided <b>reject" in clash.text and "a dataset size" in clash.text
        assert f'name="seen" value="{first.decision_id}"' in clash.text
        with Warehouse.open(seeded, read_only=True) as wh:
            assert get_item(wh.con, "tern").decision_id == first.decision_id  # nothing written
        confirmed = client.post("/item/tern/decide", data={
            "form_token": token, "seen": str(first.decision_id), "choice": "accept"})
        assert confirmed.status_code == 303
        with Warehouse.open(seeded, read_only=True) as wh:
            tern = get_item(wh.con, "tern")
        assert (tern.decided_action, tern.decided_by, tern.decided_value) == (
            "accept", "tess", 340_000_000)


def test_cross_site_posts_and_foreign_hosts_are_refused(seeded: Path) -> None:
    with serving(seeded) as url, httpx.Client(base_url=url) as client:
        token = form_token(client)
        form = {"form_token": token, "seen": "", "choice": "accept"}
        no_token = client.post("/item/tern/decide", data={**form, "form_token": "forged"})
        assert no_token.status_code == 403
        other_origin = client.post("/item/tern/decide", data=form,
                                   headers={"Origin": "http://evil.example"})
        assert other_origin.status_code == 403
        cross_site = client.post("/item/tern/decide", data=form,
                                 headers={"Sec-Fetch-Site": "cross-site"})
        assert cross_site.status_code == 403
        rebound = client.get("/queue", headers={"Host": "evil.example"})
        assert rebound.status_code == 421
        with Warehouse.open(seeded, read_only=True) as wh:
            assert all_decisions(wh.con) == []
        same_site = client.post("/item/tern/decide", data=form, headers={
            "Origin": url.rstrip("/"), "Sec-Fetch-Site": "same-origin"})
        assert same_site.status_code == 303


def test_token_is_required_on_every_request(seeded: Path) -> None:
    with serving(seeded, token="s3cret-token") as url:
        assert url.endswith("/?token=s3cret-token")
        base = url.split("?")[0]
        with httpx.Client(base_url=base) as client:
            assert client.get("/queue").status_code == 401
            assert client.get("/static/app.css").status_code == 401
            assert client.get("/queue", headers={"Authorization": "Bearer wrong"}
                              ).status_code == 401
            assert client.get("/queue", headers={"Authorization": "Bearer s3cret-token"}
                              ).status_code == 200
            entry = client.get("/queue", params={"token": "s3cret-token"})
            assert entry.status_code == 303 and entry.headers["location"] == "/queue"
            assert "HttpOnly" in entry.headers["set-cookie"]
            assert client.get("/queue").status_code == 200  # the cookie carries it now


def test_guard_off_loopback() -> None:
    guard = Guard("192.0.2.7", 8000, "t0ken")
    assert not guard.loopback and guard.host_ok("anything:1")
    assert not guard.token_ok({}, {}, None)
    assert guard.token_ok({"paramminer_token": "t0ken"}, {}, None)
    assert Guard("::1", 8000, None).loopback and Guard("localhost", 1, None).loopback


def test_strings_from_pdfs_are_escaped(seeded: Path) -> None:
    attack = "<script>alert('title')</script><img src=x onerror=alert(1)>"
    with Warehouse.open(seeded) as wh:
        wh.con.execute("UPDATE papers SET title = ? WHERE paper_id = 'tern'", [attack])
        wh.con.execute("UPDATE candidates SET evidence = ? WHERE candidate_id = 't340'",
                       ["Tern has 340M parameters <script>alert('evidence')</script>"])
        wh.con.execute("UPDATE flags SET detail = ? WHERE paper_id = 'tern'", ['"><b>x</b>'])
    with serving(seeded) as url, httpx.Client(base_url=url) as client:
        for page in (client.get("/item/tern"), client.get("/queue")):
            assert "<script>alert" not in page.text and "<img src=x" not in page.text
            assert "&lt;script&gt;alert(" in page.text
            assert "script-src 'self'" in page.headers["content-security-policy"]
        assert "&#34;&gt;&lt;b&gt;x&lt;/b&gt;" in client.get("/item/tern").text


def test_page_images_only_for_known_papers_and_pages(sample_copy: Path, tmp_path: Path) -> None:
    with serving(sample_copy, tmp_path / "no-store") as url, httpx.Client(base_url=url) as c:
        image = c.get("/page/2401.90001/2.png")
        assert image.status_code == 200 and image.content[:8] == PNG_MAGIC
        assert image.headers["content-type"] == "image/png"
        for path in ("/page/2401.90001/5.png", "/page/2401.90001/0.png", "/page/nope/1.png",
                     "/page/..%2F..%2Fetc%2Fpasswd/1.png", "/page/2401.90001/1.jpg"):
            assert c.get(path).status_code == 404, path


def test_item_page_marks_the_evidence_on_the_page(sample_copy: Path, tmp_path: Path) -> None:
    """The Halcyon paper's headline item: its page with marks, and Table 1's rows as rows."""
    with Warehouse.open(sample_copy, read_only=True) as wh:
        suggested_page = get_item(wh.con, "2401.90001").page
    with serving(sample_copy, tmp_path / "no-store") as url, httpx.Client(base_url=url) as c:
        page = c.get("/item/2401.90001").text
        assert f'src="/page/2401.90001/{suggested_page}.png?v=' in page
        marks = re.findall(r'<rect class="(\w+)" x="([\d.]+)" y="([\d.]+)"', page)
        assert {kind for kind, _, _ in marks} == {"evidence", "mention"}
        assert 'href="https://arxiv.org/abs/2401.90001v1"' in page
        rows = re.findall(r'id="candidate-(\d)">(?:(?!</button>).)*?<span class="facts">p(\d+)'
                          r'[^<]*table row</span>\s*<span class="evidence">(.*?)</span>', page,
                          re.S)
        assert rows, "the Halcyon paper's Table 1 gives table-row candidates"
        for number, page_number, evidence in rows:  # each shows its row, not the whole table
            text = re.sub("<[^>]+>", "", evidence)
            assert "<mark>" in evidence and len(text) < 80
            assert re.match(r"Halcyon-[\d.]+B [\d.]+B \d+ \d+ \d+ [\d.]+e-4$", text), text
            shown = c.get("/item/2401.90001", params={"show": number}).text
            assert f'src="/page/2401.90001/{page_number}.png?v=' in shown


def test_locate_finds_sentences_and_rows(loaded_sample: object) -> None:
    warehouse = loaded_sample.warehouse  # type: ignore[attr-defined]
    with Warehouse.open(warehouse, read_only=True) as wh:
        pdf = find_pdf(wh.con, "2401.90001", Path("/nonexistent"), ())
        text = wh.con.execute("SELECT text FROM pages WHERE sha256 = ? AND page = 2",
                              [pdf.sha256]).fetchone()[0]
    sentence = locate(pdf, 1, "We introduce Halcyon, a family of models ranging from 1.3B to "
                      "70B parameters.", "70B")
    assert sentence.how == "evidence" and len(sentence.mention) == 1
    number = sentence.mention[0]
    assert any(b.x0 <= number.x0 and number.x1 <= b.x1 + 1e-6 and b.y0 <= number.y0 + 1e-6
               for b in sentence.evidence)
    row = locate(pdf, 2, "Halcyon-7B 7B 32 4096 32", "7B", page_text=text,
                 char_start=text.index("Halcyon-7B 7B") + 11, table_row=True)
    assert row.row_text.startswith("Halcyon-7B 7B 32 4096 32")
    assert len(row.evidence) >= 1 and row.mention
    assert row.mention[0].x0 > 0.3  # the size column, not the 7B inside the model name
    missing = locate(pdf, 1, "nothing like this is on the page", "99Q")
    assert (missing.how, missing.evidence, missing.mention) == ("none", (), ())
    assert render_png(pdf, 1, 400)[:8] == PNG_MAGIC


def test_a_moved_pdf_is_reported_not_served(sample_copy: Path, tmp_path: Path) -> None:
    with Warehouse.open(sample_copy) as wh:
        wh.con.execute("UPDATE documents SET source_path = '/gone/tern.pdf' "
                       "WHERE paper_id = 'tern-recommendation-at-scale'")
    with serving(sample_copy, tmp_path / "no-store") as url, httpx.Client(base_url=url) as c:
        assert c.get("/page/tern-recommendation-at-scale/1.png").status_code == 404
        page = c.get("/item/tern-recommendation-at-scale")
        assert page.status_code == 200
        assert "its PDF is no longer at /gone/tern.pdf" in page.text


def epoch_like_csv(path: Path) -> Path:
    """A tiny table in Epoch AI's export format (its distinctive columns included)."""
    rows = ["Model,Publication date,Parameters,Domain,Notability criteria,"
            "Training compute (FLOP)"]
    rows += [f"M{i},{2016 + i // 3}-0{1 + i % 9}-01,{10 ** (7 + i / 4):.0f},Language,,"
             for i in range(24)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_report_page_credits_the_data(seeded: Path, tmp_path: Path) -> None:
    from paramminer.reference import Provenance, import_reference

    with Warehouse.open(seeded) as wh:
        import_reference(wh, epoch_like_csv(tmp_path / "notable.csv"), "epoch",
                         Provenance(data_date=__import__("datetime").date(2026, 3, 30)))
    with serving(seeded) as url, httpx.Client(base_url=url, timeout=120) as client:
        page = client.get("/report")
        assert page.status_code == 200
        credit = ("Data: Epoch AI, &#39;Data on AI Models&#39; (notable.csv, data of "
                  "2026-03-30), CC-BY 4.0, https://epoch.ai/data/ai-models")
        assert credit in page.text
        charts = re.findall(r'<img src="/report/file/([\w.-]+\.png)"', page.text)
        assert "size_over_time-epoch.png" in charts and "gap_counts-extracted.png" in charts
        for name in charts:
            answer = client.get(f"/report/file/{name}")
            assert answer.status_code == 200 and answer.content[:8] == PNG_MAGIC
        interactive = client.get("/report/file/report.html")
        assert interactive.status_code == 200
        assert "Data: Epoch AI, &#x27;Data on AI Models&#x27; (notable.csv" in interactive.text
        assert client.get("/report/file/..%2Fsecrets").status_code == 404


def test_serve_command_prints_its_url_and_stops(seeded: Path, tmp_path: Path) -> None:
    process = subprocess.Popen(
        [PARAMMINER, "serve", "-w", str(seeded), "--by", "tess"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:(\d+)/)", line)
        assert match, line
        answer = httpx.get(match[1] + "queue", timeout=30)
        assert answer.status_code == 200 and "reviewer: <b>tess</b>" in answer.text
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "stopped" in out
    missing = subprocess.run([PARAMMINER, "serve", "-w", str(tmp_path / "none.duckdb")],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "no warehouse at" in missing.stderr
    assert not (tmp_path / "none.duckdb").exists()


def test_settings_pdf_store_is_searched_first(tmp_path: Path, loaded_sample: object) -> None:
    """A harvested paper's PDF is found in the content-addressed store by its sha256."""
    from paramminer.fetch import store_pdf

    settings = Settings(data_dir=tmp_path)
    source = Path(__file__).resolve().parent.parent / "fixtures" / "sample" / "2401.90001v1.pdf"
    _, stored = store_pdf(source.read_bytes(), settings.pdf_store_dir)
    with Warehouse.open(loaded_sample.warehouse, read_only=True) as wh:  # type: ignore[attr-defined]
        assert find_pdf(wh.con, "2401.90001", settings.pdf_store_dir).path == stored


def test_squeeze_keeps_letters_and_digits_with_their_offsets() -> None:
    from paramminer.pdfpage import squeeze

    text, index = squeeze("Our ﬁne-tuned Halcyon-7B: 1.5×10⁹ params")
    assert text == "ourfinetunedhalcyon7b15109params"
    assert len(index) == len(text)
    assert index[3] == index[4] == 4  # "ﬁ" is one character of the page, two letters here
    assert text[index.index(32)] == "9"  # the superscript "⁹" (character 32) is the digit 9
