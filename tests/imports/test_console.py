"""The console's dossier list, detail and import upload page (logged in, CSRF on)."""

from __future__ import annotations

import io
import time
from pathlib import Path

from sqlalchemy import func, select, update

from sipas.models import Dossier, Role
from tests.factories import create_clerk, create_district_with_wards, create_dossier, create_unit, local, login
from tests.imports.helpers import DOSSIER_HEADER, dossier_row, xlsx


def _token(client, path: str) -> str:  # type: ignore[no-untyped-def]
    page = client.get(path).get_data(as_text=True)
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def _job_page(client, response):  # type: ignore[no-untyped-def]
    """An accepted upload redirects to its job page: poll the progress endpoint, then read the finished page."""
    assert response.status_code == 303, response.status_code
    page_url = response.headers["Location"]
    deadline = time.monotonic() + 30
    while not client.get(f"{page_url}/progress").get_json()["finished"]:
        assert time.monotonic() < deadline, "the import job did not finish"
        time.sleep(0.05)
    return client.get(page_url)


def test_the_list_searches_and_filters_within_the_users_units(client, session) -> None:
    unit, other = create_unit(session), create_unit(session)
    create_dossier(session, unit, code="H57-KS-1", procedure="Đăng ký khai sinh", field="Hộ tịch")
    create_dossier(session, unit, code="H57-CT-2", procedure="Chứng thực bản sao", field="Chứng thực", returned=False)
    create_dossier(session, other, code="OTHER-1")
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    page = client.get("/console/dossiers").get_data(as_text=True)
    assert "H57-KS-1" in page and "H57-CT-2" in page and "OTHER-1" not in page
    assert 'href="/console/dossiers"' in client.get("/console/").get_data(as_text=True)  # the menu entry
    for query in ("khai+sinh", "KHAI+SINH", "dang+ky+khai", "hộ+tịch", "ho+tich", "ks-1"):
        found = client.get(f"/console/dossiers?q={query}").get_data(as_text=True)
        assert "H57-KS-1" in found and "H57-CT-2" not in found, query
    assert "H57-CT-2" in client.get("/console/dossiers?q=chung+thuc").get_data(as_text=True)
    open_only = client.get("/console/dossiers?status=in_progress").get_data(as_text=True)
    assert "H57-CT-2" in open_only and "H57-KS-1" not in open_only
    assert client.get(f"/console/dossiers?unit={other.code}").status_code == 404


def test_the_detail_masks_the_phone_number(client, session) -> None:
    unit = create_unit(session)
    create_dossier(session, unit, code="H57/1", phone="+84912345678", sms_consent=True)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    page = client.get(f"/console/dossiers/{unit.code}/H57/1").get_data(as_text=True)
    assert "091*****78" in page and "912345678" not in page and "0912345678" not in page
    assert "Chưa đánh giá" in page and "Đồng ý nhận tin nhắn" in page
    assert client.get(f"/console/dossiers/{unit.code}/KHONG-CO").status_code == 404


def test_the_upload_page_shows_the_row_report_and_imports_with_skip(client, session) -> None:
    unit = create_unit(session)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    token = _token(client, "/console/dossiers/import")
    data = xlsx([DOSSIER_HEADER, dossier_row("H-1"), dossier_row("H-2", phone="0123")])

    def upload(**extra: str):  # type: ignore[no-untyped-def]
        form = {"csrf_token": token, "unit": unit.code, "kind": "dossiers", **extra,
                "file": (io.BytesIO(data), "hoso.xlsx")}
        return _job_page(client, client.post("/console/dossiers/import", data=form,
                                             content_type="multipart/form-data"))

    refused = upload()
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "chưa nhập dòng nào" in page and "Số điện thoại" in page and "“0123”" in page
    assert '<td class="num">3</td>' in page  # the row as numbered in the spreadsheet
    assert session.scalar(select(func.count()).select_from(Dossier)) == 0
    session.rollback()  # end the test's read transaction: the app writes next
    accepted = upload(skip_invalid="1")
    assert accepted.status_code == 200 and "bỏ qua các dòng lỗi" in accepted.get_data(as_text=True)
    session.rollback()
    assert session.scalar(select(Dossier.code)) == "H-1"


