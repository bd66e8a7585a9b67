"""spaCy imported for a worker without its CLI, which still loads when asked for."""

from __future__ import annotations

import subprocess
import sys


def _fresh(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    return done.stdout.strip()


def test_spacy_loads_without_its_cli_and_the_cli_loads_on_demand() -> None:
    out = _fresh(
        "import sys\n"
        "from paramminer.spacyload import import_spacy_without_cli\n"
        "import_spacy_without_cli()\n"
        "import spacy\n"
        "print(sorted({'spacy.cli', 'spacy.cli.info'} & set(sys.modules)),"
        " hasattr(spacy, 'cli'), spacy.blank('en')('7B models.')[0].text)\n"
        "details = spacy.info()\n"
        "import spacy.cli\n"
        "print(details['spacy_version'] == spacy.__version__, 'spacy.cli.info' in sys.modules,"
        " callable(spacy.cli.download))\n")
    assert out.splitlines() == ["[] False 7B", "True True True"]


def test_a_spacy_already_imported_is_left_alone() -> None:
    out = _fresh(
        "import sys, spacy, spacy.cli\n"
        "cli = sys.modules['spacy.cli']\n"
        "from paramminer.spacyload import import_spacy_without_cli\n"
        "import_spacy_without_cli()\n"
        "print(sys.modules['spacy.cli'] is cli, spacy.cli is cli)\n")
    assert out == "True True"


def test_a_worker_starts_without_spacys_cli() -> None:
    out = _fresh(
        "import sys\n"
        "from paramminer.ingest import warm_worker\n"
        "warm_worker()\n"
        "print('spacy' in sys.modules, 'spacy.cli' in sys.modules)\n")
    assert out == "True False"
