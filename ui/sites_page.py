"""Sites page: the register as a table, filterable by region and workflow stage."""

import pandas as pd
import streamlit as st

from ui import resources

st.title("Sites")
sites = pd.DataFrame(resources.map_sites([]))  # as the reader may see them: the public's without exact secrets
if sites.empty:
    st.info("The register is empty. Load the demo with `sites demo` or add sites.")
    st.stop()

regions = sorted(r for r in sites["region"].dropna().unique())
stages = sorted(sites["workflow_stage"].dropna().unique())
chosen_regions = st.multiselect("Region", regions)
chosen_stages = st.multiselect("Workflow stage", stages)
shown = sites
if chosen_regions:
    shown = shown[shown["region"].isin(chosen_regions)]
if chosen_stages:
    shown = shown[shown["workflow_stage"].isin(chosen_stages)]
st.caption(f"{len(shown)} of {len(sites)} sites")
st.dataframe(
    shown[["code", "name", "region", "workflow_stage", "priority_class", "score", "contaminants", "location_precision"]],
    hide_index=True, use_container_width=True,
)
