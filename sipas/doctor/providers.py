"""SMS and Zalo credentials: present, and accepted by the provider's cheapest read call.

Twilio: fetching the account (``GET /2010-04-01/Accounts/{Sid}.json``) costs nothing and needs valid
credentials. The eSMS-style HTTP brandname provider: its balance read (``POST GetBalance_json`` with ApiKey and
SecretKey, ``SIPAS_SMS_HTTP_BALANCE_URL``) is free and answers ``CodeResponse`` 101 for a wrong key.
Zalo: the settings are complete, an OA grant is stored, and Zalo accepts the access token on its cheapest
read call (``GET /message/quota``), which also tells the day's quota.
"""

from __future__ import annotations

from sipas.doctor.base import Deployment, Finding
from sipas.settings import SettingsError

ZALO_PREFIX = "SIPAS_ZALO_"
#: The settings a Zalo ZNS channel needs (Zalo Official Account app); reserved in config/example.env.
ZALO_REQUIRED = ("SIPAS_ZALO_APP_ID", "SIPAS_ZALO_APP_SECRET", "SIPAS_ZALO_OA_SECRET")


def check_sms(deployment: Deployment) -> Finding:
    from sms_gateway.settings import SmsSettings

    try:
        sms = SmsSettings.from_settings(deployment.settings)
    except SettingsError as exc:
        return Finding(False, f"Cấu hình SMS chưa đủ: {exc}.",
                       "Điền các biến SIPAS_TWILIO_* hoặc SIPAS_SMS_HTTP_* trong tệp cấu hình (xem docs/sms.md).")
    if sms.provider == "console":
        return Finding(True, "SIPAS_SMS_PROVIDER=console: tin nhắn chỉ ghi vào hộp thư thử trên trang quản lý, "
                             "không gửi thật.")
    if sms.provider == "http":
        return _check_http(sms)
    return _check_twilio(deployment, sms)


#: eSMS CodeResponse values of the balance read that mean the keys or the account are refused.
HTTP_REFUSALS = {"101": "sai ApiKey hoặc SecretKey", "102": "tài khoản đã bị khóa"}


def _check_http(sms) -> Finding:  # type: ignore[no-untyped-def]
    """The brandname provider's balance read: accepted, refused (wrong key, locked account) or unreachable."""
    import requests

    try:
        answer = requests.post(sms.http_balance_url, json={"ApiKey": sms.http_api_key,
                                                           "SecretKey": sms.http_secret_key},
                               timeout=min(sms.timeout_seconds, 10))
    except requests.RequestException as exc:
        return Finding(False, f"Không gọi được nhà cung cấp brandname tại {sms.http_balance_url}: "
                              f"{type(exc).__name__}.",
                       "Kiểm tra kết nối Internet, tường lửa và SIPAS_SMS_HTTP_BALANCE_URL.")
    try:
        data = answer.json()
    except ValueError:
        data = None
    code = str(data.get("CodeResponse", "")) if isinstance(data, dict) else ""
    if code in HTTP_REFUSALS:
        return Finding(False, f"Nhà cung cấp brandname từ chối SIPAS_SMS_HTTP_API_KEY / SIPAS_SMS_HTTP_SECRET_KEY "
                              f"(mã {code}: {HTTP_REFUSALS[code]}).",
                       "Chép lại ApiKey và SecretKey từ trang quản trị của nhà cung cấp vào tệp cấu hình; nếu tài "
                       "khoản bị khóa, liên hệ nhà cung cấp.")
    if code != "100":
        shown = f"mã {code}" if code else f"HTTP {answer.status_code}"
        return Finding(False, f"Nhà cung cấp brandname trả lỗi khi đọc số dư ({shown}).",
                       "Kiểm tra SIPAS_SMS_HTTP_BALANCE_URL; thử lại sau.")
    balance = data.get("Balance") if isinstance(data, dict) else None
    return Finding(True, f"Nhà cung cấp brandname nhận SIPAS_SMS_HTTP_API_KEY / SIPAS_SMS_HTTP_SECRET_KEY "
                         f"(đọc được số dư: {balance}).")