def test_the_upload_needs_a_csrf_token_and_a_clerk(client, session) -> None:
    district, wards = create_district_with_wards(session)
    leader = create_clerk(session, district, role=Role.LEADER)
    clerk = create_clerk(session, district)
    session.commit()
    login(client, leader)
    assert client.get("/console/dossiers/import").status_code == 403
    client.post("/console/logout", data={"csrf_token": _token(client, "/console/dossiers")})
    login(client, clerk)
    page = client.get("/console/dossiers/import").get_data(as_text=True)
    assert wards[0].name in page and wards[1].name in page  # several units: the clerk chooses one
    form = {"unit": wards[0].code, "kind": "dossiers", "file": (io.BytesIO(b"x"), "a.csv")}
    assert client.post("/console/dossiers/import", data=form, content_type="multipart/form-data").status_code == 400


def test_a_response_file_through_the_upload_page(client, session) -> None:
    unit = create_unit(session)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    data = "Bộ tiêu chí,Thời điểm,q1,q2,q3,q4\nquay4,10/01/2026,Hài lòng,Hài lòng,Đúng hẹn,Phức tạp\n".encode()
    form = {"csrf_token": _token(client, "/console/dossiers/import"), "unit": unit.code, "kind": "responses",
            "file": (io.BytesIO(data), "phieu.csv")}
    response = _job_page(client, client.post("/console/dossiers/import", data=form,
                                             content_type="multipart/form-data"))
    assert response.status_code == 200 and "1 phiếu mới" in response.get_data(as_text=True)


def test_a_file_over_the_size_limit_gets_a_clear_message(app, client, session) -> None:
    unit = create_unit(session)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    token = _token(client, "/console/dossiers/import")
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # small, so the test client keeps the body in memory
    form = {"csrf_token": token, "unit": unit.code, "kind": "dossiers",
            "file": (io.BytesIO(b"x" * (100 * 1024)), "lon.csv")}
    response = client.post("/console/dossiers/import", data=form, content_type="multipart/form-data")
    assert response.status_code == 413 and "Tệp quá lớn (tối đa 64 KB)" in response.get_data(as_text=True)


def test_the_list_is_paginated_newest_first(client, session, monkeypatch) -> None:
    import sipas.console.dossiers as module

    monkeypatch.setattr(module, "PAGE_SIZE", 2)
    unit = create_unit(session)
    for day in (5, 6, 7):
        create_dossier(session, unit, code=f"H-{day}", received_at=local(2026, 1, day))
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    first = client.get("/console/dossiers").get_data(as_text=True)
    assert "trang 1/2" in first and first.index("H-7") < first.index("H-6") and "H-5" not in first
    second = client.get("/console/dossiers?page=2").get_data(as_text=True)
    assert "H-5" in second and "H-7" not in second and "Trang trước" in second
    assert "H-5" in client.get("/console/dossiers?page=99").get_data(as_text=True)  # past the end: the last page


def test_a_file_with_thousands_of_bad_rows_shows_the_first_ones(client, session, monkeypatch) -> None:
    import sipas.console.dossiers as module

    monkeypatch.setattr(module, "MAX_ERRORS_SHOWN", 3)
    unit = create_unit(session)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    rows = [DOSSIER_HEADER, *[dossier_row(f"H-{n}", received="13/31/2026") for n in range(5)]]
    form = {"csrf_token": _token(client, "/console/dossiers/import"), "unit": unit.code, "kind": "dossiers",
            "file": (io.BytesIO(xlsx(rows)), "hoso.xlsx")}
    page = _job_page(client, client.post("/console/dossiers/import", data=form,
                                         content_type="multipart/form-data")).get_data(as_text=True)
    assert page.count("“13/31/2026”") == 3 and "Chỉ hiển thị 3 lỗi đầu tiên trong tổng số 5 lỗi" in page


