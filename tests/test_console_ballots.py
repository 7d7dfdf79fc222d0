"""Keying paper ballots in the console without JavaScript (one form post per ballot), and double entry."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from sipas.models import AuditEvent, Response, ResponseChannel
from sipas.models_ballots import BallotBatch, BallotLine
from tests.factories import create_clerk, create_dossier, create_response, create_unit, local, login


def _token(client, path: str) -> str:  # type: ignore[no-untyped-def]
    page = client.get(path).get_data(as_text=True)
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def _submit_key(page: str) -> str:
    return page.split('name="submit_key" value="', 1)[1].split('"', 1)[0]


def _open_batch(client, unit, *, double: bool = False, handed_out: str = "20") -> str:  # type: ignore[no-untyped-def]
    data = {"csrf_token": _token(client, "/console/ballots"), "unit": unit.code, "instrument": "quay4",
            "batch_date": "2026-01-05", "handed_out": handed_out}
    if double:
        data["double_entry"] = "1"
    created = client.post("/console/ballots/new", data=data)
    assert created.status_code == 303
    return created.headers["Location"]


def _key(client, batch_path: str, digits: str, *, query: str = "", **extra: str):  # type: ignore[no-untyped-def]
    page = client.get(batch_path + query).get_data(as_text=True)
    data = {f"k_q{n}": d for n, d in enumerate(digits, start=1)} | extra
    data |= {"csrf_token": page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0],
             "submit_key": _submit_key(page)}
    return client.post(f"{batch_path}/lines", data=data)


def _paper(session) -> int:  # type: ignore[no-untyped-def]
    session.rollback()  # a new read transaction: see what the app committed since
    return session.scalar(select(func.count()).select_from(Response)
                          .where(Response.channel == ResponseChannel.PAPER)) or 0


def test_a_clerk_keys_ballots_one_post_each_and_sees_the_running_count(client, session) -> None:
    unit = create_unit(session)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    batch_path = _open_batch(client, unit)
    page = client.get(batch_path).get_data(as_text=True)
    assert "Đã nhập <span data-testid=\"count\">0</span> / 20 phiếu phát ra" in page
    assert "1 = Rất hài lòng; 2 = Hài lòng; 3 = Không hài lòng" in page
    assert "ballot_entry.js" in page and "<script>" not in page
    saved = _key(client, batch_path, "1213")
    assert saved.status_code == 303
    assert "Đã lưu phiếu số 1." in client.get(batch_path).get_data(as_text=True)
    assert _key(client, batch_path, "2311", dossier_code="").status_code == 303
    shown = client.get(batch_path).get_data(as_text=True)
    assert "Đã nhập <span data-testid=\"count\">2</span> / 20" in shown
    assert _paper(session) == 2


def test_a_wrong_key_is_explained_and_the_typed_keys_are_kept(client, session) -> None:
    unit = create_unit(session)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    batch_path = _open_batch(client, unit)
    refused = _key(client, batch_path, "1913")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Câu 2 (Thái độ, hướng dẫn, tiếp nhận và trả kết quả): “9” không phải lựa chọn trên phiếu" in page
    assert 'name="k_q3" class="ballot-key" size="2" maxlength="1" inputmode="numeric" value="1"' in page
    json_refused = _key(client, batch_path, "1113", dossier_code="KHONG-CO")
    assert json_refused.status_code == 404
    as_json = client.post(f"{batch_path}/lines", headers={"Accept": "application/json"},
                          data={"csrf_token": _token(client, batch_path), "submit_key": "x1",
                                "k_q1": "1", "k_q2": "1", "k_q3": "1", "k_q4": "4"})
    assert as_json.status_code == 422 and as_json.get_json()["error"]["field"] == "keys.q4"
    assert _paper(session) == 0


def test_a_closed_batch_is_reopened_to_correct_a_ballot_with_an_audit_trail(client, session) -> None:
    unit = create_unit(session)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    batch_path = _open_batch(client, unit)
    _key(client, batch_path, "1111")
    client.post(f"{batch_path}/close", data={"csrf_token": _token(client, batch_path)})
    assert 'data-testid="ballot-entry"' not in client.get(batch_path).get_data(as_text=True)
    client.post(f"{batch_path}/reopen", data={"csrf_token": _token(client, batch_path)})
    editing = client.get(f"{batch_path}?sua=1").get_data(as_text=True)
    assert "Sửa phiếu số 1" in editing
    corrected = _key(client, batch_path, "3333", query="?sua=1", position="1")
    assert corrected.status_code == 303
    session.expire_all()
    assert _paper(session) == 1
    assert session.scalar(select(Response)).answers[0].option_code == "khong_hai_long"
    audit = client.get("/console/audit").get_data(as_text=True)
    assert f"{clerk.full_name or clerk.username} đã sửa phiếu giấy đã nhập (lô" in audit
    assert "mở lại lô phiếu giấy" in audit


def test_double_entry_is_blind_and_counts_only_after_confirmation(app, client, session) -> None:
    unit = create_unit(session)
    first, second = create_clerk(session, unit), create_clerk(session, unit)
    session.commit()
    login(client, first)
    batch_path = _open_batch(client, unit, double=True)
    _key(client, batch_path, "1111")
    _key(client, batch_path, "2222", dossier_code="")
    other = app.test_client()
    login(other, second)
    blind = other.get(batch_path).get_data(as_text=True)
    assert "Đã nhập <span data-testid=\"count\">0</span> / 20" in blind and "2 2 2 2" not in blind
    _key(other, batch_path, "1111")
    _key(other, batch_path, "2232")
    assert _paper(session) == 0
    for who in (client, other):
        who.post(f"{batch_path}/finish", data={"csrf_token": _token(who, batch_path)})
    compared = client.get(batch_path).get_data(as_text=True)
    assert "Có 1 phiếu nhập khác nhau" in compared and "2 2 2 2" in compared and "2 2 3 2" in compared
    client.post(f"{batch_path}/resolve", data={"csrf_token": _token(client, batch_path), "position": "2",
                                               "take": "1"})
    assert "Hai lượt nhập khớp nhau." in client.get(batch_path).get_data(as_text=True)
    assert _paper(session) == 0
    done = client.post(f"{batch_path}/confirm", data={"csrf_token": _token(client, batch_path)},
                       follow_redirects=True)
    assert "Đã xác nhận lô phiếu" in done.get_data(as_text=True)
    assert _paper(session) == 2
    batch = session.scalar(select(BallotBatch))
    assert batch.status == "closed" and batch.second_clerk == f"user:{second.username}"
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "ballot.batch_confirmed")) is not None


def test_a_batch_form_with_a_bad_date_or_count_says_why(client, session) -> None:
    unit = create_unit(session)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    base = {"csrf_token": _token(client, "/console/ballots"), "unit": unit.code, "instrument": "quay4"}
    bad_date = client.post("/console/ballots/new", data=base | {"batch_date": "05/13/2026", "handed_out": "3"})
    assert bad_date.status_code == 400 and "Ngày của lô phiếu không hợp lệ" in bad_date.get_data(as_text=True)
    bad_count = client.post("/console/ballots/new", data=base | {"batch_date": "2026-01-05", "handed_out": "-2"})
    assert "Số phiếu phát ra phải là số nguyên từ 0 trở lên." in bad_count.get_data(as_text=True)
    typed = client.post("/console/ballots/new", data=base | {"batch_date": "05/01/2026", "handed_out": "3"})
    assert typed.status_code == 303  # ngày/tháng/năm, as the form asks for it


def test_the_unit_setting_makes_double_entry_the_default_for_new_batches(client, session) -> None:
    unit = create_unit(session, name="Phường Hai Lần")
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    assert 'name="double_entry" value="1" >' in client.get("/console/ballots").get_data(as_text=True)
    path = f"/console/units/{unit.code}"
    saved = client.post(path, follow_redirects=True, data={
        "csrf_token": _token(client, path), "name": "Phường Hai Lần", "issuing_body": "", "place_name": "",
        "signatory_title": "CHỦ TỊCH", "signatory_name": "", "default_instrument": unit.default_instrument,
        "ballot_double_entry": "on"})
    assert "Đã lưu thông tin đơn vị." in saved.get_data(as_text=True)
    assert 'name="double_entry" value="1" checked>' in client.get("/console/ballots").get_data(as_text=True)
    assert 'name="ballot_double_entry" checked' in client.get(path).get_data(as_text=True)


def test_the_ballots_page_links_the_printable_ballots_and_the_import_templates(client, session) -> None:
    unit = create_unit(session)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    page = client.get("/console/ballots").get_data(as_text=True)
    assert f'href="/console/sms/{unit.code}/ballots"' in page
    assert 'href="/console/dossiers/import/template/responses?instrument=quay4&amp;format=csv"' in page
    assert client.get(f"/console/sms/{unit.code}/ballots").status_code == 200


def test_a_comment_written_on_the_ballot_is_kept_with_the_response_but_not_in_the_audit_log(client, session) -> None:
    unit = create_unit(session)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    batch_path = _open_batch(client, unit)
    _key(client, batch_path, "1111", comment="  Cán bộ   rất nhiệt tình ")
    session.rollback()
    assert session.scalar(select(Response)).comment == "Cán bộ rất nhiệt tình"
    _key(client, batch_path, "1111", query="?sua=1", position="1", comment="Cần thêm ghế chờ")
    session.rollback()
    assert session.scalar(select(Response)).comment == "Cần thêm ghế chờ"
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "ballot.line_corrected"))
    assert event.details["comment_changed"] is True and "ghế" not in str(event.details)
    too_long = _key(client, batch_path, "1111", comment="x" * 2001)
    assert too_long.status_code == 422 and "Ý kiến dài quá 2.000 ký tự." in too_long.get_data(as_text=True)


def test_the_fast_form_gets_json_and_a_resent_ballot_is_saved_once(client, session) -> None:
    unit = create_unit(session)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    batch_path = _open_batch(client, unit)
    data = {"csrf_token": _token(client, batch_path), "submit_key": "lan-gui-1", "k_q1": "2", "k_q2": "2",
            "k_q3": "1", "k_q4": "3", "dossier_code": ""}
    first = client.post(f"{batch_path}/lines", data=data, headers={"Accept": "application/json"})
    again = client.post(f"{batch_path}/lines", data=data, headers={"Accept": "application/json"})
    body = first.get_json()
    assert first.status_code == 200 and body["saved"] is True and body["position"] == 1 and body["count"] == 1
    assert body["keys"] == ["2", "2", "1", "3"] and body["handed_out"] == 20 and body["submit_key"] != "lan-gui-1"
    assert body["edit_url"] == f"{batch_path}?sua=1"
    assert again.get_json()["position"] == 1 and again.get_json()["count"] == 1
    assert _paper(session) == 1


def _rated_dossier(session, catalogue, unit):  # type: ignore[no-untyped-def]
    """A dossier returned on 4 January and rated at the kiosk that day, before the batch's ballots (5 January)."""
    dossier = create_dossier(session, unit, received_at=local(2026, 1, 2))
    create_response(session, catalogue, unit, dossier=dossier, instrument="quay4", channel=ResponseChannel.KIOSK,
                    submitted_at=local(2026, 1, 4, 10), now=datetime.now(UTC))
    return dossier


