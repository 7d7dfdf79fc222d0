"""A gunicorn logger that keeps short-link codes out of the access log.

``/r/<code>`` is a bearer link: whoever holds it can rate the dossier, so the code is masked
(``/r/***``) in every part of the line that can carry it (request line, path, query, referer, any
header or environ atom); so is a phone number in a URL (``sipas.logformat.mask_phones``: eSMS's delivery
reports carry the recipient's number in their query string). The rest of the line is left as gunicorn writes
it. Use it with ``logger_class`` in ``deploy/gunicorn.conf.py`` or
``--logger-class sms_gateway.access_log.MaskedLinkLogger``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger

from sipas.logformat import JsonFormatter, json_wanted, mask_phones

# ``/%72/<code>`` reaches the same route (the path is percent-decoded before routing): masked as well.
LINK_PATH = re.compile(r"/(?:r|%72)/[A-Za-z0-9%]+", re.IGNORECASE)
MASKED = "/r/***"


def mask_links(text: str) -> str:
    """``GET /r/Ab3dE6gH9k/qr.svg HTTP/1.1`` → ``GET /r/***/qr.svg HTTP/1.1``."""
    return LINK_PATH.sub(MASKED, text)


class MaskedLinkLogger(Logger):
    def setup(self, cfg: Any) -> None:
        """With ``SIPAS_LOG_FORMAT=json`` gunicorn's error and access logs and the app's loggers write JSON lines."""
        super().setup(cfg)
        if not json_wanted():
            return
        for handler in [*self.error_log.handlers, *self.access_log.handlers]:
            handler.setFormatter(JsonFormatter())
        root = logging.getLogger()
        if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
            handler = logging.StreamHandler()
            handler.setFormatter(JsonFormatter())
            root.addHandler(handler)
            root.setLevel(min(root.level or logging.INFO, logging.INFO))

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: mask_phones(mask_links(value)) if isinstance(value, str) else value
                for key, value in atoms.items()}
