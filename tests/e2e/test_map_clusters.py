"""The map as a national register sees it: clustered markers, a class filter that works in the browser alone."""

from __future__ import annotations

import time

import pytest

from tests.e2e.test_map import map_frame

pytestmark = pytest.mark.e2e
# The demo holds a few dozen sites; clustering from five makes this app draw them as a 100,000-site register would.
APP_ENV = {"SITES_MAP_CLUSTER_FROM": "5"}


def shown(frame) -> int:
    return int(frame.locator(".leaflet-container").get_attribute("data-sites-shown"))


def wait_for(condition, timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the map did not change within the time allowed")
        time.sleep(0.1)


def test_sites_are_clustered_and_every_site_is_counted(app_server, offline_page):
    url, site_count = app_server
    offline_page.goto(url)
    frame = map_frame(offline_page)
    clusters = frame.locator(".site-cluster")
    clusters.first.wait_for(timeout=30_000)
    assert shown(frame) == site_count
    in_clusters = sum(int(text.replace(",", "")) for text in clusters.all_inner_texts())
    loose = frame.locator("path.site-marker").count()
    assert in_clusters + loose == site_count
    assert not offline_page.blocked


def test_the_class_filter_hides_a_class_without_reloading_the_page(app_server, offline_page):
    url, site_count = app_server
    offline_page.goto(url)
    frame = map_frame(offline_page)
    frame.locator(".site-cluster").first.wait_for(timeout=30_000)
    boxes = frame.locator(".site-class-filter input")
    label = frame.locator(".site-class-filter label").first.inner_text()
    in_class = int(label.rsplit("(", 1)[1].rstrip(")").replace(",", ""))
    frame.evaluate("window.notReloaded = true")
    boxes.first.uncheck()
    wait_for(lambda: shown(frame) == site_count - in_class)
    boxes.first.check()
    wait_for(lambda: shown(frame) == site_count)
    assert frame.evaluate("window.notReloaded") is True


def test_a_cluster_opens_into_sites_with_text_popups(app_server, offline_page):
    url, _ = app_server
    offline_page.goto(url)
    frame = map_frame(offline_page)
    frame.locator(".site-cluster").first.wait_for(timeout=30_000)
    for _ in range(12):  # zoom in by clicking clusters until single sites show
        if frame.locator("path.site-marker").count():
            break
        frame.locator(".site-cluster").first.click()
        time.sleep(0.8)
    marker = frame.locator("path.site-marker").first
    marker.click(force=True)
    popup = frame.locator(".leaflet-popup-content")
    popup.wait_for(timeout=10_000)
    assert "Code" in popup.inner_text() and "KZ-" in popup.inner_text()
