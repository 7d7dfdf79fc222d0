"""The citizen's short-link pages: a GET never spends the link, a submit spends it exactly once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from sipas.clock import utcnow
from sipas.models import Answer, Response, ResponseChannel
from sms_gateway import phone_views
from sms_gateway.links import issue_link
from sms_gateway.models_links import ShortLink
from tests.factories import TZ, answers_for, create_dossier, create_response, create_unit
from tests.sms_links.conftest import csrf_token, fresh, token_for


def other_link(session, link):
    """An open link on another dossier of the same unit (its page carries a CSRF token)."""
    dossier = create_dossier(session, link.unit)
    created = issue_link(session, dossier, instrument_code="hue12", channel="qr", now=utcnow(), expires_at=None)
    session.commit()
    return created


def form_data(catalogue, html, **overrides):
    data = {f"a_{code}": option for code, option in answers_for(catalogue).items()}
    data.update(csrf_token=csrf_token(html), submit_key="k1", comment="")
    data.update(overrides)
    return data


def responses(session):
    fresh(session)
    return session.scalars(select(Response)).all()


def test_get_renders_the_form_and_does_not_spend_the_link(client, session, link):
    for _ in range(3):
        page = client.get(f"/r/{link.code}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "Đánh giá mức độ hài lòng" in html and link.dossier.code in html
        assert 'name="a_tc01"' in html and "Rất hài lòng" in html and "Không áp dụng" in html
    assert page.headers["Cache-Control"] == "no-store"
    fresh(session)
    assert session.get(ShortLink, link.id).used_at is None
    assert responses(session) == []


def test_plain_form_submit_records_one_response_and_spends_the_link(client, session, catalogue, link):
    html = client.get(f"/r/{link.code}").get_data(as_text=True)
    done = client.post(f"/r/{link.code}", data=form_data(catalogue, html, comment="Cán bộ  nhiệt tình"))
    assert done.status_code == 200
    assert "Cảm ơn ông/bà" in done.get_data(as_text=True)
    stored = responses(session)
    assert len(stored) == 1
    response = stored[0]
    assert response.channel is ResponseChannel.SMS and response.dossier_id == link.dossier_id
    assert response.instrument_code == "hue12" and response.comment == "Cán bộ nhiệt tình"
    assert session.scalar(select(func.count()).select_from(Answer)) == 12
    spent = session.get(ShortLink, link.id)
    assert spent.used_at is not None and spent.response_id == response.id

    again = client.post(f"/r/{link.code}", data=form_data(catalogue, html, submit_key="other"))
    assert again.status_code == 409
    assert "đã được đánh giá" in again.get_data(as_text=True)
    used_page = client.get(f"/r/{link.code}")
    assert used_page.status_code == 200 and "Hồ sơ này đã được đánh giá" in used_page.get_data(as_text=True)
    assert 'data-state="used"' in used_page.get_data(as_text=True)  # this link carried the rating
    assert 'name="a_tc01"' not in used_page.get_data(as_text=True)
    assert len(responses(session)) == 1


def test_a_resent_submit_with_the_same_key_is_thanked_not_refused(client, session, catalogue, link):
    html = client.get(f"/r/{link.code}").get_data(as_text=True)
    first = client.post(f"/r/{link.code}", data=form_data(catalogue, html))
    replay = client.post(f"/r/{link.code}", data=form_data(catalogue, html))
    assert first.status_code == replay.status_code == 200
    assert "Cảm ơn ông/bà" in replay.get_data(as_text=True)
    assert len(responses(session)) == 1


def test_json_submit_from_the_component(client, session, catalogue, link):
    html = client.get(f"/r/{link.code}").get_data(as_text=True)
    headers = {"X-CSRFToken": csrf_token(html)}
    refused = client.post(f"/r/{link.code}", json={"answers": ["tc01"]}, headers=headers)
    assert refused.status_code == 422 and refused.json["code"] == "missing_answer"
    body = {"answers": answers_for(catalogue, option_index=1), "idempotency_key": "abc"}
    ok = client.post(f"/r/{link.code}", json=body, headers=headers)
    assert ok.status_code == 200 and ok.json["status"] == "ok"
    assert client.post(f"/r/{link.code}", json=body, headers=headers).status_code == 200  # retry: replay
    for malformed in ({"answers": ["tc01"]}, ["not", "an", "object"], {"answers": None}):
        assert client.post(f"/r/{link.code}", json=malformed, headers=headers).status_code in (409, 422)
    second = client.post(f"/r/{link.code}", json={**body, "idempotency_key": "zzz"}, headers=headers)
    assert second.status_code == 409 and second.json["code"] == "link_used"
    assert len(responses(session)) == 1


def test_an_incomplete_rating_is_refused_and_leaves_the_link_usable(client, session, catalogue, link):
    html = client.get(f"/r/{link.code}").get_data(as_text=True)
    data = form_data(catalogue, html)
    del data["a_tc05"], data["a_tc07"]
    refused = client.post(f"/r/{link.code}", data=data)
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    criteria = catalogue.current("hue12", utcnow().astimezone(TZ).date()).citizen_criteria
    labels = {c.code: (n, c.citizen_label or c.short_label) for n, c in enumerate(criteria, start=1)}
    assert "Ông/bà chưa trả lời 2 câu hỏi: {}. {}; {}. {}.".format(*labels["tc05"], *labels["tc07"]) in text
    assert 'value="rat_hai_long" required checked' in text
    fresh(session)
    assert session.get(ShortLink, link.id).used_at is None and responses(session) == []
    assert client.post(f"/r/{link.code}", data=form_data(catalogue, html)).status_code == 200


def test_the_form_needs_no_cookie_but_its_own_token(app, session, catalogue, link):
    """In-app browsers may drop cookies, and a Secure session cookie is never stored over plain http."""
    opener, sender = app.test_client(), app.test_client(use_cookies=False)
    html = opener.get(f"/r/{link.code}").get_data(as_text=True)
    assert sender.post(f"/r/{link.code}", data=form_data(catalogue, html)).status_code == 200
    assert len(responses(session)) == 1


def test_submit_without_csrf_token_is_refused_in_vietnamese(client, session, catalogue, link):
    html = client.get(f"/r/{link.code}").get_data(as_text=True)
    data = form_data(catalogue, html)
    del data["csrf_token"]
    refused = client.post(f"/r/{link.code}", data=data)
    assert refused.status_code == 400 and "Phiên làm việc đã hết hạn" in refused.get_data(as_text=True)
    assert responses(session) == []


def test_expired_link_shows_a_friendly_page_and_refuses_a_submit(app, client, session, catalogue):
    unit = create_unit(session)
    dossier = create_dossier(session, unit)
    now = utcnow()
    old = issue_link(session, dossier, instrument_code="hue12", channel="qr", now=now - timedelta(days=8),
                     expires_at=now - timedelta(days=1))
    session.commit()
    page = client.get(f"/r/{old.code}")
    assert page.status_code == 410 and "Đường dẫn đã hết hạn" in page.get_data(as_text=True)
    fresh_link = issue_link(session, dossier, instrument_code="hue12", channel="qr", now=now, expires_at=None)
    session.commit()
    fresh = client.get(f"/r/{fresh_link.code}")
    wrong_token = client.post(f"/r/{old.code}", data=form_data(catalogue, fresh.get_data(as_text=True)))
    assert wrong_token.status_code == 400  # the token of another link
    refused = client.post(f"/r/{old.code}", data=form_data(catalogue, fresh.get_data(as_text=True),
                                                           csrf_token=token_for(app, old)))
    assert refused.status_code == 410 and "Đường dẫn đã hết hạn" in refused.get_data(as_text=True)
    assert responses(session) == []


def test_unknown_code_is_a_friendly_404_and_scanners_get_throttled(client, link, monkeypatch):
    now = utcnow()  # every request at one instant: misses are counted in fixed 15-minute windows
    monkeypatch.setattr(phone_views, "utcnow", lambda: now)
    page = client.get("/r/Zz9Zz9Zz9Zz9")
    assert page.status_code == 404 and "Không tìm thấy đường dẫn" in page.get_data(as_text=True)
    assert client.get("/r/abc_def").status_code == 404
    for _ in range(30):
        client.get("/r/NoSuchCode1")
    throttled = client.get("/r/NoSuchCode1")
    assert throttled.status_code == 429 and "Quá nhiều lần thử" in throttled.get_data(as_text=True)
    assert client.get(f"/r/{link.code}").status_code == 200  # a real link still opens from the same address


def test_a_dossier_rated_elsewhere_spends_the_link_with_the_rated_page(app, client, session, catalogue, link):
    create_response(session, catalogue, link.unit, dossier=link.dossier, channel=ResponseChannel.KIOSK)
    session.commit()
    page = client.get(f"/r/{link.code}").get_data(as_text=True)
    assert "Hồ sơ này đã được đánh giá" in page and 'name="a_tc01"' not in page
    assert 'data-state="rated"' in page and "đã được dùng" not in page  # the link itself was never used
    html = client.get(f"/r/{other_link(session, link).code}").get_data(as_text=True)
    refused = client.post(f"/r/{link.code}", data=form_data(catalogue, html, csrf_token=token_for(app, link)))
    refused_html = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "đã được đánh giá" in refused_html
    assert 'data-state="rated"' in refused_html and "đã được dùng" not in refused_html and "Xin cảm ơn" in refused_html
    fresh(session)
    assert session.get(ShortLink, link.id).used_at is not None
    assert len(responses(session)) == 1
    again = client.get(f"/r/{link.code}").get_data(as_text=True)  # spent by the refusal, still not "used"
    assert 'data-state="rated"' in again and "đã được dùng" not in again


def test_a_submit_reads_its_link_dossier_and_unit_once(app, client, session, catalogue, link):
    """The link with its dossier and unit is one query; the rating does not look the dossier up again, nor is
    the link read back after it is spent (the statements of every phone-form rating, docs/performance.md)."""
    from sqlalchemy import event

    from sipas.storage import get_database

    headers = {"X-CSRFToken": token_for(app, link)}
    reads: list[str] = []

    def note(_conn, _cursor, statement: str, *_args) -> None:  # type: ignore[no-untyped-def]
        # the form version's record is read once per process (sipas.instrument_records), here the first time
        if statement.lstrip().upper().startswith("SELECT") and "FROM instrument_version_record" not in statement:
            reads.append(" ".join(statement.split())[:60])

    engine = get_database(app).engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        ok = client.post(f"/r/{link.code}", json={"answers": answers_for(catalogue), "idempotency_key": "one"},
                         headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert ok.status_code == 200, ok.get_data(as_text=True)
    assert len(reads) == 1 and reads[0].startswith("SELECT short_link.id"), reads
    fresh(session)
    stored = session.get(ShortLink, link.id)
    assert stored.used_at is not None and stored.response_id == responses(session)[0].id


def test_a_dossier_not_yet_returned_says_so_before_the_questions(app, client, session, catalogue):
    """A link whose dossier has no return date (cleared by a correction after the invitation) showed the twelve
    questions, and only the submit said the dossier could not be rated yet, on the same form offered again."""
    unit = create_unit(session)
    dossier = create_dossier(session, unit, returned=False)
    now = utcnow()
    link = issue_link(session, dossier, instrument_code="hue12", channel="sms", now=now,
                      expires_at=now + timedelta(days=7))
    session.commit()
    page = client.get(f"/r/{link.code}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-state="not_returned"' in html
    assert "chưa được trả kết quả" in html and 'name="a_tc01"' not in html and dossier.code in html
    token = f'name="csrf_token" value="{token_for(app, link)}"'  # a page opened before the return date was cleared
    refused = client.post(f"/r/{link.code}", data=form_data(catalogue, token))
    refused_html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'data-state="not_returned"' in refused_html
    assert 'name="a_tc01"' not in refused_html
    fresh(session)
    assert session.get(ShortLink, link.id).used_at is None and responses(session) == []
    dossier = session.get(type(dossier), dossier.id)
    dossier.returned_at = now  # returned later: the same link rates it
    session.commit()
    html = client.get(f"/r/{link.code}").get_data(as_text=True)
    assert 'name="a_tc01"' in html
    done = client.post(f"/r/{link.code}", data=form_data(catalogue, html))
    assert done.status_code == 200 and len(responses(session)) == 1


def test_an_incomplete_form_posted_to_a_spent_or_expired_link_is_not_offered_again(app, client, session, catalogue,
                                                                                   link):
    """The unanswered questions were checked before whether the link could still rate: going back to the page that
    said "Ông/bà chưa trả lời …" after the rating went through, and sending it again (the browser's "resubmit"), or
    a second phone's half-filled form, got the form offered again with that message, for a rating that could no
    longer be taken. Now the link's state answers first, as it does for a complete form."""
    html = client.get(f"/r/{link.code}").get_data(as_text=True)
    incomplete = form_data(catalogue, html)
    del incomplete["a_tc05"]
    assert client.post(f"/r/{link.code}", data=incomplete).status_code == 422  # the first try, the link open
    assert client.post(f"/r/{link.code}", data=form_data(catalogue, html)).status_code == 200  # key k1: rated
    again = client.post(f"/r/{link.code}", data=incomplete)  # the 422 page sent again: the same key
    assert again.status_code == 200 and 'data-state="thanks"' in again.get_data(as_text=True)
    other_phone = client.post(f"/r/{link.code}", data=incomplete | {"submit_key": "k2"})
    other_html = other_phone.get_data(as_text=True)
    assert other_phone.status_code == 409 and 'data-state="used"' in other_html and 'name="a_tc01"' not in other_html
    assert len(responses(session)) == 1
    now = utcnow()
    old = issue_link(session, create_dossier(session, link.unit), instrument_code="hue12", channel="qr",
                     now=now - timedelta(days=8), expires_at=now - timedelta(days=1))
    session.commit()
    expired = client.post(f"/r/{old.code}", data=incomplete | {"csrf_token": token_for(app, old)})
    assert expired.status_code == 410 and "Đường dẫn đã hết hạn" in expired.get_data(as_text=True)
