"""docs/openapi.json is complete (every /api/v1 route), consistent ($refs resolve) and true: its
examples work against the app and real answers match its schemas."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from sipas.models import ResponseChannel
from tests.api.conftest import Api
from tests.factories import create_dossier, create_response, local

SPEC = json.loads((Path(__file__).parents[2] / "docs" / "openapi.json").read_text(encoding="utf-8"))
TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None), "number": (int, float)}


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = SPEC
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def check(value: Any, schema: dict[str, Any], where: str = "$") -> None:
    """A small JSON Schema subset: type, enum, const, properties, required, additionalProperties, items, oneOf."""
    schema = resolve(schema)
    if "oneOf" in schema:
        failures = []
        for option in schema["oneOf"]:
            try:
                check(value, option, where)
                return
            except AssertionError as exc:
                failures.append(str(exc))
        raise AssertionError(f"{where}: matches no oneOf branch: {failures}")
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        ok = any(isinstance(value, TYPES[t]) and not (t in ("number", "integer") and isinstance(value, bool))
                 if t != "integer" else isinstance(value, int) and not isinstance(value, bool) for t in types)
        assert ok, f"{where}: {value!r} is not {types}"
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if "const" in schema:
        assert value == schema["const"], where
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name in schema.get("required", []):
            assert name in value, f"{where}: missing {name}"
        extra = schema.get("additionalProperties", True)
        for name, item in value.items():
            if name in properties:
                check(item, properties[name], f"{where}.{name}")
            elif extra is False:
                raise AssertionError(f"{where}: undocumented property {name}")
            elif isinstance(extra, dict):
                check(item, extra, f"{where}.{name}")
            elif "properties" in schema and extra is not True:
                raise AssertionError(f"{where}: undocumented property {name}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            check(item, schema["items"], f"{where}[{index}]")


def documented(status: int, method: str, path: str) -> dict[str, Any]:
    response = resolve(SPEC["paths"][path][method]["responses"][str(status)])
    return response["content"]["application/json"]["schema"]


def flask_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def all_refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return ([node["$ref"]] if "$ref" in node else []) + [r for v in node.values() for r in all_refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in all_refs(v)]
    return []


def test_the_spec_is_openapi_3_1_with_resolvable_refs():
    assert SPEC["openapi"] == "3.1.0"
    assert SPEC["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for ref in all_refs(SPEC):
        resolve({"$ref": ref})  # KeyError if dangling
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            if method.startswith("x-"):
                continue
            assert operation["responses"] and operation["summary"], (path, method)
            if operation.get("security", SPEC["security"]):
                assert "401" in operation["responses"], (path, method)


def test_every_api_route_of_the_app_is_documented_with_its_methods(app):
    routes = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1") or r.rule == "/healthz"]
    assert len(routes) >= 5
    for rule in routes:
        path = flask_path(rule.rule)
        assert path in SPEC["paths"], f"{path} is served but missing from docs/openapi.json"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in SPEC["paths"][path], f"{method} {path} missing from docs/openapi.json"


def test_every_documented_core_path_is_served(app):
    served = {flask_path(r.rule) for r in app.url_map.iter_rules()}
    for path, item in SPEC["paths"].items():
        if "x-provided-by" not in item:
            assert path in served, path


def test_the_examples_work_and_real_answers_match_the_schemas(api: Api, client, session, ward, catalogue):
    examples = SPEC["paths"]["/api/v1/dossiers"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    created = api.post("/dossiers", examples["tiep_nhan"]["value"])
    assert created.status_code == 201, created.json
    check(created.json, documented(201, "post", "/api/v1/dossiers"))
    updated = api.post("/dossiers", examples["tra_ket_qua"]["value"])
    assert updated.status_code == 200, updated.json
    check(updated.json, documented(200, "post", "/api/v1/dossiers"))

    example = SPEC["paths"]["/api/v1/responses"]["post"]["requestBody"]["content"]["application/json"]["example"]
    stored = api.post("/responses", example)
    assert stored.status_code == 201, stored.json
    check(stored.json, documented(201, "post", "/api/v1/responses"))
    refused = api.post("/responses", example)
    check(refused.json, documented(409, "post", "/api/v1/responses"))

    rated = create_dossier(session, ward, code="HS-DA-DANHGIA", received_at=local(2026, 2, 2),
                           returned_at=local(2026, 2, 3), phone="+84912345678")
    create_response(session, catalogue, ward, dossier=rated, instrument="hue12", now=local(2026, 2, 3, 10))
    session.commit()
    check(api.get("/dossiers/HS-DA-DANHGIA").json, documented(200, "get", "/api/v1/dossiers/{code}"))
    check(api.get("/instruments").json, documented(200, "get", "/api/v1/instruments"))
    check(client.get("/healthz").json, documented(200, "get", "/healthz"))


def test_the_documented_channels_are_the_api_s():
    """Every channel a response can have (``ResponseChannel``: ``zalo`` too) is in the schemas that answer it."""
    schemas = SPEC["components"]["schemas"]
    channels = {str(c) for c in ResponseChannel}
    assert set(schemas["Response"]["properties"]["channel"]["enum"]) == channels
    assert set(schemas["DossierRating"]["properties"]["channel"]["enum"]) == channels | {None}
    described = schemas["ResponseInput"]["properties"]["channel"]["description"]
    assert all(channel in described for channel in channels), described


def test_a_zalo_rating_answer_matches_the_documented_schemas(api: Api, session, ward):
    create_dossier(session, ward, code="HS-ZALO-1", received_at=local(2026, 1, 5), returned_at=local(2026, 1, 6))
    session.commit()
    stored = api.post("/responses", {"instrument": "quay4", "channel": "zalo", "dossier_code": "HS-ZALO-1",
                                     "submitted_at": "2026-01-07T10:00:00+07:00",
                                     "answers": {"q1": "hai_long", "q2": "hai_long", "q3": "dung_hen",
                                                 "q4": "don_gian"}})
    assert stored.status_code == 201 and stored.json["channel"] == "zalo", stored.json
    check(stored.json, documented(201, "post", "/api/v1/responses"))
    check(api.get("/dossiers/HS-ZALO-1").json, documented(200, "get", "/api/v1/dossiers/{code}"))


@pytest.mark.parametrize(("method", "path", "body", "status", "spec_path"), [
    ("get", "/dossiers/KHONG-CO", None, 404, "/api/v1/dossiers/{code}"),
    ("post", "/dossiers", {"code": 1}, 422, "/api/v1/dossiers"),
    ("post", "/responses", {"instrument": "quay4", "dossier_code": "KHONG-CO", "answers": {}}, 422,
     "/api/v1/responses"),
    ("post", "/responses", {"instrument": "quay4", "dossier_code": "KHONG-CO", "answers": {
        "q1": "hai_long", "q2": "hai_long", "q3": "dung_hen", "q4": "don_gian"}}, 404, "/api/v1/responses"),
    ("post", "/dossiers", {"code": "HS", "received_at": "2026-01-05", "unit": "NOI-KHAC"}, 403, "/api/v1/dossiers"),
    ("get", "/reports?district=QUAN&channel=paper", None, 422, "/api/v1/reports"),
])
def test_error_answers_match_the_documented_error_schema(api: Api, method, path, body, status, spec_path):
    response = api.get(path) if method == "get" else api.post(path, body)
    assert response.status_code == status
    check(response.json, documented(status, method, spec_path))
    assert str(status) in SPEC["paths"][spec_path][method]["responses"]


@pytest.mark.parametrize(("value", "schema"), [
    ({"code": 1}, {"type": "object", "properties": {"code": {"type": "string"}}}),
    ({}, {"type": "object", "required": ["code"]}),
    ({"x": 1}, {"type": "object", "properties": {}, "additionalProperties": False}),
    ([1, "a"], {"type": "array", "items": {"type": "integer"}}),
    (True, {"type": "integer"}),
    ("late", {"type": "string", "enum": ["early"]}),
])
def test_the_schema_checker_rejects_what_it_should(value, schema):
    with pytest.raises(AssertionError):
        check(value, schema)
