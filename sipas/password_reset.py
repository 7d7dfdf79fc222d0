"""Giving a console account a new password from the command line (a lost admin password)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sipas.accounts import account_key, random_token, set_password
from sipas.audit import audit
from sipas.errors import ValidationError
from sipas.models import User
from sipas.throttle import clear

GENERATED_LENGTH = 16


def reset_password(session: Session, username: str, password: str | None, *, actor: str) -> str:
    """Set ``password`` (or a random one) on the account; clear its failed logins; return the password.

    The failed-login counter of the account is emptied too: an operator resetting a password after
    too many wrong guesses should not have to wait for the window to pass.
    """
    name = username.strip().lower()
    user = session.scalar(select(User).where(User.username == name))
    if user is None:
        raise ValidationError(f"Không có tài khoản “{name}”.", field="username", detail="unknown user")
    new_password = password if password is not None else random_token(GENERATED_LENGTH)
    set_password(user, new_password)
    clear(session, account_key(name))
    audit(session, "user.password_reset", actor=actor, subject=name)
    return new_password
