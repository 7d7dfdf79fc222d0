"""Console pages for keying paper ballots (phiếu giấy): batches, the keyed-entry form, double-entry checks.

Thin routes over ``sipas.ballots``. The entry form works with one form post per ballot; ``ballot_entry.js``
makes it faster (digits jump to the next question, Enter saves through ``fetch`` and clears the form).
"""

from __future__ import annotations

import secrets
from datetime import date

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from sipas import ballot_double_entry as double_entry
from sipas import ballot_keys, ballots
from sipas.clock import local_date, utcnow
from sipas.console import bp
from sipas.console.auth import actor_name, allowed_units, roles_required, unit_for_user
from sipas.context import get_catalogue, get_settings
from sipas.day_input import day_text, parse_day
from sipas.errors import DomainError, ValidationError
from sipas.models import Role
from sipas.models_ballots import BallotBatch
from sipas.storage import db_session

WORKERS = (Role.ADMIN, Role.CLERK)
MAX_BATCHES_SHOWN = 100


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _batch(unit_code: str, batch_id: int) -> BallotBatch:
    unit = unit_for_user(unit_code)
    batch = db_session().get(BallotBatch, batch_id)
    if batch is None or batch.unit_id != unit.id:
        abort(404)
    return batch


def _batch_url(batch: BallotBatch, **args: object) -> str:
    return url_for("console.ballot_batch", unit_code=batch.unit.code, batch_id=batch.id, **args)


@bp.get("/ballots", endpoint="ballots")
@roles_required(*WORKERS)
def ballot_batches():  # type: ignore[no-untyped-def]
    """The batches of the user's units, newest first, and the form that opens a new batch."""
    return _batches_page({}, None)


def _batches_page(form: dict[str, object], problem: str | None) -> str:
    units = allowed_units()
    session, settings = db_session(), get_settings()
    today = local_date(utcnow(), settings.tz)
    batches = list(session.scalars(select(BallotBatch).where(BallotBatch.unit_id.in_([u.id for u in units]))
                                   .order_by(BallotBatch.id.desc()).limit(MAX_BATCHES_SHOWN))) if units else []
    counts = {b.id: ballots.line_count(session, b) for b in batches}
    defaults = {"unit": units[0].code if len(units) == 1 else "", "batch_date": day_text(today), "handed_out": "",
                "instrument": units[0].default_instrument if units else "",
                "double_entry": bool(units and units[0].options.get(ballots.BALLOT_DOUBLE_ENTRY))}
    return render_template("console/ballots/index.html", units=units, batches=batches, counts=counts,
                           instruments=get_catalogue().latest(today), form=defaults | form, problem=problem,
                           can_print="sms_console.ballot_print_form" in current_app.view_functions)


@bp.post("/ballots/new", endpoint="ballot_batch_create")
@roles_required(*WORKERS)
def ballot_batch_create():  # type: ignore[no-untyped-def]
    """Open a batch: the day its ballots were filled in, how many were handed out, single or double entry."""
    form = {key: request.form.get(key, "").strip() for key in ("unit", "batch_date", "handed_out", "instrument")}
    form_with_flag: dict[str, object] = {**form, "double_entry": request.form.get("double_entry") == "1"}
    if not form["unit"]:
        return _batches_page(form_with_flag, "Hãy chọn đơn vị."), 400
    unit = unit_for_user(form["unit"])
    settings, session, now = get_settings(), db_session(), utcnow()
    try:
        batch_date = _date(form["batch_date"])
        handed_out = _count(form["handed_out"])
        batch = ballots.create_batch(session, get_catalogue(), unit, instrument_code=form["instrument"],
                                     batch_date=batch_date, handed_out=handed_out,
                                     double_entry=bool(form_with_flag["double_entry"]), actor=actor_name(),
                                     now=now, tz=settings.tz)
    except DomainError as exc:
        session.rollback()
        return _batches_page(form_with_flag, exc.message_vi), 400
    session.commit()
    return redirect(_batch_url(batch), 303)


def _date(value: str) -> date:
    try:
        return parse_day(value)
    except ValueError:
        raise ValidationError("Ngày của lô phiếu không hợp lệ: cần dạng ngày/tháng/năm, ví dụ 06/03/2026.",
                              field="batch_date", detail="not a date") from None


def _count(value: str) -> int:
    if not value.isascii() or not value.isdigit() or len(value) > 6:
        raise ValidationError("Số phiếu phát ra phải là số nguyên từ 0 trở lên.", field="handed_out",
                              detail="handed_out not a whole number")
    return int(value)


