"""Parts of the edit page below the form: duplicates, archive, samples, inspections with photos, history."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from gis import field_entry
from gis import inspections as inspection_service
from sites import vocab
from sites.errors import SitesError

QUALIFIER_HELP = "Type the result as the lab report prints it: 0,35 · <0.05 · > 100 · н/о or ND (give the limit)."


def duplicates(nearby: list[dict[str, Any]]) -> str | tuple[str, str] | None:
    """Show possible duplicates and ask what to do: "new", ("link", code), "edit" (switching), or None (undecided)."""
    st.warning(f"{len(nearby)} stored site(s) are near this point or have a similar name. Check before saving.")
    st.table(pd.DataFrame([{"code": d["code"], "name": d["name"], "why": d["reason"]} for d in nearby]))
    first = nearby[0]["code"]
    options = ["undecided", "new", f"link:{first}"] + [f"same:{d['code']}" for d in nearby]
    labels = {"undecided": "Choose…", "new": "It is a different site: save it as new",
              f"link:{first}": f"Save as new, noting it may be related to {first}"}
    labels.update({f"same:{d['code']}": f"It is {d['code']}: edit that record instead" for d in nearby})
    # Keyed by the candidates: a new set of neighbours (the point moved) asks again instead of keeping the answer.
    key = "new-dup-choice-" + "-".join(d["code"] for d in nearby)
    choice = st.radio("These may be the same site", options, format_func=labels.get, key=key)
    if choice.startswith("same:"):
        code = choice.split(":", 1)[1]
        st.button(f"Open {code} for editing", on_click=_open, args=(code,))
        return "edit"
    if choice.startswith("link:"):
        return ("link", choice.split(":", 1)[1])
    return None if choice == "undecided" else "new"


def _open(code: str) -> None:
    st.session_state["mode"] = "Edit a site"
    st.session_state["open-code"] = code


def differences(changed: dict[str, tuple]) -> pd.DataFrame:
    """What someone else changed: field, the value you loaded, the value stored now."""
    rows = [{"field": f, "when you loaded it": _show(then), "stored now": _show(now)} for f, (then, now) in changed.items()]
    return pd.DataFrame(rows or [{"field": "—", "when you loaded it": "", "stored now": ""}])


def _show(value: Any) -> str:
    return "" if value is None else str(value)


def archive(register, actor, site: dict[str, Any]) -> None:
    label = "Restore this site" if site["archived"] else "Archive this site (it leaves the map and ranking)"
    if st.button(label, key="archive-toggle"):
        try:
            register.archive_site(actor, site["code"], site["version"], archived=not site["archived"])
        except SitesError as error:
            st.error(str(error))
            return
        st.session_state.pop("edit-loaded", None)
        st.rerun()


SAMPLE_DEFAULTS = {"value": "", "unit": "mg/kg", "dl": "", "depth": "", "date": None, "lab": ""}


def samples(engine, register, actor, code: str) -> None:
    """Sample entry with the exceedance ratio shown as the value is typed, then the site's results.

    Widgets are keyed by the site, so a half-typed result never follows the inspector to another site; a stored
    sample empties the entry, so a second click cannot store it twice.
    """
    st.subheader("Samples")
    guidelines = field_entry.active_guidelines(engine)
    catalogue = {c["code"]: f"{c['name_en']} / {c['name_ru']}" for c in field_entry.catalogue(engine)}
    k = f"s-{code}-"
    for name, default in SAMPLE_DEFAULTS.items():
        st.session_state.setdefault(k + name, default)
    left, mid, right = st.columns(3)
    left.selectbox("Contaminant", list(catalogue), format_func=catalogue.get, key=k + "contaminant")
    mid.selectbox("Medium", vocab.MEDIUM, key=k + "medium")
    right.text_input("Result", key=k + "value", help=QUALIFIER_HELP)
    left.text_input("Unit", key=k + "unit", help="mg/kg, µg/kg, ppm, g/t, mg/L, µg/L, Bq/kg …")
    mid.text_input("Detection limit (same unit)", key=k + "dl")
    right.text_input("Depth, m", key=k + "depth")
    left.date_input("Sampled on", max_value=dt.date.today(), key=k + "date")
    mid.text_input("Laboratory", key=k + "lab")
    _exceedance(engine, _entry(k), guidelines)
    st.button("Add sample", key=k + "add", on_click=_add_sample, args=(register, actor, code, k))
    # Kept until the next attempt (not popped): the map component may rerun the page at any moment.
    if message := st.session_state.get(k + "message"):
        (st.success if message.startswith("Sample added") else st.error)(message)
    rows = field_entry.samples_of(engine, code)
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, use_container_width=True)


def _entry(k: str) -> dict[str, Any]:
    state = st.session_state
    return {"contaminant": state[k + "contaminant"], "medium": state[k + "medium"], "value": state[k + "value"],
            "unit": state[k + "unit"], "detection_limit": state[k + "dl"] or None, "depth_m": state[k + "depth"] or None,
            "sampled_on": state[k + "date"], "laboratory": state[k + "lab"] or None}


def _add_sample(register, actor, code: str, k: str) -> None:
    """Runs before the rerun (a button callback), so it may empty the entry widgets after storing."""
    try:
        register.add_sample(actor, code, _entry(k))
    except SitesError as error:
        st.session_state[k + "message"] = f"Not saved: {error}"
        return
    entry = _entry(k)
    for name in ("value", "dl", "depth", "lab"):
        st.session_state[k + name] = SAMPLE_DEFAULTS[name]
    st.session_state[k + "message"] = (f"Sample added: {entry['contaminant']} in {entry['medium']}, "
                                       f"{entry['value']} {entry['unit']}.")


def _exceedance(engine, entry: dict[str, Any], guidelines: str) -> None:
    if not entry["value"]:
        return
    from sites.samples import validate_sample

    try:
        row = validate_sample({k: v for k, v in entry.items() if v is not None})
        found = field_entry.exceedance(engine, row["contaminant"], row["medium"], row["value"], row["unit"], guidelines)
    except SitesError as error:
        st.error(str(error))
        return
    if found is None:
        st.info(f"{guidelines} has no guideline value for this contaminant in {entry['medium']}.")
        return
    below = "below the detection limit, " if row["qualifier"] == "<" else ""
    text = (f"{below}{found['ratio']:.2f} × the guideline value {found['guideline']:g} {found['unit']} "
            f"({found['set']})")
    (st.error if found["ratio"] > 1 else st.success)(text)


def inspections(engine, actor, code: str, files_dir) -> None:
    """Record an inspection with photos and documents; photos without a geotag are accepted and flagged."""
    st.subheader("Inspections, photos and documents")
    with st.form(f"inspection-{code}", clear_on_submit=True):
        when = st.date_input("Inspected on", value=dt.date.today(), max_value=dt.date.today())
        condition = st.selectbox("Containment seen", vocab.CONTAINMENT, index=vocab.CONTAINMENT.index("unknown"))
        findings = st.text_area("Findings")
        files = st.file_uploader("Photos and documents", accept_multiple_files=True)
        submitted = st.form_submit_button("Save inspection")
    if submitted:
        _save_inspection(engine, actor, code, {"inspected_on": when, "condition": condition, "findings": findings},
                         files or [], files_dir)
    for item in inspection_service.list_attachments(engine, code):
        _attachment_line(engine, item, files_dir)


def _save_inspection(engine, actor, code, data, files, files_dir) -> None:
    """The inspection and all its files, or nothing: a refused file names itself and nothing is stored."""
    photos = [(upload.name, upload.getvalue()) for upload in files]
    try:
        inspection_service.add_inspection(engine, actor, code, data, photos, files_dir=files_dir)
    except SitesError as error:
        st.error(f"Nothing was saved: {error}. Remove or replace that file and save again.")
        return
    st.success(f"Inspection saved with {len(photos)} file(s). Photos without a GPS geotag are flagged below.")


def _attachment_line(engine, item: dict[str, Any], files_dir) -> None:
    where = ("no geotag (flagged)" if item.get("geotag_missing") else
             f"taken {item['distance_m']:,.0f} m from the site's point" if item.get("distance_m") is not None else "")
    line = f"{item['filename']} · {item['media_type']} · {item['size_bytes']:,} bytes · {where} · sha256 {item['sha256'][:12]}…"
    try:
        thumbnail = (inspection_service.read_thumbnail(engine, item["id"], files_dir=files_dir)
                     if item.get("is_photo") else None)
    except SitesError:  # e.g. the database was restored without the files folder
        thumbnail, line = None, line + " · FILE MISSING from the files folder"
    if thumbnail:
        st.image(thumbnail, caption=line, width=160)
    else:
        st.caption(line)


def history(register, code: str) -> None:
    """Every audited change of the site, newest first, with the fields each one changed."""
    st.subheader("History")
    rows = []
    for entry in reversed(register.history(code)):
        before, after = entry.get("before") or {}, entry.get("after") or {}
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k)
                         and k not in ("version", "updated_at"))
        what = entry["action"] if entry["entity"] == "site" else f"{entry['action']} {entry['entity'].replace('_', ' ')}"
        rows.append({"when": entry["at"], "who": entry["actor"], "what": what,
                     "fields": ", ".join(changed) if entry["action"] == "update" else ""})
    st.dataframe(pd.DataFrame(rows), hide_index=True, use_container_width=True)
