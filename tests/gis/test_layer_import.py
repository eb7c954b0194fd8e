"""Receptor and boundary layers imported from real files: repaired, counted, atomic, and refused whole when bad."""

from __future__ import annotations

import json
import shutil
import zipfile

import click
import geopandas as gpd
import pytest
from click.testing import CliRunner
from shapely.geometry import LineString, Point, Polygon
from sqlalchemy import func, select

from gis import tables as t
from gis.cli import Context, Group
from gis.cli_layers import layers
from gis.layer_import import clean_geometry, import_layer, normalise_kato, parse_population
from gis.services import Register
from gis.settings import Settings
from sites.errors import InvalidInput, PermissionDenied
from tests.conftest import shared_data
from tests.gis.factories import site_data

ADM1 = "kz/boundaries/kaz_admbnda_adm1_2024.shp"
ADM2 = "kz/boundaries/kaz_admbnda_adm2_2024.shp"
PLACES = "kz/places/hotosm_kaz_populated_places_points.geojson"
TEMIRTAU = {"lat": 50.05, "lon": 72.95}


def counts(engine) -> dict[str, int]:
    """Rows of every table an import writes to, and the sum of site versions."""
    with engine.connect() as conn:
        tables = {table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                  for table in (t.boundary, t.receptor_layer, t.receptor, t.audit, t.site)}
        tables["site versions"] = conn.execute(select(func.coalesce(func.sum(t.site.c.version), 0))).scalar_one()
    return tables


def write_geojson(path, features: list[tuple[dict, dict | None]]):
    """A small GeoJSON of (properties, geometry) pairs."""
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": geom} for props, geom in features]}
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path


def point(lon: float, lat: float) -> dict:
    return {"type": "Point", "coordinates": [lon, lat]}


@pytest.fixture
def admin(engine):
    return Register(engine).actor()


# ---- pure rules ----------------------------------------------------------------------------------
@pytest.mark.parametrize("value, expected", [
    ("2000", (2000, False)), (2000, (2000, False)), (2000.0, (2000, False)), (0, (0, False)),
    ("~2 000", (2000, True)), ("2 000", (2000, True)), ("2,000", (2000, True)), ("≈2000", (2000, True)),
    ("ca. 2000", (2000, True)), ("2\u2009000", (2000, True)), ("~2\u00a0000", (2000, True)),
    ("около 1 250 000", (1250000, True)), (None, (None, False)), ("", (None, False)), (float("nan"), (None, False)),
])
def test_population_values_are_normalised(value, expected):
    assert parse_population(value, "population in row 1") == expected


@pytest.mark.parametrize("value", ["many", "-5", -5, "2,5", 12.5, "2000 people?", "~"])
def test_other_population_values_are_refused_naming_the_row(value):
    with pytest.raises(InvalidInput, match="population in row 7"):
        parse_population(value, "population in row 7")


@pytest.mark.parametrize("value, expected", [("350000000", "350000000"), (350000000, "350000000"),
                                             (350000000.0, "350000000"), (" 351010000 ", "351010000")])
def test_kato_codes_become_nine_character_strings(value, expected):
    assert normalise_kato(value, "KATO in row 1") == expected


def test_geometries_are_repaired_to_their_family():
    bowtie = Polygon([(70, 50), (71, 51), (71, 50), (70, 51)])
    repaired, changed = clean_geometry(bowtie, "Polygon")
    assert repaired.is_valid and repaired.geom_type == "MultiPolygon" and changed
    assert clean_geometry(LineString([(70, 50), (71, 51)]), "Point") == (None, False)
    assert clean_geometry(Point(70, 50), "Point") == (Point(70, 50), False)
    assert clean_geometry(Point(), "Point") == (None, False)


# ---- boundaries ----------------------------------------------------------------------------------
def test_regions_and_districts_load_with_kato_and_names(engine, admin):
    regions = import_layer(engine, admin, shared_data(ADM1), "region")
    assert (regions.read, regions.loaded, regions.dropped) == (20, 20, 0)
    districts = import_layer(engine, admin, shared_data(ADM2), "district")
    assert (districts.read, districts.loaded, districts.dropped) == (224, 224, 0)
    assert districts.repaired >= 1  # Ulytau district is self-intersecting
    with engine.connect() as conn:
        karagandy = conn.execute(select(t.boundary).where(t.boundary.c.kato == "350000000")).mappings().one()
        ulytau = conn.execute(select(t.boundary.c.parent_kato, t.boundary.c.name_en, func.ST_IsValid(t.boundary.c.geom))
                              .where(t.boundary.c.kato == "623800000")).one()
        types = set(conn.execute(select(func.ST_GeometryType(t.boundary.c.geom))).scalars())
    assert (karagandy["level"], karagandy["name_en"], karagandy["name_ru"], karagandy["name_kk"]) == (
        "region", "Karagandy", "Карагандинская", "Қарағанды")
    assert karagandy["parent_kato"] is None and tuple(ulytau) == ("620000000", "Ulytau", True)
    assert types == {"ST_MultiPolygon"}


