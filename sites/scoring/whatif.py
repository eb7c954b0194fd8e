"""What-if scenarios: the method's adjustable factors, their documented bounds, and scoring under other values.

The official method never changes here: a scenario holds overrides for one calculation (a context variable, so
concurrent app sessions do not see each other's), and its scores are never stored.
"""

from __future__ import annotations

import json
import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from sites.errors import InvalidInput
from sites.scoring import tables


@dataclass(frozen=True)
class Adjustable:
    """A factor a planner may vary, within bounds that keep the method meaningful."""

    name: str
    low: float
    high: float
    why: str


ADJUSTABLE: tuple[Adjustable, ...] = (
    Adjustable("children_weight", 1.0, 10.0, "US EPA age-dependent adjustment factors run from 1 to 10"),
    Adjustable("women_weight", 1.0, 3.0, "no extra weight up to the children's weight for adults; own bounds"),
    Adjustable("population_scale", 10_000, 1_000_000, "a village cluster to a large city saturates the target"),
    Adjustable("well_person_equivalents", 10, 1_000, "a single household well to a town intake"),
    Adjustable("groundwater_use_share", 0.0, 1.0, "nobody to everybody drinks local groundwater"),
    Adjustable("default_exceedance", 0.1, 1.0, "an unmeasured site from well below to at the guideline"),
    Adjustable("default_quantity", 0.1, 1.0, "an unknown quantity from small to saturating"),
    Adjustable("non_detect_fraction", 0.0, 1.0, "a result below detection counted as zero up to the full limit"),
    Adjustable("farmland_bonus", 0.0, 0.3, "farmland nearby from no weight to a large one"),
)
BY_NAME = {a.name: a for a in ADJUSTABLE}


def check_overrides(overrides: Mapping[str, Any]) -> dict[str, float]:
    """Each override named, numeric and within its bounds; otherwise InvalidInput saying which and why."""
    checked = {}
    for name, raw in overrides.items():
        factor = BY_NAME.get(name)
        if factor is None:
            raise InvalidInput("factor", name, "one of the adjustable factors: " + ", ".join(BY_NAME))
        number = _number(name, raw)
        if not factor.low <= number <= factor.high:
            raise InvalidInput(name, raw, f"a value from {factor.low:g} to {factor.high:g} ({factor.why})")
        checked[name] = number
    return checked


def _number(name: str, raw: Any) -> float:
    try:
        number = float(str(raw).replace(",", ".")) if not isinstance(raw, (int, float)) else float(raw)
    except ValueError:
        raise InvalidInput(name, raw, "a number") from None
    if not math.isfinite(number):
        raise InvalidInput(name, raw, "a finite number")
    return number


@contextmanager
def scenario(overrides: Mapping[str, Any]) -> Iterator[dict[str, float]]:
    """Score with ``overrides`` inside the block; the declared values are back as soon as it ends."""
    checked = check_overrides(overrides)
    token = tables.OVERRIDES.set(checked)
    try:
        yield checked
    finally:
        tables.OVERRIDES.reset(token)


def rank_order(rows: list[dict]) -> list[dict]:
    """Rows in ranking order: scored classes by total, highest first, then class I; ties by code."""
    return sorted(rows, key=lambda r: (r["class"] == "I", -r["total"], r["code"]))


MAX_SCENARIO_BYTES = 100_000  # a saved scenario is a few hundred bytes; anything this large is not one


def method_label() -> str:
    """The method and version a scenario's values are bounded for, as saved files write it."""
    return f"{tables.METHOD_NAME} {tables.METHOD_VERSION}"


def scenario_file(name: str, overrides: Mapping[str, Any], date: str) -> dict[str, Any]:
    """A scenario as it is saved and shared: name, method and version, date and the changed values."""
    return {"name": name, "method": method_label(), "date": date, "overrides": check_overrides(overrides)}


def read_scenario(data: str | bytes) -> tuple[str, dict[str, float]]:
    """The name and checked values of a saved scenario (JSON text or bytes).

    A file that is not a scenario, was saved for another method version, or holds a value outside its factor's
    documented bounds is refused with InvalidInput saying what was expected and what the file holds.
    """
    document = _json_object(data)
    method = document.get("method")
    if method != method_label():
        raise InvalidInput("scenario method", method,
                           f"{method_label()}, the method version whose factors and bounds this register uses")
    name = document.get("name", "scenario")
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("scenario name", name, "a non-empty text")
    overrides = document.get("overrides")
    if not isinstance(overrides, dict):
        raise InvalidInput("scenario overrides", overrides, "an object of factor names and numbers")
    for factor, value in overrides.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidInput(f"scenario {factor}", value, "a number")
    return name.strip(), check_overrides(overrides)


def _json_object(data: str | bytes) -> dict[str, Any]:
    if len(data) > MAX_SCENARIO_BYTES:
        raise InvalidInput("scenario file", f"{len(data):,} bytes", f"at most {MAX_SCENARIO_BYTES:,} bytes")
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
        document = json.loads(text)
    except UnicodeDecodeError:
        raise InvalidInput("scenario file", "bytes that are not UTF-8 text", "a JSON scenario file") from None
    except json.JSONDecodeError as error:
        raise InvalidInput("scenario file", f"not JSON ({error.msg}, line {error.lineno})",
                           "a JSON scenario file as the ranking page or `sites whatif` saves it") from None
    if not isinstance(document, dict):
        raise InvalidInput("scenario file", type(document).__name__,
                           "a JSON object with name, method, date and overrides")
    return document
