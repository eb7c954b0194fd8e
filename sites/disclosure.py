"""What the public view of the register shows: no owners, and only the rough place of a confidential site.

The public (nobody signed in, see :data:`sites.permissions.PUBLIC`) reads the register as everyone else does,
except that

- owner data is left out: the current owner's status and the operator, and any field named ``owner_*``;
- a site flagged ``confidential`` has its coordinates rounded to :data:`GRID_DEGREES` (0.1 degree: about 11 km
  north-south and 7-9 km east-west in Kazakhstan), its footprint and location note dropped, its precision given as
  ``approximate`` and its score's explanation left out (it names the distances to the nearest towns and wells).

These functions work on plain rows (dicts); :mod:`gis.public` applies them to query results and exports.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

OWNER_FIELDS = ("operator", "owner_status")
GRID_DEGREES = 0.1
LOCATION_DETAIL = ("footprint", "location_note")  # what places a confidential site more exactly than the grid
COORDINATES = (("lat", "lon"), ("latitude", "longitude"))


def is_owner_field(name: str) -> bool:
    """Whether the public view leaves the field ``name`` out."""
    return name in OWNER_FIELDS or name.startswith("owner_")


def generalise(degrees: float | None) -> float | None:
    """A coordinate rounded to the nearest :data:`GRID_DEGREES` (``52.2871 -> 52.3``): the point says only which
    cell of about 11 by 7-9 km the site lies in."""
    if degrees is None or (isinstance(degrees, float) and math.isnan(degrees)):
        return degrees
    return round(round(float(degrees) / GRID_DEGREES) * GRID_DEGREES, 6)


def public_site(row: Mapping[str, Any]) -> dict[str, Any]:
    """``row`` as the public may see it (see the module docstring); fields it does not hold stay absent."""
    shown = {name: value for name, value in row.items() if not is_owner_field(name)}
    if not row.get("confidential"):
        return shown
    for lat, lon in COORDINATES:
        for name in (lat, lon):
            if name in shown:
                shown[name] = generalise(shown[name])
    for name in LOCATION_DETAIL:
        if name in shown:
            shown[name] = None
    if "location_precision" in shown:
        shown["location_precision"] = "approximate"
    if "explanation" in shown:
        shown["explanation"] = {}
    return shown
