"""The committee's workbench in a real headless Chromium: a what-if draft from creation to apply, a framework
crosswalk run and reviewed, and keyboard access to the heatmap's cells.  Screenshots go to build/screenshots/."""
from __future__ import annotations


import pytest

from .conftest import DATA, ROOT, _missing, serve, sign_in
from .test_browser import js_errors, row_status, shot, wait

USER = "dr.committee"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """The bundled data plus a small second framework, not aligned (the workbench flows do not need it)."""
    why = _missing()
    if why:
        pytest.skip(why)
    from loaders import Source
    from service.app import create_app
    from service.extensions import gapmap

    tmp = tmp_path_factory.mktemp("workbench-browser")
    app = create_app({"STORE_PATH": str(tmp / "store"), "CACHE_DIR": str(tmp / "cache"),
                      "SECRET_KEY": "browser-test", "SPARQL_TIMEOUT": 10.0})
    with app.app_context():
        ws = gapmap()
        ws.load_manifest(DATA / "manifest.json")
        ws.load("framework-csv", Source.from_path(ROOT / "tests" / "fixtures" / "crosswalk" / "framework-b.csv"),
                {"id": "xb", "title": "Framework B", "version": "1"})
    with serve(app) as base:
        yield base, app


def _sign_in(d, base, app):
    sign_in(d, base, app, USER, "committee", next="/programs/md/drafts")
    wait(d, lambda d: d.current_url.endswith("/programs/md/drafts"), what="the drafts page after sign-in")

def test_draft_from_creation_to_apply(live_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    base, app = live_server
    d = browser
    _sign_in(d, base, app)
    d.find_element(By.CSS_SELECTOR, '#draft-create input[name="name"]').send_keys("qi-in-year-2")
    d.find_element(By.CSS_SELECTOR, "#draft-create button[type=submit]").click()
    wait(d, lambda d: d.current_url.endswith("/drafts/qi-in-year-2"), what="the new draft's page")
    # SBP4 (a planted never-taught competency) gets an objective in year 2
    form = d.find_element(By.ID, "draft-edit")
    Select(form.find_element(By.NAME, "op")).select_by_value("add_objective")
    for name, value in (("id", "MED201-QI"), ("course", "MED-201"), ("level", "3"), ("competencies", "SBP4"),
                        ("text", "Design a plan-do-study-act cycle for a ward quality problem.")):
        form.find_element(By.NAME, name).send_keys(value)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, '#compare tr[data-competency="SBP4"][data-changed="1"]'),
         what="SBP4 to change in the draft")
    row = d.find_element(By.CSS_SELECTOR, '#compare tr[data-competency="SBP4"]')
    assert "Not taught" in row.text and "Taught, not assessed" in row.text and "MED-201" in row.text
    assert "add objective" in d.find_element(By.ID, "edits").text
    shot(d, "w01-draft-compare")
    # the draft's heatmap marks the row; the live dashboard still says not taught
    d.find_element(By.LINK_TEXT, "Heatmap of the draft").click()
    wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, 'tr.comp-row.changed[data-competency="SBP4"]'),
         what="the changed row in the draft heatmap")
    assert row_status(d, "SBP4") == "taught_not_assessed"
    shot(d, "w02-draft-heatmap")
    d.get(f"{base}/programs/md")
    assert row_status(d, "SBP4") == "not_taught"
    d.get(f"{base}/drafts/qi-in-year-2")
    d.find_element(By.ID, "draft-apply").click()
    d.switch_to.alert.accept()
    wait(d, lambda d: "Applied by" in d.find_element(By.ID, "wb-status").text, what="the draft to be applied")
    assert USER in d.find_element(By.ID, "wb-status").text
    d.get(f"{base}/programs/md")
    assert row_status(d, "SBP4") == "taught_not_assessed"
    assert not js_errors(d)