def _batch_beside_a_rated_dossier(client, session, catalogue):  # type: ignore[no-untyped-def]
    """A clerk logged in on a new batch of a ward that holds a dossier already rated: the batch's path and the
    dossier."""
    unit = create_unit(session)
    clerk = create_clerk(session, unit)
    dossier = _rated_dossier(session, catalogue, unit)
    session.commit()
    login(client, clerk)
    return _open_batch(client, unit), dossier


def _refusals(session) -> int:  # type: ignore[no-untyped-def]
    session.rollback()
    return session.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.action == "response.duplicate_refused")) or 0


def test_a_ballot_for_a_dossier_already_rated_is_audited_and_nothing_of_it_is_kept(client, session,
                                                                                  catalogue) -> None:
    """AlreadyRated.keeps_audit: "the service wrote an audit event before raising; the caller commits instead of
    rolling back" (sipas/errors.py). The kiosk, the API, the phone form and the file import keep the
    ``response.duplicate_refused`` event; the console's ballot entry rolled it back. It is kept now, and only it:
    the refused line, a corrected line's earlier answers and response stay as they were."""
    batch_path, dossier = _batch_beside_a_rated_dossier(client, session, catalogue)
    assert _key(client, batch_path, "1111", dossier_code=dossier.code).status_code == 409
    assert _refusals(session) == 1
    assert session.scalar(select(func.count()).select_from(BallotLine)) == 0 and _paper(session) == 0
    assert _key(client, batch_path, "2222").status_code == 303
    corrected = _key(client, batch_path, "3333", query="?sua=1", position="1", dossier_code=dossier.code)
    assert corrected.status_code == 409
    assert _refusals(session) == 2
    line = session.scalar(select(BallotLine))
    assert (line.dossier_code, line.answers["q1"], line.revision) == (None, "hai_long", 0)
    assert _paper(session) == 1 and session.scalar(select(Response).where(
        Response.channel == ResponseChannel.PAPER)).answers[0].option_code == "hai_long"
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "ballot.line_corrected")) is None


