"""Drafts shared by the processes of a host (a remote live store served by several gunicorn workers): each
``Drafts(folder, shared=True)`` below stands for one process.  A draft made, edited, applied or discarded
through one is seen by the others at their next read, concurrent edits from several are all kept, and a
process that dies half-way through saving leaves the previous version readable."""
from __future__ import annotations

import multiprocessing
import os
import threading
from pathlib import Path

import pytest
from rdflib import Literal

from ontology.drafts import DraftConflict, Drafts
from ontology.errors import NotFound
from service.config import Config
from service.workspace import Workspace

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini" / "manifest.json"
ADD = {"op": "add_course", "code": "MED-301", "title": "Palliative care", "year": 3}


def live():
    cfg = Config()
    cfg.STORE_PATH = ""
    ws = Workspace.from_config(cfg)
    ws.load_manifest(MINI)
    return ws


@pytest.fixture
def ws():
    return live()


def test_a_draft_made_in_one_process_is_read_edited_and_discarded_in_another(ws, tmp_path):
    a, b = Drafts(tmp_path, shared=True), Drafts(tmp_path, shared=True)
    a.create(ws.store, ws.ids, "plan-a", "mini", "chair")
    assert [d["name"] for d in b.list("mini")] == ["plan-a"]
    b.edit(ws.ids, "plan-a", ADD, "chair")  # edited through the other process
    da = a.get("plan-a")
    assert len(da.edits) == 1 and da.edits[0]["op"] == "add_course"
    assert da.store.select("course_detail", code=Literal("MED-301"))  # its graphs too
    with pytest.raises(DraftConflict):  # one name, one draft, whichever process is asked
        b.create(ws.store, ws.ids, "plan-a", "mini", "chair")
    a.discard("plan-a")
    with pytest.raises(NotFound, match="no draft or saved version"):
        b.get("plan-a")
    assert b.list() == [] and sorted(p.name for p in tmp_path.iterdir()) == [".plan-a.lock"]


def test_a_saved_version_is_seen_by_every_process_and_survives_a_restart(ws, tmp_path):
    Drafts(tmp_path, shared=True).create(ws.store, ws.ids, "2025-26", "mini", "chair", frozen=True)
    for _ in range(3):  # a fresh process (a restart) reads it from the files
        assert [d["name"] for d in Drafts(tmp_path, shared=True).list(frozen=True)] == ["2025-26"]
        assert len(Drafts(tmp_path, shared=True).get("2025-26").store) == len(
            Drafts(tmp_path, shared=True).get("2025-26").store) > 0


def test_apply_through_one_process_drops_the_draft_everywhere(ws, tmp_path):
    a, b = Drafts(tmp_path, shared=True), Drafts(tmp_path, shared=True)
    a.create(ws.store, ws.ids, "plan-a", "mini", "chair")
    b.edit(ws.ids, "plan-a", ADD, "chair")
    a.apply(ws.store, ws.ids, "plan-a", "chair", framework="mini")  # a applies b's edit
    assert ws.store.select("course_detail", code=Literal("MED-301"))  # b's edit is live
    with pytest.raises(NotFound):
        b.get("plan-a")
    with pytest.raises((NotFound, DraftConflict)):
        b.apply(ws.store, ws.ids, "plan-a", "chair", framework="mini")


def test_concurrent_edits_from_several_processes_are_all_kept(ws, tmp_path):
    Drafts(tmp_path, shared=True).create(ws.store, ws.ids, "plan-a", "mini", "chair")
    procs = [Drafts(tmp_path, shared=True) for _ in range(4)]
    errors: list = []

    def edit(drafts, i):
        try:
            for j in range(3):
                drafts.edit(ws.ids, "plan-a", {"op": "add_course", "code": f"X-{i}-{j}", "title": "t", "year": 1},
                            f"u{i}")
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=edit, args=(p, i)) for i, p in enumerate(procs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    d = Drafts(tmp_path, shared=True).get("plan-a")
    assert sorted(e["code"] for e in d.edits) == sorted(f"X-{i}-{j}" for i in range(4) for j in range(3))
    assert all(d.store.select("course_detail", code=Literal(f"X-{i}-{j}")) for i in range(4) for j in range(3))


def _edit_in_child(folder: str, n: int) -> None:
    ws = live()
    drafts = Drafts(folder, shared=True)
    for j in range(n):
        drafts.edit(ws.ids, "plan-a", {"op": "add_course", "code": f"P{os.getpid()}-{j}", "title": "t", "year": 1},
                    "chair")


def test_two_real_processes_editing_at_once_lose_nothing(ws, tmp_path):
    Drafts(tmp_path, shared=True).create(ws.store, ws.ids, "plan-a", "mini", "chair")
    ctx = multiprocessing.get_context("fork")
    ps = [ctx.Process(target=_edit_in_child, args=(str(tmp_path), 4)) for _ in range(2)]
    for p in ps:
        p.start()
    for p in ps:
        p.join(120)
    assert [p.exitcode for p in ps] == [0, 0]
    d = Drafts(tmp_path, shared=True).get("plan-a")
    assert len(d.edits) == 8 and len({e["code"] for e in d.edits}) == 8


def test_a_save_that_died_half_way_leaves_the_previous_version(ws, tmp_path):
    a = Drafts(tmp_path, shared=True)
    a.create(ws.store, ws.ids, "plan-a", "mini", "chair")
    a.edit(ws.ids, "plan-a", ADD, "chair")
    folder = tmp_path / "plan-a"
    # what a process killed after writing the next graphs file (or its temporary) but before the meta leaves
    (folder / "graphs.3.nq.tmp").write_text("<urn:a> <urn:b> <urn:c> <urn:g> .\n")
    (folder / "graphs.3.nq").write_text("<urn:a> <urn:b> <urn:c> <urn:g> .\n")
    d = Drafts(tmp_path, shared=True).get("plan-a")
    assert len(d.edits) == 1 and len(d.store) == len(a.get("plan-a").store)
    # and the next write goes on from there
    Drafts(tmp_path, shared=True).edit(ws.ids, "plan-a", {"op": "set_level", "id": "O3", "level": 4}, "chair")
    assert len(a.get("plan-a").edits) == 2


def test_names_are_checked_before_any_file_is_touched(ws, tmp_path):
    a = Drafts(tmp_path / "d", shared=True)
    for bad in ("../x", "a/b", ".hidden", ""):
        with pytest.raises(NotFound):
            a.get(bad)
        with pytest.raises(NotFound):
            a.discard(bad)
    assert list((tmp_path / "d").iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["d"]
