"""Ranking page for planners: filter the latest scores, read one site's explanation and history, plan a budget."""

import pandas as pd
import streamlit as st

from gis import queries, scoring
from sites import vocab
from sites.permissions import allowed
from ui import labels, resources, ranking_parts

engine = resources.engine()
lang = resources.current_language()
_ = resources.translator()
CHOOSE = {"placeholder": _("ui.choose")}  # Streamlit's own placeholder is English
st.title(_("ranking.title"))
ranked = pd.DataFrame(scoring.ranking(engine, actor=resources.actor(), lang=st.session_state.get("lang", "en")))
if ranked.empty:
    st.info(_("ranking.empty"))
    st.stop()
ranked = ranked.merge(pd.DataFrame(queries.site_attributes(engine)), on="code", how="left")
ranked["district"] = ranked["district"].fillna(ranked["district_kato"])  # named where boundaries give a name
ranked.insert(0, "rank", range(1, len(ranked) + 1))
first = ranked.iloc[0]
st.caption(_("ranking.method", method=first["method"], version=first["method_version"],
             guidelines=first["guideline_set"]))

left, mid, right = st.columns(3)
regions = left.multiselect(_("ranking.filter.region"), sorted(ranked["region"].dropna().unique()), key="r-region",
                           format_func=lambda name: labels.region(lang, name), **CHOOSE)
districts = ranking_parts.district_choices(ranked, regions)
chosen = {
    "region": regions,
    "district_kato": mid.multiselect(_("ranking.filter.district"), list(districts), format_func=districts.get,
                                     key="r-district", **CHOOSE, help=_("ranking.filter.district.help")),
    "priority_class": right.multiselect(_("ranking.filter.class"), list(vocab.PRIORITY_CLASS), key="r-class",
                                        format_func=lambda klass: labels.vocab(_, "class", klass), **CHOOSE),
    "stage": left.multiselect(_("ranking.filter.stage"), vocab.STAGE, key="r-stage", **CHOOSE,
                              format_func=lambda stage: labels.vocab(_, "stage", stage)),
    "activity": mid.multiselect(_("ranking.filter.activity"), vocab.ACTIVITY, key="r-activity", **CHOOSE,
                                format_func=lambda activity: labels.vocab(_, "activity", activity)),
}
contaminant = right.text_input(_("ranking.filter.contaminant"), key="r-contaminant").strip().lower()
listed = {
    "contaminant_codes": [contaminant] if contaminant else [],
    "conventions": left.multiselect(_("ranking.filter.convention"), queries.CONVENTIONS, key="r-convention", **CHOOSE,
                                    format_func=lambda name: labels.vocab(_, "convention", name),
                                    help=_("ranking.filter.convention.help")),
}
confidence = mid.slider(_("ranking.filter.confidence"), 0.0, 1.0, 0.0, 0.05, key="r-confidence")
shown = ranking_parts.filtered(ranked, chosen, listed, confidence)
st.caption(_("ranking.count", shown=len(shown), total=len(ranked)))
COLUMNS = ["rank", "code", "name", "region", "district", "priority_class", "total", "hazard", "exposure", "confidence",
           "stage", "activity"]
st.dataframe(labels.shown(shown[COLUMNS], _, lang, region="region", stage="stage", activity="activity"),
             hide_index=True, use_container_width=True, column_config=labels.headers(_, COLUMNS))
ranking_parts.downloads(shown)

if not shown.empty:
    by_code = shown.set_index("code")
    names = by_code["name"].to_dict()  # once: format_func runs for every option
    code = st.selectbox(_("ranking.site"), shown["code"], key="r-site", format_func=lambda c: f"{c} · {names[c]}")
    ranking_parts.site_view(engine, by_code.loc[code])

if not allowed(resources.actor(), "manage_scenarios"):  # what-if, stability and programme are the planners'
    st.info(_("ranking.planners_only"))
    st.stop()
st.header(_("ranking.whatif"))
st.caption(_("ranking.whatif.help"))
ranking_parts.what_if(engine)

st.header(_("ranking.stability"))
ranking_parts.stability(engine)

st.header(_("ranking.programme"))
ranking_parts.programme(engine)
