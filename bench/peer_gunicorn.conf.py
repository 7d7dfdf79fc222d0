"""gunicorn settings for the peer app: deploy/gunicorn.conf.py's workers, threads and timeouts, without
sipas's logger and start-up hook (the peer's venv has no sipas)."""

from pathlib import Path

_settings: dict = {}
exec((Path(__file__).resolve().parents[1] / "deploy" / "gunicorn.conf.py").read_text(), _settings)
bind, workers, worker_class = _settings["bind"], _settings["workers"], _settings["worker_class"]
threads = _settings["threads"]
timeout, graceful_timeout = _settings["timeout"], _settings["graceful_timeout"]
