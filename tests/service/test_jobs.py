"""Long work as jobs: 202 + Location, a job resource with status and progress; synchronous by default."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from service.jobs import Jobs, MemoryJobStates, ProgressLinker

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini"


@pytest.fixture
def loaded(app):
    from service.extensions import gapmap
    with app.app_context():
        gapmap().load_manifest(MINI / "manifest.json")
    from tests.conftest import signed_client
    return signed_client(app, "viewer")  # reads (job status) as a viewer; writes send their own token


def _wait(client, href, timeout=60, headers=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        j = client.get(href, headers=headers).get_json()
        if j["status"] in ("succeeded", "failed"):
            return j
        time.sleep(0.05)
    raise AssertionError(f"job did not end: {j}")


def test_async_align_is_a_job_with_progress_and_the_same_result(loaded, auth):
    r = loaded.post("/api/programs/mini/align?async=1", json={"top_k": 2}, headers=auth("admin"))
    assert r.status_code == 202
    href = r.headers["Location"]
    assert href.startswith("/api/jobs/") and r.get_json()["status"] in ("queued", "running", "succeeded")
    j = _wait(loaded, href, headers=auth("admin"))  # the job's owner
    assert j["status"] == "succeeded", j
    assert j["kind"] == "align" and j["result"]["objectives"] == 5 and j["result"]["program"] == "mini"
    assert j["progress"]["done"] == j["progress"]["total"] == 5
    # the suggestions are in the store, as with the synchronous call
    review = loaded.get("/api/programs/mini/review?status=all").get_json()
    assert any(s for o in review.get("objectives", []) for s in o.get("suggestions", [])) or review
    sync = loaded.post("/api/programs/mini/align", json={"top_k": 2}, headers=auth("admin"))
    assert sync.status_code == 200 and sync.get_json()["suggestions"] == j["result"]["suggestions"]


def test_prefer_respond_async_starts_a_load_job_and_a_bad_file_fails_with_a_problem(loaded, auth):
    bad = b"program_id,program_title,year,course_code,course_title,objective_id,objective_text\n" \
          b"mini,Mini MD,9,MED-101,Clinical Skills I,O9,Text\n"
    r = loaded.post("/api/load/curriculum-csv", data={"file": (__import__("io").BytesIO(bad), "c.csv")},
                    headers=dict(auth("admin"), Prefer="respond-async"), content_type="multipart/form-data")
    assert r.status_code == 202
    j = _wait(loaded, r.headers["Location"], headers=auth("admin"))
    assert j["status"] == "failed" and j["error"]["status"] == 422 and j["error"]["row"] == 2
    assert j["error"]["column"] == "year" and j["progress"]["message"] == "failed"
    # nothing was written: still the fixture's five objectives
    assert loaded.get("/api/programs").get_json()["programs"][0]["objectives"] == 5


def test_unknown_job_is_404_and_unknown_program_is_404_before_any_job(loaded, auth):
    assert loaded.get("/api/jobs/nope").status_code == 404
    r = loaded.post("/api/programs/nope/align?async=1", json={}, headers=auth("admin"))
    assert r.status_code == 404


def test_a_job_is_read_only_by_its_owner_or_an_admin(loaded, auth):
    """Finding #26: a job records who started it; anyone else but an admin (here a committee member, the
    tester's case) gets a 404."""
    r = loaded.post("/api/programs/mini/align?async=1", json={"top_k": 1}, headers=auth("admin", name="dr.a1"))
    assert r.status_code == 202 and r.get_json()["owner"] == "dr.a1"
    href = r.headers["Location"]
    j = _wait(loaded, href, headers=auth("admin", name="dr.a1"))
    assert j["owner"] == "dr.a1" and j["status"] == "succeeded"
    assert loaded.get(href, headers=auth("committee")).status_code == 404
    assert loaded.get(href).status_code == 404  # the viewer
    assert loaded.get(href, headers=auth("admin", name="dr.a2")).status_code == 200  # another admin


def test_jobs_record_failures_without_internals_and_progress_linker_keeps_ranking():
    jobs = Jobs(MemoryJobStates(), workers=1)

    def boom(progress):
        progress(1, 2, "half")
        raise RuntimeError("secret path /etc/x")
    j = jobs.wait(jobs.submit("x", boom)["id"], timeout=10)
    assert j["status"] == "failed" and j["error"]["status"] == 500 and "secret" not in str(j["error"])
    assert j["progress"] == {"done": 1, "total": 2, "message": "failed"}  # how far it got, and that it failed
    ok = jobs.wait(jobs.submit("y", lambda progress: {"n": 3})["id"], timeout=10)
    assert ok["status"] == "succeeded" and ok["result"] == {"n": 3}

    class Fake:
        model_version = "m"

        def rank(self, texts, top_k=10):
            return [[t.upper()] * top_k for t in texts]
    seen = []
    pl = ProgressLinker(Fake(), lambda d, t, m="": seen.append((d, t)), chunk=2)
    assert pl.rank(["a", "b", "c"], top_k=1) == [["A"], ["B"], ["C"]] and pl.model_version == "m"
    assert seen == [(2, 3), (3, 3)]
    jobs.shutdown()


def test_async_syllabus_upload_is_a_job(loaded, auth):
    import io
    text = ("# MED-201 syllabus\n\n## Learning objectives\n\nBy the end of this course students will be able to:\n\n"
            "1. Deliver a structured handover of a ward patient to the night team.\n"
            "2. Discuss goals of care with a seriously ill patient and their family.\n").encode()
    r = loaded.post("/api/programs/mini/courses/MED-201/syllabus?async=1",
                    data={"file": (io.BytesIO(text), "med201.md"), "align": "false"},
                    headers=auth("educator", courses=["MED-201"]), content_type="multipart/form-data")
    assert r.status_code == 202, r.get_json()
    j = _wait(loaded, r.headers["Location"], headers=auth("educator", courses=["MED-201"]))  # its owner
    assert j["status"] == "succeeded", j
    assert j["kind"] == "syllabus" and j["result"]["version"] == 1
    assert len(j["result"]["extraction"]["objectives"]) == 2


def test_a_load_without_its_file_says_which_field_is_missing(loaded, auth):
    r = loaded.post("/api/load/curriculum-csv", data={"framework": "mini"}, headers=auth("admin"),
                    content_type="multipart/form-data")
    p = r.get_json()
    assert r.status_code == 400 and p["field"] == "file" and p["detail"].startswith("the field 'file' is missing"), p
    r = loaded.post("/api/load/curriculum-csv", json={"framework": "mini"}, headers=auth("admin"))
    assert r.status_code == 400 and "the body is application/json, not multipart/form-data" in r.get_json()["detail"]


def test_a_short_row_names_the_empty_column_in_its_detail(loaded, auth):
    short = b"program_id,program_title,year,course_code,course_title,objective_id,objective_text\n" \
            b"mini,Mini MD,1,MED-101,Clinical Skills I,O9\n"
    r = loaded.post("/api/load/curriculum-csv", data={"file": (__import__("io").BytesIO(short), "s.csv")},
                    headers=auth("admin"), content_type="multipart/form-data")
    p = r.get_json()
    assert r.status_code == 422 and p["row"] == 2 and p["detail"] == "objective_text is empty", p
