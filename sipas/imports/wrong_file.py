"""Recognising a ratings file offered as dossiers (and the reverse), so the clerk is told which import to use.

Without this the clerk only read "Không tìm thấy cột “Ngày tiếp nhận”" and had to guess why. The header
keys below are the unmistakable ones of each kind (folded, as ``header_key`` returns them); a file is
"the other kind" when its header row holds at least one of them and the import's own key column is missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sipas.imports.headers import HEADER_SEARCH_ROWS, cell_text, header_key
from sipas.imports.reader import read_sheets
from sipas.imports.report import ImportFileError

_DOSSIER_KEYS = frozenset({"ngay tiep nhan", "ngay nhan ho so", "ngay tiep nhan ho so", "thoi gian tiep nhan",
                           "ngay hen tra", "ngay hen tra ket qua", "han giai quyet", "ngay tra ket qua",
                           "thoi gian tra ket qua", "ten thu tuc", "thu tuc hanh chinh", "ten thu tuc hanh chinh",
                           "hinh thuc nop", "hinh thuc nop ho so", "linh vuc"})
_RATING_KEYS = frozenset({"bo tieu chi", "ma bo tieu chi", "mau phieu", "loai phieu", "bo cau hoi",
                          "thoi diem danh gia", "ngay danh gia", "thoi gian danh gia", "ngay gio danh gia",
                          "kenh danh gia", "hinh thuc danh gia", "muc do hai long"})
_CRITERION = re.compile(r"^(?:tc|q|cau)\s?\d{1,2}\b")

RATINGS_OFFERED_AS_DOSSIERS = ("Tệp này có vẻ là tệp phiếu đánh giá (có cột bộ tiêu chí, thời điểm đánh giá hoặc "
                               "các cột tiêu chí), không phải danh sách hồ sơ. Hãy nhập tệp này như phiếu đánh "
                               "giá (chọn loại dữ liệu “Phiếu đánh giá”, hoặc lệnh sipas import-responses).")
DOSSIERS_OFFERED_AS_RATINGS = ("Tệp này có vẻ là danh sách hồ sơ (có cột ngày tiếp nhận, ngày hẹn trả hoặc tên "
                               "thủ tục), không phải tệp phiếu đánh giá. Hãy nhập tệp này như danh "
                               "sách hồ sơ (chọn loại dữ liệu “Hồ sơ”, hoặc lệnh sipas import-dossiers).")


def looks_like_ratings(headers: Iterable[str]) -> bool:
    keys = [header_key(h) for h in headers if h]
    return any(k in _RATING_KEYS or _CRITERION.match(k) for k in keys)


def looks_like_dossiers(headers: Iterable[str]) -> bool:
    return any(header_key(h) in _DOSSIER_KEYS for h in headers if h)


def wrong_kind(data: bytes, filename: str, expected: str) -> ImportFileError | None:
    """The error to show when a file refused as ``expected`` ("dossiers"/"responses") is of the other kind.

    Re-reads the first rows of each sheet (only on the refusal path, so the cost is paid once, on a bad file).
    """
    other = looks_like_ratings if expected == "dossiers" else looks_like_dossiers
    try:
        for sheet in read_sheets(data, filename):
            for seen, (_, row) in enumerate(sheet.rows, start=1):
                if other(cell_text(v) for v in row):
                    if expected == "dossiers":
                        return ImportFileError(RATINGS_OFFERED_AS_DOSSIERS, detail="ratings file offered as dossiers")
                    return ImportFileError(DOSSIERS_OFFERED_AS_RATINGS, detail="dossier file offered as ratings")
                if seen >= HEADER_SEARCH_ROWS:
                    break
    except ImportFileError:
        return None
    return None
