"""Ranking page for planners: filter the latest scores, read one site's explanation and history, plan a budget."""

import pandas as pd
import streamlit as st

from gis import queries, scoring
from sites import vocab
from sites.permissions import allowed
from ui import resources, ranking_parts

engine = resources.engine()
st.title("Ranking")
ranked = pd.DataFrame(scoring.ranking(engine, actor=resources.actor()))
if ranked.empty:
    st.info("No scores yet: run `sites score` (scripts/run does) to rank the register.")
    st.stop()
ranked = ranked.merge(pd.DataFrame(queries.site_attributes(engine)), on="code", how="left")
ranked["district"] = ranked["district"].fillna(ranked["district_kato"])  # named where boundaries give a name
ranked.insert(0, "rank", range(1, len(ranked) + 1))
first = ranked.iloc[0]
st.caption(f"Method {first['method']} {first['method_version']} against {first['guideline_set']}; "
           "class I (insufficient information) comes after the scored classes.")

left, mid, right = st.columns(3)
regions = left.multiselect("Region", sorted(ranked["region"].dropna().unique()), key="r-region")
districts = ranking_parts.district_choices(ranked, regions)
chosen = {
    "region": regions,
    "district_kato": mid.multiselect("District", list(districts), format_func=districts.get, key="r-district",
                                     help="Districts of the chosen regions, named by the loaded boundaries."),
    "priority_class": right.multiselect("Class", ["1", "2", "3", "N", "I"], key="r-class"),
    "stage": left.multiselect("Stage", vocab.STAGE, key="r-stage"),
    "activity": mid.multiselect("Activity", vocab.ACTIVITY, key="r-activity"),
}
contaminant = right.text_input("Contaminant code (hg, pb, ddt ...)", key="r-contaminant").strip().lower()
listed = {
    "contaminant_codes": [contaminant] if contaminant else [],
    "conventions": left.multiselect("Convention", queries.CONVENTIONS, key="r-convention",
                                    help="Sites with a contaminant the convention lists (per the catalogue)."),
}
confidence = mid.slider("Confidence at least", 0.0, 1.0, 0.0, 0.05, key="r-confidence")
shown = ranking_parts.filtered(ranked, chosen, listed, confidence)
st.caption(f"{len(shown)} of {len(ranked)} sites")
st.dataframe(shown[["rank", "code", "name", "region", "district", "priority_class", "total", "hazard", "exposure",
                    "confidence", "stage", "activity"]], hide_index=True, use_container_width=True)
ranking_parts.downloads(shown)

if not shown.empty:
    by_code = shown.set_index("code")
    names = by_code["name"].to_dict()  # once: format_func runs for every option
    code = st.selectbox("Site", shown["code"], key="r-site", format_func=lambda c: f"{c} · {names[c]}")
    ranking_parts.site_view(engine, by_code.loc[code])

if not allowed(resources.actor(), "manage_scenarios"):  # what-if, stability and programme are the planners'
    st.info(resources.translator()("ranking.planners_only"))
    st.stop()
st.header("What-if")
st.caption("Vary the method's adjustable factors within their documented bounds; the official ranking is unchanged.")
ranking_parts.what_if(engine)

st.header("Rank stability")
ranking_parts.stability(engine)

st.header("Remediation programme")
ranking_parts.programme(engine)
