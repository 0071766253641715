"""The blind tester's API findings: deep JSON (#1), a missing alignment (#14), error wording (#23)."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from loaders import Source
from ontology.errors import LoadError
from service.config import Config
from service.workspace import Workspace
from tests.service.accounts import load_mini, make_app, suggestions

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini"


@pytest.fixture
def app(tmp_path):
    from service.extensions import gapmap
    a = make_app(tmp_path, MAX_UPLOAD_BYTES=2 * 2**20)
    with a.app_context():
        load_mini(gapmap())
    return a


@pytest.fixture
def client(app):
    return app.test_client()


def _deep(n: int) -> str:
    return "[" * n + "]" * n


@pytest.mark.parametrize("n", [1000, 5000])
def test_deeply_nested_request_bodies_are_a_400_not_a_500(client, auth, n):
    aid = suggestions(client, auth("viewer"))["MED-101"][0]["id"]
    for url, role in ((f"/api/alignments/{aid}/decision", "committee"), ("/api/programs/mini/drafts", "committee"),
                      ("/api/users", "admin"), ("/api/programs/mini/align", "admin")):
        r = client.post(url, data=_deep(n), content_type="application/json", headers=auth(role))
        assert r.status_code == 400, (url, r.status_code, r.get_data(as_text=True)[:300])
        p = r.get_json()
        assert "nests deeper than 200 levels" in p["detail"] and p["field"] == "body", p


def test_not_json_and_truncated_json_bodies_say_so(client, auth):
    aid = suggestions(client, auth("viewer"))["MED-101"][0]["id"]
    r = client.post(f"/api/alignments/{aid}/decision", data="decision=accept, please", content_type="application/json",
                    headers=auth("committee"))
    assert r.status_code == 400 and r.get_json()["detail"].startswith("the request body is not valid JSON ("), r.get_json()
    r = client.post("/api/programs/mini/drafts", data='{"name": "x', content_type="application/json",
                    headers=auth("committee"))
    assert r.status_code == 400 and r.get_json()["detail"].startswith("the request body is not valid JSON ("), r.get_json()
    # curl -d '{...}' sends a form content type: read as JSON all the same
    r = client.post("/api/programs/mini/drafts", data='{"name": "x', content_type="application/x-www-form-urlencoded",
                    headers=auth("committee"))
    assert r.status_code == 400 and "not valid JSON" in r.get_json()["detail"]


def test_a_too_large_upload_states_the_limit_in_mib(client, auth):
    r = client.post("/api/load/curriculum-csv", data={"file": (io.BytesIO(b"x" * (3 * 2**20)), "big.csv")},
                    headers=auth("admin"), content_type="multipart/form-data")
    assert r.status_code == 413
    assert "2 MiB" in r.get_json()["detail"], r.get_json()


def test_deciding_on_a_missing_alignment_is_404_for_an_educator(client, auth):
    for role in ("educator", "committee"):
        r = client.post("/api/alignments/abc/decision", json={"decision": "accept"},
                        headers=auth(role, courses=["MED-101"] if role == "educator" else None))
        assert r.status_code == 404, (role, r.get_json())
        assert "no alignment abc" in r.get_json()["detail"]


@pytest.mark.parametrize("loader,opts,n", [("case", {}, 1000), ("case", {}, 3000),
                                            ("badges-ob3", {"framework": "mini"}, 1000),
                                            ("badges-ob3", {"framework": "mini"}, 3000)])
def test_deeply_nested_json_files_are_a_422(tmp_path, loader, opts, n):
    cfg = Config()
    cfg.STORE_PATH = ""
    ws = Workspace.from_config(cfg)
    ws.load_manifest(MINI / "manifest.json")
    p = tmp_path / "deep.json"
    p.write_text('{"CFDocument": ' + '{"a":' * n + "1" + "}" * n + ', "type": "Achievement"}')
    with pytest.raises(LoadError) as e:
        ws.load(loader, Source.from_path(p), opts)
    assert e.value.status == 422 and "nests deeper than 200 levels" in e.value.message
    assert e.value.file == "deep.json"


def test_a_malformed_csv_is_a_422_in_our_words(client, auth):
    bad = (b"program_id,program_title,year,course_code,course_title,objective_id,objective_text\n"
           b'md2,Test,1,X-1,"unterminated,O1,text\n')
    r = client.post("/api/load/curriculum-csv", data={"file": (io.BytesIO(bad), "bad1.csv")},
                    headers=auth("admin"), content_type="multipart/form-data")
    p = r.get_json()
    assert r.status_code == 422 and p["file"] == "bad1.csv" and p["row"] == 2, p
    assert "quoted cell starting on line 2 is never closed" in p["detail"]
    assert "tokenizing" not in p["detail"] and "C error" not in p["detail"]
    ragged = b"framework_id,notation,label\nmini,X1,One\nmini,X2,Two,three\n"
    r = client.post("/api/load/framework-csv", data={"file": (io.BytesIO(ragged), "rag.csv"), "id": "rag"},
                    headers=auth("admin"), content_type="multipart/form-data")
    p = r.get_json()
    assert r.status_code == 422 and p["row"] == 3 and "row 3 has 4 cells but the header has 3" in p["detail"], p


SYLLABUS = ("# syllabus\n\n## Learning objectives\n\nBy the end of this course students will be able to:\n\n"
            "1. Deliver a structured handover of a ward patient to the night team.\n").encode()


def _upload(client, auth, code, year):
    return client.post(f"/api/programs/mini/courses/{code}/syllabus",
                       data={"file": (io.BytesIO(SYLLABUS), "s.md"), "align": "false", "year": year},
                       headers=auth("committee"), content_type="multipart/form-data")


def test_upload_year_out_of_range_or_moving_a_course(client, auth):
    """Finding #21: year 0 / 9 is a 422 naming year as out of range; another year on a re-upload is a 409."""
    for y in ("0", "9"):
        r = _upload(client, auth, "NEW-1", y)
        p = r.get_json()
        assert r.status_code == 422 and p["column"] == "year" and f"year {y} is out of range" in p["detail"], p
    r = _upload(client, auth, "MED-201", "7")  # MED-201 is a year-2 course
    p = r.get_json()
    assert r.status_code == 409 and p["field"] == "year" and "is in year 2" in p["detail"], p
    assert _upload(client, auth, "MED-201", "2").status_code == 201
    assert _upload(client, auth, "MED-201", "").status_code == 201


