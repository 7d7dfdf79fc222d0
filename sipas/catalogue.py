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
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path

from sipas.toml_vi import TomlFileError, read_toml

NOT_APPLICABLE = "na"


class CatalogueError(ValueError):
    """The criterion-set data is inconsistent; the application refuses to start with it.

    The message is for the operator who wrote the file, in Vietnamese: the file's path, the criterion or option,
    then ``key = value — what it must be`` (the settings' form, sipas.settings.bad_value); `sipas …` prints it after
    "Cấu hình sai: bộ tiêu chí trong SIPAS_CONFIG_DIR (…):"."""


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
                    raise CatalogueError(f"bộ tiêu chí {code}: phiên bản {version.version} có hai lần")
                seen.add(version.version)
            for earlier, later in itertools.pairwise(versions):
                if earlier.effective_from == later.effective_from:
                    raise CatalogueError(f"bộ tiêu chí {code}: hai phiên bản cùng có hiệu lực từ "
                                         f"{later.effective_from.isoformat()}")

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


def _shown(value: object) -> str:
    """A value as the file wrote it: true/false, a date bare, a text in quotes (as a setting's value is shown)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return repr(value)


def _identifier(value: object) -> bool:
    return isinstance(value, str) and value.isidentifier()


def _tables(value: object, key: str, where: str, example: str) -> list[dict]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise CatalogueError(f"{where}: {key} = {_shown(value)} — phải là danh sách {example}")
    return value


OPTIONS_EXAMPLE = 'phương án: options = [{ code = "…", label = "…", points = … }, …]'


def _parse_option(raw: dict, where: str, position: int) -> Option:
    code = raw.get("code")
    where = f"{where}, phương án {code}" if _identifier(code) else f"{where}, phương án thứ {position}"
    for key in ("code", "label", "points"):
        if key not in raw:
            raise CatalogueError(f"{where}: thiếu khóa {key}")
    label, points = raw["label"], raw["points"]
    if not _identifier(code) or code == NOT_APPLICABLE:
        raise CatalogueError(f"{where}: code = {_shown(code)} — phải là mã viết liền không dấu (chữ, số, dấu _), "
                             f"khác {NOT_APPLICABLE} (dành cho “Không áp dụng”), ví dụ hai_long")
    if not isinstance(label, str) or not label.strip():
        raise CatalogueError(f"{where}: label = {_shown(label)} — phải là nội dung phương án, không để trống")
    if not isinstance(points, int) or isinstance(points, bool) or points < 0:
        raise CatalogueError(f"{where}: points = {_shown(points)} — phải là số nguyên từ 0 trở lên")
    dissatisfied = raw.get("dissatisfied", False)
    if not isinstance(dissatisfied, bool):
        raise CatalogueError(f"{where}: dissatisfied = {_shown(dissatisfied)} — phải là true hoặc false")
    return Option(code=code, label=label.strip(), points=points, dissatisfied=dissatisfied)


def _parse_options(value: object, where: str, key: str = "options") -> tuple[Option, ...]:
    raws = _tables(value, key, where, OPTIONS_EXAMPLE.replace("options", key))
    return tuple(_parse_option(raw, where, n) for n, raw in enumerate(raws, start=1))


def _satisfaction_flag(raw: dict, default: object, source: Source, where: str) -> bool:
    """Whether a criterion enters the overall satisfaction rate; citizen criteria must say so."""
    value = raw.get("satisfaction", default)
    if source is not Source.CITIZEN:
        if value is True and "satisfaction" in raw:
            raise CatalogueError(f"{where}: satisfaction = true — chỉ tiêu chí người dân trả lời (source = citizen) "
                                 "mới được tính vào tỷ lệ hài lòng; bỏ dòng này")
        return False
    if value is None:
        raise CatalogueError(f"{where}: thiếu satisfaction — ghi satisfaction = true nếu tiêu chí được hỏi theo thang "
                             "hài lòng, false nếu không")
    if not isinstance(value, bool):
        raise CatalogueError(f"{where}: satisfaction = {_shown(value)} — phải là true hoặc false")
    return value


def _citizen_label(raw: dict, source: Source, where: str) -> str | None:
    value = raw.get("citizen_label")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise CatalogueError(f"{where}: citizen_label = {_shown(value)} — phải là một câu hỏi, không để trống")
    if source is not Source.CITIZEN:
        raise CatalogueError(f"{where}: citizen_label chỉ dành cho tiêu chí người dân trả lời (source = citizen); "
                             "bỏ dòng này")
    return value.strip()


def _check_flags(criterion: Criterion, where: str) -> None:
    dissatisfied = criterion.dissatisfied_codes
    if criterion.source is not Source.CITIZEN and dissatisfied:
        raise CatalogueError(f"{where}: phương án {', '.join(dissatisfied)} có dissatisfied = true — chỉ câu trả lời "
                             "của người dân (source = citizen) mới được đánh dấu không hài lòng")
    if criterion.satisfaction and not dissatisfied:
        raise CatalogueError(f"{where}: tiêu chí hỏi theo thang hài lòng (satisfaction = true) cần ít nhất một phương "
                             "án có dissatisfied = true")
    if len(dissatisfied) == len(criterion.options):
        raise CatalogueError(f"{where}: mọi phương án đều có dissatisfied = true — ít nhất một phương án phải là "
                             "câu trả lời không phàn nàn (bỏ dissatisfied = true ở phương án đó)")


#: the keys an instrument file must have, with what each is (said when one is missing)
REQUIRED_KEYS = {
    "code": "mã bộ tiêu chí",
    "version": "phiên bản",
    "label": "tên bộ tiêu chí",
    "effective_from": "ngày bắt đầu có hiệu lực",
    "legal_basis": "căn cứ pháp lý",
    "criteria": "các tiêu chí, mỗi tiêu chí một [[criteria]]",
}
SOURCES_VI = "citizen (người dân trả lời), system (lấy từ dữ liệu hồ sơ) hoặc staff (cán bộ chấm)"


def _date(data: dict, key: str, where: str, example: str) -> date:
    value = data[key]
    if not isinstance(value, date) or isinstance(value, datetime):
        raise CatalogueError(f"{where}: {key} = {_shown(value)} — phải là ngày viết không có dấu ngoặc kép, "
                             f"ví dụ {key} = {example}")
    return value


def _parse_criterion(raw: dict, position: int, data: dict, default_options: tuple[Option, ...],
                     path: Path) -> Criterion:
    code = raw.get("code")
    if not _identifier(code):
        raise CatalogueError(f"{path}, tiêu chí thứ {position}: code = {_shown(code)} — phải là mã viết liền không "
                             "dấu (chữ, số, dấu _), ví dụ tc01")
    where = f"{path}, tiêu chí {code}"
    label = raw.get("label")
    if not isinstance(label, str) or not label.strip():
        raise CatalogueError(f"{where}: label = {_shown(label)} — phải là nội dung tiêu chí theo văn bản pháp luật, "
                             "không để trống")
    options = _parse_options(raw["options"], where) if "options" in raw else default_options
    if len(options) < 2:
        raise CatalogueError(f"{where}: có {len(options)} phương án trả lời — cần ít nhất hai"
                             + ("" if options or "options" in raw else " (options của tiêu chí, hoặc default_options "
                                                                       "đầu tệp)"))
    seen: set[str] = set()
    for option in options:
        if option.code in seen:
            raise CatalogueError(f"{where}: mã phương án {option.code} có hai lần — mỗi phương án một mã riêng")
        seen.add(option.code)
    try:
        source = Source(raw.get("source", "citizen"))
    except ValueError as exc:
        raise CatalogueError(f"{where}: source = {_shown(raw.get('source'))} — phải là {SOURCES_VI}") from exc
    index = raw.get("tt01_index")
    if index is not None and (isinstance(index, bool) or index not in range(1, 10)):
        raise CatalogueError(f"{where}: tt01_index = {_shown(index)} — phải là số từ 1 đến 9")
    if raw.get("tt01_note") and index is None:
        raise CatalogueError(f"{where}: có tt01_note nhưng thiếu tt01_index (chỉ số TT 01/2018 mà ghi chú giải thích)")
    criterion = Criterion(
        code=code,
        label=label.strip(),
        short_label=str(raw.get("short_label") or label).strip(),
        options=options,
        allow_na=bool(raw.get("allow_na", False)),
        source=source,
        tt01_index=index,
        tt01_note=str(raw.get("tt01_note", "")).strip(),
        satisfaction=_satisfaction_flag(raw, data.get("satisfaction"), source, where),
        citizen_label=_citizen_label(raw, source, where),
    )
    _check_flags(criterion, where)
    return criterion


def _parse_instrument(data: dict, path: Path) -> Instrument:
    for key, meaning in REQUIRED_KEYS.items():
        if key not in data:
            raise CatalogueError(f"{path}: thiếu khóa {key} ({meaning})")
    effective_from = _date(data, "effective_from", str(path), "2026-07-01")
    effective_to = _date(data, "effective_to", str(path), "2026-06-30") if "effective_to" in data else None
    if effective_to is not None and effective_to < effective_from:
        raise CatalogueError(f"{path}: effective_to = {_shown(effective_to)} — phải từ effective_from "
                             f"({_shown(effective_from)}) trở về sau")
    default_options = _parse_options(data["default_options"], f"{path}, default_options", "default_options") \
        if "default_options" in data else ()
    raws = _tables(data["criteria"], "criteria", str(path), "tiêu chí, mỗi tiêu chí một [[criteria]]")
    criteria = [_parse_criterion(raw, n, data, default_options, path) for n, raw in enumerate(raws, start=1)]
    seen: set[str] = set()
    for criterion in criteria:
        if criterion.code in seen:
            raise CatalogueError(f"{path}: mã tiêu chí {criterion.code} có hai lần — mỗi tiêu chí một mã riêng")
        seen.add(criterion.code)
    if not any(c.source is Source.CITIZEN for c in criteria):
        raise CatalogueError(f"{path}: không có tiêu chí nào người dân trả lời — cần ít nhất một tiêu chí có "
                             "source = citizen (mặc định khi không ghi source)")
    return Instrument(
        code=str(data["code"]),
        version=str(data["version"]),
        label=str(data["label"]),
        effective_from=effective_from,
        effective_to=effective_to,
        legal_basis=str(data["legal_basis"]),
        criteria=tuple(criteria),
    )


SCORING_KEYS = {"version": "phiên bản", "max_total": "tổng điểm tối đa", "classes": "các mức xếp loại"}


def _parse_scoring(data: dict, path: Path) -> Scoring:
    for key, meaning in SCORING_KEYS.items():
        if key not in data:
            raise CatalogueError(f"{path}: thiếu khóa {key} ({meaning})")
    raws = _tables(data["classes"], "classes", str(path),
                   'mức xếp loại: classes = [{ code = "…", label = "…", min_total = … }, …]')
    classes = []
    for position, raw in enumerate(raws, start=1):
        where = f"{path}, mức xếp loại thứ {position}"
        for key in ("code", "label", "min_total"):
            if key not in raw:
                raise CatalogueError(f"{where}: thiếu khóa {key}")
        if not isinstance(raw["min_total"], int | float) or isinstance(raw["min_total"], bool):
            raise CatalogueError(f"{where}: min_total = {_shown(raw['min_total'])} — phải là một số điểm")
        classes.append(ScoreClass(code=str(raw["code"]), label=str(raw["label"]), min_total=float(raw["min_total"])))
    if not classes or classes != sorted(classes, key=lambda c: -c.min_total):
        raise CatalogueError(f"{path}: classes phải xếp từ ngưỡng điểm cao nhất xuống thấp nhất")
    max_total = data["max_total"]
    if not isinstance(max_total, int | float) or isinstance(max_total, bool):
        raise CatalogueError(f"{path}: max_total = {_shown(max_total)} — phải là một số điểm")
    return Scoring(version=str(data["version"]), max_total=float(max_total), classes=tuple(classes),
                   legal_basis=str(data.get("legal_basis", "")))


def _read(path: Path) -> dict:
    try:
        return read_toml(path)
    except TomlFileError as exc:
        raise CatalogueError(str(exc)) from exc


def _check_versions(loaded: list[tuple[Instrument, Path]]) -> None:
    """Each version of an instrument in one file, and each taking effect on a day of its own: both files named."""
    for (earlier, earlier_path), (later, later_path) in itertools.combinations(loaded, 2):
        if earlier.code != later.code:
            continue
        if earlier.version == later.version:
            raise CatalogueError(f"{later_path}: bộ tiêu chí {later.code} phiên bản {later.version} đã có trong "
                                 f"{earlier_path} — mỗi phiên bản một tệp; phiên bản mới cần version và "
                                 "effective_from khác")
        if earlier.effective_from == later.effective_from:
            raise CatalogueError(f"{later_path}: effective_from = {_shown(later.effective_from)} — bộ tiêu chí "
                                 f"{earlier.code} phiên bản {earlier.version} ({earlier_path}) cũng có hiệu lực từ "
                                 "ngày này; mỗi phiên bản một ngày khác")


def load_catalogue(config_dir: Path) -> Catalogue:
    """Read and validate every instrument file; raise ``CatalogueError`` on the first inconsistency."""
    folder = config_dir / "instruments"
    files = sorted(folder.glob("*.toml"))
    if not files:
        raise CatalogueError(f"không có tệp bộ tiêu chí *.toml nào trong {folder}")
    loaded = [(_parse_instrument(_read(path), path), path) for path in files]
    _check_versions(loaded)
    scoring_path = config_dir / "scoring.tt01_2018.toml"
    scoring = _parse_scoring(_read(scoring_path), scoring_path)
    return Catalogue((instrument for instrument, _path in loaded), scoring)
