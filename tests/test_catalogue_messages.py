"""A criterion-set file an operator wrote wrong is refused in Vietnamese, naming the file, the place and the fix.

The refusals read "hue12.v2018.toml:tc04: tt01_index must be 1-9" after a Vietnamese "Lỗi: Cấu hình sai: bộ tiêu chí
trong SIPAS_CONFIG_DIR (…):"; a TOML syntax error gave tomllib's English ("Illegal character '\\n' (at line 5, column
18)"); a broken scoring file or a file not saved as UTF-8 ended `sipas db upgrade` in a Python traceback; an
``effective_to`` written as text, ``options`` that are no list or a ``tt01_index = true`` were accepted (the first
failed every later report with a TypeError). Each now reads ``<tệp>, tiêu chí <mã>: <khóa> = <giá trị> — <lý do>``
(the settings' convention), exit code 1, no traceback.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sipas.catalogue import CatalogueError, load_catalogue
from sipas.settings import DEFAULT_CONFIG_DIR
from tests.test_settings_messages_vi import english_left, is_vietnamese

HUE12 = "instruments/hue12.v2018.toml"
QUAY4 = "instruments/quay4.v2018.toml"
TT01 = "instruments/tt01_2018.v2018.toml"
SCORING = "scoring.tt01_2018.toml"

#: (file, text replaced, replacement, the message after the file's path)
BROKEN = [
    (HUE12, 'version = "2018.1"', 'version = "2018.1',
     ", dòng 5, cột 18: sai cú pháp TOML — xuống dòng giữa một chuỗi (thiếu dấu \" đóng chuỗi?)"),
    (HUE12, 'version = "2018.1"', 'version = "2018.1"\nversion = "2026.1"',
     ", dòng 6, cột 19: sai cú pháp TOML — khóa này đã có giá trị ở dòng trên (mỗi khóa chỉ viết một lần)"),
    (HUE12, 'code = "hue12"\n', "", ": thiếu khóa code (mã bộ tiêu chí)"),
    (HUE12, "effective_from = 2018-01-01", 'effective_from = "2018-01-01"',
     ": effective_from = '2018-01-01' — phải là ngày viết không có dấu ngoặc kép, ví dụ effective_from = 2026-07-01"),
    (HUE12, "effective_from = 2018-01-01", "effective_from = 2018-01-01\neffective_to = \"2030\"",
     ": effective_to = '2030' — phải là ngày viết không có dấu ngoặc kép, ví dụ effective_to = 2026-06-30"),
    (HUE12, "effective_from = 2018-01-01", "effective_from = 2018-01-01\neffective_to = 2017-12-31",
     ": effective_to = 2017-12-31 — phải từ effective_from (2018-01-01) trở về sau"),
    (HUE12, "points = 2", "points = -2",
     ", default_options, phương án rat_hai_long: points = -2 — phải là số nguyên từ 0 trở lên"),
    (HUE12, 'label = "Rất hài lòng", ', "", ", default_options, phương án rat_hai_long: thiếu khóa label"),
    (HUE12, "tt01_index = 7\n", "tt01_index = 10\n", ", tiêu chí tc04: tt01_index = 10 — phải là số từ 1 đến 9"),
    (HUE12, "tt01_index = 7\n", "tt01_index = true\n", ", tiêu chí tc04: tt01_index = true — phải là số từ 1 đến 9"),
    (HUE12, "tt01_index = 7\n", "",
     ", tiêu chí tc04: có tt01_note nhưng thiếu tt01_index (chỉ số TT 01/2018 mà ghi chú giải thích)"),
    (HUE12, 'code = "tc02"', 'code = "tc01"', ": mã tiêu chí tc01 có hai lần — mỗi tiêu chí một mã riêng"),
    (HUE12, 'code = "tc01"', 'code = "tc 01"',
     ", tiêu chí thứ 1: code = 'tc 01' — phải là mã viết liền không dấu (chữ, số, dấu _), ví dụ tc01"),
    (HUE12, 'code = "hai_long"', 'code = "rat_hai_long"',
     ", tiêu chí tc01: mã phương án rat_hai_long có hai lần — mỗi phương án một mã riêng"),
    (HUE12, "dissatisfied = true", 'dissatisfied = "yes"',
     ", default_options, phương án khong_hai_long: dissatisfied = 'yes' — phải là true hoặc false"),
    (HUE12, "satisfaction = true", "",
     ", tiêu chí tc01: thiếu satisfaction — ghi satisfaction = true nếu tiêu chí được hỏi theo thang hài lòng, "
     "false nếu không"),
    (QUAY4, '    { code = "dung_hen", label = "Đúng hẹn", points = 2 },\n'
            '    { code = "cham_chap_nhan_duoc", label = "Chậm hẹn nhưng chấp nhận được", points = 1 },\n', "",
     ", tiêu chí q3: có 1 phương án trả lời — cần ít nhất hai"),
    (QUAY4, "satisfaction = false\noptions = [", "satisfaction = false\noptions = 3\nx = [",
     ", tiêu chí q3: options = 3 — phải là danh sách phương án: options = [{ code = \"…\", label = \"…\", "
     "points = … }, …]"),
    (TT01, 'source = "staff"', 'source = "nhanvien"',
     ", tiêu chí cs5: source = 'nhanvien' — phải là citizen (người dân trả lời), system (lấy từ dữ liệu hồ sơ) "
     "hoặc staff (cán bộ chấm)"),
    (TT01, 'citizen_label = "Ông/bà đã phải liên hệ lại bao nhiêu lần để bổ sung, hoàn thiện hồ sơ?"',
     'citizen_label = ""', ", tiêu chí cs3: citizen_label = '' — phải là một câu hỏi, không để trống"),
    (SCORING, "max_total = 18", "max_total = ",
     ", dòng 5, cột 13: sai cú pháp TOML — giá trị không hợp lệ (chữ phải đặt trong dấu ngoặc kép, ngày viết "
     "dạng 2026-07-01)"),
    (SCORING, "max_total = 18\n", "", ": thiếu khóa max_total (tổng điểm tối đa)"),
    (SCORING, 'min_total = 12 }', 'min_total = 16 }',
     ": classes phải xếp từ ngưỡng điểm cao nhất xuống thấp nhất"),
]


def _shipped_config(tmp_path: Path) -> Path:
    """A copy of the configuration folder sipas ships, to break one file of."""
    config = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, config)
    return config


def _broken_config(tmp_path: Path, file: str, old: str, new: str) -> tuple[Path, Path]:
    config = _shipped_config(tmp_path)
    path = config / file
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return config, path


@pytest.mark.parametrize(("file", "old", "new", "reason"), BROKEN)
def test_a_broken_criterion_set_is_refused_in_vietnamese(tmp_path: Path, file: str, old: str, new: str,
                                                          reason: str) -> None:
    config, path = _broken_config(tmp_path, file, old, new)
    with pytest.raises(CatalogueError) as refused:
        load_catalogue(config)
    message = str(refused.value)
    assert message == f"{path}{reason}"
    assert is_vietnamese(message)
    assert english_left(message, str(path), old, new, "true", "false", "default_options", "options", "points",
                        "label", "code", "citizen", "system", "staff", "TOML", "dissatisfied") == [], message


def test_a_file_not_saved_as_utf8_is_named(tmp_path: Path) -> None:
    config = _shipped_config(tmp_path)
    path = config / QUAY4
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
    with pytest.raises(CatalogueError) as refused:
        load_catalogue(config)
    assert str(refused.value) == (f"{path}: không đọc được dưới dạng văn bản UTF-8 (byte 0xff ở vị trí 0) — lưu lại "
                                  "tệp với mã hóa UTF-8")


def test_a_version_in_two_files_names_both(tmp_path: Path) -> None:
    config = _shipped_config(tmp_path)
    copy = config / "instruments" / "hue12.z.toml"
    shutil.copy(config / HUE12, copy)
    with pytest.raises(CatalogueError) as refused:
        load_catalogue(config)
    assert str(refused.value) == (f"{copy}: bộ tiêu chí hue12 phiên bản 2018.1 đã có trong {config / HUE12} — mỗi "
                                  "phiên bản một tệp; phiên bản mới cần version và effective_from khác")


def test_two_versions_taking_effect_the_same_day_are_named(tmp_path: Path) -> None:
    config = _shipped_config(tmp_path)
    copy = config / "instruments" / "hue12.v2026.toml"
    copy.write_text((config / HUE12).read_text(encoding="utf-8").replace('version = "2018.1"', 'version = "2026.1"'),
                    encoding="utf-8")
    with pytest.raises(CatalogueError) as refused:
        load_catalogue(config)
    assert str(refused.value) == (f"{copy}: effective_from = 2018-01-01 — bộ tiêu chí hue12 phiên bản 2018.1 "
                                  f"({config / HUE12}) cũng có hiệu lực từ ngày này; mỗi phiên bản một ngày khác")


@pytest.fixture
def run_cli(run_cli, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def run(*args: str, **env: str):  # type: ignore[no-untyped-def]
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return run_cli("--quiet", *args, catch_exceptions=True)  # a traceback is the failure looked for

    return run


@pytest.mark.parametrize(("file", "old", "new", "reason"), [BROKEN[0], BROKEN[4], BROKEN[-3], BROKEN[-2]])
@pytest.mark.parametrize("command", [("db", "upgrade"), ("scheduler",)])
def test_the_command_names_the_file_and_exits_1_without_a_traceback(run_cli, tmp_path: Path, command: tuple[str, ...],
                                                                    file: str, old: str, new: str, reason: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """A broken scoring file ended `sipas db upgrade` in tomllib's traceback, a text effective_to passed unseen."""
    from sipas import scheduler

    def started(*_args: object) -> None:
        raise AssertionError("the scheduler started with a broken criterion set")

    monkeypatch.setattr(scheduler, "run", started)
    assert run_cli("db", "upgrade").exit_code == 0  # the scheduler starts on a migrated database only
    config, path = _broken_config(tmp_path, file, old, new)
    result = run_cli(*command, SIPAS_CONFIG_DIR=str(config))
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert result.output == f"Lỗi: Cấu hình sai: bộ tiêu chí trong SIPAS_CONFIG_DIR ({config}): {path}{reason}\n"