@bp.get("/ballots/<unit_code>/<int:batch_id>", endpoint="ballot_batch")
@roles_required(*WORKERS)
def ballot_batch(unit_code: str, batch_id: int):  # type: ignore[no-untyped-def]
    """The keyed-entry page of a batch (``?sua=<n>`` loads ballot n to correct it), or its comparison."""
    batch = _batch(unit_code, batch_id)
    position = request.args.get("sua", type=int)
    return _batch_page(batch, position=position)


def _batch_page(batch: BallotBatch, *, position: int | None = None, keyed: dict[str, str] | None = None,
                dossier_code: str = "", comment: str = "", problem: DomainError | None = None,
                problems: list | None = None) -> str:
    session, catalogue = db_session(), get_catalogue()
    instrument = ballots.batch_instrument(catalogue, batch)
    actor = actor_name()
    entry = ballots.entry_for(batch, actor)
    own = ballots.lines(session, batch, entry or 1)
    editing = next((line for line in own if line.position == position), None) if position else None
    if editing is not None and keyed is None:
        keyed = ballot_keys.keys_from_answers(instrument, editing.answers)
        dossier_code, comment = editing.dossier_code or "", editing.comment or ""
    entry_done = entry is not None and (batch.first_done if entry == 1 else batch.second_done)
    both_done = batch.double_entry and batch.first_done and batch.second_done and batch.confirmed_at is None
    keys = ballot_keys.key_labels(instrument)
    return render_template(
        "console/ballots/batch.html", batch=batch, instrument=instrument, entry=entry, lines=own,
        shown_lines=own if entry is not None else [], key_labels=dict(keys),
        keys_of=lambda line: ballot_keys.keys_from_answers(instrument, line.answers),
        can_key=batch.status == ballots.OPEN and entry is not None and not entry_done,
        editing=editing, keyed=keyed or {}, dossier_code=dossier_code, comment=comment, problem=problem,
        problems=problems or [],
        submit_key=secrets.token_urlsafe(12), both_done=both_done,
        differences=double_entry.differences(session, batch) if both_done else [],
        counts_at_once=ballots.counts_at_once(batch))


@bp.post("/ballots/<unit_code>/<int:batch_id>/lines", endpoint="ballot_line_save")
@roles_required(*WORKERS)
def ballot_line_save(unit_code: str, batch_id: int) -> ResponseReturnValue:
    """Save one keyed ballot (or correct ballot ``position``); JSON for ``ballot_entry.js``, a redirect otherwise."""
    batch = _batch(unit_code, batch_id)
    session, settings = db_session(), get_settings()
    instrument = ballots.batch_instrument(get_catalogue(), batch)
    keyed = {c.code: request.form.get(f"k_{c.code}", "") for c in instrument.citizen_criteria}
    dossier_code = request.form.get("dossier_code", "")
    position = request.form.get("position", type=int)
    try:
        line = ballots.save_line(session, get_catalogue(), batch, keys=keyed, dossier_code=dossier_code,
                                 submit_key=request.form.get("submit_key", ""), actor=actor_name(), now=utcnow(),
                                 tz=settings.tz, position=position, comment=request.form.get("comment", ""))
    except DomainError as exc:
        if exc.keeps_audit:
            session.commit()  # a refused duplicate's audit event: save_line undid the line itself
        else:
            session.rollback()
        if _wants_json():
            return jsonify(error=exc.to_dict()), exc.http_status
        return _batch_page(batch, position=position, keyed=keyed, dossier_code=dossier_code,
                           comment=request.form.get("comment", ""), problem=exc), exc.http_status
    session.commit()
    count = ballots.line_count(session, batch, line.entry)
    if _wants_json():
        keys = ballot_keys.keys_from_answers(instrument, line.answers)
        return jsonify(saved=True, position=line.position, corrected=position is not None, count=count,
                       handed_out=batch.handed_out, keys=[keys[c.code] for c in instrument.citizen_criteria],
                       dossier_code=line.dossier_code or "", comment=line.comment or "",
                       submit_key=secrets.token_urlsafe(12),
                       edit_url=_batch_url(batch, sua=line.position))
    flash(f"Đã lưu phiếu số {line.position}." if position is None else f"Đã sửa phiếu số {line.position}.",
          "success")
    return redirect(_batch_url(batch), 303)


