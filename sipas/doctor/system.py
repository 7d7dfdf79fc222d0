"""The machine: notice fonts and LibreOffice, time zone, disk space."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

from sipas.doctor.base import Deployment, Finding
from sipas.format_vi import decimal_vi

VIETNAM_OFFSET = timedelta(hours=7)
MIN_FREE_BYTES = 2 * 1024**3
MIN_FREE_FRACTION = 0.05


def check_notice_tools(deployment: Deployment) -> Finding:
    """The notice's fonts (Liberation Serif, metric-compatible with Times New Roman) and LibreOffice for PDF."""
    from aggregator.notices import docx_parts
    from aggregator.notices.pdf_render import soffice_binary

    problems, fixes = [], []
    found = [d for d in docx_parts.FONT_DIRS if all((d / name).is_file() for name in docx_parts.FONT_FILES.values())]
    if not found:
        problems.append("thiếu phông Liberation Serif cho thông báo")
        fixes.append("apt-get install -y fonts-liberation2")
    soffice = soffice_binary(deployment.settings.env)
    if shutil.which(soffice) is None:
        problems.append(f"không tìm thấy LibreOffice (“{soffice}”) để tạo bản PDF")
        fixes.append("apt-get install -y libreoffice-writer-nogui (hoặc đặt SIPAS_SOFFICE)")
    if problems:
        return Finding(False, "Thông báo: " + "; ".join(problems) + ".", "Chạy: " + "; ".join(fixes) + ".")
    return Finding(True, f"Phông chữ thông báo ({found[0]}) và LibreOffice ({shutil.which(soffice)}) đã có.")


def check_timezone(deployment: Deployment) -> Finding:
    """sipas counts days in ``SIPAS_TIMEZONE``; a ward in Viet Nam needs UTC+7 (Asia/Ho_Chi_Minh)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = deployment.settings.timezone
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return Finding(False, f"Múi giờ SIPAS_TIMEZONE=“{name}” không tồn tại.",
                       "Đặt SIPAS_TIMEZONE=Asia/Ho_Chi_Minh (và cài gói tzdata).")
    offset = deployment.now.astimezone(zone).utcoffset()
    if offset != VIETNAM_OFFSET:
        hours = (offset or timedelta()).total_seconds() / 3600
        return Finding(False, f"Múi giờ SIPAS_TIMEZONE=“{name}” (UTC{hours:+g}) khác giờ Việt Nam (UTC+7): hạn trả "
                              "hồ sơ, kỳ báo cáo và giờ gửi SMS sẽ lệch.",
                       "Đặt SIPAS_TIMEZONE=Asia/Ho_Chi_Minh trong tệp cấu hình.")
    return Finding(True, f"{name} (UTC+7).")


def check_disk(deployment: Deployment, *, min_free_bytes: int = MIN_FREE_BYTES,
               min_free_fraction: float = MIN_FREE_FRACTION) -> Finding:
    """Free space where the data lives (the instance folder: SQLite, generated files)."""
    path = _existing(deployment.settings.instance_dir)
    usage = shutil.disk_usage(path)
    free_gb = usage.free / 1024**3
    if usage.free < min_free_bytes or usage.free < usage.total * min_free_fraction:
        return Finding(False, f"Ổ đĩa chứa {path} sắp đầy: còn {decimal_vi(free_gb, 1)} GB "
                              f"({decimal_vi(usage.free / usage.total * 100, 0)}%).",
                       "Xóa bản sao lưu cũ, nhật ký cũ (journalctl --vacuum-time=30d) hoặc mở rộng ổ đĩa.")
    return Finding(True, f"Ổ đĩa chứa {path}: còn {decimal_vi(free_gb, 1)} GB.")


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path
