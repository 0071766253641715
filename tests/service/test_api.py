"""The JSON API over the fixture program: catalog, gap reports in every format, readiness, errors."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from rdflib import Graph

from ontology.vocab import GM
from tests.conftest import signed_client

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini"


@pytest.fixture
def loaded(app):
    from service.extensions import gapmap
    with app.app_context():
        gapmap().load_manifest(MINI / "manifest.json")
    return signed_client(app, "admin")


def test_catalog(loaded):
    fws = loaded.get("/api/frameworks").get_json()["frameworks"]
    assert [(f["id"], f["competencies"], f["domains"]) for f in fws] == [("mini", 6, 2)]
    comps = loaded.get("/api/frameworks/mini/competencies?q=auscultation").get_json()
    assert [c["notation"] for c in comps["competencies"]] == ["PC2.1"]
    found = loaded.get("/api/competencies?q=sign-out").get_json()
    assert [c["notation"] for c in found["competencies"]] == ["CM2"]  # matched through its alt label
    progs = loaded.get("/api/programs").get_json()["programs"]
    assert [(p["id"], p["courses"], p["objectives"], p["fw"]) for p in progs] == [("mini", 2, 5, "mini")]
    courses = loaded.get("/api/programs/mini/courses").get_json()["courses"]
    assert [(c["code"], c["year"]) for c in courses] == [("MED-101", 1), ("MED-201", 2)]
    roles = {r["id"]: r for r in loaded.get("/api/roles").get_json()["roles"]}
    assert roles["intern"]["next"] == ["resident"] and roles["intern"]["track"] == "ClinicalTrack"
    reqs = loaded.get("/api/roles/resident").get_json()["requirements"]
    assert {(r["notation"], r["relation"]) for r in reqs} == {("PC2", "essential"), ("CM1", "essential"),
                                                              ("PC3", "optional")}


def test_gap_report_json(loaded):
    r = loaded.get("/api/programs/mini/gaps?role=resident")
    assert r.status_code == 200
    body = r.get_json()
    assert body["summary"]["counts"] == {"not_taught": 1, "assessed_not_taught": 1, "taught_not_assessed": 2,
                                         "below_required_level": 1, "covered": 1}
    pc2 = next(c for c in body["competencies"] if c["notation"] == "PC2")
    assert pc2["courses"] == ["MED-101", "MED-201"] and pc2["required_level"] == 4


def test_gap_report_csv_by_accept_and_param(loaded):
    for r in (loaded.get("/api/programs/mini/gaps", headers={"Accept": "text/csv"}),
              loaded.get("/api/programs/mini/gaps?format=csv")):
        assert r.mimetype == "text/csv"
        rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
        assert {row["competency"]: row["status"] for row in rows}["CM1"] == "not_taught"


def test_gap_report_rdf(loaded):
    r = loaded.get("/api/programs/mini/gaps?format=ttl")
    assert "@prefix gm: <https://w3id.org/gapmap/ns#>" in r.get_data(as_text=True)  # not ns1:
    g = Graph().parse(data=r.get_data(as_text=True), format="turtle")
    assert len(set(g.subjects(None, GM.GapEntry))) == 6
    r = loaded.get("/api/programs/mini/gaps", headers={"Accept": "application/ld+json"})
    assert r.mimetype == "application/ld+json"
    assert len(Graph().parse(data=r.get_data(as_text=True), format="json-ld")) == len(g) 


def test_readiness(loaded):
    body = loaded.get("/api/programs/mini/readiness/intern").get_json()
    assert body["summary"]["essential"]["ready"] == 1
    assert {i["notation"]: i["status"] for i in body["requirements"]}["PC1"] == "below_level"


@pytest.mark.parametrize("url,status,field", [
    ("/api/programs/mini/gaps?year=first", 400, "year"),
    ("/api/programs/mini/gaps?year=12", 400, "year"),
    ("/api/programs/mini/gaps?include_suggestions=2", 400, "include_suggestions"),
    ("/api/programs/mini/gaps?format=pdf", 400, "format"),
    ("/api/programs/nope/gaps", 404, "program"),
    ("/api/programs/mini/gaps?framework=nope", 404, "framework"),
    ("/api/programs/mini/gaps?role=astronaut", 404, "role"),
    ("/api/roles/astronaut", 404, "role"),
    ("/api/competencies", 400, "q"),
])
def test_errors_are_problem_json_naming_the_field(loaded, url, status, field):
    r = loaded.get(url)
    assert r.status_code == status
    assert r.mimetype == "application/problem+json"
    body = r.get_json()
    assert body["status"] == status and body["field"] == field and body["detail"]


def test_upload_a_file_through_a_loader(loaded):
    data = (MINI / "roles.csv").read_bytes().replace(b",PC2,4,", b",PC2,5,")
    r = loaded.post("/api/load/roles-csv", data={"file": (io.BytesIO(data), "roles.csv"), "id": "mini-roles",
                                                 "framework": "mini"}, content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["summary"]["requirements"] == 6
    reqs = loaded.get("/api/roles/resident").get_json()["requirements"]
    assert next(q for q in reqs if q["notation"] == "PC2")["required_level"] == 5


def test_upload_errors_name_row_and_leave_store_unchanged(loaded):
    before = loaded.get("/api/health").get_json()["triples"]
    bad = (MINI / "roles.csv").read_bytes().replace(b",PC2,2,", b",PC2,high,")
    r = loaded.post("/api/load/roles-csv", data={"file": (io.BytesIO(bad), "roles.csv"), "id": "mini-roles",
                                                 "framework": "mini"}, content_type="multipart/form-data")
    assert r.status_code == 422
    body = r.get_json()
    assert (body["file"], body["row"], body["column"]) == ("roles.csv", 3, "required_level")
    assert loaded.get("/api/health").get_json()["triples"] == before
    r = loaded.post("/api/load/roles-csv", data={}, content_type="multipart/form-data")
    assert r.status_code == 400 and r.get_json()["field"] == "file"
    r = loaded.post("/api/load/pdf-magic", data={"file": (io.BytesIO(b"x"), "x.bin")},
                    content_type="multipart/form-data")
    assert r.status_code == 404 and r.get_json()["field"] == "loader"  # no loader of that name
    r = loaded.post("/api/load", data={"file": (io.BytesIO(b"x"), "x.bin")}, content_type="multipart/form-data")
    assert r.status_code == 415 and r.get_json()["field"] == "loader"  # no loader reads .bin


def test_upload_without_naming_the_loader(loaded):
    """POST /api/load picks the loader from the file (a CSV's header tells the CSV loaders apart)."""
    data = (MINI / "roles.csv").read_bytes().replace(b",PC2,4,", b",PC2,5,")
    r = loaded.post("/api/load", data={"file": (io.BytesIO(data), "roles.csv", "text/csv"), "id": "mini-roles",
                                       "framework": "mini"}, content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["loader"] == "roles-csv" and r.get_json()["summary"]["requirements"] == 6
    reqs = loaded.get("/api/roles/resident").get_json()["requirements"]
    assert next(q for q in reqs if q["notation"] == "PC2")["required_level"] == 5
    r = loaded.post("/api/load", data={"file": (io.BytesIO(b"a,b\n1,2\n"), "t.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 422 and r.get_json()["column"] == "loader"  # a CSV no loader's header fits
    listing = {x["name"]: x for x in loaded.get("/api/loaders").get_json()["loaders"]}
    assert ".pdf" in listing["syllabus"]["extensions"] and "text/csv" in listing["roles-csv"]["media_types"]


def test_openapi_lists_every_api_route(app):
    spec = app.test_client().get("/api/openapi.json").get_json()
    routes = {str(r.rule).replace("<", "{").replace(">", "}") for r in app.url_map.iter_rules()
              if str(r.rule).startswith("/api/")}
    assert routes <= set(spec["paths"]), routes - set(spec["paths"])


def test_home_and_vocabulary(loaded):
    home = loaded.get("/").get_data(as_text=True)
    assert "Mini MD" in home and "/api/programs/mini/gaps" in home
    ttl = loaded.get("/ns", headers={"Accept": "text/turtle"})
    assert ttl.mimetype == "text/turtle"
    g = Graph().parse(data=ttl.get_data(as_text=True), format="turtle")
    assert (GM.Competency, None, None) in g
    html = loaded.get("/ns", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "gm:LearningObjective" in html
