"""Pieces of the ranking page: the filter, one site's explanation and score history, and the programme."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import datetime as dt
import json

from gis import programme as programme_service
from gis import queries, ranking_output, whatif
from sites.errors import SitesError
from sites.scoring.tables import BY_NAME, METHOD_NAME, METHOD_VERSION
from sites.scoring.whatif import ADJUSTABLE


def filtered(ranked: pd.DataFrame, chosen: dict[str, list], contaminant: str, confidence: float) -> pd.DataFrame:
    """Rows matching every chosen value (an empty choice keeps all), the contaminant code and the confidence."""
    keep = ranked["confidence"] >= confidence
    for column, values in chosen.items():
        if values:
            keep &= ranked[column].isin(values)
    if contaminant:
        keep &= ranked["contaminant_codes"].fillna("").str.split(",").apply(lambda codes: contaminant in codes)
    return ranked[keep]


def downloads(shown: pd.DataFrame) -> None:
    """The filtered ranking as CSV and as a formatted workbook carrying the method version and date."""
    rows = shown.drop(columns=["rank"]).to_dict("records")
    left, right = st.columns(2)
    # Callables: the files are built when a button is clicked, not on every rerun of the page.
    left.download_button("Download CSV", lambda: ranking_output.render(rows, "csv"), file_name="ranking.csv",
                         mime="text/csv", key="r-csv")
    right.download_button("Download XLSX", lambda: ranking_output.render_xlsx(rows), file_name="ranking.xlsx",
                          mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="r-xlsx")


def site_view(engine, site: pd.Series) -> None:
    """The score explained: pathway scores as a chart, every part with its factors and data, and the history."""
    st.subheader(f"{site.name}: class {site['priority_class']}, total {site['total']:.1f}")
    st.bar_chart(pd.Series(site["pathways"], name="pathway score"), horizontal=True)
    for part in site["explanation"].get("parts", []):
        with st.expander(f"{part['pathway'].replace('_', ' ')}: {part['contribution']:.2f} of the total"):
            factors = pd.DataFrame([{k: v for k, v in f.items() if k != "data"} for f in part.get("factors", [])])
            st.dataframe(factors, hide_index=True, use_container_width=True)
            for factor in part.get("factors", []):
                for line in factor.get("data", []):
                    st.caption(line)
    history = pd.DataFrame(queries.score_history(engine, site.name))
    if len(history) > 1:
        st.line_chart(history.set_index("computed_at")["total"])
    st.dataframe(history, hide_index=True, use_container_width=True)


def programme(engine) -> None:
    """What a budget buys (MILP), beside funding the ranking from the top."""
    budget = st.text_input("Budget, tenge", value="20 000 000 000", key="p-budget",
                           help="Costs are the entered remediation costs, else estimated from waste volume or area.")
    if not st.button("Plan the programme", key="p-run"):
        return
    try:
        result = programme_service.programme(engine, budget)
    except SitesError as error:
        st.error(str(error))
        return
    totals, greedy = result["totals"], result["greedy"]
    a, b, c = st.columns(3)
    a.metric("sites funded", totals["sites"])
    b.metric("cost, tenge", f"{totals['cost_kzt']:,.0f}")
    c.metric("risk reduction", f"{totals['benefit']:,.0f}",
             delta=f"{totals['benefit'] - greedy['benefit']:+,.0f} vs funding by rank")
    st.dataframe(pd.DataFrame(result["selected"]), hide_index=True, use_container_width=True)
    if result["left_out"]:
        st.caption(f"Left out: {len(result['left_out'])} scored sites (the reason is given for each).")
        st.dataframe(pd.DataFrame(result["left_out"])[["rank", "code", "class", "total", "cost_kzt", "reason"]],
                     hide_index=True, use_container_width=True)


def what_if(engine) -> None:
    """Vary the adjustable factors within their bounds and see the ranking beside the official one.

    The official method and stored scores never change; a scenario can be named and downloaded (JSON to keep and
    share, CSV of the comparison).
    """
    overrides = {}
    columns = st.columns(3)
    for i, factor in enumerate(ADJUSTABLE):
        declared = float(BY_NAME[factor.name].value)
        chosen = columns[i % 3].number_input(
            factor.name.replace("_", " "), min_value=float(factor.low), max_value=float(factor.high), value=declared,
            key=f"w-{factor.name}", help=f"Declared {declared:g}; bounds {factor.low:g} to {factor.high:g}: {factor.why}")
        if chosen != declared:
            overrides[factor.name] = chosen
    name = st.text_input("Scenario name", value="scenario", key="w-name")
    if not st.button("Compute the scenario", key="w-run"):
        return
    try:
        rows = pd.DataFrame(whatif.compare(engine, overrides))
    except SitesError as error:
        st.error(str(error))
        return
    moved = int((rows["moved"].fillna(0) != 0).sum())
    st.caption(f"{len(overrides)} factor(s) changed; {moved} site(s) change rank. Official scores are not changed.")
    st.dataframe(rows.style.map(_moved_colour, subset=["moved"]), hide_index=True, use_container_width=True)
    saved = {"name": name, "method": f"{METHOD_NAME} {METHOD_VERSION}", "date": dt.date.today().isoformat(),
             "overrides": overrides}
    left, right = st.columns(2)
    left.download_button("Download the scenario (JSON)", json.dumps(saved, ensure_ascii=False, indent=2),
                         file_name=f"{name}.json", mime="application/json", key="w-json")
    right.download_button("Download the comparison (CSV)", rows.to_csv(index=False), file_name=f"{name}.csv",
                          mime="text/csv", key="w-csv")


def _moved_colour(moved) -> str:
    if not moved or pd.isna(moved):
        return ""
    return "background-color: #d9f0d3" if moved > 0 else "background-color: #f4cccc"


def stability(engine) -> None:
    """Each site's chance of being in the top N when uncertain inputs vary (Monte Carlo, nothing stored)."""
    left, mid, right = st.columns(3)
    draws = left.number_input("Draws", 10, 2000, 200, step=10, key="mc-draws")
    top = mid.number_input("Top N", 1, 1000, 10, key="mc-top")
    seed = right.number_input("Seed", 0, 1_000_000, 1, key="mc-seed", help="The same seed repeats a run exactly.")
    if not st.button("Estimate rank stability", key="mc-run"):
        return
    with st.spinner(f"{int(draws)} draws of every site ..."):
        rows = pd.DataFrame(whatif.stability(engine, draws=int(draws), top=int(top), seed=int(seed)))
    st.caption(f"Share of {int(draws)} draws in which each site is in the top {int(top)}, and the ranks it takes "
               "in 90% of them. Uncertain: defaulted values, results below detection, estimated quantities.")
    st.dataframe(rows[["official_rank", "code", "name", "p_top", "median_rank", "rank_low", "rank_high"]],
                 hide_index=True, use_container_width=True)
