"""Reading the form a kiosk rating names: ``instrument`` as a code, or the ``{code, version}`` object the
heartbeat and the armed poll hand out (an integrator sending that object back must not get a Python repr),
with an optional ``instrument_version``.

The version is the one the kiosk page showed; the answers are checked against the version in force when the
citizen confirmed (``services.submit``), so a version the catalogue never had is refused, a known one is kept
as information only (a kiosk that loaded the page before a new version took effect still sends its ratings).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sipas.catalogue import Catalogue
from sipas.errors import ValidationError

MAX_CODE = 64


class UnknownInstrumentVersion(ValidationError):
    code = "unknown_instrument_version"


@dataclass(frozen=True)
class NamedForm:
    code: str
    version: str | None


def _text(value: object, field: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_CODE:
        raise ValidationError("Bộ câu hỏi gửi kèm phiếu không hợp lệ. Vui lòng báo cán bộ một cửa tải lại trang kiosk.",
                              field=field, detail=f"{field} must be a string of at most {MAX_CODE} characters")
    return value.strip() or None


def named_form(data: dict[str, Any], default_code: str, catalogue: Catalogue) -> NamedForm:
    """The instrument code and version a submit names (the unit's kiosk form when it names none)."""
    raw = data.get("instrument")
    version = _text(data.get("instrument_version"), "instrument_version")
    if isinstance(raw, dict):
        code = _text(raw.get("code"), "instrument.code")
        version = version or _text(raw.get("version"), "instrument.version")
    else:
        code = _text(raw, "instrument")
    code = code or default_code
    if version is not None and code in catalogue.codes and version not in {
            v.version for v in catalogue.versions(code)}:
        raise UnknownInstrumentVersion(
            "Phiên bản bộ câu hỏi không còn được dùng. Vui lòng báo cán bộ một cửa tải lại trang kiosk.",
            field="instrument_version", detail=f"{code} has no version {version}")
    return NamedForm(code, version)
