"""The blind tester's second round (data separation, request bodies, drafts, SPARQL input): one test per
finding, against the Flask app over the mini fixture (tests/service/accounts.py)."""
from __future__ import annotations

import io

import pytest

from tests.conftest import bearer
from tests.service.accounts import load_mini, make_app

HEADER = b"program_id,program_title,year,course_code,course_title,objective_id,objective_text,level\n"


@pytest.fixture
def app(tmp_path):
    a = make_app(tmp_path)
    with a.app_context():
        from service.extensions import gapmap
        load_mini(gapmap())
    yield a
    eng = a.extensions.get("gapmap_sparql")
    if eng is not None:
        eng.close()


def _ws(app):
    return app.extensions["gapmap"]


def _load_csv(c, h, body: bytes, name="other.csv"):
    return c.post("/api/load/curriculum-csv", headers=h, content_type="multipart/form-data",
                  data={"file": (io.BytesIO(body), name)})


def test_f18_course_and_objective_ids_do_not_merge_across_programs(app):
    """A second program's curriculum reusing course code MED-101 (or objective O1) merged into the mini
    program's: the load is refused (422) naming the row and column, and nothing is written."""
    c, h = app.test_client(), bearer(app, "admin")
    before = len(_ws(app).store)
    r = _load_csv(c, h, HEADER + b"nurse,Nursing,1,NUR-100,Basics,N1,Wash hands.,1\n"
                                 b"nurse,Nursing,1,MED-101,Their clinical skills,N2,Take a history.,1\n")
    assert r.status_code == 422, r.get_json()
    p = r.get_json()
    assert (p["row"], p["column"]) == (3, "course_code") and "mini" in p["detail"] and "MED-101" in p["detail"]
    r = _load_csv(c, h, HEADER + b"nurse,Nursing,1,NUR-100,Basics,O1,Wash hands.,1\n")
    assert r.status_code == 422
    assert (r.get_json()["row"], r.get_json()["column"]) == (2, "objective_id") and "mini" in r.get_json()["detail"]
    assert len(_ws(app).store) == before
    mini = {x["code"]: x for x in c.get("/api/programs/mini/courses", headers=h).get_json()["courses"]}
    assert mini["MED-101"]["title"] == "Clinical Skills I"
    # distinct codes load; reloading the mini program itself (same codes, same program) still works
    assert _load_csv(c, h, HEADER + b"nurse,Nursing,1,NUR-100,Basics,N1,Wash hands.,1\n").status_code == 201
    from tests.service.accounts import MINI
    r = c.post("/api/load/curriculum-csv", headers=h, content_type="multipart/form-data",
               data={"file": (io.BytesIO((MINI / "curriculum.csv").read_bytes()), "curriculum.csv"), "framework": "mini"})
    assert r.status_code == 201, r.get_json()


