"""Proof that a speed change changes no output: the whole worker result on every corpus PDF.

    python bench/identity.py snapshot before.json [FOLDER] [--cache DIR] [--workers 2]
    python bench/identity.py compare before.json [FOLDER] [--cache DIR] [--workers 2]
        [--ignore ruleset]

Runs the ingest worker job (`ingest.process_pdf`: text from the cache, title, mentions,
resolution, systems, flags, candidates, decision, dates, domains) and the extract worker
job (`ingest.reextract_pages` over the same pages) on every PDF of FOLDER, turns each
result into plain JSON, and either writes it (`snapshot`) or compares it with a snapshot
(`compare`: prints each paper that differs, and the first differing path; exit 1 if any).
`--ignore KEY` leaves out every field named KEY when comparing: `--ignore ruleset` compares
a rules change, whose ruleset fingerprint differs on every paper.
Take the snapshot on the base commit, then compare on the branch, with the same text
cache (`--cache`, by default $PARAMMINER_CACHE_DIR or /tmp/pm/cache2) so no PDF is parsed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

# beside the checkout running this script, even when paramminer comes from another one
DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "pdfs"
DEFAULT_CACHE = os.environ.get("PARAMMINER_CACHE_DIR", "/tmp/pm/cache2")


def plain(value: Any) -> Any:
    """`value` as JSON-ready data: dataclasses as dicts, sets sorted, floats exact (repr)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"__type__": type(value).__name__, **fields}
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted((plain(item) for item in value), key=repr)
    if isinstance(value, float):
        return repr(value)
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return repr(value)


def paper_outputs(pdf: str, cache: str) -> tuple[str, Any]:
    """(file name, the plain outputs of both worker jobs on this PDF)."""
    from paramminer.ingest import content_sha256, process_pdf, reextract_pages

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    path = Path(pdf)
    sha = content_sha256(path)
    ingested = process_pdf(str(path), sha, cache, None)
    ingested.parse_seconds = 0.0  # a timing
    ingested.from_cache = True  # the cache's state, not an output
    again = reextract_pages(path.stem, sha, ingested.pages, ingested.title, None)
    return path.name, {"ingest": plain(ingested), "extract": plain(again)}


def corpus_outputs(folder: Path, cache: str, workers: int) -> dict[str, Any]:
    """Outputs of every PDF in `folder`, by file name."""
    pdfs = [str(p) for p in sorted(folder.glob("*.pdf"))]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return dict(pool.map(paper_outputs, pdfs, [cache] * len(pdfs), chunksize=4))


def first_difference(before: Any, after: Any, where: str = "") -> str:
    """The path of the first place where two plain values differ ('' if equal)."""
    if type(before) is not type(after):
        return where or "/"
    if isinstance(before, dict):
        for key in sorted(set(before) | set(after)):
            if key not in before or key not in after:
                return f"{where}/{key}"
            found = first_difference(before[key], after[key], f"{where}/{key}")
            if found:
                return found
        return ""
    if isinstance(before, list):
        for index, (left, right) in enumerate(zip(before, after, strict=False)):
            found = first_difference(left, right, f"{where}[{index}]")
            if found:
                return found
        return f"{where} (length {len(before)} -> {len(after)})" if len(before) != len(
            after) else ""
    return "" if before == after else (where or "/")


def without(value: Any, keys: frozenset[str]) -> Any:
    """A plain value with every dict field named in `keys` left out, at any depth."""
    if isinstance(value, dict):
        return {k: without(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [without(item, keys) for item in value]
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("mode", choices=("snapshot", "compare"))
    parser.add_argument("snapshot", type=Path)
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--cache", default=DEFAULT_CACHE)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--ignore", action="append", default=[], metavar="KEY",
                        help="leave out fields named KEY when comparing (repeatable)")
    args = parser.parse_args(argv)
    if not any(args.folder.glob("*.pdf")):
        print(f"no PDFs in {args.folder}", file=sys.stderr)
        return 2
    outputs = corpus_outputs(args.folder, args.cache, args.workers)
    if args.mode == "snapshot":
        args.snapshot.write_text(json.dumps(outputs, sort_keys=True))
        print(f"{len(outputs)} papers written to {args.snapshot}")
        return 0
    ignored = frozenset(args.ignore)
    before = without(json.loads(args.snapshot.read_text()), ignored)
    outputs = without(outputs, ignored)
    differ = 0
    for name in sorted(set(before) | set(outputs)):
        where = first_difference(before.get(name), outputs.get(name))
        if where:
            differ += 1
            print(f"{name}: differs at {where}")
    print(f"{len(outputs)} papers: {differ} differ from {args.snapshot}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
