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
    choice = st.radio("These may be the same site", options, format_func=labels.get, key="new-dup-choice")
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


def samples(engine, register, actor, code: str) -> None:
    """Sample entry with the exceedance ratio shown as the value is typed, then the site's results."""
    st.subheader("Samples")
    guidelines = field_entry.active_guidelines(engine)
    catalogue = {c["code"]: f"{c['name_en']} / {c['name_ru']}" for c in field_entry.catalogue(engine)}
    left, mid, right = st.columns(3)
    entry = {
        "contaminant": left.selectbox("Contaminant", list(catalogue), format_func=catalogue.get, key="s-contaminant"),
        "medium": mid.selectbox("Medium", vocab.MEDIUM, key="s-medium"),
        "value": right.text_input("Result", key="s-value", help=QUALIFIER_HELP),
        "unit": left.text_input("Unit", value="mg/kg", key="s-unit", help="mg/kg, µg/kg, ppm, g/t, mg/L, µg/L, Bq/kg …"),
        "detection_limit": mid.text_input("Detection limit (same unit)", key="s-dl") or None,
        "depth_m": right.text_input("Depth, m", key="s-depth") or None,
        "sampled_on": left.date_input("Sampled on", value=None, max_value=dt.date.today(), key="s-date"),
        "laboratory": mid.text_input("Laboratory", key="s-lab") or None,
    }
    _exceedance(engine, entry, guidelines)
    if st.button("Add sample", key="s-add"):
        try:
            register.add_sample(actor, code, entry)
            st.success("Sample added.")
        except SitesError as error:
            st.error(f"Not saved: {error}")
    rows = field_entry.samples_of(engine, code)
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, use_container_width=True)


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
    with st.form("inspection", clear_on_submit=True):
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
    try:
        inspection_id = inspection_service.add_inspection(engine, actor, code, data)
    except SitesError as error:
        st.error(f"Not saved: {error}")
        return
    for upload in files:
        try:
            stored = inspection_service.attach(engine, actor, code, upload.name, upload.getvalue(), inspection_id=inspection_id,
                                               files_dir=files_dir)
        except SitesError as error:
            st.error(f"{upload.name} not attached: {error}")
            continue
        if stored.get("geotag_missing"):
            st.warning(f"{upload.name}: no GPS geotag in the photo; stored and flagged.")
    st.success("Inspection saved.")


def _attachment_line(engine, item: dict[str, Any], files_dir) -> None:
    where = ("no geotag (flagged)" if item.get("geotag_missing") else
             f"taken {item['distance_m']:,.0f} m from the site's point" if item.get("distance_m") is not None else "")
    line = f"{item['filename']} · {item['media_type']} · {item['size_bytes']:,} bytes · {where} · sha256 {item['sha256'][:12]}…"
    thumbnail = inspection_service.read_thumbnail(engine, item["id"], files_dir=files_dir) if item.get("is_photo") else None
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
        rows.append({"when": entry["at"], "who": entry["actor"], "what": entry["action"],
                     "fields": ", ".join(changed) if entry["action"] == "update" else ""})
    st.dataframe(pd.DataFrame(rows), hide_index=True, use_container_width=True)
