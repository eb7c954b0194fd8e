"""Widgets of the add/edit page: where the site is (typed, clicked or drawn) and what it is."""

from __future__ import annotations

from typing import Any

import streamlit as st
from streamlit_folium import st_folium

from gis import maps
from gis.crs import parse_point
from sites import i18n, vocab
from sites.regions import REGIONS
from sites.errors import SitesError
from ui import labels, resources

# field -> (its vocabulary, the prefix of its values' labels in data/i18n.csv)
CHOICES = {"activity": (vocab.ACTIVITY, "activity"),
           "location_precision": (vocab.LOCATION_PRECISION, "precision"),
           "stage": (vocab.STAGE, "stage"),
           "containment": (vocab.CONTAINMENT, "containment"),
           "accessibility": (vocab.ACCESSIBILITY, "accessibility"),
           "owner_status": (vocab.OWNER_STATUS, "owner_status")}


def _field_labels(_) -> dict[str, dict[str, str]]:
    """The form's labels in the reader's language: free texts, choices, numbers and years."""
    return {
        "texts": {"name_en": _("form.name_en"), "name_ru": _("form.name_ru"), "name_kk": _("form.name_kk"),
                  "operator": _("form.operator"), "description": _("form.description"),
                  "sources": _("form.sources")},
        "choices": {"activity": _("form.activity"), "location_precision": _("form.location_precision"),
                    "stage": _("form.stage"), "containment": _("form.containment"),
                    "accessibility": _("form.accessibility"), "owner_status": _("form.owner_status")},
        "numbers": {"area_ha": _("form.area_ha"), "waste_mass_t": _("form.waste_mass_t"),
                    "waste_volume_m3": _("form.waste_volume_m3"), "operating_from": _("form.operating_from"),
                    "operating_to": _("form.operating_to")},
    }


def location(prefix: str, start: dict[str, Any] | None, nearby: list[dict[str, Any]]) -> None:
    """Coordinates box and placement map; keeps the chosen point and footprint in session state."""
    state, _ = st.session_state, resources.translator()
    if f"{prefix}-point" not in state:
        state[f"{prefix}-point"] = (start["lat"], start["lon"]) if start else None
        state[f"{prefix}-footprint"] = start.get("footprint") if start else None
    st.text_input(_("form.coords"), key=f"{prefix}-coords", help=_("form.coords.help"), on_change=_typed,
                  args=(prefix,), placeholder=_("form.coords.placeholder"))
    if error := state.get(f"{prefix}-coords-error"):  # the reason (from gis.crs), worded on display
        st.error(_("form.coords.error", error=error))
    point = state[f"{prefix}-point"]
    st.caption(_("form.point", lat=f"{point[0]:.6f}", lon=f"{point[1]:.6f}") if point else _("form.no_point"))
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
        state[f"{prefix}-coords-error"] = str(error)
        return
    state[f"{prefix}-point"] = (round(lat, 6), round(lon, 6))
    # Kept for the location note: the zone and datum of a map reading are part of its provenance.
    state[f"{prefix}-typed"] = f"{text} ({reading.kind}, EPSG:{reading.epsg})" if reading.kind in ("utm", "gk") else None


def fields(prefix: str, start: dict[str, Any] | None) -> dict[str, Any]:
    """The site's attributes as a form; returns the values entered (empty strings as None)."""
    start, _ = start or {}, resources.translator()
    lang, words = resources.current_language(), _field_labels(_)
    values: dict[str, Any] = {}
    left, right = st.columns(2)
    for i, (name, label) in enumerate(words["texts"].items()):
        box = left if i % 2 == 0 else right
        widget = box.text_area if name in ("description", "sources") else box.text_input
        values[name] = widget(label, value=start.get(name) or "", key=f"{prefix}-{name}") or None
    katos = [None] + [r.kato for r in REGIONS]
    names = {r.kato: _region_label(r, lang) for r in REGIONS}
    current_region = katos.index(start.get("region_kato")) if start.get("region_kato") in katos else 0
    values["region_kato"] = left.selectbox(
        _("form.region"), katos, index=current_region,
        format_func=lambda k: names.get(k, _("form.region.none")), key=f"{prefix}-region_kato",
        help=_("form.region.help"))
    for i, (name, (options, kind)) in enumerate(CHOICES.items(), start=1):
        box = left if i % 2 == 0 else right
        current = start.get(name) or _default(name)
        values[name] = box.selectbox(words["choices"][name], options, index=options.index(current),
                                     format_func=lambda v, kind=kind: labels.vocab(_, kind, v), key=f"{prefix}-{name}")
    for i, (name, label) in enumerate(words["numbers"].items()):
        box = left if i % 2 == 0 else right
        values[name] = box.text_input(label, value=_text(start.get(name)), key=f"{prefix}-{name}") or None
    return values


def _region_label(region, lang: str) -> str:
    """English readers see the Russian name too (as on most maps of Kazakhstan); others their own language's."""
    if lang == "en":
        return f"{region.name_en} / {region.name_ru}"
    return i18n.localized({"name_en": region.name_en, "name_ru": region.name_ru, "name_kk": region.name_kk}, lang)


def _default(name: str) -> str:
    return {"activity": "other", "location_precision": "approximate", "stage": "suspected"}.get(name, "unknown")


def _text(value: Any) -> str:
    if value is None:
        return ""
    # str, not :g: a float keeps every digit, so saving an untouched form changes nothing (1234567.0 stays)
    return str(value)
