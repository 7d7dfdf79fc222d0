"""What an import tells the person who uploaded the file: counts and one line per refused cell."""

from __future__ import annotations

from dataclasses import dataclass, field

from sipas.errors import DomainError
from sipas.format_vi import number_vi


class ImportFileError(DomainError):
    """The file as a whole cannot be imported (unreadable, wrong type, no header row)."""

    code = "import_file"
    message_vi = "Không đọc được tệp."


@dataclass(frozen=True)
class RowError:
    """A refused row: the row number and column header as the user sees them in the spreadsheet."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"Dòng {self.row}" + (f", cột “{self.column}”" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class ImportReport:
    kind: str  # "dossiers" or "responses"
    filename: str
    skip_invalid: bool = False
    sheet: str | None = None
    header_row: int | None = None
    #: field name → the column header as written in the file
    columns: dict[str, str] = field(default_factory=dict)
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    file_error: str | None = None
    #: machine code of a file-level refusal (``import_file``, ``import_file_too_large``)
    file_error_code: str | None = None
    written: bool = False

    @property
    def error_rows(self) -> int:
        return len({e.row for e in self.errors})

    @property
    def ok(self) -> bool:
        return self.file_error is None and not self.errors

    @property
    def refused(self) -> bool:
        """Nothing was written although the file had rows: a broken file or all-or-nothing with errors."""
        return self.file_error is not None or (bool(self.errors) and not self.written)

    def counts(self) -> dict[str, int]:
        return {"rows": self.rows, "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "error_rows": self.error_rows}

    def summary_vi(self) -> str:
        if self.file_error:
            return f"Không nhập được tệp {self.filename}: {self.file_error}"
        if self.kind == "dossiers":
            counts = (f"{number_vi(self.created)} hồ sơ mới, {number_vi(self.updated)} cập nhật, "
                      f"{number_vi(self.unchanged)} không thay đổi")
        else:
            counts = f"{number_vi(self.created)} phiếu mới, {number_vi(self.unchanged)} phiếu đã có từ trước"
        counts += f", {number_vi(self.error_rows)} dòng lỗi"
        if self.errors and not self.written:
            return (f"Tệp {self.filename} có {number_vi(self.error_rows)} dòng lỗi nên chưa nhập dòng nào. "
                    "Hãy sửa các dòng dưới đây rồi nhập lại, hoặc chọn bỏ qua các dòng lỗi.")
        if self.errors:
            return f"Đã nhập tệp {self.filename} (bỏ qua các dòng lỗi): {counts}."
        return f"Đã nhập tệp {self.filename}: {counts}."
