"""docs/openapi.json documents the 503 ``database_unavailable`` answer (``sipas/failures.py``, docs/api.md) on every
/api/v1 operation, and what each operation answers while PostgreSQL is down matches it (Retry-After included)."""

from __future__ import annotations

from typing import Any

import pytest

from sipas.failures import RETRY_AFTER_SECONDS
from sipas.storage import get_database
from tests.api.test_openapi import SPEC, check, documented, resolve
from tests.factories import create_key, create_unit
from tests.trust.test_database_outage import cluster, outage_app, stop  # noqa: F401  (fixtures)


def api_operations() -> list[tuple[str, str]]:
    return [(method, path) for path, item in SPEC["paths"].items() if path.startswith("/api/v1")
            for method in item if not method.startswith("x-")]


def test_every_api_operation_documents_503_with_retry_after():
    error = SPEC["components"]["schemas"]["Error"]["properties"]["error"]
    assert "database_unavailable" in error["properties"]["code"]["enum"]
    assert set(error["properties"]["reason"]["enum"]) == {"database_unreachable", "database_busy"}
    assert len(api_operations()) >= 5
    for method, path in api_operations():
        responses = SPEC["paths"][path][method]["responses"]
        assert "503" in responses, f"{method.upper()} {path} does not document 503"
        unavailable = resolve(responses["503"])
        assert unavailable["headers"]["Retry-After"]["schema"]["type"] == "integer", (method, path)
        example = unavailable["content"]["application/json"]["example"]
        check(example, documented(503, method, path))
        assert example["error"]["code"] == "database_unavailable"


def _request(client: Any, method: str, path: str, key: str) -> Any:
    url = path.replace("{code}", "HS-1")
    headers = {"Authorization": f"Bearer {key}"}
    if method == "get":
        return client.get(url, headers=headers)
    operation = SPEC["paths"][path][method]
    content = operation["requestBody"]["content"]["application/json"]
    body = content["example"] if "example" in content else next(iter(content["examples"].values()))["value"]
    return client.post(url, json=body, headers=headers)


@pytest.mark.slow
def test_a_real_outage_answers_every_api_operation_as_documented(outage_app, cluster):  # noqa: F811
    client = outage_app.test_client()
    with get_database(outage_app).session() as session:
        key = create_key(session, create_unit(session))
    assert client.get("/api/v1/instruments", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    stop(cluster)
    for method, path in api_operations():
        answer = _request(client, method, path, key)
        assert answer.status_code == 503, (method, path, answer.get_data(as_text=True))
        assert int(answer.headers["Retry-After"]) == RETRY_AFTER_SECONDS, (method, path)
        check(answer.json, documented(503, method, path))
        assert answer.json["error"]["code"] == "database_unavailable", (method, path)
        assert answer.json["error"]["reason"] == "database_unreachable", (method, path)
        assert answer.json["error"]["retry_after"] == RETRY_AFTER_SECONDS, (method, path)
