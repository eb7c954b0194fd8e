"""Benchmark the national map page in Chromium with a synthetic register: payload, time to first markers, filters.

Run: .venv/bin/python scripts/bench_map.py --sites 100000 --rounds 3
Prints medians and each run. Parts, in one run on the same data:
  a. server: the map query, building the folium map, and the page script streamlit-folium sends (size)
  b. floor: the same map HTML opened from a file in Chromium (no Streamlit): time to first markers
  c. app: the map page served by Streamlit in Chromium, time to first markers: just after an edit (the sites are
     read again) and again unchanged (read from the app's cache); then the class filter's response
  d. before: one folium CircleMarker per site (the earlier map), built for --old-sites sites: size and time
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.bench_scoring import GUIDELINES, create_database, drop_database, ensure_server, load_register  # noqa: E402
from sites.scoring.tables import METHOD_NAME, METHOD_VERSION  # noqa: E402
from gis import maps, queries  # noqa: E402
from gis.db import make_engine  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
CLASS_SHARES = {"1": 0.05, "2": 0.15, "3": 0.3, "N": 0.4, "I": 0.1}
FIRST_MARKERS = ".site-cluster, path.site-marker"


def add_scores(url: str, seed: int) -> None:
    """A latest score per site with classes in ``CLASS_SHARES``: the map colours by class, not by how it was got.

    Labelled with the real method so that an edit rescores its site as in the app.
    """
    classes, shares = list(CLASS_SHARES), list(CLASS_SHARES.values())
    bounds = [sum(shares[:i + 1]) for i in range(len(shares))]
    case = " ".join(f"WHEN r < {bound} THEN '{cls}'" for cls, bound in zip(classes, bounds))
    with psycopg.connect(url) as conn:
        conn.execute(f"SELECT setseed({(seed % 1000) / 1000})")
        conn.execute(f"""
            INSERT INTO score (site_id, method, method_version, guideline_set, pathways, total, priority_class,
                               confidence, explanation)
            SELECT id, '{METHOD_NAME}', '{METHOD_VERSION}', '{GUIDELINES}', '{{}}', 10, CASE {case} ELSE 'N' END,
                   0.5, '{{}}'
            FROM (SELECT id, random() AS r FROM site) s""")


def time_server(url: str, rounds: int) -> dict[str, Any]:
    """Seconds for the query and the map build, and the size of the script the component receives."""
    from streamlit_folium import generate_leaflet_string

    engine = make_engine(url)
    query, build, script = [], [], []
    for _ in range(rounds):
        started = time.perf_counter()
        sites = queries.map_sites(engine)
        query.append(time.perf_counter() - started)
        started = time.perf_counter()
        fmap = maps.site_map(sites)
        fmap.render()
        leaflet = generate_leaflet_string(fmap)
        build.append(time.perf_counter() - started)
        script.append(len(leaflet.encode()))
    engine.dispose()
    html = fmap.get_root().render()
    return {"sites": len(sites), "query": query, "build": build, "script_bytes": script[-1], "html": html}


def time_before(sites: list[dict[str, Any]]) -> dict[str, float]:
    """The earlier map: a folium CircleMarker with its popup and tooltip per site."""
    import folium

    started = time.perf_counter()
    fmap = folium.Map(location=maps.KAZAKHSTAN_CENTRE, zoom_start=5, tiles=None)
    for site in sites:
        folium.CircleMarker(location=(site["lat"], site["lon"]), radius=8, fill=True,
                            popup=folium.Popup(f"<table><tr><td>{maps.escape(site['name'])}</td></tr></table>"),
                            tooltip=folium.Tooltip(maps.escape(site["code"]))).add_to(fmap)
    html = fmap.get_root().render()
    return {"sites": len(sites), "seconds": time.perf_counter() - started, "bytes": len(html.encode())}


def first_markers(page, timeout_s: float = 120) -> float:
    """Seconds from now until a cluster or marker is visible in any frame of ``page``."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        for frame in page.frames:
            try:
                if frame.locator(FIRST_MARKERS).count():
                    return time.perf_counter() - started
            except Exception:  # a frame detached while it was asked: look again
                pass
        time.sleep(0.05)
    raise RuntimeError(f"no markers within {timeout_s} s")


def map_frame(page):
    return next(f for f in page.frames if f.locator(".site-class-filter").count())