def test_f21_unknown_body_fields_are_refused(app):
    """``{"preview": true}`` sent to bulk-accept accepted every suggestion: an unknown field is a 400 naming
    it, nothing is written; the OpenAPI document says so (additionalProperties: false)."""
    c, h = app.test_client(), bearer(app, "admin")
    before = len(_ws(app).store)
    r = c.post("/api/programs/mini/review/bulk-accept", json={"min_precision": 0.0, "preview": True}, headers=h)
    assert r.status_code == 400 and r.get_json()["field"] == "preview", r.get_json()
    assert "preview" in r.get_json()["detail"] and len(_ws(app).store) == before
    pending = c.get("/api/programs/mini/review?status=pending", headers=h).get_json()["objectives"]
    assert pending  # nothing was accepted
    for path, body in [("/api/programs/mini/align", {"topk": 3}),
                       ("/api/users", {"name": "zed", "role": "viewer", "rol": "admin"}),
                       ("/api/programs/mini/drafts", {"name": "d1", "frozen": True}),
                       ("/api/crosswalks/mini/mini/mappings/x/decision", {"decision": "accept", "relations": "close"})]:
        r = c.post(path, json=body, headers=h)
        assert r.status_code == 400, (path, r.get_json())
        assert r.get_json()["field"] == sorted(set(body) - {"name", "role", "decision"})[0]
    # draft edits: the fields of the edit's op
    assert c.post("/api/programs/mini/drafts", json={"name": "d2"}, headers=h).status_code == 201
    r = c.post("/api/drafts/d2/edits", headers=h, json={"op": "move_course", "code": "MED-101", "year": 2, "yr": 3})
    assert r.status_code == 400 and r.get_json()["field"] == "yr"
    assert c.get("/api/drafts/d2", headers=h).get_json()["edits"] == []
    # known fields still work
    shown = [a["id"] for o in pending for a in o["alignments"]][:2]
    r = c.post("/api/programs/mini/review/bulk-accept-shown", headers=h,
               json={"alignments": shown, "min_precision": 0.0, "preview": True})
    assert r.status_code == 200 and len(r.get_json()["accept"]) == 2, r.get_json()
    doc = c.get("/api/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    assert schemas["BulkAcceptBody"]["additionalProperties"] is False
    assert schemas["NewUserBody"]["additionalProperties"] is False
    assert schemas["DraftEditBody"].get("additionalProperties") is not False


def test_f1_a_batch_of_draft_edits_is_all_or_nothing(app):
    """A failing edit left the earlier edits of its batch applied: now none is, and the error names it."""
    c, h = app.test_client(), bearer(app, "admin")
    assert c.post("/api/programs/mini/drafts", json={"name": "batch"}, headers=h).status_code == 201
    before = c.get("/api/drafts/batch/gaps", headers=h).get_json()
    edits = [{"op": "add_course", "code": "NEW-1", "title": "New", "year": 2},
             {"op": "move_course", "code": "MED-101", "year": 3},
             {"op": "add_objective", "course": "NEW-1", "id": "NEW1-O1", "text": "Explain the heart.", "competencies": ["PC2"]},
             {"op": "remove_course", "code": "NO-SUCH"}]
    r = c.post("/api/drafts/batch/edits", json={"edits": edits}, headers=h)
    assert r.status_code == 404 and r.get_json()["edit"] == 4 and "no edit of the batch" in r.get_json()["detail"]
    assert c.get("/api/drafts/batch", headers=h).get_json()["edits"] == []
    q = {"query": 'SELECT ?y WHERE { ?c <http://www.w3.org/2004/02/skos/core#notation> "MED-101" ; '
                  '<https://w3id.org/gapmap/ns#year> ?y }'}
    r = c.get("/api/drafts/batch/sparql", query_string=q, headers={**h, "Accept": "application/sparql-results+json"})
    assert [b["y"]["value"] for b in r.get_json()["results"]["bindings"]] == ["1"]
    ask = {"query": 'ASK { ?c <http://www.w3.org/2004/02/skos/core#notation> ?n FILTER(?n IN ("NEW-1", "NEW1-O1")) }'}
    r = c.get("/api/drafts/batch/sparql", query_string=ask, headers={**h, "Accept": "application/sparql-results+json"})
    assert r.get_json()["boolean"] is False
    assert c.get("/api/drafts/batch/gaps", headers=h).get_json() == before
    # the same batch without the failing edit applies whole
    r = c.post("/api/drafts/batch/edits", json={"edits": edits[:3]}, headers=h)
    assert r.status_code == 200 and len(c.get("/api/drafts/batch", headers=h).get_json()["edits"]) == 3


def test_f10_a_saved_version_cannot_be_deleted(app):
    c, h = app.test_client(), bearer(app, "admin")
    assert c.post("/api/programs/mini/versions", json={"name": "2025-26"}, headers=h).status_code == 201
    r = c.delete("/api/drafts/2025-26", headers=h)
    assert r.status_code == 409 and "saved version" in r.get_json()["detail"]
    assert c.get("/api/versions/2025-26/compare", headers=h).status_code == 200
    assert [v["name"] for v in c.get("/api/programs/mini/versions", headers=h).get_json()["versions"]] == ["2025-26"]


def test_f11_educators_link_only_their_own_courses_assessments(app):
    """An educator of MED-201 marked their objective O4 "assessed" by MED-101's OSCE station (not their
    course): 403 naming the assessment; their own course's exam works; committee may link across courses."""
    c = app.test_client()
    edu = bearer(app, "educator", "dr.edu", courses=["MED-201"])
    before = len(_ws(app).store)
    r = c.post("/api/objectives/O4/assessed-by", json={"assessment": "A1"}, headers=edu)
    assert r.status_code == 403 and r.get_json()["field"] == "assessment" and "MED-101" in r.get_json()["detail"]
    assert len(_ws(app).store) == before
    assert c.post("/api/objectives/O4/assessed-by", json={"assessment": "A2"}, headers=edu).status_code == 201
    assert c.post("/api/objectives/O3/assessed-by", json={"assessment": "A1"},
                  headers=bearer(app, "committee")).status_code == 201
    r = c.post("/api/objectives/O4/assessed-by", json={"assessment": "NOPE"}, headers=edu)
    assert r.status_code == 404 and r.get_json()["field"] == "assessment"


def test_f22_two_applies_at_once_one_wins_the_other_409(tmp_path):
    """Two concurrent applies of one draft (on disk): the second found the draft's store closed (503 naming
    its path).  Now one applies, the other gets 409 saying the draft was applied meanwhile; no path shown."""
    import threading
    app = make_app(tmp_path, STORE_PATH=str(tmp_path / "store"))
    with app.app_context():
        from service.extensions import gapmap
        load_mini(gapmap())
    h = bearer(app, "admin")
    c = app.test_client()
    for round_ in range(3):
        name = f"race{round_}"
        assert c.post("/api/programs/mini/drafts", json={"name": name}, headers=h).status_code == 201
        assert c.post(f"/api/drafts/{name}/edits", headers=h,
                      json={"op": "move_course", "code": "MED-101", "year": 2 + round_ % 2}).status_code == 200
        gate, out = threading.Barrier(2), []

        def apply():
            cl = app.test_client()
            gate.wait()
            r = cl.post(f"/api/drafts/{name}/apply", headers=h)
            out.append((r.status_code, r.get_data(as_text=True)))
        ts = [threading.Thread(target=apply) for _ in range(2)]
        [t.start() for t in ts]
        [t.join() for t in ts]
        assert sorted(s for s, _ in out) in ([200, 404], [200, 409]), out
        assert not [b for _, b in out if str(tmp_path) in b], out
        assert [b for s, b in out if s == 409 and "applied or discarded meanwhile" in b] or \
            [s for s, _ in out] .count(404) == 1, out


def test_f22_server_errors_name_no_server_path(app):
    from ontology.store import EmbeddedStore
    s = EmbeddedStore(None)
    s.close()
    with app.test_request_context("/api/frameworks"):
        from ontology.store import StoreClosed
        try:
            s.graph_names()
        except StoreClosed as e:
            e.message = "the store /srv/gapmap/var/store-drafts/x/store is closed"
            resp = app.make_response(app.handle_user_exception(e))
    assert "/srv" not in resp.get_data(as_text=True) and "(server path)" in resp.get_data(as_text=True)


def test_server_errors_name_an_internal_server_cleanly(app, caplog):
    """A 503 for an unreachable remote store said "the store at http:/(server path):5310": the path scrubber
    cut the URL in two.  Addresses of internal servers are replaced whole; the log keeps the original."""
    from ontology.errors import GapmapError
    e = GapmapError("the store at http://10.0.0.5:7878/query is unreachable (redis://cache:6379/0, /var/lib/x)")
    e.status = 503
    with app.test_request_context("/api/health"):
        resp = app.make_response(app.handle_user_exception(e))
    body = resp.get_json()["detail"]
    assert body == "the store at (server address) is unreachable ((server address), (server path))", body
    assert "http://10.0.0.5:7878/query" in caplog.text


def test_f9_a_row_wider_than_the_header_is_refused(app):
    """A row with more fields than the header was silently shifted (the first one became an index)."""
    c, h = app.test_client(), bearer(app, "admin")
    before = len(_ws(app).store)
    for body, row in [(HEADER + b"nurse,Nursing,1,NUR-100,Basics,N1,Wash hands, then dry them.,1\n", 2),
                      (HEADER + b"nurse,Nursing,1,NUR-100,Basics,N1,Wash hands.,1\n"
                                b"nurse,Nursing,1,NUR-100,Basics,N2,Dry, hands.,1\n", 3)]:
        r = _load_csv(c, h, body)
        assert r.status_code == 422 and r.get_json()["row"] == row, r.get_json()
        assert "has 9 cells but the header has 8" in r.get_json()["detail"]
    assert len(_ws(app).store) == before
    # a trailing comma (an empty extra field) is harmless and loads, unshifted
    r = _load_csv(c, h, HEADER + b"nurse,Nursing,1,NUR-100,Basics,N1,Wash hands.,1,\n")
    assert r.status_code == 201, r.get_json()
    courses = c.get("/api/programs/nurse/courses", headers=h).get_json()["courses"]
    assert [(x["code"], x["title"]) for x in courses] == [("NUR-100", "Basics")]


def test_f15_comparing_an_out_of_date_draft_says_so(app):
    c, h = app.test_client(), bearer(app, "admin")
    assert c.post("/api/programs/mini/drafts", json={"name": "old"}, headers=h).status_code == 201
    r = c.get("/api/drafts/old/compare", headers=h).get_json()
    assert r["out_of_date"] is False and r["stale_graphs"] == [] and "note" not in r
    # the live curriculum changes after the draft was taken
    assert c.patch("/api/programs/mini/courses/MED-101", json={"year": 3}, headers=h).status_code == 200
    r = c.get("/api/drafts/old/compare", headers=h).get_json()
    assert r["out_of_date"] is True and r["stale_graphs"] and "changed since this draft" in r["note"]


def test_f20_f14_sparql_non_utf8_and_deep_nesting_are_400(sparql_app):
    """Invalid UTF-8 in a query (form, GET, query body) answered 200 (Werkzeug replaced the bytes); a query
    nested thousands of levels deep crashed the evaluating process (503).  Both are a 400 naming the query."""
    c = sparql_app.test_client()
    for r in (c.post("/sparql", data=b"query=ASK%20%7B%20%3Fs%20%3Fp%20%22%ff%fe%22%20%7D",
                     content_type="application/x-www-form-urlencoded"),
              c.get("/sparql?query=ASK%20%7B%20%3Fs%20%3Fp%20%22%ff%22%20%7D"),
              c.post("/sparql", data=b'ASK { ?s ?p "\xff" }', content_type="application/sparql-query")):
        assert r.status_code == 400 and "UTF-8" in r.get_json()["detail"] and r.get_json()["parameter"] == "query"
    deep = "SELECT * WHERE " + "{ " * 3000 + "?s ?p ?o" + " }" * 3000
    r = c.post("/sparql", data={"query": deep})
    assert r.status_code == 400 and "3000 levels deep" in r.get_json()["detail"]
    # UTF-8 and ordinary nesting still answer
    r = c.get("/sparql", query_string={"query": 'ASK { ?s ?p "caf\u00e9" }'})
    assert r.status_code == 200
    r = c.post("/sparql", data={"query": "SELECT * WHERE " + "{ " * 20 + "?s ?p ?o" + " }" * 20})
    assert r.status_code == 200


def test_f19_weak_passwords_are_refused(app, tmp_path):
    """`gapmap user add --password`, POST /api/users and the account page accepted any 10 characters
    ("aaaaaaaaaa", "1234567890", the user name padded)."""
    from click.testing import CliRunner

    from service.cli import main
    c, h = app.test_client(), bearer(app, "admin")
    for pw in ("aaaaaaaaaaaa", "123456789012", "abcdefghijkl", "Short1!", "dr.weak1dr.weak1", "ababab121212"):
        r = c.post("/api/users", json={"name": "dr.weak1", "role": "viewer", "password": pw}, headers=h)
        assert r.status_code == 400 and r.get_json()["field"] == "password", (pw, r.get_json())
    r = c.post("/api/users", json={"name": "dr.weak1", "role": "viewer", "password": "a long passphrase"}, headers=h)
    assert r.status_code == 201
    store = ["--store", str(tmp_path / "store")]
    r = CliRunner().invoke(main, [*store, "user", "add", "dr.cli", "--role", "viewer", "--password", "password1"])
    assert r.exit_code != 0 and "password" in r.output
    r = CliRunner().invoke(main, [*store, "user", "add", "dr.cli", "--role", "viewer", "--password", "Tr0ub4dor&3xyz"])
    assert r.exit_code == 0, r.output
