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

