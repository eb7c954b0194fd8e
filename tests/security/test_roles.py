"""Every principal (the public, each role, an inspector in and out of the site's region, a deactivated admin) against
every service action that changes data or reads beyond the public view: allowed, or refused with PermissionDenied
and the database, the files folder and the output folder exactly as before.

Permissions are enforced by the services (``sites.permissions.require``), not by which pages the app shows; these
tests call the services directly. Imports check each row's region: an import whose every row is refused for its
region counts as refused here (the services report such rows rather than raise).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest
from sqlalchemy import text

from gis import layer_import, odk, programme, site_import, whatif
from gis.audit import AuditFilter, list_audit
from gis.backup import backup, restore
from gis.inspections import add_inspection, attach
from gis.layers import Feature, replace_receptor_layer
from gis.queries import map_sites
from gis.reference import load_reference
from gis.scoring import rescore
from gis.services import Register
from sites.errors import PermissionDenied
from tests.gis.factories import site_data
from tests.gis.test_odk import mercury_sludge, write_export
from tests.security.conftest import PASSWORD, PRINCIPALS, World

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


# ---- the actions ------------------------------------------------------------------------------------------------
def _imported(report) -> None:
    """An import that stored nothing because every row's region was refused is a refusal."""
    if report.imported == 0 and "not permitted in this region" in report.reasons:
        raise PermissionDenied(report.rejections[0].reason)
    assert report.imported > 0 and report.rejected == 0, report.to_json()


def _site_version(w: World) -> int:
    return Register(w.engine).get_site(w.own_site)["version"]


def create_site(w, actor):
    Register(w.engine).create_site(actor, site_data(name_en="New store", lat=52.5, lon=77.2))


def update_site(w, actor):
    Register(w.engine).update_site(actor, w.own_site, _site_version(w), {"stage": "registered"})


def archive_site(w, actor):
    Register(w.engine).archive_site(actor, w.own_site, _site_version(w))


def add_contaminant(w, actor):
    Register(w.engine).add_contaminant(actor, w.own_site, {"contaminant": "pb", "medium": "soil",
                                                             "status": "suspected"})


def add_sample(w, actor):
    Register(w.engine).add_sample(actor, w.own_site, {"contaminant": "hg", "medium": "soil", "value": "1,5",
                                                      "unit": "mg/kg"})


def add_an_inspection(w, actor):
    add_inspection(w.engine, actor, w.own_site, {"inspected_on": "2025-05-14", "condition": "poor"},
                   files_dir=w.files)


def attach_a_document(w, actor):
    attach(w.engine, actor, w.own_site, "report.pdf", PDF, files_dir=w.files)


def import_sites(w, actor):
    path = w.out.parent / "sites.csv"
    path.write_text("name,lat,lon,activity,location_precision\nImported store,52.61,77.31,pesticide_store,"
                    "approximate\n", encoding="utf-8")
    _imported(site_import.import_file(w.engine, actor, path))


def import_samples(w, actor):
    path = w.out.parent / "lab.csv"
    path.write_text(f"site code,contaminant,medium,value,unit\n{w.own_site},hg,soil,0.7,mg/kg\n", encoding="utf-8")
    _imported(site_import.import_file(w.engine, actor, path))


def import_field_export(w, actor):
    path = write_export(w.out.parent / "odk.zip", [mercury_sludge()])
    _imported(odk.import_export(w.engine, actor, path, files_dir=w.files))


def import_a_layer(w, actor):
    path = w.out.parent / "wells.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Well 1"}, "geometry": {"type": "Point",
                                                                          "coordinates": [76.9, 52.3]}}]}))
    layer_import.import_layer(w.engine, actor, path, "well", name_field="name", source="tests", licence="none")


def replace_a_layer(w, actor):
    replace_receptor_layer(w.engine, actor, "school", "test schools", "tests", "none", [
        Feature("School 1", None, __import__("shapely").geometry.Point(76.96, 52.28))])


def load_the_catalogue(w, actor):
    load_reference(w.engine, actor)


def run_scoring(w, actor):
    rescore(w.engine, actor)


def what_if(w, actor):
    whatif.compare(w.engine, {"children_weight": 2.0}, actor=actor)


def rank_stability(w, actor):
    whatif.stability(w.engine, draws=5, top=2, actor=actor)


def plan_a_programme(w, actor):
    programme.programme(w.engine, "5000000000", actor=actor)


def add_a_user(w, actor):
    Register(w.engine).add_user(actor, "newcomer", "viewer", password="a brand new password 1")


def change_a_password(w, actor):
    Register(w.engine).set_password(actor, PRINCIPALS["viewer"][0], "another long password 2")


def deactivate_a_user(w, actor):
    Register(w.engine).set_active(actor, PRINCIPALS["viewer"][0], False)


def back_up(w, actor):
    backup(w.engine, w.out / "backup.tar", w.files, actor=actor)


def restore_a_backup(w, actor):
    restore(w.engine, w.backup, w.files, actor=actor, replace=True)


def read_the_whole_audit(w, actor):
    list_audit(w.engine, actor, AuditFilter())


