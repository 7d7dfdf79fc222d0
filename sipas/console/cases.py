"""Console pages of the follow-up cases ("Phản ánh cần xử lý"): the list, one case and its actions, the unit's rules.

Routes stay thin: the rules are in ``sipas.cases``. The dossier of a case is shown only where the unit's
rule (``case_show_dossier``) allows it; the citizen's phone never is.
"""

from __future__ import annotations

import re

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from sipas.cases import rules, service
from sipas.cases.models import CaseStatus
from sipas.cases.reply import reply_possibility, send_reply
from sipas.catalogue import Criterion
from sipas.clock import Period, local_date, utcnow
from sipas.console import bp
from sipas.console.auth import actor_name, allowed_units, current_user, roles_required, unit_for_user
from sipas.console.refusal import refuse
from sipas.context import get_catalogue, get_settings
from sipas.day_input import parse_day
from sipas.errors import ValidationError
from sipas.models import ResponseChannel, Role, User, UserUnit
from sipas.parsing import CHANNEL_LABELS_VI
from sipas.storage import db_session
from sipas.text import vietnamese_key

EVERY_ROLE = (Role.ADMIN, Role.CLERK, Role.LEADER)


def _who() -> str:
    user = current_user()
    return (user.full_name or user.username) if user else "?"


def _filters() -> tuple[service.CaseFilters, dict[str, str]]:
    """The list filters from the query string; an unreadable value is ignored (and not echoed back)."""
    args = {name: request.args.get(name, "").strip() for name in
            ("unit", "quarter", "from", "to", "criterion", "channel", "status", "assignee", "overdue")}
    period = None
    if args["quarter"]:  # a quarter wins over dates
        try:
            period = Period.parse_quarter(args["quarter"])
        except ValueError:
            flash("Quý không hợp lệ, cần dạng 2026Q2.", "error")
            args["quarter"] = ""
        args["from"] = args["to"] = ""
    elif args["from"] or args["to"]:
        try:
            period = Period(parse_day(args["from"] or "01/01/2000"), parse_day(args["to"] or "31/12/2100"))
        except ValueError:  # not a day, a day outside 2000-2100, or the end before the start
            period = None
            flash("Khoảng thời gian không hợp lệ: cần ngày dạng ngày/tháng/năm (ví dụ 01/04/2026) trong các năm "
                  "2000-2100 và ngày bắt đầu không sau ngày kết thúc.", "error")
            args["from"] = args["to"] = ""
    channel = args["channel"] if args["channel"] in {c.value for c in ResponseChannel} else ""
    status = args["status"] if args["status"] in {s.value for s in CaseStatus} else ""
    # an account id, or NO_ASSIGNEE (-1); "--1" passed lstrip("-").isdigit() and int() raised
    assignee = int(args["assignee"]) if re.fullmatch(r"-?[0-9]{1,9}", args["assignee"]) else None
    args |= {"channel": channel, "status": status, "assignee": "" if assignee is None else str(assignee)}
    return service.CaseFilters(period=period, criterion=args["criterion"][:64] or None,
                               channel=ResponseChannel(channel) if channel else None,
                               status=CaseStatus(status) if status else None, assignee_id=assignee,
                               overdue=args["overdue"] == "1"), args


def _officers(unit_ids: list[int]) -> list[User]:
    """Active accounts of these units that can handle a case (clerks and admins), in Vietnamese alphabetical order
    of their names."""
    return sorted(db_session().scalars(
        select(User).join(UserUnit, UserUnit.user_id == User.id)
        .where(UserUnit.unit_id.in_(unit_ids), User.active.is_(True), User.role.in_((Role.CLERK, Role.ADMIN)))
        .distinct()), key=lambda u: (vietnamese_key(u.full_name or ""), vietnamese_key(u.username)))


@bp.get("/cases", endpoint="cases")
@roles_required(*EVERY_ROLE)
def cases_list():  # type: ignore[no-untyped-def]
    """Phản ánh cần xử lý of the user's units (or one of them), filtered."""
    settings = get_settings()
    filters, args = _filters()
    units = [unit_for_user(args["unit"])] if args["unit"] else allowed_units()
    unit_ids = [u.id for u in units]
    today = local_date(utcnow(), settings.tz)
    page = service.case_page(db_session(), get_catalogue(), unit_ids, filters, tz=settings.tz, today=today,
                             limit=service.LIST_LIMIT)
    criteria = {c: _label(code, version, c) for c, (code, version) in page.criteria.items()}
    if filters.criterion and filters.criterion not in criteria:
        criteria[filters.criterion] = filters.criterion
    return render_template("console/cases/list.html", rows=page.rows, total=page.total,
                           overdue=page.overdue, units=allowed_units(), args=args,
                           statuses=rules.STATUS_LABELS, channels=CHANNEL_LABELS_VI, criteria=criteria,
                           officers=_officers(unit_ids), no_assignee=service.NO_ASSIGNEE, limit=service.LIST_LIMIT,
                           criterion_label=_criterion_label)


def _row(response_id: int) -> service.CaseRow:
    settings = get_settings()
    row = service.find_row(db_session(), get_catalogue(), [u.id for u in allowed_units()], response_id,
                           tz=settings.tz, today=local_date(utcnow(), settings.tz))
    if row is None:
        abort(404)
    return row


