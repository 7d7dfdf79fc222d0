"""The citizen's pages behind a short link: the phone form, its submit, and the link's QR code.

A GET only renders (phones and carriers pre-open links); the link is spent by the POST. The form
works without JavaScript (plain radio buttons posted as a form); the kiosk's rating component
takes it over when scripts run, posting JSON to the same URL with the form token in a header.

The form token is signed with the secret key and bound to the link instead of living in the session
cookie: an in-app browser that drops cookies, or a phone reaching a demo over plain http (where the
Secure session cookie is never stored), can still submit. The blueprint is exempt from the
session-based CSRF check for that reason.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer

from sipas.catalogue import Instrument
from sipas.clock import utcnow
from sipas.context import get_catalogue, get_settings
from sipas.errors import DomainError, DossierNotReturned
from sipas.responses import checked_comment, resolve_instrument
from sipas.storage import db_session, get_database, lock_on_write
from sms_gateway import link_throttle
from sms_gateway.link_submit import LinkExpired, LinkUsed, submit_via_link
from sms_gateway.links import find_link, link_url
from sms_gateway.models_links import ShortLink
from sms_gateway.phone_missing import check_all_answered
from sms_gateway.qr import qr_png, qr_svg
from sms_gateway.slips import is_rated

log = logging.getLogger(__name__)
bp = Blueprint("sms_phone", __name__, url_prefix="/r", template_folder="templates")

NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"}


def instrument_payload(instrument: Instrument) -> dict[str, Any]:
    """What the rating component needs: criteria, their options and whether "not applicable" is allowed."""
    return {
        "code": instrument.code,
        "version": instrument.version,
        "label": instrument.label,
        "na_label": "Không áp dụng",
        "criteria": [
            {"code": c.code, "label": c.label, "citizen_label": c.citizen_label, "short_label": c.short_label,
             "allow_na": c.allow_na,
             "options": [{"code": o.code, "label": o.label, "points": o.points} for o in c.options]}
            for c in instrument.citizen_criteria
        ],
    }


def rating_component() -> dict[str, str] | None:
    """URLs of the kiosk's rating component (ES module + CSS) and of the module that mounts it on the
    phone form (a static file: the Content-Security-Policy allows no inline script), when the kiosk
    channel is installed."""
    if "kiosk" not in current_app.blueprints:
        return None
    return {"js": url_for("kiosk.static", filename="kiosk/rating-flow.js"),
            "css": url_for("kiosk.static", filename="kiosk/rating.css"),
            "phone": url_for("kiosk.static", filename="kiosk/phone-form.js")}


def _page(template: str, status: int, **context: Any) -> Response:
    context.setdefault("component", rating_component())
    if context.get("link") is not None:
        context.setdefault("form_token", form_token(context["link"]))
    response = Response(render_template(template, **context), status=status, mimetype="text/html")
    response.headers.update(NO_STORE)
    return response


def _message(kind: str, status: int, link: ShortLink | None = None) -> Response:
    return _page("sms/phone_message.html", status, kind=kind, link=link)


#: what a dossier code typed on a blank ballot may find: none, one not yet returned, one rated already
DOSSIER_MISSES = frozenset({"unknown_dossier", "not_returned", "already_rated"})


def _spent_kind(link: ShortLink) -> str:
    """"used" when this link carried the rating; "rated" when the dossier was rated elsewhere (kiosk, paper,
    another link): the citizen never used the link, so telling them it was used would be wrong."""
    return "used" if link.response_id is not None else "rated"


def _load(code: str) -> ShortLink:
    """The link, or abort with a friendly page. Misses are counted per client; past the limit a client
    gets 429 for unknown codes. A valid link is always served: behind a proxy many citizens may share
    one address, and a scanner must not lock them out."""
    session, settings, now = db_session(), get_settings(), utcnow()
    link = find_link(session, code)
    if link is not None:
        return link
    if request.method in ("GET", "HEAD"):
        # the GET's session only reads; the count goes through a short write session of its own (the read
        # transaction is ended first so one request never holds two pooled connections)
        session.commit()
        with get_database().session() as counting:
            throttled = link_throttle.count_miss(counting, settings, request.remote_addr or "?", now)
    else:
        throttled = link_throttle.count_miss(session, settings, request.remote_addr or "?", now)
        session.commit()
    abort(_message("throttled", 429) if throttled else _message("unknown", 404))


@bp.get("/<code>")
def form(code: str):  # type: ignore[no-untyped-def]
    """Render the phone form (never spends the link)."""
    link = _load(code)
    now = utcnow()
    if link.used_at is not None or (link.dossier is not None
                                    and is_rated(db_session(), link.dossier, link.instrument_code)):
        return _message(_spent_kind(link), 200, link)  # rated here, or meanwhile at the kiosk or on paper
    if link.is_expired(now):
        return _message("expired", 410, link)
    if link.dossier is not None and link.dossier.returned_at is None:
        # its return date cleared since the invitation (a correction): said before the questions, not after them;
        # the link stays usable for when the dossier is returned
        return _message("not_returned", 200, link)
    settings = get_settings()
    instrument = resolve_instrument(get_catalogue(), link.instrument_code, now, settings.tz)
    return _page("sms/phone_form.html", 200, link=link, instrument=instrument, component=_component_for(link),
                 payload=instrument_payload(instrument), submit_key=secrets.token_urlsafe(12))


def _component_for(link: ShortLink) -> dict[str, str] | None:
    """A blank-ballot link asks for the dossier code, which the kiosk's rating component has no field for: its
    plain form is served as is."""
    return rating_component() if link.dossier_id is not None else None


def _dossier_label(link: ShortLink) -> str:
    return link.dossier.code if link.dossier is not None else "(phiếu trắng)"


def _answers_from_form(instrument: Instrument) -> dict[str, str]:
    return {c.code: request.form.get(f"a_{c.code}", "") for c in instrument.citizen_criteria}


@bp.post("/<code>")
@lock_on_write
def submit(code: str):  # type: ignore[no-untyped-def]
    """Record the rating and spend the link (JSON from the component, or the plain form)."""
    link = _load(code)
    if not _token_ok(link):
        return _token_refused()
    session, settings, now = db_session(), get_settings(), utcnow()
    client = request.remote_addr or "?"
    blank = link.dossier_id is None  # the citizen types the dossier code: its misses count as wrong link codes
    if blank and link_throttle.over_limit(session, settings, client, now):
        return _message("throttled", 429)
    wants_json = request.is_json
    body = (request.get_json(silent=True) or {}) if wants_json else {}
    if not isinstance(body, dict):
        body = {}
    instrument = None
    try:
        instrument = resolve_instrument(get_catalogue(), link.instrument_code, now, settings.tz)
        if wants_json:
            raw = body.get("answers")
            answers = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
            comment, key = body.get("comment"), body.get("idempotency_key")
            typed = body.get("dossier_code")
        else:
            answers = _answers_from_form(instrument)
            if link.is_open(now):  # a spent or expired link answers with its state, never with the form again
                check_all_answered(instrument, answers)
            comment, key = request.form.get("comment"), request.form.get("submit_key")
            typed = request.form.get("dossier_code")
        submitted = submit_via_link(session, get_catalogue(), link, answers, comment=checked_comment(comment),
                                    client_key=str(key or "") or None, now=now, tz=settings.tz,
                                    dossier_code=typed if isinstance(typed, str) else None, alone=True)
    except DomainError as exc:
        if exc.keeps_audit:
            session.commit()
        else:
            session.rollback()
        log.info("link submit refused: %s (dossier %s)", exc.code, _dossier_label(link))
        if blank and exc.code in DOSSIER_MISSES:
            throttled = link_throttle.count_miss(session, settings, client, now)
            session.commit()
            if throttled:
                return _message("throttled", 429)
        if wants_json:
            return jsonify(exc.to_dict()), exc.http_status, NO_STORE
        if isinstance(exc, LinkUsed):
            return _message(_spent_kind(link), 409, link)
        if isinstance(exc, LinkExpired):
            return _message("expired", 410, link)
        if isinstance(exc, DossierNotReturned) and link.dossier is not None:
            return _message("not_returned", 422, link)  # nothing on the form would change that
        if instrument is None:
            raise
        return _page("sms/phone_form.html", 422, link=link, instrument=instrument, error=exc,
                     component=_component_for(link),
                     payload=instrument_payload(instrument), chosen=request.form,
                     submit_key=request.form.get("submit_key") or secrets.token_urlsafe(12))
    session.commit()
    log.info("link rating stored: dossier %s channel %s response %s%s", _dossier_label(link), link.channel,
             submitted.response.id, " (replayed)" if submitted.replayed else "")
    if wants_json:
        return jsonify(status="ok", message="Cảm ơn ông/bà đã đánh giá."), 200, NO_STORE
    return _message("thanks", 200, link)


@bp.get("/<code>/qr.svg")
def qr_svg_view(code: str):  # type: ignore[no-untyped-def]
    """The link's QR code as SVG."""
    link = _load(code)
    return Response(qr_svg(link_url(get_settings(), link)), mimetype="image/svg+xml", headers=NO_STORE)


@bp.get("/<code>/qr.png")
def qr_png_view(code: str):  # type: ignore[no-untyped-def]
    """The link's QR code as PNG (``?size=`` module size in pixels, 2-20)."""
    link = _load(code)
    size = min(max(request.args.get("size", 8, type=int) or 8, 2), 20)
    return Response(qr_png(link_url(get_settings(), link), box_size=size), mimetype="image/png", headers=NO_STORE)


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="sipas.link-form")


def form_token(link: ShortLink) -> str:
    return _signer().dumps(link.code)


def _token_ok(link: ShortLink) -> bool:
    token = request.headers.get("X-CSRFToken") or request.form.get("csrf_token") or ""
    try:
        return bool(token) and _signer().loads(token) == link.code
    except BadSignature:
        return False


def _token_refused() -> Any:
    if request.is_json:
        return jsonify(code="csrf", message="Phiên làm việc đã hết hạn. Vui lòng tải lại trang."), 400, NO_STORE
    return _message("csrf", 400)
