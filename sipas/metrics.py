"""``GET /metrics``: Prometheus text for monitoring, computed when scraped.

Counts that live in the database (ratings by channel and unit, SMS invitations, kiosk queues, scheduler
job runs) are queried at scrape time, so every worker and every host answers the same figures. Request
latency is per process and merged per host through a directory (:mod:`sipas.request_metrics`).
Channels add families with ``<channel>/metrics.py`` providing ``families(session) -> list[Family]``.

Access: with ``SIPAS_METRICS_TOKEN`` set, only ``Authorization: Bearer <token>``; without it, only a
direct connection from 127.0.0.1 or ::1 (no ``X-Forwarded-For``: nothing that came through the proxy).
"""

from __future__ import annotations

import hmac
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask, Response, current_app, g, jsonify, request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sipas import request_metrics, storage
from sipas.clock import utcnow
from sipas.models import SchedulerJobRun, Unit
from sipas.models_tally import ResponseTally
from sipas.plugins import channel_modules
from sipas.prometheus import CONTENT_TYPE, Family, render
from sipas.settings import Settings

LOOPBACK = frozenset({"127.0.0.1", "::1"})
RECENT = timedelta(hours=1)


def metrics_dir(settings: Settings) -> Path:
    configured = settings.env.get("SIPAS_METRICS_DIR")
    return Path(configured) if configured else settings.instance_dir / "metrics"


def allowed(token: str, authorization: str | None, remote_addr: str | None, forwarded_for: str | None) -> bool:
    """Whether a scrape may read the metrics (see the module docstring)."""
    if token:
        presented = (authorization or "").removeprefix("Bearer ").strip()
        return bool(authorization and authorization.startswith("Bearer ")) and hmac.compare_digest(
            presented.encode(), token.encode())
    return remote_addr in LOOPBACK and not forwarded_for


def rating_families(session: Session) -> list[Family]:
    """A gauge: a clerk who deletes a keyed ballot line deletes its rating, so the count can go down.

    Summed from the monthly tallies, which ``sipas.tally`` keeps equal to a recount of the stored ratings (a
    deleted ballot line is uncounted in its transaction): counting the ratings themselves read every one at each
    scrape, 3.3-5.2 s for 1 M of them on SQLite (``tests/test_metrics.py``)."""
    ratings = Family("sipas_ratings", "gauge", "Ratings stored now, by unit and channel.")
    stored = func.sum(ResponseTally.responses)
    rows = session.execute(select(Unit.code, ResponseTally.channel, stored).select_from(ResponseTally)
                           .join(Unit, Unit.id == ResponseTally.unit_id).where(ResponseTally.grain == "month")
                           .group_by(Unit.code, ResponseTally.channel).having(stored > 0)
                           .order_by(Unit.code, ResponseTally.channel))
    for unit, channel, count in rows:
        ratings.add({"unit": unit, "channel": str(channel)}, count)
    return [ratings]


def scheduler_families(session: Session) -> list[Family]:
    """The job-run log is pruned after two weeks, so these are gauges: the last run and the last hour."""
    last = Family("sipas_scheduler_job_last_duration_seconds", "gauge",
                  "Duration of the job's last finished run.")
    finished = Family("sipas_scheduler_job_last_finished_timestamp_seconds", "gauge",
                      "When the job's last run finished (Unix time).")
    recent_runs = Family("sipas_scheduler_job_runs_last_hour", "gauge", "Runs finished in the last hour, by outcome.")
    recent_max = Family("sipas_scheduler_job_duration_max_last_hour_seconds", "gauge",
                        "Longest run finished in the last hour.")
    latest = (select(SchedulerJobRun.job_id, func.max(SchedulerJobRun.id).label("id"))
              .where(SchedulerJobRun.finished_at.is_not(None)).group_by(SchedulerJobRun.job_id).subquery())
    for run in session.scalars(select(SchedulerJobRun).join(latest, latest.c.id == SchedulerJobRun.id)
                               .order_by(SchedulerJobRun.job_id)):
        assert run.finished_at is not None
        last.add({"job": run.job_id, "outcome": run.outcome}, (run.finished_at - run.started_at).total_seconds())
        finished.add({"job": run.job_id}, _unix(run.finished_at))
    counts: dict[tuple[str, str], int] = {}
    longest: dict[str, float] = {}
    for job_id, outcome, started, ended in session.execute(
            select(SchedulerJobRun.job_id, SchedulerJobRun.outcome, SchedulerJobRun.started_at,
                   SchedulerJobRun.finished_at).where(SchedulerJobRun.finished_at >= utcnow() - RECENT)):
        counts[job_id, outcome] = counts.get((job_id, outcome), 0) + 1
        longest[job_id] = max(longest.get(job_id, 0.0), (ended - started).total_seconds())
    for (job_id, outcome), count in sorted(counts.items()):
        recent_runs.add({"job": job_id, "outcome": outcome}, count)
    for job_id, seconds in sorted(longest.items()):
        recent_max.add({"job": job_id}, seconds)
    return [last, finished, recent_runs, recent_max]


def _unix(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def all_families(session: Session, directory: Path) -> list[Family]:
    families = rating_families(session) + scheduler_families(session)
    for channel in channel_modules("metrics"):
        families += channel.families(session)
    families.append(request_metrics.family(directory))
    return families


def init_app(app: Flask) -> None:
    settings: Settings = app.extensions["sipas_settings"]
    histograms = request_metrics.RequestHistograms(metrics_dir(settings))
    app.extensions["sipas_request_histograms"] = histograms

    @app.before_request
    def _start_timer() -> None:
        g.sipas_request_started = time.perf_counter()

    @app.teardown_request
    def _observe(_exc: BaseException | None) -> None:
        started = g.pop("sipas_request_started", None)
        if started is not None:
            route = request.url_rule.rule if request.url_rule is not None else request_metrics.UNMATCHED
            histograms.observe(route, request.method, time.perf_counter() - started)

    @app.get("/metrics")
    def metrics():  # type: ignore[no-untyped-def]
        token = current_app.extensions["sipas_settings"].env.get("SIPAS_METRICS_TOKEN", "")
        if not allowed(token, request.headers.get("Authorization"), request.remote_addr,
                       request.headers.get("X-Forwarded-For")):
            return jsonify(error="metrics_forbidden",
                           message="Chỉ đọc được số liệu giám sát với mã truy cập hoặc từ chính máy chủ."), 403
        histograms.flush()
        body = render(all_families(storage.db_session(), histograms.directory))
        return Response(body, mimetype=None, content_type=CONTENT_TYPE)
