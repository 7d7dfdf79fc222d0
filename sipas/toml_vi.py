"""A data file an operator edits (criterion sets, scoring), read as TOML with its errors said in Vietnamese.

``tomllib`` says what is wrong in English ("Illegal character '\\n' (at line 5, column 18)"): :func:`read_toml`
raises :class:`TomlFileError` with the file, the line and column kept as numbers and the reason in Vietnamese;
a reason tomllib may add later keeps its own words after "sai cú pháp TOML".
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

_POSITION = re.compile(r"^(?P<reason>.*) \((?:at line (?P<line>\d+), column (?P<column>\d+)|at end of document)\)$",
                       re.DOTALL)

#: tomllib's reasons (Python 3.11) -> Vietnamese; a pattern's groups are kept verbatim
_REASONS_VI = (
    (r"Illegal character '\\n'", 'xuống dòng giữa một chuỗi (thiếu dấu " đóng chuỗi?)'),
    (r"Illegal character (.+)", r"ký tự không được phép \1"),
    (r"Unterminated string", 'chuỗi chưa đóng (thiếu dấu " cuối chuỗi)'),
    (r"Cannot overwrite a value", "khóa này đã có giá trị ở dòng trên (mỗi khóa chỉ viết một lần)"),
    (r"Cannot declare (.+) twice", r"bảng \1 được khai báo hai lần"),
    (r"Cannot redefine namespace (.+)", r"bảng \1 được khai báo lại"),
    (r"Cannot mutate immutable namespace (.+)", r"không thêm được khóa vào \1 đã viết trọn trên một dòng"),
    (r"Duplicate inline table key (.+)", r"khóa \1 có hai lần trong cùng một { … }"),
    (r"Expected '=' after a key in a key/value pair", "thiếu dấu = sau tên khóa"),
    (r"Expected ']' at the end of a table declaration", "thiếu ] ở cuối tên bảng"),
    (r"Expected ']]' at the end of an array declaration", "thiếu ]] ở cuối [[…]]"),
    (r"Expected (.+)", r"thiếu \1"),
    (r"Invalid statement", "dòng không phải khóa = giá trị hay [bảng]"),
    (r"Invalid initial character for a key part", "tên khóa bắt đầu bằng ký tự không hợp lệ"),
    (r"Found invalid character (.+)", r"ký tự không hợp lệ \1"),
    (r"Unclosed array", "danh sách chưa đóng (thiếu ])"),
    (r"Unclosed inline table", "thiếu } đóng { … }"),
    (r"Unescaped '\\\\' in a string", r"dấu \\ trong chuỗi phải viết hai lần (\\\\)"),
    (r"Invalid hex value", "mã \\u… không hợp lệ"),
    (r"Escaped character is not a Unicode scalar value", "mã \\u… không phải ký tự Unicode"),
    (r"Invalid date or datetime", "ngày không hợp lệ (viết dạng 2026-07-01)"),
    (r"Invalid value", "giá trị không hợp lệ (chữ phải đặt trong dấu ngoặc kép, ngày viết dạng 2026-07-01)"),
)
REASONS_VI: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(f"^{english}$"), vietnamese) for english, vietnamese in _REASONS_VI)


class TomlFileError(ValueError):
    """A TOML file that cannot be read: ``path``, ``line`` and ``column`` (when known) and ``reason_vi``."""

    def __init__(self, path: Path, reason_vi: str, *, line: int | None = None, column: int | None = None) -> None:
        self.path, self.reason_vi, self.line, self.column = path, reason_vi, line, column
        where = f", dòng {line}, cột {column}" if line is not None else ""
        super().__init__(f"{path}{where}: {reason_vi}")


def syntax_error_vi(exc: tomllib.TOMLDecodeError) -> tuple[str, int | None, int | None]:
    """(reason in Vietnamese, line, column) of a tomllib error."""
    message = str(exc)
    match = _POSITION.match(message)
    reason, line, column = (match["reason"], match["line"], match["column"]) if match else (message, None, None)
    for pattern, vietnamese in REASONS_VI:
        if pattern.match(reason):
            reason = pattern.sub(vietnamese, reason)
            break
    if match and line is None:
        reason = f"{reason} (ở cuối tệp)"
    return f"sai cú pháp TOML — {reason}", int(line) if line else None, int(column) if column else None


def read_toml(path: Path) -> dict[str, Any]:
    """The file's table; :class:`TomlFileError` if it is not UTF-8 text or not TOML (``OSError`` if unreadable)."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TomlFileError(path, f"không đọc được dưới dạng văn bản UTF-8 (byte 0x{raw[exc.start]:02x} ở vị trí "
                                  f"{exc.start}) — lưu lại tệp với mã hóa UTF-8") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        reason, line, column = syntax_error_vi(exc)
        raise TomlFileError(path, reason, line=line, column=column) from exc
