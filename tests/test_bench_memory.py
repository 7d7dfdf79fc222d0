"""``bench/memory.py``: a benchmark child reports its own peak memory, not its parent's (the goals' memory limits)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_child_reports_its_own_peak_not_its_parents() -> None:
    held = bytearray(300 * 1024 * 1024)
    held[::4096] = b"\x01" * len(held[::4096])  # resident, not just reserved
    child = subprocess.run([sys.executable, "-c", "from bench.memory import peak_rss_mb; print(peak_rss_mb())"],
                           cwd=ROOT, capture_output=True, text=True, check=True)
    del held
    assert 0 < float(child.stdout) < 150  # a bare interpreter: ~10 MB; ru_maxrss said > 300 here