def test_sites_take_their_region_from_the_boundaries(engine, admin):
    register = Register(engine)
    before = register.create_site(admin, site_data(region_kato=None, **TEMIRTAU))
    outside = register.create_site(admin, site_data(name_en="Beyond the border", lat=55.9, lon=88.0,
                                                     region_kato="630000000"))
    report = import_layer(engine, admin, shared_data(ADM1), "region")
    assert report.sites_reassigned == 1
    moved = register.get_site(before["code"])
    assert (moved["region_kato"], moved["version"]) == ("350000000", 2)
    audit = register.history(before["code"])[-1]
    assert audit["action"] == "update" and audit["actor"] == admin.name
    assert (audit["before"]["region_kato"], audit["after"]["region_kato"]) == (None, "350000000")
    assert (audit["before"]["version"], audit["after"]["version"]) == (1, 2)
    assert register.get_site(outside["code"])["region_kato"] == "630000000"
    assert register.get_site(outside["code"])["version"] == 1
    created = register.create_site(admin, site_data(name_en="Temirtau plant", region_kato=None, **TEMIRTAU))
    assert created["region_kato"] == "350000000"


def test_districts_reassign_sites_and_reimport_changes_nothing(engine, admin):
    register = Register(engine)
    site = register.create_site(admin, site_data(**TEMIRTAU, region_kato="350000000"))
    assert import_layer(engine, admin, shared_data(ADM2), "district").sites_reassigned == 1
    district = register.get_site(site["code"])["district_kato"]
    assert district is not None and district.startswith("35")
    snapshot = counts(engine)
    again = import_layer(engine, admin, shared_data(ADM2), "district")
    assert (again.loaded, again.sites_reassigned) == (224, 0)
    after = counts(engine)
    assert after["boundary"] == snapshot["boundary"] == 224
    assert after["audit"] == snapshot["audit"] + 1  # only the boundary replacement itself


# ---- receptors -----------------------------------------------------------------------------------
def test_places_load_as_settlements_with_population(engine, admin):
    report = import_layer(engine, admin, shared_data(PLACES), "settlement", source="HOT export",
                          licence="ODbL, © OpenStreetMap contributors")
    assert (report.read, report.loaded, report.dropped, report.repaired) == (9899, 9899, 0, 0)
    with engine.connect() as conn:
        layer = conn.execute(select(t.receptor_layer)).mappings().one()
        with_population = conn.execute(select(func.count()).where(t.receptor.c.population.is_not(None))).scalar_one()
    assert (layer["name"], layer["feature_count"], layer["licence"]) == (
        "hotosm_kaz_populated_places_points", 9899, "ODbL, © OpenStreetMap contributors")
    assert 3000 < with_population < 4000


@pytest.mark.parametrize("relative, kind, features", [
    ("kz/water/rivers.geojson", "river", 448), ("kz/water/lakes.geojson", "lake", 120)])
def test_water_layers_load_and_reimport_replaces(engine, admin, relative, kind, features):
    first = import_layer(engine, admin, shared_data(relative), kind)
    second = import_layer(engine, admin, shared_data(relative), kind)
    assert first == second and first.loaded == features
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(t.receptor)).scalar_one()
        kinds = set(conn.execute(select(func.ST_GeometryType(t.receptor.c.geom))).scalars())
        layer_counts = conn.execute(select(t.receptor_layer.c.feature_count)).scalars().all()
        longest = conn.execute(select(func.max(func.ST_NPoints(t.receptor.c.geom)))).scalar_one()
    # long lines and large polygons are stored in pieces of at most 64 vertices (gis.layers.MAX_VERTICES)
    assert layer_counts == [features] and stored >= features and longest <= 64
    assert kinds <= ({"ST_LineString", "ST_MultiLineString"} if kind == "river" else {"ST_Polygon", "ST_MultiPolygon"})


def test_approximate_populations_are_counted_and_odd_geometries_dropped(engine, admin, tmp_path):
    path = write_geojson(tmp_path / "villages.geojson", [
        ({"name": "Aul", "pop": "~2 000"}, point(70, 50)),
        ({"name": "Kent", "pop": 350}, point(71, 50)),
        ({"name": "Nowhere", "pop": None}, None),
        ({"name": "Road", "pop": None}, {"type": "LineString", "coordinates": [[70, 50], [71, 51]]}),
    ])
    report = import_layer(engine, admin, path, "settlement")
    assert (report.read, report.loaded, report.dropped, report.approximate_population) == (4, 2, 2, 1)
    with engine.connect() as conn:
        stored = dict(conn.execute(select(t.receptor.c.name, t.receptor.c.population)).all())
    assert stored == {"Aul": 2000, "Kent": 350}


