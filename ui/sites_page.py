"""Sites page: the register as a table, filterable by region and workflow stage."""

import pandas as pd
import streamlit as st

from ui import labels, resources

lang = resources.current_language()
_ = resources.translator()
st.title(_("sites.title"))
sites = pd.DataFrame(resources.map_sites([]))  # as the reader may see them: the public's without exact secrets
if sites.empty:
    st.info(_("sites.empty"))
    st.stop()

regions = sorted(r for r in sites["region"].dropna().unique())
stages = sorted(sites["workflow_stage"].dropna().unique())
chosen_regions = st.multiselect(_("sites.filter.region"), regions, key="sites-region", placeholder=_("ui.choose"),
                                format_func=lambda name: labels.region(lang, name))
chosen_stages = st.multiselect(_("sites.filter.stage"), stages, key="sites-stage", placeholder=_("ui.choose"),
                               format_func=lambda stage: labels.vocab(_, "stage", stage))
shown = sites
if chosen_regions:
    shown = shown[shown["region"].isin(chosen_regions)]
if chosen_stages:
    shown = shown[shown["workflow_stage"].isin(chosen_stages)]
st.caption(_("sites.count", shown=len(shown), total=len(sites)))
columns = ["code", "name", "region", "workflow_stage", "priority_class", "score", "contaminants", "location_precision"]
st.dataframe(
    labels.shown(shown[columns], _, lang, region="region", workflow_stage="stage", location_precision="precision"),
    hide_index=True, use_container_width=True, column_config=labels.headers(_, columns),
)
