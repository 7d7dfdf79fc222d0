"""Out-of-range values in every route converter and every query parameter: a 4xx, never a 5xx.

The routes are read from ``app.url_map``, so a route added later is walked too. Each path argument in
turn gets an extreme value (an integer beyond 64 bits, zero, a negative number, a huge string, NUL, a
lone surrogate sent as the UTF-8 bytes ``%ED%A0%80``) while the others hold ordinary ones; each query
parameter the views read gets the same treatment plus years and months of ``0000``. The caller is an
administrator, so the views behind the login run too.
"""

from __future__ import annotations

import json
from dataclasses import replace
from urllib.parse import quote

import pytest

from sipas.models import Role
from tests.factories import create_clerk, create_key, create_unit, login

HUGE_INT = str(2**64 + 7)
PATH_VALUES = [HUGE_INT, "9" * 400, "0", "-1", "x" * 3000, "%00", "%ED%A0%80", "%FF", "a%2Fb"]
QUERY_VALUES = [HUGE_INT, "-1", "0000", "0000-01", "0000Q1", "9999-12-31", "%ED%A0%80"]
RENDERED = (".<fmt>", ".xlsx", ".csv", ".png", ".svg")  # documents: their period parsing is the pages' own
QUERY_PARAMS = ["year", "month", "quarter", "from", "to", "page", "size", "date", "unit", "district", "field",
                "channel", "status", "kind", "dossier", "q", "next", "o", "action", "idle", "countdown"]
# The dashboard reads a period parameter only with its kind; a range needs both ends.
CONTEXT = {"year": ["", "kind=year&"], "month": ["", "kind=month&"], "quarter": ["", "kind=quarter&"],
           "from": ["", "kind=range&to=2026-01-01&"], "to": ["", "kind=range&from=2026-01-01&"]}
ORDINARY = {"unit_code": "U-FUZZ", "code": "U-FUZZ", "year": "2026", "number": "1", "fmt": "pdf",
            "notice_id": "1", "device_id": "1", "user_id": "1", "kind": "invitation", "filename": "x.css"}


def _path(rule, values: dict[str, str]) -> str:  # type: ignore[no-untyped-def]
    path = rule.rule
    for name in rule.arguments:
        converter = rule._converters[name]
        token = f"<{name}>" if f"<{name}>" in path else None
        if token is None:
            prefix = {"IntegerConverter": "int", "PathConverter": "path"}.get(type(converter).__name__, "string")
            token = f"<{prefix}:{name}>"
        path = path.replace(token, values[name])
    return path


def _routes(app):  # type: ignore[no-untyped-def]
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint.endswith("static"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


@pytest.fixture
def admin_client(app, client, session):  # type: ignore[no-untyped-def]
    app.config["PROPAGATE_EXCEPTIONS"] = False  # collect every 500 rather than stop at the first
    unit = create_unit(session, code="U-FUZZ")
    admin = create_clerk(session, unit, role=Role.ADMIN)
    session.commit()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {create_key(session, unit)}"
    session.commit()
    login(client, admin)
    return client


def _fetch(client, method: str, path: str, query: str = ""):  # type: ignore[no-untyped-def]
    return client.open(path, method=method, query_string=query or None)


def test_extreme_path_arguments_never_answer_5xx(app, admin_client) -> None:
    failures = []
    for rule, method in _routes(app):
        for name in rule.arguments:
            for value in PATH_VALUES:
                encoded = value if value.startswith("%") or "%2F" in value else quote(value, safe="")
                path = _path(rule, {**{k: quote(v) for k, v in ORDINARY.items()}, name: encoded})
                response = _fetch(admin_client, method, path)
                if response.status_code >= 500:
                    failures.append((method, path[:120], response.status_code))
    assert not failures


def test_extreme_query_parameters_never_answer_5xx(app, admin_client) -> None:
    failures = []
    for rule, method in _routes(app):
        if method != "GET" or rule.rule.endswith(RENDERED):
            continue
        path = _path(rule, ORDINARY)
        for name in QUERY_PARAMS:
            for value in QUERY_VALUES:
                encoded = value if value.startswith("%") else quote(value, safe="")
                for context in CONTEXT.get(name, [""]):
                    response = _fetch(admin_client, method, path, f"{context}{name}={encoded}")
                    if response.status_code >= 500:
                        failures.append((path, context + name, value[:20], response.status_code))
    assert not failures


def test_public_notice_numbers_beyond_64_bits_need_no_login(client, session) -> None:
    create_unit(session, code="U-PUB")
    session.commit()
    for path in (f"/cong-khai/U-PUB/2026/{HUGE_INT}.pdf", f"/cong-khai/U-PUB/{HUGE_INT}/1.pdf",
                 "/cong-khai/U-PUB/0/0.pdf"):
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize("text", ["Tot\x00", "Tot \ud800", "\udfff\x00"])
def test_http_inbound_with_nul_or_lone_surrogates_answers(app, client, text: str) -> None:
    app.extensions["sms_settings"] = replace(app.extensions["sms_settings"], http_inbound_secret="s3cret-value")
    headers = {"X-Sipas-Secret": "s3cret-value"}
    for field in ("Phone", "Content", "MessageId"):
        values = {"Phone": "0912345678", "Content": "1 1 1", "MessageId": "m1", field: text}
        form = "&".join(f"{k}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}" for k, v in values.items())
        response = client.post("/sms/http/inbound", data=form, headers=headers,
                               content_type="application/x-www-form-urlencoded")
        assert response.status_code < 500, (field, "form")
        response = client.post("/sms/http/inbound", data=json.dumps(values), headers=headers,
                               content_type="application/json")
        assert response.status_code < 500, (field, "json")
