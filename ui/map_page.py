"""Map page: every live site from PostGIS, coloured by priority class, with switchable receptor layers."""

import streamlit as st
from streamlit_folium import st_folium

from gis import maps, queries
from ui import resources

engine = resources.engine()
st.title("Legacy pollution sites of Kazakhstan")

osm = st.sidebar.toggle("OpenStreetMap background (needs internet)", value=False)
regions = queries.region_counts(engine)
labels = {r["kato"]: f"{r['name'] or r['kato']} ({r['sites']:,})" for r in regions}
chosen = st.sidebar.multiselect("Regions", list(labels), format_func=labels.get, key="map-regions",
                                help="Leave empty for the whole country. Classes are filtered inside the map.")
sites = resources.map_sites(chosen)
points, layer = queries.receptor_points(engine, "settlement")
total = layer.get("feature_count", 0)
shown = f"{len(points):,}" if len(points) >= total else f"{len(points):,} largest of {total:,}"
layers = {f"Settlements ({shown})": points} if points else {}
register_total = sum(r["sites"] for r in regions)
where = f"{len(sites):,} of {register_total:,} sites shown" if chosen else f"{len(sites):,} sites in the register"
st.caption(f"{where}. Click a marker for its details, a cluster to zoom in; tick classes at the bottom left.")

fmap = maps.site_map(sites, layers, osm_basemap=osm, cluster_from=resources.settings().map_cluster_from)
st_folium(fmap, height=620, use_container_width=True, returned_objects=[], key="register-map")

legend = " ".join(
    f'<span style="display:inline-block;width:12px;height:12px;border-radius:6px;background:{colour};'
    f'border:1px solid #222;margin:0 4px 0 12px"></span>{maps.escape(label)}'
    for colour, label in maps.legend_items()
)
st.markdown(legend, unsafe_allow_html=True)
credits = ["Sites: data/demo_sites.csv, sources cited per site"]
if layers:
    credits.append(f"Settlements: {layer['source']}, {layer['licence']}")
if osm:
    credits.append("Background: © OpenStreetMap contributors, ODbL")
st.caption(" · ".join(credits))
