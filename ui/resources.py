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
