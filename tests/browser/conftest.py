"""A real headless Chromium (Debian ``chromium`` + ``chromium-driver``) against the real app on a free port."""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
SHOTS = ROOT / "build" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
#: the committee member the browser signs in as (created by live_server)
USER, PASSWORD = "dr.selenium", "selenium-password-1"


def _missing() -> str | None:
    for p in (CHROMIUM, CHROMEDRIVER):
        if not Path(p).exists():
            return f"{p} is not installed (run `make browsers`: Debian chromium + chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed"
    return None


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """The app over an on-disk store loaded from data/manifest.json and aligned once, served by werkzeug."""
    why = _missing()
    if why:
        pytest.skip(why)
    from service.app import create_app
    from service.extensions import gapmap

    tmp = tmp_path_factory.mktemp("browser")
    app = create_app({"STORE_PATH": str(tmp / "store"), "CACHE_DIR": str(tmp / "cache"),
                      "SECRET_KEY": "browser-test", "SPARQL_TIMEOUT": 10.0})
    with app.app_context():
        ws = gapmap()
        ws.load_manifest(DATA / "manifest.json")
        ws.align("md")  # loads the MiniLM model once for the module
    from service.auth import users_db
    users_db(app).add_user(USER, "committee", password=PASSWORD)
    with serve(app) as base:
        yield base, app


@contextmanager
def serve(app):
    """``app`` served by werkzeug on a free loopback port (threads), for a browser; yields its base URL."""
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", int(os.environ.get("GAPMAP_BROWSER_PORT", "0")), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="gapmap-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        eng = app.extensions.get("gapmap_sparql")
        if eng is not None:
            eng.close()


@contextmanager
def chrome(width: int = 1400, height: int = 1000, *, performance: bool = False):
    """A headless Chromium on its own throwaway profile, keeping the browser console log (and the network
    log with ``performance``); quit and cleaned up afterwards.  Every browser test drives one of these."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="gapmap-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-default-apps", f"--window-size={width},{height}", f"--user-data-dir={profile}"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", **({"performance": "ALL"} if performance else {})})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def _fresh_screenshots():
    """One run's set of screenshots, no stale pictures (cleared once, not by each module)."""
    if SHOTS.exists():
        for old in SHOTS.glob("*.png"):
            old.unlink()
    yield


@pytest.fixture(scope="module")
def browser(live_server):
    with chrome() as driver:
        yield driver


def sign_in(d, base: str, app, user: str, role: str = "viewer", next: str = "/") -> None:
    """Sign ``user`` in through the sign-in form in a fresh browser session (the account is created with
    ``role`` and a password in ``app`` on first use); lands on ``next``."""
    from selenium.webdriver.common.by import By

    from service.auth import users_db

    from .test_browser import wait
    password = f"{user}-password-1"
    db = users_db(app)
    if db.get(user) is None:
        db.add_user(user, role, password=password)
    d.delete_all_cookies()
    d.get(f"{base}/signin?next={next}")
    d.find_element(By.ID, "name").send_keys(user)
    d.find_element(By.ID, "password").send_keys(password)
    d.find_element(By.CSS_SELECTOR, "form.stack button[type=submit]").click()
    wait(d, lambda d: "/signin" not in d.current_url, what="sign-in")