def test_a_double_entry_ballot_for_a_dossier_already_rated_is_audited_too(app, client, session, catalogue) -> None:
    """Double entry checks a keyed ballot against the rules without recording it: its refusal stays in the audit
    log as well, the line and the second clerk's place in the batch do not."""
    unit = create_unit(session)
    first, second = create_clerk(session, unit), create_clerk(session, unit)
    dossier = _rated_dossier(session, catalogue, unit)
    session.commit()
    login(client, first)
    batch_path = _open_batch(client, unit, double=True)
    other = app.test_client()
    login(other, second)
    assert _key(other, batch_path, "1111", dossier_code=dossier.code).status_code == 409
    assert _refusals(session) == 1
    assert session.scalar(select(func.count()).select_from(BallotLine)) == 0
    assert session.scalar(select(BallotBatch)).second_clerk is None


def test_the_clerk_is_not_thanked_as_a_citizen_when_a_keyed_ballot_is_refused(client, session, catalogue) -> None:
    """The refusal the clerk read in the console was the kiosk's sentence to the citizen ("Hồ sơ này đã được đánh
    giá. Xin cảm ơn ông/bà."): the clerk is told which dossier and that the ballot was not saved, on the page and in
    the fast form's JSON."""
    batch_path, dossier = _batch_beside_a_rated_dossier(client, session, catalogue)
    said = f"Hồ sơ {dossier.code} đã được đánh giá; phiếu này không được lưu."
    html = _key(client, batch_path, "1111", dossier_code=dossier.code).get_data(as_text=True)
    assert said in html and "Xin cảm ơn" not in html
    as_json = client.post(f"{batch_path}/lines", headers={"Accept": "application/json"}, data={
        "csrf_token": _token(client, batch_path), "submit_key": "x1", "k_q1": "1", "k_q2": "1", "k_q3": "1",
        "k_q4": "1", "dossier_code": dossier.code})
    error = as_json.get_json()["error"]
    assert (as_json.status_code, error["code"], error["message"], error["field"]) == (
        409, "already_rated", said, "dossier_code")


