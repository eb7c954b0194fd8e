"""Receptor layers are replaced atomically: a bad feature leaves the old layer whole."""

from __future__ import annotations

import pytest
from shapely.geometry import Point, Polygon

from gis.layers import Feature, layers, replace_receptor_layer
from gis.queries import receptor_points
from gis.services import Register
from sites.errors import InvalidInput, PermissionDenied


def test_replace_is_all_or_nothing(engine):
    admin = Register(engine).actor()
    replace_receptor_layer(engine, admin, "well", "test wells", "test", "CC0", [Feature("w1", None, Point(70, 50))])
    bowtie = Polygon([(70, 50), (71, 51), (71, 50), (70, 51)])
    with pytest.raises(InvalidInput, match="feature 2 geometry"):
        replace_receptor_layer(engine, admin, "well", "test wells", "test", "CC0",
                               [Feature("w2", None, Point(70, 50)), Feature("w3", None, bowtie)])
    assert [p["name"] for p in receptor_points(engine, "well")[0]] == ["w1"]
    assert replace_receptor_layer(engine, admin, "well", "test wells", "test", "CC0",
                                  [Feature("a", None, Point(70, 50)), Feature("b", 5, Point(71, 50))]) == 2
    assert [p["name"] for p in receptor_points(engine, "well")[0]] == ["b", "a"]  # most populous first
    assert [l["feature_count"] for l in layers(engine)] == [2]


def test_layers_need_an_admin(engine):
    register = Register(engine)
    planner = register.add_user(register.actor(), "p", "planner")
    with pytest.raises(PermissionDenied):
        replace_receptor_layer(engine, planner, "well", "w", "s", "l", [])
    with pytest.raises(InvalidInput, match="kind"):
        replace_receptor_layer(engine, register.actor(), "volcano", "w", "s", "l", [])
