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
from ui import labels, resources

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
    _ = resources.translator()
    rows = shown.drop(columns=["rank"]).to_dict("records")
    left, right = st.columns(2)
    # Callables: the files are built when a button is clicked, not on every rerun of the page.
    left.download_button(_("ranking.download.csv"), lambda: ranking_output.render(rows, "csv"),
                         file_name="ranking.csv", mime="text/csv", key="r-csv")
    right.download_button(_("ranking.download.xlsx"), lambda: ranking_output.render_xlsx(rows),
                          file_name="ranking.xlsx", mime=XLSX, key="r-xlsx")


def site_view(engine, site: pd.Series) -> None:
    """The score explained: pathway scores as a chart, every part with its factors and data, and the history."""
    _ = resources.translator()
    st.subheader(_("ranking.site.title", code=site.name, klass=site["priority_class"], total=f"{site['total']:.1f}"))
    pathways = pd.Series(site["pathways"], name=_("ranking.site.pathway_score"))
    pathways.index = [labels.vocab_or_value(_, "pathway", p) for p in pathways.index]
    st.bar_chart(pathways, horizontal=True)
    for part in site["explanation"].get("parts", []):
        with st.expander(_("ranking.site.part", pathway=labels.vocab_or_value(_, "pathway", part["pathway"]),
                           contribution=f"{part['contribution']:.2f}")):
            factors = pd.DataFrame([{k: v for k, v in f.items() if k != "data"} for f in part.get("factors", [])])
            if "name" in factors.columns:
                factors["name"] = [labels.vocab_or_value(_, "factor", name) for name in factors["name"]]
            if "kind" in factors.columns:  # how likelihood was found: an observed release or a potential one
                factors["kind"] = [labels.vocab_or_value(_, "likelihood", k) if isinstance(k, str) else k
                                   for k in factors["kind"]]
            st.dataframe(factors, hide_index=True, use_container_width=True,
                         column_config=labels.headers(_, factors.columns))
            for factor in part.get("factors", []):
                for line in factor.get("data", []):
                    st.caption(line)  # the method's own account of its data (sites/scoring), in English
    history = pd.DataFrame(queries.score_history(engine, site.name))
    if len(history) > 1:
        st.line_chart(history.set_index("computed_at")["total"])
    st.dataframe(history, hide_index=True, use_container_width=True, column_config=labels.headers(_, history.columns))


def programme(engine) -> None:
    """What a budget buys (MILP), beside funding the ranking from the top, with the programme's downloads.

    The result is kept for the budget it was planned for, so that a download or another widget's rerun does not
    lose it; a different budget hides it until it is planned again.
    """
    _ = resources.translator()
    budget = st.text_input(_("programme.budget"), value="20 000 000 000", key="p-budget",
                           help=_("programme.budget.help"))
    if st.button(_("programme.run"), key="p-run"):
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
    _ = resources.translator()
    totals, greedy = report["totals"], report["greedy"]
    a, b, c = st.columns(3)
    a.metric(_("programme.funded"), totals["sites"])
    b.metric(_("programme.cost"), f"{totals['cost_kzt']:,.0f}")
    c.metric(_("programme.benefit"), f"{totals['benefit']:,.0f}",
             delta=_("programme.benefit.delta", delta=f"{totals['benefit'] - greedy['benefit']:+,.0f}"))
    st.caption(_("programme.greedy", sites=greedy["sites"], cost=f"{greedy['cost_kzt']:,}",
                 benefit=f"{greedy['benefit']:,.0f}", method=report["scores"]["method"],
                 budget=f"{report['budget_kzt']:,}"))
    selected = labels.shown(pd.DataFrame(report["selected"]), _, resources.current_language(), region="region")
    st.dataframe(selected, hide_index=True, use_container_width=True,
                 column_config=labels.headers(_, selected.columns))
    if report["left_out"]:
        st.caption(_("programme.left_out", count=len(report["left_out"])))
        columns = ["rank", "code", "class", "total", "cost_kzt", "reason"]
        st.dataframe(pd.DataFrame(report["left_out"])[columns], hide_index=True, use_container_width=True,
                     column_config=labels.headers(_, columns))
    left, mid, right = st.columns(3)
    # Built when clicked; "ignore": a download does not rerun the page.
    left.download_button(_("programme.download.csv"), lambda: programme_service.csv_text(report),
                         file_name="programme.csv", mime="text/csv", key="p-csv", on_click="ignore")
    mid.download_button(_("programme.download.xlsx"), lambda: programme_service.xlsx_bytes(report),
                        file_name="programme.xlsx", mime=XLSX, key="p-xlsx", on_click="ignore")
    right.download_button(_("programme.download.gpkg"), lambda: programme_service.gpkg_bytes(engine, report),
                          file_name="programme.gpkg", mime=GPKG, key="p-gpkg", on_click="ignore")


def what_if(engine) -> None:
    """Vary the adjustable factors within their bounds and see the ranking beside the official one.

    The official method and stored scores never change. A scenario can be named, downloaded (JSON to keep and
    share; the comparison as CSV, XLSX or GeoPackage) and loaded back from its JSON file. The comparison is kept
    for the values it was computed with, so a download or another widget's rerun does not lose it.
    """
    _ = resources.translator()
    st.file_uploader(_("whatif.load"), type=["json"], key="w-file", on_change=_load_scenario)
    message = st.session_state.pop("w-loaded", None)  # shown once, on the run that follows the upload
    if message:
        kind, key, params = message
        getattr(st, kind)(_(key, **params))
    overrides = _factor_inputs(_)
    st.session_state.setdefault("w-name", "scenario")
    name = st.text_input(_("whatif.name"), key="w-name").strip() or "scenario"
    if st.button(_("whatif.run"), key="w-run"):
        st.session_state["w-result"] = _compare(engine, overrides)
    result = st.session_state.get("w-result")
    if result and result["overrides"] == overrides:
        _scenario_result(engine, result["rows"], scenario_file(name, overrides, dt.date.today().isoformat()))


