"""Intake throughput against the bare-insert baseline (issue 14, goal 1), on SQLite and PostgreSQL.

    .venv/bin/python bench/intake.py [--runs 5] [--seconds 3] [--clients 32] [--backend sqlite|postgresql|both]
                                     [--paths api kiosk webhook phone] [--no-peer]

Servers: sipas and a bare Flask app (``bench/baseline_app.py``: one INSERT + commit on the same
database and engine settings) under gunicorn with ``deploy/gunicorn.conf.py``; with Twilio's sample
app when its folder is found (``bench/peer.py``). Load: ``bench/httpload.py`` in a second process,
``--clients`` keep-alive connections on 127.0.0.1, every rating on a distinct returned dossier. Each
round measures every contestant one after the other, so a ratio compares runs of the same round; the
report gives the median of the rounds with min and max. Prints Markdown (``bench/run.py`` collects it).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import baseline_app, chart, httpload, peer  # noqa: E402
from bench.httpload import Outcome, Request  # noqa: E402
from bench.scratch import scratch_folder  # noqa: E402

BENCH = True  # part of `make bench` (bench/run.py)

UNIT = "P-BENCH"
SECRET = "bench-secret"
DOSSIERS = 60_000
GOAL_RATIO, GOAL_P99, GOAL_PEER = 0.60, 0.100, 5.0
TWILIO_SID, TWILIO_TOKEN, TWILIO_FROM = "AC" + "0" * 32, "bench-twilio-token", "+15005550006"
PUBLIC = "https://sipas.example.vn"
PATH_KEYS = {"POST /api/v1/responses": "api", "kiosk submit": "kiosk",
             "signed Twilio webhook (12-digit reply)": "webhook", "phone form (SMS link, JSON submit)": "phone"}
# --paths
WEBHOOK_NUMBERS = DOSSIERS  # phones with an invitation sent (one dossier each), for the webhook
#: ratings (hue12, 12 answers) and SMS answers the ward already holds from the quarter before, with their tallies
HISTORY = 20_000
HISTORY_SOURCE = "api:history"


# --- request plans (built in the load process: module-level, picklable parameters) -------------------

def api_plan(key: str, answers: dict[str, str], offset: int, stride: int) -> httpload.Plan:
    def plan(n: int) -> Request:
        body = {"instrument": "quay4", "channel": "api", "answers": answers,
                "dossier_code": f"B-{offset + n * stride:06d}", "idempotency_key": f"bench-{offset + n * stride}"}
        return "POST", "/api/v1/responses", {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}, \
            json.dumps(body).encode()
    return plan


def kiosk_plan(tokens: list[str], answers: dict[str, str], offset: int, stride: int) -> httpload.Plan:
    def plan(n: int) -> Request:
        number = offset + n * stride
        body = {"key": f"kiosk-{number:08d}", "instrument": "quay4", "answers": answers,
                "dossier_code": f"B-{number:06d}"}
        return "POST", f"/kiosk/{UNIT}/api/submit", {"X-Kiosk-Token": tokens[n % len(tokens)],
                                                     "Content-Type": "application/json"}, json.dumps(body).encode()
    return plan


def webhook_plan(auth_token: str, public: str, offset: int, stride: int) -> httpload.Plan:
    from urllib.parse import urlencode

    from twilio.request_validator import RequestValidator

    validator, url = RequestValidator(auth_token), f"{public}/sms/twilio/inbound"

    def plan(n: int) -> Request:
        number = offset + n * stride
        params = {"From": f"+8498{number:07d}", "To": TWILIO_FROM, "Body": "333333333333",
                  "MessageSid": f"SM{number:032d}", "AccountSid": TWILIO_SID}
        return "POST", "/sms/twilio/inbound", {"Content-Type": "application/x-www-form-urlencoded",
                                               "X-Twilio-Signature": validator.compute_signature(url, params)}, \
            urlencode(params).encode()
    return plan


def phone_plan(secret: str, answers: dict[str, str], offset: int, stride: int) -> httpload.Plan:
    """The phone form's submit, as its rating component sends it: the link of a distinct dossier each time, with
    the form's token (what the page embeds: ``sms_gateway.phone_views.form_token``)."""
    from itsdangerous import URLSafeSerializer

    signer = URLSafeSerializer(secret, salt="sipas.link-form")

    def plan(n: int) -> Request:
        number = offset + n * stride
        code = f"L{number:07d}"
        body = {"answers": answers, "idempotency_key": f"phone-{number}"}
        return "POST", f"/r/{code}", {"X-CSRFToken": signer.dumps(code), "Content-Type": "application/json"}, \
            json.dumps(body).encode()
    return plan


