"""The compact site layer: rows the browser draws, strings sent once, and JSON that cannot close its script."""

from __future__ import annotations

import json
import re

from gis import maps
from gis.site_layer import CLASS_ORDER, CLUSTER_FROM, ReceptorLayer, pack, to_script_json


def site(code: str, **extra) -> dict:
    return {"code": code, "name": f"Site {code}", "lat": 49.123456789, "lon": 73.1, "region": "Karaganda",
            "contaminants": "Mercury", "workflow_stage": "site_investigation", "location_precision": "exact",
            "priority_class": "1", **extra}


def test_repeated_strings_are_sent_once_and_rows_refer_to_them():
    packed = pack([site("A"), site("B", priority_class=None, region="Pavlodar")])
    first, second = packed["rows"]
    assert first[:4] == [49.12346, 73.1, "A", "Site A"]
    assert CLASS_ORDER[first[4]] == "1" and CLASS_ORDER[second[4]] is None
    assert packed["strings"][first[5]] == "Karaganda" and packed["strings"][second[5]] == "Pavlodar"
    assert packed["strings"][first[7]] == "site investigation"
    assert packed["strings"].count("Mercury") == 1


def test_an_unknown_class_is_drawn_as_not_yet_scored():
    (row,) = pack([site("A", priority_class="Z")])["rows"]
    assert CLASS_ORDER[row[4]] is None


def test_text_from_the_database_cannot_close_the_script_element():
    hostile = '</script><img src=x onerror=alert(1)> & "${alert(2)}"'
    text = to_script_json({"name": hostile})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"name": hostile}


def embedded(html: str) -> dict:
    return json.loads(re.search(r"var data = (\{.*?\});\n", html).group(1))


def test_the_map_carries_every_site_once_with_local_clustering_code():
    sites = [site(f"KZ-{i:05d}", lat=45 + i / 1000, lon=70 + i / 1000) for i in range(CLUSTER_FROM + 5)]
    html = maps.site_map(sites).get_root().render()
    assert len(embedded(html)["rows"]) == CLUSTER_FROM + 5
    assert "/app/static/vendor/supercluster/supercluster.min.js" in html
    assert "unpkg" not in html and "cdnjs" not in html and "jsdelivr" not in html
    # one marker statement for all sites, not one per site
    assert html.count("L.circleMarker") == 1


def test_receptor_labels_travel_as_text_with_population():
    layer = ReceptorLayer("Settlements", [{"name": "<b>Қарағанды</b>", "population": 497777, "lat": 49.8, "lon": 73.1}])
    assert layer.count == 1
    rows = json.loads(layer.data_json)
    assert rows == [[49.8, 73.1, "<b>Қарағанды</b> (497,777 people)"]]
    assert "<b>" not in layer.data_json


def test_template_syntax_in_stored_text_is_shown_not_evaluated():
    names = ["{{ 7*191 }}", "{% for x in y %}", "{# note", "{{{ x }}}"]
    sites = [site(f"KZ-{i}", name=name) for i, name in enumerate(names)]
    html = maps.site_map(sites, {"Settlements": [{"name": "{{ 6*1001 }}", "lat": 45, "lon": 70}]}).get_root().render()
    assert [row[3] for row in embedded(html)["rows"]] == names
    assert "1337" not in html and "6006" not in html
    assert "{{" not in html.split("var data = ", 1)[1].split(";\n", 1)[0]
