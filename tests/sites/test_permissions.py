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
