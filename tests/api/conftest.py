"""API fixtures: a ward with its own bearer key, and a client that sends it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from sipas.models import Unit
from tests.factories import create_key, create_unit


class Api:
    """A test client speaking JSON with one bearer key."""

    def __init__(self, client: FlaskClient, key: str) -> None:
        self.client, self.key = client, key

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", **extra}

    def get(self, path: str, **kwargs: Any):  # type: ignore[no-untyped-def]
        return self.client.get(f"/api/v1{path}", headers=self.headers(), **kwargs)

    def post(self, path: str, body: Any, **headers: str):  # type: ignore[no-untyped-def]
        # json.dumps escapes non-ASCII (as many clients do), so lone surrogates can be sent as \ud800
        return self.client.post(f"/api/v1{path}", data=json.dumps(body), content_type="application/json",
                                headers=self.headers(**headers))


@pytest.fixture
def ward(session: Session) -> Unit:
    unit = create_unit(session, code="P-THUANHOA", name="Phường Thuận Hòa")
    session.commit()
    return unit


@pytest.fixture
def api(client: FlaskClient, session: Session, ward: Unit) -> Api:
    key = create_key(session, ward)
    session.commit()
    return Api(client, key)
