"""Scratch folders of the benchmark scripts: removed, with the databases written in them, when the script ends.

Each intake run seeded a ward of ~130 MB in a folder of its own that stayed in /tmp: a few `make bench` runs
left gigabytes behind.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path


def scratch_folder(prefix: str) -> Path:
    """A new folder under the system's temporary directory, removed when the process exits."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder
