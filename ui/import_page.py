"""Import page: upload a file, check the column mapping and every row, then import all, or the valid rows if chosen."""

import json
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from gis import odk, queries, site_import
from gis.import_mapping import mapping_from_dict
from sites.errors import SitesError
from ui import labels, resources

engine, actor = resources.engine(), resources.actor()
_ = resources.translator()
st.title(_("import.title"))
st.caption(_("import.formats"))

upload = st.file_uploader(_("import.file"), key="import-file")
TARGETS = {"site": _("import.target.site"), "sample": _("import.target.sample"), "odk": _("import.target.odk")}
target = st.radio(_("import.target"), list(TARGETS), horizontal=True, key="import-target", format_func=TARGETS.get)
with st.expander(_("import.odk.form")):
    st.caption(_("import.odk.form.help"))
    st.download_button(_("import.odk.download"), resources.xlsform(), file_name="kz_legacy_sites.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="import-xlsform")
if upload is None:
    st.stop()

PROBLEM_COLUMNS = ["row", "where", "column", "value", "reason"]


def problems_table(problems: list[dict]) -> None:
    st.dataframe(pd.DataFrame(problems, columns=PROBLEM_COLUMNS), hide_index=True, use_container_width=True,
                 column_config=labels.headers(_, PROBLEM_COLUMNS))


def show(report: dict) -> None:
    counts = st.columns(4)
    names = {"rows_read": _("import.rows_read"), "imported": _("import.imported"),
             "unchanged": _("import.unchanged"), "rejected": _("import.rejected")}
    for box, (name, label) in zip(counts, names.items()):
        box.metric(label, f"{report[name]:,}")
    if report["rejections"]:
        reasons = "; ".join(f"{k} ({v:,})" for k, v in report["reasons"].items())  # the checks' own words
        st.error(_("import.rejections", count=f"{report['rejected']:,}", reasons=reasons))
        problems_table(report["rejections"])
    if report["warnings"]:
        st.warning(_("import.warnings", count=f"{len(report['warnings']):,}"))
        problems_table(report["warnings"])
    for note in report["notes"]:
        st.caption(note)


def import_field_export(path: Path) -> None:
    """ODK/Kobo exports: checked as a dry run, then stored submission by submission on request."""
    try:
        report = odk.import_export(engine, actor, path, dry_run=True, valid_only=True,
                                   files_dir=resources.settings().files_dir).to_json()
    except SitesError as error:
        st.error(_("import.odk.refused", error=error))
        return
    show(report)
    if st.button(_("import.odk.button", count=f"{report['imported']:,}"), type="primary",
                 disabled=report["imported"] == 0, key="import-odk"):
        done = odk.import_export(engine, actor, path, valid_only=True, files_dir=resources.settings().files_dir)
        st.success(_("import.odk.done", imported=f"{done.imported:,}", unchanged=f"{done.unchanged:,}"))


def remembered(slot: str, key: tuple, make):
    """``make()`` once per ``key`` in this session (one entry per slot): a rerun for a click or an edited mapping
    must not read a 100,000-row file and check every row again. A failure is not remembered."""
    kept = st.session_state.get(slot)
    if kept is None or kept[0] != key:
        kept = st.session_state[slot] = (key, make())
    return kept[1]


with st.expander(_("import.options")):
    sheet = st.text_input(_("import.sheet"), key="import-sheet", help=_("import.sheet.help")) or None
    layer = st.text_input(_("import.layer"), key="import-layer", help=_("import.layer.help")) or None

with tempfile.TemporaryDirectory() as folder:  # the upload is read from disk and removed with the folder
    path = Path(folder) / Path(upload.name).name
    path.write_bytes(upload.getvalue())
    if target == "odk":
        import_field_export(path)
        st.stop()
    try:
        table = remembered("import-table", (upload.file_id, sheet, layer),
                           lambda: site_import.read_table(path, sheet=sheet, layer=layer))
        detected = site_import.effective_mapping(table, target=target)
    except SitesError as error:
        st.error(_("import.refused", error=error))
        st.stop()
    st.subheader(_("import.mapping"))
    st.caption(_("import.mapping.help", rows=f"{len(table.rows):,}", columns=", ".join(table.columns)))
    edited = st.text_area(_("import.mapping.json"), value=detected.to_json(table.columns), height=260,
                          key=f"mapping-{upload.file_id}-{target}")
    st.download_button(_("import.mapping.download"), edited, file_name=f"{path.stem}.mapping.json",
                       mime="application/json", key="import-mapping-download")
    try:
        given = json.loads(edited)
        if not isinstance(given, dict):
            raise ValueError(_("import.mapping.not_object", kind=type(given).__name__))
        mapping = site_import.effective_mapping(table, mapping_from_dict(given), target=target)
    except (SitesError, ValueError, TypeError) as error:
        st.error(_("import.mapping.unusable", error=error))
        st.stop()
    st.subheader(_("import.check"))
    # Previewed as a valid-rows import, so the counts say which rows are fine and which are not; "Import all" is
    # then offered only when none is rejected.
    # Checked again whenever the register changes (another import, an edit): the version is part of the key.
    checked = (upload.file_id, sheet, layer, target, edited, actor.name, queries.register_version(engine))
    report = remembered("import-report", checked,
                        lambda: site_import.preview(engine, actor, table, mapping, valid_only=True).to_json())
    show(report)
    left, right = st.columns(2)
    # Fixed keys: a label that changes with the counts would otherwise lose a click between two runs.
    everything = left.button(_("import.all"), type="primary",
                             disabled=report["rejected"] > 0 or report["imported"] == 0, key="import-all")
    valid = right.button(_("import.valid", count=f"{report['imported']:,}"),
                         disabled=report["rejected"] == 0 or report["imported"] == 0, key="import-valid")
    if everything or valid:
        try:
            done = site_import.commit(engine, actor, table, mapping, valid_only=valid).to_json()
        except SitesError as error:
            st.error(_("import.failed", error=error))
            st.stop()
        if done["committed"]:
            st.success(_("import.done", imported=f"{done['imported']:,}", batch=done["batch_id"],
                         unchanged=f"{done['unchanged']:,}", rejected=f"{done['rejected']:,}"))
        else:
            st.warning(_("import.stale"))
        show(done)
