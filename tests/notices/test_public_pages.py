"""What anyone sees without logging in: the unit's list of issued notices, a notice's own page and its files."""

from __future__ import annotations

import io
import itertools
import re

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from aggregator.models_notices import Notice
from sipas.catalogue import Catalogue
from sipas.models import UnitKind
from sipas.settings import Settings
from tests.aggregator.fixtures import build_quarter
from tests.factories import create_unit
from tests.notices.test_verify import issue, issued  # noqa: F401  (fixture)


def test_public_pages_set_no_session_cookie(client: FlaskClient, issued: Notice) -> None:  # noqa: F811
    """A citizen scanning the QR gets no cookie: the pages and the copy check need no session."""
    code = issued.unit.code
    for url in (f"/cong-khai/{code}", f"/cong-khai/{code}/2026/3", f"/cong-khai/{code}/2026/3.pdf",
                f"/cong-khai/{code}/2026/3.docx", f"/cong-khai/{code}/2026/3.html", f"/cong-khai/{code}/2026/9"):
        response = client.get(url)
        assert "Set-Cookie" not in response.headers, url
        assert b"csrf_token" not in response.data, url
    check = client.post(f"/cong-khai/{code}/2026/3/kiem-tra", data={"file": (io.BytesIO(issued.pdf), "tb.pdf")},
                        content_type="multipart/form-data")
    assert check.status_code == 200 and "Set-Cookie" not in check.headers
    assert "Trùng khớp: tệp giống hệt bản PDF đã ban hành" in check.get_data(as_text=True)