def test_heatmap_cells_open_their_objectives_from_the_keyboard(live_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    base, app = live_server
    d = browser
    _sign_in(d, base, app)
    d.get(f"{base}/programs/md")
    cell = d.find_element(By.CSS_SELECTOR, 'tr.comp-row[data-competency="CS1"] td.cell[tabindex="0"]')
    cell.send_keys(Keys.ENTER)
    dialog = wait(d, lambda d: d.find_element(By.ID, "cell-dialog") if d.find_element(By.ID, "cell-dialog")
                  .get_attribute("open") is not None else None, what="the cell dialog")
    assert "CS1 in" in dialog.text and "Objectives teaching it" in dialog.text
    shot(d, "w03-heatmap-cell")
    dialog.find_element(By.CSS_SELECTOR, "button").click()
    wait(d, lambda d: d.find_element(By.ID, "cell-dialog").get_attribute("open") is None, what="the dialog to close")
    # a status tile filters the rows
    d.find_element(By.CSS_SELECTOR, '#summary a.card[data-status="not_taught"]').click()
    wait(d, lambda d: "status=not_taught" in d.current_url, what="the tile filter")
    statuses = {r.get_attribute("data-status") for r in d.find_elements(By.CSS_SELECTOR, "tr.comp-row")}
    assert statuses == {"not_taught"}


def test_crosswalk_run_and_review(live_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    base, app = live_server
    d = browser
    _sign_in(d, base, app)
    d.get(f"{base}/crosswalks")
    form = d.find_element(By.ID, "crosswalk-run")
    Select(form.find_element(By.NAME, "source")).select_by_value("hpc")
    Select(form.find_element(By.NAME, "target")).select_by_value("xb")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(d, lambda d: d.current_url.endswith("/crosswalks/hpc/xb"), timeout=120, what="the crosswalk page")
    rows = d.find_elements(By.CSS_SELECTOR, "#mappings tr[data-mapping]")
    assert len(rows) == 61 * 3
    first = rows[0]
    Select(first.find_element(By.CSS_SELECTOR, "select.relation")).select_by_value("broader")
    first.find_element(By.CSS_SELECTOR, 'button[data-decision="accept"]').click()
    wait(d, lambda d: first.find_element(By.CSS_SELECTOR, ".badge").text == "accepted", what="the mapping accepted")
    assert "broader" in d.find_element(By.ID, "wb-status").text
    shot(d, "w04-crosswalk")
    d.get(f"{base}/crosswalks/hpc/xb?status=accepted")
    assert len(d.find_elements(By.CSS_SELECTOR, "#mappings tr[data-mapping]")) == 1
    assert not js_errors(d)


PAGES = ["/programs/md", "/programs/md?role=intern", "/programs/md/progression", "/programs/md/health?duplicates=0",
         "/crosswalks", "/crosswalks/hpc/xb", "/programs/md/drafts", "/programs/md/review", "/roles", "/"]


def test_no_serious_accessibility_violations_and_readable_widths(live_server, browser):
    """axe-core (the copy bundled by axe-selenium-python) finds no serious or critical violation of colour
    contrast or of the rules about names and keyboard access on the workbench and dashboard pages."""
    try:
        from axe_selenium_python import Axe
    except ImportError:
        pytest.skip("axe-selenium-python is not installed")
    base, app = live_server
    d = browser
    _sign_in(d, base, app)
    problems = []
    for width in (1280, 1024):
        d.set_window_size(width, 900)
        for page in PAGES:
            d.get(base + page)
            axe = Axe(d)
            axe.inject()
            res = axe.run(options={"runOnly": {"type": "rule", "values": [
                "color-contrast", "link-name", "button-name", "label", "image-alt", "duplicate-id-aria",
                "aria-allowed-attr", "aria-required-attr", "tabindex"]}})
            for v in res["violations"]:
                if v["impact"] in ("serious", "critical"):
                    problems.append((width, page, v["id"], [n["target"] for n in v["nodes"][:3]]))
            # readable: nothing but the heatmap scrolls sideways
            overflow = d.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 2:
                problems.append((width, page, "horizontal-overflow", overflow))
    d.set_window_size(1400, 1000)
    assert not problems, problems
