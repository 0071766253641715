"""The SPARQL page in a real headless Chromium: highlighting, completion, a long query by POST, paging,
downloads, and nothing fetched from another origin (works offline)."""
from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import _missing, chrome, serve, sign_in

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    why = _missing()
    if why:
        pytest.skip(why)
    from service.app import create_app
    from service.extensions import gapmap
    tmp = tmp_path_factory.mktemp("sparql-page")
    app = create_app({"STORE_PATH": "", "CACHE_DIR": str(tmp / "cache"), "SECRET_KEY": "t", "SPARQL_TIMEOUT": 10.0})
    with app.app_context():
        gapmap().load_manifest(MINI / "manifest.json")
    with serve(app) as base:
        yield base, app


@pytest.fixture(scope="module")
def driver(server):
    with chrome(1300, 900, performance=True) as d:
        yield d


def wait(d, cond, timeout=20):
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(d, timeout, poll_frequency=0.1).until(lambda d: cond(d))


def test_sparql_page(server, driver):
    server, app = server
    sign_in(driver, server, app, "dr.sparql")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    d = driver
    d.get(f"{server}/sparql/ui")
    # highlighting: keywords, variables and prefixed names are marked up
    hl = d.find_element(By.ID, "query-highlight")
    assert hl.find_elements(By.CSS_SELECTOR, ".tok-k") and hl.find_elements(By.CSS_SELECTOR, ".tok-v")
    assert hl.find_elements(By.CSS_SELECTOR, ".tok-p")

    # completion: "gm:Comp" offers gm:Competency; Enter takes it
    q = d.find_element(By.ID, "query")
    q.clear()
    q.send_keys("SELECT ?c WHERE { ?c a gm:Comp")
    menu = wait(d, lambda d: d.find_element(By.ID, "completion") if d.find_element(By.ID, "completion").is_displayed()
                else None)
    assert "gm:Competency" in menu.text
    q.send_keys(Keys.ENTER)
    assert d.execute_script("return document.getElementById('query').value").endswith("gm:Competency")
    q.send_keys(" }")

    # a long query (16 KB of comment) goes by POST and answers
    long_q = "# " + "x" * 16000 + "\nSELECT ?s ?p ?o WHERE { ?s ?p ?o }"
    d.execute_script("var q = document.getElementById('query'); q.value = arguments[0];"
                     "q.dispatchEvent(new Event('input'));", long_q)
    d.find_element(By.ID, "run").click()
    wait(d, lambda d: "row" in d.find_element(By.ID, "sparql-status").text)
    n = int(d.find_element(By.ID, "sparql-status").text.split()[0])
    assert n > 100
    # paging: 100 rows a page
    assert len(d.find_elements(By.CSS_SELECTOR, "#results-table tbody tr")) == 100
    d.find_element(By.ID, "page-next").click()
    assert d.find_element(By.ID, "page-info").text.strip().startswith("rows 101–")
    # downloads offered in every results format
    fmts = [b.get_attribute("data-format") for b in d.find_elements(By.CSS_SELECTOR, "#results-downloads button")]
    assert fmts == ["csv", "tsv", "srj", "srx"]

    # no script errors, and every request went to this server
    logs = d.get_log("browser")
    assert not [e for e in logs if e.get("level") == "SEVERE" and e.get("source") != "network"], logs
    urls = d.execute_script("return performance.getEntriesByType('resource').map(function (e) { return e.name; })")
    assert urls and all(u.startswith(server) for u in urls), urls
