"""The console home is a to-do list of the user's units: each item a link with its count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kiosk.models import KioskDevice
from sipas.models import Role
from tests.factories import answers_for, create_clerk, create_dossier, create_response, create_unit, login


def _busy_ward(session, catalogue, now):  # type: ignore[no-untyped-def]
    unit = create_unit(session)
    rated = create_dossier(session, unit, received_at=now - timedelta(days=40), returned_at=now - timedelta(days=35))
    create_response(session, catalogue, unit, dossier=rated, submitted_at=now - timedelta(days=30), now=now,
                    answers=answers_for(catalogue, on=now) | {"tc01": "khong_hai_long"})
    for days in (1, 2):
        create_dossier(session, unit, received_at=now - timedelta(days=5), returned_at=now - timedelta(days=days))
    session.add_all([
        KioskDevice(unit_id=unit.id, public_id=f"off{unit.id}", name="Quầy 1", paired_at=now - timedelta(days=9),
                    last_contact_at=now - timedelta(hours=3), rejected_count=2),
        KioskDevice(unit_id=unit.id, public_id=f"on{unit.id}", name="Quầy 2", paired_at=now - timedelta(days=9),
                    last_contact_at=now),
    ])
    session.flush()
    return unit


def test_the_home_page_lists_what_needs_doing_in_the_users_units_only(client, session, catalogue):
    now = datetime.now(UTC)
    ward, other = _busy_ward(session, catalogue, now), _busy_ward(session, catalogue, now)
    clerk = create_clerk(session, ward)
    leader = create_clerk(session, ward, role=Role.LEADER)
    session.commit()
    login(client, clerk)
    html = client.get("/console/").get_data(as_text=True)
    todo = html.split("Việc cần làm hôm nay", 1)[1].split("</section>", 1)[0]
    assert f'href="/console/cases?unit={ward.code}&amp;overdue=1"><span class="badge bad">1</span> Phản ánh quá hạn' \
           in todo
    assert '<span class="badge warn">1</span> Kiosk mất kết nối' in todo
    assert '<span class="badge warn">2</span> Phiếu đánh giá bị máy chủ từ chối' in todo
    assert '<span class="badge warn">2</span> Hồ sơ đã trả kết quả trong 7 ngày qua, chưa được mời đánh giá' in todo
    assert "Thông báo kết quả quý" in todo and "chưa ban hành" in todo
    assert other.code not in todo
    login(client, leader)
    todo = client.get("/console/").get_data(as_text=True).split("Việc cần làm hôm nay", 1)[1].split("</section>")[0]
    assert "Kiosk mất kết nối" not in todo and "Phản ánh quá hạn" in todo  # a leader cannot open the kiosk page
