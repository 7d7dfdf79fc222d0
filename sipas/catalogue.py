"""Criterion sets (instruments) loaded from versioned data files under ``config/instruments``.

Each file is one immutable version of one instrument. A response records the code and version it
was given under, so adding a version never rewrites history. Pure: no database, no Flask.

How reports read the answers is data too (docs/criteria.md): an option marked ``dissatisfied``
makes its dossier "không hài lòng" (QĐ 766, follow-up of comments); a criterion marked
``satisfaction`` is asked on a satisfaction scale and enters the overall satisfaction rate. Points
say nothing about either: "Phức tạp" or "Trên 1 lần" are worth 0 points without being a complaint.
"""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path

NOT_APPLICABLE = "na"


class CatalogueError(ValueError):
    """The criterion-set data is inconsistent; the application refuses to start with it."""


class Source(StrEnum):
    CITIZEN = "citizen"
    SYSTEM = "system"
    STAFF = "staff"


@dataclass(frozen=True)
class Option:
    code: str
    label: str
    points: int
    dissatisfied: bool = False


@dataclass(frozen=True)
class Criterion:
    code: str
    label: str
    short_label: str
    options: tuple[Option, ...]
    allow_na: bool = False
    source: Source = Source.CITIZEN
    tt01_index: int | None = None
    satisfaction: bool = False
    tt01_note: str = ""  # why this question counts for that TT 01/2018 index (legal note), shown in reports
    # A plain question for lay citizens, shown on the kiosk and the phone above the legal ``label`` (which stays
    # available under it, and alone in reports and the notice). Presentation only, like ``short_label``: not part
    # of a version's record (sipas.instrument_records), so it may be added or reworded without a new version.
    citizen_label: str | None = None

    @property
    def asked_as(self) -> str:
        """The question as a citizen reads it: the plain label when there is one, else the legal label."""
        return self.citizen_label or self.label

    def option(self, code: str) -> Option | None:
        return next((o for o in self.options if o.code == code), None)

    @property
    def dissatisfied_codes(self) -> tuple[str, ...]:
        return tuple(o.code for o in self.options if o.dissatisfied)


@dataclass(frozen=True)
class Instrument:
    code: str
    version: str
    label: str
    effective_from: date
    legal_basis: str
    criteria: tuple[Criterion, ...]
    effective_to: date | None = None

    @property
    def citizen_criteria(self) -> tuple[Criterion, ...]:
        """The criteria a citizen answers on a ballot, kiosk, SMS or form."""
        return tuple(c for c in self.criteria if c.source is Source.CITIZEN)

    def criterion(self, code: str) -> Criterion | None:
        return next((c for c in self.criteria if c.code == code), None)

    def in_effect(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)

    def is_dissatisfied(self, criterion_code: str, option_code: str | None) -> bool:
        criterion = self.criterion(criterion_code)
        return criterion is not None and option_code in criterion.dissatisfied_codes

    def is_satisfaction_criterion(self, criterion_code: str) -> bool:
        criterion = self.criterion(criterion_code)
        return criterion is not None and criterion.satisfaction


@dataclass(frozen=True)
class ScoreClass:
    code: str
    label: str
    min_total: float


@dataclass(frozen=True)
class Scoring:
    version: str
    max_total: float
    classes: tuple[ScoreClass, ...]
    legal_basis: str

    def classify(self, total: float) -> ScoreClass:
        """Lower bounds are inclusive: exactly 15 is "xuất sắc"."""
        for score_class in self.classes:
            if total >= score_class.min_total:
                return score_class
        return self.classes[-1]


