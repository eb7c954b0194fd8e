"""Add or edit a site: place it, describe it, check for duplicates and save; then its samples, inspections, history."""

import streamlit as st

from gis import field_entry
from sites.errors import SitesError, StaleWrite
from ui import resources, site_form, site_records

register, engine = resources.register(), resources.engine()
actor = resources.actor()
_ = resources.translator()
st.title(_("edit.title"))
# The options stay English codes (site_records opens a site by setting "Edit a site"); only their labels change.
MODES = {"Add a new site": _("edit.mode.add"), "Edit a site": _("edit.mode.edit")}
mode = st.radio(_("edit.mode"), list(MODES), horizontal=True, key="mode", label_visibility="collapsed",
                format_func=MODES.get)


def name_of(prefix: str) -> str | None:
    return next((st.session_state.get(f"{prefix}-{k}") for k in ("name_en", "name_ru", "name_kk")
                 if st.session_state.get(f"{prefix}-{k}")), None)


def forget(prefix: str) -> None:
    for key in [k for k in st.session_state if str(k).startswith(prefix + "-")]:
        del st.session_state[key]


def add_site() -> None:
    point = st.session_state.get("new-point")
    within = st.sidebar.number_input(_("edit.dup_distance"), 50, 20_000, 500, step=50, key="dup-distance")
    try:
        nearby = field_entry.possible_duplicates(engine, *point, name_of("new"), within_m=within) if point else []
    except SitesError as error:
        st.error(_("edit.dup_failed", error=error))
        nearby = []
    site_form.location("new", None, nearby)
    values = site_form.fields("new", None)
    choice = site_records.duplicates(nearby) if nearby else "new"
    if choice == "edit":
        return
    if st.button(_("edit.save_new"), type="primary", disabled=choice is None, key="save-new"):
        data = {**values, "lat": point[0] if point else None, "lon": point[1] if point else None,
                "footprint": st.session_state.get("new-footprint")}
        notes = [f"Entered as {typed}" for typed in [st.session_state.get("new-typed")] if typed]
        if isinstance(choice, tuple):  # "link": keep the new site, noting the one it may relate to
            notes.append(f"Possibly related to {choice[1]} (noted at entry by {actor.name})")
        data["location_note"] = "; ".join(notes) or None
        try:
            stored = register.create_site(actor, data)
        except SitesError as error:
            st.error(_("edit.not_saved", error=error))
            return
        forget("new")
        st.session_state["saved"] = stored["code"]
        st.rerun()


def edit_site() -> None:
    codes = register.site_codes(include_archived=True)
    if not codes:
        st.info(_("edit.empty"))
        return
    wanted = st.session_state.pop("open-code", None)
    if wanted in codes:
        st.session_state["site-code"] = wanted
    code = st.selectbox(_("edit.site"), codes, key="site-code")
    loaded = st.session_state.get("edit-loaded")
    if not loaded or loaded["code"] != code:
        forget("edit")
        loaded = st.session_state["edit-loaded"] = register.get_site(code)
    st.caption(_("edit.loaded", version=loaded["version"], saved=f"{loaded['updated_at']:%Y-%m-%d %H:%M}")
               + (f" · **{_('edit.archived')}**" if loaded["archived"] else ""))
    if stale := st.session_state.get("edit-stale"):
        st.error(stale["message"])
        st.table(site_records.differences(stale["changed"]))
        st.button(_("edit.reload"), on_click=forget, args=("edit",), key="reload")
    site_form.location("edit", loaded, [])
    values = site_form.fields("edit", loaded)
    if st.button(_("edit.save"), type="primary", key="save-changes"):
        point = st.session_state["edit-point"]
        changes = {**values, "lat": point[0], "lon": point[1], "footprint": st.session_state.get("edit-footprint")}
        save(code, loaded, changes)
    site_records.archive(register, actor, loaded)
    site_records.samples(engine, register, actor, code)
    site_records.inspections(engine, actor, code, resources.settings().files_dir)
    site_records.history(register, code)


def save(code: str, loaded: dict, changes: dict) -> None:
    try:
        register.update_site(actor, code, loaded["version"], changes)
    except StaleWrite as error:  # shown above the form until the inspector reloads
        st.session_state["edit-stale"] = {"message": str(error), "changed": error.changed}
        st.rerun()
    except SitesError as error:
        st.error(_("edit.not_saved", error=error))
        return
    forget("edit")
    st.session_state["saved"] = code
    st.rerun()


if saved := st.session_state.pop("saved", None):
    st.success(_("edit.saved", code=saved))
if mode == "Add a new site":
    add_site()
else:
    edit_site()
