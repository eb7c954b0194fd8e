"""Field work in a real Chromium with no internet: place a site by clicking the map, add a sample and a photo, see it
on the register map; a second browser editing the same site meets the stale-edit refusal."""

from __future__ import annotations

import io
import re
import time

import pytest
from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e.conftest import open_signed_in
from tests.e2e.test_map import map_frame

pytestmark = pytest.mark.e2e
NAME = "Zhezkazgan tailings seen from the road"


def wait_text(page, text: str, timeout_s: float = 60) -> None:
    # visible only: Streamlit keeps a faded copy of the previous run's elements until the rerun ends
    try:
        page.get_by_text(text, exact=False).filter(visible=True).first.wait_for(timeout=timeout_s * 1000)
    except PlaywrightTimeout as error:  # name what the page showed instead; the test fails either way
        raise AssertionError(f"{text!r} did not appear; the page shows:\n{page.inner_text('body')[-2000:]}") from error


def settled(page, timeout_s: float = 30) -> None:
    """Wait until Streamlit has replaced every element of the previous run (it marks them data-stale)."""
    deadline = time.monotonic() + timeout_s
    while page.locator('[data-stale="true"]').count() and time.monotonic() < deadline:
        time.sleep(0.25)


def upload(page, files, shown: str, attempts: int = 3) -> None:
    """Give files to the live uploader until its list shows ``shown``: a rerun triggered by another component (the
    map reports its state after drawing) can replace the uploader just as the files arrive."""
    for _ in range(attempts):
        settled(page)
        page.locator('[data-stale="false"] input[type=file]').set_input_files(files)
        try:
            page.get_by_text(shown, exact=False).filter(visible=True).first.wait_for(timeout=10_000)
            return
        except PlaywrightTimeout:
            continue
    wait_text(page, shown, timeout_s=1)  # fails, naming what the page shows


def fill(page, label: str, value: str) -> None:
    settled(page)
    box = page.locator('[data-testid="stElementContainer"][data-stale="false"]').get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    time.sleep(0.3)  # Streamlit reruns on Enter: let that run start, then finish, before the next widget
    settled(page)


def open_edit(page, url: str, code: str, signed_in: bool = False) -> None:
    if not signed_in:
        open_signed_in(page, url, "edit_page")
    page.get_by_text("Edit a site", exact=True).click()
    combo = page.get_by_label("Site", exact=True)
    combo.click()
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    wait_text(page, "loaded; last saved")
    settled(page)  # the previous site's widgets linger until the rerun for the chosen one has finished


def jpeg_without_geotag() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (120, 90, 60)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_inspector_adds_a_site_by_map_click_then_a_sample_and_a_photo(app_server, offline_page):
    url, _ = app_server
    page = offline_page
    open_signed_in(page, url, "edit_page")
    frame = map_frame(page)
    box = frame.locator(".leaflet-container").bounding_box()
    frame.locator(".leaflet-container").click(position={"x": box["width"] / 2 + 40, "y": box["height"] / 2})
    wait_text(page, "Point: ")
    assert re.search(r"Point: 4\d\.\d{6} N, 6\d\.\d{6} E", page.inner_text("body"))
    fill(page, "Name (English)", NAME)
    page.get_by_role("button", name="Save the new site").click()
    wait_text(page, "Saved KZ-")
    code = re.search(r"Saved (KZ-[A-Z]{3}-\d{4})", page.inner_text("body")).group(1)

    open_edit(page, url, code, signed_in=True)
    fill(page, "Result", "<0,05")
    page.get_by_role("button", name="Add sample").click()
    wait_text(page, "Sample added: ")
    upload(page, [{"name": "tailings.jpg", "mimeType": "image/jpeg", "buffer": jpeg_without_geotag()}], "tailings.jpg")
    page.get_by_role("button", name="Save inspection").click()
    wait_text(page, "Inspection saved with 1 file(s)")
    wait_text(page, "no geotag (flagged)")

    page.goto(url)  # a new session: the public view, where the new site is as exact (it is not confidential)
    frame = map_frame(page)
    frame.locator(f"path.site-{code}").wait_for(timeout=30_000, state="attached")
    assert not [u for u in page.blocked if "leaflet" in u or "jquery" in u]


def test_second_browser_meets_the_stale_edit_refusal(app_server, browser):
    url, _ = app_server
    first, second = browser.new_context(), browser.new_context()
    try:
        a, b = first.new_page(), second.new_page()
        open_edit(a, url, "KZ-PAV-0002")
        open_edit(b, url, "KZ-PAV-0002")
        fill(b, "Operator", "Changed in the second browser")
        b.get_by_role("button", name="Save changes").click()
        wait_text(b, "Saved KZ-PAV-0002")
        fill(a, "Operator", "Changed in the first browser")
        a.get_by_role("button", name="Save changes").click()
        wait_text(a, "was changed by someone else")
        wait_text(a, "Changed in the second browser")
    finally:
        first.close()
        second.close()
