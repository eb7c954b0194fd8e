"""Who may do what: roles, region scopes and the actions they allow."""

from __future__ import annotations

from dataclasses import dataclass, field

from sites.errors import PermissionDenied
from sites.regions import region_of

# What each role may do. Inspectors are further limited to the regions in their scope.
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"read"}),
    "inspector": frozenset({"read", "edit_site"}),
    "planner": frozenset({"read", "run_scoring", "manage_scenarios"}),
    "admin": frozenset({"read", "edit_site", "run_scoring", "manage_scenarios", "manage_users", "manage_layers",
                        "load_reference", "read_audit"}),
}

SYSTEM_USER = "system"


@dataclass(frozen=True)
class Actor:
    """A signed-in user (or the system user of scripts) as the rules see them."""

    name: str
    role: str
    regions: frozenset[str] = field(default_factory=frozenset)
    active: bool = True

    def __post_init__(self) -> None:
        if self.role not in ROLE_ACTIONS:
            raise ValueError(f"unknown role {self.role!r}; expected one of {', '.join(ROLE_ACTIONS)}")


def allowed(actor: Actor, action: str, region_kato: str | None = None) -> bool:
    """Return whether ``actor`` may perform ``action`` on a record in ``region_kato``."""
    if not actor.active or action not in ROLE_ACTIONS[actor.role]:
        return False
    if actor.role == "inspector" and action == "edit_site":
        region = region_of(region_kato)
        return region is not None and region.kato in actor.regions
    return True


def require(actor: Actor, action: str, region_kato: str | None = None) -> None:
    """Raise :class:`PermissionDenied` with a plain reason unless the action is allowed."""
    if allowed(actor, action, region_kato):
        return
    if not actor.active:
        raise PermissionDenied(f"user {actor.name} is deactivated")
    if action not in ROLE_ACTIONS[actor.role]:
        raise PermissionDenied(f"user {actor.name} ({actor.role}) may not {action.replace('_', ' ')}")
    region = region_of(region_kato)
    where = region.name_en if region else "an unassigned region"
    raise PermissionDenied(
        f"inspector {actor.name} may edit sites only in their regions "
        f"({', '.join(sorted(actor.regions)) or 'none assigned'}); this site is in {where}"
    )


def require_audit(actor: Actor, *, user: str | None = None, site: bool = False, site_region: str | None = None) -> None:
    """Raise :class:`PermissionDenied` unless ``actor`` may read the audit rows a query selects.

    Admins read (and export) the whole trail. A site's rows (``site`` named, in ``site_region``) follow the
    site's read rights. Anyone else sees only the rows they wrote themselves (``user`` is their own name).
    """
    if allowed(actor, "read_audit"):
        return
    require(actor, "read", site_region if site else None)  # a site's audit is read like the site itself
    if site or user == actor.name:
        return
    asked = f"user {user}'s audit rows" if user else "the whole audit trail"
    raise PermissionDenied(
        f"user {actor.name} ({actor.role}) may not read {asked}: expected their own rows (user {actor.name}) "
        "or one site's history; the rest of the audit is for admins"
    )
