"""SMS consent wordings as versioned data (``config/consent.toml``), validated at start-up.

A consent record names the wording the citizen agreed to; the text itself lives here so the console
can show what was agreed, and a wording once used is never edited (a new version is added instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sipas.dossiers import CONSENT_WORDING_VERSION
from sipas.toml_vi import TomlFileError, read_toml


class ConsentConfigError(ValueError):
    """``config/consent.toml`` is missing, malformed or inconsistent (said in Vietnamese, with the file's path)."""


@dataclass(frozen=True)
class ConsentWording:
    version: str
    effective_from: date
    legal_basis: str
    text: str


@dataclass(frozen=True)
class ConsentWordings:
    wordings: dict[str, ConsentWording]

    def get(self, version: str | None) -> ConsentWording | None:
        return self.wordings.get(version or "")


def _wording(raw: object, index: int, path: Path) -> ConsentWording:
    where = f"{path}, [[wording]] thứ {index}"
    if not isinstance(raw, dict):
        raise ConsentConfigError(f"{where}: phải là một bảng [[wording]] (version, effective_from, legal_basis, text)")
    missing = [k for k in ("version", "effective_from", "legal_basis", "text") if k not in raw]
    if missing:
        raise ConsentConfigError(f"{where}: thiếu khóa {', '.join(missing)}")
    version, effective, basis, text = raw["version"], raw["effective_from"], raw["legal_basis"], raw["text"]
    if not isinstance(version, str) or not version or len(version) > 32:
        raise ConsentConfigError(f"{where}: version = {version!r} — phải là chữ trong dấu ngoặc kép, dài 1 đến 32 "
                                 "ký tự")
    where = f"{path}, lời đồng ý {version}"
    if not isinstance(effective, date):
        raise ConsentConfigError(f"{where}: effective_from = {effective!r} — phải là ngày viết không có dấu ngoặc kép, "
                                 "ví dụ effective_from = 2026-07-01")
    if not isinstance(text, str) or not text.strip() or not isinstance(basis, str) or not basis.strip():
        raise ConsentConfigError(f"{where}: text và legal_basis không được để trống")
    return ConsentWording(version, effective, basis.strip(), " ".join(text.split()))


def load_consent_wordings(config_dir: Path) -> ConsentWordings:
    """The wordings of ``config_dir/consent.toml``; ``ConsentConfigError`` says in Vietnamese what is wrong where."""
    path = config_dir / "consent.toml"
    try:
        data = read_toml(path)
    except FileNotFoundError as exc:
        raise ConsentConfigError(f"{path}: không có tệp này (các lời đồng ý nhận tin nhắn SMS, mọi tiến trình web đều "
                                 "cần) — chép lại config/consent.toml của bản cài đặt sipas") from exc
    except TomlFileError as exc:
        raise ConsentConfigError(str(exc)) from exc
    entries = data.get("wording")
    if not isinstance(entries, list) or not entries:
        raise ConsentConfigError(f"{path}: cần ít nhất một [[wording]] (một phiên bản lời đồng ý nhận tin nhắn)")
    wordings: dict[str, ConsentWording] = {}
    for index, raw in enumerate(entries, start=1):
        wording = _wording(raw, index, path)
        if wording.version in wordings:
            raise ConsentConfigError(f"{path}: lời đồng ý phiên bản {wording.version} có hai lần — mỗi phiên bản một "
                                     "[[wording]]")
        wordings[wording.version] = wording
    if CONSENT_WORDING_VERSION not in wordings:
        raise ConsentConfigError(f"{path}: thiếu lời đồng ý phiên bản {CONSENT_WORDING_VERSION} (phiên bản ghi cho hồ "
                                 "sơ nhập từ tệp và qua API khi không nêu phiên bản) — giữ [[wording]] có "
                                 f'version = "{CONSENT_WORDING_VERSION}"')
    return ConsentWordings(wordings)
