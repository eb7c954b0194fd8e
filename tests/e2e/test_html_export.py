"""The workshop HTML map opened from disk in Chromium with every network request refused: all sites are there."""

from __future__ import annotations

import time

import pytest

from gis.db import make_engine
from gis.html_export import export_html
from gis.scoring import rescore
from gis.services import Register
from tests.e2e.conftest import XSS_NAME

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def register_url(demo_url):
    """The demo, scored, plus a site whose name tries to run script, as in the app's tests."""
    engine = make_engine(demo_url)
    register = Register(engine)
    register.create_site(register.actor(), {
        "code": "KZ-KZY-0099", "name_en": XSS_NAME, "lat": 45.0, "lon": 60.0, "location_precision": "approximate",
        "region_kato": "430000000", "activity": "other",
    })
    rescore(engine, register.actor())
    count = len(register.site_codes())
    engine.dispose()
    return demo_url, count


@pytest.fixture
def sealed_page(browser):
    """A page that may read file: and data: addresses only; every other request is refused and recorded."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    requests: list[str] = []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(("file:", "data:", "about:")):
            request_route.continue_()
        else:
            requests.append(url)
            request_route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.refused = requests
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()


def export(url: str, folder, **options):
    engine = make_engine(url)
    try:
        return export_html(engine, folder / "sites.html", **options)
    finally:
        engine.dispose()


def test_every_site_is_on_the_map_opened_offline_from_disk(register_url, sealed_page, tmp_path):
    url, count = register_url
    exported = export(url, tmp_path)
    assert len(exported.codes) == count
    sealed_page.goto(exported.path.as_uri())
    markers = sealed_page.locator("path.site-marker")
    markers.first.wait_for(timeout=20_000)
    assert markers.count() == count
    for code in exported.codes:
        assert sealed_page.locator(f"path.site-{code}").count() == 1, code
    assert sealed_page.locator(".leaflet-container").get_attribute("data-sites-shown") == str(count)
    assert sealed_page.refused == []


def test_popups_explain_the_score_and_keep_names_as_text(register_url, sealed_page, tmp_path):
    url, _ = register_url
    exported = export(url, tmp_path)
    sealed_page.goto(exported.path.as_uri())
    sealed_page.locator("path.site-KZ-KZY-0099").click(force=True)
    popup = sealed_page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=10_000)
    assert XSS_NAME in popup.inner_text()
    assert sealed_page.locator(".leaflet-popup-content img").count() == 0
    sealed_page.locator(".leaflet-popup-close-button").click()
    sealed_page.locator("path.site-KZ-PAV-0001").click(force=True)
    explained = sealed_page.locator(".leaflet-popup-content", has_text="KZ-PAV-0001")
    explained.wait_for(timeout=10_000)
    text = explained.inner_text()
    assert "Score" in text and "of 100, class" in text and "By pathway:" in text
    time.sleep(0.3)
    assert sealed_page.dialogs == []


def test_a_kazakh_export_speaks_kazakh_and_names_date_method_and_sources(register_url, sealed_page, tmp_path):
    url, _ = register_url
    exported = export(url, tmp_path, lang="kk")
    sealed_page.goto(exported.path.as_uri())
    sealed_page.locator(".site-class-filter").wait_for(timeout=20_000)
    header = sealed_page.locator(".export-topright").inner_text()
    sources = sealed_page.locator(".export-sources").inner_text()
    assert "Тарихи ластану объектілері" in header and "бағалау әдісі" in header
    assert exported.method in header
    assert "Дереккөздер" in sources and all(source in sources for source in exported.sources)
    assert "Басымдық сыныбы" in sealed_page.locator(".site-class-filter").inner_text()


def test_a_large_register_is_clustered_and_still_counts_every_site(register_url, sealed_page, tmp_path):
    url, count = register_url
    exported = export(url, tmp_path, cluster_from=5)
    sealed_page.goto(exported.path.as_uri())
    clusters = sealed_page.locator(".site-cluster")
    clusters.first.wait_for(timeout=20_000)
    in_clusters = sum(int(text.replace(",", "")) for text in clusters.all_inner_texts())
    assert in_clusters + sealed_page.locator("path.site-marker").count() == count
    assert sealed_page.refused == []
