"""``bench/scratch.py``: the benchmark scripts' scratch databases do not stay behind (each intake run seeded a
~130 MB ward in a folder of /tmp that nothing removed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WRITE_AND_EXIT = """
from bench.intake import scratch_database
url, cluster = scratch_database("sqlite", "sipas-bench-test-")
path = url.removeprefix("sqlite:///")
open(path, "wb").write(b"x" * 4096)
print(path)
"""


def test_a_scripts_scratch_database_goes_with_the_script() -> None:
    child = subprocess.run([sys.executable, "-c", WRITE_AND_EXIT], cwd=ROOT, capture_output=True, text=True,
                           check=True)
    database = Path(child.stdout.strip())
    assert database.name == "bench.db" and database.parent.name.startswith("sipas-bench-test-")
    assert not database.parent.exists()