def test_more_ballots_than_were_handed_out_are_refused_and_the_count_can_be_corrected(client, session) -> None:
    """Phiếu thu vào cannot exceed phiếu phát ra: a 3rd ballot in a batch of 2 handed out is a ballot keyed twice
    or a wrong count. It was saved and counted ("3 / 2"). It is refused with what to do, and a wrong count is
    corrected on the batch page (never below the ballots keyed), audited; then the ballot is keyed."""
    unit = create_unit(session)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    batch_path = _open_batch(client, unit, handed_out="2")
    assert _key(client, batch_path, "1111").status_code == 303
    assert _key(client, batch_path, "2222").status_code == 303
    third = _key(client, batch_path, "3333")
    assert third.status_code == 409
    assert "phiếu thu vào không thể nhiều hơn phiếu phát ra" in third.get_data(as_text=True)
    assert "Số phiếu phát ra" in third.get_data(as_text=True)
    assert 'data-testid="count">2</span> / 2' in client.get(batch_path).get_data(as_text=True) and _paper(session) == 2
    below = client.post(f"{batch_path}/handed-out", data={"csrf_token": _token(client, batch_path), "handed_out": "1"},
                        follow_redirects=True)
    assert "số phiếu phát ra không thể ít hơn" in below.get_data(as_text=True)
    corrected = client.post(f"{batch_path}/handed-out", follow_redirects=True,
                            data={"csrf_token": _token(client, batch_path), "handed_out": "3"})
    assert "Đã sửa số phiếu phát ra của lô: 3." in corrected.get_data(as_text=True)
    assert _key(client, batch_path, "3333").status_code == 303
    assert 'data-testid="count">3</span> / 3' in client.get(batch_path).get_data(as_text=True) and _paper(session) == 3
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "ballot.handed_out_changed"))
    assert (event.details["before"], event.details["after"]) == (2, 3)


def test_the_clerk_who_finishes_the_second_entry_is_its_clerk(app, client, session) -> None:
    """docs/ballots.md: the first other clerk keys entry 2, anyone else keys neither. A clerk who finished entry 2
    before keying a ballot was not recorded as its clerk (second_clerk was set only by a saved line), so a third
    clerk was still offered entry 2. The finishing clerk is entry 2's clerk now, and a third clerk is refused."""
    unit = create_unit(session)
    first, second, third = create_clerk(session, unit), create_clerk(session, unit), create_clerk(session, unit)
    session.commit()
    login(client, first)
    batch_path = _open_batch(client, unit, double=True)
    _key(client, batch_path, "1111")
    other = app.test_client()
    login(other, second)
    finished = other.post(f"{batch_path}/finish", data={"csrf_token": _token(other, batch_path)},
                          follow_redirects=True)
    assert "Đã kết thúc lượt nhập." in finished.get_data(as_text=True)
    session.rollback()
    assert session.scalar(select(BallotBatch)).second_clerk == f"user:{second.username}"
    late = app.test_client()
    login(late, third)
    assert "lượt nhập thứ 2" not in late.get(batch_path).get_data(as_text=True)
    refused = late.post(f"{batch_path}/finish", data={"csrf_token": _token(late, batch_path)}, follow_redirects=True)
    assert "Đã kết thúc lượt nhập." not in refused.get_data(as_text=True)
    session.rollback()
    assert session.scalar(select(BallotBatch)).second_clerk == f"user:{second.username}"