def test_projected_gpkg_zipped_shapefile_and_kml_are_read(engine, admin, tmp_path):
    frame = gpd.GeoDataFrame({"name": ["Well 1"], "population": [12]}, geometry=[Point(72.95, 50.05)], crs=4326)
    frame.to_crs(32643).to_file(tmp_path / "wells.gpkg", layer="wells")
    frame.to_file(tmp_path / "kml_wells.kml", driver="KML")
    shutil.make_archive(str(tmp_path / "boundaries"), "zip", shared_data(ADM1).parent)
    for path, kind in ((tmp_path / "wells.gpkg", "well"), (tmp_path / "kml_wells.kml", "intake")):
        assert import_layer(engine, admin, path, kind).loaded == 1
    assert zipfile.is_zipfile(tmp_path / "boundaries.zip")
    with pytest.raises(InvalidInput, match="layer_name: expected one of the file's layers: .*kaz_admbnda_adm1_2024"):
        import_layer(engine, admin, tmp_path / "boundaries.zip", "region")
    regions = import_layer(engine, admin, tmp_path / "boundaries.zip", "region", layer_name="kaz_admbnda_adm1_2024")
    assert regions.loaded == 20
    with engine.connect() as conn:
        x, y = conn.execute(select(func.ST_X(t.receptor.c.geom), func.ST_Y(t.receptor.c.geom))
                            .where(t.receptor.c.kind == "well")).one()
    assert (round(x, 6), round(y, 6)) == (72.95, 50.05)


# ---- refusals ------------------------------------------------------------------------------------
def _no_prj(tmp_path):
    source = shared_data(ADM1)
    for part in source.parent.glob(source.stem + ".*"):
        if part.suffix != ".prj":
            shutil.copy(part, tmp_path / part.name)
    return tmp_path / source.name, "region", {}, "has no coordinate reference system; expected e.g. a .prj file"


def _many(tmp_path):
    path = write_geojson(tmp_path / "p.geojson", [({"name": "A", "population": "12"}, point(70, 50)),
                                                  ({"name": "B", "population": "many"}, point(71, 50))])
    return path, "settlement", {}, "population in row 2: expected a whole number.*received 'many'"


def _unknown_field(tmp_path):
    path = write_geojson(tmp_path / "p.geojson", [({"name": "A", "population": "12"}, point(70, 50))])
    return path, "settlement", {"name_field": "NAAM"}, "name_field: expected one of the file's fields: name, population"


def _unknown_kind(tmp_path):
    path = write_geojson(tmp_path / "p.geojson", [({"name": "A"}, point(70, 50))])
    return path, "volcano", {}, "kind: expected one of settlement"


def _missing_file(tmp_path):
    return tmp_path / "absent.geojson", "settlement", {}, "file: expected an existing file"


def _district_kato(tmp_path):
    return shared_data(ADM2), "district", {"kato_field": "ADM2_PCODE"}, "ADM2_PCODE in row 1: expected a 9-digit KATO"


@pytest.mark.parametrize("case", [_no_prj, _many, _unknown_field, _unknown_kind, _missing_file, _district_kato])
def test_bad_input_is_refused_and_changes_nothing(engine, admin, tmp_path, case):
    import_layer(engine, admin, shared_data(ADM1), "region")
    import_layer(engine, admin, write_geojson(tmp_path / "p.geojson", [({"name": "old"}, point(70, 50))]),
                 "settlement")
    before = counts(engine)
    path, kind, options, message = case(tmp_path)
    with pytest.raises(InvalidInput, match=message):
        import_layer(engine, admin, path, kind, **options)
    assert counts(engine) == before


def test_loading_layers_needs_manage_layers(engine, admin):
    planner = Register(engine).add_user(admin, "pat", "planner")
    before = counts(engine)
    with pytest.raises(PermissionDenied, match="manage layers"):
        import_layer(engine, planner, shared_data(ADM1), "region")
    assert counts(engine) == before


# ---- command line --------------------------------------------------------------------------------
@pytest.fixture
def run(db_url, monkeypatch):
    """The `layers` group under the CLI's error-reporting group, as `sites layers` runs it."""
    monkeypatch.setenv("DATABASE_URL", db_url)

    @click.group(cls=Group)
    @click.pass_context
    def root(ctx):
        ctx.obj = Context(Settings.from_env(), "system")

    root.add_command(layers)
    return lambda *args: CliRunner().invoke(root, ["layers", *map(str, args)], catch_exceptions=False)


def test_cli_imports_and_lists(run, tmp_path):
    result = run("import", shared_data(ADM1), "--kind", "region", "--source", "geokz 2024", "--licence", "CC BY 4.0")
    assert result.exit_code == 0 and "read 20, loaded 20" in result.output
    path = write_geojson(tmp_path / "wells.geojson", [({"NAME": "W1"}, point(70, 50))])
    result = run("import", path, "--kind", "well", "--layer-name", "Test wells", "--licence", "CC0")
    assert result.exit_code == 0 and "well layer 'Test wells': read 1, loaded 1" in result.output
    listed = run("list").output.splitlines()
    assert listed[0].startswith("well\tTest wells\t1\twells.geojson\tCC0")
    assert listed[1].startswith("region\t(boundaries)\t20\tgeokz 2024 (CC BY 4.0)")


def test_cli_reports_errors_in_one_line(run, tmp_path):
    result = run("import", tmp_path / "absent.shp", "--kind", "region")
    assert result.exit_code == 1 and result.output.startswith("Error: file: expected an existing file")
