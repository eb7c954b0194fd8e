"""Pieces of the ranking page: the filters, one site's explanation and history, what-if, stability, the programme."""

from __future__ import annotations

import datetime as dt
import json
import re

import pandas as pd
import streamlit as st

from gis import programme as programme_service
from gis import queries, ranking_output, whatif
from sites.errors import SitesError
from sites.scoring.tables import BY_NAME
from sites.scoring.whatif import ADJUSTABLE, read_scenario, scenario_file
from ui import resources

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GPKG = "application/geopackage+sqlite3"


def filtered(ranked: pd.DataFrame, chosen: dict[str, list], listed: dict[str, list],
             confidence: float) -> pd.DataFrame:
    """Rows matching every chosen value (an empty choice keeps all), sharing an item with each ``listed`` choice
    (columns holding comma-separated lists: contaminant codes, conventions) and at least the confidence."""
    keep = ranked["confidence"] >= confidence
    for column, values in chosen.items():
        if values:
            keep &= ranked[column].isin(values)
    for column, values in listed.items():
        if values:
            keep &= ranked[column].fillna("").str.split(",").apply(lambda items: not set(values).isdisjoint(items))
    return ranked[keep]


def district_choices(ranked: pd.DataFrame, regions: list[str]) -> dict[str, str]:
    """District KATO codes of the chosen regions' sites (all regions when none is chosen) with their labels, by label.

    ``ranked["district"]`` holds the boundary's name, or the KATO code where no loaded boundary names it; a name two
    districts share gets its code added. A district chosen before its region was dropped is forgotten here, before
    the widget is drawn, so that it cannot keep filtering unseen.
    """
    rows = ranked[ranked["region"].isin(regions)] if regions else ranked
    pairs = rows.dropna(subset=["district_kato"]).drop_duplicates("district_kato")
    labels = dict(zip(pairs["district_kato"], pairs["district"]))
    names = list(labels.values())
    choices = {kato: f"{name} ({kato})" if names.count(name) > 1 and name != kato else name
               for kato, name in labels.items()}
    chosen = st.session_state.get("r-district", [])
    if any(kato not in choices for kato in chosen):
        st.session_state["r-district"] = [kato for kato in chosen if kato in choices]
    return dict(sorted(choices.items(), key=lambda item: item[1]))


def downloads(shown: pd.DataFrame) -> None:
    """The filtered ranking as CSV and as a formatted workbook carrying the method version and date."""
    rows = shown.drop(columns=["rank"]).to_dict("records")
    left, right = st.columns(2)
    # Callables: the files are built when a button is clicked, not on every rerun of the page.
    left.download_button("Download CSV", lambda: ranking_output.render(rows, "csv"), file_name="ranking.csv",
                         mime="text/csv", key="r-csv")
    right.download_button("Download XLSX", lambda: ranking_output.render_xlsx(rows), file_name="ranking.xlsx",
                          mime=XLSX, key="r-xlsx")


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
    """What a budget buys (MILP), beside funding the ranking from the top, with the programme's downloads.

    The result is kept for the budget it was planned for, so that a download or another widget's rerun does not
    lose it; a different budget hides it until it is planned again.
    """
    budget = st.text_input("Budget, tenge", value="20 000 000 000", key="p-budget",
                           help="Costs are the entered remediation costs, else estimated from waste volume or area.")
    if st.button("Plan the programme", key="p-run"):
        st.session_state["p-result"] = _plan(engine, budget)
    result = st.session_state.get("p-result")
    if result and result["budget"] == budget:
        _programme_result(engine, result["report"])


def _plan(engine, budget: str) -> dict | None:
    try:
        return {"budget": budget, "report": programme_service.programme(engine, budget, actor=resources.actor())}
    except SitesError as error:
        st.error(str(error))
        return None


def _programme_result(engine, report: dict) -> None:
    totals, greedy = report["totals"], report["greedy"]
    a, b, c = st.columns(3)
    a.metric("sites funded", totals["sites"])
    b.metric("cost, tenge", f"{totals['cost_kzt']:,.0f}")
    c.metric("risk reduction", f"{totals['benefit']:,.0f}",
             delta=f"{totals['benefit'] - greedy['benefit']:+,.0f} vs funding by rank")
    st.caption(f"Greedy by rank (funding the ranking from the top): {greedy['sites']} sites, "
               f"{greedy['cost_kzt']:,} tenge, risk reduction {greedy['benefit']:,.0f}. "
               f"Scores {report['scores']['method']}; budget {report['budget_kzt']:,} tenge.")
    st.dataframe(pd.DataFrame(report["selected"]), hide_index=True, use_container_width=True)
    if report["left_out"]:
        st.caption(f"Left out: {len(report['left_out'])} scored sites (the reason is given for each).")
        st.dataframe(pd.DataFrame(report["left_out"])[["rank", "code", "class", "total", "cost_kzt", "reason"]],
                     hide_index=True, use_container_width=True)
    left, mid, right = st.columns(3)
    # Built when clicked; "ignore": a download does not rerun the page.
    left.download_button("Download the programme (CSV)", lambda: programme_service.csv_text(report),
                         file_name="programme.csv", mime="text/csv", key="p-csv", on_click="ignore")
    mid.download_button("Download the programme (XLSX)", lambda: programme_service.xlsx_bytes(report),
                        file_name="programme.xlsx", mime=XLSX, key="p-xlsx", on_click="ignore")
    right.download_button("Download the programme (GeoPackage)", lambda: programme_service.gpkg_bytes(engine, report),
                          file_name="programme.gpkg", mime=GPKG, key="p-gpkg", on_click="ignore")


