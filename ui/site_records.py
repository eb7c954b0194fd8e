"""Parts of the edit page below the form: duplicates, archive, samples, inspections with photos, history."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from gis import field_entry
from gis import inspections as inspection_service
from sites import i18n, vocab
from sites.errors import SitesError
from ui import labels, resources


def duplicates(nearby: list[dict[str, Any]]) -> str | tuple[str, str] | None:
    """Show possible duplicates and ask what to do: "new", ("link", code), "edit" (switching), or None (undecided)."""
    _ = resources.translator()
    st.warning(_("dup.warning", count=len(nearby)))
    st.table(labels.renamed(_, pd.DataFrame([{"code": d["code"], "name": d["name"], "why": d["reason"]}
                                              for d in nearby])))
    first = nearby[0]["code"]
    options = ["undecided", "new", f"link:{first}"] + [f"same:{d['code']}" for d in nearby]
    words = {"undecided": _("dup.choose"), "new": _("dup.new"), f"link:{first}": _("dup.link", code=first)}
    words.update({f"same:{d['code']}": _("dup.same", code=d["code"]) for d in nearby})
    # Keyed by the candidates: a new set of neighbours (the point moved) asks again instead of keeping the answer.
    key = "new-dup-choice-" + "-".join(d["code"] for d in nearby)
    choice = st.radio(_("dup.question"), options, format_func=words.get, key=key)
    if choice.startswith("same:"):
        code = choice.split(":", 1)[1]
        st.button(_("dup.open", code=code), on_click=_open, args=(code,), key="dup-open")
        return "edit"
    if choice.startswith("link:"):
        return ("link", choice.split(":", 1)[1])
    return None if choice == "undecided" else "new"


def _open(code: str) -> None:
    st.session_state["mode"] = "Edit a site"
    st.session_state["open-code"] = code


def differences(changed: dict[str, tuple]) -> pd.DataFrame:
    """What someone else changed: field, the value you loaded, the value stored now (headers translated)."""
    _ = resources.translator()
    rows = [{"field": f, "then": _show(then), "now": _show(now)} for f, (then, now) in changed.items()]
    frame = pd.DataFrame(rows or [{"field": "—", "then": "", "now": ""}])
    return frame.rename(columns={"field": _("diff.field"), "then": _("diff.then"), "now": _("diff.now")})


def _show(value: Any) -> str:
    return "" if value is None else str(value)


def archive(register, actor, site: dict[str, Any]) -> None:
    _ = resources.translator()
    label = _("records.restore") if site["archived"] else _("records.archive")
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
    _, lang = resources.translator(), resources.current_language()
    st.subheader(_("samples.title"))
    guidelines = field_entry.active_guidelines(engine)
    catalogue = {c["code"]: _contaminant_label(c, lang) for c in field_entry.catalogue(engine)}
    k = f"s-{code}-"
    for name, default in SAMPLE_DEFAULTS.items():
        st.session_state.setdefault(k + name, default)
    left, mid, right = st.columns(3)
    left.selectbox(_("samples.contaminant"), list(catalogue), format_func=catalogue.get, key=k + "contaminant")
    mid.selectbox(_("samples.medium"), vocab.MEDIUM, key=k + "medium",
                  format_func=lambda medium: labels.vocab(_, "medium", medium))
    right.text_input(_("samples.result"), key=k + "value", help=_("samples.result.help"))
    left.text_input(_("samples.unit"), key=k + "unit", help=_("samples.unit.help"))
    mid.text_input(_("samples.detection_limit"), key=k + "dl")
    right.text_input(_("samples.depth"), key=k + "depth")
    left.date_input(_("samples.sampled_on"), max_value=dt.date.today(), key=k + "date")
    mid.text_input(_("samples.laboratory"), key=k + "lab")
    _exceedance(engine, _entry(k), guidelines)
    st.button(_("samples.add"), key=k + "add", on_click=_add_sample, args=(register, actor, code, k))
    # Kept until the next attempt (not popped): the map component may rerun the page at any moment. Kept as what
    # happened, worded here, so that it reads in the language chosen since.
    if message := st.session_state.get(k + "message"):
        _sample_message(_, message)
    rows = field_entry.samples_of(engine, code)
    if rows:
        frame = labels.shown(pd.DataFrame(rows), _, lang, medium="medium")
        st.dataframe(frame, hide_index=True, use_container_width=True, column_config=labels.headers(_, frame.columns))


def _contaminant_label(contaminant: dict[str, Any], lang: str) -> str:
    """English readers see the Russian name too, as before; Kazakh and Russian readers their language's first."""
    if lang == "en":
        return f"{contaminant['name_en']} / {contaminant['name_ru']}"
    return i18n.localized(contaminant, lang)


