"""Progression (introduced → reinforced → mastered) on the fixture program, a planted case, and the bundled MD."""
from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Literal
from rdflib.namespace import XSD

from ontology.gaps import role_readiness
from ontology.progression import progression
from ontology.vocab import ACCEPTED, GM, RDF
from service.config import Config
from service.workspace import Workspace

TESTS = Path(__file__).resolve().parents[1]
DATA = TESTS.parent / "data"


def _ws(manifest):
    cfg = Config()
    cfg.STORE_PATH = ""
    ws = Workspace.from_config(cfg)
    ws.load_manifest(manifest)
    return ws


@pytest.fixture(scope="module")
def bundled():
    return _ws(DATA / "manifest.json")


def test_steps_and_stages_on_the_fixture():
    ws = _ws(TESTS / "fixtures" / "mini" / "manifest.json")
    rep = progression(ws.store, ws.ids, "mini", "mini", mastery_level=2)
    pc2 = next(e for e in rep.entries if e.notation == "PC2")
    assert [(s.course, s.year, s.level, s.stages) for s in pc2.steps] == [
        ("MED-101", 1, 2, ("introduced", "mastered")), ("MED-201", 2, 2, ("mastered",))]
    assert rep.flagged("taught_once") == ["CM2", "PC1", "PC2.1"]
    assert "CM1" not in [e.notation for e in rep.entries if e.steps]  # not taught: no steps, no flags
    # against a role, its (graduation-stage or stageless) levels are the required ones
    res = progression(ws.store, ws.ids, "mini", "mini", role="resident")
    pc2 = next(e for e in res.entries if e.notation == "PC2")
    assert pc2.required_level == 4 and "never_mastered" in pc2.flags and pc2.mastered is None


def test_planted_regression_and_early_mastery():
    """CM1 taught at level 2 in year 1 and at level 1 in year 2: lower after higher, mastered before introduced."""
    ws = _ws(TESTS / "fixtures" / "mini" / "manifest.json")
    g = ws.ids.graph("alignments", "mini")
    cm1 = ws.ids.concept("mini", "CM1")
    o5 = ws.ids.objective("O5")
    quads = []
    for oid in ("O2", "O5"):
        a = ws.ids.alignment(oid, str(cm1))
        quads += [(a, RDF.type, GM.Alignment, g), (a, GM.alignedObjective, ws.ids.objective(oid), g),
                  (a, GM.alignedCompetency, cm1, g), (a, GM.status, ACCEPTED, g), (a, GM.method, GM.ManualMethod, g)]
    cur = ws.ids.graph("curriculum", "mini")
    ws.store.apply(delete=[(o5, GM.targetLevel, Literal(2, datatype=XSD.integer), cur)],
                   insert=quads + [(o5, GM.targetLevel, Literal(1, datatype=XSD.integer), cur)])
    rep = progression(ws.store, ws.ids, "mini", "mini", mastery_level=2)
    e = next(e for e in rep.entries if e.notation == "CM1")
    assert [(s.year, s.level) for s in e.steps] == [(1, 2), (2, 1)]
    assert set(e.flags) == {"lower_after_higher", "mastered_before_introduced"}
    assert e.introduced.course == "MED-101" and e.mastered.course == "MED-101"
    # the same competency taught 1 → 2 in order is clean
    clean = progression(ws.store, ws.ids, "mini", "mini", mastery_level=3)
    assert "mastered_before_introduced" not in next(x for x in clean.entries if x.notation == "CM1").flags


def test_bundled_md(bundled):
    ws = bundled
    rep = progression(ws.store, ws.ids, "md", "hpc")
    by = {e.notation: e for e in rep.entries}
    # the planted untaught competencies have no progression
    for n in ("PC10", "SBP4", "LTR5"):
        assert by[n].steps == () and by[n].flags == ()
    # PC9 and CS7 are taught only at level 2 (the planted below-level gaps): never brought to level 3
    assert {"PC9", "CS7"} <= set(rep.flagged("never_mastered"))
    # every taught competency is introduced in its earliest year
    for e in rep.entries:
        if e.steps:
            assert e.introduced.year == min(s.year for s in e.steps)
            assert all(s.year >= e.introduced.year for s in e.steps)
    assert rep.summary["taught"] == sum(1 for e in rep.entries if e.steps) >= 50
    d = rep.to_dict()
    assert d["competencies"][0]["introduced"]["course"]


def test_readiness_by_stage(bundled):
    ws = bundled
    grad = role_readiness(ws.store, ws.ids, "md", "clinician-educator")  # graduation by default
    full = role_readiness(ws.store, ws.ids, "md", "clinician-educator", stage=None)
    assert grad.stage == "graduation"
    assert grad.summary["essential"]["ready"] > full.summary["essential"]["ready"]
    lv = {i.notation: i.required_level for i in grad.items}
    lf = {i.notation: i.required_level for i in full.items}
    assert set(lv) == set(lf) and all(lv[n] <= lf[n] for n in lv) and any(lv[n] < lf[n] for n in lv)
    # the intern's levels are graduation-stage levels: unchanged, the planted gaps still below level
    intern = role_readiness(ws.store, ws.ids, "md", "intern")
    assert sorted(i.notation for i in intern.items if i.status == "below_level") == ["CS7", "PC9"]


def test_roles_csv_stage_column(tmp_path):
    from loaders import Source
    from ontology.errors import LoadError

    ws = _ws(TESTS / "fixtures" / "mini" / "manifest.json")
    src = (TESTS / "fixtures" / "mini" / "roles.csv").read_text().splitlines()
    rows = [src[0] + ",stage"] + [r + ",post_training" for r in src[1:]]
    rows.append("resident,Resident,clinical,Specialty trainee.,,PC2,2,essential,graduation")
    p = tmp_path / "roles.csv"
    p.write_text("\n".join(rows) + "\n")
    ws.load("roles-csv", Source.from_path(p), {"id": "mini-roles", "framework": "mini"})
    grad = role_readiness(ws.store, ws.ids, "mini", "resident")
    assert [(i.notation, i.required_level) for i in grad.items] == [("PC2", 2)]  # only graduation rows
    full = role_readiness(ws.store, ws.ids, "mini", "resident", stage=None)
    assert {i.notation: i.required_level for i in full.items}["PC2"] == 4
    assert role_readiness(ws.store, ws.ids, "mini", "resident", stage="post_training").summary["essential"]["required"] == 2
    p.write_text("\n".join(rows[:-1] + [rows[-1].replace("graduation", "someday")]) + "\n")
    with pytest.raises(LoadError) as e:
        ws.load("roles-csv", Source.from_path(p), {"id": "mini-roles", "framework": "mini"})
    assert e.value.column == "stage" and e.value.row == len(rows)