def _check_twilio(deployment: Deployment, sms) -> Finding:  # type: ignore[no-untyped-def]
    import requests
    from twilio.base.exceptions import TwilioException, TwilioRestException

    from sms_gateway.providers.twilio_provider import TwilioProvider

    provider = TwilioProvider(sms, http_client=deployment.twilio_http_client)  # type: ignore[arg-type]
    try:
        account = provider.client.api.v2010.accounts(sms.twilio_account_sid).fetch()
    except TwilioRestException as exc:
        if exc.status in (401, 403):
            return Finding(False, f"Twilio từ chối SIPAS_TWILIO_ACCOUNT_SID / SIPAS_TWILIO_AUTH_TOKEN "
                                  f"(HTTP {exc.status}).",
                           "Chép lại Account SID và Auth Token từ console.twilio.com vào tệp cấu hình.")
        return Finding(False, f"Twilio trả lỗi khi đọc tài khoản (HTTP {exc.status}, mã {exc.code}).",
                       "Xem status.twilio.com; thử lại sau.")
    except (requests.RequestException, TwilioException) as exc:
        return Finding(False, f"Không gọi được Twilio tại {sms.twilio_api_base}: {type(exc).__name__}.",
                       "Kiểm tra kết nối Internet, tường lửa và SIPAS_TWILIO_API_BASE.")
    status = str(getattr(account, "status", "") or "")
    if status and status != "active":
        return Finding(False, f"Tài khoản Twilio đang ở trạng thái “{status}”, không gửi được tin.",
                       "Kích hoạt lại tài khoản hoặc nạp tiền tại console.twilio.com.")
    return Finding(True, "Twilio nhận SIPAS_TWILIO_ACCOUNT_SID / SIPAS_TWILIO_AUTH_TOKEN (đọc được tài khoản).")


def check_zalo(deployment: Deployment) -> Finding:
    env = deployment.settings.env
    present = sorted(name for name, value in env.items() if name.startswith(ZALO_PREFIX) and value.strip())
    if not present:
        return Finding(True, "Chưa cấu hình (sipas không gửi qua Zalo).")
    missing = [name for name in ZALO_REQUIRED if not (env.get(name) or "").strip()]
    if missing:
        return Finding(False, f"Cấu hình Zalo chưa đủ: thiếu {', '.join(missing)}.",
                       "Điền đủ các biến SIPAS_ZALO_* hoặc xóa hết nếu chưa dùng Zalo.")
    return _check_zalo_token(deployment)


def _check_zalo_token(deployment: Deployment) -> Finding:
    from sqlalchemy.exc import SQLAlchemyError

    from sms_gateway.providers import TemporaryFailure
    from sms_gateway.providers.zalo import ZaloClient
    from sms_gateway.zalo_settings import ZaloSettings
    from sms_gateway.zalo_tokens import token_state

    try:
        zalo = ZaloSettings.from_settings(deployment.settings)
        with deployment.database.read_sessionmaker() as session:
            account = token_state(session)
    except SettingsError as exc:
        return Finding(False, f"Cấu hình Zalo sai: {exc}.", "Sửa các biến SIPAS_ZALO_* (xem docs/zalo.md).")
    except SQLAlchemyError:
        return Finding(False, "Không đọc được token OA trong cơ sở dữ liệu.", "Chạy `sipas db upgrade` rồi thử lại.")
    if account is None:
        return Finding(False, "Chưa cấp quyền OA: lời mời của đơn vị dùng Zalo sẽ gửi bằng SMS.",
                       "Quản trị OA cấp quyền, rồi chạy `sipas zalo set-token` (hoặc dán ở trang Zalo).")
    if account.failure:
        return Finding(False, f"Zalo đã từ chối làm mới token ({account.failure}): cần quản trị OA cấp lại quyền.",
                       "Quản trị OA cấp quyền lại, rồi chạy `sipas zalo set-token`.")
    if account.expires_at <= deployment.now:
        return Finding(True, "Access token đã hết hạn; sipas tự làm mới ở lần gửi tới (chưa gọi thử Zalo).")
    try:
        data = ZaloClient(zalo).get(account.access_token, "/message/quota", {})
    except TemporaryFailure as exc:
        if exc.code == "zalo-124":
            return Finding(False, "Zalo từ chối access token đang lưu (-124).",
                           "Chờ lần gửi tới tự làm mới, hoặc chạy `sipas zalo set-token`.")
        return Finding(False, f"Không gọi được Zalo tại {zalo.api_base}: {exc.code}.",
                       "Kiểm tra kết nối Internet, tường lửa và SIPAS_ZALO_API_BASE.")
    quota = data.get("data") if isinstance(data.get("data"), dict) else {}
    return Finding(True, f"Zalo nhận access token (hạn mức hôm nay còn {quota.get('remainingQuota', '?')}/"
                         f"{quota.get('dailyQuota', '?')} tin).")
