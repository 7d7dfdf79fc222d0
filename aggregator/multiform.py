"""Dossiers rated on more than one form (issue 11 §3): they count once in the dossier response rate.

A citizen may rate one dossier at the kiosk (quay4) and again by SMS (hue12). ``dossiers.rated``
already counts distinct dossiers; this query says how many of those resolved dossiers were rated on
two or more forms, so the report can say so next to the per-form rates (which count responses).
Kept apart from ``aggregator.queries`` (the counting layer) on purpose.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aggregator.queries import Scope
from sipas.models import Dossier, Response


def rated_on_several_forms(session: Session, scope: Scope) -> int:
    """Dossiers resolved in the scope's period (and field) that have responses on more than one form."""
    forms = (select(Response.dossier_id)
             .join(Dossier, Dossier.id == Response.dossier_id)
             .where(Dossier.unit_id.in_(scope.unit_ids),
                    Dossier.returned_local_date.between(scope.period.start, scope.period.end))
             .group_by(Response.dossier_id)
             .having(func.count(func.distinct(Response.instrument_code)) > 1))
    if scope.field is not None:
        forms = forms.where(Dossier.field == scope.field)
    return int(session.scalar(select(func.count()).select_from(forms.subquery())) or 0)
