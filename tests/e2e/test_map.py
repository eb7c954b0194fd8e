"""The map page in a real Chromium with no internet: Leaflet loads, every site is drawn, text stays text."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import XSS_NAME

pytestmark = pytest.mark.e2e


def map_frame(page, timeout_s: float = 60):
    """The iframe holding the Leaflet map, once Leaflet has drawn its container."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for frame in page.frames:
            if frame.locator(".leaflet-container").count():
                return frame
        time.sleep(0.25)
    raise AssertionError("no .leaflet-container appeared in any frame: the map is blank")


def test_map_draws_every_site_offline(app_server, offline_page):
    url, site_count = app_server
    offline_page.goto(url)
    frame = map_frame(offline_page)
    markers = frame.locator("path.site-marker")
    markers.first.wait_for(timeout=30_000)
    assert markers.count() == site_count
    assert site_count >= 26
    assert not [u for u in offline_page.blocked if "leaflet" in u or "jquery" in u]


def test_hostile_site_name_shows_as_text(app_server, offline_page):
    url, _ = app_server
    dialogs: list[str] = []
    offline_page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    offline_page.goto(url)
    frame = map_frame(offline_page)
    frame.locator("path.site-KZ-KZY-0099").click(force=True)
    popup = frame.locator(".leaflet-popup-content")
    popup.wait_for(timeout=10_000)
    assert XSS_NAME in popup.inner_text()
    assert frame.locator(".leaflet-popup-content img").count() == 0
    time.sleep(0.5)
    assert dialogs == []


def test_settlement_layer_can_be_switched_on(app_server, offline_page):
    url, _ = app_server
    offline_page.goto(url)
    frame = map_frame(offline_page)
    assert frame.locator("path.receptor-marker").count() == 0
    frame.get_by_label("Settlements", exact=False).check()
    frame.locator("path.receptor-marker").first.wait_for(timeout=10_000)
    assert frame.locator("path.receptor-marker").count() > 300