EDITORS = {"inspector-own-region", "admin"}
PLANNERS = {"planner", "admin"}
ADMINS = {"admin"}
# action -> (what it does, who may, whether an allowed run changes the register or its folders)
ACTIONS: dict[str, tuple[Callable, set[str], bool]] = {
    "site.create": (create_site, EDITORS, True),
    "site.update": (update_site, EDITORS, True),
    "site.archive": (archive_site, EDITORS, True),
    "site.add_contaminant": (add_contaminant, EDITORS, True),
    "site.add_sample": (add_sample, EDITORS, True),
    "inspection.add": (add_an_inspection, EDITORS, True),
    "attachment.add": (attach_a_document, EDITORS, True),
    "import.sites": (import_sites, EDITORS, True),
    "import.samples": (import_samples, EDITORS, True),
    "import.odk": (import_field_export, EDITORS, True),
    "layers.import": (import_a_layer, ADMINS, True),
    "layers.replace": (replace_a_layer, ADMINS, True),
    "reference.load": (load_the_catalogue, ADMINS, True),
    "scoring.run": (run_scoring, PLANNERS, True),
    "scenario.whatif": (what_if, PLANNERS, False),
    "scenario.stability": (rank_stability, PLANNERS, False),
    "scenario.programme": (plan_a_programme, PLANNERS, False),
    "users.add": (add_a_user, ADMINS, True),
    "users.passwd": (change_a_password, ADMINS, True),
    "users.deactivate": (deactivate_a_user, ADMINS, True),
    "backup": (back_up, ADMINS, True),  # the file appears in the output folder
    "restore": (restore_a_backup, ADMINS, False),  # the seed's own backup: the same rows come back
    "audit.read_all": (read_the_whole_audit, ADMINS, False),
}


# ---- what "changed nothing" means -------------------------------------------------------------------------------
def snapshot(w: World) -> dict:
    """Every table's row count and a digest of its rows, and every file under the files and output folders."""
    with w.engine.connect() as conn:
        names = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                  "AND tablename <> 'spatial_ref_sys' ORDER BY tablename")).scalars().all()
        quote = conn.dialect.identifier_preparer.quote
        tables = {name: tuple(conn.execute(text(
            f"SELECT count(*), md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) FROM {quote(name)} r"
        )).one()) for name in names}
    files = sorted(str(p.relative_to(w.out.parent)) for folder in (w.files, w.out) for p in folder.rglob("*"))
    return {"tables": tables, "files": files}


def changed(before: dict, after: dict) -> list[str]:
    names = [name for name in before["tables"] if before["tables"][name] != after["tables"].get(name)]
    return names + (["files"] if before["files"] != after["files"] else [])


@pytest.mark.parametrize("principal", list(PRINCIPALS))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_principal_is_allowed_or_refused_each_action(world, principal, action):
    perform, allowed_for, writes = ACTIONS[action]
    actor = world.actor(principal)
    before = snapshot(world)
    if principal in allowed_for:
        perform(world, actor)
        assert bool(changed(before, snapshot(world))) == writes, changed(before, snapshot(world))
        return
    with pytest.raises(PermissionDenied):
        perform(world, actor)
    assert changed(before, snapshot(world)) == [], f"{principal} was refused {action} but the register changed"


def test_the_matrix_names_every_principal_and_no_role_does_everything():
    assert set(PRINCIPALS) == {"public", "viewer", "inspector-own-region", "inspector-other-region", "planner",
                               "admin", "deactivated-admin"}
    for principal in PRINCIPALS:
        if principal != "admin":
            assert any(principal not in who for _, who, _ in ACTIONS.values()), principal


@pytest.mark.parametrize("principal", list(PRINCIPALS))
def test_everyone_reads_the_map_and_only_signed_in_users_see_the_exact_place(world, principal):
    actor = world.actor(principal)
    rows = {row["code"]: row for row in map_sites(world.engine, actor=actor)}
    assert set(rows) >= {world.own_site, world.other_site}
    exact = (rows[world.own_site]["lat"], rows[world.own_site]["lon"]) == (52.2871, 76.9674)
    assert exact is (principal not in ("public", "deactivated-admin"))


def test_the_seed_users_sign_in_with_the_known_password(world):
    from gis.auth import authenticate

    assert authenticate(world.engine, PRINCIPALS["planner"][0], PASSWORD).role == "planner"


def test_refusals_say_why_in_words(world):
    with pytest.raises(PermissionDenied, match="sign in to edit site"):
        create_site(world, world.actor("public"))
    with pytest.raises(PermissionDenied, match="may edit sites only in their regions"):
        update_site(world, world.actor("inspector-other-region"))
    with pytest.raises(PermissionDenied, match="deactivated"):
        run_scoring(world, world.actor("deactivated-admin"))
    with pytest.raises(PermissionDenied, match=r"viewer\) may not manage scenarios"):
        what_if(world, world.actor("viewer"))


def test_a_user_who_may_edit_nowhere_is_refused_before_an_import_reads_the_file(world, tmp_path):
    missing = Path(tmp_path / "does-not-exist.csv")
    with pytest.raises(PermissionDenied, match="planner\\) may not edit site"):
        site_import.import_file(world.engine, world.actor("planner"), missing)
