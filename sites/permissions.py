"""Who may do what: roles, region scopes and the actions they allow.

Besides the four roles of the register's users there is the *public*: whoever has the app open without signing
in. The public reads, but not what ``read_restricted`` guards (owners, the exact location of confidential sites;
see :mod:`sites.disclosure`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sites.errors import PermissionDenied
from sites.regions import region_of

_READ = frozenset({"read", "read_restricted"})
# What each role may do. Inspectors are further limited to the regions in their scope.
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "public": frozenset({"read"}),
    "viewer": _READ,
    "inspector": _READ | {"edit_site"},
    "planner": _READ | {"run_scoring", "manage_scenarios"},
    "admin": _READ | {"edit_site", "run_scoring", "manage_scenarios", "manage_users", "manage_layers",
                      "load_reference", "read_audit", "backup_restore"},
}

SYSTEM_USER = "system"
PUBLIC_NAME = "public"
RESERVED_NAMES = frozenset({SYSTEM_USER, PUBLIC_NAME})  # never created as accounts: see gis.services.add_user


@dataclass(frozen=True)
class Actor:
    """A signed-in user (or the system user of scripts, or the public) as the rules see them.

    ``expires_at`` (seconds since the epoch) is when an app session's actor stops being allowed anything: an
    action bound to it (a button's callback) after a long inactivity is refused as if the user had signed out.
    """

    name: str
    role: str
    regions: frozenset[str] = field(default_factory=frozenset)
    active: bool = True
    expires_at: float | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLE_ACTIONS:
            raise ValueError(f"unknown role {self.role!r}; expected one of {', '.join(ROLE_ACTIONS)}")

    @property
    def public(self) -> bool:
        """Whether this is the public (nobody signed in)."""
        return self.role == "public"


PUBLIC = Actor(PUBLIC_NAME, "public")


def _expired(actor: Actor, now: float | None) -> bool:
    return actor.expires_at is not None and (time.time() if now is None else now) >= actor.expires_at


def allowed(actor: Actor, action: str, region_kato: str | None = None, *, now: float | None = None) -> bool:
    """Return whether ``actor`` may perform ``action`` on a record in ``region_kato``."""
    if not actor.active or _expired(actor, now) or action not in ROLE_ACTIONS[actor.role]:
        return False
    if actor.role == "inspector" and action == "edit_site":
        region = region_of(region_kato)
        return region is not None and region.kato in actor.regions
    return True


def allowed_somewhere(actor: Actor, action: str, *, now: float | None = None) -> bool:
    """Whether ``actor`` may perform ``action`` in at least one region (an inspector needs a region in scope)."""
    if actor.role == "inspector" and action == "edit_site":
        return any(allowed(actor, action, kato, now=now) for kato in actor.regions)
    return allowed(actor, action, now=now)


def require(actor: Actor, action: str, region_kato: str | None = None) -> None:
    """Raise :class:`PermissionDenied` with a plain reason unless the action is allowed."""
    if allowed(actor, action, region_kato):
        return
    _refuse_role(actor, action)
    region = region_of(region_kato)
    where = region.name_en if region else "an unassigned region"
    raise PermissionDenied(
        f"inspector {actor.name} may edit sites only in their regions "
        f"({', '.join(sorted(actor.regions)) or 'none assigned'}); this site is in {where}"
    )


def require_somewhere(actor: Actor, action: str) -> None:
    """Raise :class:`PermissionDenied` unless ``actor`` may perform ``action`` in some region.

    For bulk work (imports) that is checked row by row afterwards: a user who may edit nowhere is refused before
    anything is read or stored.
    """
    if allowed_somewhere(actor, action):
        return
    _refuse_role(actor, action)
    raise PermissionDenied(f"inspector {actor.name} has no region in scope to {action.replace('_', ' ')} in; "
                           "an administrator assigns regions (sites users add NAME --region ...)")


def _refuse_role(actor: Actor, action: str) -> None:
    """Raise for the reasons that do not depend on a region: deactivated, session expired, role."""
    if not actor.active:
        raise PermissionDenied(f"user {actor.name} is deactivated")
    if _expired(actor, None):
        raise PermissionDenied(f"the session of {actor.name} expired; sign in again")
    if actor.public and action not in ROLE_ACTIONS["public"]:
        raise PermissionDenied(f"sign in to {action.replace('_', ' ')}: the public view only reads")
    if action not in ROLE_ACTIONS[actor.role]:
        raise PermissionDenied(f"user {actor.name} ({actor.role}) may not {action.replace('_', ' ')}")


def require_audit(actor: Actor, *, user: str | None = None, site: bool = False, site_region: str | None = None) -> None:
    """Raise :class:`PermissionDenied` unless ``actor`` may read the audit rows a query selects.

    Admins read (and export) the whole trail. A site's rows (``site`` named, in ``site_region``) follow the
    site's read rights. Anyone else sees only the rows they wrote themselves (``user`` is their own name). The
    public reads none: audit rows hold whole records, owners and exact locations included.
    """
    if allowed(actor, "read_audit"):
        return
    require(actor, "read_restricted", site_region if site else None)  # a site's audit is read like the site itself
    if site or user == actor.name:
        return
    asked = f"user {user}'s audit rows" if user else "the whole audit trail"
    raise PermissionDenied(
        f"user {actor.name} ({actor.role}) may not read {asked}: expected their own rows (user {actor.name}) "
        "or one site's history; the rest of the audit is for admins"
    )
