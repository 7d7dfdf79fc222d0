"""Two submits of the same link at the same moment: one rating, one "already rated"."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from sipas.models import Response
from tests.factories import answers_for
from tests.sms_links.conftest import csrf_token, fresh


def test_simultaneous_submits_store_one_rating(app, session, catalogue, link):
    clients = [app.test_client() for _ in range(4)]
    forms = []
    for index, client in enumerate(clients):
        data = {f"a_{code}": option for code, option in answers_for(catalogue).items()}
        data.update(csrf_token=csrf_token(client.get(f"/r/{link.code}").get_data(as_text=True)), submit_key=f"k{index}")
        forms.append(data)
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def submit(client, data) -> None:  # type: ignore[no-untyped-def]
        barrier.wait()
        statuses.append(client.post(f"/r/{link.code}", data=data).status_code)

    threads = [threading.Thread(target=submit, args=pair) for pair in zip(clients, forms, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [200, 409, 409, 409]
    fresh(session)
    assert session.scalar(select(func.count()).select_from(Response)) == 1




def _at_once(app, path: str, data: dict[str, str], times: int) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    """The same form posted ``times`` times at the same moment: each answer's status and page."""
    clients = [app.test_client() for _ in range(times)]
    barrier = threading.Barrier(times)
    answers: list[tuple[int, str]] = []

    def submit(client) -> None:  # type: ignore[no-untyped-def]
        barrier.wait()
        done = client.post(path, data=data)
        answers.append((done.status_code, done.get_data(as_text=True)))

    threads = [threading.Thread(target=submit, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def test_a_double_tap_on_send_thanks_both_times(app, session, catalogue, link):
    """docs/sms-links.md: the same submit sent again ("bấm hai lần", a flaky network) still gets the thank-you page.
    Sent twice at the same moment (a double tap on the plain form's button: the browser shows the second answer),
    the second found the link spent by the first and answered 409 "Đường dẫn này đã được dùng" instead."""
    data = {f"a_{code}": option for code, option in answers_for(catalogue).items()} | {"submit_key": "same-tap"}
    for attempt in range(3):  # the race is the point: a few tries, each on a fresh link
        if attempt:
            fresh(session)
            link = other_open_link(session, link)
        data["csrf_token"] = csrf_token(app.test_client().get(f"/r/{link.code}").get_data(as_text=True))
        answers = _at_once(app, f"/r/{link.code}", data, 4)
        assert [status for status, _html in answers] == [200] * 4
        assert all('data-state="thanks"' in html for _status, html in answers)
    fresh(session)
    assert session.scalar(select(func.count()).select_from(Response)) == 3


def other_open_link(session, link):  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from sipas.clock import utcnow
    from sms_gateway.links import issue_link
    from tests.factories import create_dossier

    now = utcnow()
    created = issue_link(session, create_dossier(session, link.unit), instrument_code="hue12", channel="sms",
                         now=now, expires_at=now + timedelta(days=7))
    session.commit()
    return created
