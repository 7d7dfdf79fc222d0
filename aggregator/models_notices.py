"""Issued notices (Thông báo …/TB-UBND): the frozen figures, wording and documents of each number.

An issued notice never changes: the report JSON it was computed from, the rendered wording,
recipients and signatory, and the DOCX and PDF bytes are stored with it, so later imports cannot
alter what was published. A correction is a new number that points at the notice it corrects.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sipas.models import Base, Unit, utc_now


class Notice(Base):
    """One issued notice of one unit, numbered per unit and calendar year of issue."""

    __tablename__ = "notice"
    __table_args__ = (UniqueConstraint("unit_id", "year", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))  # the unique key begins with it
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    issue_date: Mapped[date] = mapped_column(Date)
    report: Mapped[dict[str, Any]] = mapped_column()
    content: Mapped[dict[str, Any]] = mapped_column()
    docx: Mapped[bytes] = mapped_column(LargeBinary)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    # SHA-256 (hex) of the issued files, shown on the notice's public page and matched by `sipas notice verify`
    docx_sha256: Mapped[str] = mapped_column(String(64), index=True)
    pdf_sha256: Mapped[str] = mapped_column(String(64), index=True)
    issued_by: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(default=utc_now)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("notice.id"))

    unit: Mapped[Unit] = relationship()
    corrects: Mapped[Notice | None] = relationship(remote_side=[id])

    @property
    def number_label(self) -> str:
        """"03/TB-UBND" (numbers under 10 get a leading zero), as printed on the notice."""
        return (self.content or {}).get("number_label") or f"{self.number:02d}/TB-UBND"

    @property
    def issuer_name(self) -> str:
        """The unit's name as the notice printed it: a unit renamed since keeps its old name on its old notices."""
        return str((self.content or {}).get("unit_name") or self.unit.name)

    def __repr__(self) -> str:
        return f"<Notice {self.number_label} {self.year} unit={self.unit_id}>"
