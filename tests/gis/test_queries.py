"""Read queries the map shares: the register's version moves with every change, the region filter narrows."""

from __future__ import annotations

import pytest

from gis import maps, queries
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


def test_names_follow_the_readers_language_with_a_fallback(register, engine):
    admin = register.actor()
    register.create_site(admin, site_data(code="KZ-PAV-0001", region_kato="550000000", name_en="Chlor-alkali plant",
                                          name_ru="Хлорный завод", name_kk="Хлор зауыты"))
    register.create_site(admin, site_data(code="KZ-PAV-0002", region_kato="550000000", lat=52.4, lon=77.1,
                                          name_en="Ash dump", name_ru="Золоотвал", name_kk=None))
    names = {lang: {s["code"]: (s["name"], s["region"]) for s in queries.map_sites(engine, lang=lang)}
             for lang in ("kk", "ru", "en")}
    # regions stay English in the rows (pages key filters by them) and are named on the map itself
    assert names["kk"] == {"KZ-PAV-0001": ("Хлор зауыты", "Pavlodar"), "KZ-PAV-0002": ("Золоотвал", "Pavlodar")}
    assert names["ru"]["KZ-PAV-0001"] == ("Хлорный завод", "Pavlodar")
    assert names["en"]["KZ-PAV-0002"] == ("Ash dump", "Pavlodar")
    html = maps.site_map(queries.map_sites(engine, lang="kk"), lang="kk").get_root().render()
    assert "Павлодар" in html and "Pavlodar" not in html and "Хлор зауыты" in html
    assert {r["name"] for r in queries.region_counts(engine, "kk")} == {"Павлодар"}
