"""What the ranking page filters by, read from PostGIS: districts with their boundary names, conventions, points."""

from __future__ import annotations

import json
from pathlib import Path

from gis.demo import load_demo
from gis.layer_import import import_layer
from gis.queries import CONVENTIONS, site_attributes, site_points
from gis.services import Register

# Three small district boundaries around demo sites: Pavlodar city (named), Ekibastuz (no name in the file, so the
# page labels it by KATO code) and Balkhash in Karagandy region (named).
DISTRICTS = (("551010000", "Pavlodar city", 76.97, 52.28), ("552210000", None, 75.32, 51.72),
             ("352410000", "Balkhash city", 74.98, 46.85))


def load_districts(engine, folder: Path) -> None:
    """Write DISTRICTS as a GeoJSON file and import it as the district boundaries (sites inside are reassigned)."""
    features = [{"type": "Feature", "properties": {"kato": kato, "name": name},
                 "geometry": {"type": "Polygon", "coordinates": [[(lon - 0.1, lat - 0.1), (lon + 0.1, lat - 0.1),
                                                                  (lon + 0.1, lat + 0.1), (lon - 0.1, lat + 0.1),
                                                                  (lon - 0.1, lat - 0.1)]]}}
                for kato, name, lon, lat in DISTRICTS]
    path = folder / "districts.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    import_layer(engine, Register(engine).actor(), path, "district", source="test districts")


def test_districts_carry_their_boundary_names_and_conventions_follow_the_contaminants(engine, tmp_path):
    load_demo(engine, Register(engine).actor())
    load_districts(engine, tmp_path)
    by_code = {row["code"]: row for row in site_attributes(engine)}
    assert (by_code["KZ-PAV-0001"]["district_kato"], by_code["KZ-PAV-0001"]["district"]) == (
        "551010000", "Pavlodar city")
    assert (by_code["KZ-PAV-0002"]["district_kato"], by_code["KZ-PAV-0002"]["district"]) == ("552210000", None)
    assert by_code["KZ-KAR-0001"]["district_kato"] is None
    # Mercury falls under Minamata, Rotterdam and Basel (Y29), and under no Stockholm annex.
    assert by_code["KZ-PAV-0001"]["conventions"].split(",") == ["Minamata", "Rotterdam", "Basel"]
    pesticides = [row for row in by_code.values() if "Stockholm" in (row["conventions"] or "")]
    assert pesticides and all(set(row["conventions"].split(",")) <= set(CONVENTIONS) for row in pesticides)


def test_a_site_without_contaminants_falls_under_no_convention(engine):
    register = Register(engine)
    register.create_site(register.actor(), {"code": "KZ-KZY-0099", "name_en": "bare", "lat": 45.0, "lon": 63.0,
                                            "location_precision": "approximate", "region_kato": "430000000",
                                            "activity": "other"})
    (row,) = site_attributes(engine)
    assert row["conventions"] == "" and row["contaminant_codes"] is None
    assert site_points(engine) == {"KZ-KZY-0099": (63.0, 45.0)}
