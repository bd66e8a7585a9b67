"""The reviewer's workload in `paramminer serve`, measured in a real browser on a warehouse.

Starts `paramminer serve` on a copy of the warehouse (default: the bundled sample, ingested
into a temporary folder), opens the queue in headless chromium (Debian's, via chromedriver)
and resolves every open item with one key (candidate 1), as a reviewer who agrees with the
first candidate would. Prints keystrokes and seconds per resolved item (the app's share: from
the key press to the next item shown with its page image; reading time is the reviewer's),
the time to show an item (page render cold and cached, and a whole item page), and the queue
size per paper. Nothing is asserted; numbers depend on the machine.

    python bench/review_web.py                      # the bundled sample
    python bench/review_web.py --warehouse data/paramminer.duckdb --limit 20
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from paramminer.config import Settings  # noqa: E402
from paramminer.ingest import discover, ingest  # noqa: E402
from paramminer.pdfpage import find_pdf, render_png  # noqa: E402
from paramminer.review import list_items  # noqa: E402
from paramminer.warehouse import Warehouse  # noqa: E402
from test_web_browser import (  # noqa: E402
    By,
    Keys,
    open_browser,
    press,
    start_server,
    stop_server,
    wait_for_item,
)


def sample_warehouse(folder: Path) -> Path:
    """The bundled sample ingested (one worker) into `folder`."""
    settings = Settings(data_dir=folder / "data", workers=1)
    items, _ = discover([ROOT / "fixtures" / "sample"])
    with Warehouse.open(settings.warehouse_path) as warehouse:
        ingest(items, warehouse, settings)
    return settings.warehouse_path


def queue_per_paper(warehouse: Path) -> Counter[str]:
    with Warehouse.open(warehouse, read_only=True) as wh:
        return Counter(item.paper_id for item in list_items(wh.con))


def render_times(warehouse: Path, pdf_dir: Path, per_paper: int) -> tuple[float, float]:
    """Median and maximum seconds to render a page (the first `per_paper` pages of each paper;
    0: all)."""
    times = []
    with Warehouse.open(warehouse, read_only=True) as wh:
        papers = [row[0] for row in wh.con.execute("SELECT paper_id FROM papers").fetchall()]
        pdfs = [find_pdf(wh.con, p, pdf_dir, (ROOT, warehouse.parent)) for p in papers]
    for pdf in pdfs:
        for page in range(1, (min(per_paper, pdf.n_pages) or pdf.n_pages) + 1):
            started = time.perf_counter()
            render_png(pdf, page)
            times.append(time.perf_counter() - started)
    return statistics.median(times), max(times)


def image_ready(driver: object) -> bool:
    return bool(driver.execute_script(  # type: ignore[attr-defined]
        "const i = document.getElementById('page-image');"
        "return !i || (i.complete && i.naturalWidth > 0)"))


def run(warehouse: Path, limit: int, render_pages: int) -> None:
    per_paper = queue_per_paper(warehouse)
    open_items = sum(per_paper.values())
    with Warehouse.open(warehouse, read_only=True) as wh:
        papers = wh.con.execute("SELECT count(*) FROM papers").fetchone()[0]  # type: ignore[index]
    work = Path(tempfile.mkdtemp(prefix="review-bench-"))
    copy = work / "w.duckdb"
    shutil.copy(warehouse, copy)
    process, url = start_server(copy, work)
    driver = open_browser(work / "profile")
    keys = 0
    per_item: list[float] = []
    first_show: float | None = None
    try:
        started = time.perf_counter()
        driver.get(url + "queue")
        press(driver, Keys.ENTER)
        keys += 1
        while keys - 1 < min(limit, open_items):
            key = driver.find_element(By.ID, "item-key").text
            wait_for_item(driver, key)
            while not image_ready(driver):
                time.sleep(0.005)
            now = time.perf_counter()
            if first_show is None:
                first_show = now - started
            else:
                per_item.append(now - started)
            started = now
            press(driver, "1")
            keys += 1
            deadline = time.time() + 60
            while time.time() < deadline:
                if (driver.find_elements(By.ID, "empty")
                        or (driver.find_elements(By.ID, "item-key")
                            and driver.find_element(By.ID, "item-key").text != key)):
                    break
                time.sleep(0.005)
            if driver.find_elements(By.ID, "empty"):
                per_item.append(time.perf_counter() - started)
                break
    finally:
        driver.quit()
        stop_server(process)
        shutil.rmtree(work, ignore_errors=True)
    median, slowest = render_times(warehouse, warehouse.parent / "pdfs", render_pages)
    resolved = keys - 1  # every key after Enter resolved one item
    print(f"warehouse: {warehouse} ({papers} papers, {open_items} open items)")
    sizes = Counter(per_paper.values())
    sizes[0] = papers - len(per_paper)
    largest = ", ".join(f"{p} {n}" for p, n in per_paper.most_common(3))
    print(f"queue size per paper: mean {open_items / max(papers, 1):.2f}; papers by open items: "
          + ", ".join(f"{n}: {sizes[n]}" for n in sorted(sizes)) + f"; largest: {largest}")
    print(f"resolved {resolved} items with {keys} keystrokes: "
          f"{(keys - 1) / max(resolved, 1):.2f} per item, plus 1 (Enter) to start")
    if per_item:
        print(f"seconds per resolved item (key press to the next item with its page image): "
              f"median {statistics.median(per_item):.3f}, max {max(per_item):.3f}")
    if first_show is not None:
        print(f"first item shown (queue, Enter, item page with image): {first_show:.3f} s")
    print(f"page render at 1100 px (pypdfium2 + PNG): median {median * 1000:.0f} ms, "
          f"max {slowest * 1000:.0f} ms per page (the server keeps the last 48 pages rendered)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", type=Path, default=None)
    parser.add_argument("--limit", type=int, default=50, help="items to resolve at most")
    parser.add_argument("--render-pages", type=int, default=0,
                        help="pages per paper to time the render of (0: all)")
    args = parser.parse_args()
    if args.warehouse is None:
        folder = Path(tempfile.mkdtemp(prefix="review-sample-"))
        try:
            run(sample_warehouse(folder), args.limit, args.render_pages)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    else:
        run(args.warehouse, args.limit, args.render_pages)


if __name__ == "__main__":
    main()
