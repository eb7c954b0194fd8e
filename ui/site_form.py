"""Widgets of the add/edit page: where the site is (typed, clicked or drawn) and what it is."""

from __future__ import annotations

from typing import Any

import streamlit as st
from streamlit_folium import st_folium

from gis import maps
from gis.crs import parse_point
from sites import vocab
from sites.regions import REGIONS
from sites.errors import SitesError

COORDINATE_HELP = (
    "Decimal degrees (52.2871, 76.9674 or 52,2871; 76,9674), degrees-minutes-seconds (52°17'13\"N 76°58'03\"E), "
    "UTM (43U 500000 5795000) or Pulkovo-1942 Gauss-Krüger (X=5795000 Y=13512000)."
)
CHOICES = {"activity": vocab.ACTIVITY, "location_precision": vocab.LOCATION_PRECISION, "stage": vocab.STAGE,
           "containment": vocab.CONTAINMENT, "accessibility": vocab.ACCESSIBILITY, "owner_status": vocab.OWNER_STATUS}
TEXTS = {"name_en": "Name (English)", "name_ru": "Name (Russian)", "name_kk": "Name (Kazakh)",
         "operator": "Operator", "description": "Description", "sources": "Sources (reports, archives)"}
NUMBERS = {"area_ha": "Area, ha", "waste_mass_t": "Waste mass, t", "waste_volume_m3": "Waste volume, m³"}
YEARS = {"operating_from": "Operating from (year)", "operating_to": "Operating to (year)"}


def location(prefix: str, start: dict[str, Any] | None, nearby: list[dict[str, Any]]) -> None:
    """Coordinates box and placement map; keeps the chosen point and footprint in session state."""
    state = st.session_state
    if f"{prefix}-point" not in state:
        state[f"{prefix}-point"] = (start["lat"], start["lon"]) if start else None
        state[f"{prefix}-footprint"] = start.get("footprint") if start else None
    st.text_input("Coordinates", key=f"{prefix}-coords", help=COORDINATE_HELP, on_change=_typed, args=(prefix,),
                  placeholder="52.2871, 76.9674 — or click the map")
    if error := state.get(f"{prefix}-coords-error"):
        st.error(error)
    point = state[f"{prefix}-point"]
    st.caption(f"Point: {point[0]:.6f} N, {point[1]:.6f} E" if point else "No point yet: type coordinates or click the map.")
    fmap = maps.placement_map(point, state[f"{prefix}-footprint"], nearby)
    returned = st_folium(fmap, height=420, use_container_width=True, key=f"{prefix}-map", wrap_longitude=True,
                         returned_objects=["last_clicked", "last_active_drawing"])
    clicked, drawn = maps.read_placement(returned)
    if clicked and clicked != state.get(f"{prefix}-last-click"):
        state[f"{prefix}-last-click"], state[f"{prefix}-point"] = clicked, clicked
        state[f"{prefix}-typed"] = None
        st.rerun()
    if drawn and drawn != state[f"{prefix}-footprint"]:
        state[f"{prefix}-footprint"] = drawn
        if state[f"{prefix}-point"] is None:  # a drawn outline places the site at a point inside it
            state[f"{prefix}-point"] = maps.inside_point(drawn)
        st.rerun()


def _typed(prefix: str) -> None:
    state = st.session_state
    text = state[f"{prefix}-coords"].strip()
    state[f"{prefix}-coords-error"] = None
    if not text:
        return
    try:
        lat, lon, reading = parse_point(text)
    except SitesError as error:
        state[f"{prefix}-coords-error"] = f"Could not read the coordinates: {error}"
        return
    state[f"{prefix}-point"] = (round(lat, 6), round(lon, 6))
    # Kept for the location note: the zone and datum of a map reading are part of its provenance.
    state[f"{prefix}-typed"] = f"{text} ({reading.kind}, EPSG:{reading.epsg})" if reading.kind in ("utm", "gk") else None


def fields(prefix: str, start: dict[str, Any] | None) -> dict[str, Any]:
    """The site's attributes as a form; returns the values entered (empty strings as None)."""
    start = start or {}
    values: dict[str, Any] = {}
    left, right = st.columns(2)
    for i, (name, label) in enumerate(TEXTS.items()):
        box = left if i % 2 == 0 else right
        widget = box.text_area if name in ("description", "sources") else box.text_input
        values[name] = widget(label, value=start.get(name) or "", key=f"{prefix}-{name}") or None
    katos = [None] + [r.kato for r in REGIONS]
    names = {r.kato: f"{r.name_en} / {r.name_ru}" for r in REGIONS}
    values["region_kato"] = left.selectbox(
        "Region", katos, index=katos.index(start.get("region_kato")) if start.get("region_kato") in katos else 0,
        format_func=lambda k: names.get(k, "— from the boundaries layer —"), key=f"{prefix}-region_kato",
        help="Loaded region boundaries decide; this choice counts only where no boundary covers the point.")
    for i, (name, options) in enumerate(CHOICES.items(), start=1):
        box = left if i % 2 == 0 else right
        current = start.get(name) or _default(name)
        values[name] = box.selectbox(name.replace("_", " ").capitalize(), options, index=options.index(current),
                                     format_func=lambda v: v.replace("_", " "), key=f"{prefix}-{name}")
    for i, (name, label) in enumerate({**NUMBERS, **YEARS}.items()):
        box = left if i % 2 == 0 else right
        values[name] = box.text_input(label, value=_text(start.get(name)), key=f"{prefix}-{name}") or None
    return values


def _default(name: str) -> str:
    return {"activity": "other", "location_precision": "approximate", "stage": "suspected"}.get(name, "unknown")


def _text(value: Any) -> str:
    if value is None:
        return ""
    # str, not :g: a float keeps every digit, so saving an untouched form changes nothing (1234567.0 stays)
    return str(value)
