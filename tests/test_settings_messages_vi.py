"""A wrong setting is refused in Vietnamese for the operator, with the precise part kept for machines.

The operator of a ward office read "Lỗi: Cấu hình sai: SIPAS_SMS_PROVIDER must be one of twilio, http, console, got
'twillio'": half Vietnamese. Every refusal now reads ``NAME = 'value' — <lý do bằng tiếng Việt>``: the variable's
name and the value received verbatim (what a script or a search in the settings file needs), the explanation in
Vietnamese; ``SettingsError.variable`` and ``.value`` carry the same two for code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pytest

from sipas.settings import Settings, SettingsError
from sipas.settings_check import check_every_setting

#: words of the English explanations the messages had (checked as whole words, outside names and values)
ENGLISH_WORDS = ("must", "expected", "expect", "invalid", "should", "integer", "one of", "got", "not a", "unknown",
                 "required", "is required", "are required", "before", "at least", "or later", "or earlier",
                 "boolean", "use", "e.g", "cannot", "line", "and", "for", "the", "is", "an", "hour", "from",
                 "zone", "region", "quote", "unterminated", "read", "provider", "starts", "ends", "ban")
#: what may stay in a Vietnamese message: the forms and names the operator types (they are contracts)
ALLOWED = ("HH:MM", "KEY=VALUE", "http://", "https://", "twilio", "http", "console", "sqlite:", "postgresql+psycopg:",
           "app_id", "oa_id", "Asia/Ho_Chi_Minh", "ZNS", "Zalo")


def english_left(message: str, *verbatim: str) -> list[str]:
    """The English explanation words left in ``message`` once names, values and allowed forms are taken out."""
    text = message
    for part in sorted((*verbatim, *ALLOWED), key=len, reverse=True):
        text = text.replace(part, " ")
    text = re.sub(r"SIPAS_[A-Z0-9_]+", " ", text)
    lowered = text.lower()
    return [word for word in ENGLISH_WORDS if re.search(rf"(?<![\w.]){re.escape(word)}(?![\w])", lowered)]


def is_vietnamese(message: str) -> bool:
    """Written with diacritics (every Vietnamese sentence of a few words has some)."""
    return any(c.isalpha() and not c.isascii() for c in message)


def read_every_setting(env: Mapping[str, str], tmp_path: Path) -> None:
    """What the web app, the scheduler and gunicorn read at start."""
    import runpy

    from sipas.scheduler import lease_seconds

    settings = Settings.from_env({"SIPAS_INSTANCE_DIR": str(tmp_path / "instance"), **env})
    check_every_setting(settings)
    lease_seconds(settings)
    if {"SIPAS_WORKERS", "SIPAS_THREADS"} & set(env):
        import os

        saved = {name: os.environ.get(name) for name in env}
        os.environ.update(env)
        try:
            runpy.run_path(str(Path(__file__).resolve().parents[1] / "deploy" / "gunicorn.conf.py"))
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


#: (variable, wrong value) for every setting a value of which can be refused
ONE_BAD_VALUE = [
    ("SIPAS_SECURE_COOKIES", "maybe"),
    ("SIPAS_LOGIN_MAX_FAILURES", "abc"),
    ("SIPAS_LOGIN_MAX_FAILURES", "0"),
    ("SIPAS_LOGIN_WINDOW_MINUTES", "0"),
    ("SIPAS_PROXY_COUNT", "-1"),
    ("SIPAS_TIMEZONE", "Asia/Hanoi"),
    ("SIPAS_PUBLIC_BASE_URL", "example.org"),
    ("SIPAS_PHONE_REGIONS", "VN,XX"),
    ("SIPAS_SCHEDULER_LEASE_SECONDS", "2"),
    ("SIPAS_WORKERS", "hai"),
    ("SIPAS_THREADS", "0"),
    ("SIPAS_BACKUP_ENABLED", "có"),
    ("SIPAS_BACKUP_HOUR", "24"),
    ("SIPAS_BACKUP_HOUR", "2h"),
    ("SIPAS_BACKUP_KEEP", "0"),
    ("SIPAS_SMS_PROVIDER", "twillio"),
    ("SIPAS_SMS_TIMEOUT_SECONDS", "0"),
    ("SIPAS_SMS_WINDOW_START", "7h"),
    ("SIPAS_SMS_WINDOW_END", "10pm"),
    ("SIPAS_SMS_DAILY_CAP", "0"),
    ("SIPAS_SMS_REMINDER_HOURS", "-1"),
    ("SIPAS_SMS_EXPIRY_DAYS", "0"),
    ("SIPAS_SMS_MAX_SEGMENTS", "0"),
    ("SIPAS_SMS_MAX_ATTEMPTS", "0"),
    ("SIPAS_SMS_RETRY_SECONDS", "0"),
    ("SIPAS_SMS_INVITE_ALL_DOSSIERS", "có"),
    ("SIPAS_SMS_HTTP_SANDBOX", "x"),
    ("SIPAS_SMS_CYCLE_SECONDS", "0"),
    ("SIPAS_LINK_MAX_FAILURES", "q"),
    ("SIPAS_QR_LINK_DAYS", "0"),
    ("SIPAS_ZALO_WINDOW_START", "5"),
    ("SIPAS_ZALO_WINDOW_START", "05:00"),
    ("SIPAS_ZALO_WINDOW_END", "22:30"),
    ("SIPAS_ZALO_REFRESH_MARGIN_MINUTES", "0"),
    ("SIPAS_ZALO_SIGNATURE_SECRET", "x"),
    ("SIPAS_ZALO_SIGNATURE_ORDER", "x"),
    ("SIPAS_ZALO_EVENT_MAX_AGE_SECONDS", "5"),
    ("SIPAS_KIOSK_MIN_INTERVAL_SECONDS", "mười"),
    ("SIPAS_KIOSK_BURST_COUNT", "1"),
    ("SIPAS_KIOSK_BURST_WINDOW_SECONDS", "0"),
    ("SIPAS_KIOSK_ARM_MINUTES", "0"),
    ("SIPAS_KIOSK_PAIRING_MINUTES", "0"),
]


@pytest.mark.parametrize(("name", "value"), ONE_BAD_VALUE)
def test_a_wrong_value_is_refused_in_vietnamese_with_its_name_and_value(tmp_path: Path, name: str,
                                                                         value: str) -> None:
    with pytest.raises(SettingsError) as refused:
        read_every_setting({name: value}, tmp_path)
    message = str(refused.value)
    assert message.startswith(f"{name} = {value!r} — "), message
    assert is_vietnamese(message), message
    assert english_left(message, repr(value)) == [], message
    assert (refused.value.variable, refused.value.value) == (name, value)


def test_the_backup_hour_says_its_range_whatever_the_mistake(tmp_path: Path) -> None:
    for value in ("24", "2h", "-1"):
        with pytest.raises(SettingsError) as refused:
            read_every_setting({"SIPAS_BACKUP_HOUR": value}, tmp_path)
        assert str(refused.value) == f"SIPAS_BACKUP_HOUR = {value!r} — cần một số nguyên từ 0 đến 23"


#: settings refused together: (variables, message parts that must appear verbatim)
COMBINATIONS = [
    ({"SIPAS_SMS_WINDOW_START": "22:00", "SIPAS_SMS_WINDOW_END": "07:00"},
     ["SIPAS_SMS_WINDOW_START = '22:00'", "SIPAS_SMS_WINDOW_END = '07:00'"]),
    ({"SIPAS_ZALO_WINDOW_START": "12:00", "SIPAS_ZALO_WINDOW_END": "09:00"},
     ["SIPAS_ZALO_WINDOW_START = '12:00'", "SIPAS_ZALO_WINDOW_END = '09:00'"]),
    ({"SIPAS_SMS_PROVIDER": "twilio", "SIPAS_TWILIO_ACCOUNT_SID": "AC1", "SIPAS_TWILIO_FROM": "+1500"},
     ["SIPAS_SMS_PROVIDER = 'twilio'", "SIPAS_TWILIO_AUTH_TOKEN"]),
    ({"SIPAS_SMS_PROVIDER": "twilio", "SIPAS_TWILIO_ACCOUNT_SID": "AC1", "SIPAS_TWILIO_AUTH_TOKEN": "t"},
     ["SIPAS_SMS_PROVIDER = 'twilio'", "SIPAS_TWILIO_FROM", "SIPAS_TWILIO_MESSAGING_SERVICE_SID"]),
    ({"SIPAS_SMS_PROVIDER": "http", "SIPAS_SMS_HTTP_API_KEY": "k"},
     ["SIPAS_SMS_PROVIDER = 'http'", "SIPAS_SMS_HTTP_SECRET_KEY", "SIPAS_SMS_HTTP_BRANDNAME"]),
    ({"SIPAS_DATABASE_URL": "not a url"}, ["SIPAS_DATABASE_URL"]),
    ({"SIPAS_PHONE_REGIONS": ","}, ["SIPAS_PHONE_REGIONS = ','"]),
]


@pytest.mark.parametrize(("env", "parts"), COMBINATIONS, ids=[",".join(env) for env, _ in COMBINATIONS])
def test_settings_refused_together_are_named_in_vietnamese(tmp_path: Path, env: dict[str, str],
                                                           parts: list[str]) -> None:
    with pytest.raises(SettingsError) as refused:
        read_every_setting(env, tmp_path)
    message = str(refused.value)
    assert all(part in message for part in parts), message
    assert is_vietnamese(message), message
    assert english_left(message, *parts, *(repr(v) for v in env.values())) == [], message


def test_a_database_url_that_is_no_url_is_not_echoed() -> None:
    """It may hold a password: the message names the variable and the two forms, never the value."""
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"SIPAS_DATABASE_URL": "postgresql+psycopg://u:hunter2@db:port/x"})
    assert "hunter2" not in str(refused.value) and refused.value.variable == "SIPAS_DATABASE_URL"
    assert refused.value.value is None


def test_the_cli_shows_the_vietnamese_refusal(run_cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SIPAS_ENV_FILE", "")
    monkeypatch.setenv("SIPAS_TIMEZONE", "Asia/Hanoi")
    result = run_cli("apikey", "list")
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "Lỗi: Cấu hình sai: SIPAS_TIMEZONE = 'Asia/Hanoi' — không phải múi giờ đã biết "
        "(tên múi giờ IANA, ví dụ Asia/Ho_Chi_Minh)")


def _env_file_refusal(tmp_path: Path, content: str | None) -> str:
    from sipas.envfile import EnvFileError, cli_environment

    path = tmp_path / "sipas.env"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(EnvFileError) as refused:
        cli_environment({"SIPAS_ENV_FILE": str(path)})
    return str(refused.value)


@pytest.mark.parametrize(("content", "expected"), [
    ("SIPAS_A=1\nnot a setting\n", "{path}, dòng 2: không có dạng KEY=VALUE"),
    ("SIPAS_A='unterminated\n", "{path}, dòng 1: SIPAS_A — dấu nháy chưa đóng"),
    (None, "không đọc được {path}: không có tệp hay thư mục này (ENOENT)"),
], ids=["not-key-value", "unterminated-quote", "missing"])
def test_a_settings_file_that_cannot_be_read_is_refused_in_vietnamese(tmp_path: Path, content: str | None,
                                                                      expected: str) -> None:
    message = _env_file_refusal(tmp_path, content)
    assert message == expected.format(path=tmp_path / "sipas.env")
    assert english_left(message, str(tmp_path / "sipas.env")) == [], message


@pytest.mark.parametrize("line", [
    'SIPAS_DATABASE_URL="postgresql+psycopg://sipas:bi-mat@db:5432/sipas',
    "SIPAS_DATABASE_URL postgresql+psycopg://sipas:bi-mat@db:5432/sipas",
    "postgresql+psycopg://sipas:bi-mat@db:5432/sipas?sslmode=require",
    "SIPAS_TWILIO_AUTH_TOKEN: bi-mat",
], ids=["open-quote", "no-equals", "a-value-alone-with-equals", "colon"])
def test_a_settings_file_refusal_never_shows_a_value(tmp_path: Path, line: str) -> None:
    """The refusal showed the line (or the quoted value) verbatim: a database URL's password or a token typed with an
    open quote or without ``=`` went to the terminal and, from ``ExecStartPre``, to the journal. It names the line
    and, when the key is well formed, the key; never what follows it."""
    message = _env_file_refusal(tmp_path, f"SIPAS_A=1\n{line}\n")
    assert "bi-mat" not in message, message
    assert message.startswith(f"{tmp_path / 'sipas.env'}, dòng 2: "), message


def test_a_settings_file_that_is_a_folder_is_refused_in_vietnamese(tmp_path: Path) -> None:
    (tmp_path / "sipas.env").mkdir()
    message = _env_file_refusal(tmp_path, None)
    assert message == f"không đọc được {tmp_path / 'sipas.env'}: đây là thư mục, không phải tệp (EISDIR)"
