"""Message templates (pure): defaults per kind, rendering and validation for the editor.

Defaults are unaccented so an invitation with the unit name, the dossier code and the link fits one
GSM-7 segment (160 characters). A unit may write its own wording, diacritics included, as long as the
rendered sample stays within the configured number of segments. When a template is plain GSM-7, the
values put into it (the unit name) are unaccented too, so one "ờ" never turns it into UCS-2.

The limit holds at send time too (``fit_message``): a message that is too long with the unit's full
name is tried with the name abbreviated ("Ủy ban nhân dân phường" → "UBND P.") and then with the
brandname; when even that is too long it is not sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from sipas.text import phrase_at, strip_diacritics
from sms_gateway.encoding import SmsInfo, analyse, is_gsm7, unaccent

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

PLACEHOLDERS: dict[str, str] = {
    "don_vi": "Tên đơn vị",
    "ma_ho_so": "Mã hồ sơ",
    "link": "Đường dẫn đánh giá",
    "brandname": "Tên thương hiệu (brandname)",
    "han": "Hạn đánh giá (ngày/tháng)",
    "thieu": "Các tiêu chí còn thiếu",
    "so_tieu_chi": "Số tiêu chí",
}

KIND_LABELS: dict[str, str] = {
    "invitation": "Tin mời đánh giá",
    "reminder": "Tin nhắc lại",
    "thanks": "Trả lời: cảm ơn",
    "follow_up": "Trả lời: hỏi tiêu chí còn thiếu",
    "help": "Trả lời: hướng dẫn",
    "choose_dossier": "Trả lời: chọn hồ sơ",
    "opt_out": "Trả lời: đã ngừng nhận tin",
    "opt_in": "Trả lời: đã nhận tin lại",
    "not_found": "Trả lời: không có hồ sơ chờ đánh giá",
}

DEFAULTS: dict[str, str] = {
    "invitation": "{don_vi}: HS {ma_ho_so} da co ket qua. Moi danh gia muc do hai long: {link} Tu choi: TC",
    "reminder": "{don_vi}: nhac danh gia HS {ma_ho_so} truoc {han} tai {link} Tu choi: TC",
    "thanks": "{don_vi} cam on Ong/Ba da danh gia ho so {ma_ho_so}.",
    "follow_up": "Con thieu tieu chi {thieu}. Tra loi lan luot: 1=Rat hai long 2=Hai long 3=Khong hai long "
                 "0=Khong ap dung",
    "help": "Tra loi {so_tieu_chi} so theo thu tu tieu chi: 1=Rat hai long 2=Hai long 3=Khong hai long "
            "0=Khong ap dung. VD: 1 1 2 1 1 1 1 1 1 1 3 0. Ngung nhan tin: TC",
    "choose_dossier": "Ong/Ba co nhieu ho so: {ma_ho_so}. Tra loi: <ma ho so> roi {so_tieu_chi} so danh gia.",
    "opt_out": "Da ngung gui tin nhan danh gia. Soan BATDAU de nhan lai.",
    "opt_in": "Da dang ky nhan lai tin nhan danh gia.",
    "not_found": "Khong co ho so nao dang cho danh gia tu so dien thoai nay. Xin cam on.",
}

REQUIRED: dict[str, tuple[str, ...]] = {"invitation": ("link",), "reminder": ("link",), "follow_up": ("thieu",)}

SAMPLE_CODE = "000.00.20.H57-260105-0001"
SAMPLE_LINK_CODE = "Ab3dE6gH9k"  # as long as a real one (links.CODE_LENGTH)
# Folded words → the abbreviation official Vietnamese documents use.
ABBREVIATIONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("trung", "tam", "phuc", "vu", "hanh", "chinh", "cong"), "TTPVHCC"),
    (("uy", "ban", "nhan", "dan"), "UBND"),
    (("thi", "tran"), "TT."),
    (("phuong",), "P."),
)


@dataclass(frozen=True)
class TemplateCheck:
    preview: str
    info: SmsInfo
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    too_long: bool = False  # over the segment limit even with the unit name shortened: would not be sent

    @property
    def ok(self) -> bool:
        return not self.errors


def placeholders_in(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


def render(text: str, values: Mapping[str, str]) -> str:
    """Replace ``{name}`` placeholders (a known one without a value becomes empty); unknown ones stay as typed."""
    plain = is_gsm7(PLACEHOLDER.sub("", text))

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            return "" if name in PLACEHOLDERS else match.group(0)
        raw = str(values[name])
        return unaccent(raw) if plain else raw

    return " ".join(PLACEHOLDER.sub(value, text).split())


def abbreviate_unit(name: str) -> str:
    """"Ủy ban nhân dân phường Vĩnh Ninh" → "UBND P. Vĩnh Ninh" (other words kept as written)."""
    words = name.split()
    folded = [strip_diacritics(word).lower() for word in words]
    out: list[str] = []
    i = 0
    while i < len(words):
        found = phrase_at(folded, i, ABBREVIATIONS)
        out.append(found[0] if found else words[i])
        i += found[1] if found else 1
    return " ".join(out)


@dataclass(frozen=True)
class Fitted:
    """The text to send: ``unit_name`` is the name put in it; ``fits`` is False when even the shortest
    wording exceeds the limit (``text``/``info`` are then those of the full wording)."""

    text: str
    info: SmsInfo
    unit_name: str
    fits: bool
    shortened: bool = False


def fit_message(template: str, values: Mapping[str, str], *, max_segments: int, brandname: str) -> Fitted:
    """The template rendered within ``max_segments``: full unit name, abbreviated, then the brandname."""
    full_name = str(values.get("don_vi", ""))
    names = [full_name]
    for shorter in (abbreviate_unit(full_name), brandname):
        if shorter and shorter not in names:
            names.append(shorter)
    first: Fitted | None = None
    for name in names:
        text = render(template, {**values, "don_vi": name})
        info = analyse(text)
        if info.segments <= max_segments:
            return Fitted(text, info, name, fits=True, shortened=name != full_name)
        first = first or Fitted(text, info, name, fits=False)
    assert first is not None
    return first


def sample_values(*, unit_name: str, public_base_url: str, brandname: str, criteria: int = 12) -> dict[str, str]:
    """Realistic values of typical length, used for the preview and the length check."""
    return {
        "don_vi": unit_name,
        "ma_ho_so": SAMPLE_CODE,
        "link": f"{public_base_url.rstrip('/')}/r/{SAMPLE_LINK_CODE}",
        "brandname": brandname,
        "han": "29/11",
        "thieu": "4, 7, 12",
        "so_tieu_chi": str(criteria),
    }


def check_template(kind: str, text: str, values: Mapping[str, str], *, max_segments: int,
                   brandname: str = "") -> TemplateCheck:
    """Everything the editor shows: preview, encoding, length, the reasons a template is refused, and a
    warning when it only fits with the unit name shortened (as it will then be sent)."""
    errors: list[str] = []
    if kind not in DEFAULTS:
        errors.append(f"Loại tin nhắn “{kind}” không tồn tại.")
    stripped = " ".join(text.split())
    if not stripped:
        errors.append("Nội dung tin nhắn không được để trống.")
    if stripped.count("{") != stripped.count("}") or len(placeholders_in(stripped)) != stripped.count("{"):
        errors.append("Dấu ngoặc nhọn không cân đối: mỗi biến phải viết dạng {ten_bien}.")
    unknown = sorted({name for name in placeholders_in(stripped) if name not in PLACEHOLDERS})
    if unknown:
        errors.append("Biến không hợp lệ: " + ", ".join("{" + n + "}" for n in unknown)
                      + ". Các biến dùng được: " + ", ".join("{" + n + "}" for n in PLACEHOLDERS) + ".")
    for name in REQUIRED.get(kind, ()):
        if name not in placeholders_in(stripped):
            errors.append(f"Tin nhắn loại này phải có biến {{{name}}} ({PLACEHOLDERS[name].lower()}).")
    preview = render(stripped, values)
    info = analyse(preview)
    warnings: list[str] = []
    too_long = False
    if info.segments > max_segments:
        fitted = fit_message(stripped, values, max_segments=max_segments, brandname=brandname)
        length = (f"{info.characters} ký tự ({info.encoding}) cần {info.segments} tin nhắn, "
                  f"giới hạn là {max_segments} tin nhắn")
        if fitted.fits:
            warnings.append(f"Với tên đơn vị đầy đủ, tin nhắn dài {length}. Khi gửi, tên đơn vị sẽ được thay bằng "
                            f"“{fitted.unit_name}”: {fitted.info.characters} ký tự, {fitted.info.segments} tin nhắn.")
        else:
            too_long = True
            reason = (" Tin có dấu tiếng Việt được mã hóa UCS-2, mỗi tin chỉ chứa 70 ký tự; hãy viết không dấu."
                      if info.is_unicode else "")
            shortened = " kể cả khi viết tắt tên đơn vị" if "don_vi" in placeholders_in(stripped) else ""
            errors.append(f"Tin nhắn quá dài{shortened}: {length}; tin như vậy sẽ không được gửi.{reason}")
    return TemplateCheck(preview=preview, info=info, errors=errors, warnings=warnings, too_long=too_long)
