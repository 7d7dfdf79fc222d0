"""The daily answer limit per number holds when its messages arrive at once (real threads, SQLite and
PostgreSQL). Counting the day's answers and then sending let every one of 16 parallel messages from one
number be answered on PostgreSQL: each request counted before any other had stored its answer."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from sms_gateway.messages import new_outbound
from sms_gateway.models import MessageKind, OutboundMessage
from sms_gateway.reply_limit import REPLY_LIMIT, take_reply
from tests.sms_gateway.test_webhooks import invited
from tests.trust.test_atomic_limits import together

HEADERS = {"X-Sipas-Secret": "s3cret-value"}


def _answers(session) -> int:  # type: ignore[no-untyped-def]
    session.commit()
    return session.scalar(select(func.count()).select_from(OutboundMessage).where(
        OutboundMessage.kind.in_((MessageKind.REPLY, MessageKind.FOLLOW_UP)))) or 0


def _ask(app, index: int):  # type: ignore[no-untyped-def]
    client = app.test_client()
    body = {"Phone": "0912345678", "Content": "?", "MessageId": f"esms-{index}"}
    return lambda: 1 if client.post("/sms/http/inbound", json=body, headers=HEADERS).json["reply"] else 0


def test_parallel_messages_from_one_number_get_no_more_than_the_daily_limit_of_answers(app, session, settings):
    invited(app, session, settings)
    app.extensions["sms_settings"] = replace(app.extensions["sms_settings"], http_inbound_secret="s3cret-value")
    answered = together(16, lambda i: _ask(app, i))
    assert sum(answered) == REPLY_LIMIT
    assert _answers(session) == REPLY_LIMIT


def _answer_all(session, phone_hash: str, now: datetime, asked: int) -> int:  # type: ignore[no-untyped-def]
    """``asked`` messages from the number at ``now``: store an answer for each one the limit lets through."""
    given = 0
    for _ in range(asked):
        if take_reply(session, phone_hash, now):
            new_outbound(session, "http", MessageKind.REPLY, phone="0912345678", phone_hash=phone_hash, body="?",
                         now=now)
            given += 1
    session.commit()
    return given


def test_the_limit_counts_the_last_24_hours_not_a_calendar_day(session):
    """Answers given late yesterday still count this morning, in a new window of the counter; once they are
    24 hours old the whole limit is there again (a refused message used none of it)."""
    phone_hash = "a" * 64
    evening = datetime(2026, 12, 3, 23, 0, tzinfo=UTC)
    assert _answer_all(session, phone_hash, evening, REPLY_LIMIT + 1) == REPLY_LIMIT
    assert _answer_all(session, phone_hash, evening + timedelta(hours=2), 1) == 0
    assert _answer_all(session, phone_hash, evening + timedelta(hours=24, minutes=1), REPLY_LIMIT + 1) == REPLY_LIMIT


def test_on_sqlite_the_take_and_the_rolling_count_are_one_statement(session):
    """Every SMS answer takes the limit: on SQLite the take and the 24-hour count are one statement (the count a
    sub-select of the take's RETURNING; the write lock held since the transaction's first write keeps it exact).
    The limit still counts answers given late in the previous window (above) and refuses the eleventh."""
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL counts after the take: a statement's snapshot precedes the take's wait for the row "
                    "lock, so one statement would miss the number's answer committed meanwhile")
    phone_hash, now = "b" * 64, datetime(2026, 12, 3, 23, 0, tzinfo=UTC)
    new_outbound(session, "http", MessageKind.REPLY, phone="0912345678", phone_hash=phone_hash, body="?",
                 now=now - timedelta(hours=23))  # an answer of the previous window, within 24 hours
    session.commit()
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        if not statement.startswith("BEGIN"):  # the transaction's own (sipas.storage)
            sent.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert take_reply(session, phone_hash, now)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(sent) == 1 and sent[0].startswith("INSERT INTO throttle_counter") and "sms_outbound" in sent[0]
    session.rollback()
    assert _answer_all(session, phone_hash, now, REPLY_LIMIT) == REPLY_LIMIT - 1
