"""The API reference (/api/docs, Swagger UI) in a real headless Chromium: it lists the operations of the
generated document, runs under the Content-Security-Policy without script errors, fetches nothing from
another origin (works offline), and "Try it out" works with the web sign-in (a GET, and a POST that needs
the CSRF token the page passes on)."""
from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import SHOTS, _missing, chrome, serve, sign_in
from .test_browser import wait

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    why = _missing()
    if why:
        pytest.skip(why)
    from service.app import create_app
    from service.extensions import gapmap
    tmp = tmp_path_factory.mktemp("apidocs")
    app = create_app({"STORE_PATH": "", "CACHE_DIR": str(tmp / "cache"), "SECRET_KEY": "t"})
    with app.app_context():
        gapmap().load_manifest(MINI / "manifest.json")
    with serve(app) as base:
        yield base, app


@pytest.fixture(scope="module")
def driver(server):
    with chrome(1400, 1000) as d:
        yield d


def _errors(d) -> list:
    """Script errors and CSP refusals (both are SEVERE console entries; failed requests are 'network')."""
    return [e for e in d.get_log("browser") if e.get("level") == "SEVERE" and e.get("source") != "network"]


def _operation(d, method: str, path: str):
    from selenium.webdriver.common.by import By
    for block in d.find_elements(By.CSS_SELECTOR, f".opblock-{method}"):
        if block.find_element(By.CSS_SELECTOR, ".opblock-summary-path").get_attribute("data-path") == path:
            return block
    raise AssertionError(f"{method.upper()} {path} is not listed")


def test_api_docs_lists_the_operations_offline(server, driver):
    from selenium.webdriver.common.by import By
    base, app = server
    d = driver
    d.get(f"{base}/api/docs")  # anonymous: the reference is public
    wait(d, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) > 70, what="operations listed")
    d.save_screenshot(str(SHOTS / "apidocs.png"))  # the top of the reference, as a reader first sees it
    assert "Gapmap API" in d.find_element(By.CSS_SELECTOR, ".info .title").text
    paths = {e.get_attribute("data-path") for e in d.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
    assert {"/api/programs/{program}/gaps", "/api/alignments/{key}/decision", "/api/people/{pid}/plan",
            "/api/docs", "/sparql"} <= paths
    gaps = _operation(d, "get", "/api/programs/{program}/gaps")
    assert "Gap report of a program" in gaps.find_element(By.CSS_SELECTOR, ".opblock-summary-description").text
    # the bearer scheme is offered ("Authorize")
    assert d.find_elements(By.CSS_SELECTOR, ".auth-wrapper .authorize")
    # the response schema is the real one: open the gap report and find its fields
    gaps.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    wait(d, lambda d: "GapReport" in gaps.text or "competencies" in gaps.text, what="gap report schema")
    d.execute_script("arguments[0].scrollIntoView()", gaps)
    d.save_screenshot(str(SHOTS / "apidocs-gap-report.png"))
    assert _errors(d) == []
    urls = d.execute_script("return performance.getEntriesByType('resource').map(function (e) { return e.name; })")
    assert urls and all(u.startswith(base) for u in urls), urls


def test_try_it_out_with_the_web_sign_in(server, driver):
    """A GET and a POST (the CSRF token comes from the page) through Swagger UI's Try it out, signed in."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    base, app = server
    d = driver
    sign_in(d, base, app, "dr.apidocs", role="committee", next="/api/docs")
    d.get(f"{base}/api/docs#/programs/programs")
    wait(d, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) > 70, what="operations listed")

    def run(block, fill=None):
        if not block.find_elements(By.CSS_SELECTOR, ".opblock-body"):
            block.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
        wait(d, lambda d: block.find_elements(By.CSS_SELECTOR, ".try-out__btn"), what="try it out")
        block.find_element(By.CSS_SELECTOR, ".try-out__btn").click()
        if fill:
            fill(block)
        block.find_element(By.CSS_SELECTOR, ".execute").click()
        return wait(d, lambda d: block.find_elements(By.CSS_SELECTOR,
                                                         ".live-responses-table tbody .response-col_status"),
                    what="a live response")[0].text.strip()

    programs = _operation(d, "get", "/api/programs")
    assert run(programs) == "200"
    assert "Mini MD" in programs.find_element(By.CSS_SELECTOR, ".live-responses-table").text

    def draft(block):
        block.find_element(By.CSS_SELECTOR, "input[placeholder='program']").send_keys("mini")
        body = block.find_element(By.CSS_SELECTOR, "textarea.body-param__text")
        body.send_keys(Keys.CONTROL, "a")  # the example body, replaced
        body.send_keys(Keys.DELETE)
        body.send_keys('{"name": "from-the-docs"}')
    post = _operation(d, "post", "/api/programs/{program}/drafts")
    assert run(post, draft) == "201", post.find_element(By.CSS_SELECTOR, ".live-responses-table").text
    with app.app_context():
        from service.api.workbench import drafts
        assert [x["name"] for x in drafts().list("mini")] == ["from-the-docs"]
    d.execute_script("arguments[0].scrollIntoView()", post.find_element(By.CSS_SELECTOR, ".live-responses-table"))
    d.save_screenshot(str(SHOTS / "apidocs-try-it-out.png"))  # the POST's live answer
    assert _errors(d) == []
