"""Sign-in to the register: salted argon2id password hashes, lockout after repeated failures, sessions, single sign-on.

Passwords are stored only as argon2id hashes (argon2-cffi's defaults, RFC 9106's low-memory profile: 3 passes over
64 MiB, a random 16-byte salt per hash, so the same password never gives the same hash twice). A sign-in that
succeeds with a hash made under other parameters stores a new hash under the current ones.

Every refused sign-in raises the same :class:`~sites.errors.SignInRefused` and costs one hash verification,
whatever the reason (unknown user, wrong password, locked, deactivated, no password set), so neither the message
nor the time tells whether a user exists. ``sites.accounts`` holds the rules (lengths, lockout, session expiry).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any, Mapping

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, select, update

from gis import tables as t
from sites.accounts import MAX_PASSWORD_LENGTH, SIGN_IN_REFUSED, after_failure, is_locked, user_for_claims
from sites.errors import SignInRefused
from sites.permissions import RESERVED_NAMES, Actor

HASHER = PasswordHasher()  # argon2id; change parameters here and stored hashes follow at their next sign-in


def hash_password(password: str, hasher: PasswordHasher = HASHER) -> str:
    """A salted argon2id hash of ``password`` (PHC string: algorithm, parameters, salt and hash)."""
    return hasher.hash(password)


def verify_password(stored: str | None, password: str, hasher: PasswordHasher = HASHER) -> bool:
    """Whether ``password`` matches the ``stored`` hash; with no usable hash, verify against a decoy and say no.

    The decoy costs what a real verification costs, so a missing account answers as slowly as a wrong password.
    """
    try:
        return hasher.verify(stored or _decoy(hasher), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=4)
def _decoy(hasher: PasswordHasher) -> str:
    return hasher.hash("a password nobody signs in with")


def authenticate(engine: Engine, name: str, password: str, *, now: dt.datetime | None = None,
                 hasher: PasswordHasher = HASHER) -> Actor:
    """The user ``name`` as an :class:`Actor` if ``password`` is theirs and the account may sign in.

    A wrong password counts towards the lockout (``sites.accounts.MAX_FAILURES`` in a row lock the account for
    ``LOCK_MINUTES``); a right one resets the count. While locked, even the right password is refused.

    Raises
    ------
    SignInRefused
        For every refusal, with the same message.
    """
    now = now or dt.datetime.now(dt.timezone.utc)
    given = password if isinstance(password, str) and len(password) <= MAX_PASSWORD_LENGTH else ""
    with engine.begin() as conn:
        # The row stays locked until the attempt is counted: parallel guesses cannot slip past the lockout.
        query = select(t.app_user).where(t.app_user.c.name == str(name)).with_for_update()
        row = conn.execute(query).mappings().first()
        stored = row["password_hash"] if row is not None and str(name) not in RESERVED_NAMES else None
        matches = verify_password(stored if given else None, given, hasher)  # always one verification
        if row is None or stored is None or not row["active"] or is_locked(row["locked_until"], now):
            raise SignInRefused(SIGN_IN_REFUSED)  # nothing counted: no account, or one that cannot sign in now
        if matches:
            conn.execute(update(t.app_user).where(t.app_user.c.id == row["id"])
                         .values(failed_logins=0, locked_until=None, **_rehashed(stored, given, hasher)))
            return Actor(row["name"], row["role"], frozenset(row["regions"]), row["active"])
        failed, locked_until = after_failure(row["failed_logins"], now)
        conn.execute(update(t.app_user).where(t.app_user.c.id == row["id"])
                     .values(failed_logins=failed, locked_until=locked_until))
    raise SignInRefused(SIGN_IN_REFUSED)


def _rehashed(stored: str, password: str, hasher: PasswordHasher) -> dict[str, str]:
    """``{"password_hash": new}`` when ``stored`` was made with other parameters than ``hasher``'s, else nothing."""
    return {"password_hash": hasher.hash(password)} if hasher.check_needs_rehash(stored) else {}


def session_account(engine: Engine, name: str) -> dict[str, Any] | None:
    """What a running session needs to know of its account: role, regions, active, when the password changed."""
    columns = (t.app_user.c.name, t.app_user.c.role, t.app_user.c.regions, t.app_user.c.active,
               t.app_user.c.password_changed_at)
    with engine.connect() as conn:
        row = conn.execute(select(*columns).where(t.app_user.c.name == name)).mappings().first()
    return dict(row) if row is not None else None


def oidc_actor(engine: Engine, claims: Mapping[str, Any], claim: str = "email") -> Actor | None:
    """The register user a single sign-on identity names (see :func:`sites.accounts.user_for_claims`), or None.

    Only existing, active users with the same ``email`` sign in this way; no account is created and the role is
    the register's, never a claim's.
    """
    columns = (t.app_user.c.name, t.app_user.c.email, t.app_user.c.active)
    with engine.connect() as conn:
        users = [dict(r) for r in conn.execute(select(*columns).where(t.app_user.c.email.isnot(None))).mappings()]
        name = user_for_claims(claims, [u for u in users if u["name"] not in RESERVED_NAMES], claim)
        if name is None:
            return None
        row = conn.execute(select(t.app_user).where(t.app_user.c.name == name)).mappings().one()
    return Actor(row["name"], row["role"], frozenset(row["regions"]), row["active"])
