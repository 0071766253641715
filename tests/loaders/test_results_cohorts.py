"""Results are kept per program AND cohort: loading one cohort never deletes another (finding #2), and
cohort achievement counts distinct learners (finding #3)."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from rdflib import Graph

from loaders import Context, Source, get
from ontology.achievement import cohort_achievement
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


def _results(tmp_path, name, rows) -> Source:
    p = tmp_path / name
    p.write_text("assessment_id,learner_id,cohort,score,passed\n" + "".join(f"{r}\n" for r in rows))
    return Source.from_path(p)


def _cohorts(ws) -> set[str]:
    return {r["cohort"] for r in ws.store.select("cohort_results", program=ws.ids.program("mini"))}


def test_loading_a_new_cohort_keeps_the_others(ws, tmp_path):
    assert _cohorts(ws) == {"2026"}
    ws.load("results-csv", _results(tmp_path, "r2030.csv", [f"A1,N{i},2030,0.7,true" for i in range(6)]),
            {"program": "mini"})
    assert _cohorts(ws) == {"2026", "2030"}
    # reloading 2030 replaces 2030 only (now 3 learners), 2026 untouched
    ws.load("results-csv", _results(tmp_path, "r2030b.csv", [f"A1,N{i},2030,0.7,true" for i in range(3)]),
            {"program": "mini"})
    rows = {r["cohort"]: int(r["learners"]) for r in ws.store.select("cohort_results", program=ws.ids.program("mini"))
            if r["aid"] == "A1"}
    assert rows == {"2026": 2, "2030": 3}


def test_concurrent_loads_of_two_cohorts_both_survive(ws, tmp_path):
    a = _results(tmp_path, "a.csv", [f"A1,X{i},2031,0.5,true" for i in range(50)])
    b = _results(tmp_path, "b.csv", [f"A1,Y{i},2032,0.5,true" for i in range(50)])
    errors = []

    def run(src):
        try:
            ws.load("results-csv", src, {"program": "mini"})
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)
    threads = [threading.Thread(target=run, args=(s,)) for s in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert _cohorts(ws) == {"2026", "2031", "2032"}


def test_results_loaded_into_the_old_program_graph_are_split_not_lost(ws, tmp_path):
    """Stores written before graphs were per cohort hold one graph per program: a new load keeps its
    other cohorts (moved to their own graphs) and replaces the loaded cohort."""
    old = ws.ids.graph("results", "mini")
    src = _results(tmp_path, "old.csv", ["A1,L1,2026,0.8,true", "A1,L2,2026,0.4,false", "A1,L3,2027,0.9,true"])
    delta = get("results-csv").load(src, Context(ids=ws.ids, store=ws.store, options={"program": "mini"}))
    legacy = Graph()
    for g in delta.graphs.values():
        legacy += g
    drop = {n: Graph() for n in ws.store.graph_names() if "/graph/results/" in n}
    ws.store.replace_graphs({**drop, old: legacy})
    assert _cohorts(ws) == {"2026", "2027"}
    ws.load("results-csv", _results(tmp_path, "new.csv", ["A1,L9,2027,0.1,false"]), {"program": "mini"})
    assert str(old) not in ws.store.graph_names()
    rows = {r["cohort"]: int(r["learners"]) for r in ws.store.select("cohort_results", program=ws.ids.program("mini"))
            if r["aid"] == "A1"}
    assert rows == {"2026": 2, "2027": 1}


def test_achievement_counts_distinct_learners(ws, tmp_path):
    text = (MINI / "assessments.csv").read_text() + "A4,mini,MED-101,written_exam,History quiz,PC1,,1\n"
    p = tmp_path / "assessments.csv"
    p.write_text(text)
    ws.load("assessments-csv", Source.from_path(p), {"framework": "mini"})
    rows = [f"{a},P{i},2027,0.{5 + i % 4},{'true' if i % 3 else 'false'}" for i in range(6) for a in ("A1", "A4")]
    ws.load("results-csv", _results(tmp_path, "r2027.csv", rows), {"program": "mini"})
    a = cohort_achievement(ws.store, ws.ids, "mini", "mini", cohort="2027", min_group=5)
    pc1 = next(c for c in a.competencies if c.notation == "PC1")
    assert pc1.learners == 6  # six people, each sat A1 and A4
    assert pc1.results == 12
    assert [o.learners for o in pc1.assessments] == [6, 6]
    # suppression is by learners: 4 people sitting two assessments (8 results) stay under a group of 5
    small = [f"{a},Q{i},2028,0.5,true" for i in range(4) for a in ("A1", "A4")]
    ws.load("results-csv", _results(tmp_path, "r2028.csv", small), {"program": "mini"})
    b = cohort_achievement(ws.store, ws.ids, "mini", "mini", cohort="2028", min_group=5)
    assert b.competencies == () and ("PC1", "2028") in b.suppressed


# Finding #30: one length rule (loaders.safety.max_length) for every table a loader reads -------------

def test_overlong_cells_are_a_422_naming_row_and_column(tmp_path):
    cfg = Config()
    cfg.STORE_PATH = ""
    w = Workspace.from_config(cfg)
    from ontology.errors import LoadError
    people = tmp_path / "people.csv"
    people.write_text("person_id,name,kind,department,track\np1,Ann,clinician,ICU,clinical\n"
                      f"p2,{'x' * 100_000},clinician,ICU,clinical\n")
    with pytest.raises(LoadError) as e:
        w.load("people-csv", Source.from_path(people))
    assert (e.value.file, e.value.row, e.value.column) == ("people.csv", 3, "name")
    assert "100,000 characters long; at most 200" in e.value.message
    w.load("framework-csv", Source.from_path(MINI / "framework.csv"), {"id": "mini", "title": "Mini", "version": "1"})
    text = (MINI / "curriculum.csv").read_text().splitlines()
    text[2] = text[2].replace("Auscultate the heart", "Auscultate " + "the heart " * 600)
    cur = tmp_path / "curriculum.csv"
    cur.write_text("\n".join(text) + "\n")
    with pytest.raises(LoadError) as e:
        w.load("curriculum-csv", Source.from_path(cur), {"framework": "mini"})
    assert (e.value.row, e.value.column) == (3, "objective_text") and "at most 5,000" in e.value.message
    fw = tmp_path / "fw.csv"
    fw.write_text("id,type,label\nD1,domain,Domain\nC1,competency," + "L" * 501 + "\n")
    with pytest.raises(LoadError) as e:
        w.load("framework-csv", Source.from_path(fw), {"id": "fw", "title": "F"})
    assert (e.value.row, e.value.column) == (3, "label") and "at most 500" in e.value.message
