"""Keying a paper ballot: one digit per question, as printed on the ballot (issue 11 §2).

The digits follow the option order of the criterion file (``config/instruments/*.toml``): 1 is the first
option, 2 the second, ...; ``0`` or ``-`` is "không áp dụng" where the criterion allows it. The printed
ballot (``sipas.ballot_pdf``) shows the same digit beside each option. Pure: no database, no Flask.
"""

from __future__ import annotations

from collections.abc import Mapping

from sipas.catalogue import NOT_APPLICABLE, Instrument
from sipas.errors import ValidationError

NA_KEYS = ("0", "-")


def key_labels(instrument: Instrument) -> list[tuple[str, list[tuple[str, str]]]]:
    """Per citizen criterion, the keys a clerk may type and what each means (shown beside the form)."""
    result = []
    for criterion in instrument.citizen_criteria:
        keys = [(str(n), option.label) for n, option in enumerate(criterion.options, start=1)]
        if criterion.allow_na:
            keys.append(("0", "Không áp dụng"))
        result.append((criterion.code, keys))
    return result


def answers_from_keys(instrument: Instrument, keys: Mapping[str, str]) -> dict[str, str]:
    """``{"q1": "1", "q2": "-"}`` → ``{"q1": "rat_hai_long", "q2": "na"}``; the first wrong key raises."""
    answers = {}
    for position, criterion in enumerate(instrument.citizen_criteria, start=1):
        key = str(keys.get(criterion.code, "")).strip()
        allowed = ", ".join(str(n) for n in range(1, len(criterion.options) + 1))
        where = f"Câu {position} ({criterion.short_label})"
        if key in NA_KEYS:
            if not criterion.allow_na:
                raise ValidationError(f"{where} không có lựa chọn “Không áp dụng”: gõ {allowed}.",
                                      field=f"keys.{criterion.code}", detail=f"{criterion.code} does not allow na")
            answers[criterion.code] = NOT_APPLICABLE
        elif key.isdigit() and key.isascii() and 1 <= int(key) <= len(criterion.options):
            answers[criterion.code] = criterion.options[int(key) - 1].code
        elif key == "":
            raise ValidationError(f"{where} chưa nhập: gõ {allowed}" + (" hoặc 0." if criterion.allow_na else "."),
                                  field=f"keys.{criterion.code}", detail=f"missing key for {criterion.code}")
        else:
            raise ValidationError(f"{where}: “{key[:10]}” không phải lựa chọn trên phiếu, gõ {allowed}.",
                                  field=f"keys.{criterion.code}", detail=f"unknown key {key[:10]!r}")
    return answers


def keys_from_answers(instrument: Instrument, answers: Mapping[str, str]) -> dict[str, str]:
    """The digits that key stored answers again (a correction starts from what was keyed)."""
    keys = {}
    for criterion in instrument.citizen_criteria:
        value = answers.get(criterion.code)
        if value == NOT_APPLICABLE:
            keys[criterion.code] = "0"
        else:
            codes = [o.code for o in criterion.options]
            keys[criterion.code] = str(codes.index(value) + 1) if value in codes else ""
    return keys
