"""Pages show only what the signed-in user may do, answer HTML errors to browsers, and the dashboard reports
through a crosswalk like the API (blind-tester findings #4, #12, #13, #24, #32, #34)."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from tests.conftest import signed_client, web_sign_in
from tests.service.test_web import PASSWORD, USER, WordLinker, html, md_app

TESTS = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    yield from md_app(tmp_path_factory)


@pytest.fixture
def client(app):
    """A viewer, signed in through the form."""
    c = app.test_client()
    web_sign_in(c, "reader", PASSWORD)
    return c


@pytest.fixture
def signed_in(app):
    """A committee member signed in through the form."""
    c = app.test_client()
    web_sign_in(c, USER, PASSWORD)
    return c


def _educator(app):
    """dr.own: the educator responsible for MED-201 only."""
    return signed_client(app, "educator", "dr.own", courses=["MED-201"])


# #12: review controls only on the courses the user may review -----------------------------------------------

def test_educator_decides_only_on_own_courses(app, signed_in):
    ed = _educator(app)
    other = html(ed.get("/programs/md/review?course=MED-101&status=all"))
    assert 'class="sugg' in other  # the queue is still readable
    for control in ('data-act="accept"', 'data-act="reject"', 'data-act="replace"', "Save course",
                    "Preview and accept", 'data-act="assessed"', 'data-act="add"', "data-edit-level"):
        assert control not in other, control
    assert 'data-may-review="1"' not in other and "MED-101 is not one of your courses" in other
    own = html(ed.get("/programs/md/review?course=MED-201&status=all"))
    for control in ('data-act="accept"', "Save course", "Preview and accept", 'data-act="add"'):
        assert control in own, control
    assert 'data-may-review="0"' not in own
    # every course in one queue: buttons only on MED-201's objectives, and no bulk accept across courses
    mixed = html(ed.get("/programs/md/review?status=all&year=2"))
    arts = re.findall(r'<article class="objective[^"]*" data-objective="[^"]*" data-course="([^"]+)"[^>]*'
                      r'data-may-review="(\d)"', mixed)
    assert {c for c, m in arts if m == "1"} == {"MED-201"} and {c for c, m in arts if m == "0"}
    assert "Preview and accept" not in mixed and "choose one of your courses" in mixed
    # the committee reviews every course
    chair = html(signed_in.get("/programs/md/review?course=MED-101&status=all"))
    for control in ('data-act="accept"', "Save course", "Preview and accept"):
        assert control in chair, control


# #13: a viewer sees no action it cannot use ---------------------------------------------------------------

def test_viewer_dashboard_and_drafts_show_only_what_it_may_do(client, signed_in):
    page = html(client.get("/programs/md"))
    assert "Upload a syllabus" not in page and "/programs/md/drafts" not in page
    assert "committee.xlsx" not in page and "committee.pdf" not in page and "committee.html" not in page
    assert 'class="dl-csv"' in page and 'class="dl-json"' in page and "Review queue" in page
    chair = html(signed_in.get("/programs/md"))
    assert "Upload a syllabus" in chair and "/programs/md/drafts" in chair
    for ext in ("xlsx", "pdf", "html"):
        assert f"/api/programs/md/committee.{ext}" in chair
    drafts = html(client.get("/programs/md/drafts"))
    assert 'id="draft-create"' not in drafts and 'id="version-create"' not in drafts
    assert 'id="drafts-read-only"' in drafts
    drafts = html(signed_in.get("/programs/md/drafts"))
    assert 'id="draft-create"' in drafts and 'id="version-create"' in drafts


# #24: HTML errors for browsers outside /api ---------------------------------------------------------------

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.mark.parametrize("path,status,title", [("/signout", 405, "Method Not Allowed"),
                                               ("/programs/md/readiness/intern", 404, "Not Found"),
                                               ("/no/such/page", 404, "Not Found")])
def test_page_errors_are_html_for_browsers(client, path, status, title):
    r = client.get(path, headers=BROWSER)
    assert r.status_code == status and r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    assert f"{status} · {title}" in page and 'href="/"' in page and "Back to the home page" in page
    assert "Accept" in r.headers.get("Vary", "")
    if status == 405:
        assert "POST" in r.headers["Allow"]
    # machines (and anything not preferring HTML) still get problem+json
    r = client.get(path, headers={"Accept": "application/json"})
    assert r.status_code == status and r.mimetype == "application/problem+json"
    assert r.get_json()["title"] == title
    assert client.get(path).mimetype == "application/problem+json"  # no Accept header


def test_api_errors_stay_problem_json_for_browsers(client):
    for path in ("/api/no-such-thing", "/api/programs/nope/gaps"):
        r = client.get(path, headers=BROWSER)
        assert r.status_code == 404 and r.mimetype == "application/problem+json", path
    r = client.get("/api/programs/md/committee.pdf", headers=BROWSER)  # a viewer
    assert r.status_code == 403 and r.mimetype == "application/problem+json"


# #4, #34: the dashboard through a crosswalk, and links to the crosswalks ---------------------------------

@pytest.fixture(scope="module")
def crosswalked(app):
    """A second framework xb and the crosswalk hpc → xb with every first suggestion accepted."""
    from loaders import Source
    from ontology.align import competency_texts
    from ontology.crosswalk import decide, mappings, run_crosswalk
    from service.extensions import gapmap
    with app.app_context():
        ws = gapmap()
        ws.load("framework-csv", Source.from_path(TESTS / "fixtures" / "crosswalk" / "framework-b.csv"),
                {"id": "xb", "title": "Framework B", "version": "1"})
        run_crosswalk(ws.store, ws.ids, "hpc", "xb", WordLinker(competency_texts(ws.store, "xb")), top_k=1)
        ms = mappings(ws.store, ws.ids, "hpc", "xb")
        assert ms
        for m in ms[:8]:
            decide(ws.store, ws.ids, "hpc", "xb", m.id, "accept", "dr.web", relation="exact")
    return "xb"


def _tile_counts(page: str) -> dict:
    return {s: int(n) for s, n in re.findall(r'data-status="(\w+)"><span class="n">(\d+)</span>', page)}


def test_dashboard_reports_through_a_crosswalk_like_the_api(signed_in, crosswalked):
    api = signed_in.get("/api/programs/md/gaps?framework=xb&via=hpc").get_json()
    want = {}
    for c in api["competencies"]:
        want[c["status"]] = want.get(c["status"], 0) + 1
    assert want.get("covered")  # the crosswalk carries some coverage over
    page = html(signed_in.get("/programs/md?framework=xb&via=hpc"))
    got = _tile_counts(page)
    assert {k: v for k, v in got.items() if v} == want
    rows = dict(re.findall(r'data-competency="(X\d+)" data-status="(\w+)"', page))
    assert rows == {c["notation"]: c["status"] for c in api["competencies"]}
    assert "through the crosswalk from <code>hpc</code>" in page
    for fmt in ("csv", "json"):
        href = re.search(rf'href="([^"]+)" class="dl-{fmt}"', page).group(1).replace("&amp;", "&")
        assert "via=hpc" in href and "framework=xb" in href
        r = signed_in.get(href)
        assert r.status_code == 200 and "X1" in r.get_data(as_text=True)
    # the filter form keeps the crosswalk when applied
    assert '<input type="hidden" name="via" value="hpc">' in page
    assert '<input type="hidden" name="framework" value="xb">' in page


def test_dashboard_links_the_crosswalks(client, signed_in, crosswalked):
    for c in (client, signed_in):
        page = html(c.get("/programs/md"))
        assert 'id="crosswalks-link" href="/crosswalks"' in page
        links = page[page.index('id="crosswalk-links"'):]
        assert 'href="/crosswalks/hpc/xb"' in links
        assert "/programs/md?framework=xb&amp;via=hpc" in links


# #32: the committee PDF names the program and keeps headings with their section --------------------------

def test_committee_pdf_title_and_headings_keep_with_their_section(app, signed_in):
    pypdf = pytest.importorskip("pypdf")
    from ontology.read import catalog
    from service.extensions import gapmap
    with app.app_context():
        title = catalog.program(gapmap().store, "md").title
    r = signed_in.get("/api/programs/md/committee.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    pdf = pypdf.PdfReader(io.BytesIO(r.data))
    assert title in pdf.metadata.title and "Committee report — md" not in (pdf.pages[0].extract_text() or "")
    assert (pdf.pages[0].extract_text() or "").lstrip().startswith(f"Committee report — {title}")
    for n, p in enumerate(pdf.pages):
        lines = [ln.strip() for ln in (p.extract_text() or "").splitlines() if ln.strip()]
        if "Curriculum map" in lines:  # the heatmap picture is on the heading's page
            assert len(p.images) == 1, f"the curriculum map heading is alone on page {n + 1}"
        for h in ("Gap report", "Cohort achievement"):  # tables: their heading and first rows together
            if h in lines:
                assert len(lines) - lines.index(h) > 3, f"{h!r} is alone at the bottom of page {n + 1}"
    html_report = signed_in.get("/api/programs/md/committee.html").get_data(as_text=True)
    assert f"<h1>Committee report — {title}" in html_report


def test_crosswalk_pages_show_decisions_only_to_the_committee(client, signed_in, crosswalked):
    viewer = html(client.get("/crosswalks/hpc/xb"))
    assert "data-decision" not in viewer and 'class="relation"' not in viewer
    assert "/programs/md?framework=xb&amp;via=hpc" in viewer  # the report through it, as a page
    chair = html(signed_in.get("/crosswalks/hpc/xb"))
    assert 'data-decision="accept"' in chair and 'class="relation"' in chair
    assert 'id="crosswalk-run"' not in html(client.get("/crosswalks"))
    assert 'id="crosswalk-run"' in html(signed_in.get("/crosswalks"))
    assert "/programs/md/drafts" not in html(client.get("/programs/md/progression"))
    assert "/programs/md/drafts" in html(signed_in.get("/programs/md/progression"))
