"""deploy/gunicorn.conf.py reads SIPAS_BIND, SIPAS_WORKERS, SIPAS_THREADS, SIPAS_FORWARDED_ALLOW_IPS as every other
setting is read: an empty value means the default, a wrong one stops the start with the variable's name.

It did `int(os.environ.get("SIPAS_WORKERS", "2"))`: `SIPAS_WORKERS=` in /etc/sipas/sipas.env (empty, as
config/example.env leaves other settings to mean their default) stopped sipas-web with "invalid literal for int()
with base 10: ''", naming no variable; `SIPAS_BIND=` made gunicorn bind to "".
"""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from sipas.settings import SettingsError

CONF = Path(__file__).resolve().parents[1] / "deploy" / "gunicorn.conf.py"
NAMES = ("SIPAS_BIND", "SIPAS_WORKERS", "SIPAS_THREADS", "SIPAS_FORWARDED_ALLOW_IPS")


def _read(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict:  # type: ignore[type-arg]
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF))


def test_empty_values_mean_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = _read(monkeypatch, **dict.fromkeys(NAMES, ""))
    assert (conf["bind"], conf["workers"], conf["threads"], conf["forwarded_allow_ips"]) == \
        ("127.0.0.1:8000", 2, 4, "127.0.0.1")
    conf = _read(monkeypatch, SIPAS_BIND="0.0.0.0:9000", SIPAS_WORKERS="3", SIPAS_THREADS=" 8 ")
    assert (conf["bind"], conf["workers"], conf["threads"]) == ("0.0.0.0:9000", 3, 8)


@pytest.mark.parametrize(("name", "value"), [("SIPAS_WORKERS", "hai"), ("SIPAS_WORKERS", "0"),
                                             ("SIPAS_THREADS", "4.5"), ("SIPAS_THREADS", "0")])
def test_a_wrong_value_is_named(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        _read(monkeypatch, **{name: value})
