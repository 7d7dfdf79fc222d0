"""Twilio's SMS survey sample (automated-survey-flask), served beside sipas for the webhook comparison.

Vendored unmodified with its MIT licence in ``bench/peers/`` (see ``bench/peers/SOURCE.md``), or wherever
``SIPAS_BENCH_PEERS`` points. Should it be absent the comparison is skipped with a note: nothing else needs
it, and nothing under tests/ reads it. Its own pins fail on Python 3.11; the
ones below install it in a separate venv, ``bench/.peer-venv`` (git-ignored), created on first use.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.httpload import Plan, Request
from bench.scratch import scratch_folder

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / "bench" / ".peer-venv"
PINS = ["Flask==1.1.4", "Werkzeug==1.0.1", "Jinja2==2.11.3", "MarkupSafe==2.0.1", "itsdangerous==1.1.0",
        "click==7.1.2", "Flask-SQLAlchemy==2.4.4", "SQLAlchemy==1.3.24", "Flask-Migrate==2.7.0",
        "Flask-Script==2.0.6", "alembic==1.5.5", "twilio==6.52.0", "phonenumbers", "lxml>=4.9.3", "xmlunittest",
        "gunicorn"]
SAMPLE = "automated-survey-flask"


def find() -> Path | None:
    """The sample's folder: ``SIPAS_BENCH_PEERS`` when set, else the copy vendored in ``bench/peers``."""
    folder = Path(os.environ["SIPAS_BENCH_PEERS"]) if os.environ.get("SIPAS_BENCH_PEERS") else ROOT / "bench" / "peers"
    sample = folder / SAMPLE
    return sample if (sample / "automated_survey_flask").is_dir() else None


def _python() -> Path:
    python = VENV / "bin" / "python"
    if not (VENV / ".installed").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PINS], check=True)
        (VENV / ".installed").touch()
    return python


def start(gunicorn: Callable[..., Any]) -> tuple[Any | None, str | None]:
    """Install, seed and serve the sample; (server, None) or (None, why it is skipped)."""
    folder = find()
    if folder is None:
        return None, (f"SKIPPED: `{SAMPLE}` not found (in bench/peers/, "
                      "or where SIPAS_BENCH_PEERS points).")
    try:
        python = _python()
    except (OSError, subprocess.CalledProcessError) as exc:
        return None, f"SKIPPED: its venv could not be installed ({exc})."
    database = scratch_folder("sipas-bench-peer-") / "peer.db"
    env = {"DATABASE_URI": f"sqlite:///{database}"}
    seed = ("from automated_survey_flask import prepare_app, db, parsers; app=prepare_app('development'); "
            "app.app_context().push(); db.create_all(); "
            "db.session.add(parsers.survey_from_json(open('survey.json').read())); db.session.commit()")
    subprocess.run([str(python), "-c", seed], cwd=folder, env={**os.environ, **env}, check=True,
                   capture_output=True)
    server = gunicorn("Twilio sample", "automated_survey_flask:prepare_app('development')", env,
                      python=str(python), cwd=folder, health="/", config=ROOT / "bench" / "peer_gunicorn.conf.py")
    return server, f"served from `{folder}` with the pins in `bench/peer.py` (its own SQLite database)."


def answer_plan() -> Plan:
    """The sample's SMS answer to its first question (what the webhook comparison measures)."""
    def plan(n: int) -> Request:
        body = f"Body=5&MessageSid=SM{n:032d}&From=%2B84912345678".encode()
        return "POST", "/answer/1", {"Content-Type": "application/x-www-form-urlencoded"}, body
    return plan
