"""The secret key in force: ``SIPAS_SECRET_KEY``, or one generated once into the instance folder.

In a module of its own, below the app factory: the backup, the CLI and the channels read it without importing
``sipas.app`` (which imports them back through the settings check and the blueprints).
"""

from __future__ import annotations

import os
import secrets

from sipas.settings import Settings


def secret_in_force(settings: Settings) -> str:
    """The key the app signs and hashes with: ``SIPAS_SECRET_KEY``, or the one generated into the instance folder
    (``app.config["SECRET_KEY"]`` in a request). Never ``settings.secret_key`` alone: it is empty in that case."""
    return settings.secret_key or _instance_secret(settings)


def _instance_secret(settings: Settings) -> str:
    """Without SIPAS_SECRET_KEY, keep a random key in the instance folder so sessions survive restarts.

    Several gunicorn workers may start at once on a fresh install: the file is created exclusively
    (the first one writes it whole, then renames it into place), so every worker reads the same key.
    """
    path = settings.instance_dir / "secret_key"
    if not path.exists():
        settings.instance_dir.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(scratch, path)  # fails if another process linked its key first: theirs wins
        except FileExistsError:
            pass
        finally:
            scratch.unlink()
    return path.read_text().strip()
