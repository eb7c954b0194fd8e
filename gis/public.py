"""The public view applied to what queries and exports read: rows and GeoDataFrames in their public form.

Who sees what is decided by :func:`sees_everything` (``read_restricted`` in ``sites.permissions``: every signed-in
user, not the public); what the public form hides is ``sites.disclosure``'s rule. Queries that the app runs for
its reader take an ``actor`` and pass their rows through here; ``actor=None`` is a trusted caller (the command line
acting as a register user, tests), which reads everything.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import geopandas as gpd
from shapely.geometry import Point

from sites.disclosure import LOCATION_DETAIL, generalise, is_owner_field, public_site
from sites.permissions import Actor, allowed


def sees_everything(actor: Actor | None) -> bool:
    """Whether ``actor`` reads owners and exact locations (None: a trusted caller, which does)."""
    return actor is None or allowed(actor, "read_restricted")


def rows_for(actor: Actor | None, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` (each holding ``confidential`` where a site may be) as ``actor`` may see them."""
    if sees_everything(actor):
        return [dict(row) for row in rows]
    return [public_site(row) for row in rows]


def frame_for(actor: Actor | None, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A GeoDataFrame of sites as ``actor`` may see it: for the public, owner columns dropped and each confidential
    site's geometry replaced by its generalised point (a footprint becomes that point too).

    The frame must hold a ``confidential`` column when the actor is the public: without it nobody could tell
    which sites to generalise, so it is refused rather than passed on exact.
    """
    if sees_everything(actor):
        return frame
    if "confidential" not in frame.columns:
        raise ValueError("a public frame needs the sites' confidential column to generalise their locations")
    shown = frame.drop(columns=[c for c in frame.columns if is_owner_field(str(c))]).copy()
    secret = shown["confidential"].fillna(False).astype(bool)
    if secret.any():
        shown.loc[secret, shown.geometry.name] = [_generalised(geom) for geom in shown.loc[secret].geometry]
        for column in LOCATION_DETAIL:
            if column in shown.columns:
                shown.loc[secret, column] = None
        if "location_precision" in shown.columns:
            shown.loc[secret, "location_precision"] = "approximate"
    return shown


def _generalised(geom) -> Point | None:
    if geom is None or geom.is_empty:
        return geom
    point = geom if geom.geom_type == "Point" else geom.representative_point()
    return Point(generalise(point.x), generalise(point.y))