def test_issued_files_answer_a_conditional_request_without_the_body(client: FlaskClient, issued: Notice) -> None:  # noqa: F811
    """A phone or a proxy that already holds the file gets a 304, not the same 400 kB again."""
    code = issued.unit.code
    for fmt, digest in (("pdf", issued.pdf_sha256), ("docx", issued.docx_sha256), ("html", None)):
        first = client.get(f"/cong-khai/{code}/2026/3.{fmt}")
        assert first.status_code == 200 and first.headers["Cache-Control"] == "public, max-age=300"
        etag = first.headers["ETag"]
        if digest is not None:
            assert etag == f'"{digest}"'  # the SHA-256 the notice's page publishes
        again = client.get(f"/cong-khai/{code}/2026/3.{fmt}", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
        assert "Set-Cookie" not in again.headers
        if digest is not None:  # the stored bytes never change; the HTML is drawn again by the running version
            since = {"If-Modified-Since": first.headers["Last-Modified"]}
            assert client.get(f"/cong-khai/{code}/2026/3.{fmt}", headers=since).status_code == 304
        other = client.get(f"/cong-khai/{code}/2026/3.{fmt}", headers={"If-None-Match": '"khac"'})
        assert other.status_code == 200 and other.data == first.data


def test_a_replaced_notice_says_so_everywhere_and_leads_to_the_current_one(
        client: FlaskClient, issued: Notice, session: Session, catalogue: Catalogue,  # noqa: F811
        settings: Settings) -> None:
    code = issued.unit.code
    current = issue(session, catalogue, settings, issued.unit, number=4, corrects=issued.id)
    old_url, new_url = f"/cong-khai/{code}/2026/3", f"/cong-khai/{code}/2026/4"
    listing = client.get(f"/cong-khai/{code}").get_data(as_text=True)
    assert listing.index(f'href="{new_url}"') < listing.index(f'href="{old_url}"')  # the current one first
    old_page = client.get(old_url).get_data(as_text=True)
    assert f'Thông báo này đã được đính chính bởi <a href="{new_url}">Thông báo số 04/TB-UBND</a>' in old_page
    new_page = client.get(new_url).get_data(as_text=True)
    assert f'Đính chính, thay thế <a href="{old_url}">Thông báo số 03/TB-UBND</a>' in new_page
    old_html = client.get(f"{old_url}.html").get_data(as_text=True)  # still reachable, marked replaced
    assert "Số: 03/TB-UBND" in old_html
    assert f'Thông báo này đã được thay thế bởi <a href="{new_url}">Thông báo số {current.number_label}</a>' in old_html
    assert "đã được thay thế" not in client.get(f"{new_url}.html").get_data(as_text=True)


def heading_levels(html: str) -> list[int]:
    return [int(h or a) for h, a in re.findall(r'<h([1-6])\b|role="heading" aria-level="([1-6])"', html)]


def test_every_public_page_has_one_top_heading_and_no_skipped_level(client: FlaskClient, issued: Notice) -> None:  # noqa: F811
    code = issued.unit.code
    for url in (f"/cong-khai/{code}", f"/cong-khai/{code}/2026/3", f"/cong-khai/{code}/2026/3.html"):
        html = client.get(url).get_data(as_text=True)
        levels = heading_levels(html)
        assert levels[0] == 1 and levels.count(1) == 1, (url, levels)
        assert all(b <= a + 1 for a, b in itertools.pairwise(levels)), (url, levels)
        assert '<html lang="vi">' in html


def test_a_unit_or_notice_not_issued_gets_a_public_404_that_says_what_is_missing(
        client: FlaskClient, issued: Notice) -> None:  # noqa: F811
    code, name = issued.unit.code, issued.unit.name
    unknown = client.get("/cong-khai/KHONG-CO")
    text = unknown.get_data(as_text=True)
    assert unknown.status_code == 404 and "Không có đơn vị nào mang mã “KHONG-CO”" in text
    assert "quyền xem" not in text and '<html lang="vi">' in text and "Set-Cookie" not in unknown.headers
    for url in (f"/cong-khai/{code}/2026/9", f"/cong-khai/{code}/2026/9.pdf", f"/cong-khai/{code}/2025/3",
                f"/cong-khai/{code}/2026/9/kiem-tra"):
        missing = client.get(url) if not url.endswith("kiem-tra") else client.post(url)
        text = missing.get_data(as_text=True)
        assert missing.status_code == 404, url
        number = "09" if "/9" in url else "03"
        year = url.split("/")[3]
        assert f"{name} chưa ban hành Thông báo số {number}/TB-UBND năm {year}" in text, url
        assert f'href="/cong-khai/{code}"' in text and "Set-Cookie" not in missing.headers  # back to the list
    wrong = client.get(f"/cong-khai/{code}/2026/3.xlsx")
    assert wrong.status_code == 404 and "chỉ có bản PDF, DOCX và HTML" in wrong.get_data(as_text=True)
    assert f'href="/cong-khai/{code}/2026/3"' in wrong.get_data(as_text=True)


def test_a_district_s_page_leads_to_its_wards_and_a_ward_s_back_up(
        client: FlaskClient, session: Session, catalogue: Catalogue, settings: Settings) -> None:
    city = create_unit(session, name="Thành phố Huế (mẫu)", kind=UnitKind.PROVINCE)
    ward = create_unit(session, name="Phường Phú Hội", parent=city)
    quiet = create_unit(session, name="Phường Vĩnh Ninh", parent=city)
    build_quarter(session, catalogue, ward)
    issue(session, catalogue, settings, ward)
    page = client.get(f"/cong-khai/{city.code}").get_data(as_text=True)
    assert "Chưa có thông báo nào được ban hành." in page  # the city's own: none, and not its wards' as its own
    assert "Thông báo số 03/TB-UBND" not in page
    assert f'<a href="/cong-khai/{ward.code}">Phường Phú Hội</a>: 1 thông báo đã ban hành' in page
    assert f'<a href="/cong-khai/{quiet.code}">Phường Vĩnh Ninh</a>: chưa có thông báo' in page
    own = client.get(f"/cong-khai/{ward.code}").get_data(as_text=True)
    assert "Thông báo số 03/TB-UBND" in own and f'<a href="/cong-khai/{city.code}">Thành phố Huế (mẫu)</a>' in own
    assert "Phường Vĩnh Ninh" not in own


def test_an_address_typed_by_hand_in_other_letter_case_still_finds_the_notice(
        client: FlaskClient, issued: Notice) -> None:  # noqa: F811
    code = issued.unit.code
    pdf = client.get(f"/cong-khai/{code}/2026/03.PDF")  # "03" as printed in "Số: 03/TB-UBND"
    assert pdf.status_code == 200 and pdf.data == issued.pdf and pdf.mimetype == "application/pdf"
    lower = client.get(f"/cong-khai/{code.lower()}/2026/3")
    assert lower.status_code == 308 and lower.headers["Location"].endswith(f"/cong-khai/{code}/2026/3")
    listing = client.get(f"/cong-khai/{code.lower()}")
    assert listing.status_code == 308 and listing.headers["Location"].endswith(f"/cong-khai/{code}")
    assert client.get(f"/cong-khai/{code.lower()}/2026/3.pdf").headers["Location"].endswith(f"/{code}/2026/3.pdf")


def test_the_check_s_address_opened_again_leads_back_to_the_notice(client: FlaskClient, issued: Notice) -> None:  # noqa: F811
    """After a check the address bar shows …/kiem-tra; Enter there (or a shared link) is a GET, not an error page."""
    code = issued.unit.code
    again = client.get(f"/cong-khai/{code}/2026/3/kiem-tra")
    assert again.status_code == 303 and again.headers["Location"].endswith(f"/cong-khai/{code}/2026/3")
    assert "Set-Cookie" not in again.headers
    assert client.get(f"/cong-khai/{code}/2026/9/kiem-tra").status_code == 404


def test_a_shortened_or_mistyped_public_address_gets_the_public_404(client: FlaskClient, issued: Notice) -> None:  # noqa: F811
    code, name = issued.unit.code, issued.unit.name
    for rest in ("2026", "2026/", "2026/3/", "nam-2026/3", "2026/3/kiem-tra/x"):
        missing = client.get(f"/cong-khai/{code}/{rest}")
        text = missing.get_data(as_text=True)
        assert missing.status_code == 404 and "quyền xem" not in text, rest
        assert f"Không có trang này trong mục công khai của {name}" in text, rest
        assert f'href="/cong-khai/{code}"' in text and "Set-Cookie" not in missing.headers, rest
    assert client.get(f"/cong-khai/{code}/2026/3").status_code == 200  # the real addresses are untouched
    assert client.get(f"/cong-khai/{code}/2026/3.pdf").status_code == 200
    unknown = client.get("/cong-khai/KHONG-CO/2026")
    assert unknown.status_code == 404 and "Không có đơn vị nào mang mã “KHONG-CO”" in unknown.get_data(as_text=True)
