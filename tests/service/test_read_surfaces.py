"""One review queue: the API, the review page and the read layer list the same objectives in the same
order for the same filter (year, course, status), on the bundled data.  (Before the read layer the two
copies differed: only the API filtered by year, only the page sorted.)"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from ontology.read import review as rq
from tests.concurrency import FakeLinker
from tests.conftest import signed_client

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from service.app import create_app
    from service.extensions import gapmap

    app = create_app({"STORE_PATH": "", "TESTING": True, "CACHE_DIR": str(tmp_path_factory.mktemp("cache")),
                      "SPARQL_TIMEOUT": 5.0, "SECRET_KEY": "test"})
    with app.app_context():
        ws = gapmap()
        ws.load_manifest(DATA / "manifest.json")
        fake = FakeLinker(ws.store, "hpc")
        ws.linker = lambda framework: fake
        ws.align("md", top_k=3, min_precision=0)
    yield app
    eng = app.extensions.get("gapmap_sparql")
    if eng is not None:
        eng.close()


def _read_layer(app, **kw) -> list[str]:
    from service.extensions import gapmap
    with app.app_context():
        ws = gapmap()
        return [o.objective for o in rq.review_queue(ws.store, ws.ids.program("md"), **kw)]


def _api(client, query: str) -> list[str]:
    body = client.get(f"/api/programs/md/review?{query}&limit=5000").get_json()
    assert body["count"] == len(body["objectives"])
    return [o["objective"] for o in body["objectives"]]


def _page(client, query: str) -> list[str]:
    out, n = [], 1
    while True:
        r = client.get(f"/programs/md/review?{query}&page={n}")
        assert r.status_code == 200
        page = r.get_data(as_text=True)
        out += re.findall(r'<article class="objective" data-objective="([^"]+)"', page)
        if 'rel="next"' not in page:
            return out
        n += 1


@pytest.mark.parametrize("query,kw", [
    ("year=2&status=all", {"year": 2, "status": "all"}),
    ("year=1&status=pending", {"year": 1, "status": "pending"}),
    ("course=MED-101&status=all", {"course": "MED-101", "status": "all"}),
    ("year=3&status=suggested&min_precision=0.8", {"year": 3, "status": "suggested", "min_precision": 0.8}),
])
def test_api_and_page_show_the_same_queue(app, query, kw):
    client = signed_client(app, "committee")
    expected = _read_layer(app, **kw)
    assert expected, f"the bundled data has objectives for {query}"
    assert _api(client, query) == expected
    assert _page(client, query) == expected


def test_year_filter_and_order_on_both_surfaces(app):
    client = signed_client(app, "committee")
    years = {o["year"] for o in client.get("/api/programs/md/review?year=2&status=all&limit=5000")
             .get_json()["objectives"]}
    assert years == {2}
    everything = _api(client, "status=all")
    year2 = _api(client, "year=2&status=all")
    # the year's objectives in the order of the whole queue (one sort for every filter)
    assert year2 == [o for o in everything if o in set(year2)]
    page = client.get("/programs/md/review?year=2&status=all").get_data(as_text=True)
    assert '<option value="2" selected>Year 2</option>' in page
    courses = set(re.findall(r'<article class="objective" data-objective="[^"]+" data-course="([^"]+)"', page))
    api_courses = {o["course"] for o in client.get("/api/programs/md/review?year=2&status=all&limit=5000")
                   .get_json()["objectives"]}
    assert courses <= api_courses


def test_cli_lists_the_same_queue(app):
    import json

    from click.testing import CliRunner

    from service.cli import main
    from service.extensions import gapmap
    with app.app_context():
        ws = gapmap()
    expected = _read_layer(app, year=2, status="all")
    r = CliRunner().invoke(main, ["review-queue", "md", "--year", "2", "--status", "all", "--format", "json",
                                  "--limit", "5000"], obj={"ws": ws})
    assert r.exit_code == 0, r.output
    assert [o["objective"] for o in json.loads(r.output)["objectives"]] == expected
    r = CliRunner().invoke(main, ["review-queue", "md", "--year", "2", "--limit", "3"], obj={"ws": ws})
    assert r.exit_code == 0 and "objective(s)" in r.output and len(r.output.splitlines()) == 4
    r = CliRunner().invoke(main, ["review-queue", "nope"], obj={"ws": ws})
    assert r.exit_code != 0 and "nope" in r.output