def baseline_plan(answers: dict[str, str], offset: int) -> httpload.Plan:
    def plan(n: int) -> Request:
        body = {"dossier_code": f"B-{offset + n:06d}", "answers": answers}
        return "POST", "/rate", {"Content-Type": "application/json"}, json.dumps(body).encode()
    return plan


# --- servers ---------------------------------------------------------------------------------------------

def _port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    label: str
    port: int
    process: subprocess.Popen  # type: ignore[type-arg]

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)


def gunicorn(label: str, app: str, env: dict[str, str], *, python: str = sys.executable, cwd: Path = ROOT,
             health: str = "/healthz", config: Path = ROOT / "deploy" / "gunicorn.conf.py") -> Server:
    """Serve ``app`` with the production gunicorn settings (2 workers x 4 threads unless overridden)."""
    port = _port()
    full_env = {**os.environ, **env, "SIPAS_BIND": f"127.0.0.1:{port}", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([python, "-m", "gunicorn", "-c", str(config), "--access-logfile", "/dev/null", app],
                               env=full_env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    server = Server(label, port, process)
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{health}", timeout=2):
                return server
        except OSError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            server.stop()
            raise SystemExit(f"{label}: the server did not start")
        time.sleep(0.2)


# --- seeding ---------------------------------------------------------------------------------------------

def scratch_database(backend: str, prefix: str) -> tuple[str, Any]:
    """A throwaway database for the in-process scripts (``bench/intake_cpu.py``, ``bench/rating_db.py``): its URL,
    and the PostgreSQL cluster to stop when done (``tests/pgcluster.py``; ``None`` for SQLite)."""
    if backend == "sqlite":
        return f"sqlite:///{scratch_folder(prefix) / 'bench.db'}", None
    from tests.pgcluster import PostgresCluster

    cluster = PostgresCluster()
    return cluster.start(), cluster


def seed(url: str, devices: int) -> tuple[str, list[str], dict[str, str]]:
    """A ward with ``DOSSIERS`` returned dossiers, each with an SMS short link (quay4) to its phone form, an API
    key, ``devices`` paired kiosks, and ``WEBHOOK_NUMBERS`` more dossiers whose SMS invitation (hue12) was sent,
    each to its own number; and the ``HISTORY`` ratings and SMS answers of an earlier quarter (``_history``)."""
    from sqlalchemy import insert, select

    from kiosk.pairing import create_device, pair
    from sipas.accounts import create_api_key
    from sipas.catalogue import load_catalogue
    from sipas.dossier_events import drop_triggers, install_triggers, rebuild_events
    from sipas.dossiers import phone_hash
    from sipas.migrate import upgrade
    from sipas.models import Dossier, IntakeChannel
    from sipas.settings import DEFAULT_CONFIG_DIR, Settings
    from sipas.storage import Database
    from sipas.units import create_unit
    from sms_gateway.models import Invitation, InvitationStatus
    from sms_gateway.models_links import LinkChannel, ShortLink

    upgrade(url)
    settings = Settings.from_env({}, database_url=url, secret_key=SECRET)
    database = Database(settings)
    now = datetime.now(UTC)
    received = now - timedelta(days=3)
    try:
        with database.session() as session:
            unit = create_unit(session, code=UNIT, name="Phường Đo Tải", actor="bench", default_instrument="quay4")
            _key, plaintext = create_api_key(session, unit, name="bench", actor="bench")
            tokens = []
            for index in range(devices):
                new = create_device(session, unit, name=f"Quầy {index + 1}", now=now, secret_key=SECRET,
                                    actor="bench", valid_for=timedelta(minutes=30))
                tokens.append(pair(session, unit, new.pairing_code, now=now, secret_key=SECRET,
                                   client="bench").token)
            rows = [_returned_dossier(unit.id, f"B-{i:06d}", "Đăng ký khai sinh", IntakeChannel.DIRECT, received, now)
                    for i in range(DOSSIERS)]
            rows += [{**row, "code": f"W-{i:06d}"} for i, row in enumerate(rows[:WEBHOOK_NUMBERS])]
            rows += _history_dossiers(unit.id, now)
            # a bulk load without the dossier triggers, then the events counted once (as bench/generate.py): on
            # PostgreSQL 120,000 one-row trigger runs over the same event rows in one transaction took minutes
            drop_triggers(session.connection())
            for start in range(0, len(rows), 5000):
                session.execute(insert(Dossier), rows[start:start + 5000])
            install_triggers(session.connection())
            rebuild_events(session.connection())
            ids = dict(session.execute(select(Dossier.code, Dossier.id).where(Dossier.code.startswith("W-"))).all())
            invitations = [{"dossier_id": ids[f"W-{i:06d}"], "unit_id": unit.id, "instrument_code": "hue12",
                            "kind": "sms", "status": InvitationStatus.SENT,
                            "phone_hash": phone_hash(f"+8498{i:07d}", SECRET), "due_at": now, "sent_at": now,
                            "expires_at": now + timedelta(days=7), "attempts": 1, "created_at": now,
                            "updated_at": now} for i in range(WEBHOOK_NUMBERS)]
            for start in range(0, len(invitations), 5000):
                session.execute(insert(Invitation), invitations[start:start + 5000])
            ids = dict(session.execute(select(Dossier.code, Dossier.id).where(Dossier.code.startswith("B-"))).all())
            links = [{"code": f"L{i:07d}", "dossier_id": ids[f"B-{i:06d}"], "unit_id": unit.id,
                      "instrument_code": "quay4", "channel": LinkChannel.SMS, "created_at": now,
                      "expires_at": now + timedelta(days=7)} for i in range(DOSSIERS)]
            for start in range(0, len(links), 5000):
                session.execute(insert(ShortLink), links[start:start + 5000])
            _history(session, unit.id, now, settings.tz)
        if database.engine.dialect.name == "postgresql":
            # statistics of the bulk-loaded tables, as autovacuum keeps them on a server in use: without them
            # PostgreSQL keeps planning every execution of a prepared statement anew (its custom plans)
            with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("ANALYZE")
    finally:
        database.dispose()
    quay4 = load_catalogue(DEFAULT_CONFIG_DIR).current("quay4", date.today())
    return plaintext, tokens, {c.code: c.options[0].code for c in quay4.citizen_criteria}


def _returned_dossier(unit_id: int, code: str, procedure: str, channel: Any, received: datetime,
                      created: datetime) -> dict[str, Any]:
    """A dossier row received at ``received``, returned a day later, due two days later."""
    due, returned = received + timedelta(days=2), received + timedelta(days=1)
    return {"unit_id": unit_id, "code": code, "procedure": procedure, "field": "", "intake_channel": channel,
            "received_at": received, "due_at": due, "returned_at": returned, "received_local_date": received.date(),
            "due_local_date": due.date(), "returned_local_date": returned.date(), "created_at": created,
            "updated_at": created}


def _earlier(now: datetime) -> datetime:
    return now - timedelta(days=100)


def _history_dossiers(unit_id: int, now: datetime) -> list[dict[str, Any]]:
    """The ``HISTORY`` dossiers of the quarter before (bulk-loaded with the others, before the triggers)."""
    from sipas.models import IntakeChannel

    earlier = _earlier(now)
    return [_returned_dossier(unit_id, f"H-{i:06d}", "Chứng thực bản sao", IntakeChannel.ONLINE_FULL, earlier, earlier)
            for i in range(HISTORY)]


def _history(session: Any, unit_id: int, now: datetime, tz: Any) -> None:
    """The ``HISTORY`` dossiers of the quarter before (``_history_dossiers``) each rated (hue12, 12 answers, through
    the API), each rated number answered by SMS, with their tallies, dossier counts and events recounted by
    ``sipas.tally.rebuild``.

    A ward's database is never empty: on one that is, PostgreSQL plans the statements a worker prepares on its
    first requests (the reply limit's count, the foreign-key checks of a rating's answers) for empty tables and
    keeps scanning them whole as they fill, until autovacuum's next ``ANALYZE``: a reply's server time grew from
    2.8 to 6.7 ms over 4,000 replies, and stayed at 1.6–2.4 ms with this history (docs/performance.md)."""
    from sqlalchemy import insert, select, text

    from sipas.catalogue import load_catalogue
    from sipas.models import Dossier, Response, ResponseChannel
    from sipas.settings import DEFAULT_CONFIG_DIR
    from sipas.tally import rebuild
    from sms_gateway.models import MessageKind, MessageStatus, OutboundMessage

    catalogue = load_catalogue(DEFAULT_CONFIG_DIR)
    earlier = _earlier(now)
    hue12 = catalogue.current("hue12", earlier.date())
    ids = session.execute(select(Dossier.id).where(Dossier.code.startswith("H-")).order_by(Dossier.id)).scalars()
    rated = earlier + timedelta(days=1, hours=2)
    responses = [{"unit_id": unit_id, "dossier_id": dossier_id, "instrument_code": hue12.code,
                  "instrument_version": hue12.version, "channel": ResponseChannel.API, "submitted_at": rated,
                  "comment": None, "idempotency_key": f"history-{dossier_id}", "source": HISTORY_SOURCE,
                  "flagged": False, "negative": False, "follow_up": False, "created_at": rated} for dossier_id in ids]
    for start in range(0, len(responses), 5000):
        session.execute(insert(Response), responses[start:start + 5000])
    # the answers by one INSERT … SELECT: each response's 12, every criterion's first option
    criteria = " UNION ALL ".join(
        f"SELECT '{c.code}' AS code, {position} AS position, '{c.options[0].code}' AS option, "
        f"{c.options[0].points} AS points" for position, c in enumerate(hue12.citizen_criteria, start=1))
    session.execute(text("INSERT INTO answer (response_id, criterion_code, position, option_code, points) "
                         f"SELECT r.id, c.code, c.position, c.option, c.points FROM response AS r, ({criteria}) AS c "
                         "WHERE r.source = :history"), {"history": HISTORY_SOURCE})
    replies = [{"provider": "twilio", "kind": MessageKind.REPLY, "to_hash": f"history-{i:06d}", "to_hint": "000",
                "body": "Cảm ơn ông/bà đã đánh giá.", "segments": 1, "encoding": "ucs2",
                "status": MessageStatus.ACCEPTED, "created_at": rated, "updated_at": rated} for i in range(HISTORY)]
    for start in range(0, len(replies), 5000):
        session.execute(insert(OutboundMessage), replies[start:start + 5000])
    rebuild(session.connection(), catalogue.dissatisfied_answers(), tz)


# --- measuring -------------------------------------------------------------------------------------------

@dataclass
class Series:
    """One contestant's runs (one per round)."""

    label: str
    outcomes: list[Outcome] = field(default_factory=list)

    def rates(self) -> list[float]:
        return [o.rate for o in self.outcomes]

    def p99s(self) -> list[float]:
        return [o.percentile(0.99) for o in self.outcomes]

    def errors(self) -> int:
        return sum(sum(o.errors.values()) for o in self.outcomes)

    def error_kinds(self) -> dict[str, int]:
        kinds: dict[str, int] = {}
        for outcome in self.outcomes:
            for kind, count in outcome.errors.items():
                kinds[kind] = kinds.get(kind, 0) + count
        return kinds


def _spread(values: list[float], scale: float = 1.0, digits: int = 0) -> str:
    if not values:
        return "–"
    return (f"{statistics.median(values) * scale:,.{digits}f} "
            f"({min(values) * scale:,.{digits}f}–{max(values) * scale:,.{digits}f})")


STORED: dict[str, str] = {}


def _stored(url: str) -> str:
    """What the load stored, per channel (the seeded history left out): every 2xx counted above is a rating."""
    from sqlalchemy import create_engine, func, select

    from sipas.models import Response

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(Response.channel, func.count()).where(Response.source != HISTORY_SOURCE)
                                      .group_by(Response.channel)).all()
    finally:
        engine.dispose()
    return ", ".join(f"{channel}: {count:,}" for channel, count in sorted(rows))


def measure_backend(label: str, url: str, args: argparse.Namespace, peer_server: Server | None,
                    generator: httpload.LoadGenerator) -> tuple[dict[str, Series], Series, Series | None]:
    key, tokens, answers = seed(url, devices=args.clients)
    instance = scratch_folder("sipas-bench-")
    sipas_env = {"SIPAS_DATABASE_URL": url, "SIPAS_SECRET_KEY": SECRET, "SIPAS_INSTANCE_DIR": str(instance),
                 "SIPAS_SECURE_COOKIES": "false", "SIPAS_KIOSK_MIN_INTERVAL_SECONDS": "0",
                 "SIPAS_SMS_PROVIDER": "twilio", "SIPAS_TWILIO_ACCOUNT_SID": TWILIO_SID,
                 "SIPAS_TWILIO_AUTH_TOKEN": TWILIO_TOKEN, "SIPAS_TWILIO_FROM": TWILIO_FROM,
                 "SIPAS_PUBLIC_BASE_URL": PUBLIC}
    servers: list[Server] = []
    try:
        servers.append(sipas := gunicorn(f"sipas ({label})", "sipas.wsgi:create()", sipas_env))
        baseline_app.prepare(url)
        servers.append(bare := gunicorn(f"baseline ({label})", "bench.baseline_app:create()",
                                        {"BENCH_DATABASE_URL": url}, health="/healthz"))
        paths = {"POST /api/v1/responses": (api_plan, {"key": key, "answers": answers}),
                 "kiosk submit": (kiosk_plan, {"tokens": tokens, "answers": answers}),
                 "signed Twilio webhook (12-digit reply)": (webhook_plan, {"auth_token": TWILIO_TOKEN,
                                                                           "public": PUBLIC}),
                 "phone form (SMS link, JSON submit)": (phone_plan, {"secret": SECRET, "answers": answers})}
        paths = {name: plan for name, plan in paths.items() if PATH_KEYS[name] in args.paths}
        series = {name: Series(name) for name in paths}
        baseline, peer_series = Series("baseline"), Series("Twilio sample") if peer_server else None
        stride = len(paths)
        # a short warm-up (imports, connection pools) that is not counted
        generator.load(sipas.port, api_plan, {"key": key, "answers": answers, "offset": DOSSIERS - 2000,
                                             "stride": 1}, clients=4, seconds=0.5)
        generator.load(bare.port, baseline_plan, {"answers": answers, "offset": 900_000}, clients=4, seconds=0.5)
        used = 0
        for round_number in range(args.runs):
            baseline.outcomes.append(generator.load(bare.port, baseline_plan,
                                                   {"answers": answers, "offset": round_number * 100_000},
                                                   clients=args.clients, seconds=args.seconds))
            for index, (name, (plan, params)) in enumerate(paths.items()):
                outcome = generator.load(sipas.port, plan, {**params, "offset": used + index, "stride": stride},
                                        clients=args.clients, seconds=args.seconds)
                series[name].outcomes.append(outcome)
            used += stride * (max(len(s.outcomes[-1].latencies) + sum(s.outcomes[-1].errors.values())
                                  for s in series.values()) + args.clients + 1)
            if used >= DOSSIERS - 2000:
                raise SystemExit(f"{label}: {DOSSIERS} seeded dossiers are not enough for this rate")
            if peer_series is not None and peer_server is not None:
                peer_series.outcomes.append(generator.load(peer_server.port, peer.answer_plan, {},
                                                          clients=args.clients, seconds=args.seconds))
        STORED[label] = _stored(url)
        return series, baseline, peer_series
    finally:
        for server in servers:
            server.stop()


def report(label: str, series: dict[str, Series], baseline: Series, peer_series: Series | None,
           clients: int) -> tuple[list[str], list[tuple[str, float, bool]]]:
    lines = [f"### {label}", "",
             f"| Path | sipas req/s | baseline req/s | ratio (goal ≥ {GOAL_RATIO:.2f}) | p99 ms (goal < "
             f"{GOAL_P99 * 1000:.0f}) | errors | goal |",
             "|---|---|---|---|---|---|---|"]
    bars = []
    for name, s in series.items():
        ratios = [a / b for a, b in zip(s.rates(), baseline.rates(), strict=True) if b]
        ratio, p99 = statistics.median(ratios), statistics.median(s.p99s())
        holds = ratio >= GOAL_RATIO and p99 < GOAL_P99 and s.errors() == 0
        errors = s.errors()
        error_text = str(errors) if not errors else f"{errors} {s.error_kinds()}"
        lines.append(f"| {name} | {_spread(s.rates())} | {_spread(baseline.rates())} | "
                     f"{_spread(ratios, digits=2)} | {_spread(s.p99s(), 1000, 1)} | {error_text} | "
                     f"{'holds' if holds else '**missed**'} |")
        bars.append((f"{name} · {label}", ratio, holds))
    lines.append(f"| baseline: p99 ms | | {_spread(baseline.p99s(), 1000, 1)} | | | {baseline.errors()} | |")
    if peer_series is not None:
        webhook = next((s for name, s in series.items() if "webhook" in name), None)
        ratio_text, holds_text = "", ""
        if webhook is not None:
            ratios = [a / b for a, b in zip(webhook.rates(), peer_series.rates(), strict=True) if b]
            ratio_text = f"webhook / sample: {_spread(ratios, digits=2)} (goal ≥ {GOAL_PEER:g})"
            holds_text = "holds" if statistics.median(ratios) >= GOAL_PEER else "**missed**"
        lines.append(f"| Twilio sample `POST /answer/<id>` (no signature check, its own SQLite) | "
                     f"{_spread(peer_series.rates())} | | {ratio_text} | {_spread(peer_series.p99s(), 1000, 1)} | "
                     f"{peer_series.errors()} | {holds_text} |")
    lines += ["", f"{clients} clients; runs per contestant: {len(baseline.outcomes)}; median (min–max). "
              f"Ratings stored (warm-up included): {STORED.get(label, '?')}.", ""]
    return lines, bars


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--paths", nargs="+", choices=sorted(set(PATH_KEYS.values())),
                        default=sorted(set(PATH_KEYS.values())), help="only these contestants (default: all)")
    parser.add_argument("--no-peer", action="store_true", help="skip Twilio's sample app")
    args = parser.parse_args()
    out = Path(os.environ.get("SIPAS_BENCH_OUT", tempfile.mkdtemp(prefix="sipas-bench-out-")))
    out.mkdir(parents=True, exist_ok=True)  # a folder named by hand may not exist yet (the chart goes there)
    print("## Intake (goal 1)\n")
    print("gunicorn with `deploy/gunicorn.conf.py` (2 workers × 4 gthreads) for sipas and for the bare baseline "
          "(`bench/baseline_app.py`: parse the JSON, one INSERT + commit, same engine settings: SQLite WAL, "
          "`synchronous=FULL`); load from a second process (`bench/httpload.py`); a distinct returned dossier "
          "per rating; kiosk: one paired device per client, minimum interval 0.\n")
    peer_server, note = (None, "SKIPPED (--no-peer).") if args.no_peer or "webhook" not in args.paths \
        else peer.start(gunicorn)
    if note:
        print(f"> Twilio sample: {note}\n")
    all_bars: list[tuple[str, float, bool]] = []
    generator = httpload.LoadGenerator()  # one load process for every run (a process per run: ~1 s each)
    try:
        backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
        for backend in backends:
            if backend == "sqlite":
                url = f"sqlite:///{scratch_folder('sipas-bench-') / 'bench.db'}"
                series, baseline, peer_series = measure_backend("SQLite", url, args, peer_server, generator)
                lines, bars = report("SQLite", series, baseline, peer_series, args.clients)
            else:
                from tests.pgcluster import PostgresCluster

                cluster = PostgresCluster()
                try:
                    series, baseline, _ = measure_backend("PostgreSQL", cluster.start(), args, None, generator)
                finally:
                    cluster.stop()
                lines, bars = report("PostgreSQL", series, baseline, None, args.clients)
            print("\n".join(lines), flush=True)
            all_bars += bars
    finally:
        generator.close()
        if peer_server is not None:
            peer_server.stop()
    svg = out / "intake.svg"
    svg.write_text(chart.bars("Intake: sipas / bare insert (median of rounds)", all_bars, goal=GOAL_RATIO),
                   encoding="utf-8")
    print(f"![intake ratios]({svg.name})\n")


if __name__ == "__main__":
    main()