class Catalogue:
    """All versions of all instruments, plus the TT 01/2018 classification."""

    def __init__(self, instruments: Iterable[Instrument], scoring: Scoring) -> None:
        self._versions: dict[str, list[Instrument]] = {}
        for instrument in instruments:
            self._versions.setdefault(instrument.code, []).append(instrument)
        for versions in self._versions.values():
            versions.sort(key=lambda i: i.effective_from)
        self.scoring = scoring
        self._validate()

    def _validate(self) -> None:
        for code, versions in self._versions.items():
            seen = set()
            for version in versions:
                if version.version in seen:
                    raise CatalogueError(f"{code}: version {version.version} defined twice")
                seen.add(version.version)
            for earlier, later in itertools.pairwise(versions):
                if earlier.effective_from == later.effective_from:
                    raise CatalogueError(f"{code}: two versions take effect on {later.effective_from}")

    @property
    def codes(self) -> list[str]:
        return list(self._versions)

    def current(self, code: str, on: date) -> Instrument:
        """The version of ``code`` in effect on a local date (the latest started, not ended)."""
        versions = self._versions.get(code)
        if not versions:
            raise KeyError(code)
        candidates = [v for v in versions if v.in_effect(on)]
        if not candidates:
            raise LookupError(f"no version of {code} is in effect on {on.isoformat()}")
        return candidates[-1]

    def version(self, code: str, version: str) -> Instrument:
        for instrument in self._versions.get(code, []):
            if instrument.version == version:
                return instrument
        raise KeyError(f"{code}@{version}")

    def versions(self, code: str) -> list[Instrument]:
        return list(self._versions.get(code, []))

    def dissatisfied_answers(self) -> tuple[tuple[str, str, str, str], ...]:
        """(instrument, version, criterion, option) of every answer that makes a dossier "không hài lòng"."""
        return tuple((i.code, i.version, c.code, o) for versions in self._versions.values() for i in versions
                     for c in i.criteria for o in c.dissatisfied_codes)

    def latest(self, on: date) -> list[Instrument]:
        """One instrument per code: the version in effect on ``on``, in file order of codes."""
        result = []
        for code in self._versions:
            try:
                result.append(self.current(code, on))
            except LookupError:
                continue
        return result


def _parse_option(raw: dict, where: str) -> Option:
    try:
        code, label, points = str(raw["code"]), str(raw["label"]), raw["points"]
    except KeyError as exc:
        raise CatalogueError(f"{where}: option lacks {exc.args[0]!r}") from exc
    if not isinstance(points, int) or isinstance(points, bool) or points < 0:
        raise CatalogueError(f"{where}: option {code} has points {points!r}, expected a whole number >= 0")
    if code == NOT_APPLICABLE or not code.isidentifier() or not label.strip():
        raise CatalogueError(f"{where}: bad option code {code!r} or empty label")
    dissatisfied = raw.get("dissatisfied", False)
    if not isinstance(dissatisfied, bool):
        raise CatalogueError(f"{where}: option {code} has dissatisfied = {dissatisfied!r}, expected true or false")
    return Option(code=code, label=label.strip(), points=points, dissatisfied=dissatisfied)


def _satisfaction_flag(raw: dict, default: object, source: Source, where: str) -> bool:
    """Whether a criterion enters the overall satisfaction rate; citizen criteria must say so."""
    value = raw.get("satisfaction", default)
    if source is not Source.CITIZEN:
        if value is True and "satisfaction" in raw:
            raise CatalogueError(f"{where}: only a criterion citizens answer can be a satisfaction criterion")
        return False
    if not isinstance(value, bool):
        raise CatalogueError(f"{where}: say whether this is a satisfaction criterion (satisfaction = true or false)")
    return value


def _citizen_label(raw: dict, source: Source, where: str) -> str | None:
    value = raw.get("citizen_label")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise CatalogueError(f"{where}: citizen_label must be a non-empty text")
    if source is not Source.CITIZEN:
        raise CatalogueError(f"{where}: citizen_label is for criteria citizens answer (source = citizen)")
    return value.strip()


def _check_flags(criterion: Criterion, where: str) -> None:
    dissatisfied = criterion.dissatisfied_codes
    if criterion.source is not Source.CITIZEN and dissatisfied:
        raise CatalogueError(f"{where}: only answers citizens give can be marked dissatisfied")
    if criterion.satisfaction and not dissatisfied:
        raise CatalogueError(f"{where}: a satisfaction criterion needs an option marked dissatisfied = true")
    if len(dissatisfied) == len(criterion.options):
        raise CatalogueError(f"{where}: every option is marked dissatisfied")


