"""Reading JSON request bodies strictly and writing API JSON.

Every value a client sends is type-checked here, so a wrong type answers 422 with the field at fault
instead of reaching a service (or a 500). Unknown fields are ignored (forward compatibility).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, tzinfo
from typing import Any

from flask import g, request

from sipas.errors import DomainError, ValidationError
from sipas.parsing import parse_timestamp

MAX_TEXT = 2000
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}(:?\d{2})?)$")


class InvalidJson(DomainError):
    code = "invalid_json"
    http_status = 400
    message_vi = "Nội dung gửi lên không phải JSON hợp lệ."


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def json_object() -> dict[str, Any]:
    """The request body as a JSON object: 400 if it is not JSON, 422 (field ``body``) if not an object. Parsed once
    per request (the API key's check may read it first: ``sipas.api.auth.names_its_dossier``); each call gets its
    own copy of the top level."""
    parsed = g.get("sipas_json_object")
    if parsed is not None:
        return dict(parsed)
    raw = request.get_data(cache=True)
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise InvalidJson(detail="body is not valid UTF-8 JSON") from exc
    if not isinstance(data, dict):
        raise ValidationError("Nội dung phải là một đối tượng JSON ({...}).", field="body",
                              detail=f"expected a JSON object, got {type(data).__name__}")
    g.sipas_json_object = data
    return dict(data)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def checked_text(text: str, name: str) -> str:
    """Refuse what no database column should hold: control characters (NUL breaks PostgreSQL) and
    lone surrogates (not encodable as UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(f"Trường “{name}” chứa ký tự không hợp lệ.", field=name,
                              detail="lone surrogate in text") from None
    if _CONTROL.search(text):
        raise ValidationError(f"Trường “{name}” chứa ký tự điều khiển không hợp lệ.", field=name,
                              detail="control character in text")
    return text


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


class Body:
    """Typed access to the fields of a JSON object; ``has`` tells absent from null."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def has(self, name: str) -> bool:
        return name in self.data

    def text(self, name: str, *, max_length: int, required: bool = False) -> str | None:
        """A string (whitespace collapsed) or None when absent, null or blank (unless required)."""
        value = self.data.get(name)
        if value is not None and not isinstance(value, str):
            raise ValidationError(f"Trường “{name}” phải là chuỗi ký tự.", field=name,
                                  detail=f"expected a string, got {_type_name(value)}")
        text = checked_text(" ".join((value or "").split()), name)
        if required and not text:
            raise ValidationError(f"Thiếu trường bắt buộc “{name}”.", field=name, detail="required")
        if len(text) > max_length:
            raise ValidationError(f"Trường “{name}” dài quá {max_length} ký tự.", field=name,
                                  detail=f"longer than {max_length} characters")
        return text or None

    def scalar(self, name: str) -> str | bool | int | float | None:
        """A string, boolean or number (for enumerations and yes/no); never a list or object."""
        value = self.data.get(name)
        if isinstance(value, list | dict):
            raise ValidationError(f"Trường “{name}” không được là danh sách hay đối tượng.", field=name,
                                  detail=f"expected a scalar, got {_type_name(value)}")
        if isinstance(value, str):
            if len(value) > 200:
                raise ValidationError(f"Trường “{name}” quá dài.", field=name, detail="longer than 200 characters")
            checked_text(value, name)
        return value

    def timestamp(self, name: str, tz: tzinfo, *, required: bool = False) -> tuple[datetime | None, bool]:
        """ISO 8601 with an offset, or a date alone (a local date). Returns (UTC instant, date_only)."""
        value = self.data.get(name)
        if value is None:
            if required:
                raise ValidationError(f"Thiếu trường bắt buộc “{name}”.", field=name, detail="required")
            return None, False
        if not isinstance(value, str):
            raise ValidationError(f"Trường “{name}” phải là chuỗi ngày giờ ISO 8601.", field=name,
                                  detail=f"expected an ISO 8601 string, got {_type_name(value)}")
        text = checked_text(value.strip(), name)
        date_only = bool(_ISO_DATE.match(text))
        if not date_only and not _ISO_DATETIME.match(text):
            raise ValidationError(
                f"Trường “{name}” phải là ngày (YYYY-MM-DD) hoặc ngày giờ ISO 8601 có múi giờ "
                "(ví dụ 2026-01-05T09:30:00+07:00).", field=name, detail=f"not ISO 8601 with offset: {value!r}")
        return parse_timestamp(text.upper(), tz, field=name), date_only

    def object(self, name: str) -> dict[str, Any]:
        value = self.data.get(name)
        if not isinstance(value, dict):
            raise ValidationError(f"Trường “{name}” phải là đối tượng JSON {{mã tiêu chí: mã lựa chọn}}.",
                                  field=name, detail=f"expected an object, got {_type_name(value)}")
        return value


def iso(value: datetime | None, tz: tzinfo) -> str | None:
    """An instant as ISO 8601 in local time with its offset (e.g. ``2026-01-05T09:00:00+07:00``)."""
    return value.astimezone(tz).isoformat() if value is not None else None


def mask_phone(phone_e164: str | None) -> str | None:
    """``+84912345678`` → ``+8491*****78``: enough to recognise, never the whole number."""
    if not phone_e164:
        return None
    keep_head, keep_tail = 5, 2
    hidden = max(len(phone_e164) - keep_head - keep_tail, 3)
    return phone_e164[:keep_head] + "*" * hidden + phone_e164[-keep_tail:]
