"""`paramminer serve` in a real browser: Debian's headless chromium driven by selenium through
chromedriver (no browser download). Skipped, saying why, when either is not installed."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from paramminer.review import all_decisions, get_item, list_items
from paramminer.warehouse import Warehouse
from paramminer.web.queue import work_order

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed "
                                "(pip install -e '.[dev]')")
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
    reason="headless chromium is not installed (apt-get install chromium chromium-driver)")
CHROME_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--window-size=1400,1000")
PARAMMINER = str(Path(sys.executable).with_name("paramminer"))
RAISED = "2305.90003"  # the sample's MoE paper, flagged by the test: a headline item


def open_browser(profile: Path) -> Any:
    """Headless chromium with a fresh profile, driven through Debian's chromedriver."""
    os.environ["SE_OFFLINE"] = "true"  # selenium must never try to fetch a driver
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROME_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))


@pytest.fixture()
def browser(tmp_path: Path) -> Iterator[Any]:
    driver = open_browser(tmp_path / "profile")
    try:
        yield driver
    finally:
        driver.quit()


def start_server(warehouse: Path, cwd: Path) -> tuple[subprocess.Popen[str], str]:
    """`paramminer serve` as a real process; returns it and its URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARAMMINER_")}
    env["PARAMMINER_DATA_DIR"] = str(cwd / "data")
    process = subprocess.Popen([PARAMMINER, "serve", "-w", str(warehouse), "--by", "tess"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=cwd, env=env)
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+/", line)
    if not match:
        process.kill()
        raise AssertionError(f"no URL from paramminer serve: {line!r} {process.stderr!r}")
    return process, match[0]


def stop_server(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)


@pytest.fixture()
def sample_server(loaded_sample: Any, tmp_path: Path) -> Iterator[tuple[str, Path, list[str]]]:
    """A copy of the ingested sample, with one more headline item flagged (so the queue holds
    a headline and at least one other item whatever the rules flag), served by a real
    `paramminer serve`; yields the URL, the warehouse and the queue in work order."""
    warehouse = tmp_path / "sample.duckdb"
    shutil.copy(loaded_sample.warehouse, warehouse)
    with Warehouse.open(warehouse) as wh:
        wh.con.execute("INSERT INTO flags (paper_id, stage, reason, detail) VALUES (?, "
                       "'reference:browser-test', 'reference_mismatch', 'raised by the test')",
                       [RAISED])
        queue = [i.item_key for i in work_order(list_items(wh.con))]
    assert queue[0] == RAISED and len(queue) >= 2, queue
    process, url = start_server(warehouse, tmp_path)
    try:
        yield url, warehouse, queue
    finally:
        stop_server(process)


def press(driver: Any, key: str) -> None:
    """One key press on the page (not in a text box)."""
    driver.find_element(By.TAG_NAME, "body").send_keys(key)


def wait_for_item(driver: Any, key: str) -> None:
    """Until the page shows item `key` (the page redraws the item: an element read while it
    is replaced is stale, and the wait reads it again)."""
    WebDriverWait(driver, 30, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: d.find_elements(By.ID, "item-key")
        and d.find_element(By.ID, "item-key").text == key)


def image_and_marks(driver: Any) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """The page image's box once loaded, and every mark drawn over it."""
    WebDriverWait(driver, 30).until(lambda d: d.execute_script(
        "const i = document.getElementById('page-image'); return i.complete && i.naturalWidth"))
    image = driver.execute_script(
        "const r = document.getElementById('page-image').getBoundingClientRect();"
        "return {x: r.x, y: r.y, w: r.width, h: r.height};")
    marks = driver.execute_script(
        "return [...document.querySelectorAll('#marks rect')].map(e => {"
        "const r = e.getBoundingClientRect();"
        "return {kind: e.getAttribute('class'), x: r.x, y: r.y, w: r.width, h: r.height};});")
    return image, marks


def decisions(warehouse: Path) -> list[tuple[str, str, str, str]]:
    with Warehouse.open(warehouse, read_only=True) as wh:
        return [(d.item_key, d.action, d.reviewer, d.origin) for d in all_decisions(wh.con)]


