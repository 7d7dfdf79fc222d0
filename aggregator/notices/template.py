"""The editable notice template: defaults from ``config/notice/thong_bao.toml``, per-unit overrides.

The clerk's overrides live in ``Unit.options["notice"]``; a key left out falls back to the file.
Placeholders are ``{name}`` only (no attribute access or indexing), substituted from strings the
view-model already formatted, so a clerk-edited template cannot reach anything else.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sipas.models import Unit

PLACEHOLDER = re.compile(r"\{([a-z_0-9]+)\}")
PARAGRAPHS = ("opening", "dossiers", "ballots", "criteria", "overall", "closing")


class TemplateError(ValueError):
    """A wording refers to an unknown placeholder or has stray braces."""


@dataclass(frozen=True)
class NoticeTemplate:
    version: str
    number_suffix: str
    title: str
    summary: str
    legal_basis: tuple[tuple[date, str], ...]
    paragraphs: dict[str, str]
    counter_names: tuple[tuple[date, str], ...]
    authority: str
    signatory_title: str
    signatory_name: str
    recipients: tuple[str, ...]
    archive: str
    overridden: frozenset[str] = field(default_factory=frozenset)

    def legal_basis_on(self, day: date) -> str:
        return in_force(self.legal_basis, day)

    def counter_name_on(self, day: date) -> str:
        """The one-stop counter's name in force: "Bộ phận Một cửa", from 01/7/2025 the Trung tâm."""
        return in_force(self.counter_names, day)


def in_force(versions: tuple[tuple[date, str], ...], day: date) -> str:
    """The wording of the latest version in effect on ``day`` ("" before the first)."""
    text = ""
    for effective_from, wording in sorted(versions):
        if effective_from <= day:
            text = wording
    return text


def _dated(raw: dict[str, Any], key: str) -> tuple[tuple[date, str], ...]:
    return tuple((item["effective_from"], str(item["text"])) for item in raw.get(key, []))


def load_defaults(config_dir: Path) -> dict[str, Any]:
    with (config_dir / "notice" / "thong_bao.toml").open("rb") as handle:
        return tomllib.load(handle)


def unit_overrides(unit: Unit) -> dict[str, Any]:
    value = (unit.options or {}).get("notice")
    return dict(value) if isinstance(value, Mapping) else {}


def template_for(unit: Unit, config_dir: Path) -> NoticeTemplate:
    """The file defaults merged with the unit's saved overrides."""
    raw = load_defaults(config_dir)
    over = unit_overrides(unit)
    paragraphs = {key: str(raw["paragraphs"][key]) for key in PARAGRAPHS}
    paragraphs.update({k: str(v) for k, v in (over.get("paragraphs") or {}).items() if k in PARAGRAPHS})
    recipients = over.get("recipients")
    return NoticeTemplate(
        version=str(raw.get("version", "")),
        number_suffix=str(raw.get("number_suffix", "TB-UBND")),
        title=str(raw.get("title", "THÔNG BÁO")),
        summary=str(over.get("summary") or raw["summary"]),
        legal_basis=_dated(raw, "legal_basis"),
        paragraphs=paragraphs,
        counter_names=_dated(raw, "counter_name"),
        authority=str(over.get("authority") or raw["signatory"]["authority"]),
        signatory_title=str(over.get("signatory_title") or unit.signatory_title or "CHỦ TỊCH"),
        signatory_name=str(over.get("signatory_name") or unit.signatory_name or ""),
        recipients=tuple(str(r) for r in (recipients if recipients is not None else raw["recipients"]["list"])),
        archive=str(over.get("archive") or raw["recipients"]["archive"]),
        overridden=frozenset(over),
    )


def fill(text: str, values: Mapping[str, str]) -> str:
    """Substitute ``{name}`` placeholders; unknown names raise ``TemplateError``."""
    check(text, values.keys())
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def check(text: str, known: Any) -> None:
    names = set(PLACEHOLDER.findall(text))
    unknown = sorted(names - set(known))
    if unknown:
        raise TemplateError("Không có trường {" + "}, {".join(unknown) + "}.")
    if "{" in PLACEHOLDER.sub("", text) or "}" in PLACEHOLDER.sub("", text):
        raise TemplateError("Dấu ngoặc nhọn chỉ dùng cho tên trường, ví dụ {received}.")

