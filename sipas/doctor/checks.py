"""The doctor's checks, in the order an operator fixes things: (name for machines, title, function)."""

from __future__ import annotations

from sipas.doctor.base import Check
from sipas.doctor.database import check_database
from sipas.doctor.operations import check_backup, check_kiosk_clocks, check_scheduler
from sipas.doctor.providers import check_sms, check_zalo
from sipas.doctor.settings_checks import check_config_files, check_public_url, check_secret_key
from sipas.doctor.system import check_disk, check_notice_tools, check_timezone

CHECKS: list[tuple[str, str, Check]] = [
    ("database", "Cơ sở dữ liệu", check_database),
    ("secret_key", "Khóa bí mật", check_secret_key),
    ("public_url", "Địa chỉ công khai", check_public_url),
    ("config_files", "Bộ tiêu chí và lời đồng ý", check_config_files),
    ("sms", "SMS", check_sms),
    ("zalo", "Zalo", check_zalo),
    ("notice_tools", "Phông chữ và LibreOffice", check_notice_tools),
    ("timezone", "Múi giờ", check_timezone),
    ("disk", "Dung lượng đĩa", check_disk),
    ("backup", "Sao lưu", check_backup),
    ("scheduler", "Tiến trình lập lịch", check_scheduler),
    ("kiosk_clocks", "Đồng hồ kiosk", check_kiosk_clocks),
]
