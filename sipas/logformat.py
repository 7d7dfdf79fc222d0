"""Log lines as text (the default) or as JSON lines (``SIPAS_LOG_FORMAT=json``), for the CLI and gunicorn.

A JSON line holds the time, level, logger and message, the exception if any, and for gunicorn's access
log the request's fields. Nothing else of a record is written (``extra=`` fields are dropped), so
only what a message says goes out; messages never carry a phone number or a reply's text (tests check),
and a short-link code (``/r/<code>``, a bearer link) is masked in every line, text or JSON. A phone number a
client put in a URL (eSMS calls the delivery report URL with ``phonenumber=0901888484``) is masked as well:
the value of a query parameter named like a phone, and any Vietnamese mobile number in the usual shapes.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LINK_PATH = re.compile(r"/r/[A-Za-z0-9]+")
#: ``phonenumber=…``, ``Phone=…``, ``msisdn=…``: the value up to the next parameter
PHONE_PARAMETER = re.compile(r"([?&][^=&\s\"]*(?:phone|msisdn)[^=&\s\"]*=)[^&\s\"]*", re.IGNORECASE)
#: a Vietnamese mobile number: 0912345678, 84912345678, +84912345678 (``%2B84…`` percent-encoded)
MOBILE_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?:(?:\+|%2B)?84|0)[35789]\d{8}(?!\d)", re.IGNORECASE)
#: gunicorn access-log atoms written as JSON fields (names as in its ``access_log_format``)
ACCESS_FIELDS = {"h": "remote_addr", "m": "method", "U": "path", "q": "query", "H": "protocol", "s": "status",
                 "B": "bytes", "f": "referer", "a": "user_agent", "M": "duration_ms"}


def mask_phones(text: str) -> str:
    """``…&phonenumber=0901888484&…`` → ``…&phonenumber=***&…``; a mobile number elsewhere → ``***``."""
    return MOBILE_NUMBER.sub("***", PHONE_PARAMETER.sub(r"\1***", text))


def mask(text: str) -> str:
    return mask_phones(LINK_PATH.sub("/r/***", text))


def json_wanted(env: Mapping[str, str] | None = None) -> bool:
    return (env if env is not None else os.environ).get("SIPAS_LOG_FORMAT", "text").strip().lower() == "json"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        atoms = record.args if isinstance(record.args, Mapping) and record.name == "gunicorn.access" else None
        if atoms is not None:
            entry["message"] = mask(str(atoms.get("r", "")))
            for atom, name in ACCESS_FIELDS.items():
                value = atoms.get(atom)
                if value not in (None, "-"):
                    entry[name] = int(value) if atom in ("s", "B", "M") and str(value).isdigit() else mask(str(value))
        else:
            entry["message"] = mask(record.getMessage())
        if record.exc_info:
            entry["exception"] = mask(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))


def formatter(env: Mapping[str, str] | None = None) -> logging.Formatter:
    return JsonFormatter() if json_wanted(env) else TextFormatter(TEXT_FORMAT)


def configure(level: int = logging.INFO, env: Mapping[str, str] | None = None) -> None:
    """The root logger writes to stderr in the chosen format (the CLI: ``sipas scheduler``, ``sipas serve``...)."""
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(env))
    logging.basicConfig(level=level, handlers=[handler])
