"""How well the paper's own model is found on the corpus: titles and own names.

    python bench/names.py [--corpus ../shared/corpus] [--cache /tmp/pm/cache/text] [-v]

Reads the cached page text of the corpus PDFs (read-only: a PDF missing from the cache
is skipped, never parsed) and prints:

- titles: how many `guess_title(page 1)` equal the manifest's title (normalized: letters
  and digits only, lower-case), how many are a prefix of it or contain it (a title cut
  short or run on), and the same for the chain ingest uses (PDF /Title, else the guess) and
  for the reverse (the guess, else PDF /Title);
- own names: of the gold `system` names of labeled papers, how many `is_own` accepts and
  how many `is_cited` calls cited, with the manifest's title and with the guessed one;
- the mean number of own names per paper (a name list that grows without bound is noise),
  and how many labeled and unlabeled papers name a model of their own (`introduced`).

Not a test: the numbers are a measurement of the corpus, not a floor.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import defaultdict
from pathlib import Path

from paramminer.config import project_root
from paramminer.names import analyse_names, guess_title
from paramminer.pdftext import PdfText, TextCache

DEFAULT_CORPUS = project_root().parent / "shared" / "corpus"


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _bare(system: str) -> str:
    """The name in a curator's label: 'Foo (CIFAR-10)', 'Foo for X', 'Foo: X' -> 'Foo'."""
    system = re.sub(r"\s*\(.*?\)\s*", " ", system)
    return re.split(r"\s+(?:for|on)\s+|:\s", system)[0].strip()


def _compare(guess: str, truth: str) -> str:
    g, t = _norm(guess), _norm(truth)
    if g == t:
        return "exact"
    if g and (t.startswith(g) or g.startswith(t) or t in g):
        return "partial"
    return "wrong"


def _guess(pages: list[str]) -> str:
    """guess_title with the later pages (running headers), where it takes them."""
    if not pages:
        return ""
    try:
        return guess_title(pages[0], pages[1:])
    except TypeError:  # an older guess_title: page 1 only
        return guess_title(pages[0])


def main(argv: list[str] | None = None) -> int:
    """Print the title and own-name numbers over the cached corpus text."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/pm/cache/text"))
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    args = parser.parse_args(argv)
    cache = TextCache(args.cache)
    manifest = list(csv.DictReader((args.corpus / "manifest.csv").open(encoding="utf-8")))
    gold: dict[str, list[str]] = defaultdict(list)
    for row in csv.DictReader((args.corpus / "gold.csv").open(encoding="utf-8")):
        gold[row["key"]].append(row["system"])
    titles: dict[str, int] = defaultdict(int)
    chain: dict[str, int] = defaultdict(int)
    guess_first: dict[str, int] = defaultdict(int)
    own = {"manifest": [0, 0, 0], "guessed": [0, 0, 0]}  # own, own (bare name), cited
    systems = own_total = papers = 0
    named = {"yes": [0, 0], "no": [0, 0]}  # labeled / not: papers, papers naming a model
    for row in manifest:
        entry = cache.get_entry(row["sha256"])
        if entry is None:
            print(f"skip {row['key']}: not in the text cache", file=sys.stderr)
            continue
        text = PdfText(row["sha256"], entry[0], title=entry[1].get("title", ""))
        pages = text.pages
        papers += 1
        guessed = _guess(pages)
        verdict = _compare(guessed, row["title"])
        titles[verdict] += 1
        chain[_compare(text.title or guessed, row["title"])] += 1
        guess_first[_compare(guessed or text.title, row["title"])] += 1
        if args.verbose and verdict != "exact":
            print(f"title {verdict:7} {row['key']}: {guessed!r} vs {row['title']!r}")
        for label, title in (("manifest", row["title"]), ("guessed", guessed)):
            names = analyse_names(title, pages)
            if label == "manifest":
                own_total += len(names.own)
                named[row["labeled"]][0] += 1
                named[row["labeled"]][1] += bool(names.introduced)
            for system in gold.get(row["key"], []):
                systems += label == "manifest"
                counts = own[label]
                counts[0] += names.is_own(system)
                counts[1] += any(names.is_own(_bare(alt)) for alt in system.split(" / "))
                counts[2] += names.is_cited(system)
                if args.verbose and label == "manifest" and not any(
                    names.is_own(_bare(alt)) for alt in system.split(" / ")
                ):
                    print(f"own miss {row['key']}: {system!r}; own={sorted(names.own)[:12]}")
                if args.verbose and label == "manifest" and names.is_cited(system):
                    print(f"cited {row['key']}: {system!r}; own={sorted(names.own)[:12]}")
    print(f"papers: {papers}")
    for name, counts in (
        ("guess_title", titles), ("PDF /Title, else guess", chain),
        ("guess, else PDF /Title", guess_first),
    ):
        print(
            f"titles ({name}): exact {counts['exact']}/{papers}, "
            f"partial {counts['partial']}, wrong {counts['wrong']}"
        )
    for label, (hit, hit_bare, cited) in own.items():
        print(
            f"gold systems ({label} title): is_own {hit}/{systems}, "
            f"is_own of the bare name {hit_bare}/{systems}, is_cited {cited}/{systems}"
        )
    print(f"own names per paper (manifest title): {own_total / max(papers, 1):.1f}")
    for labeled, (total, with_names) in named.items():
        kind = "labeled" if labeled == "yes" else "unlabeled"
        print(f"{kind} papers that name a model of their own: {with_names}/{total}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
