"""Exports page: the register as one offline HTML map, a printed map (PDF/PNG) or data files, for a workshop."""

import tempfile
from pathlib import Path

import streamlit as st

from gis import queries
from sites.errors import SitesError
from sites.i18n import LANGUAGE_NAMES, LANGUAGES
from sites.permissions import allowed
from ui import resources

_ = resources.translator()
engine = resources.engine()
st.title(_("exports.title"))
st.caption(_("exports.intro"))

scope = st.radio(_("exports.scope"), ["country", "region", "sites"], format_func=lambda v: _(f"exports.scope.{v}"),
                 horizontal=True, key="export-scope")
region = codes = None
if scope == "region":
    regions = {r["kato"]: f"{r['name'] or r['kato']} ({r['sites']:,})"
               for r in queries.region_counts(engine, resources.current_language())}
    region = st.selectbox(_("map.regions"), list(regions), format_func=regions.get, key="export-region")
elif scope == "sites":
    codes = ",".join(st.multiselect(_("exports.sites"), resources.register().site_codes(), key="export-sites",
                                    placeholder=_("ui.choose")))
language = st.selectbox(_("exports.language"), LANGUAGES, format_func=LANGUAGE_NAMES.get, key="export-lang",
                        index=LANGUAGES.index(resources.current_language()))
chosen = {"region": region, "codes": codes or (), "lang": language,
          "actor": resources.actor()}  # a file made from the public view holds only what the public view shows


def offer(label: str, key: str, file_name: str, make) -> None:
    """A button that builds the file once for these choices, then a download button for it."""
    # The reader is part of the key: a file made while signed in is not offered after signing out.
    wanted = (key, scope, region, codes, language, file_name, chosen["actor"].name)
    if st.button(label, key=f"make-{key}"):
        with st.spinner(_("exports.working")), tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / file_name
            try:
                make(path)
                st.session_state[f"file-{key}"] = (wanted, path.read_bytes())
            except SitesError as error:
                st.session_state.pop(f"file-{key}", None)
                st.error(str(error))
    made = st.session_state.get(f"file-{key}")
    if made and made[0] == wanted:
        st.download_button(_("exports.download", name=file_name, size=f"{len(made[1]) / 1e6:.1f}"), made[1],
                           file_name=file_name, key=f"download-{key}")


html_tab, print_tab, data_tab, report_tab = st.tabs([_("exports.tab.html"), _("exports.tab.print"),
                                                     _("exports.tab.data"), _("exports.tab.reports")])
with html_tab:
    st.caption(_("exports.html.help"))

    def make_html(path):
        from gis.html_export import export_html

        export_html(engine, path, **chosen)

    offer(_("exports.html.make"), "html", "sites-map.html", make_html)

with print_tab:
    left, middle, right = st.columns(3)
    paper = left.selectbox(_("exports.paper"), ["a4", "a3"], format_func=str.upper, key="export-paper")
    orientation = middle.selectbox(_("exports.orientation"), ["landscape", "portrait"],
                                   format_func=lambda v: _(f"exports.orientation.{v}"), key="export-orientation")
    fmt = right.selectbox(_("exports.format"), ["pdf", "png"], format_func=str.upper, key="export-print-format")

    def make_print(path):
        from gis.printmap import print_map

        print_map(engine, path, fmt=fmt, paper=paper, orientation=orientation, **chosen)

    offer(_("exports.print.make"), f"print-{fmt}-{paper}-{orientation}", f"sites-map-{paper}.{fmt}", make_print)

with data_tab:
    data_format = st.selectbox(_("exports.format"), ["xlsx", "csv", "gpkg", "geojson", "kml", "shp"],
                               format_func=lambda v: _(f"exports.data.{v}"), key="export-data-format")

    def make_data(path):
        from gis.export import export_sites

        export_sites(engine, data_format, path, **chosen)

    suffix = "zip" if data_format == "shp" else data_format
    offer(_("exports.data.make"), f"data-{data_format}", f"sites.{suffix}", make_data)

with report_tab:
    # Reports print owners and confidential sites' exact places: signed-in users only, not the public view.
    if not allowed(chosen["actor"], "read_restricted"):
        st.info(_("exports.reports.sign_in"))
    else:
        st.caption(_("exports.reports.help"))
        site = st.selectbox(_("exports.reports.site"), resources.register().site_codes(), key="report-site")

        def make_passport(path):
            from gis.report_passport import passport

            passport(engine, site, path, lang=language, files_dir=resources.settings().files_dir,
                     actor=chosen["actor"])

        offer(_("exports.reports.passport"), f"passport-{site}", f"passport-{site}.pdf", make_passport)

        def make_priorities(path):
            from gis.report_priorities import priorities

            priorities(engine, path, region=region, lang=language, actor=chosen["actor"])

        offer(_("exports.reports.priorities"), "priorities", "priorities.pdf", make_priorities)
        conventions_format = st.selectbox(_("exports.format"), ["pdf", "csv"], format_func=str.upper,
                                          key="report-conventions-format")

        def make_conventions(path):
            from gis.report_conventions import conventions

            conventions(engine, path, fmt=conventions_format, lang=language, actor=chosen["actor"])

        offer(_("exports.reports.conventions"), f"conventions-{conventions_format}",
              f"conventions.{conventions_format}", make_conventions)
