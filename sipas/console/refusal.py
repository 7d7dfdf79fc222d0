"""A refused console form: its message flashed as an error, with the field it is about.

The page shows the message on top (an alert); ``console.js`` then shows it again beside the field named here,
marks that field ``aria-invalid`` and described by the message, and moves focus there (WCAG 3.3.1, 4.1.2).
"""

from __future__ import annotations

from flask import flash, g, session

_KEY = "_error_field"


def refuse(message: str, field: str | None = None) -> None:
    """Flash ``message`` as an error about the form control named ``field`` (the first refusal's field wins).

    The field also waits in the session, beside the flash, for a refusal answered by a redirect (a case's forms).
    """
    flash(message, "error")
    if field and not g.get("error_field"):
        g.error_field = field
        session[_KEY] = field


def refused_field() -> str | None:
    """The field of this request's refusal, or of the one a redirect brought here; read once, like the flash."""
    waiting = session.pop(_KEY, None) if _KEY in session else None
    return g.get("error_field") or waiting
