"""spaCy imported for the rules alone: without its command-line interface.

`import spacy` loads `spacy.cli` (typer, weasel, httpx, jinja2, ...) only to re-export
`spacy.info`: ~0.25 s of the ~1 s a worker takes to start, which every `extract` and
`ingest` pays per worker before its first paper. A worker imports spaCy through
`import_spacy_without_cli`: stand-ins take the place of `spacy.cli` while spaCy loads and
are dropped at once, so a later `import spacy.cli` or a call of `spacy.info` loads the real
modules; nothing of spaCy is lost, only its loading is deferred.
"""

from __future__ import annotations

import sys
import types
from typing import Any

_STAND_INS = ("spacy.cli", "spacy.cli.info")


def info(*args: Any, **kwargs: Any) -> Any:
    """`spacy.info`, loading the real one (and spaCy's CLI) on first use."""
    from spacy.cli.info import info as real_info

    return real_info(*args, **kwargs)


def import_spacy_without_cli() -> None:
    """Import spaCy, deferring its CLI; a no-op once spaCy is imported."""
    if "spacy" in sys.modules:
        return
    package = types.ModuleType("spacy.cli")
    package.__path__ = []  # a package: `spacy.cli.info` may be looked up in it
    module = types.ModuleType("spacy.cli.info")
    module.info = info  # type: ignore[attr-defined]
    sys.modules.update({"spacy.cli": package, "spacy.cli.info": module})
    try:
        import spacy
    finally:
        for name in _STAND_INS:
            sys.modules.pop(name, None)
    if getattr(spacy, "cli", None) is package:
        delattr(spacy, "cli")  # looked up (and loaded) again when asked for
