"""What changed since the last curriculum version: reports saved before a reload, compared after."""
from __future__ import annotations

from pathlib import Path

import pytest

from loaders import Source
from ontology.changes import changes, snapshots
from ontology.errors import NotFound
from service.config import Config
from service.workspace import Workspace

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini"


@pytest.fixture
def ws():
    cfg = Config()
    cfg.STORE_PATH = ""
    w = Workspace.from_config(cfg)
    w.load_manifest(MINI / "manifest.json")
    return w


def test_first_load_and_unchanged_reload_save_nothing(ws):
    assert snapshots(ws.store, ws.ids, "mini") == []
    ws.load_manifest(MINI / "manifest.json")  # same data again: no change, no saved report
    assert snapshots(ws.store, ws.ids, "mini") == []
    with pytest.raises(NotFound):
        changes(ws.store, ws.ids, "mini")


def test_a_new_curriculum_version_is_compared_with_the_last(ws, tmp_path):
    text = (MINI / "curriculum.csv").read_text()
    v2 = text.replace("SPIKES protocol.,2,", "SPIKES protocol.,2,CM1").replace("night team.,3,CM2", "night team.,3,")
    (tmp_path / "curriculum.csv").write_text(v2)
    ws.load("curriculum-csv", Source.from_path(tmp_path / "curriculum.csv"), {"framework": "mini"})
    saved = snapshots(ws.store, ws.ids, "mini")
    assert [s["label"] for s in saved] == ["before loading curriculum.csv"]
    rep = changes(ws.store, ws.ids, "mini")
    got = {c.notation: (c.kind, c.before, c.after) for c in rep.changes}
    assert got == {"CM1": ("status", "not_taught", "taught_not_assessed"),
                   "CM2": ("status", "taught_not_assessed", "not_taught")}
    assert rep.summary["status"] == 2


def test_a_new_framework_version_adds_and_removes_competencies(ws, tmp_path):
    text = (MINI / "framework.csv").read_text()
    v2 = text.replace("CM2,competency,CM,Handover,Hand over patient care safely to colleagues.,sign-out,\n", "")
    v2 += "CM3,competency,CM,Written communication,Write clear notes and letters.,,\n"
    (tmp_path / "framework.csv").write_text(v2)
    # The curriculum still aligns an objective to CM2: after the framework change that link points at a
    # competency the framework no longer has, so the report lists CM2 as removed.
    ws.load("framework-csv", Source.from_path(tmp_path / "framework.csv"), {"id": "mini"})
    got = {c.notation: c.kind for c in changes(ws.store, ws.ids, "mini").changes}
    assert got == {"CM2": "removed", "CM3": "added"}