def what_if(engine) -> None:
    """Vary the adjustable factors within their bounds and see the ranking beside the official one.

    The official method and stored scores never change. A scenario can be named, downloaded (JSON to keep and
    share; the comparison as CSV, XLSX or GeoPackage) and loaded back from its JSON file. The comparison is kept
    for the values it was computed with, so a download or another widget's rerun does not lose it.
    """
    st.file_uploader("Load a saved scenario (JSON)", type=["json"], key="w-file", on_change=_load_scenario)
    message = st.session_state.pop("w-loaded", None)  # shown once, on the run that follows the upload
    if message:
        getattr(st, message[0])(message[1])
    overrides = _factor_inputs()
    st.session_state.setdefault("w-name", "scenario")
    name = st.text_input("Scenario name", key="w-name").strip() or "scenario"
    if st.button("Compute the scenario", key="w-run"):
        st.session_state["w-result"] = _compare(engine, overrides)
    result = st.session_state.get("w-result")
    if result and result["overrides"] == overrides:
        _scenario_result(engine, result["rows"], scenario_file(name, overrides, dt.date.today().isoformat()))


def _declared(name: str) -> float:
    return float(BY_NAME[name].value)


def _factor_inputs() -> dict[str, float]:
    """One input per adjustable factor; returns the values that differ from the declared ones."""
    overrides = {}
    columns = st.columns(3)
    for i, factor in enumerate(ADJUSTABLE):
        declared, key = _declared(factor.name), f"w-{factor.name}"
        st.session_state.setdefault(key, declared)  # the default goes through the state, as a loaded file's values do
        chosen = columns[i % 3].number_input(
            factor.name.replace("_", " "), min_value=float(factor.low), max_value=float(factor.high), key=key,
            help=f"Declared {declared:g}; bounds {factor.low:g} to {factor.high:g}: {factor.why}")
        if chosen != declared:
            overrides[factor.name] = chosen
    return overrides


def _load_scenario() -> None:
    """Set the factors and the name from an uploaded scenario file; a callback, so it runs before they are drawn."""
    upload = st.session_state.get("w-file")
    if upload is None:
        return
    try:
        name, overrides = read_scenario(upload.getvalue())
    except SitesError as error:
        st.session_state["w-loaded"] = ("error", f"{upload.name} was not loaded: {error}")
        return
    for factor in ADJUSTABLE:
        st.session_state[f"w-{factor.name}"] = overrides.get(factor.name, _declared(factor.name))
    st.session_state["w-name"] = name
    st.session_state["w-loaded"] = ("success", f"Loaded the scenario {name!r} from {upload.name}: "
                                               f"{len(overrides)} factor(s) differ from the declared values.")


def _compare(engine, overrides: dict[str, float]) -> dict | None:
    try:
        return {"overrides": overrides, "rows": whatif.compare(engine, overrides, actor=resources.actor())}
    except SitesError as error:
        st.error(str(error))
        return None


def _scenario_result(engine, rows: list[dict], saved: dict) -> None:
    frame = pd.DataFrame(rows)
    moved = int((frame["moved"].fillna(0) != 0).sum())
    st.caption(f"{len(saved['overrides'])} factor(s) changed; {moved} site(s) change rank. "
               "Official scores are not changed.")
    st.dataframe(frame.style.map(_moved_colour, subset=["moved"]), hide_index=True, use_container_width=True)
    stem = re.sub(r"[^\w.-]+", "_", saved["name"]).strip("._") or "scenario"
    a, b, c, d = st.columns(4)
    a.download_button("Download the scenario (JSON)", json.dumps(saved, ensure_ascii=False, indent=2),
                      file_name=f"{stem}.json", mime="application/json", key="w-json", on_click="ignore")
    b.download_button("Download the comparison (CSV)", lambda: frame.to_csv(index=False), file_name=f"{stem}.csv",
                      mime="text/csv", key="w-csv", on_click="ignore")
    c.download_button("Download the comparison (XLSX)", lambda: whatif.xlsx_bytes(rows, saved),
                      file_name=f"{stem}.xlsx", mime=XLSX, key="w-xlsx", on_click="ignore")
    d.download_button("Download the comparison (GeoPackage)", lambda: whatif.gpkg_bytes(engine, rows, saved),
                      file_name=f"{stem}.gpkg", mime=GPKG, key="w-gpkg", on_click="ignore")


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
        rows = pd.DataFrame(whatif.stability(engine, draws=int(draws), top=int(top), seed=int(seed),
                                             actor=resources.actor()))
    st.caption(f"Share of {int(draws)} draws in which each site is in the top {int(top)}, and the ranks it takes "
               "in 90% of them. Uncertain: defaulted values, results below detection, estimated quantities.")
    st.dataframe(rows[["official_rank", "code", "name", "p_top", "median_rank", "rank_low", "rank_high"]],
                 hide_index=True, use_container_width=True)
