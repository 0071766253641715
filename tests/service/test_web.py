"""The web UI on the bundled data, through Flask's test client: every page, its filters, its 404s.

The alignment uses a small word-overlap linker instead of the MiniLM model, so this stays fast; the
real model is exercised by tests/browser (and tests/ontology)."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from linking.engine import Evidence, Match
from tests.conftest import web_sign_in

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
USER = "dr.web"  # a committee member
PASSWORD = "correct horse battery"


class WordLinker:
    """Ranks competencies by shared words with their label and alt labels (enough for the pages)."""

    model_version = "test-word-overlap/1"

    def __init__(self, comps):
        self.competencies = comps
        self._words = [(c, {w for t in (c.label, *c.alt_labels) for w in re.findall(r"[a-z]{4,}", t.lower())})
                       for c in comps]

    def rank(self, texts, top_k=5):
        out = []
        for text in texts:
            words = set(re.findall(r"[a-z]{4,}", text.lower()))
            scored = sorted(((len(words & ws) / (len(ws) or 1), c) for c, ws in self._words if words & ws),
                            key=lambda x: -x[0])[:top_k]
            out.append([Match(uri=c.uri, score=0.5 + s / 2, precision=0.3 + s / 2,
                              evidence=Evidence(field="label", text=c.label, query_span=(0, min(len(text), 30))))
                        for s, c in scored])
        return out


def md_app(tmp_path_factory):
    """The bundled md program aligned by word overlap (no model to load), a committee member and a viewer;
    a generator for module fixtures (``yield from md_app(tmp_path_factory)``)."""
    from ontology.align import align_program, competency_texts
    from service.app import create_app
    from service.extensions import gapmap

    app = create_app({"STORE_PATH": "", "TESTING": True, "CACHE_DIR": str(tmp_path_factory.mktemp("cache")),
                      "SPARQL_TIMEOUT": 5.0, "SECRET_KEY": "test"})
    with app.app_context():
        ws = gapmap()
        ws.load_manifest(DATA / "manifest.json")
        align_program(ws.store, ws.ids, "md", "hpc", WordLinker(competency_texts(ws.store, "hpc")), top_k=3)
    from service.auth import users_db
    users_db(app).add_user(USER, "committee", password=PASSWORD)
    users_db(app).add_user("reader", "viewer", password=PASSWORD)
    yield app
    eng = app.extensions.get("gapmap_sparql")
    if eng is not None:
        eng.close()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    yield from md_app(tmp_path_factory)


@pytest.fixture
def anon(app):
    return app.test_client()


@pytest.fixture
def client(app):
    """A viewer, signed in through the form."""
    c = app.test_client()
    web_sign_in(c, "reader", PASSWORD)
    return c


@pytest.fixture
def signed_in(app):
    """A committee member signed in through the form; requests send the CSRF token as the scripts do."""
    c = app.test_client()
    web_sign_in(c, USER, PASSWORD)
    return c


def html(r) -> str:
    assert r.mimetype == "text/html", (r.status_code, r.data[:200])
    return r.get_data(as_text=True)


def row_status(page: str, notation: str) -> str:
    m = re.search(rf'data-competency="{re.escape(notation)}" data-status="(\w+)"', page)
    assert m, f"no heatmap row for {notation}"
    return m.group(1)


# Home and navigation ------------------------------------------------------------------------

def test_home_links_every_page(client, anon):
    page = html(client.get("/"))
    for href in ('href="/programs/md"', 'href="/programs/md/upload"', 'href="/programs/md/review"',
                 'href="/roles/intern"', 'href="/sparql/ui"', 'href="/frameworks/hpc"'):
        assert href in page, href
    assert "Signed in as" in page and "Sign out" in page
    r = anon.get("/")
    assert r.status_code == 302 and "/signin" in r.headers["Location"]


# Sign-in ------------------------------------------------------------------------------------

def test_sign_in_and_out(anon):
    page = html(anon.get("/signin"))
    assert "User name" in page and 'type="password"' in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = anon.post("/signin", data={"name": USER, "password": "wrong password", "csrf_token": token})
    assert r.status_code == 401 and "wrong name or password" in html(r)
    r = anon.post("/signin", data={"name": USER, "password": PASSWORD, "next": "/programs/md/review"})
    assert r.status_code == 403  # no CSRF token: refused before the password is even checked
    r = anon.post("/signin", data={"name": USER, "password": PASSWORD, "next": "/programs/md/review",
                                   "csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"].endswith("/programs/md/review")
    with anon.session_transaction() as s:
        assert s["uid"] == USER and s["csrf"] != token  # the session (and its token) renewed at sign-in
        csrf = s["csrf"]
    page = html(anon.get("/"))
    assert "Signed in as" in page and USER in page and f'data-user="{USER}"' in page
    assert anon.post("/signout").status_code == 403  # a cookie write without the CSRF token
    r = anon.post("/signout", data={"csrf_token": csrf})
    assert r.status_code == 302
    with anon.session_transaction() as s:
        assert "uid" not in s
    assert anon.get("/").status_code == 302


def test_sign_in_never_redirects_off_site(anon):
    for nxt in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)", "/\\evil.example"):
        page = html(anon.get("/signin"))
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        r = anon.post("/signin", data={"name": USER, "password": PASSWORD, "next": nxt, "csrf_token": token})
        assert r.status_code == 302 and r.headers["Location"] == "/", nxt


# Dashboard ----------------------------------------------------------------------------------

def test_dashboard_heatmap(client):
    page = html(client.get("/programs/md"))
    assert 'id="heatmap"' in page
    # the planted gaps (data/planted_gaps.json)
    for n in ("PC10", "SBP4", "LTR5"):
        assert row_status(page, n) == "not_taught"
    for n in ("PR5", "SBP2.1", "SBP6", "LTR4"):
        assert row_status(page, n) == "taught_not_assessed"
    for n in ("PR6", "IPC5"):
        assert row_status(page, n) == "assessed_not_taught"
    # columns: courses by year; domains with their summaries; the legend and the summary cards
    assert page.index(">BMS-110<") < page.index(">MED-201<") < page.index(">CLK-301<") < page.index(">CAP-490<")
    assert "Year 1" in page and "Year 4" in page
    assert "Patient Care" in page and "covered ·" in page
    assert 'class="legend"' in page and "Taught, not assessed" in page
    assert re.search(r'data-status="not_taught"><span class="n">3</span>', page)
    # a coloured cell, shaded by level, where a course teaches the competency
    assert re.search(r'<td class="cell lv[1-5][^"]*" data-course="MED-101"', page)
    # links: each competency to its page; downloads with the same filters
    assert 'href="/competencies/hpc/PC10"' in page
    assert 'href="/api/programs/md/gaps?format=csv"' in page and 'href="/api/programs/md/gaps?format=json"' in page


def test_dashboard_filters(client):
    page = html(client.get("/programs/md?year=1"))
    heads = re.findall(r'class="course-head[^"]*" title="([^ ]+) ', page)
    assert heads and all(h.startswith(("BMS-1", "HSS-1", "IPE-1", "MED-1")) for h in heads), heads
    assert "CLK-301" not in heads
    assert 'href="/api/programs/md/gaps?year=1&amp;format=csv"' in page
    page = html(client.get("/programs/md?course=MED-101"))
    assert re.findall(r'class="course-head[^"]*" title="([^ ]+) ', page) == ["MED-101"]
    page = html(client.get("/programs/md?role=intern"))
    assert row_status(page, "PC9") == "below_required_level" and row_status(page, "CS7") == "below_required_level"
    assert "reached / req." in page
    page = html(client.get("/programs/md?include_suggestions=0.3"))
    assert "unreviewed suggestions" in page and " unrev" in page
    assert "include_suggestions=0.3" in page


def test_dashboard_errors_are_pages(client):
    r = client.get("/programs/nope")
    assert r.status_code == 404 and "program &#39;nope&#39; is not loaded" in html(r)
    r = client.get("/programs/md?year=abc")
    assert r.status_code == 400 and "year must be a whole number" in html(r)
    r = client.get("/programs/md?course=NOPE-1")
    assert r.status_code == 404 and "NOPE-1" in html(r)
    r = client.get("/programs/md?role=nobody")
    assert r.status_code == 404


# Upload -------------------------------------------------------------------------------------

def test_upload_page(anon, client, signed_in):
    r = anon.get("/programs/md/upload")
    assert r.status_code == 302 and "/signin?next=/programs/md/upload" in r.headers["Location"]
    assert client.get("/programs/md/upload").status_code == 403  # a viewer may not upload
    page = html(signed_in.get("/programs/md/upload?course=CCM-403"))
    assert 'id="upload-form"' in page and 'type="file"' in page and "<progress" in page
    assert '<option value="CCM-403" selected>' in page and 'optgroup label="Year 4"' in page
    assert "upload.js" in page
    assert signed_in.get("/programs/nope/upload").status_code == 404


def test_upload_then_review_then_report(signed_in):
    """The API calls the page scripts make: the session cookie and the CSRF token."""
    body = b"CCM-403 Telehealth\n\nLearning objectives\n1. Conduct a telehealth video consultation with a patient.\n"
    r = signed_in.post("/api/programs/md/courses/CCM-403/syllabus",
                       data={"file": (io.BytesIO(body), "ccm403.txt"), "align": "false"},
                       content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    objs = r.get_json()["extraction"]["objectives"]
    assert [o["text"] for o in objs] == ["Conduct a telehealth video consultation with a patient."]
    oid = r.get_json()["objective_ids"][0].rsplit("/", 1)[-1]
    # unaligned: the queue (default: pending = awaiting a decision or unmapped) lists it for a hand-made alignment
    page = html(signed_in.get("/programs/md/review?course=CCM-403"))
    art = page[page.index(f'data-objective="{oid}"'):]
    assert "No competency is suggested" in art[:art.index("</article>")]
    assert oid not in html(signed_in.get("/programs/md/review?course=CCM-403&status=accepted"))
    r = signed_in.post(f"/api/objectives/{oid}/alignments", json={"framework": "hpc", "competency": "PC10"})
    assert r.status_code == 201 and r.get_json()["user"] == USER
    page = html(signed_in.get("/programs/md"))
    assert row_status(page, "PC10") == "taught_not_assessed"
    assert re.search(r'data-competency="PC10".*?data-course="CCM-403"', page, re.DOTALL)
    page = html(signed_in.get("/competencies/hpc/PC10"))
    assert "CCM-403" in page and "Conduct a telehealth video consultation" in page


def test_upload_creates_a_new_course(signed_in):
    body = b"# MED-421 Digital Health\n\n## Learning objectives\n\n1. Explain how remote patient monitoring data reach the care team.\n"
    r = signed_in.post("/api/programs/md/courses/MED-421/syllabus",
                       data={"file": (io.BytesIO(body), "med421.md"), "year": "3", "title": "Digital Health",
                             "align": "false"}, content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    page = html(signed_in.get("/programs/md?year=3"))
    assert 'title="MED-421 · Digital Health (year 3)"' in page
    assert "MED-421 · Digital Health" in html(signed_in.get("/programs/md/upload"))


# Review queue -------------------------------------------------------------------------------

def test_review_queue(anon, client, signed_in):
    r = anon.get("/programs/md/review?course=MED-101")
    assert r.status_code == 302 and "/signin?next=" in r.headers["Location"]
    assert "decisions need the educator role" in html(client.get("/programs/md/review"))  # a viewer reads
    assert "decisions need" not in html(signed_in.get("/programs/md/review?course=MED-101"))
    page = html(signed_in.get("/programs/md/review"))
    assert 'id="review"' in page and 'data-user="dr.web"' in page and 'data-framework="hpc"' in page
    assert "<mark>" in page and 'data-act="accept"' in page and 'data-act="replace"' in page
    assert re.search(r'href="/api/alignments/[0-9a-f]+/history"', page)
    assert 'class="assessment"' in page and "MED101-OSCE1" in page  # assessed-by choices
    assert 'id="bulk-form"' in page and 'id="help"' in page and "review.js" in page
    # the filter by course
    page = html(signed_in.get("/programs/md/review?course=MED-101&status=all"))
    courses = set(re.findall(r'<article class="objective" data-objective="[^"]+" data-course="([^"]+)"', page))
    assert courses == {"MED-101"}
    assert "MED101-01" in page
    # pages of 100 objectives
    page = html(signed_in.get("/programs/md/review?status=all"))
    assert page.count('<article class="objective"') == 100 and "page 1 of " in page
    assert 'href="/programs/md/review?status=all&amp;page=2" rel="next"' in page
    page2 = html(signed_in.get("/programs/md/review?status=all&page=2"))
    assert "page 2 of " in page2 and 'rel="prev"' in page2
    first = re.findall(r'data-objective="([^"]+)"', page)
    assert not set(first) & set(re.findall(r'data-objective="([^"]+)"', page2))
    assert signed_in.get("/programs/md/review?course=NOPE").status_code == 404
    assert signed_in.get("/programs/md/review?status=maybe").status_code == 400
    assert signed_in.get("/programs/nope/review").status_code == 404


def test_review_decision_updates_the_queue(signed_in):
    page = html(signed_in.get("/programs/md/review?course=BMS-120&status=all"))
    m = re.search(r'<tr class="sugg st-suggested[^"]*" data-alignment="([0-9a-f]+)"', page)
    assert m, "no pending suggestion in BMS-120"
    r = signed_in.post(f"/api/alignments/{m.group(1)}/decision", json={"decision": "reject"})
    assert r.status_code == 200 and r.get_json()["user"] == USER
    page = html(signed_in.get("/programs/md/review?course=BMS-120&status=all"))
    assert f'class="sugg st-rejected" data-alignment="{m.group(1)}"' in page


# Competency, framework and role pages --------------------------------------------------------

def test_competency_page(client):
    page = html(client.get("/competencies/hpc/PC1"))
    assert "History taking" in page and "Anamnesis" in page  # label and alt label
    assert "Milestones" in page and "Expert" in page  # levels
    assert "MED101-03" in page and "curator" in page  # where taught, by which objective, how
    assert "MED101-OSCE1" in page and "OSCEStation" in page  # where assessed
    assert "Attending physician" in page and "essential" in page  # which roles require it
    assert 'href="/competencies/hpc/PC1.1"' in page  # sub-competencies
    page = html(client.get("/competencies/hpc/PC1.1"))
    assert 'href="/competencies/hpc/PC1"' in page  # parent
    page = html(client.get("/competencies/hpc/SBP4"))
    assert "Not taught" in page and "No assessment assesses this competency" in page
    r = client.get("/competencies/hpc/NOPE")
    assert r.status_code == 404 and "NOPE" in html(r)
    assert client.get("/competencies/nofw/PC1").status_code == 404


def test_framework_page(client):
    page = html(client.get("/frameworks/hpc"))
    assert "Patient Care" in page and 'href="/competencies/hpc/PC10"' in page
    assert client.get("/frameworks/nope").status_code == 404


def test_role_pages(client):
    page = html(client.get("/roles"))
    assert 'href="/roles/intern"' in page and "Clinical" in page
    page = html(client.get("/roles/intern?program=md"))
    assert "Intern (PGY-1)" in page and "Clinical track" in page
    assert 'href="/roles/resident-im?program=md"' in page  # the next role on the pathway
    assert "Essential requirements" in page and "Optional requirements" in page
    for n in ("PC9", "CS7"):
        assert re.search(rf'data-competency="{n}" data-readiness="below_level"', page), n
    assert "Ready" in page and "Below level" in page
    page = html(client.get("/roles/clinician-educator"))  # the program defaults to the only one
    assert "Teaching track" in page and "Doctor of Medicine (MD)" in page
    assert client.get("/roles/nobody").status_code == 404
    assert client.get("/roles/intern?program=nope").status_code == 404


# SPARQL page ----------------------------------------------------------------------------------

def test_sparql_page_examples_run(client):
    from service.web.views_sparql import EXAMPLES
    page = html(client.get("/sparql/ui"))
    assert page.count('class="example"') == len(EXAMPLES) >= 4
    assert "sparql.js" in page and "<textarea" in page
    for title, q in EXAMPLES:
        r = client.get("/sparql", query_string={"query": q}, headers={"Accept": "application/sparql-results+json"})
        assert r.status_code == 200, (title, r.get_data(as_text=True)[:300])
        rows = r.get_json()["results"]["bindings"]
        if title == "Never-taught competencies":
            assert {"SBP4", "LTR5"} <= {b["notation"]["value"] for b in rows}  # PC10 may be taught by now
        elif title != "Decisions by reviewer (PROV)":
            assert rows, title
    # a browser asking /sparql for HTML lands on the page
    r = client.get("/sparql", headers={"Accept": "text/html"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/sparql/ui")


def test_nothing_is_fetched_from_the_internet(client, signed_in):
    """Pages load only this server's scripts and styles; scripts only call this server."""
    for name in ("gapmap.css", "gapmap.js", "review.js", "upload.js", "sparql.js"):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200, name
        text = r.get_data(as_text=True)
        assert not re.search(r"url\(\s*['\"]?(https?:)?//|@import|(fetch|open)\([^)]*['\"](https?:)?//", text), name
    for path in ("/", "/programs/md", "/programs/md/upload", "/programs/md/review", "/sparql/ui", "/roles/intern",
                 "/competencies/hpc/PC1"):
        page = html(signed_in.get(path))
        for tag in re.findall(r"<(?:script|link|img|iframe)\b[^>]*>", page):
            assert not re.search(r'(src|href)="(https?:)?//', tag), (path, tag)
