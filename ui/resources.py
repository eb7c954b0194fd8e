"""Long-lived resources the pages share: settings and one cached database engine."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine

from gis.cluster import Cluster
from gis.db import make_engine
from gis.settings import Settings


@st.cache_resource
def settings() -> Settings:
    return Settings.from_env()


@st.cache_resource
def engine() -> Engine:
    """The app's engine: DATABASE_URL when set, otherwise the embedded cluster (which must be up)."""
    config = settings()
    url = config.database_url or Cluster(config.cluster_dir).url()
    return make_engine(url)
