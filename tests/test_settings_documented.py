"""Every SIPAS_* variable the code reads is documented in config/example.env (the operator's list)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["sipas", "kiosk", "sms_gateway", "aggregator", "deploy/gunicorn.conf.py", "deploy/systemd"]
#: Read elsewhere than on the server, and documented there.
ELSEWHERE = {
    "SIPAS_KIOSK_URL": "deploy/kiosk/README.md", "SIPAS_KIOSK_PROFILE": "deploy/kiosk/launch-kiosk.sh",
    "SIPAS_KIOSK_CHROMIUM": "deploy/kiosk/launch-kiosk.sh", "SIPAS_DB_PASSWORD": "deploy/compose/compose.yaml",
    "SIPAS_TEST_BACKENDS": "Makefile",
}
NAME = re.compile(r"SIPAS_[A-Z0-9_]*[A-Z0-9]\b")


def _names_in(path: Path) -> set[str]:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file() and p.suffix in
                                           (".py", ".service", ".sh", ".html", ".js")]
    return {name for f in files for name in NAME.findall(f.read_text(encoding="utf-8", errors="ignore"))}


def test_example_env_lists_every_variable_the_server_reads() -> None:
    read = set().union(*(_names_in(ROOT / source) for source in SOURCES))
    documented = set(NAME.findall((ROOT / "config" / "example.env").read_text(encoding="utf-8")))
    prefixes = {name for name in read if any(other.startswith(name + "_") for other in read | documented)}
    missing = sorted(read - documented - set(ELSEWHERE) - prefixes)
    assert missing == [], f"add to config/example.env: {missing}"


def test_variables_read_elsewhere_are_documented_where_they_are_read() -> None:
    for name, place in ELSEWHERE.items():
        assert name in (ROOT / place).read_text(encoding="utf-8"), (name, place)


def test_example_env_ends_with_a_newline() -> None:
    """The install guide appends settings with ``cat >>``: without a final newline the first one is glued to the
    example's last comment and silently lost (SIPAS_PUBLIC_BASE_URL was)."""
    assert (ROOT / "config" / "example.env").read_bytes().endswith(b"\n")