@bp.get("/cases/<int:response_id>", endpoint="case_detail")
@roles_required(*EVERY_ROLE)
def case_detail(response_id: int):  # type: ignore[no-untyped-def]
    """One case: the rating, what was done, the trail, and the actions."""
    row = _row(response_id)
    unit = row.response.unit
    answers = []
    for answer in row.response.answers:
        criterion = _criterion(row.response.instrument_code, row.response.instrument_version, answer.criterion_code)
        option = criterion.option(answer.option_code) if criterion and answer.option_code else None
        answers.append({"label": criterion.short_label if criterion else answer.criterion_code,
                        "option": option.label if option else "Không áp dụng",
                        "dissatisfied": answer.criterion_code in row.dissatisfied})
    next_statuses = [s for s in CaseStatus if s in rules.NEXT_STATUSES[row.status]]  # in workflow order
    return render_template("console/cases/detail.html", row=row, unit=unit, rules=service.case_settings(unit),
                           statuses=rules.STATUS_LABELS, next_statuses=next_statuses,
                           officers=_officers([unit.id]), reply=reply_possibility(row.response),
                           channels=CHANNEL_LABELS_VI, answers=answers, local=_local)


def _criterion(code: str, version: str, criterion_code: str) -> Criterion | None:
    try:
        return get_catalogue().version(code, version).criterion(criterion_code)
    except KeyError:
        return None


def _criterion_label(row: service.CaseRow, criterion_code: str) -> str:
    return _label(row.response.instrument_code, row.response.instrument_version, criterion_code)


def _label(code: str, version: str, criterion_code: str) -> str:
    criterion = _criterion(code, version, criterion_code)
    return criterion.short_label if criterion else criterion_code


def _local(value):  # type: ignore[no-untyped-def]
    """A UTC timestamp as local "HH:MM dd/mm/yyyy"."""
    return value.astimezone(get_settings().tz).strftime("%H:%M %d/%m/%Y") if value else ""


@bp.post("/cases/<int:response_id>", endpoint="case_action")
@roles_required(Role.ADMIN, Role.CLERK)
def case_action(response_id: int):  # type: ignore[no-untyped-def]
    """Assign, record, change status or reply by SMS; each creates the case at the first action."""
    row = _row(response_id)
    session, now, action = db_session(), utcnow(), request.form.get("action", "")
    if action not in ("assign", "record", "status", "reply"):
        flash("Thao tác không hợp lệ.", "error")
        return redirect(url_for("console.case_detail", response_id=response_id)), 303
    who, actor = _who(), actor_name()
    try:
        case = service.ensure_case(session, row, actor=actor, who=who, now=now)
        if action == "assign":
            officer_id = request.form.get("assignee", "")
            officer = next((u for u in _officers([row.response.unit_id]) if str(u.id) == officer_id), None)
            if officer is None:
                raise ValidationError("Hãy chọn cán bộ xử lý thuộc đơn vị.", field="assignee")
            service.assign(session, case, officer, actor=actor, who=who, now=now)
        elif action == "record":
            service.record(session, case, explanation=request.form.get("explanation", ""),
                           contact_made=request.form.get("contact_made", ""), outcome=request.form.get("outcome", ""),
                           actor=actor, who=who, now=now)
        elif action == "status":
            target = request.form.get("status", "")
            if target not in {s.value for s in CaseStatus}:
                raise ValidationError("Trạng thái không hợp lệ.", field="status")
            service.move(session, case, CaseStatus(target), actor=actor, who=who, now=now, tz=get_settings().tz)
        else:
            sender = current_app.extensions.get("sipas_case_reply_sender")
            outcome = send_reply(session, case, request.form.get("reply", ""), sender, actor=actor, who=who, now=now)
            session.commit()
            if outcome.possible:
                flash("Đã gửi tin nhắn trả lời người dân.", "success")
            else:
                flash(f"Không gửi được tin nhắn trả lời: {outcome.reason_vi} Đã ghi vào nhật ký phản ánh.", "error")
            return redirect(url_for("console.case_detail", response_id=response_id)), 303
    except ValidationError as exc:
        session.rollback()
        refuse(f"Không lưu được: {exc.message_vi}", exc.field)
        return redirect(url_for("console.case_detail", response_id=response_id)), 303
    session.commit()
    flash("Đã lưu.", "success")
    return redirect(url_for("console.case_detail", response_id=response_id)), 303


@bp.route("/cases/settings", methods=["GET", "POST"], endpoint="case_settings")
@roles_required(Role.ADMIN)
def case_settings_page():  # type: ignore[no-untyped-def]
    """The unit's case rules: days to answer, and whether clerks see the dossier of a case."""
    source = request.form if request.method == "POST" else request.args
    units = allowed_units()
    if not source.get("unit") and not units:
        abort(404)
    unit = unit_for_user(source.get("unit") or units[0].code)
    if request.method == "POST":
        session = db_session()
        try:
            service.save_case_settings(session, unit, request.form.get("due_days", ""),
                                       request.form.get("show_dossier") == "on", actor=actor_name())
        except ValidationError as exc:
            session.rollback()
            refuse(exc.message_vi, exc.field)
            return render_template("console/cases/settings.html", unit=unit, units=units,
                                   rules=service.case_settings(unit)), 422
        session.commit()
        flash("Đã lưu quy định xử lý phản ánh.", "success")
        return redirect(url_for("console.case_settings", unit=unit.code))
    return render_template("console/cases/settings.html", unit=unit, units=units, rules=service.case_settings(unit))
