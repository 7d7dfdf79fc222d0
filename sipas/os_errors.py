"""Why a file or folder could not be read or written, in Vietnamese, with the system's error code kept.

``OSError.strerror`` is the C library's English ("No such file or directory", "Permission denied"): an operator
read it after a Vietnamese "Không sao lưu được vào …". :func:`reason_vi` gives the common cases in Vietnamese and
keeps the code's name (``ENOENT``, ``EACCES``…) verbatim, for a search or a script; an uncommon error keeps the
system's own words beside its code.
"""

from __future__ import annotations

import errno

REASONS_VI: dict[int, str] = {
    errno.ENOENT: "không có tệp hay thư mục này",
    errno.EACCES: "không có quyền truy cập",
    errno.EPERM: "không được phép",
    errno.ENOTDIR: "một phần của đường dẫn là tệp, không phải thư mục",
    errno.EISDIR: "đây là thư mục, không phải tệp",
    errno.EEXIST: "đã có tệp hay thư mục trùng tên",
    errno.ENOSPC: "ổ đĩa đã đầy",
    errno.EDQUOT: "đã hết hạn mức dung lượng",
    errno.EROFS: "ổ đĩa chỉ cho đọc",
    errno.ENAMETOOLONG: "tên quá dài",
    errno.EIO: "lỗi đọc ghi ổ đĩa",
}


def reason_vi(exc: OSError) -> str:
    """``không có quyền truy cập (EACCES)``: the reason in Vietnamese, the error code's name verbatim."""
    code = errno.errorcode.get(exc.errno) if exc.errno is not None else None
    reason = REASONS_VI.get(exc.errno) if exc.errno is not None else None
    if reason is None:
        reason = exc.strerror or str(exc)
    return f"{reason} ({code})" if code else reason