def _sample_message(_, message: dict[str, Any]) -> None:
    if message["error"] is not None:
        st.error(_("samples.not_saved", error=message["error"]))
        return
    entry = message["entry"]
    st.success(_("samples.added", contaminant=entry["contaminant"], medium=labels.vocab(_, "medium", entry["medium"]),
                 value=entry["value"], unit=entry["unit"]))


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
        st.session_state[k + "message"] = {"error": str(error), "entry": None}
        return
    entry = _entry(k)
    for name in ("value", "dl", "depth", "lab"):
        st.session_state[k + name] = SAMPLE_DEFAULTS[name]
    st.session_state[k + "message"] = {"error": None, "entry": entry}


def _exceedance(engine, entry: dict[str, Any], guidelines: str) -> None:
    if not entry["value"]:
        return
    from sites.samples import validate_sample

    _ = resources.translator()
    try:
        row = validate_sample({k: v for k, v in entry.items() if v is not None})
        found = field_entry.exceedance(engine, row["contaminant"], row["medium"], row["value"], row["unit"], guidelines)
    except SitesError as error:
        st.error(str(error))
        return
    if found is None:
        st.info(_("samples.no_guideline", guidelines=guidelines, medium=labels.vocab(_, "medium", entry["medium"])))
        return
    numbers = {"ratio": f"{found['ratio']:.2f}", "guideline": f"{found['guideline']:g}", "unit": found["unit"],
               "set": found["set"]}
    text = (_("samples.exceedance.below", **numbers) if row["qualifier"] == "<"
            else _("samples.exceedance", **numbers))
    (st.error if found["ratio"] > 1 else st.success)(text)


def inspections(engine, actor, code: str, files_dir) -> None:
    """Record an inspection with photos and documents; photos without a geotag are accepted and flagged."""
    _ = resources.translator()
    st.subheader(_("inspections.title"))
    # Keyed widgets: their identity must not hang on the label, which changes with the language.
    k = f"i-{code}-"
    with st.form(f"inspection-{code}", clear_on_submit=True):
        when = st.date_input(_("inspections.date"), value=dt.date.today(), max_value=dt.date.today(), key=k + "date")
        condition = st.selectbox(_("inspections.condition"), vocab.CONTAINMENT, key=k + "condition",
                                 index=vocab.CONTAINMENT.index("unknown"),
                                 format_func=lambda value: labels.vocab(_, "containment", value))
        findings = st.text_area(_("inspections.findings"), key=k + "findings")
        files = st.file_uploader(_("inspections.files"), accept_multiple_files=True, key=k + "files")
        submitted = st.form_submit_button(_("inspections.save"))
    if submitted:
        _save_inspection(engine, actor, code, {"inspected_on": when, "condition": condition, "findings": findings},
                         files or [], files_dir)
    for item in inspection_service.list_attachments(engine, code):
        _attachment_line(engine, item, files_dir)


def _save_inspection(engine, actor, code, data, files, files_dir) -> None:
    """The inspection and all its files, or nothing: a refused file names itself and nothing is stored."""
    _ = resources.translator()
    photos = [(upload.name, upload.getvalue()) for upload in files]
    try:
        inspection_service.add_inspection(engine, actor, code, data, photos, files_dir=files_dir)
    except SitesError as error:
        st.error(_("inspections.not_saved", error=error))
        return
    st.success(_("inspections.saved", count=len(photos)))


def _attachment_line(engine, item: dict[str, Any], files_dir) -> None:
    _ = resources.translator()
    where = (_("files.no_geotag") if item.get("geotag_missing") else
             _("files.taken", metres=f"{item['distance_m']:,.0f}") if item.get("distance_m") is not None else "")
    line = _("files.line", filename=item["filename"], type=item["media_type"], size=f"{item['size_bytes']:,}",
             where=where, sha256=item["sha256"][:12])
    try:
        thumbnail = (inspection_service.read_thumbnail(engine, item["id"], files_dir=files_dir)
                     if item.get("is_photo") else None)
    except SitesError:  # e.g. the database was restored without the files folder
        thumbnail, line = None, line + " · " + _("files.missing")
    if thumbnail:
        st.image(thumbnail, caption=line, width=160)
    else:
        st.caption(line)


def history(register, code: str) -> None:
    """Every audited change of the site, newest first, with the fields each one changed."""
    _ = resources.translator()
    st.subheader(_("history.title"))
    rows = []
    for entry in reversed(register.history(code)):
        before, after = entry.get("before") or {}, entry.get("after") or {}
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k)
                         and k not in ("version", "updated_at"))
        rows.append({"when": entry["at"], "who": entry["actor"], "what": _what(_, entry["action"], entry["entity"]),
                     "fields": ", ".join(changed) if entry["action"] == "update" else ""})
    frame = pd.DataFrame(rows, columns=["when", "who", "what", "fields"])
    st.dataframe(frame, hide_index=True, use_container_width=True, column_config=labels.headers(_, frame.columns))


def _what(_, action: str, entity: str) -> str:
    """"update", or "insert sample" for a change to one of the site's records, in the reader's language."""
    done = labels.vocab_or_value(_, "action", action)
    if entity == "site":
        return done
    return _("history.child", action=done, entity=labels.vocab_or_value(_, "entity", entity))
