"""Who may read which audit rows: admins all, anyone their own, a site's rows as the site itself."""

from __future__ import annotations

import pytest

from sites.errors import PermissionDenied
from sites.permissions import Actor, require_audit

PAVLODAR, SHYMKENT = "550000000", "790000000"


def actor(role: str, name: str = "u") -> Actor:
    return Actor(name, role, frozenset({PAVLODAR}) if role == "inspector" else frozenset())


@pytest.mark.parametrize("role, query, expected", [
    ("admin", {}, True),
    ("admin", {"user": "other"}, True),
    ("admin", {"site": True, "site_region": SHYMKENT}, True),
    ("viewer", {}, False),
    ("viewer", {"user": "u"}, True),
    ("viewer", {"user": "other"}, False),
    ("viewer", {"site": True, "site_region": PAVLODAR}, True),
    ("viewer", {"site": True, "site_region": None}, True),
    ("inspector", {"site": True, "site_region": SHYMKENT}, True),  # reading is not limited to their regions
    ("inspector", {"user": "u"}, True),
    ("inspector", {}, False),
    ("planner", {"user": "other"}, False),
    ("planner", {"site": True, "site_region": SHYMKENT, "user": "other"}, True),  # a subset of the site's rows
])
def test_audit_rule_table(role, query, expected):
    if expected:
        require_audit(actor(role), **query)
    else:
        with pytest.raises(PermissionDenied, match="the rest of the audit is for admins"):
            require_audit(actor(role), **query)


def test_refusals_name_what_was_asked_and_what_is_allowed():
    with pytest.raises(PermissionDenied, match=r"user vera \(viewer\) may not read the whole audit trail: "
                                               r"expected their own rows \(user vera\) or one site's history"):
        require_audit(actor("viewer", "vera"))
    with pytest.raises(PermissionDenied, match="may not read user ada's audit rows"):
        require_audit(actor("planner", "pia"), user="ada")


def test_a_deactivated_user_reads_no_audit_at_all():
    for query in ({}, {"user": "gone"}, {"site": True, "site_region": PAVLODAR}):
        with pytest.raises(PermissionDenied, match="deactivated"):
            require_audit(Actor("gone", "admin", active=False), **query)
