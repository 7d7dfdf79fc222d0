"""A new rating's writes on PostgreSQL as one statement: the response, its answers, both tallies and its dossier's
counts in one data-modifying ``WITH``.

On PostgreSQL every statement is a round trip to the server (200–450 µs on a 2-core ward server shared with
the database), and a rating wrote in five (response, answers, two tally upserts, the dossier): more than the
writing itself. Here they are one, with a fixed text whatever the number of answers (the rows go as arrays
through ``unnest``), so psycopg prepares it once per connection.

What each part does is what ``sipas.responses.store_response`` and ``sipas.tally.add_counts`` do on SQLite:

- the response's ``INSERT … ON CONFLICT DO NOTHING``: a dossier already rated with the form, or an idempotency
  key already stored, stores nothing, and then nothing else is written either (every other part reads ``r``);
- the tally rows are upserted in the order ``tally.counts_of`` sorted them (``ORDER BY`` their position), the
  answer tally before the response tally before the dossier, as ``add_counts`` does: two writers lock shared
  rows in the same order, so they never deadlock. The order is forced by the final ``SELECT``, which counts each
  part in turn (an uncorrelated sub-select runs when the select list first needs it); a part the final
  ``SELECT`` never reached (no response stored) had nothing to write;
- the rating's dossier row is locked before all of them and must still be returned (``k``): a dossier update that
  cleared its return date after the rating's checks refuses it, and nothing is written (``NoLongerReturned``).
  Two ratings of one dossier take turns there; of two dossiers, each locks its own row, then the shared rows in
  order;
- the dossier's ``UPDATE`` fires its statement triggers (``sipas.dossier_events``) as a statement of its own.

A channel whose rating needs a write of its own first (a kiosk's minimum interval, a phone link's spend) gives it as
a ``Gate``: a part ``g`` run before the response and a part ``l`` after it, in the same statement. The response is
written only when ``g`` returned a row; a closed gate wrote nothing at all (``GateClosed``). So the kiosk's and the
phone form's ratings are one statement too, and on PostgreSQL their own transaction (``sipas.pg_intake``) where
nothing else is written with them.

``tests/trust/test_rating_statement.py`` checks the one statement, the order its rows are locked in, a refused
rating writing nothing and concurrent ratings on shared rows; ``tests/aggregator/test_tally_property.py``
compares the counts with a straight recount on random data, on both databases.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.types import Enum

from sipas.driver_statements import DriverStatement
from sipas.models import Answer, Dossier, Response, UTCDateTime
from sipas.models_tally import AnswerTally, ResponseTally
from sipas.pg_intake import commits_alone
from sipas.tally import ANSWER_KEY, RESPONSE_KEY, Counts

_RESPONSE_COLUMNS = ("unit_id", "dossier_id", "instrument_code", "instrument_version", "channel", "submitted_at",
                     "comment", "idempotency_key", "source", "flagged", "negative", "follow_up", "created_at")


def _unnest(columns: dict[str, str], prefix: str) -> str:
    arrays = ", ".join(f"CAST(:{prefix}_{name} AS {kind}[])" for name, kind in columns.items())
    return f"unnest({arrays}) WITH ORDINALITY AS u({', '.join(columns)}, n)"


def _tally_part(name: str, table: str, key: tuple[str, ...], varying: dict[str, str], added: tuple[str, ...]) -> str:
    columns = (*key, *(c for c in varying if c not in key))
    chosen = [f"u.{c}" if c in varying else f"CAST(:{c} AS {_SHARED_TYPES[c]})" for c in columns]
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in added)
    return (f"{name} AS (INSERT INTO {table} ({', '.join(columns)})\n"
            f"  SELECT {', '.join(chosen)} FROM {_unnest(varying, name)}\n"
            f"  WHERE EXISTS (SELECT 1 FROM r) ORDER BY u.n\n"
            f"  ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates} RETURNING 1)")


# one response's tally rows share these (``tally.counts_of`` takes them from the response): given once
_SHARED_TYPES = {"unit_id": "integer", "instrument_code": "varchar", "instrument_version": "varchar",
                 "channel": "varchar"}
_ANSWER_VARYING = {"criterion_code": "varchar", "position": "integer", "option_code": "varchar", "points": "integer"}
_ANSWER_TALLY_VARYING = {"grain": "varchar", "local_date": "date", "criterion_code": "varchar",
                         "option_code": "varchar", "points": "integer", "answers": "integer"}
_RESPONSE_TALLY_VARYING = {"grain": "varchar", "local_date": "date", "responses": "integer", "negative": "integer",
                           "follow_up": "integer"}
_RESPONSE_ADDED = ("responses", "negative", "follow_up")


@dataclass(frozen=True)
class Gate:
    """A channel's own writes around the rating, made in its statement (PostgreSQL).

    ``first`` is the body of the part ``g``, run before the response: it returns a row when the rating may be
    written (a conditional ``UPDATE … RETURNING``, a ``SELECT … FOR UPDATE``), none when it may not, and then
    nothing at all is written. ``after``, when given, is the body of the part ``l``, run after the response and its
    counts, whatever ``g`` returned (so it checks ``g`` itself); it may read ``r`` (the new response's ``id``, no
    row when none was stored) and ``k`` (the rating's dossier ``:d_dossier``, no row when it is no longer
    returned), writes exactly one row when the response was stored, and must not write a row ``g`` wrote (a
    statement writes a row once). ``g`` runs whatever ``k`` finds: a rating refused there keeps what ``g`` wrote,
    as one a unique constraint refused does. Both texts are fixed for a ``kind`` (the statement is prepared once
    per kind and connection); their own parameters are named ``g_…`` and given in ``params``."""

    kind: str
    first: str
    after: str | None
    params: Mapping[str, Any]


class GateClosed(Exception):
    """The gate returned no row: the rating was not written, nor anything else (``write_rating``)."""


class NoLongerReturned(Exception):
    """The rating's dossier had no return date when its statement ran (cleared since its checks): nothing was
    written but what a gate wrote (``write_rating``)."""


def _statement(gate: Gate | None = None) -> Any:
    response, answer = Response.__table__.name, Answer.__table__.name
    answer_tally, response_tally, dossier = (AnswerTally.__table__.name, ResponseTally.__table__.name,
                                             Dossier.__table__.name)
    # the response only when its dossier, if any, is still returned (``k``) and the gate, if any, returned a row
    # (INSERT … SELECT: the parameters take the columns' types)
    opened = " AND EXISTS (SELECT 1 FROM g)" if gate is not None else ""
    sql = (
        (f"WITH g AS ({gate.first}),\n" if gate is not None else "WITH ") +
        f"{_RETURNED_PART},\n"
        f"r AS (INSERT INTO {response} ({', '.join(_RESPONSE_COLUMNS)})\n"
        f"  SELECT {', '.join(f':{c}' for c in _RESPONSE_COLUMNS)}\n"
        f"  WHERE (CAST(:d_dossier AS integer) IS NULL OR EXISTS (SELECT 1 FROM k)){opened}\n"
        "  ON CONFLICT DO NOTHING RETURNING id),\n"
        f"a AS (INSERT INTO {answer} (response_id, {', '.join(_ANSWER_VARYING)})\n"
        f"  SELECT r.id, {', '.join(f'u.{c}' for c in _ANSWER_VARYING)} FROM r, {_unnest(_ANSWER_VARYING, 'a')}\n"
        f"  ORDER BY u.n RETURNING 1),\n"
        f"{_tally_part('t', answer_tally, ANSWER_KEY, _ANSWER_TALLY_VARYING, ('answers',))},\n"
        f"{_tally_part('rt', response_tally, RESPONSE_KEY, _RESPONSE_TALLY_VARYING, _RESPONSE_ADDED)},\n"
        f"d AS (UPDATE {dossier} SET responses = {dossier}.responses + CAST(:d_added AS integer),\n"
        f"  negative_responses = {dossier}.negative_responses + CAST(:d_added_negative AS integer)\n"
        f"  WHERE {dossier}.id = CAST(:d_dossier AS integer) AND EXISTS (SELECT 1 FROM r) RETURNING 1)")
    counted = "(SELECT count(*) FROM a), (SELECT count(*) FROM t), (SELECT count(*) FROM rt), (SELECT count(*) FROM d)"
    # one row even when nothing was stored: whether the gate opened, whether the dossier was still returned, and
    # what the rest wrote
    after = f",\nl AS ({gate.after})" if gate is not None and gate.after else ""
    opened = "(SELECT count(*) FROM g)" if gate is not None else "1"
    sql += (f"{after}\nSELECT {opened}, (SELECT count(*) FROM k), r.id, {counted}"
            f"{', (SELECT count(*) FROM l)' if after else ''} FROM (SELECT 1) AS one LEFT JOIN r ON true")
    channel_type = Response.__table__.c.channel.type
    assert isinstance(channel_type, Enum)
    return text(sql).bindparams(bindparam("submitted_at", type_=UTCDateTime()),
                                bindparam("created_at", type_=UTCDateTime()),
                                bindparam("channel", type_=channel_type))


# The rating's dossier, locked and still returned: a dossier update that cleared its return date after the rating's
# checks (read outside a transaction, ``sipas.responses._dossier_for``) refuses the rating here, and one still
# running is waited for and its new row read (READ COMMITTED re-checks a row locked after it changed). A dossier
# writer that clears the date locks the row too (``sipas.dossiers``), or refuses in its ``UPDATE`` a dossier counted
# as rated (``sipas.imports.dossier_swap``). ``FOR NO KEY UPDATE``: the lock ``d`` takes anyway, taken first.
_RETURNED_PART = (f"k AS (SELECT 1 FROM {Dossier.__table__.name} WHERE id = CAST(:d_dossier AS integer)\n"
                  "  AND returned_at IS NOT NULL FOR NO KEY UPDATE)")

_STATEMENT = DriverStatement(_statement())  # on the driver's cursor (sipas.driver_statements)
_GATED: dict[str, DriverStatement] = {}  # one per gate kind, made at its first use


def _gated(gate: Gate) -> DriverStatement:
    statement = _GATED.get(gate.kind)
    if statement is None:
        statement = _GATED[gate.kind] = DriverStatement(_statement(gate))
    return statement


def write_rating(connection: Connection, values: dict[str, Any], answer_rows: list[dict[str, Any]],
                 counts: Counts, *, gate: Gate | None = None, alone: bool = False) -> int | None:
    """Store a rating's response (``values``: its columns), its answers (``answer_rows``, without their response)
    and its ``counts`` (``tally.counts_of``) in one statement; the new response's id, or None when a unique
    constraint stored nothing (then nothing was written but what ``gate`` wrote).

    ``gate``: a write the rating needs first (``Gate``); ``GateClosed`` when it returned no row.
    ``NoLongerReturned`` when the dossier's return date was cleared since the rating's checks (``k``): nothing was
    written then but what ``gate`` wrote.
    ``alone``: the statement may be its own transaction (``sipas.responses.store_response``); in an intake session
    that wrote nothing before, it is then (``sipas.pg_intake.commits_alone``)."""
    params: dict[str, Any] = {c: values[c] for c in _RESPONSE_COLUMNS}
    for name, varying, rows in (("a", _ANSWER_VARYING, answer_rows), ("t", _ANSWER_TALLY_VARYING, counts.answer_rows),
                                ("rt", _RESPONSE_TALLY_VARYING, counts.response_rows)):
        for column in varying:
            params[f"{name}_{column}"] = [row[column] for row in rows]
    dossier = counts.dossier or {"dossier": None, "added": 0, "added_negative": 0}
    params.update({f"d_{k}": v for k, v in dossier.items()})
    if gate is not None:
        params.update(gate.params)
    with commits_alone(connection) if alone else nullcontext():
        found = (_STATEMENT if gate is None else _gated(gate)).returned(connection, params)
    assert found is not None  # one row whatever was written
    opened, returned, new_id, answers, answer_tallies, response_tallies, dossiers = found[:7]
    if gate is not None and not opened:
        raise GateClosed(gate.kind)
    if counts.dossier is not None and not returned:
        raise NoLongerReturned(counts.dossier["dossier"])
    if gate is not None and gate.after and new_id is not None and found[7] != 1:
        raise RuntimeError(f"gate {gate.kind}: its part after the rating wrote {found[7]} rows, not 1")
    if new_id is None:
        return None
    if (answers, answer_tallies, response_tallies, dossiers) != (
            len(answer_rows), len(counts.answer_rows), len(counts.response_rows), int(counts.dossier is not None)):
        raise RuntimeError(f"rating {new_id}: wrote {answers} answers, {answer_tallies} + {response_tallies} tally "
                           f"rows and {dossiers} dossiers, not all of its rows")
    return int(new_id)
