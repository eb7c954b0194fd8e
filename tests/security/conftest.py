"""A small register every security test starts from: a copy per test of one seeded database.

The seed holds the catalogue, a Pavlodar region boundary (so that imported points get their region), a settlement
layer, three scored sites (one in Pavlodar flagged confidential, with an owner), and one user per role and scope,
each with a known password (test accounts only), plus a deactivated administrator. A backup of the seed is made
once, for the restore action.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from shapely.geometry import Point
from sqlalchemy import Engine, text

from gis.backup import backup
from gis.db import make_engine
from gis.layers import Feature, replace_receptor_layer
from gis.reference import load_reference
from gis.scoring import rescore
from gis.services import Register
from sites.permissions import PUBLIC, SYSTEM_USER, Actor
from tests.conftest import app_url, drop_database, new_database
from tests.gis.factories import site_data

PASSWORD = "known only to the tests 42"
PAVLODAR, KARAGANDY = "550000000", "350000000"
# principal -> (user name, role, regions, active); the public is nobody's account.
PRINCIPALS = {
    "public": None,
    "viewer": ("vera", "viewer", [], True),
    "inspector-own-region": ("ivan", "inspector", ["KZ-PAV"], True),
    "inspector-other-region": ("olga", "inspector", ["KZ-KAR"], True),
    "planner": ("pia", "planner", [], True),
    "admin": ("ada", "admin", [], True),
    "deactivated-admin": ("dan", "admin", [], False),
}
SYSTEM = Actor(SYSTEM_USER, "admin")


@dataclass
class World:
    """One test's copy of the seed: its engine, folders and the seed's site codes."""

    engine: Engine
    files: Path
    out: Path
    backup: Path
    own_site: str  # Pavlodar, confidential, with an owner
    other_site: str  # Karagandy

    def actor(self, principal: str) -> Actor:
        if principal == "public":
            return PUBLIC
        return Register(self.engine).actor(PRINCIPALS[principal][0])


@pytest.fixture(scope="session")
def seeded(template_database, tmp_path_factory):
    """The seed database's name, a backup of it and its site codes."""
    name = new_database(template_database)
    engine = make_engine(app_url(name))
    try:
        codes = _seed(engine)
        archive = tmp_path_factory.mktemp("seed-backup") / "seed.tar"
        backup(engine, archive, tmp_path_factory.mktemp("seed-files"), actor=SYSTEM)
    finally:
        engine.dispose()
    yield name, archive, codes
    drop_database(name)


def _seed(engine) -> tuple[str, str]:
    register = Register(engine, rescore_on_write=False)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO boundary (level, kato, name_en, geom, source) VALUES "
                          "('region', :kato, 'Pavlodar', ST_Multi(ST_MakeEnvelope(73, 50.5, 79, 54.5, 4326)), "
                          "'test box')"), {"kato": PAVLODAR})
    load_reference(engine, SYSTEM)
    replace_receptor_layer(engine, SYSTEM, "settlement", "test towns", "tests", "none", [
        Feature("Pavlodar", 330_000, Point(76.95, 52.29)), Feature("Karaganda", 500_000, Point(73.1, 49.8))])
    own = register.create_site(SYSTEM, site_data(confidential=True, operator="Khimprom JSC", owner_status="private",
                                                 location_note="behind the east gate", lat=52.2871, lon=76.9674),
                               [{"contaminant": "hg", "medium": "soil", "status": "confirmed"}],
                               [{"contaminant": "hg", "medium": "soil", "value": "3.2", "unit": "mg/kg"}])
    register.create_site(SYSTEM, site_data(name_en="Public ash dump", lat=52.21, lon=77.01, activity="energy_ash"))
    other = register.create_site(SYSTEM, site_data(name_en="Temirtau sludge", lat=50.06, lon=72.96,
                                                   region_kato=KARAGANDY))
    rescore(engine, SYSTEM)
    for user in filter(None, PRINCIPALS.values()):
        name, role, regions, active = user
        register.add_user(SYSTEM, name, role, regions, password=PASSWORD, email=f"{name}@example.kz")
        if not active:
            register.set_active(SYSTEM, name, False)
    return own["code"], other["code"]


@pytest.fixture
def world(seeded, tmp_path):
    """A fresh copy of the seed for one test; dropped afterwards."""
    seed, archive, (own, other) = seeded
    name = new_database(seed)
    engine = make_engine(app_url(name))
    (tmp_path / "files").mkdir()
    (tmp_path / "out").mkdir()
    yield World(engine, tmp_path / "files", tmp_path / "out", archive, own, other)
    engine.dispose()
    drop_database(name)
