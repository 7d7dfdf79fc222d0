"""SMS consent wordings as versioned data (``config/consent.toml``), validated at start-up.

A consent record names the wording the citizen agreed to; the text itself lives here so the console
can show what was agreed, and a wording once used is never edited (a new version is added instead).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sipas.dossiers import CONSENT_WORDING_VERSION


class ConsentConfigError(ValueError):
    """``config/consent.toml`` is missing, malformed or inconsistent."""


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


def _wording(raw: object, index: int) -> ConsentWording:
    if not isinstance(raw, dict):
        raise ConsentConfigError(f"consent.toml: wording #{index} is not a table")
    missing = [k for k in ("version", "effective_from", "legal_basis", "text") if k not in raw]
    if missing:
        raise ConsentConfigError(f"consent.toml: wording #{index} lacks {', '.join(missing)}")
    version, effective, basis, text = raw["version"], raw["effective_from"], raw["legal_basis"], raw["text"]
    if not isinstance(version, str) or not version or len(version) > 32:
        raise ConsentConfigError(f"consent.toml: wording #{index}: version must be a string of 1-32 characters")
    if not isinstance(effective, date):
        raise ConsentConfigError(f"consent.toml: wording {version}: effective_from must be a date (YYYY-MM-DD)")
    if not isinstance(text, str) or not text.strip() or not isinstance(basis, str) or not basis.strip():
        raise ConsentConfigError(f"consent.toml: wording {version}: text and legal_basis must not be empty")
    return ConsentWording(version, effective, basis.strip(), " ".join(text.split()))


def load_consent_wordings(config_dir: Path) -> ConsentWordings:
    path = config_dir / "consent.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConsentConfigError(f"{path} is missing (the SMS consent wordings)") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConsentConfigError(f"consent.toml: {exc}") from exc
    entries = data.get("wording")
    if not isinstance(entries, list) or not entries:
        raise ConsentConfigError("consent.toml: at least one [[wording]] is needed")
    wordings: dict[str, ConsentWording] = {}
    for index, raw in enumerate(entries, start=1):
        wording = _wording(raw, index)
        if wording.version in wordings:
            raise ConsentConfigError(f"consent.toml: version {wording.version} appears twice")
        wordings[wording.version] = wording
    if CONSENT_WORDING_VERSION not in wordings:
        raise ConsentConfigError(f"consent.toml: version {CONSENT_WORDING_VERSION} (used by imports and the API "
                                 "when no version is given) must be listed")
    return ConsentWordings(wordings)
