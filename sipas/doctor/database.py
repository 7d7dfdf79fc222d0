"""Is the database reachable and migrated to the code's heads?"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from sipas.doctor.base import Deployment, Finding

CONNECT_TIMEOUT_SECONDS = 5


def shown_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def check_database(deployment: Deployment) -> Finding:
    from sipas.migrate import is_up_to_date

    url = deployment.settings.database_url
    deployment.database_ok = False
    if deployment.settings.is_sqlite:
        path = make_url(url).database or ""
        if path and path != ":memory:" and not Path(path).is_file():
            return Finding(False, f"Chưa có tệp cơ sở dữ liệu {path}.",
                           "Kiểm tra SIPAS_DATABASE_URL / SIPAS_INSTANCE_DIR trong tệp cấu hình, rồi chạy: "
                           "sipas db upgrade")
    connect_args = {} if deployment.settings.is_sqlite else {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    engine = create_engine(url, connect_args=connect_args, hide_parameters=True)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        migrated = is_up_to_date(engine, url)
    except Exception as exc:  # any driver error means the same thing to the operator
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
        return Finding(False, f"Không kết nối được cơ sở dữ liệu {shown_url(url)}: {reason}",
                       "Kiểm tra SIPAS_DATABASE_URL (máy chủ, cổng, tên, mật khẩu) và dịch vụ PostgreSQL đang chạy "
                       "(systemctl status postgresql).")
    finally:
        engine.dispose()
    if not migrated:
        return Finding(False, f"Cơ sở dữ liệu {shown_url(url)} chưa được cập nhật theo phiên bản mã nguồn.",
                       "Chạy: sipas db upgrade (rồi khởi động lại: systemctl restart sipas-web sipas-scheduler).")
    deployment.database_ok = True
    return Finding(True, f"Cơ sở dữ liệu {shown_url(url)} kết nối được và đã cập nhật.")


def needs_database(deployment: Deployment) -> Finding | None:
    """The answer of a check that reads the database when the database check failed."""
    if deployment.database_ok is False:
        return Finding(False, "Chưa kiểm tra được vì cơ sở dữ liệu chưa sẵn sàng (xem mục cơ sở dữ liệu).",
                       "Sửa lỗi cơ sở dữ liệu trước, rồi chạy lại sipas doctor.")
    return None
