"""Which questions of the phone form a citizen left unanswered, named as the page numbers and shows them.

The form carries `novalidate` (Chromium's own bubble is English), so the server names every unanswered
question at once; the core's check would stop at the first one.
"""

from __future__ import annotations

from collections.abc import Mapping

from sipas.catalogue import Instrument
from sipas.errors import MissingAnswer


def unanswered(instrument: Instrument, answers: Mapping[str, str]) -> list[str]:
    """The questions left blank, as the form shows them: "2. <question>"."""
    return [f"{position}. {criterion.citizen_label or criterion.short_label}"
            for position, criterion in enumerate(instrument.citizen_criteria, start=1)
            if not str(answers.get(criterion.code, "")).strip()]


def check_all_answered(instrument: Instrument, answers: Mapping[str, str]) -> None:
    """Raise ``MissingAnswer`` naming every unanswered question, if any."""
    missing = unanswered(instrument, answers)
    if missing:
        noun = "câu hỏi" if len(missing) == 1 else f"{len(missing)} câu hỏi"
        raise MissingAnswer(f"Ông/bà chưa trả lời {noun}: " + "; ".join(missing) + ".",
                            field="answers", detail=f"{len(missing)} unanswered")
