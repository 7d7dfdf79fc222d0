"""``sipas notice --unit CODE --quarter 2023Q1 --number 3 --format docx|pdf|html -o FILE``."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy.orm import Session

from sipas.catalogue import Catalogue
from sipas.settings import Settings
from tests.aggregator.fixtures import NOW, build_quarter
from tests.factories import create_unit


@pytest.fixture
def run_cli(run_cli, settings: Settings, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SIPAS_PUBLIC_BASE_URL", "https://hailong.example.vn")
    if "SIPAS_SOFFICE" in settings.env:
        monkeypatch.setenv("SIPAS_SOFFICE", settings.env["SIPAS_SOFFICE"])
    monkeypatch.setattr("aggregator.notices.cli.utcnow", lambda: NOW)  # 10/4/2026, whatever the day the suite runs
    return run_cli


@pytest.fixture
def ward(session: Session, catalogue: Catalogue) -> str:
    unit = create_unit(session, name="Phường Bến Nghé", signatory_name="Phạm Thị Dung")
    build_quarter(session, catalogue, unit)
    session.commit()
    return unit.code


def _issued_docx(run_cli, ward: str, out: Path, number: str, day: str):  # type: ignore[no-untyped-def]
    """Issue notice ``number`` of Q1 2026 on ``day`` as DOCX into ``out`` and read it back."""
    result = run_cli("notice", "--unit", ward, "--quarter", "2026Q1", "--number", number, "--date", day,
                     "--format", "docx", "--issue", "-o", str(out))
    assert result.exit_code == 0, result.output
    return Document(io.BytesIO(out.read_bytes()))


def test_docx_and_html_files(run_cli, ward: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    document = _issued_docx(run_cli, ward, tmp_path / "tb.docx", "3", "2026-04-06")
    assert document.tables[0].cell(1, 0).paragraphs[0].text == "Số: 03/TB-UBND"
    assert document.tables[0].cell(1, 1).paragraphs[0].text == "Phường Bến Nghé, ngày 06 tháng 4 năm 2026"
    html_path = tmp_path / "tb.html"
    assert run_cli("notice", "--unit", ward, "--quarter", "2026Q1", "--format", "html", "-o",
                   str(html_path)).exit_code == 0
    html = html_path.read_text()
    assert "DỰ THẢO" in html and "https://hailong.example.vn/cong-khai/" + ward in html
    bad = run_cli("notice", "--unit", "KHONG-CO", "--quarter", "2026Q1", "--format", "html", "-o", str(html_path))
    assert bad.exit_code != 0 and "Không tìm thấy đơn vị" in bad.output
    bad = run_cli("notice", "--unit", ward, "--quarter", "2026Q5", "--format", "html", "-o", str(html_path))
    assert bad.exit_code != 0 and "2023Q1" in bad.output


def test_issue_then_the_same_number_gives_the_frozen_file(run_cli, ward: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first, second = tmp_path / "a.docx", tmp_path / "b.docx"
    args = ("notice", "--unit", ward, "--quarter", "2026Q1", "--number", "3", "--date", "2026-04-06",
            "--format", "docx")
    issued = run_cli(*args, "--issue", "-o", str(first))
    assert issued.exit_code == 0 and "Đã ban hành Thông báo số 03/TB-UBND" in issued.output
    again = run_cli(*args, "-o", str(second))
    assert again.exit_code == 0 and "đã ban hành: ghi đúng bản đã chốt" in again.output
    assert first.read_bytes() == second.read_bytes()
    assert run_cli(*args, "--issue", "-o", str(second)).exit_code != 0  # the number is taken


def test_a_number_never_prints_figures_that_were_not_issued(run_cli, ward: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "tb.docx"
    args = ("notice", "--unit", ward, "--quarter", "2026Q1", "--format", "docx", "-o", str(out))
    refused = run_cli(*args, "--number", "7")
    assert refused.exit_code == 1 and not out.exists()
    assert ("Thông báo số 07/TB-UBND cho quý I năm 2026 của Phường Bến Nghé chưa ban hành: dùng --issue để ban "
            "hành, hoặc bỏ --number để in bản dự thảo.") in refused.output
    refused = run_cli(*args, "--number", "7", "--year", "2026")
    assert refused.exit_code == 1 and "Thông báo số 07/TB-UBND năm 2026 cho quý I năm 2026" in refused.output
    assert run_cli(*args).exit_code == 0  # without --number: the draft, unnumbered and marked
    draft = Document(io.BytesIO(out.read_bytes()))
    assert draft.sections[0].first_page_header.paragraphs[0].text == "DỰ THẢO"
    assert draft.tables[0].cell(1, 0).paragraphs[0].text == "Số:      /TB-UBND"


def test_an_old_notice_is_reprinted_as_issued_in_a_later_year(run_cli, ward: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    issued, again = tmp_path / "2023.docx", tmp_path / "again.docx"
    common = ("notice", "--unit", ward, "--number", "3", "--format", "docx")
    result = run_cli(*common, "--quarter", "2023Q1", "--date", "2023-04-06", "--issue", "-o", str(issued))
    assert result.exit_code == 0, result.output
    # today is years later: the number is looked up by the notice's own year or period, never rebuilt
    for extra in (("--quarter", "2023Q1"), ("--year", "2023"), ("--year", "2023", "--quarter", "2023Q1"),
                  ("--date", "2023-04-06")):
        again.unlink(missing_ok=True)
        result = run_cli(*common, *extra, "-o", str(again))
        assert result.exit_code == 0, (extra, result.output)
        assert "Thông báo số 03/TB-UBND năm 2023 đã ban hành" in result.output
        assert again.read_bytes() == issued.read_bytes(), extra
    other = run_cli(*common, "--year", "2023", "--quarter", "2023Q2", "-o", str(again))
    assert other.exit_code == 1 and "đã ban hành cho kỳ khác (năm 2023: quý I năm 2023)" in other.output
    assert run_cli(*common, "--quarter", "2024Q1", "--year", "2023", "--issue", "-o", str(again)).exit_code != 0


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_pdf_file(run_cli, ward: str, tmp_path: Path, real_soffice: str) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "tb.pdf"
    result = run_cli("notice", "--unit", ward, "--quarter", "2026Q1", "--number", "3", "--date", "2026-04-06",
                     "--format", "pdf", "--issue", "-o", str(out))
    assert result.exit_code == 0, result.output
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "Số: 03/TB-UBND" in text and "Bến Nghé, ngày 06 tháng 4 năm 2026" in text and "Phạm Thị Dung" in text


def _open_transactions(url: str) -> list[str]:
    """Another client's view: is a write lock (SQLite) or an open transaction (PostgreSQL) held?"""
    from sqlalchemy import create_engine, text

    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 0})
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                connection.exec_driver_sql("ROLLBACK")
            return []
        except Exception as exc:  # "database is locked"
            return [str(exc)]
        finally:
            engine.dispose()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.scalars(text(
                "SELECT state FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'")))
    finally:
        engine.dispose()