def test_overlong_body_fields_are_a_422_naming_the_field(client, auth):
    """Finding #30: API bodies follow the loaders' length rule (names 200, texts 5,000)."""
    aid = suggestions(client, auth("viewer"))["MED-101"][0]["id"]
    r = client.post(f"/api/alignments/{aid}/decision", json={"decision": "accept", "note": "n" * 5001},
                    headers=auth("committee"))
    assert r.status_code == 422 and r.get_json()["field"] == "note" and "at most 5,000" in r.get_json()["detail"]
    r = client.post("/api/users", json={"name": "u" * 100_000, "role": "viewer"}, headers=auth("admin"))
    assert r.status_code == 422 and r.get_json()["field"] == "name", r.get_json()
    r = client.post("/api/programs/mini/drafts", json={"name": "d" * 201}, headers=auth("committee"))
    assert r.status_code == 422 and r.get_json()["field"] == "name"


def test_deep_or_bad_load_options_are_a_400(client, auth):
    for opts, want in (('{"a":' * 1000 + "1" + "}" * 1000, "nests deeper than 200 levels"),
                       ("{nope", "options is not valid JSON")):
        r = client.post("/api/load/roles-csv", data={"file": (io.BytesIO(b"x"), "r.csv"), "options": opts},
                        headers=auth("admin"), content_type="multipart/form-data")
        assert r.status_code == 400 and r.get_json()["field"] == "options" and want in r.get_json()["detail"]
