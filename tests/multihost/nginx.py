"""nginx from the Debian package, run by the test itself: the shipped ``deploy/nginx/sipas.conf`` with only
its addresses, certificate and log paths replaced, inside a generated main config (own prefix, pid file,
temp folders and high ports on 127.0.0.1). The system nginx service is never used."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import requests

from sipas.settings import ROOT_DIR

SHIPPED = ROOT_DIR / "deploy" / "nginx" / "sipas.conf"
SHIPPED_UPSTREAM = "    server 127.0.0.1:8000 max_fails=1 fail_timeout=10s;\n"


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    assert found, "nginx is missing: run scripts/install-system-deps.sh test (make test does)"
    return found


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost", "-days", "1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def site_config(*, https_port: int, http_port: int, upstreams: list[int], cert: Path, key: Path, logs: Path) -> str:
    """The shipped server blocks, with this machine's ports, certificate and log folder."""
    text = SHIPPED.read_text(encoding="utf-8")
    replacements = {
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "server_name danhgia.example.gov.vn;": "server_name localhost;",
        "/etc/ssl/certs/danhgia.pem": str(cert),
        "/etc/ssl/private/danhgia.key": str(key),
        "/var/log/nginx/sipas/": f"{logs}/",
        SHIPPED_UPSTREAM: "".join(f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;\n" for port in upstreams),
    }
    for shipped, local in replacements.items():
        assert shipped in text, f"deploy/nginx/sipas.conf no longer has {shipped!r}: update tests/multihost/nginx.py"
        text = text.replace(shipped, local)
    return text


class Nginx:
    def __init__(self, folder: Path, *, https_port: int, http_port: int, upstreams: list[int]) -> None:
        self.folder, self.https_port = folder, https_port
        logs = folder / "logs"
        for sub in ("logs", "temp"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        self.cert, key = self_signed_certificate(folder)
        site = site_config(https_port=https_port, http_port=http_port, upstreams=upstreams, cert=self.cert,
                           key=key, logs=logs)
        temp = folder / "temp"
        user = "user root root;\n" if os.geteuid() == 0 else ""  # workers must reach the pytest tmp folder
        self.config = folder / "nginx.conf"
        self.config.write_text(
            f"{user}worker_processes 1;\npid {folder}/nginx.pid;\nerror_log {logs}/main-error.log;\n"
            "events { worker_connections 256; }\n"
            "http {\n    include /etc/nginx/mime.types;\n"
            f"    client_body_temp_path {temp}/body;\n    proxy_temp_path {temp}/proxy;\n"
            f"    fastcgi_temp_path {temp}/fastcgi;\n    uwsgi_temp_path {temp}/uwsgi;\n"
            f"    scgi_temp_path {temp}/scgi;\n"
            f"    access_log {logs}/main-access.log;\n{site}\n}}\n", encoding="utf-8")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"https://localhost:{self.https_port}"

    def start(self, timeout: float = 20) -> None:
        command = [nginx_binary(), "-p", str(self.folder), "-c", str(self.config)]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stderr
        with (self.folder / "logs" / "stderr.log").open("wb") as stderr:
            self.process = subprocess.Popen([*command, "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                                            stderr=stderr, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.folder / "logs" / "stderr.log").read_text()
            try:
                with requests.Session() as http:
                    http.trust_env = False
                    http.get(f"{self.url}/healthz", verify=str(self.cert), timeout=2)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise AssertionError("nginx did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
