"""Read queries the map shares: the register's version moves with every change, the region filter narrows."""

from __future__ import annotations

import pytest

from gis import queries
from gis.scoring import rescore
from gis.services import Register
from tests.gis.factories import site_data


@pytest.fixture
def register(engine):
    from gis.reference import load_reference

    register = Register(engine)
    load_reference(engine, register.actor())
    return register


def test_the_version_changes_with_every_edit_and_every_scoring_run(register, engine):
    admin = register.actor()
    versions = [queries.register_version(engine)]
    site = register.create_site(admin, site_data(code="KZ-PAV-0001", region_kato="550000000"))
    versions.append(queries.register_version(engine))
    register.update_site(admin, site["code"], site["version"], {"name_en": "Renamed"})
    versions.append(queries.register_version(engine))
    rescore(engine, admin)
    versions.append(queries.register_version(engine))
    assert len(set(versions)) == 4, versions
    assert queries.register_version(engine) == versions[-1]  # reading changes nothing


def test_regions_narrow_the_map_and_are_counted(register, engine):
    admin = register.actor()
    register.create_site(admin, site_data(code="KZ-PAV-0001", region_kato="550000000", lat=52.3, lon=76.9))
    register.create_site(admin, site_data(code="KZ-KAR-0001", region_kato="350000000", lat=49.8, lon=73.1))
    assert {s["code"] for s in queries.map_sites(engine, ["550000000"])} == {"KZ-PAV-0001"}
    assert len(queries.map_sites(engine)) == 2 == len(queries.map_sites(engine, []))
    counts = {r["kato"]: r["sites"] for r in queries.region_counts(engine)}
    assert counts == {"550000000": 1, "350000000": 1}
