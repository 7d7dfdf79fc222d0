"""Settings an operator must choose: the secret key (set, long, unchanged), the public https address, and the
files of ``SIPAS_CONFIG_DIR`` every service reads at start (the criterion sets, the consent wordings)."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from sipas.doctor.base import Deployment, Finding

MIN_SECRET_LENGTH = 32
FINGERPRINT_FILE = "secret_key.fingerprint"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
MAKE_KEY = "python3 -c 'import secrets; print(secrets.token_hex(32))'"


def secret_fingerprint(secret: str) -> str:
    """Identifies the key without revealing it (an HMAC of a fixed text, keyed with the secret)."""
    return hmac.new(secret.encode(), b"sipas doctor: secret key fingerprint", hashlib.sha256).hexdigest()[:32]


def check_secret_key(deployment: Deployment) -> Finding:
    """Set explicitly (the generated ``instance/secret_key`` differs per machine and dies with the folder),
    long enough, and the same as at the previous check: a changed key logs everyone out, breaks the SMS
    links already sent and stops phone-number hashes from matching."""
    secret = deployment.settings.secret_key
    if not secret:
        return Finding(False, "Chưa đặt SIPAS_SECRET_KEY: ứng dụng dùng khóa tự sinh trong thư mục instance, "
                              "mất khi thư mục đó mất và khác nhau giữa các máy.",
                       f"Tạo khóa bằng {MAKE_KEY}, ghi vào SIPAS_SECRET_KEY trong tệp cấu hình, "
                       "rồi khởi động lại dịch vụ.")
    if len(secret) < MIN_SECRET_LENGTH:
        return Finding(False, f"SIPAS_SECRET_KEY quá ngắn ({len(secret)} ký tự, cần ít nhất {MIN_SECRET_LENGTH}).",
                       f"Tạo khóa mới bằng {MAKE_KEY} (đổi khóa sẽ làm mất hiệu lực các liên kết SMS đã gửi).")
    path = deployment.settings.instance_dir / FINGERPRINT_FILE
    fingerprint = secret_fingerprint(secret)
    if path.is_file():
        if path.read_text(encoding="utf-8").strip() != fingerprint:
            return Finding(False, "SIPAS_SECRET_KEY đã thay đổi so với lần kiểm tra trước: phiên đăng nhập, liên kết "
                                  "SMS đã gửi và mã băm số điện thoại cũ không còn khớp.",
                           f"Đặt lại khóa cũ nếu thay đổi là nhầm; nếu cố ý đổi, xóa {path} để ghi nhận khóa mới.")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(fingerprint + "\n", encoding="utf-8")
    return Finding(True, "SIPAS_SECRET_KEY đã đặt và không đổi từ lần kiểm tra trước.")


def check_public_url(deployment: Deployment) -> Finding:
    url = deployment.settings.public_base_url
    if url.rstrip("/") == DEFAULT_PUBLIC_URL or "SIPAS_PUBLIC_BASE_URL" not in deployment.settings.env:
        return Finding(False, f"Chưa đặt SIPAS_PUBLIC_BASE_URL (đang là {url}): liên kết SMS, mã QR và thông báo "
                              "trỏ về máy này, người dân không mở được.",
                       "Đặt SIPAS_PUBLIC_BASE_URL=https://<tên miền của đơn vị> trong tệp cấu hình.")
    parts = urlsplit(url)
    if parts.scheme != "https":
        return Finding(False, f"SIPAS_PUBLIC_BASE_URL không dùng https ({url}): Twilio và trình duyệt điện thoại "
                              "cần địa chỉ https.",
                       "Cấu hình nginx với chứng chỉ (deploy/nginx/sipas.conf) và đặt SIPAS_PUBLIC_BASE_URL=https://...")
    if parts.hostname in {"localhost", "127.0.0.1", "::1"}:
        return Finding(False, f"SIPAS_PUBLIC_BASE_URL trỏ về chính máy này ({url}).",
                       "Đặt tên miền công khai mà người dân truy cập được.")
    return Finding(True, f"Địa chỉ công khai: {url}.")


def check_config_files(deployment: Deployment) -> Finding:
    """The criterion sets and the SMS consent wordings, read as the web app and the scheduler read them at start:
    a broken file stops both (their last line says why), so the doctor must not call the deployment healthy."""
    from sipas.catalogue import CatalogueError, load_catalogue
    from sipas.consent import ConsentConfigError, load_consent_wordings

    folder = deployment.settings.config_dir
    fix = (f"Sửa tệp được nêu trong {folder} (SIPAS_CONFIG_DIR; xem docs/criteria.md), hoặc chép lại tệp đó từ "
           "thư mục config/ của bản cài đặt sipas; rồi chạy lại sipas doctor.")
    try:
        catalogue = load_catalogue(folder)
    except CatalogueError as exc:
        return Finding(False, f"Cấu hình sai: bộ tiêu chí trong SIPAS_CONFIG_DIR ({folder}): {exc}", fix)
    try:
        wordings = load_consent_wordings(folder)
    except ConsentConfigError as exc:
        return Finding(False, f"Cấu hình sai: {exc}", fix)
    instruments, consents = len(catalogue.codes), len(wordings.wordings)
    return Finding(True, f"Đọc được {instruments} bộ tiêu chí và {consents} lời đồng ý nhận tin nhắn trong {folder}.")
