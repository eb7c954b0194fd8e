"""Permission rules: roles, region scopes, deactivated users."""

from __future__ import annotations

import pytest

from sites.errors import PermissionDenied
from sites.permissions import Actor, allowed, require

PAVLODAR, SHYMKENT = "550000000", "790000000"


@pytest.mark.parametrize("role, action, region, expected", [
    ("viewer", "read", PAVLODAR, True),
    ("viewer", "edit_site", PAVLODAR, False),
    ("inspector", "edit_site", PAVLODAR, True),
    ("inspector", "edit_site", "551010000", True),  # a district inside Pavlodar region
    ("inspector", "edit_site", SHYMKENT, False),
    ("inspector", "edit_site", None, False),
    ("inspector", "run_scoring", PAVLODAR, False),
    ("planner", "run_scoring", None, True),
    ("planner", "edit_site", PAVLODAR, False),
    ("admin", "edit_site", SHYMKENT, True),
    ("admin", "manage_users", None, True),
])
def test_role_table(role, action, region, expected):
    actor = Actor("u", role, frozenset({PAVLODAR}) if role == "inspector" else frozenset())
    assert allowed(actor, action, region) is expected


def test_refusals_say_why():
    inspector = Actor("aigerim", "inspector", frozenset({PAVLODAR}))
    with pytest.raises(PermissionDenied, match="only in their regions.*Shymkent"):
        require(inspector, "edit_site", SHYMKENT)
    with pytest.raises(PermissionDenied, match="viewer"):
        require(Actor("v", "viewer"), "edit_site", PAVLODAR)
    with pytest.raises(PermissionDenied, match="deactivated"):
        require(Actor("gone", "admin", active=False), "read")


def test_unknown_role_is_refused():
    with pytest.raises(ValueError, match="unknown role"):
        Actor("x", "superuser")


@pytest.mark.parametrize("action", ["edit_site", "run_scoring", "manage_scenarios", "manage_users", "manage_layers",
                                    "load_reference", "read_audit", "backup_restore", "read_restricted"])
def test_the_public_reads_and_nothing_else(action):
    from sites.permissions import PUBLIC

    assert allowed(PUBLIC, "read") and PUBLIC.public
    assert not allowed(PUBLIC, action, PAVLODAR)
    with pytest.raises(PermissionDenied, match="sign in to|may not"):
        require(PUBLIC, action, PAVLODAR)


@pytest.mark.parametrize("role", ["viewer", "inspector", "planner", "admin"])
def test_every_signed_in_role_reads_owners_and_exact_places(role):
    assert allowed(Actor("u", role, frozenset({PAVLODAR})), "read_restricted")
    assert not allowed(Actor("u", role, active=False), "read_restricted")


def test_an_inspector_without_regions_may_edit_nowhere():
    from sites.permissions import allowed_somewhere, require_somewhere

    assert allowed_somewhere(Actor("i", "inspector", frozenset({PAVLODAR})), "edit_site")
    assert not allowed_somewhere(Actor("i", "inspector"), "edit_site")
    with pytest.raises(PermissionDenied, match="no region in scope"):
        require_somewhere(Actor("i", "inspector"), "edit_site")
    with pytest.raises(PermissionDenied, match="planner\\) may not edit site"):
        require_somewhere(Actor("p", "planner"), "edit_site")


def test_an_actor_past_its_expiry_is_refused_with_the_reason():
    actor = Actor("ada", "admin", expires_at=1000.0)
    assert allowed(actor, "manage_users", now=999.0) and not allowed(actor, "manage_users", now=1000.0)
    with pytest.raises(PermissionDenied, match="session of ada expired"):
        require(actor, "read")
