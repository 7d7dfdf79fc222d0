"""deploy/systemd/sipas-web.service gives its ExecStartPre (`sipas db upgrade`) the time a migration takes.

systemd's default TimeoutStartSec (90 s) bounds ExecStartPre. The tallies' backfill migration (core_0021, docs/
reports.md) takes 65-122 s for a province of a million responses (docs/performance.md): a restart after `git pull`
without the manual `sipas db upgrade` had its migration killed at 90 s ("start-pre operation timed out"), and
Restart=on-failure ran it again, killed again, forever, with the web down.
"""

from __future__ import annotations

import re
from pathlib import Path

UNIT = Path(__file__).resolve().parents[1] / "deploy" / "systemd" / "sipas-web.service"


def _seconds(value: str) -> float:
    if value == "infinity":
        return float("inf")
    units = {"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "": 1}
    return sum(float(number) * units[unit] for number, unit in re.findall(r"(\d+)\s*(min|sec|s|m|h|)", value))


def test_the_migration_before_the_start_has_half_an_hour() -> None:
    text = UNIT.read_text(encoding="utf-8")
    assert re.search(r"^ExecStartPre=\S+/sipas db upgrade$", text, re.M)
    timeout = re.findall(r"^TimeoutStartSec=(.+)$", text, re.M)
    assert timeout and _seconds(timeout[-1].strip()) >= 30 * 60, timeout
