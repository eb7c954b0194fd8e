"""About page: what the register is, where its data comes from and under which licences."""

import pandas as pd
import streamlit as st

from gis import layers
from ui import labels, resources

_ = resources.translator()
st.title(_("about.title"))
st.markdown(_("about.intro"))
st.subheader(_("about.sources"))
st.markdown("\n".join(["- " + _("about.sources.sites"), "- " + _("about.sources.catalogue"),
                        "- " + _("about.sources.regions")]))
loaded = layers.layers(resources.engine())
if loaded:
    st.subheader(_("about.layers"))
    table = pd.DataFrame([{"layer": l["name"], "kind": labels.vocab_or_value(_, "receptor", l["kind"]),
                           "features": l["feature_count"], "source": l["source"], "licence": l["licence"],
                           "loaded": l["loaded_at"].strftime("%Y-%m-%d")} for l in loaded])
    st.table(labels.renamed(_, table))
