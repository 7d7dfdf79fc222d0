"""The audit log reads as Vietnamese sentences (issue 13): every event type sipas writes has one, and the
people, devices and outcomes read as a clerk says them; the raw record stays one click away."""

from __future__ import annotations

import re
from pathlib import Path

from sipas.audit_text import SENTENCES, sentence, technical, who
from sipas.models import AuditEvent

ROOT = Path(__file__).resolve().parents[1]
RAW = re.compile(r"\b(user|kiosk|link|client|apikey):|[a-z]+\.[a-z_]+|file_error|None|\{|\}")


def written_actions() -> set[str]:
    """Every action an ``audit(...)`` call in the code writes (literal or chosen between two literals)."""
    found: set[str] = set()
    for path in ROOT.glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts or "node_modules" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for call in re.finditer(r"\baudit\(\s*[\w().]+,\s*([^,]+?),\s*actor=", text, re.S):
            found.update(re.findall(r'"([a-z_]+\.[a-z_.]+)"', call.group(1)))
    return found


def test_every_event_type_written_has_a_vietnamese_sentence():
    written = written_actions()
    assert {"import.dossiers", "kiosk.burst_flagged", "notice.issued", "user.login"} <= written
    assert written - set(SENTENCES) == set()


def event(action: str, actor: str, subject: str | None = None, **details: object) -> AuditEvent:
    return AuditEvent(action=action, actor=actor, subject=subject, details=details)


def test_what_a_clerk_reads_has_no_technical_strings():
    names = {"canbo.phuhoi": "Trần Thị Bình"}
    cases = {
        event("import.dossiers", "user:canbo.phuhoi", "ho-so.xlsx", status="file_error", detail="no received column"):
            "Trần Thị Bình đã nhập tệp hồ sơ: không đọc được tệp (ho-so.xlsx)",
        event("import.responses", "user:canbo.phuhoi", "phieu.csv", status="partial", rows=10, created=8, updated=0,
              unchanged=1, error_rows=1):
            "Trần Thị Bình đã nhập tệp phiếu đánh giá: xong, có dòng bị từ chối "
            "(10 dòng: 8 mới, 0 cập nhật, 1 không đổi, 1 dòng lỗi) (phieu.csv)",
        event("notice.issued", "user:canbo.phuhoi", "03/TB-UBND", corrects=None):
            "Trần Thị Bình đã ban hành thông báo (03/TB-UBND)",
        event("kiosk.burst_flagged", "kiosk:K7Q2", "K7Q2", responses=[1, 2, 3], count=3, window_seconds=600):
            "Kiosk K7Q2 đã gửi dồn dập 3 phiếu giống hệt nhau không có mã hồ sơ; các phiếu vẫn được lưu và cần "
            "được xem lại (K7Q2)",
        event("response.duplicate_refused", "link:sms", "000.00.20.H57-260105-0001", instrument="hue12",
              channel="sms"):
            "Người dân (qua tin nhắn SMS) đã gửi phiếu cho hồ sơ đã được đánh giá, phiếu không được nhận "
            "(qua tin nhắn SMS) (000.00.20.H57-260105-0001)",
    }
    for item, expected in cases.items():
        read = sentence(item, names)
        assert read == expected
        assert not RAW.search(read.replace("000.00.20.H57-260105-0001", "").replace("ho-so.xlsx", "")
                              .replace("phieu.csv", "")), read
    assert "status: file_error" in technical(next(iter(cases)))  # the raw record, on demand


def test_actors_read_as_people_and_devices():
    assert who("user:an", {"an": "Nguyễn Văn An"}) == "Nguyễn Văn An"
    assert who("user:binh") == "binh"
    assert who("cli") == "Quản trị máy chủ (dòng lệnh)"
    assert who("apikey:sk_ab12") == "Hệ thống một cửa (khóa API sk_ab12)"
    assert who("link:qr") == "Người dân (qua mã QR)"


def test_subjects_read_as_a_clerk_names_them():
    names = {"canbo.phuhoi": "Trần Thị Bình"}
    assert sentence(event("cases.opened", "user:canbo.phuhoi", "response:375", status="open"), names) == \
        "Trần Thị Bình đã tiếp nhận phản ánh (phiếu #375)"  # as the case list names it
    assert sentence(event("aggregator.quarter_input.saved", "user:canbo.phuhoi", "2026Q3"), names) == \
        "Trần Thị Bình đã nhập số liệu quý (quý III năm 2026)"
    assert sentence(event("qr.slips_printed", "user:canbo.phuhoi", "2026-12-07"), names) == \
        "Trần Thị Bình đã in phiếu mã QR (07/12/2026)"
    # a subject of another shape stays as written: a username, a unit code, a dossier code, a file name
    for kept in ("canbo.phuhoi", "PHUONG-PHUHOI", "000.00.20.H57-260105-0001", "response:abc", "2026Q5"):
        assert sentence(event("user.login", "user:canbo.phuhoi", kept), names).endswith(f"({kept})")


def test_the_log_is_filtered_by_vietnamese_kinds_of_activity_not_by_typed_action_codes(client, session):
    """The filter was a text box "Loại hoạt động (bắt đầu bằng)" with the placeholder "vd. import, response,
    notice": a clerk had to type the English action codes. It is a list of kinds in Vietnamese, one for every
    event type written, and a link to one event type (the kiosk page's "các lần gửi dồn dập") stays chosen."""
    from sipas.audit_text import ACTION_GROUPS, filter_label
    from sipas.models import Role
    from tests.factories import create_clerk, create_unit, login

    assert {action.split(".")[0] for action in written_actions()} <= set(ACTION_GROUPS)
    assert all(filter_label(action) and not RAW.search(filter_label(action)) for action in written_actions())
    unit = create_unit(session)
    admin = create_clerk(session, unit, role=Role.ADMIN)
    session.commit()
    login(client, admin)
    page = client.get("/console/audit").get_data(as_text=True)
    form = page.split('<form method="get"', 1)[1].split("</form>", 1)[0]
    assert "vd. import" not in form and '<input name="action"' not in form
    assert '<option value="import.">Nhập tệp</option>' in form and '<option value="cases.">Phản ánh</option>' in form
    flagged = client.get("/console/audit?action=kiosk.burst_flagged").get_data(as_text=True)
    assert '<option value="kiosk.burst_flagged" selected>Kiosk: gửi dồn dập phiếu giống hệt nhau</option>' in flagged