def test_a_job_cut_off_by_a_worker_restart_is_shown_failed_and_can_be_retried(app, client, session) -> None:
    from datetime import timedelta

    from sipas.clock import utcnow
    from sipas.imports import jobs
    from sipas.models import ImportJob

    unit = create_unit(session)
    clerk = create_clerk(session, unit)
    session.commit()
    job = jobs.create_job(session, unit, "dossiers", "hoso.xlsx", xlsx([DOSSIER_HEADER, dossier_row("H-1")]),
                          skip_invalid=False, actor="test", instance_dir=app.extensions["sipas_settings"].instance_dir)
    job.status = "running"  # its thread died with the worker: no heartbeat any more
    session.commit()
    login(client, clerk)
    running = client.get(f"/console/dossiers/import/jobs/{job.id}")
    page = running.get_data(as_text=True)
    assert "<progress" in page and "import_progress.js" in page and "<script>" not in page  # no inline script
    assert client.get(f"/console/dossiers/import/jobs/{job.id}/progress").get_json() == {
        "id": job.id, "status": "running", "done": 0, "total": 0, "finished": False}
    session.execute(update(ImportJob).values(heartbeat_at=utcnow() - jobs.STALE_AFTER - timedelta(seconds=1)))
    session.commit()
    assert client.get(f"/console/dossiers/import/jobs/{job.id}/progress").get_json()["status"] == "failed"
    failed = client.get(f"/console/dossiers/import/jobs/{job.id}")
    assert failed.status_code == 422 and "Quá trình nhập bị gián đoạn" in failed.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Dossier)) == 0
    session.rollback()
    token = _token(client, f"/console/dossiers/import/jobs/{job.id}")
    done = _job_page(client, client.post(f"/console/dossiers/import/jobs/{job.id}/retry",
                                         data={"csrf_token": token}))
    assert done.status_code == 200 and "1 hồ sơ mới" in done.get_data(as_text=True)
    session.rollback()
    assert session.scalar(select(Dossier.code)) == "H-1"
    assert not Path(job.upload_path).exists()  # the stored upload is removed once the job is done
    other = create_clerk(session, create_unit(session))
    session.commit()
    client.post("/console/logout", data={"csrf_token": _token(client, "/console/dossiers")})
    login(client, other)
    assert client.get(f"/console/dossiers/import/jobs/{job.id}/progress").status_code == 404


def test_an_interrupted_import_keeps_its_upload_and_staged_rows_for_a_week_only(app, client, session) -> None:
    """A job cut off by a worker restart keeps its upload (every phone number of the file) so the clerk can retry,
    and its staged rows (phone numbers too) waited for the next import: neither was ever deleted if the clerk did
    not retry and nobody imported again. The hourly purge deletes the staged rows of dead runs (a retry stages the
    upload again) and the upload once the job has been dead a week; the job page then asks for the file again
    instead of offering a retry that cannot run."""
    from datetime import timedelta

    from sipas import throttle_purge
    from sipas.clock import utcnow
    from sipas.imports import jobs, staging
    from sipas.models import DossierStaging, ImportJob

    unit = create_unit(session)
    clerk = create_clerk(session, unit)
    session.commit()
    instance_dir = app.extensions["sipas_settings"].instance_dir
    dead, recent = (jobs.create_job(session, unit, "dossiers", f"hoso-{n}.xlsx",
                                    xlsx([DOSSIER_HEADER, dossier_row(f"H-{n}")]), skip_invalid=False, actor="test",
                                    instance_dir=instance_dir) for n in (1, 2))
    dead.status = recent.status = "running"  # their threads died with the worker
    session.flush()
    for job in (dead, recent):
        staging.stage_dossiers(session, f"run-{job.id}", job.id, [{
            "unit_id": unit.id, "row": 2, "code": f"H-{job.id}", "op": "insert", "created_at": utcnow(),
            "procedure": "", "field": "", "intake_channel": "direct", "received_at": utcnow(),
            "received_local_date": utcnow().date(), "phone_e164": "+84912345678", "contact_op": "insert"}])
    now = utcnow()
    session.execute(update(ImportJob).where(ImportJob.id == dead.id)
                    .values(heartbeat_at=now - jobs.UPLOAD_KEPT - timedelta(minutes=1)))
    session.execute(update(ImportJob).where(ImportJob.id == recent.id).values(heartbeat_at=now - timedelta(days=1)))
    session.commit()
    assert throttle_purge.purge_personal_copies(session, now) == (1, 2)
    session.commit()
    assert not Path(dead.upload_path).exists() and Path(recent.upload_path).exists()
    assert session.scalars(select(DossierStaging.job_id)).all() == []
    login(client, clerk)
    page = client.get(f"/console/dossiers/import/jobs/{dead.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and f"/jobs/{dead.id}/retry" not in html and ">Nhập lại</button>" not in html
    assert "tệp tải lên đã được xóa" in html and "hãy chọn lại tệp" in html
    still = client.get(f"/console/dossiers/import/jobs/{recent.id}").get_data(as_text=True)
    assert f"/jobs/{recent.id}/retry" in still and "hãy bấm “Nhập lại”" in still
