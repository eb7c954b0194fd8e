"""Rules of the register's accounts, free of any database: passwords, lockout, sessions and sign-in by identity.

Hashing and the stored counters live in :mod:`gis.auth`; the app keeps its session in Streamlit's state
(``ui/resources.py``). Everything here is a pure function of its arguments, so the rules are tested alone.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any, Iterable, Mapping

from sites.errors import InvalidInput

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256  # hashing a megabyte-long "password" per attempt would be a cheap way to load the server
MAX_FAILURES = 5  # wrong passwords in a row before the account is locked
LOCK_MINUTES = 15
USER_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
SIGN_IN_REFUSED = "wrong user name or password, or the account is locked or deactivated"


def check_user_name(name: str) -> str:
    """A user name: 1-64 lower-case letters, digits, ``.``, ``_`` or ``-``, starting with a letter or digit."""
    if not isinstance(name, str) or not USER_NAME.match(name):
        raise InvalidInput("name", name, "1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter "
                                         "or digit")
    return name


def check_password(password: str, name: str | None = None) -> str:
    """Refuse a password that is too short or too long, or that is the user's name."""
    if not isinstance(password, str) or not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        length = len(password) if isinstance(password, str) else type(password).__name__
        raise InvalidInput("password", f"{length} characters",
                           f"{MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters")
    if name and name.lower() in password.lower():
        raise InvalidInput("password", "(contains the user name)", "a password that does not contain the user name")
    return password


def generate_password() -> str:
    """A random password of 20 URL-safe characters (120 bits), to be shown once and then changed or kept."""
    return secrets.token_urlsafe(15)


def is_locked(locked_until: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether an account locked until ``locked_until`` is still locked at ``now``."""
    return locked_until is not None and now < locked_until


def after_failure(failed_logins: int, now: dt.datetime) -> tuple[int, dt.datetime | None]:
    """The account's (failed_logins, locked_until) after one more wrong password.

    The :data:`MAX_FAILURES`-th failure in a row locks the account for :data:`LOCK_MINUTES` and starts the count
    again, so each later run of failures locks it again.
    """
    failed = failed_logins + 1
    if failed >= MAX_FAILURES:
        return 0, now + dt.timedelta(minutes=LOCK_MINUTES)
    return failed, None


def session_expired(last_seen: float, now: float, minutes: int) -> bool:
    """Whether a session last used at ``last_seen`` (seconds) has been idle ``minutes`` or more at ``now``."""
    return now - last_seen >= minutes * 60


def session_ended(signed_in_at: float, password_changed_at: float | None, active: bool) -> bool:
    """Whether a session that began at ``signed_in_at`` ends because its account changed since.

    Deactivating a user or changing their password ends their sessions at their next action.
    """
    return not active or (password_changed_at is not None and password_changed_at > signed_in_at)


def user_for_claims(claims: Mapping[str, Any], users: Iterable[Mapping[str, Any]], claim: str = "email") -> str | None:
    """The register user an identity provider's ``claims`` name, or None.

    The claim's value must equal (ignoring case and surrounding spaces) the ``email`` of exactly one active user;
    an email the provider says is unverified (``email_verified`` false) names nobody. Roles and regions always come
    from the register's own row: nothing in the claims can create a user or raise a role.
    """
    if claim == "email" and claims.get("email_verified") is False:
        return None
    value = claims.get(claim)
    if not isinstance(value, str) or not value.strip():
        return None
    wanted = value.strip().lower()
    found = [u["name"] for u in users if u.get("active") and (u.get("email") or "").strip().lower() == wanted]
    return found[0] if len(found) == 1 else None