def _action(unit_code: str, batch_id: int, done: str, act) -> ResponseReturnValue:  # type: ignore[no-untyped-def]
    batch = _batch(unit_code, batch_id)
    session = db_session()
    try:
        act(session, batch)
    except DomainError as exc:
        session.rollback()
        flash(exc.message_vi, "error")
    else:
        session.commit()
        flash(done, "success")
    return redirect(_batch_url(batch), 303)


@bp.post("/ballots/<unit_code>/<int:batch_id>/lines/<int:position>/delete", endpoint="ballot_line_delete")
@roles_required(*WORKERS)
def ballot_line_delete(unit_code: str, batch_id: int, position: int) -> ResponseReturnValue:
    return _action(unit_code, batch_id, f"Đã xóa phiếu số {position}; các phiếu sau được đánh số lại.",
                   lambda s, b: ballots.remove_line(s, b, position=position, actor=actor_name(),
                                                    tz=get_settings().tz))


@bp.post("/ballots/<unit_code>/<int:batch_id>/handed-out", endpoint="ballot_handed_out")
@roles_required(*WORKERS)
def ballot_handed_out(unit_code: str, batch_id: int) -> ResponseReturnValue:
    """Correct the batch's count of ballots handed out (a wrong count refuses the last ballots keyed)."""
    batch = _batch(unit_code, batch_id)  # another unit's batch is a 404 before the form is read
    try:
        count = _count(request.form.get("handed_out", "").strip())
    except ValidationError as exc:
        flash(exc.message_vi, "error")
        return redirect(_batch_url(batch), 303)
    return _action(unit_code, batch_id, f"Đã sửa số phiếu phát ra của lô: {count}.",
                   lambda s, b: ballots.set_handed_out(s, b, count, actor=actor_name()))


@bp.post("/ballots/<unit_code>/<int:batch_id>/close", endpoint="ballot_batch_close")
@roles_required(*WORKERS)
def ballot_batch_close(unit_code: str, batch_id: int) -> ResponseReturnValue:
    return _action(unit_code, batch_id, "Đã đóng lô phiếu.",
                   lambda s, b: ballots.close_batch(s, b, actor=actor_name(), now=utcnow()))


@bp.post("/ballots/<unit_code>/<int:batch_id>/reopen", endpoint="ballot_batch_reopen")
@roles_required(*WORKERS)
def ballot_batch_reopen(unit_code: str, batch_id: int) -> ResponseReturnValue:
    return _action(unit_code, batch_id, "Đã mở lại lô phiếu. Mọi chỉnh sửa đều được ghi nhật ký.",
                   lambda s, b: ballots.reopen_batch(s, b, actor=actor_name(), now=utcnow()))


@bp.post("/ballots/<unit_code>/<int:batch_id>/finish", endpoint="ballot_entry_finish")
@roles_required(*WORKERS)
def ballot_entry_finish(unit_code: str, batch_id: int) -> ResponseReturnValue:
    return _action(unit_code, batch_id, "Đã kết thúc lượt nhập.",
                   lambda s, b: double_entry.finish_entry(s, b, actor=actor_name()))


@bp.post("/ballots/<unit_code>/<int:batch_id>/resolve", endpoint="ballot_resolve")
@roles_required(*WORKERS)
def ballot_resolve(unit_code: str, batch_id: int) -> ResponseReturnValue:
    _batch(unit_code, batch_id)  # another unit's batch is a 404 before the form is read
    position, take = request.form.get("position", type=int), request.form.get("take", type=int)
    if position is None or take is None:
        abort(400)
    return _action(unit_code, batch_id, f"Đã đối chiếu phiếu số {position}.",
                   lambda s, b: double_entry.resolve(s, b, position=position, take=take, actor=actor_name(),
                                                now=utcnow()))


@bp.post("/ballots/<unit_code>/<int:batch_id>/confirm", endpoint="ballot_batch_confirm")
@roles_required(*WORKERS)
def ballot_batch_confirm(unit_code: str, batch_id: int) -> ResponseReturnValue:
    """Record an agreed double-entry batch: its ballots count in reports from now on."""
    batch = _batch(unit_code, batch_id)
    session = db_session()
    try:
        problems = double_entry.confirm(session, get_catalogue(), batch, actor=actor_name(), now=utcnow(),
                                   tz=get_settings().tz)
    except DomainError as exc:
        session.rollback()
        flash(exc.message_vi, "error")
        return redirect(_batch_url(batch), 303)
    if problems:
        session.rollback()
        return _batch_page(batch, problems=problems), 422
    session.commit()
    flash("Đã xác nhận lô phiếu: các phiếu được tính vào báo cáo.", "success")
    return redirect(_batch_url(batch), 303)
