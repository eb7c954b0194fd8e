"""Import page: upload a file, check the column mapping and every row, then import all, or the valid rows if chosen."""

import json
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from gis import odk, site_import
from gis.import_mapping import mapping_from_dict
from sites.errors import SitesError
from ui import resources

engine, actor = resources.engine(), resources.actor()
st.title("Import sites or samples")
st.caption("CSV (any delimiter, UTF-8 or Windows-1251, decimal commas), XLSX, GeoJSON, GeoPackage, zipped Shapefile, "
           "KML/KMZ. Nothing is stored until you choose how to import; re-importing the same file changes nothing.")

upload = st.file_uploader("File", key="import-file")
target = st.radio("The file holds", ["site", "sample", "odk"], horizontal=True, key="import-target",
                  format_func={"site": "sites", "sample": "sample results of stored sites",
                               "odk": "an ODK Collect / KoboToolbox export of the field form"}.get)
with st.expander("Field form for ODK Collect / KoboToolbox (works offline)"):
    st.caption("Load this XLSForm into ODK Central or KoboToolbox; export the submissions as 'CSV zip with media' "
               "and import the zip here. Repeated submissions are recognised and not imported twice.")
    st.download_button("Download the XLSForm", resources.xlsform(), file_name="kz_legacy_sites.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
if upload is None:
    st.stop()


def problems_table(problems: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(problems, columns=["row", "where", "column", "value", "reason"])


def show(report: dict) -> None:
    counts = st.columns(4)
    for box, name in zip(counts, ("rows_read", "imported", "unchanged", "rejected")):
        box.metric(name.replace("_", " "), f"{report[name]:,}")
    if report["rejections"]:
        st.error(f"{report['rejected']:,} rows rejected: " + "; ".join(f"{k} ({v:,})" for k, v in report["reasons"].items()))
        st.dataframe(problems_table(report["rejections"]), hide_index=True, use_container_width=True)
    if report["warnings"]:
        st.warning(f"{len(report['warnings']):,} warnings (stored anyway), e.g. possible duplicates of stored sites")
        st.dataframe(problems_table(report["warnings"]), hide_index=True, use_container_width=True)
    for note in report["notes"]:
        st.caption(note)


def import_field_export(path: Path) -> None:
    """ODK/Kobo exports: checked as a dry run, then stored submission by submission on request."""
    try:
        report = odk.import_export(engine, actor, path, dry_run=True, valid_only=True,
                                   files_dir=resources.settings().files_dir).to_json()
    except SitesError as error:
        st.error(f"The export cannot be imported: {error}")
        return
    show(report)
    if st.button(f"Import the {report['imported']:,} valid submissions", type="primary",
                 disabled=report["imported"] == 0, key="import-odk"):
        done = odk.import_export(engine, actor, path, valid_only=True, files_dir=resources.settings().files_dir)
        st.success(f"Imported {done.imported:,} submissions; {done.unchanged:,} were already stored.")


with st.expander("Reading options (a workbook's sheet, a GeoPackage's or KML's layer)"):
    sheet = st.text_input("Sheet", key="import-sheet", help="Default: the first sheet.") or None
    layer = st.text_input("Layer", key="import-layer", help="Needed when a file holds several layers.") or None

with tempfile.TemporaryDirectory() as folder:  # the upload is read from disk and removed with the folder
    path = Path(folder) / Path(upload.name).name
    path.write_bytes(upload.getvalue())
    if target == "odk":
        import_field_export(path)
        st.stop()
    try:
        table = site_import.read_table(path, sheet=sheet, layer=layer)
        detected = site_import.effective_mapping(table, target=target)
    except SitesError as error:
        st.error(f"The file cannot be imported: {error}")
        st.stop()
    st.subheader("Column mapping")
    st.caption(f"{len(table.rows):,} rows; columns: {', '.join(table.columns)}. Edit the mapping if a column is "
               "matched wrongly, then check again; download it to reuse with `sites import --mapping`.")
    edited = st.text_area("Mapping (JSON)", value=detected.to_json(table.columns), height=260,
                          key=f"mapping-{upload.file_id}-{target}")
    st.download_button("Download the mapping", edited, file_name=f"{path.stem}.mapping.json", mime="application/json")
    try:
        given = json.loads(edited)
        if not isinstance(given, dict):
            raise ValueError(f"expected a JSON object {{...}}, received a JSON {type(given).__name__}")
        mapping = site_import.effective_mapping(table, mapping_from_dict(given), target=target)
    except (SitesError, ValueError, TypeError) as error:
        st.error(f"The mapping is not usable: {error}")
        st.stop()
    st.subheader("Check")
    # Previewed as a valid-rows import, so the counts say which rows are fine and which are not; "Import all" is
    # then offered only when none is rejected.
    report = site_import.preview(engine, actor, table, mapping, valid_only=True).to_json()
    show(report)
    left, right = st.columns(2)
    # Fixed keys: a label that changes with the counts would otherwise lose a click between two runs.
    everything = left.button("Import all (nothing is stored if any row is rejected)", type="primary",
                             disabled=report["rejected"] > 0 or report["imported"] == 0, key="import-all")
    valid = right.button(f"Import only the {report['imported']:,} valid rows and reject the others",
                         disabled=report["rejected"] == 0 or report["imported"] == 0, key="import-valid")
    if everything or valid:
        try:
            done = site_import.commit(engine, actor, table, mapping, valid_only=valid).to_json()
        except SitesError as error:
            st.error(f"Nothing was imported: {error}")
            st.stop()
        if done["committed"]:
            st.success(f"Imported {done['imported']:,} rows (batch {done['batch_id']}); "
                       f"{done['unchanged']:,} were already stored, {done['rejected']:,} rejected.")
        else:
            st.warning("Nothing was imported: the file changed in the register since the check (see below).")
        show(done)
