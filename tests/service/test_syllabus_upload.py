"""Syllabus upload over HTTP: extracted objectives stored as versions, aligned, decisions kept, bad files refused."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from docx import Document
from rdflib import URIRef

from service.app import create_app
from tests.conftest import bearer, signed_client

TESTS = Path(__file__).resolve().parents[1]
MINI = TESTS / "fixtures" / "mini"
SYL = TESTS / "fixtures" / "syllabi"
#: dr.chen, the educator responsible for MED-201 and SURG-301 (a real bearer token, made by the client fixture)
U: dict = {}


def _docx(objectives: list[str]) -> bytes:
    d = Document()
    d.add_heading("MED-201 Clerkship Medicine", 0)
    d.add_paragraph("This clerkship introduces inpatient medicine.")
    d.add_heading("Learning objectives", 1)
    for o in objectives:
        d.add_paragraph(o, style="List Number")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


OBJ = ["Conduct a telehealth follow-up visit with attention to privacy and technical limitations.",
       "Deliver a structured handover of a ward patient to the night team.",
       "Discuss goals of care with a seriously ill patient and their family."]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    app = create_app({"STORE_PATH": "", "TESTING": True, "CACHE_DIR": str(tmp_path_factory.mktemp("cache")),
                      "MAX_UPLOAD_BYTES": 2 * 2**20})
    with app.app_context():
        from service.extensions import gapmap
        gapmap().load_manifest(MINI / "manifest.json")
    U.clear()
    U.update(bearer(app, "educator", "dr.chen", courses=["MED-201", "SURG-301"]))
    return signed_client(app, "viewer")


def _upload(client, data: bytes, name: str, code="MED-201", **form):
    return client.post(f"/api/programs/mini/courses/{code}/syllabus",
                       data={"file": (io.BytesIO(data), name), **form}, headers=U,
                       content_type="multipart/form-data")


def test_upload_docx_stores_objectives_and_suggestions(client):
    r = _upload(client, _docx(OBJ), "med201.docx")
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["version"] == 1
    assert [o["text"] for o in body["extraction"]["objectives"]] == OBJ
    assert body["alignment"]["objectives"] == 8  # 5 from the curriculum + 3 extracted
    q = client.get("/api/programs/mini/review?course=MED-201&status=all").get_json()
    texts = {o["text"] for o in q["objectives"]}
    assert set(OBJ) <= texts
    versions = client.get("/api/programs/mini/courses/MED-201/syllabus").get_json()["versions"]
    assert [(v["version"], v["file"], v["user"], v["objectives"]) for v in versions] == [(1, "med201.docx", "dr.chen", 3)]


def test_reupload_replaces_extracted_objectives_and_keeps_decisions(client):
    q = client.get("/api/programs/mini/review?course=MED-201&status=all").get_json()
    kept = next(o for o in q["objectives"] if o["text"] == OBJ[1])
    r = client.post(f"/api/objectives/{kept['objective']}/alignments", json={"competency": "CM2", "framework": "mini"},
                    headers=U)
    assert r.status_code == 201
    a = {"id": r.get_json()["alignment"].rsplit("/", 1)[-1]}
    new = [OBJ[1], "Interpret an arterial blood gas in a patient with respiratory distress."]
    r = _upload(client, _docx(new), "med201-v2.docx")
    assert r.get_json()["version"] == 2
    q = client.get("/api/programs/mini/review?course=MED-201&status=all").get_json()
    texts = {o["text"] for o in q["objectives"]}
    assert OBJ[0] not in texts and OBJ[2] not in texts and new[1] in texts  # the old version's objectives are gone
    again = next(o for o in q["objectives"] if o["text"] == OBJ[1])
    assert next(x for x in again["alignments"] if x["id"] == a["id"])["status"] == "accepted"
    versions = client.get("/api/programs/mini/courses/MED-201/syllabus").get_json()["versions"]
    assert [v["version"] for v in versions] == [2]  # the graph holds the current version


@pytest.mark.parametrize("fixture,status", [
    ("scanned_no_text.pdf", 422), ("encrypted.pdf", 422), ("corrupt.pdf", 422), ("zip_bomb.docx", 422),
    ("billion_laughs.html", 422), ("xxe_external_entity.xhtml", 422)])
def test_bad_files_are_refused_and_nothing_is_stored(client, fixture, status):
    before = client.get("/api/health").get_json()["triples"]
    r = _upload(client, (SYL / fixture).read_bytes(), fixture)
    assert r.status_code == status, r.get_json()
    assert r.mimetype == "application/problem+json" and r.get_json()["detail"]
    assert client.get("/api/health").get_json()["triples"] == before


def test_wrong_type_oversize_and_missing_fields(client):
    r = _upload(client, b"\x89PNG\r\n\x1a\n" + b"0" * 100, "photo.png")
    assert r.status_code == 415
    r = _upload(client, b"a" * (3 * 2**20), "huge.txt")
    assert r.status_code == 413
    r = client.post("/api/programs/mini/courses/MED-201/syllabus", data={}, headers=U,
                    content_type="multipart/form-data")
    assert r.status_code == 400 and r.get_json()["field"] == "file"
    anonymous = client.application.test_client()
    r = anonymous.post("/api/programs/mini/courses/MED-201/syllabus",
                       data={"file": (io.BytesIO(_docx(OBJ)), "x.docx")}, content_type="multipart/form-data")
    assert r.status_code == 401
    r = client.post("/api/programs/mini/courses/MED-201/syllabus",  # a viewer
                    data={"file": (io.BytesIO(_docx(OBJ)), "x.docx")}, content_type="multipart/form-data")
    assert r.status_code == 403
    r = _upload(client, _docx(OBJ), "x.docx", code="MED-101")  # not dr.chen's course
    assert r.status_code == 403 and r.get_json()["course"] == "MED-101"


def test_a_new_course_needs_a_year(client):
    r = _upload(client, (SYL / "surg301_objectives.pdf").read_bytes(), "surg.pdf", code="SURG-301")
    assert r.status_code == 422 and r.get_json()["column"] == "year"
    r = _upload(client, (SYL / "surg301_objectives.pdf").read_bytes(), "surg.pdf", code="SURG-301", year="3")
    assert r.status_code == 201, r.get_json()
    courses = client.get("/api/programs/mini/courses").get_json()["courses"]
    assert ("SURG-301", 3) in [(c["code"], c["year"]) for c in courses]


def test_assessment_section_becomes_the_course_assessments(client):
    """Issue 9: the grading section's components are stored as gm:Assessment of the course (kind + weight, or
    pass/fail), and extracted objectives get a proficiency level from Bloom level and course year."""
    from service.extensions import gapmap

    data = (SYL / "imed420_assessment.md").read_bytes()
    chair = bearer(client.application, "committee", "dr.chair")  # a new course: not an educator's to create
    r = client.post("/api/programs/mini/courses/IMED-420/syllabus", headers=chair, content_type="multipart/form-data",
                    data={"file": (io.BytesIO(data), "imed420_assessment.md"), "year": "3"})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    got = {(a["kind"], a["weight"], a["pass_fail"]) for a in body["extraction"]["assessments"]}
    assert got == {("osce", 0.4, False), ("written exam", 0.35, False), ("portfolio", 0.1, False),
                   ("preceptor evaluation", 0.15, False), ("professionalism", None, True)}
    with client.application.app_context():
        ws = gapmap()
    rows = ws.store.query("""
        PREFIX gm: <https://w3id.org/gapmap/ns#>
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        SELECT ?a ?kind ?w ?pf (COUNT(?o) AS ?n) WHERE {
          ?a a gm:Assessment ; a ?kind ; gm:assessmentIn ?c . ?c skos:notation "IMED-420" .
          FILTER(?kind != gm:Assessment)
          OPTIONAL { ?a gm:gradeWeight ?w } OPTIONAL { ?a gm:passFail ?pf } OPTIONAL { ?a gm:assessesObjective ?o }
        } GROUP BY ?a ?kind ?w ?pf""")
    kinds = sorted((str(r["kind"]).rsplit("#", 1)[-1], float(r["w"]) if r["w"] is not None else -1.0,
                    r["pf"] is not None and bool(r["pf"].toPython())) for r in rows)
    assert kinds == [("OSCEStation", 0.4, False), ("Portfolio", 0.1, False), ("WorkplaceBasedAssessment", -1.0, True),
                     ("WorkplaceBasedAssessment", 0.15, False), ("WrittenExam", 0.35, False)]
    # not linked to objectives until a reviewer says which objective each examines (a grading table does not)
    assert all(int(r["n"]) == 0 for r in rows)
    oid = body["objective_ids"][0].rsplit("/", 1)[-1]
    osce = next(a for a in client.get("/api/programs/mini/assessments", headers=chair).get_json()["assessments"]
                if a["course"] == "IMED-420" and a["kind"] == "OSCEStation")
    r = client.post(f"/api/objectives/{oid}/assessed-by", headers=chair, json={"assessment": osce["id"]})
    assert r.status_code == 201, r.get_json()
    linked = ws.store.query("PREFIX gm: <https://w3id.org/gapmap/ns#> SELECT ?a ?o WHERE { ?a gm:assessesObjective ?o }",
                            {"a": URIRef(osce["iri"])})
    assert [str(x["o"]).rsplit("/", 1)[-1] for x in linked] == [oid]
    levels = ws.store.query("""
        PREFIX gm: <https://w3id.org/gapmap/ns#>
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        SELECT ?t ?lvl WHERE { ?o gm:text ?t ; gm:targetLevel ?lvl ; gm:inCourse ?c . ?c skos:notation "IMED-420" ;
                               gm:year 3 }""")
    lv = {str(r["t"]): int(r["lvl"]) for r in levels}
    # "Present" (apply: 2) and "Prioritise" (evaluate: 3), one more in year 3
    assert lv == {"Present a new admission concisely on the morning ward round.": 3,
                  "Prioritise a problem list for a patient with multimorbidity.": 4}


@pytest.mark.parametrize("code", ["..%2F..%2Fetc", "<script>", "A" * 41, "-lead", "a b"])
def test_course_codes_in_upload_urls_are_validated(client, code):
    chair = bearer(client.application, "committee", "dr.chair")
    data = (SYL / "imed420_assessment.md").read_bytes()
    r = client.post(f"/api/programs/mini/courses/{code}/syllabus", headers=chair, content_type="multipart/form-data",
                    data={"file": (io.BytesIO(data), "x.md"), "year": "2"})
    assert r.status_code in (404, 422), r.status_code  # 404: the router refuses a decoded '/'
    if r.status_code == 422:
        assert r.get_json()["column"] == "course" or "course" in r.get_json()["detail"]
    courses = [c["code"] for c in client.get("/api/programs/mini/courses").get_json()["courses"]]
    assert code not in courses