def test_issuing_holds_no_transaction_while_libreoffice_converts(run_cli, ward: str, settings: Settings,  # type: ignore[no-untyped-def]
                                                                 tmp_path: Path, monkeypatch) -> None:
    from aggregator.notices import service

    real, seen = service.pdf_of, []

    def watching(docx: bytes, settings_: Settings) -> bytes:
        seen.append(_open_transactions(settings.database_url))
        return real(docx, settings_)

    monkeypatch.setattr(service, "pdf_of", watching)
    result = run_cli("notice", "--unit", ward, "--quarter", "2026Q1", "--number", "5", "--date", "2026-04-06",
                     "--format", "pdf", "--issue", "-o", str(tmp_path / "tb.pdf"))
    assert result.exit_code == 0, result.output
    assert seen == [[]]  # converted once, with the intake free to write meanwhile
    assert (tmp_path / "tb.pdf").read_bytes().startswith(b"%PDF")


def test_the_issue_day_is_written_as_people_write_it(run_cli, ward: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    document = _issued_docx(run_cli, ward, tmp_path / "tb.docx", "4", "06/04/2026")
    assert document.tables[0].cell(1, 1).paragraphs[0].text == "Phường Bến Nghé, ngày 06 tháng 4 năm 2026"
    bad = run_cli("notice", "--unit", ward, "--quarter", "2026Q1", "--date", "31/13/2026", "--format", "docx",
                  "-o", str(tmp_path / "x.docx"))
    assert bad.exit_code != 0
    assert "Ngày “31/13/2026” (ngày ban hành) không hợp lệ" in bad.output  # was Python's "Invalid isoformat string"
    assert not (tmp_path / "x.docx").exists()


def test_issue_refuses_a_quarter_not_over_and_a_date_after_today(run_cli, ward: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`sipas notice --issue` issued quarter II on 10/4/2026 (dated its last day, 30/6) and took a --date after
    today (05/01/2027, a typo for 05/4/2026): the command line checks the console's rule, in the service."""
    out = tmp_path / "tb.docx"
    common = ("notice", "--unit", ward, "--number", "1", "--format", "docx", "--issue", "-o", str(out))
    unfinished = run_cli(*common, "--quarter", "2026Q2")
    assert unfinished.exit_code == 1
    assert "Kỳ báo cáo chưa kết thúc: chỉ ban hành được từ ngày cuối kỳ (30/6/2026)." in unfinished.output
    ahead = run_cli(*common, "--quarter", "2026Q1", "--date", "05/01/2027")
    assert ahead.exit_code == 1 and "Ngày ban hành 05/01/2027 là sau hôm nay (10/4/2026)" in ahead.output
    assert not out.exists()


def test_a_correction_is_issued_with_corrects(run_cli, ward: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`sipas notice --issue` had no way to mark a correction, and a second notice of an issued period went
    through as a notice of its own: two published notices of quarter I, neither replacing the other."""
    common = ("notice", "--unit", ward, "--quarter", "2026Q1", "--format", "docx", "--issue")
    first = run_cli(*common, "--number", "1", "--date", "06/4/2026", "-o", str(tmp_path / "tb-01.docx"))
    assert first.exit_code == 0, first.output
    second = ("--number", "2", "--date", "07/4/2026", "-o", str(tmp_path / "tb-02.docx"))
    alone = run_cli(*common, *second)
    assert alone.exit_code == 1
    assert ("Kỳ báo cáo quý I năm 2026 đã có Thông báo số 01/TB-UBND ngày 06/4/2026: chỉ ban hành thêm thông báo "
            "đính chính") in alone.output
    unknown = run_cli(*common, *second, "--corrects", "9/2026")
    assert unknown.exit_code == 1 and "chưa ban hành Thông báo số 09/TB-UBND năm 2026" in unknown.output
    assert run_cli(*common, *second, "--corrects", "một").exit_code == 2
    assert run_cli("notice", "--unit", ward, "--quarter", "2026Q1", "--corrects", "1", "-o",
                   str(tmp_path / "x.docx")).exit_code == 2  # only with --issue
    assert not (tmp_path / "tb-02.docx").exists()
    corrected = run_cli(*common, *second, "--corrects", "1/2026")
    assert corrected.exit_code == 0, corrected.output
    closing = [p.text for p in Document(io.BytesIO((tmp_path / "tb-02.docx").read_bytes())).paragraphs]
    assert any("thay thế Thông báo số 01/TB-UBND ngày 06/4/2026" in text for text in closing)