def filter_response(page) -> float:
    """Seconds for the in-map class filter to redraw after one class is switched off."""
    frame = map_frame(page)
    container = frame.locator(".leaflet-container")
    before = container.get_attribute("data-sites-shown")
    started = time.perf_counter()
    frame.locator(".site-class-filter input").first.uncheck()
    while container.get_attribute("data-sites-shown") == before:
        time.sleep(0.01)
    return time.perf_counter() - started


def serve_app(url: str) -> tuple[subprocess.Popen, str]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, DATABASE_URL=url)
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
         "--server.headless", "true", "--server.enableStaticServing", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    address = f"http://localhost:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(address + "/_stcore/health", timeout=2):
                return process, address
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise RuntimeError("the app did not start within 60 s")


def edit_one_site(url: str, round_: int) -> None:
    """Rename one site through the register's services, so the app must read the sites again."""
    from gis.services import Register

    engine = make_engine(url)
    register = Register(engine)
    code = register.site_codes()[0]
    site = register.get_site(code)
    register.update_site(register.actor(), code, site["version"], {"name_en": f"Edited for round {round_}"})
    engine.dispose()


def time_browser(html: str, address: str, url: str, rounds: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    results: dict[str, list[float]] = {"floor": [], "edited": [], "app": [], "filter": []}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        # The file version loads Leaflet from the running app's static folder, as the page does.
        page_file = Path(tmp) / "map.html"
        page_file.write_text(html.replace('"/app/static/', f'"{address}/app/static/'))
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        _visit(browser, address, None)  # the app process imports its pages on the first visit: not measured
        for round_ in range(rounds):
            results["floor"].append(_visit(browser, page_file.as_uri(), None))
            edit_one_site(url, round_)
            results["edited"].append(_visit(browser, address, None))
            results["app"].append(_visit(browser, address, results["filter"]))
        browser.close()
    return results


def _visit(browser, address: str, filters: list[float] | None) -> float:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    started = time.perf_counter()
    page.goto(address, wait_until="commit")
    first_markers(page)
    seconds = time.perf_counter() - started  # from the request, as a user waits
    if filters is not None:
        filters.append(filter_response(page))
    context.close()
    return seconds


def _median(values: list[float]) -> str:
    runs = ", ".join(f"{v:.2f}" for v in values)
    return f"median {statistics.median(values):.2f} s (runs {runs})"


def report(server: dict[str, Any], browser: dict[str, list[float]], before: dict[str, float]) -> None:
    print(f"sites drawn: {server['sites']:,}")
    print(f"a. map query: {_median(server['query'])}")
    print(f"a. folium build + component script: {_median(server['build'])}")
    print(f"a. component script: {server['script_bytes'] / 1e6:.1f} MB "
          f"({server['script_bytes'] / max(server['sites'], 1):.0f} bytes a site)")
    print(f"b. floor (same HTML from a file), time to first markers: {_median(browser['floor'])}")
    floor = statistics.median(browser["floor"])
    print(f"c. app page just after an edit (sites read again), time to first markers: {_median(browser['edited'])}")
    print(f"   ratio to floor: {statistics.median(browser['edited']) / floor:.2f}x")
    print(f"c. app page, register unchanged (sites cached), time to first markers: {_median(browser['app'])}")
    print(f"   ratio to floor: {statistics.median(browser['app']) / floor:.2f}x")
    print(f"c. class filter redraw (one class off): {_median(browser['filter'])}")
    per_site = before["bytes"] / before["sites"]
    print(f"d. before (CircleMarker per site), {before['sites']:,} sites: {before['seconds']:.2f} s to build, "
          f"{before['bytes'] / 1e6:.1f} MB ({per_site:.0f} bytes a site; at {server['sites']:,} sites "
          f"about {per_site * server['sites'] / 1e6:.0f} MB)")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=100_000)
    parser.add_argument("--receptors", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--old-sites", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ensure_server()
    name = f"bench_map_{os.getpid()}"
    url = create_database(name)
    process = None
    try:
        started = time.perf_counter()
        load_register(url, args.sites, args.receptors, args.seed)
        add_scores(url, args.seed)
        print(f"loaded {args.sites:,} sites in {time.perf_counter() - started:.0f} s")
        server = time_server(url, args.rounds)
        process, address = serve_app(url)
        browser = time_browser(server.pop("html"), address, url, args.rounds)
        sample = queries.map_sites(make_engine(url))[: args.old_sites]
        report(server, browser, time_before(sample))
    finally:
        if process:
            process.terminate()
            process.wait(timeout=20)
        drop_database(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