def _parse_instrument(data: dict, path: Path) -> Instrument:
    where = path.name
    for key in ("code", "version", "label", "effective_from", "legal_basis", "criteria"):
        if key not in data:
            raise CatalogueError(f"{where}: missing {key!r}")
    if not isinstance(data["effective_from"], date):
        raise CatalogueError(f"{where}: effective_from must be a TOML date")
    default_options = tuple(_parse_option(o, where) for o in data.get("default_options", []))
    criteria = []
    for raw in data["criteria"]:
        code = str(raw.get("code", ""))
        if not code.isidentifier() or not str(raw.get("label", "")).strip():
            raise CatalogueError(f"{where}: criterion {code!r} needs an identifier code and a label")
        options = tuple(_parse_option(o, f"{where}:{code}") for o in raw["options"]) if "options" in raw \
            else default_options
        if len(options) < 2:
            raise CatalogueError(f"{where}:{code}: a criterion needs at least two options")
        if len({o.code for o in options}) != len(options):
            raise CatalogueError(f"{where}:{code}: duplicate option codes")
        try:
            source = Source(raw.get("source", "citizen"))
        except ValueError as exc:
            raise CatalogueError(f"{where}:{code}: unknown source {raw.get('source')!r}") from exc
        index = raw.get("tt01_index")
        if index is not None and index not in range(1, 10):
            raise CatalogueError(f"{where}:{code}: tt01_index must be 1-9")
        if raw.get("tt01_note") and index is None:
            raise CatalogueError(f"{where}:{code}: tt01_note explains a tt01_index, which is missing")
        criterion = Criterion(
            code=code,
            label=str(raw["label"]).strip(),
            short_label=str(raw.get("short_label") or raw["label"]).strip(),
            options=options,
            allow_na=bool(raw.get("allow_na", False)),
            source=source,
            tt01_index=index,
            tt01_note=str(raw.get("tt01_note", "")).strip(),
            satisfaction=_satisfaction_flag(raw, data.get("satisfaction"), source, f"{where}:{code}"),
            citizen_label=_citizen_label(raw, source, f"{where}:{code}"),
        )
        _check_flags(criterion, f"{where}:{code}")
        criteria.append(criterion)
    if len({c.code for c in criteria}) != len(criteria):
        raise CatalogueError(f"{where}: duplicate criterion codes")
    if not any(c.source is Source.CITIZEN for c in criteria):
        raise CatalogueError(f"{where}: no criterion is answered by citizens")
    effective_to = data.get("effective_to")
    return Instrument(
        code=str(data["code"]),
        version=str(data["version"]),
        label=str(data["label"]),
        effective_from=data["effective_from"],
        effective_to=effective_to,
        legal_basis=str(data["legal_basis"]),
        criteria=tuple(criteria),
    )


def _parse_scoring(data: dict, where: str) -> Scoring:
    classes = tuple(
        ScoreClass(code=str(c["code"]), label=str(c["label"]), min_total=float(c["min_total"]))
        for c in data.get("classes", [])
    )
    if not classes or list(classes) != sorted(classes, key=lambda c: -c.min_total):
        raise CatalogueError(f"{where}: classes must be listed from the highest threshold down")
    return Scoring(version=str(data["version"]), max_total=float(data["max_total"]), classes=classes,
                   legal_basis=str(data.get("legal_basis", "")))


def load_catalogue(config_dir: Path) -> Catalogue:
    """Read and validate every instrument file; raise ``CatalogueError`` on the first inconsistency."""
    folder = config_dir / "instruments"
    files = sorted(folder.glob("*.toml"))
    if not files:
        raise CatalogueError(f"không có tệp bộ tiêu chí *.toml nào trong {folder}")
    instruments = []
    for path in files:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise CatalogueError(f"{path.name}: {exc}") from exc
        instruments.append(_parse_instrument(data, path))
    scoring_path = config_dir / "scoring.tt01_2018.toml"
    scoring = _parse_scoring(tomllib.loads(scoring_path.read_text(encoding="utf-8")), scoring_path.name)
    return Catalogue(instruments, scoring)
