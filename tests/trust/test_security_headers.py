"""Security headers on every page, a strict script policy the templates keep to, Allow on 405."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

from sipas.models import Role
from tests.factories import create_clerk, create_key, create_unit, login

ROOT = Path(__file__).parents[2]
ORDINARY = {"unit_code": "U-HDR", "code": "U-HDR", "year": "2026", "number": "1", "fmt": "pdf",
            "notice_id": "1", "device_id": "1", "user_id": "1", "kind": "invitation", "filename": "console.css"}


def _url(rule) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: quote(ORDINARY.get(m.group(1), "1")), rule.rule)


def assert_secured(response, url: str) -> None:  # type: ignore[no-untyped-def]
    policy = response.headers.get("Content-Security-Policy", "")
    script = next((d for d in policy.split(";") if d.strip().startswith("script-src")), "")
    assert script and "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, url
    assert "frame-ancestors 'none'" in policy, url
    assert response.headers.get("X-Content-Type-Options") == "nosniff", url
    assert response.headers.get("Referrer-Policy") == "no-referrer", url


def test_every_get_page_carries_the_security_headers(app, client, session):
    unit = create_unit(session, code="U-HDR")
    admin = create_clerk(session, unit, role=Role.ADMIN)
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {create_key(session, unit)}"
    session.commit()
    assert_secured(client.get("/console/login"), "/console/login")
    login(client, admin)
    urls = sorted({_url(rule) for rule in app.url_map.iter_rules() if "GET" in rule.methods})
    assert len(urls) > 30
    for url in urls:
        with client.get(url) as response:  # static files are streamed: close them
            assert_secured(response, url)
    assert_secured(client.get("/khong-co-trang-nay"), "404")


def test_a_405_names_the_allowed_methods(client):
    response = client.post("/healthz")
    assert response.status_code == 405 and "GET" in response.headers["Allow"]
    assert client.delete("/console/login").headers["Allow"]


def test_no_template_holds_inline_script_or_event_handlers():
    """Inline code would be blocked by the policy: it belongs in static files. JSON data blocks are fine."""
    offenders = []
    for path in ROOT.glob("*/templates/**/*.html"):
        text = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and 'type="application/json"' not in tag:
                offenders.append((path.name, tag))
        offenders += [(path.name, m) for m in re.findall(r"\son[a-z]+\s*=", text)]
    assert not offenders


def test_nginx_sends_hsts_over_https():
    config = (ROOT / "deploy" / "nginx" / "sipas.conf").read_text(encoding="utf-8")
    assert re.search(r'add_header Strict-Transport-Security "max-age=\d{8,}[^"]*" always;', config)
