"""A running app on a test database, and a Chromium that may reach nothing but localhost."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from gis.db import make_engine
from gis.services import Register
from tests.conftest import ROOT, TEST_PASSWORD, add_test_user

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
XSS_NAME = "<img src=x onerror=alert(1)> ${alert(2)}"
E2E_USER = "e2e-admin"  # the browser tests' account (an administrator, as `sites` acts by default)
LOCAL_PREFIXES = ("http://localhost", "http://127.0.0.1", "ws://localhost", "ws://127.0.0.1", "data:", "blob:", "about:")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def app_server(demo_url, tmp_path_factory, request):
    """Serve app.py on a free port against the demo database plus one hostile site name.

    A test module may set ``APP_ENV`` (a dict) to serve the app with extra settings from the environment.
    """
    engine = make_engine(demo_url)
    register = Register(engine)
    register.create_site(register.actor(), {
        "code": "KZ-KZY-0099", "name_en": XSS_NAME, "lat": 45.0, "lon": 60.0, "location_precision": "approximate",
        "region_kato": "430000000", "activity": "other",
    })
    sites = len(register.site_codes())
    add_test_user(engine, E2E_USER, "admin")
    engine.dispose()
    port = free_port()
    # Photos the tests upload go to a temporary folder, not the checkout's .local/files.
    env = dict(os.environ, DATABASE_URL=demo_url, SITES_FILES_DIR=str(tmp_path_factory.mktemp("files")),
               **getattr(request.module, "APP_ENV", {}))
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
         "--server.headless", "true", "--server.enableStaticServing", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://localhost:{port}"
    try:
        _wait_healthy(url, process)
        yield url, sites
    finally:
        process.terminate()
        process.wait(timeout=20)


def open_signed_in(page, url: str, page_path: str, user: str = E2E_USER) -> None:
    """Open the app, sign in through the sidebar form as ``user``, then go to ``page_path`` by the navigation.

    By the navigation, not by address: loading an address starts a new session, which is signed out.
    """
    page.goto(url)
    form = page.get_by_test_id("stForm")
    form.get_by_label("User name", exact=True).fill(user)
    form.get_by_label("Password", exact=True).fill(TEST_PASSWORD)
    form.get_by_role("button", name="Sign in").click()
    page.get_by_text("Signed in as").first.wait_for(timeout=60_000)
    page.locator(f'[data-testid="stSidebarNavLink"][href$="/{page_path}"]').click()
    # The navigation changes the address without loading a page (history API): wait for the address, then for the
    # page's own elements (Streamlit marks the previous page's stale until the run ends).
    page.wait_for_function(f"() => location.pathname.endsWith('/{page_path}')", timeout=30_000)
    page.locator('[data-stale="true"]').first.wait_for(state="detached", timeout=60_000)


def _wait_healthy(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the app exited: " + process.stdout.read().decode(errors="replace")[-2000:])
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("the app did not become healthy within 60 s")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (scripts/test installs it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def offline_page(browser):
    """A page whose every non-local request is aborted and recorded."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    blocked: list[str] = []

    def route(request_route):
        if request_route.request.url.startswith(LOCAL_PREFIXES):
            request_route.continue_()
        else:
            blocked.append(request_route.request.url)
            request_route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.blocked = blocked
    yield page
    context.close()
