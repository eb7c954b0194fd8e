"""Long-lived resources the pages share: settings and one cached database engine."""

from __future__ import annotations

import streamlit as st

from gis.cluster import database_url
from gis.db import make_engine
from gis.settings import Settings


@st.cache_resource
def settings() -> Settings:
    return Settings.from_env()


@st.cache_resource
def engine():
    """The app's engine: DATABASE_URL when set, otherwise the embedded cluster (which must be up)."""
    return make_engine(database_url(settings()))


@st.cache_resource
def register():
    """The register's services, sharing the cached engine."""
    from gis.services import Register

    return Register(engine())


def language() -> str:
    """The reader's language, chosen in the sidebar; ``?lang=kk`` in the address opens the app in Kazakh."""
    from sites.i18n import LANGUAGE_NAMES, LANGUAGES, parse_language

    asked = st.query_params.get("lang", "")
    default = asked.lower() if asked.lower() in LANGUAGES else settings().language
    if "lang" not in st.session_state:
        st.session_state["lang"] = default
    chosen = st.sidebar.selectbox("Тіл · Язык · Language", LANGUAGES, format_func=LANGUAGE_NAMES.get, key="lang")
    st.query_params["lang"] = chosen  # a copied link opens in the same language
    return parse_language(chosen)


def translator():
    """``_(key, **params)`` in the reader's language (the sidebar choice); see sites/i18n.py."""
    from sites.i18n import translator as make

    return make(st.session_state.get("lang") or settings().language)


def actor():
    """Who is working: chosen in the sidebar from the register's active users.

    There is no sign-in yet (issue 7): anyone with the app open can act as any user, which the sidebar says.
    """
    users = [u for u in register().list_users() if u["active"]]
    labels = {f"{u['name']} ({u['role']}{', ' + ', '.join(u['regions']) if u['regions'] else ''})": u["name"]
              for u in users}
    names = list(labels.values())
    # As the CLI (`sites --as`), the system user unless another is chosen; sign-in replaces this in issue 7.
    default = names.index("system") if "system" in names else 0
    chosen = st.sidebar.selectbox("Acting as", list(labels), index=default, key="acting-as",
                                  help="No sign-in yet: pick the user whose permissions apply.")
    return register().actor(labels[chosen])


def map_sites(regions: list[str]) -> list[dict]:
    """The map's sites, read again only when the register has changed since the last read (shared, not copied)."""
    from gis import queries

    return _map_sites(queries.register_version(engine()), tuple(sorted(regions)))


@st.cache_resource(max_entries=4, show_spinner=False)
def _map_sites(version: tuple[int, int], regions: tuple[str, ...]) -> list[dict]:
    # cache_resource hands every session the same list (at 100,000 sites a copy per rerun costs seconds);
    # ``version`` is part of the key, so any change to the register reads the sites again.
    from gis import queries

    return queries.map_sites(engine(), list(regions))


@st.cache_data
def xlsform() -> bytes:
    """The field form as XLSX bytes, built once per app process from the schema and the catalogue."""
    import tempfile
    from pathlib import Path

    from gis.xlsform import write_xlsform

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "kz_legacy_sites.xlsx"
        write_xlsform(path)
        return path.read_bytes()
