"""Streamlit entry point: wires settings, the cached engine and the page navigation."""

import streamlit as st

from sites.permissions import allowed_somewhere
from ui import resources

st.set_page_config(page_title="Kazakhstan legacy pollution sites", page_icon=":world_map:", layout="wide")
resources.engine()  # fail at start-up, not on the first page, when the database is unreachable
resources.language()
_ = resources.translator()
st.set_page_config(page_title=_("app.title"))  # the browser tab, in the reader's language once it is known
actor = resources.session()  # the sidebar's sign-in; nobody signed in is the public, which only reads
editing = allowed_somewhere(actor, "edit_site")  # the add/edit and import pages exist only for those who may edit

pages = [
    st.Page("ui/map_page.py", title=_("app.page.map"), icon=":material/map:", default=True),
    st.Page("ui/sites_page.py", title=_("app.page.sites"), icon=":material/table:"),
    st.Page("ui/ranking_page.py", title=_("app.page.ranking"), icon=":material/leaderboard:"),
    *([st.Page("ui/edit_page.py", title=_("app.page.edit"), icon=":material/edit_location_alt:"),
       st.Page("ui/import_page.py", title=_("app.page.import"), icon=":material/upload_file:")] if editing else []),
    st.Page("ui/exports_page.py", title=_("app.page.exports"), icon=":material/download:"),
    st.Page("ui/about_page.py", title=_("app.page.about"), icon=":material/info:"),
]
st.navigation(pages).run()
