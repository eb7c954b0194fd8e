"""The public view (nobody signed in): no owner data, and confidential sites only on a 0.1 degree grid, in the map
query, the ranking and every export made for the public; signed-in users see everything."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from gis.cli import main
from gis.export import export_sites, sites_frame
from gis.html_export import export_html
from gis.public import frame_for
from gis.queries import map_sites, site_points
from gis.scoring import ranking
from sites.disclosure import generalise, public_site
from sites.permissions import PUBLIC
from tests.security.conftest import World

EXACT = (52.2871, 76.9674)  # the confidential seed site
GRID = (52.3, 77.0)


# ---- the rule ----------------------------------------------------------------------------------------------------
def test_the_public_form_drops_owners_and_generalises_only_confidential_sites():
    row = {"code": "KZ-PAV-0001", "lat": 52.2871, "lon": 76.9674, "operator": "Khimprom", "owner_status": "private",
           "owner_contact": "+7 701 000 0000", "footprint": "MULTIPOLYGON(...)", "location_note": "east gate",
           "location_precision": "facility", "explanation": {"nearest_settlements": [{"km": 0.8}]},
           "confidential": True}
    shown = public_site(row)
    assert not {"operator", "owner_status", "owner_contact"} & set(shown)
    assert (shown["lat"], shown["lon"]) == GRID
    assert (shown["footprint"], shown["location_note"], shown["explanation"]) == (None, None, {})
    assert shown["location_precision"] == "approximate" and shown["code"] == "KZ-PAV-0001"
    open_site = public_site(dict(row, confidential=False))
    assert (open_site["lat"], open_site["lon"], open_site["footprint"]) == (52.2871, 76.9674, "MULTIPOLYGON(...)")
    assert "operator" not in open_site
    assert row["lat"] == 52.2871  # the caller's row is not changed


@pytest.mark.parametrize("degrees, expected", [(52.2871, 52.3), (76.9674, 77.0), (50.04, 50.0), (-0.06, -0.1),
                                               (None, None)])
def test_coordinates_are_rounded_to_a_tenth_of_a_degree(degrees, expected):
    assert generalise(degrees) == expected


# ---- queries and exports -----------------------------------------------------------------------------------------
def _site(rows, code):
    return next(row for row in rows if row["code"] == code)


def test_the_map_query_generalises_the_confidential_site_for_the_public_only(world: World):
    public = _site(map_sites(world.engine, actor=PUBLIC), world.own_site)
    assert (public["lat"], public["lon"], public["location_precision"]) == (*GRID, "approximate")
    inside = _site(map_sites(world.engine, actor=world.actor("viewer")), world.own_site)
    assert (inside["lat"], inside["lon"]) == EXACT
    ordinary = [row for row in map_sites(world.engine, actor=PUBLIC) if not row["confidential"]]
    assert ordinary and all(round(row["lat"], 1) != row["lat"] for row in ordinary)  # exact where not confidential


def test_a_public_csv_export_has_no_owner_columns_and_the_generalised_place(world: World, tmp_path):
    export_sites(world.engine, "csv", tmp_path / "public.csv", actor=PUBLIC)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "public.csv").read_text(encoding="utf-8"))))
    secret = _site(rows, world.own_site)
    assert (float(secret["lat"]), float(secret["lon"])) == GRID and secret["location_precision"] == "approximate"
    assert not {"operator", "owner_status", "location_note", "footprint"} & set(rows[0])
    export_sites(world.engine, "csv", tmp_path / "full.csv", actor=world.actor("planner"))
    full = _site(list(csv.DictReader(io.StringIO((tmp_path / "full.csv").read_text(encoding="utf-8")))),
                 world.own_site)
    assert (float(full["lat"]), float(full["lon"])) == EXACT


def test_public_geojson_and_html_exports_hold_no_exact_place(world: World, tmp_path):
    export_sites(world.engine, "geojson", tmp_path / "public.geojson", actor=PUBLIC)
    features = json.loads((tmp_path / "public.geojson").read_text())["features"]
    point = next(f for f in features if f["properties"]["code"] == world.own_site)["geometry"]["coordinates"]
    assert tuple(point) == GRID[::-1]
    html = export_html(world.engine, tmp_path / "public.html", actor=PUBLIC).path.read_text(encoding="utf-8")
    assert "52.2871" not in html and "76.9674" not in html and "Khimprom" not in html
    full = export_html(world.engine, tmp_path / "full.html").path.read_text(encoding="utf-8")
    assert "52.2871" in full


def test_the_public_ranking_leaves_out_a_confidential_sites_explanation(world: World):
    public = _site(ranking(world.engine, actor=PUBLIC), world.own_site)
    assert public["explanation"] == {} and public["total"] is not None and "confidential" not in public
    assert _site(ranking(world.engine), world.own_site)["explanation"]
    assert site_points(world.engine, actor=PUBLIC)[world.own_site] == GRID[::-1]


def test_a_public_frame_without_the_confidential_column_is_refused(world: World):
    frame = sites_frame(world.engine)
    assert "confidential" not in frame.columns  # sites_frame keeps its export columns only
    with pytest.raises(ValueError, match="confidential column"):
        frame_for(PUBLIC, frame)


def test_sites_export_public_on_the_command_line(world: World, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", world.engine.url.render_as_string(hide_password=False))
    result = CliRunner().invoke(main, ["export", "--public", "--format", "csv", "-o", str(tmp_path / "p.csv")],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "p.csv").read_text(encoding="utf-8"))))
    assert (float(_site(rows, world.own_site)["lat"]), float(_site(rows, world.own_site)["lon"])) == GRID
