"""Map page: every live site from PostGIS, coloured by priority class, with switchable receptor layers."""

import streamlit as st
from streamlit_folium import st_folium

from gis import maps, queries
from ui import resources

engine = resources.engine()
lang = st.session_state.get("lang", "en")
_ = resources.translator()
st.title(_("map.title"))

osm = st.sidebar.toggle(_("map.osm"), value=False)
regions = queries.region_counts(engine, lang)
labels = {r["kato"]: f"{r['name'] or r['kato']} ({r['sites']:,})" for r in regions}
chosen = st.sidebar.multiselect(_("map.regions"), list(labels), format_func=labels.get, key="map-regions",
                                placeholder=_("ui.choose"),
                                help=_("map.regions.help"))
sites = resources.map_sites(chosen)
points, layer = queries.receptor_points(engine, "settlement")
total = layer.get("feature_count", 0)
shown = f"{len(points):,}" if len(points) >= total else _("map.largest", shown=f"{len(points):,}", total=f"{total:,}")
layers = {_("map.settlements", shown=shown): points} if points else {}
register_total = sum(r["sites"] for r in regions)
where = (_("map.shown", shown=f"{len(sites):,}", total=f"{register_total:,}") if chosen
         else _("map.all", total=f"{len(sites):,}"))
st.caption(f"{where}. {_('map.hint')}")

fmap = maps.site_map(sites, layers, osm_basemap=osm, cluster_from=resources.settings().map_cluster_from, lang=lang)
st_folium(fmap, height=620, use_container_width=True, returned_objects=[], key="register-map")

legend = " ".join(
    f'<span style="display:inline-block;width:12px;height:12px;border-radius:6px;background:{colour};'
    f'border:1px solid #222;margin:0 4px 0 12px"></span>{maps.escape(label)}'
    for colour, label in maps.legend_items(lang)
)
st.markdown(legend, unsafe_allow_html=True)
credits = [_("map.credit.sites")]
if layers:
    credits.append(_("map.credit.settlements", source=layer["source"], licence=layer["licence"]))
if osm:
    credits.append(_("map.credit.osm"))
st.caption(" · ".join(credits))
