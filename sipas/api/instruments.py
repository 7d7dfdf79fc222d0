"""GET /api/v1/instruments: the criterion sets in effect, in catalogue order."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from sipas.api import bp
from sipas.api.auth import api_key_required
from sipas.catalogue import Instrument
from sipas.clock import local_date, utcnow
from sipas.context import get_catalogue, get_settings


def instrument_json(instrument: Instrument) -> dict[str, Any]:
    return {
        "code": instrument.code,
        "version": instrument.version,
        "label": instrument.label,
        "effective_from": instrument.effective_from.isoformat(),
        "legal_basis": instrument.legal_basis,
        "criteria": [
            {
                "code": c.code,
                "label": c.label,
                "short_label": c.short_label,
                "source": str(c.source),
                "allow_na": c.allow_na,
                "options": [{"code": o.code, "label": o.label, "points": o.points} for o in c.options],
            }
            for c in instrument.criteria
        ],
    }


@bp.get("/instruments")
@api_key_required
def list_instruments():  # type: ignore[no-untyped-def]
    """The version of every instrument in effect today."""
    today = local_date(utcnow(), get_settings().tz)
    return jsonify([instrument_json(i) for i in get_catalogue().latest(today)])