def _declared(name: str) -> float:
    return float(BY_NAME[name].value)


def _factor_inputs(_) -> dict[str, float]:
    """One input per adjustable factor; returns the values that differ from the declared ones."""
    overrides = {}
    columns = st.columns(3)
    for i, factor in enumerate(ADJUSTABLE):
        declared, key = _declared(factor.name), f"w-{factor.name}"
        st.session_state.setdefault(key, declared)  # the default goes through the state, as a loaded file's values do
        chosen = columns[i % 3].number_input(
            _(f"whatif.factor.{factor.name}"), min_value=float(factor.low), max_value=float(factor.high), key=key,
            help=_("whatif.factor.help", declared=f"{declared:g}", low=f"{factor.low:g}", high=f"{factor.high:g}",
                   why=_(f"whatif.why.{factor.name}")))
        if chosen != declared:
            overrides[factor.name] = chosen
    return overrides


def _load_scenario() -> None:
    """Set the factors and the name from an uploaded scenario file; a callback, so it runs before they are drawn."""
    upload = st.session_state.get("w-file")
    if upload is None:
        return
    # What happened is kept as a message key and its values, worded in the reader's language when shown.
    try:
        name, overrides = read_scenario(upload.getvalue())
    except SitesError as error:
        st.session_state["w-loaded"] = ("error", "whatif.refused", {"file": upload.name, "error": str(error)})
        return
    for factor in ADJUSTABLE:
        st.session_state[f"w-{factor.name}"] = overrides.get(factor.name, _declared(factor.name))
    st.session_state["w-name"] = name
    st.session_state["w-loaded"] = ("success", "whatif.loaded",
                                    {"name": repr(name), "file": upload.name, "count": len(overrides)})


def _compare(engine, overrides: dict[str, float]) -> dict | None:
    try:
        return {"overrides": overrides, "rows": whatif.compare(engine, overrides, actor=resources.actor())}
    except SitesError as error:
        st.error(str(error))
        return None


def _scenario_result(engine, rows: list[dict], saved: dict) -> None:
    _ = resources.translator()
    frame = pd.DataFrame(rows)
    moved = int((frame["moved"].fillna(0) != 0).sum())
    st.caption(_("whatif.result", factors=len(saved["overrides"]), moved=moved))
    st.dataframe(frame.style.map(_moved_colour, subset=["moved"]), hide_index=True, use_container_width=True,
                 column_config=labels.headers(_, frame.columns))
    stem = re.sub(r"[^\w.-]+", "_", saved["name"]).strip("._") or "scenario"
    a, b, c, d = st.columns(4)
    a.download_button(_("whatif.download.json"), json.dumps(saved, ensure_ascii=False, indent=2),
                      file_name=f"{stem}.json", mime="application/json", key="w-json", on_click="ignore")
    b.download_button(_("whatif.download.csv"), lambda: _csv(frame), file_name=f"{stem}.csv",
                      mime="text/csv", key="w-csv", on_click="ignore")
    c.download_button(_("whatif.download.xlsx"), lambda: whatif.xlsx_bytes(rows, saved),
                      file_name=f"{stem}.xlsx", mime=XLSX, key="w-xlsx", on_click="ignore")
    d.download_button(_("whatif.download.gpkg"), lambda: whatif.gpkg_bytes(engine, rows, saved),
                      file_name=f"{stem}.gpkg", mime=GPKG, key="w-gpkg", on_click="ignore")


def _moved_colour(moved) -> str:
    if not moved or pd.isna(moved):
        return ""
    return "background-color: #d9f0d3" if moved > 0 else "background-color: #f4cccc"


def stability(engine) -> None:
    """Each site's chance of being in the top N when uncertain inputs vary (Monte Carlo, nothing stored)."""
    _ = resources.translator()
    left, mid, right = st.columns(3)
    draws = left.number_input(_("stability.draws"), 10, 2000, 200, step=10, key="mc-draws")
    top = mid.number_input(_("stability.top"), 1, 1000, 10, key="mc-top")
    seed = right.number_input(_("stability.seed"), 0, 1_000_000, 1, key="mc-seed", help=_("stability.seed.help"))
    if not st.button(_("stability.run"), key="mc-run"):
        return
    with st.spinner(_("stability.running", draws=int(draws))):
        rows = pd.DataFrame(whatif.stability(engine, draws=int(draws), top=int(top), seed=int(seed),
                                                actor=resources.actor()))
    st.caption(_("stability.result", draws=int(draws), top=int(top)))
    columns = ["official_rank", "code", "name", "p_top", "median_rank", "rank_low", "rank_high"]
    st.dataframe(rows[columns], hide_index=True, use_container_width=True, column_config=labels.headers(_, columns))


def _csv(frame: pd.DataFrame) -> str:
    from gis.export import frame_csv  # loads the exporters (and matplotlib) only when a CSV is asked for

    return frame_csv(frame)
