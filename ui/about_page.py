"""About page: what the register is, where its data comes from and under which licences."""

import streamlit as st

from gis import layers
from ui import resources

st.title("About this register")
st.markdown(
    "A register of Kazakhstan's historical pollution sites (Ecological Code 2021, Article 143): "
    "an inventory kept in PostGIS, ranked by hazard and exposure, for inspectors, planners and workshops."
)
st.subheader("Data sources")
st.markdown(
    "- **Sites**: real documented sites; each record cites its sources (see `data/SOURCES-demo.md`). "
    "Locations marked *settlement* are the nearest town, not the facility.\n"
    "- **Contaminant catalogue and guideline values**: `data/contaminants.csv`, `data/guidelines.csv`, "
    "cited in `data/SOURCES-catalogue.md`.\n"
    "- **Regions**: geokz administrative boundaries 2024, CC BY 4.0."
)
loaded = layers.layers(resources.engine())
if loaded:
    st.subheader("Loaded layers")
    st.table([{"layer": l["name"], "kind": l["kind"], "features": l["feature_count"], "source": l["source"],
               "licence": l["licence"], "loaded": l["loaded_at"].strftime("%Y-%m-%d")} for l in loaded])
