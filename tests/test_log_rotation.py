"""The shipped log rotation: logrotate rotates nginx's sipas logs; the services log to a bounded journal."""

from __future__ import annotations

import configparser
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def test_logrotate_rotates_the_nginx_logs_the_shipped_config_writes(tmp_path: Path) -> None:
    nginx_conf = (DEPLOY / "nginx" / "sipas.conf").read_text(encoding="utf-8")
    assert "access_log /var/log/nginx/sipas/access.log sipas;" in nginx_conf
    assert "error_log /var/log/nginx/sipas/error.log;" in nginx_conf
    logs = tmp_path / "log"
    logs.mkdir()
    (logs / "access.log").write_text("203.0.113.7 - - \"GET /r/*** HTTP/1.1\" 200\n", encoding="utf-8")
    shipped = (DEPLOY / "logrotate" / "sipas").read_text(encoding="utf-8")
    assert "/var/log/nginx/sipas/*.log {" in shipped
    config = tmp_path / "sipas.logrotate"
    config.write_text(shipped.replace("/var/log/nginx/sipas/", f"{logs}/")
                      .replace("create 0640 www-data adm", "create 0640"), encoding="utf-8")
    config.chmod(0o644)
    done = subprocess.run(["logrotate", "--force", "--state", str(tmp_path / "state"), str(config)],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    rotated = [p.name for p in logs.iterdir() if p.name.startswith("access.log-")]
    assert len(rotated) == 1 and (logs / "access.log").read_text(encoding="utf-8") == ""


def test_the_services_log_to_the_journal_and_the_journal_is_bounded() -> None:
    for unit in ("sipas-web.service", "sipas-scheduler.service"):
        service = configparser.ConfigParser(strict=False, interpolation=None)
        service.read(DEPLOY / "systemd" / unit, encoding="utf-8")
        assert service["Service"]["StandardOutput"] == "journal" and service["Service"]["StandardError"] == "journal"
        assert service["Service"]["SyslogIdentifier"] == unit.removesuffix(".service")
    journald = configparser.ConfigParser(interpolation=None)
    journald.read(DEPLOY / "systemd" / "journald-sipas.conf", encoding="utf-8")
    assert journald["Journal"]["SystemMaxUse"] and journald["Journal"]["MaxRetentionSec"] == "30day"
