"""Enumerated columns are recognised by the words that decide the value, however a one-stop system words it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sipas.errors import ValidationError
from sipas.models import Dossier, IntakeChannel, ResponseChannel
from sipas.parsing import parse_bool, parse_intake_channel, parse_response_channel
from tests.factories import create_unit
from tests.imports.helpers import DOSSIER_HEADER, dossier_row, run_dossiers, xlsx

INTAKE = {
    "Dịch vụ bưu chính": IntakeChannel.POSTAL,
    "Qua dịch vụ bưu chính công ích": IntakeChannel.POSTAL,
    "Gửi qua Bưu điện": IntakeChannel.POSTAL,
    "Nộp trực tuyến toàn trình": IntakeChannel.ONLINE_FULL,
    "Mức độ 4": IntakeChannel.ONLINE_FULL,
    "DVC trực tuyến (Mức độ 4)": IntakeChannel.ONLINE_FULL,
    "Nộp trực tuyến một phần": IntakeChannel.ONLINE_PARTIAL,
    "Dịch vụ công mức độ 3": IntakeChannel.ONLINE_PARTIAL,
    "Nộp qua mạng": IntakeChannel.ONLINE_PARTIAL,
    "Trực tiếp tại Bộ phận Một cửa": IntakeChannel.DIRECT,
    "Nộp tại quầy": IntakeChannel.DIRECT,
}
UNKNOWN_INTAKE = ["Fax", "Khác", "Không qua bưu chính", "Nộp trực tuyến, nhận bản giấy trực tiếp", "x"]


@pytest.mark.parametrize(("text", "expected"), INTAKE.items())
def test_intake_channels_worded_many_ways_are_recognised(text: str, expected: IntakeChannel) -> None:
    assert parse_intake_channel(text) is expected


@pytest.mark.parametrize("text", UNKNOWN_INTAKE)
def test_unknown_or_contradictory_intake_channels_are_still_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_intake_channel(text)


def test_rating_channels_and_consent_are_recognised_by_meaning() -> None:
    assert parse_response_channel("Phiếu khảo sát bản giấy") is ResponseChannel.PAPER
    assert parse_response_channel("Qua tin nhắn SMS") is ResponseChannel.SMS
    assert parse_response_channel("Quét mã QR") is ResponseChannel.QR
    assert parse_response_channel("Máy tính bảng tại quầy") is ResponseChannel.KIOSK
    with pytest.raises(ValidationError):
        parse_response_channel("Điện thoại viên")
    assert parse_bool("Có, đồng ý nhận tin nhắn", field="sms_consent") is True
    assert parse_bool("Không đồng ý nhận tin", field="sms_consent") is False
    assert parse_bool("Từ chối", field="sms_consent") is False
    with pytest.raises(ValidationError):
        parse_bool("tùy", field="sms_consent")
    with pytest.raises(ValidationError):
        parse_bool("có lẽ", field="sms_consent")  # "maybe": "có" among other words decides nothing


def test_an_export_saying_dich_vu_buu_chinh_imports(session) -> None:
    unit = create_unit(session)
    rows = [dossier_row(f"H-{n}", channel=list(INTAKE)[n % len(INTAKE)]) for n in range(len(INTAKE) * 3)]
    report = run_dossiers(session, unit, xlsx([DOSSIER_HEADER, *rows]))
    assert report.errors == [] and report.created == len(rows), [str(e) for e in report.errors[:3]]
    stored = {code: channel for code, channel in session.execute(select(Dossier.code, Dossier.intake_channel))}
    assert all(stored[f"H-{n}"] is list(INTAKE.values())[n % len(INTAKE)] for n in range(len(rows)))
    refused = run_dossiers(session, unit, xlsx([DOSSIER_HEADER, dossier_row("H-X", channel="Fax")]))
    assert [e.column for e in refused.errors] == ["Hình thức nộp"] and not refused.written


def test_a_refused_rating_channel_lists_every_channel_the_template_offers() -> None:
    """The import template's list offers every channel, "Tin Zalo (ZNS)" included, and each is read back; the
    refusal's list of words to use left Zalo out ("dùng: kiosk, sms, qr, giấy, api")."""
    from sipas.parsing import CHANNEL_LABELS_VI

    for channel, label in CHANNEL_LABELS_VI.items():
        assert parse_response_channel(label) is channel
    with pytest.raises(ValidationError) as refused:
        parse_response_channel("fax")
    listed = refused.value.message_vi.split("(dùng: ", 1)[1].rstrip(").").split(", ")
    assert {parse_response_channel(word) for word in listed} == set(CHANNEL_LABELS_VI)
