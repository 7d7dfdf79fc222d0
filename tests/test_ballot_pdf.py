"""Printable paper ballots: checked by rendering the PDF (pdftotext, pdfinfo, pdftoppm) and reading its QR."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

from PIL import Image
from pyzbar.pyzbar import decode
from sqlalchemy import select

from sipas.ballot_pdf import BallotSheet, render_ballots
from sms_gateway.models_links import ShortLink
from tests.factories import create_clerk, create_dossier, create_unit, local, login

DAY = date(2026, 3, 2)


def _pdf_text(pdf: bytes, tmp_path: Path) -> tuple[str, str]:
    path = tmp_path / "phieu.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True,
                          timeout=60).stdout
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True, timeout=60).stdout
    return text, info


def _qr_codes(pdf: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "qr.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(path), str(tmp_path / "page")], check=True, timeout=60)
    return [d.data.decode() for image in sorted(tmp_path.glob("page-*.png")) for d in decode(Image.open(image))]


def test_a_blank_ballot_prints_every_question_with_the_keys_in_a5_and_a4(catalogue, tmp_path: Path) -> None:
    hue12 = catalogue.current("hue12", DAY)
    for size, page_size in (("a5", "419.53 x 595.28 pts"), ("a4", "595.28 x 841.89 pts (A4)")):
        text, info = _pdf_text(render_ballots(hue12, [BallotSheet(), BallotSheet()], unit_name="Phường Phú Hội",
                                              size=size), tmp_path)
        assert f"Page size:       {page_size}" in info and "Pages:           2" in info
        flat = " ".join(text.split())
        assert "PHIẾU ĐÁNH GIÁ SỰ HÀI LÒNG" in flat and "PHƯỜNG PHÚ HỘI" in flat
        assert "Mẫu hue12, phiên bản 2018.1" in flat
        assert "Câu 1. Đánh giá tổng thể dịch vụ" in flat
        assert "1. Rất hài lòng 2. Hài lòng 3. Không hài lòng 0. Không áp dụng" in flat  # tc02 allows n/a
        assert "Câu 12." in flat and "Quét mã" not in flat  # a blank ballot has no QR
    assert _qr_codes(render_ballots(hue12, [BallotSheet()], unit_name="X", size="a5"), tmp_path) == []


def _csrf(page: str) -> str:
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_ballots_for_a_day_carry_each_dossier_code_and_its_phone_form_qr(client, session, settings,
                                                                        tmp_path: Path) -> None:
    unit = create_unit(session, name="Phường Phú Hội")
    create_dossier(session, unit, code="HS-IN-1", received_at=local(2026, 3, 1), returned_at=local(2026, 3, 2, 9))
    create_dossier(session, unit, code="HS-IN-2", received_at=local(2026, 3, 1), returned_at=local(2026, 3, 2, 10))
    create_dossier(session, unit, code="HS-KHAC-NGAY", received_at=local(2026, 3, 1), returned_at=local(2026, 3, 3))
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    form = client.get(f"/console/sms/{unit.code}/ballots").get_data(as_text=True)
    assert "phiên bản" in form.lower() and f"/console/sms/{unit.code}/ballots.pdf?instrument=quay4" in form
    url = f"/console/sms/{unit.code}/ballots.pdf"
    assert client.get(f"{url}?instrument=quay4&date=2026-03-02").status_code == 405  # a GET never issues links
    assert session.scalars(select(ShortLink)).all() == []
    token = _csrf(form)
    got = client.post(url, data={"instrument": "quay4", "size": "a4", "date": "02/03/2026", "csrf_token": token})
    assert got.status_code == 200 and got.mimetype == "application/pdf"
    text, info = _pdf_text(got.data, tmp_path)
    assert "Pages:           2" in info and "HS-IN-1" in text and "HS-IN-2" in text and "HS-KHAC-NGAY" not in text
    session.rollback()
    links = {link.dossier.code: link for link in session.scalars(select(ShortLink))}
    assert set(links) == {"HS-IN-1", "HS-IN-2"} and all(link.instrument_code == "quay4" for link in links.values())
    expected = [f"{settings.public_base_url}/r/{links[code].code}" for code in ("HS-IN-1", "HS-IN-2")]
    assert _qr_codes(got.data, tmp_path) == expected
    again = client.post(url, data={"instrument": "quay4", "size": "a5", "date": "2026-03-02", "csrf_token": token})
    (tmp_path / "again").mkdir()
    assert _qr_codes(again.data, tmp_path / "again") == expected  # a reprint reuses the open links


def test_a_wrong_form_size_or_count_is_refused(client, session) -> None:
    unit = create_unit(session)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    base = f"/console/sms/{unit.code}/ballots.pdf"
    assert client.get(f"{base}?instrument=nope").status_code == 404
    assert client.get(f"{base}?instrument=quay4&version=1999").status_code == 404
    assert client.get(f"{base}?size=a3").status_code == 400
    assert client.get(f"{base}?copies=0").status_code == 400
    assert client.get(f"{base}?copies=3").status_code == 200
    token = _csrf(client.get(f"/console/sms/{unit.code}/ballots").get_data(as_text=True))
    empty = client.post(base, data={"date": "02/03/2026", "csrf_token": token})
    assert empty.status_code == 404 and "Không có hồ sơ nào" in empty.get_data(as_text=True)
    wrong = client.post(base, data={"date": "31/02/2026", "csrf_token": token})
    assert wrong.status_code == 400 and "Ngày trả kết quả không hợp lệ" in wrong.get_data(as_text=True)
    assert client.post(base, data={"date": "02/03/2026"}).status_code == 400  # no CSRF token
