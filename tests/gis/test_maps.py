"""Maps as data: the placement map and how a click or a drawing on it is read."""

from __future__ import annotations

import pytest

from gis import maps
from sites.errors import InvalidInput
from sites.records import validate_site
from tests.gis.factories import site_data

SQUARE = {"type": "Polygon", "coordinates": [[[76.9, 52.2], [77.0, 52.2], [77.0, 52.3], [76.9, 52.3], [76.9, 52.2]]]}
BOWTIE = {"type": "Polygon", "coordinates": [[[76.9, 52.2], [77.0, 52.3], [77.0, 52.2], [76.9, 52.3], [76.9, 52.2]]]}


def test_the_placement_map_draws_locally_and_shows_point_footprint_and_neighbours():
    nearby = [{"code": "KZ-PAV-0001", "name": "<b>plant</b>", "lat": 52.25, "lon": 76.95}]
    html = maps.placement_map((52.25, 76.95), "MULTIPOLYGON(((76.9 52.2,77 52.2,77 52.3,76.9 52.2)))", nearby,
                              vendor_url="/v").get_root().render()
    assert "/v/leaflet-draw/leaflet.draw.js" in html and "/v/leaflet/leaflet.js" in html
    assert "cdnjs" not in html and "cdn.jsdelivr" not in html
    assert "placed-point" in html and "nearby-site" in html and "[76.9, 52.2]" in html  # the footprint
    assert "&lt;b&gt;plant&lt;/b&gt;" in html and "<b>plant</b>" not in html


def test_a_click_becomes_the_point_and_a_drawing_the_footprint():
    point, footprint = maps.read_placement({"last_clicked": {"lat": 52.123456789, "lng": 76.987654321},
                                            "last_active_drawing": {"type": "Feature", "geometry": SQUARE}})
    assert point == (52.123457, 76.987654)
    assert footprint["type"] == "MultiPolygon"
    cleaned = validate_site(site_data(lat=point[0], lon=point[1], footprint=footprint))
    assert cleaned["footprint"].area == pytest.approx(0.01)


@pytest.mark.parametrize("returned", [None, {}, {"last_clicked": None, "last_active_drawing": None},
                                      {"last_active_drawing": {"geometry": {"type": "LineString",
                                                                            "coordinates": [[76, 52], [77, 52]]}}}])
def test_nothing_done_on_the_map_places_nothing(returned):
    point, footprint = maps.read_placement(returned)
    assert point is None and footprint is None


def test_a_self_intersecting_drawing_is_refused_when_saved():
    _, footprint = maps.read_placement({"last_active_drawing": {"geometry": BOWTIE}})
    with pytest.raises(InvalidInput, match="no self-intersection"):
        validate_site(site_data(footprint=footprint))


def test_a_click_on_a_repeated_world_is_ignored_and_a_drawing_alone_gives_a_point_inside():
    point, _ = maps.read_placement({"last_clicked": {"lat": 52.1, "lng": 436.9}})
    assert point is None
    lat, lon = maps.inside_point(SQUARE)
    assert 52.2 < lat < 52.3 and 76.9 < lon < 77.0
