"""``GET /api/v1/reports``: the same JSON as ``sipas report --json`` for the same inputs.

Query: ``unit`` (default: the key's unit; a district key may name its wards) or ``district`` (the
ranking of a district's wards), and a period: ``from`` + ``to`` (YYYY-MM-DD), ``quarter`` (2023Q1),
``month`` (2023-02) or ``year``; none = the current quarter. Optional ``field`` and ``channel`` (a report's
only: a ranking with either is refused, 422 ``ranking_not_filtered``).
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from aggregator.params import PeriodError, parse_period
from aggregator.service import check_ranking_unfiltered, district_ranking, unit_report
from sipas.api.auth import api_key_required, resolve_unit
from sipas.api.errors import register_api_errors
from sipas.clock import local_date, utcnow
from sipas.context import get_catalogue, get_settings
from sipas.errors import ValidationError
from sipas.storage import db_session
from sipas.text import is_storable

bp = Blueprint("aggregator_api", __name__, url_prefix="/api/v1")
register_api_errors(bp)


@bp.get("/reports")
@api_key_required
def reports() -> ResponseReturnValue:
    """The report of a unit (and its units below), or with ``district=`` the ranking of its wards."""
    args = request.args
    if args.get("unit") and args.get("district"):
        raise ValidationError("Chỉ nêu một trong hai: unit hoặc district.", field="unit")
    for name, value in args.items(multi=True):
        if not is_storable(value) or len(value) > 200:
            raise ValidationError(f"Giá trị của {name} chứa ký tự không hợp lệ hoặc quá dài.", field=name,
                                  detail="unreadable query parameter")
    if args.get("district"):
        check_ranking_unfiltered(args.get("field"), args.get("channel"))
    settings = get_settings()
    now = utcnow()
    try:
        period = parse_period(start=args.get("from"), end=args.get("to"), quarter=args.get("quarter"),
                              month=args.get("month"), year=args.get("year"), today=local_date(now, settings.tz))
    except PeriodError as exc:
        raise ValidationError(str(exc), field="period", detail="bad period") from None
    session = db_session()
    if args.get("district"):
        district = resolve_unit(args["district"])
        data = district_ranking(session, get_catalogue(), district, period, tz=settings.tz, now=now)
    else:
        unit = resolve_unit(args.get("unit"))
        try:
            data = unit_report(session, get_catalogue(), unit, period, tz=settings.tz, now=now,
                               field=args.get("field"), channel=args.get("channel"))
        except PeriodError as exc:
            raise ValidationError(str(exc), field=exc.field, detail="bad filter") from None
    return jsonify(data)
