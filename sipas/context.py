"""What a request, a blueprint or a channel needs from the running application, without the factory.

Blueprints and channels import these accessors from here rather than from ``sipas.app``: the factory
imports the blueprints, so a blueprint importing the factory's module would close an import circle
(the flaskr and Notify layout). ``tests/test_architecture.py`` keeps circles from coming back.
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app
from flask_wtf.csrf import CSRFProtect

from sipas.catalogue import Catalogue
from sipas.settings import Settings

csrf = CSRFProtect()
SESSIONLESS_BLUEPRINTS: set[str] = set()


def exempt_from_session(bp: Blueprint) -> None:
    """Mark a blueprint that machines, devices or citizens call, never a logged-in clerk's form.

    Its requests need no CSRF token (they are authenticated by a device token, a signature, an API key
    or a signed link) and never rewrite the session cookie (see ``sipas.session_cookie``).
    """
    csrf.exempt(bp)
    SESSIONLESS_BLUEPRINTS.add(bp.name)


def get_settings() -> Settings:
    return current_app.extensions["sipas_settings"]


def get_catalogue() -> Catalogue:
    return current_app.extensions["sipas_catalogue"]


def add_console_nav(app: Flask, endpoint: str, label: str, *, order: int = 50, roles: tuple[str, ...] = ()) -> None:
    """Channels add their pages to the console menu."""
    app.extensions["sipas_console_nav"].append({"endpoint": endpoint, "label": label, "order": order,
                                                "roles": roles})
