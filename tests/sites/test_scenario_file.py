"""Saved what-if scenarios: what is written reads back, and a file for another method or out of bounds is refused."""

from __future__ import annotations

import json

import pytest

from sites.errors import InvalidInput
from sites.scoring.whatif import MAX_SCENARIO_BYTES, read_scenario, scenario_file


def saved(**changes) -> str:
    document = {"name": "cautious", "method": "kz-screening 1.0.0", "date": "2025-05-01",
                "overrides": {"children_weight": 5, "groundwater_use_share": 0.8}}
    return json.dumps({**document, **changes})


def test_a_saved_scenario_reads_back_as_written():
    written = scenario_file("cautious", {"children_weight": 5, "farmland_bonus": "0,2"}, "2025-05-01")
    assert written == {"name": "cautious", "method": "kz-screening 1.0.0", "date": "2025-05-01",
                       "overrides": {"children_weight": 5.0, "farmland_bonus": 0.2}}
    assert read_scenario(json.dumps(written).encode("utf-8")) == ("cautious", written["overrides"])


def test_a_byte_order_mark_and_a_missing_name_are_accepted():
    document = json.loads(saved())
    del document["name"]
    assert read_scenario(b"\xef\xbb\xbf" + json.dumps(document).encode()) == (
        "scenario", {"children_weight": 5.0, "groundwater_use_share": 0.8})


@pytest.mark.parametrize("text, message", [
    (saved(method="kz-screening 0.9.0"),
     "scenario method: expected kz-screening 1.0.0, the method version whose factors and bounds this register uses, "
     "received 'kz-screening 0.9.0'"),
    (saved(method=None), "scenario method: expected kz-screening 1.0.0"),
    (saved(overrides={"children_weight": 50}), "children_weight: expected a value from 1 to 10"),
    (saved(overrides={"class_thresholds": 1}), "factor: expected one of the adjustable factors"),
    (saved(overrides={"children_weight": "5"}), "scenario children_weight: expected a number, received '5'"),
    (saved(overrides={"children_weight": True}), "scenario children_weight: expected a number, received True"),
    (saved(overrides=[1, 2]), "scenario overrides: expected an object of factor names and numbers"),
    (saved(name=""), "scenario name: expected a non-empty text"),
    ("[1, 2]", "scenario file: expected a JSON object with name, method, date and overrides, received 'list'"),
    ("{name: 1}", "scenario file: expected a JSON scenario file as the ranking page or `sites whatif` saves it, "
                  "received 'not JSON (Expecting property name enclosed in double quotes, line 1)'"),
])
def test_bad_files_are_refused_saying_what_was_expected_and_received(text, message):
    with pytest.raises(InvalidInput) as refused:
        read_scenario(text)
    assert message in str(refused.value)


def test_binary_and_huge_files_are_refused():
    with pytest.raises(InvalidInput, match="not UTF-8"):
        read_scenario(b"\xff\xfe\x00PK")
    with pytest.raises(InvalidInput, match="at most 100,000 bytes"):
        read_scenario(b" " * (MAX_SCENARIO_BYTES + 1))
