"""The settings file the systemd units read (``EnvironmentFile=``), read by the ``sipas`` command too.

An operator who puts settings in ``/etc/sipas/sipas.env`` and then types ``sipas db upgrade`` in a shell
must reach the same database as the services. The CLI therefore reads ``SIPAS_ENV_FILE`` (default
``/etc/sipas/sipas.env`` when that file exists; an empty value means no file) and lays the process
environment over it: a variable set explicitly in the shell wins over the file, so
``SIPAS_DATABASE_URL=... sipas db upgrade`` still aims one command elsewhere.

The syntax is the subset of systemd's ``EnvironmentFile=`` that configuration files use: ``KEY=VALUE`` lines,
blank lines and lines starting with ``#`` or ``;`` ignored, an optional ``export`` prefix, values optionally
in single or double quotes (double quotes understand ``\\"`` and ``\\\\``), whitespace around the key and an
unquoted value stripped, and a trailing ``\\`` continuing a line.

Relative folders in the file (``SIPAS_CONFIG_DIR=config``, ``SIPAS_INSTANCE_DIR=instance`` as in
config/example.env; ``SIPAS_BACKUP_DIR`` and ``SIPAS_METRICS_DIR`` too) are relative to the units'
``WorkingDirectory=``, the code's folder; the CLI resolves
them against that folder too, so a command typed in any directory finds the same files.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

DEFAULT_ENV_FILE = Path("/etc/sipas/sipas.env")
CODE_DIR = Path(__file__).resolve().parent.parent  # the systemd units' WorkingDirectory (/opt/sipas)
RELATIVE_TO_CODE = ("SIPAS_CONFIG_DIR", "SIPAS_INSTANCE_DIR", "SIPAS_BACKUP_DIR", "SIPAS_METRICS_DIR")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class EnvFileError(ValueError):
    """The settings file cannot be read or has a line that is not ``KEY=VALUE``."""


def parse_env_file(text: str, *, source: str = "tệp cấu hình") -> dict[str, str]:
    """Parse ``KEY=VALUE`` lines the way systemd's ``EnvironmentFile=`` does; a later key wins."""
    values: dict[str, str] = {}
    lines = iter(enumerate(text.splitlines(), start=1))
    for number, raw in lines:
        line = raw
        while line.endswith("\\"):
            line = line[:-1] + next(lines, (number, ""))[1]
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if stripped.startswith("export "):
            stripped = stripped[len("export "):].lstrip()
        key, sep, value = stripped.partition("=")
        key = key.strip()
        if not sep or not _KEY.fullmatch(key):
            # the line is not shown: without its "=" or its key it may be a value, a password (a database URL's)
            raise EnvFileError(f"{source}, dòng {number}: không có dạng KEY=VALUE")
        values[key] = _unquote(value.strip(), source=source, number=number, key=key)
    return values


def _unquote(value: str, *, source: str, number: int, key: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\([\\\"$`])", r"\1", value[1:-1])
    if value[:1] in {"'", '"'}:
        raise EnvFileError(f"{source}, dòng {number}: {key} — dấu nháy chưa đóng")  # the value may be a secret
    return value


def env_file_path(environ: Mapping[str, str]) -> Path | None:
    """The file to read: ``SIPAS_ENV_FILE`` when set (empty = none), else the default when it exists."""
    if "SIPAS_ENV_FILE" in environ:
        chosen = environ["SIPAS_ENV_FILE"].strip()
        return Path(chosen) if chosen else None
    return DEFAULT_ENV_FILE if DEFAULT_ENV_FILE.is_file() else None


def cli_environment(environ: Mapping[str, str] | None = None) -> tuple[dict[str, str], Path | None]:
    """The environment a CLI command runs with: the settings file overlaid by the process environment."""
    environ = dict(os.environ if environ is None else environ)
    path = env_file_path(environ)
    if path is None:
        return environ, None
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        from sipas.os_errors import reason_vi

        raise EnvFileError(f"không đọc được {path}: {reason_vi(exc)}") from exc
    merged = parse_env_file(text, source=str(path))
    for name in RELATIVE_TO_CODE:
        value = merged.get(name, "")
        if value and not Path(value).is_absolute():
            merged[name] = str(CODE_DIR / value)
    merged.update(environ)
    return merged, path
