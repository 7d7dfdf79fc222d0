"""Out-of-range values in every route converter and query parameter get a 4xx, never a 500.

The test walks the application's URL map, so a new route is fuzzed without being listed here: each
converter gets values beyond 64-bit integers, zero, negatives, huge strings, NUL and a lone surrogate;
each query parameter that any view reads gets the same and the period spellings that once crashed
(``year=0000``, ``month=0000-01``). Requests go as anonymous and as a global admin.

A page is asked every hostile value of a parameter only when it reads that parameter: the first value
tells, through query arguments that remember the names a view asked for. A view that does not read a
name takes the same path whatever its value, so the others would only render the same page again (the
walk took a minute on PostgreSQL that way); a view that iterates its arguments reads every name. The
request guard, which reads every value before any view, is not counted: it refuses a NUL alike on every
page (the first value holds none), and the dashboard, which reads every name, still gets every value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from itertools import product
from typing import Any, ClassVar
from urllib.parse import quote

import pytest
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import Rule

from sipas.accounts import Role
from sipas.request_guard import refuse_nul
from tests.factories import create_clerk, create_key, create_unit, login

HUGE_INT = str(2**64 + 7)
CONVERTER_VALUES = {
    "int": [HUGE_INT, str(2**63), "0", "99999999999999999999999999999999"],
    "default": ["P-NONE", "%ED%A0%80", "%00", "x" * 5000, HUGE_INT],
    "path": ["000.00.25.H57-261203-0556", "%ED%A0%80", "%00", "a/" * 300, HUGE_INT],
}
QUERY_NAMES = ["year", "month", "quarter", "from", "to", "page", "unit", "field", "channel", "status", "q",
               "period", "kind", "format", "instrument", "district", "number", "date", "code"]
QUERY_VALUES = ["0000", "0000-01", "0000Q1", "9999-12", "-1", HUGE_INT, "%00", "%ED%A0%80", "x" * 3000,
                "2026Q9", "2026-13", "0001-01-01"]
# Parameters the walk fills; "fmt" ends a file name (du-thao.<fmt>, <number>.<fmt>).
SPECIAL = {"fmt": ["pdf", "docx", "exe", "%00"], "filename": ["console.css", "../../etc/passwd", "%00"],
           "unit_code": ["P-A", "P-NONE", "%ED%A0%80", "%00", HUGE_INT]}


def _converter(rule: Rule, name: str) -> str:
    match = re.search(rf"<(?:(\w+)(?:\([^)]*\))?:)?{name}>", rule.rule)
    return (match.group(1) if match and match.group(1) else "default")


def _urls(rule: Rule) -> Iterator[str]:
    names = sorted(rule.arguments)
    choices = []
    for name in names:
        kind = _converter(rule, name)
        choices.append(SPECIAL.get(name) or CONVERTER_VALUES.get(kind, CONVERTER_VALUES["default"]))
    for values in product(*choices) if len(names) <= 2 else zip(*choices, strict=False):
        url = rule.rule
        for name, value in zip(names, values, strict=True):
            url = re.sub(rf"<(?:\w+(?:\([^)]*\))?:)?{name}>", value, url)
        yield url


def _rules(app) -> list[Rule]:  # type: ignore[no-untyped-def]
    return [rule for rule in app.url_map.iter_rules() if not rule.endpoint.endswith("static")]


@pytest.fixture
def world(app, session):  # type: ignore[no-untyped-def]
    unit = create_unit(session, code="P-A")
    admin = create_clerk(session, unit, username="quantri", role=Role.ADMIN)
    admin.api_key = create_key(session, unit)  # type: ignore[attr-defined]
    session.commit()
    return admin


class _AskedArgs(ImmutableMultiDict):  # type: ignore[type-arg]
    """Query arguments that note each name a view asks for; iterating them asks for all ("*")."""

    asked: ClassVar[set[str]] = set()
    unnoted: ClassVar[bool] = False  # set while the request guard reads

    def _note(self, name: str) -> None:
        if not self.unnoted:
            self.asked.add(name)

    def __getitem__(self, key: Any) -> Any:
        self._note(key)
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None, type: Any = None) -> Any:
        self._note(key)
        return super().get(key, default, type)

    def getlist(self, key: Any, type: Any = None) -> Any:
        self._note(key)
        return super().getlist(key, type)

    def __contains__(self, key: object) -> bool:
        self._note(str(key))
        return super().__contains__(key)

    def _all(self) -> None:
        self._note("*")

    def __iter__(self) -> Any:
        self._all()
        return super().__iter__()

    def keys(self) -> Any:
        self._all()
        return super().keys()

    def values(self) -> Any:
        self._all()
        return super().values()

    def items(self, multi: bool = False) -> Any:
        self._all()
        return super().items(multi)

    def lists(self) -> Any:
        self._all()
        return super().lists()

    def to_dict(self, flat: bool = True) -> Any:
        self._all()
        return super().to_dict(flat)


def _unnoted(guard: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        _AskedArgs.unnoted = True
        try:
            return guard()
        finally:
            _AskedArgs.unnoted = False
    return run


def _check(client, method: str, url: str, failures: list[str], headers=None) -> None:  # type: ignore[no-untyped-def]
    try:
        response = client.open(url, method=method, data={} if method == "POST" else None, headers=headers)
    except Exception as exc:  # the test app propagates exceptions instead of answering 500
        failures.append(f"{method} {url[:120]} -> {type(exc).__name__}: {str(exc)[:100]}")
        return
    response.close()  # a served file (the favicon) is closed as the server would, not left to the collector
    if response.status_code >= 500:
        failures.append(f"{method} {url[:120]} -> {response.status_code}")


def test_route_converters_refuse_out_of_range_values(app, client, world):
    failures: list[str] = []
    app.config["WTF_CSRF_ENABLED"] = False  # a POST reaches its view, not just the CSRF check
    for logged_in in (False, True):
        if logged_in:
            login(client, world)
        for rule in _rules(app):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                for url in _urls(rule):
                    _check(client, method, url, failures)
    assert failures == [], "\n".join(failures)


def test_query_parameters_refuse_out_of_range_values(app, client, world):
    failures: list[str] = []
    app.request_class = type("AskedRequest", (app.request_class,), {"parameter_storage_class": _AskedArgs})
    hooks = app.before_request_funcs[None]
    assert refuse_nul in hooks
    app.before_request_funcs[None] = [_unnoted(hook) if hook is refuse_nul else hook for hook in hooks]
    login(client, world)
    gets = [rule for rule in _rules(app) if "GET" in rule.methods and not rule.arguments]
    api_key = {"Authorization": f"Bearer {world.api_key}"}
    asked_anywhere: set[str] = set()
    unread: set[tuple[str, str]] = set()
    for rule in gets:
        headers = api_key if rule.rule.startswith("/api/") else None
        for name in QUERY_NAMES:
            first, *others = QUERY_VALUES
            _AskedArgs.asked.clear()
            _check(client, "GET", f"{rule.rule}?{name}={first}", failures, headers)
            if not _AskedArgs.asked & {name, "*"}:
                unread.add((rule.rule, name))
                continue
            asked_anywhere.add(name)
            for value in others:
                _check(client, "GET", f"{rule.rule}?{name}={value}", failures, headers)
    assert failures == [], "\n".join(failures)
    # The remembering arguments tell the pages apart: the reports read their period and filters, the
    # notices page its period but no channel, the home page nothing.
    assert {"year", "quarter", "unit", "field", "channel"} <= asked_anywhere, asked_anywhere
    assert ("/console/thong-bao/", "year") not in unread and ("/console/thong-bao/", "channel") in unread
    assert {("/console/", name) for name in QUERY_NAMES} <= unread


@pytest.mark.parametrize("body", [
    {"Phone": "0912345678", "Content": "1 1 1\x00", "MessageId": "m-1"},
    {"Phone": "0912345678\x00", "Content": "1", "MessageId": "m-2"},
    {"Phone": "0912345678", "Content": "\ud800 hai long", "MessageId": "m-3"},
    {"Phone": "\udfff", "Content": "1 2 3", "MessageId": "m-4\x00"},
])
def test_nul_and_lone_surrogates_in_http_inbound_are_answered_not_500(app, client, body):
    from sms_gateway.webhooks import SmsSettings

    with app.app_context():
        app.extensions["sms_settings"] = replace(SmsSettings.from_settings(app.extensions["sipas_settings"]),
                                                 http_inbound_secret="s")
    raw = json.dumps(body).encode()  # ensure_ascii keeps \ud800 as an escape the server decodes
    form = "&".join(f"{name}={quote(value, errors='surrogatepass')}" for name, value in body.items())
    for data, content_type in ((raw, "application/json"), (form, "application/x-www-form-urlencoded")):
        response = client.post("/sms/http/inbound", data=data, content_type=content_type,
                               headers={"X-Sipas-Secret": "s"})
        assert response.status_code < 500, response.get_data(as_text=True)
