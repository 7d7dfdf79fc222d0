"""Turning what people and other systems type into typed values, with Vietnamese error messages.

Shared by the file import, the integration API and the console so they accept the same values.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta, tzinfo

import phonenumbers

from sipas.errors import ValidationError
from sipas.meaning import INTAKE_MEANINGS, RESPONSE_CHANNEL_MEANINGS, bool_by_meaning, by_meaning
from sipas.models import IntakeChannel, ResponseChannel
from sipas.text import fold

_INTAKE_ALIASES: dict[str, IntakeChannel] = {
    "direct": IntakeChannel.DIRECT,
    "truc tiep": IntakeChannel.DIRECT,
    "nop truc tiep": IntakeChannel.DIRECT,
    "tai quay": IntakeChannel.DIRECT,
    "online partial": IntakeChannel.ONLINE_PARTIAL,
    "truc tuyen mot phan": IntakeChannel.ONLINE_PARTIAL,
    "muc do 3": IntakeChannel.ONLINE_PARTIAL,
    "truc tuyen": IntakeChannel.ONLINE_PARTIAL,
    "online": IntakeChannel.ONLINE_PARTIAL,
    "online full": IntakeChannel.ONLINE_FULL,
    "truc tuyen toan trinh": IntakeChannel.ONLINE_FULL,
    "muc do 4": IntakeChannel.ONLINE_FULL,
    "postal": IntakeChannel.POSTAL,
    "buu chinh": IntakeChannel.POSTAL,
    "buu chinh cong ich": IntakeChannel.POSTAL,
    "dich vu buu chinh cong ich": IntakeChannel.POSTAL,
    "qua buu chinh": IntakeChannel.POSTAL,
}

INTAKE_LABELS_VI = {
    IntakeChannel.DIRECT: "Trực tiếp",
    IntakeChannel.ONLINE_PARTIAL: "Trực tuyến một phần",
    IntakeChannel.ONLINE_FULL: "Trực tuyến toàn trình",
    IntakeChannel.POSTAL: "Dịch vụ bưu chính công ích",
}

_CHANNEL_ALIASES: dict[str, ResponseChannel] = {
    "kiosk": ResponseChannel.KIOSK,
    "thiet bi danh gia": ResponseChannel.KIOSK,
    "may danh gia": ResponseChannel.KIOSK,
    "sms": ResponseChannel.SMS,
    "tin nhan": ResponseChannel.SMS,
    "qr": ResponseChannel.QR,
    "ma qr": ResponseChannel.QR,
    "truc tuyen": ResponseChannel.QR,
    "paper": ResponseChannel.PAPER,
    "phieu giay": ResponseChannel.PAPER,
    "giay": ResponseChannel.PAPER,
    "phieu": ResponseChannel.PAPER,
    "api": ResponseChannel.API,
    "cong dich vu cong": ResponseChannel.API,
    "zalo": ResponseChannel.ZALO,
}

CHANNEL_LABELS_VI = {
    ResponseChannel.KIOSK: "Thiết bị đánh giá tại quầy",
    ResponseChannel.SMS: "Tin nhắn SMS",
    ResponseChannel.QR: "Mã QR / đường dẫn",
    ResponseChannel.PAPER: "Phiếu giấy",
    ResponseChannel.API: "Hệ thống khác (API)",
    ResponseChannel.ZALO: "Tin Zalo (ZNS)",
}

_TRUE = {"1", "x", "co", "yes", "y", "true", "dong y", "co dong y", "dong y nhan tin"}
_FALSE = {"", "0", "khong", "no", "n", "false", "khong dong y"}


def parse_intake_channel(value: object, *, field: str = "intake_channel") -> IntakeChannel:
    key = fold(str(value or ""))
    if key.replace(" ", "_") in IntakeChannel.__members__.values():
        return IntakeChannel(key.replace(" ", "_"))
    if key in _INTAKE_ALIASES:
        return _INTAKE_ALIASES[key]
    if (meant := by_meaning(key, INTAKE_MEANINGS)) is not None:
        return meant
    raise ValidationError(
        f"Hình thức nộp “{value}” không hợp lệ (dùng: trực tiếp, trực tuyến một phần, "
        "trực tuyến toàn trình, bưu chính).",
        field=field,
        detail=f"unknown intake channel {value!r}",
    )


def parse_response_channel(value: object, *, field: str = "channel") -> ResponseChannel:
    key = fold(str(value or ""))
    if key in _CHANNEL_ALIASES:
        return _CHANNEL_ALIASES[key]
    if (meant := by_meaning(key, RESPONSE_CHANNEL_MEANINGS)) is not None:
        return meant
    raise ValidationError(
        f"Kênh đánh giá “{value}” không hợp lệ (dùng: kiosk, sms, qr, giấy, api, zalo).",
        field=field,
        detail=f"unknown channel {value!r}",
    )


def parse_bool(value: object, *, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    key = fold(str(value if value is not None else ""))
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    if (meant := bool_by_meaning(key)) is not None:
        return meant
    raise ValidationError(f"Giá trị “{value}” không phải có/không.", field=field, detail=f"not a boolean: {value!r}")


_DMY = re.compile(
    r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T,]+(\d{1,2})[:hg](\d{2})(?::(\d{2}))?(?:\.\d+)?)?\s*$"
)
_EXCEL_EPOCH = datetime(1899, 12, 30)


def parse_timestamp(value: object, tz: tzinfo, *, field: str, date_means: str = "start") -> datetime:
    """Accept ISO 8601 (with offset, or naive = local), dd/mm/yyyy [hh:mm[:ss]], Excel serials and
    datetime/date objects. Returns an aware UTC datetime. A date alone means local midnight."""
    try:
        result = _parse_timestamp(value, tz)
    except (ValueError, OverflowError) as exc:
        raise ValidationError(
            f"Ngày giờ “{value}” không đúng định dạng (dd/mm/yyyy, dd/mm/yyyy hh:mm hoặc ISO 8601).",
            field=field,
            detail=f"unparseable timestamp {value!r}",
        ) from exc
    if not (datetime(1990, 1, 1, tzinfo=UTC) <= result <= datetime(2100, 1, 1, tzinfo=UTC)):
        raise ValidationError(f"Ngày “{value}” nằm ngoài khoảng hợp lý.", field=field,
                              detail=f"timestamp out of range {value!r}")
    return result


def _parse_timestamp(value: object, tz: tzinfo) -> datetime:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=tz)).astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time.min, tzinfo=tz).astimezone(UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not 1 <= value < 80000:
            raise ValueError("not an Excel serial date")
        return (_EXCEL_EPOCH + timedelta(days=float(value))).replace(tzinfo=tz).astimezone(UTC)
    text = str(value).strip()
    if not text:
        raise ValueError("empty")
    match = _DMY.match(text)
    if match:
        day, month, year, hour, minute, second = match.groups()
        parsed = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
        return parsed.replace(tzinfo=tz).astimezone(UTC)
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return _parse_timestamp(float(text), tz)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).astimezone(UTC)


def parse_phone(value: object, *, field: str = "phone", regions: Collection[str] | None = None) -> str:
    """A Vietnamese mobile number in any common shape → E.164 (``+84912345678``).

    ``regions``: the countries whose numbers are accepted (``SIPAS_PHONE_REGIONS``; a foreign number
    given with its +prefix is otherwise a valid mobile too); None accepts any.
    """
    text = str(value).strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = str(int(value))
    digits = re.sub(r"[\s.()-]", "", text)
    if re.fullmatch(r"[35789]\d{8}", digits):  # a spreadsheet dropped the leading 0
        digits = "0" + digits
    try:
        number = phonenumbers.parse(digits, "VN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(f"Số điện thoại “{value}” không hợp lệ.", field=field,
                              detail="unparseable phone number") from exc
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise ValidationError(f"Số điện thoại “{value}” không phải số di động hợp lệ.", field=field,
                              detail="not a valid mobile number")
    region = phonenumbers.region_code_for_number(number)
    if regions is not None and region not in regions:
        raise ValidationError(f"Số điện thoại “{value}” không phải số di động Việt Nam." if list(regions) == ["VN"]
                              else f"Số điện thoại “{value}” thuộc quốc gia không được chấp nhận ({region}).",
                              field=field, detail=f"number of region {region} not in {sorted(regions)}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def clean_text(value: object, *, field: str, max_length: int, required: bool = False) -> str:
    text = "" if value is None else " ".join(str(value).split())
    if required and not text:
        raise ValidationError("Thiếu giá trị bắt buộc.", field=field, detail="required")
    if len(text) > max_length:
        raise ValidationError(f"Quá dài (tối đa {max_length} ký tự).", field=field,
                              detail=f"longer than {max_length}")
    return text
