"""``sipas notice --unit CODE --quarter 2023Q1 --number 3 --format docx|pdf|html -o FILE``."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from docx import Document
from sqlalchemy.orm import Session

from sipas import cli as cli_module
from sipas.catalogue import Catalogue
from sipas.settings import Settings
from tests.aggregator.fixtures import build_quarter
from tests.factories import create_unit


@pytest.fixture
def run_cli(settings: Settings, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SIPAS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SIPAS_INSTANCE_DIR", str(settings.instance_dir))
    monkeypatch.setenv("SIPAS_SECRET_KEY", "cli-test-secret")
    monkeypatch.setenv("SIPAS_PUBLIC_BASE_URL", "https://hailong.example.vn")
    if "SIPAS_SOFFICE" in settings.env:
        monkeypatch.setenv("SIPAS_SOFFICE", settings.env["SIPAS_SOFFICE"])
    cli_module._add_extra_commands()

    def run(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(cli_module.cli, list(args), catch_exceptions=False)

    return run


@pytest.fixture
def ward(session: Session, catalogue: Catalogue) -> str:
    unit = create_unit(session, name="Phường Bến Nghé", signatory_name="Phạm Thị Dung")
    build_quarter(session, catalogue, unit)
    session.commit()
    return unit.code


def test_docx_and_html_files(run_cli, ward: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "tb.docx"
    result = run_cli("notice", "--unit", ward, "--quarter", "2026Q1", "--number", "3", "--date", "2026-04-06",
                     "--format", "docx", "-o", str(out))
    assert result.exit_code == 0, result.output
    document = Document(io.BytesIO(out.read_bytes()))
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


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_pdf_file(run_cli, ward: str, tmp_path: Path, real_soffice: str) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "tb.pdf"
    result = run_cli("notice", "--unit", ward, "--quarter", "2026Q1", "--number", "3", "--date", "2026-04-06",
                     "--format", "pdf", "-o", str(out))
    assert result.exit_code == 0, result.output
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "Số: 03/TB-UBND" in text and "Bến Nghé, ngày 06 tháng 4 năm 2026" in text and "Phạm Thị Dung" in text
