"""The service layer against a real PostGIS: permissions, optimistic locking, audit, refusals."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from gis import tables as t
from gis.services import Register
from sites.errors import InvalidInput, NotFound, PermissionDenied, StaleWrite
from tests.gis.factories import site_data


@pytest.fixture
def register(engine):
    register = Register(engine)
    from gis.reference import load_reference

    load_reference(engine, register.actor())
    return register


@pytest.fixture
def admin(register):
    return register.actor()


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {name: conn.execute(select(func.count()).select_from(table)).scalar()
                for name, table in [("site", t.site), ("audit", t.audit), ("sample", t.sample),
                                    ("site_contaminant", t.site_contaminant)]}


def test_create_site_assigns_code_version_hash_and_audits(register, admin, engine):
    site = register.create_site(admin, site_data())
    assert site["code"] == "KZ-PAV-0001"
    assert site["version"] == 1 and len(site["geom_sha256"]) == 64
    second = register.create_site(admin, site_data(name_en="Second"))
    assert second["code"] == "KZ-PAV-0002"
    history = register.history("KZ-PAV-0001")
    assert [h["action"] for h in history] == ["insert"]
    assert history[0]["actor"] == "system" and history[0]["after"]["name_en"] == "Test chlor-alkali plant"


def test_update_bumps_version_and_records_before_and_after(register, admin):
    site = register.create_site(admin, site_data())
    updated = register.update_site(admin, site["code"], 1, {"stage": "investigated"})
    assert updated["version"] == 2 and updated["stage"] == "investigated"
    last = register.history(site["code"])[-1]
    assert last["action"] == "update"
    assert last["before"]["stage"] == "suspected" and last["after"]["stage"] == "investigated"


def test_stale_update_is_refused_with_the_difference_and_changes_nothing(register, admin, engine):
    site = register.create_site(admin, site_data())
    register.update_site(admin, site["code"], 1, {"stage": "investigated"})
    before = counts(engine)
    with pytest.raises(StaleWrite) as refused:
        register.update_site(admin, site["code"], 1, {"name_en": "Overwritten"})
    assert "version 1" in refused.value.message and "version 2" in refused.value.message
    assert refused.value.changed["stage"] == ("suspected", "investigated")
    stored = register.get_site(site["code"])
    assert stored["name_en"] == "Test chlor-alkali plant" and stored["version"] == 2
    assert counts(engine) == before


def test_geometry_change_changes_the_hash(register, admin):
    site = register.create_site(admin, site_data())
    moved = register.update_site(admin, site["code"], 1, {"lat": 52.3})
    assert moved["geom_sha256"] != site["geom_sha256"]
    same = register.update_site(admin, site["code"], 2, {"stage": "registered"})
    assert same["geom_sha256"] == moved["geom_sha256"]


def test_inspector_edits_only_in_their_region(register, admin, engine):
    pavlodar = register.create_site(admin, site_data())
    shymkent = register.create_site(admin, site_data(lat=42.31, lon=69.6, region_kato="790000000"))
    inspector = register.add_user(admin, "aigerim", "inspector", ["KZ-PAV"])
    register.update_site(inspector, pavlodar["code"], 1, {"stage": "registered"})
    before = counts(engine)
    with pytest.raises(PermissionDenied, match="only in their regions"):
        register.update_site(inspector, shymkent["code"], 1, {"stage": "registered"})
    with pytest.raises(PermissionDenied):
        register.create_site(inspector, site_data(lat=42.31, lon=69.6, region_kato="790000000"))
    with pytest.raises(PermissionDenied):  # moving a site out of the inspector's region is an edit there too
        register.update_site(inspector, pavlodar["code"], 2, {"region_kato": "790000000"})
    assert counts(engine) == before
    assert register.get_site(shymkent["code"])["version"] == 1


@pytest.mark.parametrize("role", ["viewer", "planner"])
def test_viewers_and_planners_cannot_edit_sites(register, admin, role):
    site = register.create_site(admin, site_data())
    user = register.add_user(admin, f"u_{role}", role)
    with pytest.raises(PermissionDenied, match=role):
        register.update_site(user, site["code"], 1, {"stage": "registered"})


def test_archive_hides_from_layer_and_restore_brings_back(register, admin, engine):
    site = register.create_site(admin, site_data())
    register.archive_site(admin, site["code"], 1)
    assert register.site_codes() == [] and register.site_codes(include_archived=True) == [site["code"]]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.sites_view)).scalar() == 0
    restored = register.archive_site(admin, site["code"], 2, archived=False)
    assert restored["archived"] is False and restored["version"] == 3
    assert [h["action"] for h in register.history(site["code"])] == ["insert", "archive", "restore"]


@pytest.mark.parametrize("overrides, field, received", [
    ({"lat": 95}, "lat", 95),
    ({"lon": "east"}, "lon", "east"),
    ({"lat": 77.0, "lon": 52.0}, "lat/lon", (77.0, 52.0)),
    ({"activity": "brewery"}, "activity", "brewery"),
    ({"stage": "done"}, "stage", "done"),
    ({"area_ha": -3}, "area_ha", -3),
    ({"footprint": "POLYGON((76 52, 77 53, 77 52, 76 53, 76 52))"}, "footprint", None),
    ({"location_precision": None}, "location_precision", None),
    ({"region_kato": "990000000"}, "region_kato", "990000000"),
])
def test_bad_input_names_field_and_value_and_writes_nothing(register, admin, engine, overrides, field, received):
    before = counts(engine)
    with pytest.raises(InvalidInput) as refused:
        register.create_site(admin, site_data(**overrides))
    assert refused.value.field == field
    if received is not None:
        assert refused.value.received == received
    assert field in refused.value.message
    assert counts(engine) == before


def test_missing_name_is_refused(register, admin):
    with pytest.raises(InvalidInput, match="name"):
        register.create_site(admin, site_data(name_en=None))


def test_site_with_contaminants_and_samples_is_all_or_nothing(register, admin, engine):
    good = {"contaminant": "hg", "medium": "soil", "status": "confirmed"}
    sample = {"contaminant": "hg", "medium": "soil", "value": 2400, "unit": "ug/kg"}
    site = register.create_site(admin, site_data(), [good], [sample])
    with engine.connect() as conn:
        stored = conn.execute(select(t.sample.c.value_canonical, t.sample.c.unit_canonical)).one()
    assert stored == (2.4, "mg/kg")
    before = counts(engine)
    unknown = {"contaminant": "unobtainium", "medium": "soil"}
    with pytest.raises(InvalidInput) as refused:
        register.create_site(admin, site_data(name_en="Other"), [good, unknown])
    assert refused.value.field == "contaminant" and refused.value.received == "unobtainium"
    assert counts(engine) == before
    assert register.site_codes() == [site["code"]]


def test_sample_unit_must_fit_the_medium(register, admin, engine):
    site = register.create_site(admin, site_data())
    before = counts(engine)
    with pytest.raises(InvalidInput, match="unit for groundwater"):
        register.add_sample(admin, site["code"], {"contaminant": "hg", "medium": "groundwater", "value": 3, "unit": "mg/kg"})
    with pytest.raises(InvalidInput, match="value"):
        register.add_sample(admin, site["code"], {"contaminant": "hg", "medium": "soil", "value": -1, "unit": "mg/kg"})
    assert counts(engine) == before


def test_unknown_user_and_site_are_reported(register, admin):
    with pytest.raises(NotFound, match="nobody"):
        register.actor("nobody")
    with pytest.raises(NotFound, match="KZ-PAV-9999"):
        register.update_site(admin, "KZ-PAV-9999", 1, {"stage": "registered"})


def test_region_comes_from_loaded_boundaries(register, admin, engine):
    from sqlalchemy import insert

    with engine.begin() as conn:
        conn.execute(insert(t.boundary).values(
            level="region", kato="550000000", name_en="Pavlodar", source="test square",
            geom="SRID=4326;MULTIPOLYGON(((75 51, 79 51, 79 54, 75 54, 75 51)))"))
    site = register.create_site(admin, site_data(region_kato=None))
    assert site["region_kato"] == "550000000"


def test_history_includes_the_sites_samples_contaminants_inspections_and_files(engine):
    from gis.inspections import add_inspection
    from gis.reference import load_reference

    register = Register(engine, rescore_on_write=False)
    admin = register.actor()
    load_reference(engine, admin)
    site = register.create_site(admin, site_data())
    other = register.create_site(admin, site_data(name_en="Another plant", lat=52.0, lon=77.5))
    register.add_contaminant(admin, site["code"], {"contaminant": "hg", "medium": "soil", "status": "confirmed"})
    register.add_sample(admin, site["code"], {"contaminant": "hg", "medium": "soil", "value": "3,5", "unit": "mg/kg"})
    register.add_sample(admin, other["code"], {"contaminant": "hg", "medium": "soil", "value": 1, "unit": "mg/kg"})
    add_inspection(engine, admin, site["code"], {"inspected_on": "2026-06-01", "condition": "poor"})
    entries = [(e["action"], e["entity"]) for e in register.history(site["code"])]
    assert entries == [("insert", "site"), ("insert", "site_contaminant"), ("insert", "sample"),
                       ("insert", "inspection")]


def test_a_taken_top_code_does_not_block_the_series(register, admin, engine):
    register.create_site(admin, site_data(code="KZ-PAV-9999", region_kato="550000000"))
    register.create_site(admin, site_data(code="KZ-PAV-0001", region_kato="550000000", lat=52.3, lon=76.95))
    nxt = register.create_site(admin, site_data(region_kato="550000000", lat=52.4, lon=77.1))
    assert nxt["code"] == "KZ-PAV-0002"


def test_a_refused_user_row_is_not_echoed_in_the_error(register, admin, engine):
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    from gis.errors import translate_integrity_error

    register.add_user(admin, "erin", "viewer", password="a long enough password for the test")
    with pytest.raises(IntegrityError) as raised, engine.begin() as conn:
        conn.execute(update(t.app_user).where(t.app_user.c.name == "erin").values(failed_logins=-1))
    error = translate_integrity_error(raised.value)
    assert "argon2" not in str(error) and "erin" not in str(error)
    assert "failed_logins" in str(error)
