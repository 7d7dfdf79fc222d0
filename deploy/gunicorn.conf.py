"""gunicorn settings for production: `gunicorn -c deploy/gunicorn.conf.py 'sipas.wsgi:create()'`.

The scheduler is NOT started here: it runs as its own single process (deploy/systemd/sipas-scheduler.service).
"""

import os

from sipas.settings import env_int

# Read as every setting is: an empty value means the default, a wrong one stops the start with its name.
bind = os.environ.get("SIPAS_BIND", "").strip() or "127.0.0.1:8000"
workers = env_int(os.environ, "SIPAS_WORKERS", 2, minimum=1)
worker_class = "gthread"
threads = env_int(os.environ, "SIPAS_THREADS", 4, minimum=1)
timeout = 60
graceful_timeout = 30
accesslog = "-"
# Short links (/r/<code>) are bearer links: the access log shows /r/*** instead of the code.
logger_class = "sms_gateway.access_log.MaskedLinkLogger"
# With SIPAS_LOG_FORMAT=json that logger writes JSON lines (access and error log, and the app's loggers).
# Only the reverse proxy on this machine may set X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("SIPAS_FORWARDED_ALLOW_IPS", "").strip() or "127.0.0.1"


def on_starting(server):  # type: ignore[no-untyped-def]
    """Start the request-latency histograms afresh: the files of the previous run's workers are removed."""
    from sipas.metrics import metrics_dir
    from sipas.settings import Settings

    directory = metrics_dir(Settings.from_env())
    for stale in directory.glob("*.json") if directory.is_dir() else ():
        stale.unlink(missing_ok=True)
