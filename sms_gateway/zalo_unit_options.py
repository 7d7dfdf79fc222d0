"""A unit's Zalo options (``unit.options["zalo"]``), changed the same way by ``sipas zalo unit`` and the
console form ``/console/zalo/units/<code>``: the checks and the merge, without Flask or Click.

``None`` leaves a value as it is; ``""`` clears a template id or the short name. Zalo is enabled only with
at least one template id (the invitation template or the service-rating template).
"""

from __future__ import annotations

from typing import Any

from sipas.errors import ValidationError

CORRECTIONS = ("latest", "first")
SHORT_NAME_MAX = 30
TEMPLATE_ID_MAX = 64


class ZaloOptionsError(ValidationError):
    code = "bad_zalo_options"


def _template(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > TEMPLATE_ID_MAX or any(not ch.isprintable() or ch.isspace() for ch in value):
        raise ZaloOptionsError(f"Mã mẫu tin “{value[:TEMPLATE_ID_MAX]}” không hợp lệ (không có khoảng trắng, tối đa "
                               f"{TEMPLATE_ID_MAX} ký tự).", field=field, detail=f"bad {field}")
    return value


def updated_zalo_options(current: dict[str, Any], *, enable: bool, template_id: str | None = None,
                         rating_template_id: str | None = None, correction: str | None = None,
                         short_name: str | None = None) -> dict[str, Any]:
    """The new ``options["zalo"]`` (a new dict; keys this form does not know are kept)."""
    options = dict(current)
    for key, value in (("template_id", _template(template_id, "template_id")),
                       ("rating_template_id", _template(rating_template_id, "rating_template_id"))):
        if value is not None:
            options[key] = value
    if correction is not None:
        if correction not in CORRECTIONS:
            raise ZaloOptionsError("Quy tắc sửa đánh giá phải là “latest” (tính lần sau cùng) hoặc “first” "
                                   "(giữ lần đầu).", field="correction", detail="correction must be latest or first")
        options["correction"] = correction
    if short_name is not None:
        short_name = short_name.strip()
        if len(short_name) > SHORT_NAME_MAX or not short_name.isprintable():
            raise ZaloOptionsError(f"Tên ngắn tối đa {SHORT_NAME_MAX} ký tự.", field="short_name",
                                   detail=f"short_name longer than {SHORT_NAME_MAX} characters")
        options["short_name"] = short_name
    has_template = bool(options.get("template_id") or options.get("rating_template_id"))
    if enable and not has_template:
        raise ZaloOptionsError("Cần mã mẫu tin đã được Zalo duyệt (mẫu tin mời hoặc mẫu đánh giá) để bật Zalo.",
                               field="template_id", detail="enabling zalo needs a template id")
    options["enabled"] = enable
    return options
