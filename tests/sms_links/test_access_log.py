"""The gunicorn access log never carries a short-link code (a bearer link), and production uses that logger."""

from __future__ import annotations

import json
import logging
import runpy
import sys
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from gunicorn.config import Config
from gunicorn.util import load_class

from sipas.logformat import JsonFormatter
from sms_gateway.access_log import MaskedLinkLogger, mask_links

ROOT = Path(__file__).resolve().parents[2]
CODE = "Ab3dE6gH9k"


def access_line(tmp_path: Path, path: str, query: str = "", referer: str = "-") -> str:
    log_file = tmp_path / "access.log"
    cfg = Config()
    cfg.set("accesslog", str(log_file))
    logger = MaskedLinkLogger(cfg)
    environ = {"REQUEST_METHOD": "POST", "RAW_URI": path + (f"?{query}" if query else ""), "PATH_INFO": path,
               "QUERY_STRING": query, "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "203.0.113.7",
               "HTTP_REFERER": referer, "HTTP_USER_AGENT": "Mozilla/5.0 (Android)"}
    request = SimpleNamespace(headers=[("REFERER", referer), ("USER-AGENT", "Mozilla/5.0 (Android)")])
    response = SimpleNamespace(status="303 SEE OTHER", sent=412, headers=[("Content-Type", "text/html")])
    logger.access(response, request, environ, timedelta(milliseconds=12))
    for handler in list(logger.access_log.handlers):
        handler.close()
        logger.access_log.removeHandler(handler)
    return log_file.read_text(encoding="utf-8")


def test_the_link_code_is_masked_and_the_rest_of_the_line_kept(tmp_path: Path) -> None:
    line = access_line(tmp_path, f"/r/{CODE}", query="size=8", referer=f"https://danhgia.example.gov.vn/r/{CODE}")
    assert CODE not in line
    assert '"POST /r/***?size=8 HTTP/1.1"' in line
    assert '"https://danhgia.example.gov.vn/r/***"' in line
    assert line.startswith("203.0.113.7 - - [") and " 303 412 " in line and '"Mozilla/5.0 (Android)"' in line


def test_json_access_lines_carry_the_request_fields_with_the_code_masked(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SIPAS_LOG_FORMAT", "json")
    text = access_line(tmp_path, f"/r/{CODE}", query="size=8", referer=f"https://danhgia.example.gov.vn/r/{CODE}")
    assert CODE not in text and len(text.splitlines()) == 1
    line = json.loads(text)
    assert line["logger"] == "gunicorn.access" and line["message"] == "POST /r/***?size=8 HTTP/1.1"
    assert line["path"] == "/r/***" and line["status"] == 303 and line["bytes"] == 412
    assert line["referer"] == "https://danhgia.example.gov.vn/r/***" and line["remote_addr"] == "203.0.113.7"


def test_json_lines_mask_link_codes_in_any_message_and_exception() -> None:
    try:
        raise ValueError(f"bad /r/{CODE}")
    except ValueError:
        record = logging.LogRecord("sipas.x", logging.ERROR, __file__, 1, "link %s", (f"/r/{CODE}",), sys.exc_info())
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "link /r/***" and "ValueError: bad /r/***" in line["exception"]
    assert set(line) == {"time", "level", "logger", "message", "exception"}


def test_other_paths_are_logged_as_they_are(tmp_path: Path) -> None:
    line = access_line(tmp_path, "/console/sms/W001/outbox", query="r=1")
    assert '"POST /console/sms/W001/outbox?r=1 HTTP/1.1"' in line


def test_mask_links() -> None:
    assert mask_links(f"/r/{CODE}/qr.svg?size=8") == "/r/***/qr.svg?size=8"
    assert mask_links(f"https://x.vn/r/{CODE} and /r/{CODE[::-1]}") == "https://x.vn/r/*** and /r/***"
    assert mask_links("/kiosk/r") == "/kiosk/r"


def test_the_production_config_uses_the_masking_logger() -> None:
    conf = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    assert load_class(conf["logger_class"]) is MaskedLinkLogger
    assert conf["accesslog"] == "-"


def test_a_percent_encoded_path_does_not_unmask_the_code() -> None:
    """``GET /%72/<code>`` reaches the phone form like ``/r/<code>``: the log must not show the code."""
    for line in (f"GET /%72/{CODE} HTTP/1.1", f"GET /%72/{CODE}/qr.png HTTP/1.1",
                 f"GET /r/{CODE[:4]}%41{CODE[4:]} HTTP/1.1"):
        assert CODE[:4] not in mask_links(line) and "***" in mask_links(line), line


def test_nginx_masks_the_percent_encoded_spelling_too() -> None:
    config = (Path(__file__).parents[2] / "deploy" / "nginx" / "sipas.conf").read_text(encoding="utf-8")
    assert config.count("(?:r|%72)/)[A-Za-z0-9%]+") == 2


ESMS_REPORT = ("o=12&k=0f1e2d3c4b5a69788796a5b4c3d2e1f0&SMSID=dc712784-9c5f&SendFailed=0&SendStatus=5&SendSuccess=1"
               "&TotalPrice=0.0000&TotalReceiver=1&TotalSent=1&RequestId=&TypeId=2&telcoid=1&phonenumber={number}"
               "&switchsmsid=")


def test_the_number_in_a_delivery_report_query_is_masked(tmp_path: Path) -> None:
    """eSMS calls the delivery report URL by GET with the recipient's number (``phonenumber=0901888484``): the
    access line keeps the report, never the number, in any of the shapes a gateway writes it."""
    for number, digits in (("0901888484", "901888484"), ("84901888484", "901888484"),
                           ("%2B84901888484", "901888484"), ("+84901888484", "901888484")):
        query = ESMS_REPORT.format(number=number)
        line = access_line(tmp_path, "/sms/http/status", query=query)
        assert digits not in line, line
        assert "phonenumber=***" in line and "SMSID=dc712784-9c5f" in line and "SendStatus=5" in line
        (tmp_path / "access.log").unlink()


def test_json_access_lines_mask_the_number_too(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SIPAS_LOG_FORMAT", "json")
    line = json.loads(access_line(tmp_path, "/sms/http/status", query=ESMS_REPORT.format(number="0901888484")))
    assert "901888484" not in json.dumps(line)
    assert "phonenumber=***" in line["query"] and "phonenumber=***" in line["message"]
