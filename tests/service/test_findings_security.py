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