def test_review_an_item_by_keys_and_undo(browser: Any,
                                         sample_server: tuple[str, Path, list[str]],
                                         tmp_path: Path) -> None:
    url, warehouse, queue = sample_server
    first, second = queue[0], queue[1]
    browser.get(url + "queue")
    assert f"0 of {len(queue)}" in browser.find_element(By.ID, "progress").text
    press(browser, Keys.ENTER)
    wait_for_item(browser, first)
    image, marks = image_and_marks(browser)
    assert image["w"] > 500 and image["h"] > image["w"]  # a portrait page, drawn large
    kinds = {m["kind"] for m in marks}
    assert kinds == {"evidence", "mention"}, marks
    for mark in marks:  # every mark lies on the page image and has a size
        assert mark["w"] > 2 and mark["h"] > 2
        assert image["x"] <= mark["x"] and mark["x"] + mark["w"] <= image["x"] + image["w"] + 1
        assert image["y"] <= mark["y"] and mark["y"] + mark["h"] <= image["y"] + image["h"] + 1
    first_candidate = browser.find_element(By.ID, "candidate-1").text
    press(browser, "1")
    wait_for_item(browser, second)
    assert decisions(warehouse) == [(first, "choose", "tess", "web")]
    with Warehouse.open(warehouse, read_only=True) as wh:
        chosen = get_item(wh.con, first)
    assert chosen.decided_action == "choose" and not chosen.is_open
    assert f"1 of {len(queue)}" in browser.find_element(By.CLASS_NAME, "where").text
    save_screenshot(browser, tmp_path)
    press(browser, "u")
    wait_for_item(browser, first)
    assert [d[1] for d in decisions(warehouse)] == ["choose", "undo"]
    with Warehouse.open(warehouse, read_only=True) as wh:
        assert get_item(wh.con, first).decision_id is None
    assert "undone by" in browser.find_element(By.ID, "history").text
    assert browser.find_element(By.ID, "candidate-1").text == first_candidate
    press(browser, "v")  # v focuses the value box; Enter sets the value
    value = browser.switch_to.active_element
    assert value.get_attribute("id") == "value"
    value.send_keys("47B/13B", Keys.ENTER)
    wait_for_item(browser, second)
    assert decisions(warehouse)[-1][:2] == (first, "set")
    with Warehouse.open(warehouse, read_only=True) as wh:
        typed = get_item(wh.con, first)
    assert (typed.decided_value, typed.decided_active) == (47 * 10**9, 13 * 10**9)


def save_screenshot(driver: Any, tmp_path: Path) -> None:
    """The item page as a PNG; also into $PARAMMINER_SCREENSHOT_DIR when set (for the README)."""
    shot = tmp_path / "review-item.png"
    driver.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    target = os.environ.get("PARAMMINER_SCREENSHOT_DIR")
    if target:
        shutil.copy(shot, Path(target) / "review-item.png")


def build_script_pdf(path: Path) -> Path:
    """A one-page PDF whose title and text hold <script> tags (a PDF is untrusted input)."""
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=letter)
    pdf.setTitle("Evil")
    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(72, 720, "<script>window.pwned=1</script>EvilNet: A Study")
    pdf.setFont("Helvetica", 11)
    lines = ["Abstract", "We introduce EvilNet <script>window.pwned=2</script>, and our model",
             "EvilNet has 7 billion parameters. A smaller EvilNet-S has 1.3 billion parameters.",
             "<img src=x onerror=\"window.pwned=3\"> is how the authors end the abstract."]
    for number, line in enumerate(lines):
        pdf.drawString(72, 680 - 16 * number, line)
    pdf.showPage()
    pdf.save()
    return path


def test_script_in_a_pdf_is_shown_as_text(browser: Any, tmp_path: Path) -> None:
    pdfs = tmp_path / "pdfs"
    pdfs.mkdir()
    build_script_pdf(pdfs / "evilnet.pdf")
    warehouse = tmp_path / "evil.duckdb"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARAMMINER_")}
    env |= {"PARAMMINER_DATA_DIR": str(tmp_path / "data"), "PARAMMINER_WORKERS": "1"}
    done = subprocess.run([PARAMMINER, "ingest", "-w", str(warehouse), str(pdfs)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    process, url = start_server(warehouse, tmp_path)
    try:
        browser.get(url + "item/evilnet")
        wait_for_item(browser, "evilnet")
        assert "<script>window.pwned=1</script>" in browser.find_element(By.ID, "title").text
        evidence = " ".join(e.text for e in browser.find_elements(By.CSS_SELECTOR, ".evidence"))
        assert "<script>window.pwned=2</script>" in evidence
        assert browser.execute_script("return typeof window.pwned") == "undefined"
        assert not browser.find_elements(By.CSS_SELECTOR, "main script, main img[src='x']")
        image, marks = image_and_marks(browser)
        assert marks and image["w"] > 0
    finally:
        stop_server(process)
