"""What the kiosk launcher (deploy/kiosk/launch-kiosk.sh) says to the person installing a kiosk, in Vietnamese.

Without SIPAS_KIOSK_URL it printed the shell's "SIPAS_KIOSK_URL: set SIPAS_KIOSK_URL, e.g. …"; without Chromium it
first waited up to two minutes for the server, then the shell said "exec: /usr/bin/chromium: not found".
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

LAUNCHER = Path(__file__).resolve().parents[2] / "deploy" / "kiosk" / "launch-kiosk.sh"


def _launch(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    return subprocess.run(["sh", str(LAUNCHER)], env={**base, **env}, capture_output=True, text=True, timeout=30,
                          check=False)


def test_a_missing_address_is_said_in_vietnamese(tmp_path: Path) -> None:
    result = _launch(tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == ("launch-kiosk.sh: chưa đặt SIPAS_KIOSK_URL (địa chỉ trang kiosk của đơn vị), ví dụ "
                             "SIPAS_KIOSK_URL=http://127.0.0.1:8000/kiosk/PHUONG-PHUHOI trong "
                             "~/.config/sipas/kiosk.env\n")


def test_a_missing_chromium_is_said_at_once_in_vietnamese(tmp_path: Path) -> None:
    """Said before waiting for the server (the address here answers nothing: the wait would be two minutes)."""
    missing = tmp_path / "no-chromium"
    result = _launch(tmp_path, SIPAS_KIOSK_URL="http://127.0.0.1:9/kiosk/P", SIPAS_KIOSK_CHROMIUM=str(missing))
    assert result.returncode == 127
    assert result.stderr == (f"launch-kiosk.sh: không tìm thấy trình duyệt Chromium tại {missing}: cài gói chromium "
                             "(apt-get install chromium) hoặc đặt SIPAS_KIOSK_CHROMIUM là đường dẫn tới nó\n")
