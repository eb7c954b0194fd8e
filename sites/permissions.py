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
    "admin": frozenset({"read", "edit_site", "run_scoring", "manage_scenarios", "manage_users", "manage_layers", "load_reference"}),
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
