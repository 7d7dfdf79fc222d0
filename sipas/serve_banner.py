"""What ``sipas serve`` prints once the web server answers: the address, and the demo accounts if any.

Printed after gunicorn's start-up lines (it waits for ``/healthz``), so ``make run`` ends with what the
person trying sipas needs rather than with log lines.
"""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from sipas.demo_admin import ACCOUNTS_FILE


def wait_until_serving(url: str, process: subprocess.Popen[bytes], *, timeout: float = 60.0) -> bool:
    """Poll ``url`` until it answers (any HTTP status) or the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except urllib.error.HTTPError:
            return True  # it answered (503: database down, shown by sipas doctor)
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    return False


def banner(base_url: str, instance_dir: Path) -> str:
    lines = [f"SIPAS đang chạy tại {base_url}  (Ctrl+C để dừng)"]
    accounts = instance_dir / ACCOUNTS_FILE
    if accounts.is_file():
        lines += ["", accounts.read_text(encoding="utf-8").rstrip(), f"(lưu trong {accounts})"]
    return "\n".join(lines)
