"""The per-program index patched from the store's journal after a write (ontology/journal.py), instead of
read again: after every kind of review decision, from racing threads, and falling back to a full read when
the journal cannot say what changed."""
from __future__ import annotations

import random
import threading
import time

import pytest
from rdflib import Graph, Literal, URIRef

from loaders import Source
from ontology import review
from ontology.gaps import gap_report, index_cache, program_index
from ontology.journal import patch_rows, query_deps, unaffected
from ontology.vocab import GM, RDF
from tests.concurrency import aligned_mini, big_curriculum, run_threads

VARIANTS = [{}, {"include_suggestions": 0.0}, {"include_suggestions": 0.5}, {"year": 1},
            {"role": "resident", "stage": None}]


@pytest.fixture
def ws(tmp_path):
    return aligned_mini(tmp_path)


def same_as_full(ws, variants=VARIANTS):
    for v in variants:
        assert gap_report(ws.store, ws.ids, "mini", "mini", **v).to_dict() == \
            gap_report(ws.store, ws.ids, "mini", "mini", use_index=False, **v).to_dict(), v


def alignments(ws) -> list[dict]:
    rows = ws.store.select("program_alignment_states", program=ws.ids.program("mini"))
    return sorted({r["alignment"]: r for r in rows if URIRef(r["method"]) != GM.CuratorMethod}.values(),
                  key=lambda r: r["alignment"])


def test_query_dependencies_are_read_from_the_queries():
    teaching = query_deps("program_teaching")
    assert teaching.row_local and not teaching.any_pred
    assert teaching.preds[str(GM.status)] == {"alignment"} and teaching.preds[str(GM.targetLevel)] == {"objective"}
    assert teaching.preds["http://www.w3.org/2004/02/skos/core#notation"] == {"course", "objective"}
    assert query_deps("program_index_assessing_objective").row_local
    assert not query_deps("program_assessing_objective").row_local  # DISTINCT: rows cannot be patched
    fw = query_deps("framework_competencies")
    assert not fw.row_local and fw.types == {str(GM.Competency), str(GM.Framework), str(GM.Domain)}
    assert fw.preds["http://www.w3.org/2004/02/skos/core#broader"] is None  # also inside skos:broader+
    # a decision's triples (status, PROV) cannot change the framework's competencies; a new competency can
    decision = [frozenset({("urn:a", str(GM.status), None), ("urn:d", str(RDF.type), str(GM.ReviewDecision))})]
    assert unaffected("framework_competencies", decision)
    assert not unaffected("framework_competencies", [frozenset({("urn:c", str(RDF.type), str(GM.Competency))})])
    assert not unaffected("framework_competencies", [frozenset({("urn:c", str(GM.status), None)}),
                                                     frozenset({("urn:c", "http://www.w3.org/2004/02/skos/core#broader",
                                                                 None)})])


def test_embedded_journal_says_what_each_write_changed(ws):
    st = ws.store
    g0 = st.generation
    a = URIRef(alignments(ws)[0]["alignment"])
    review.decide(st, ws.ids, a, "accept", "ann")
    changes = st.changes_between(g0, st.generation)
    assert len(changes) == 1 and (str(a), str(GM.status), None) in changes[0]
    assert st.changes_between(st.generation, st.generation) == []
    assert st.changes_between(st.generation, g0) is None  # backwards
    with st.transaction():  # one write, one entry, both quads
        st.apply([], [(URIRef("urn:x"), GM.status, GM.Accepted, URIRef("urn:g"))])
        st.apply([], [(URIRef("urn:y"), RDF.type, GM.Alignment, URIRef("urn:g"))])
    (last,) = st.changes_between(st.generation - 1, st.generation)
    assert {("urn:x", str(GM.status), None), ("urn:y", str(RDF.type), str(GM.Alignment))} <= last
    g1 = st.generation
    st.replace_graphs({URIRef("urn:g"): Graph()})  # a dropped graph: what went is not known
    assert st.changes_between(g1, st.generation) is None and st.changes_between(g0, st.generation) is None
    snap = st.snapshot()
    try:
        assert snap.changes_between(g0, g1) is None
    finally:
        snap.close()


def test_after_each_random_decision_the_patched_index_gives_the_full_report(ws):
    """Accept, reject, reset, replace, add and mark-assessed across objectives, in random order: after each,
    the report from the patched index is the report computed from the store, and the index was patched
    (not read again)."""
    st, ids = ws.store, ws.ids
    rnd = random.Random(7)
    same_as_full(ws)
    objectives = sorted({r["oid"] for r in st.select("program_objectives", program=ids.program("mini"))})
    assessments = sorted(r["aid"] for r in st.select("program_assessments", program=ids.program("mini")))
    comps = [r["comp"] for r in st.select("framework_competencies", fw=Literal("mini"))]
    cache = index_cache(st)
    kinds = []
    for _ in range(45):
        rows = alignments(ws)
        kind = rnd.choice(["accept", "reject", "reset", "accept", "reject", "replace", "add", "assessed", "drop"])
        a = rnd.choice(rows)
        patched = cache.patched
        if kind in ("accept", "reject", "reset"):
            review.decide(st, ids, URIRef(a["alignment"]), kind, "ann")
        elif kind == "replace":
            row = next(r for r in st.select("program_teaching", program=ids.program("mini"))
                       if r["alignment"] == a["alignment"])
            other = next(c for c in rnd.sample(comps, len(comps)) if c != row["comp"])
            oid = row["oid"]
            review.add_manual(st, ids, oid, URIRef(other), "ann", replaces=URIRef(a["alignment"]))
        elif kind == "add":
            review.add_manual(st, ids, rnd.choice(objectives), URIRef(rnd.choice(comps)), "ann")
        elif kind == "assessed":
            review.mark_assessed(st, ids, rnd.choice(objectives), rnd.choice(assessments), "ann")
        else:  # a write that only deletes: the alignment goes (as an undone manual one would)
            g = URIRef(a["g"])
            st.apply(delete=[(s, p, o, g) for s, p, o in st.graph(g, subjects=[URIRef(a["alignment"])])], insert=[])
        kinds.append(kind)
        same_as_full(ws)
        assert cache.patched > patched, kind  # the indexes (and the framework's rows) were patched, not re-read
    assert {"accept", "reject", "replace", "add", "assessed", "drop"} <= set(kinds)


def test_a_journal_gap_or_an_unknown_write_reads_the_index_again(ws, tmp_path):
    st, ids = ws.store, ws.ids
    same_as_full(ws)
    cache = index_cache(st)
    a = alignments(ws)
    review.decide(st, ids, URIRef(a[0]["alignment"]), "accept", "ann")
    with st._journal_lock:  # the journal lost that write (as when it outgrows JOURNAL_SIZE)
        st._journal.clear()
    patched = cache.patched
    same_as_full(ws)
    assert cache.patched == patched  # nothing patched: read again
    # a write of unknown kind (a dropped graph) between two decisions: read again too
    review.decide(st, ids, URIRef(a[1]["alignment"]), "reject", "ann")
    st.replace_graphs({ids.graph("matches", "nobody"): Graph()})
    st.replace_graphs({ids.graph("matches", "x"): Graph().add((URIRef("urn:s"), RDF.type, GM.Alignment))})
    st.replace_graphs({ids.graph("matches", "x"): Graph()})
    patched = cache.patched
    same_as_full(ws)
    assert cache.patched == patched
    # a reload of the curriculum (a replaced graph: not journalled) is seen
    before = program_index(st, ids, "mini")
    ws.load("curriculum-csv", Source.from_path(big_curriculum(tmp_path / "c2.csv", 12)), {"framework": "mini"},
            keep_report=False)
    assert program_index(st, ids, "mini") is not before
    same_as_full(ws)


def test_patch_rows_reads_only_the_changed_subjects(ws):
    st, ids = ws.store, ws.ids
    pid = ids.program("mini")
    rows = tuple(st.select("program_teaching", program=pid))
    a = URIRef(alignments(ws)[0]["alignment"])
    g0 = st.generation
    review.decide(st, ids, a, "reject", "ann")
    asked = []
    real = type(st).select

    def spy(self, name, **kw):
        asked.append((name, {k: str(v) for k, v in kw.items()}))
        return real(self, name, **kw)
    type(st).select = spy
    try:
        out = patch_rows(st, "program_teaching", {"program": pid}, rows, st.changes_between(g0, st.generation))
    finally:
        type(st).select = real
    # the alignment, and the decision (it has a gm:score, a predicate of the query: it could be an alignment)
    assert ("program_teaching", {"program": str(pid), "alignment": str(a)}) in asked and len(asked) == 2
    assert all(set(kw) == {"program", "alignment"} for _, kw in asked)
    full = st.select("program_teaching", program=pid)
    key = lambda r: sorted((k, str(v)) for k, v in r.items())  # noqa: E731
    assert sorted(map(key, out)) == sorted(map(key, full))


def test_concurrent_decisions_and_racing_readers_never_serve_an_index_behind_its_generation(ws):
    """Writers decide from several threads while readers build (and patch) indexes at whatever generation
    they see; a checker holding the write lock (no write can land) compares the index's report with the
    store's, again and again."""
    st, ids = ws.store, ws.ids
    rows = alignments(ws)
    stop, written = threading.Event(), threading.Event()
    mismatches, checks = [], []

    def writer(seed):
        def run():
            rnd = random.Random(seed)
            for i in range(20):
                a = rnd.choice(rows)
                review.decide(st, ids, URIRef(a["alignment"]), rnd.choice(["accept", "reject", "reset"]), f"w{seed}")
                time.sleep(0.002)  # let readers and the checker in between decisions
                if i % 5 == 4:  # and make sure a check lands mid-run (on a loaded machine timing alone did not)
                    seen, until = len(checks), time.monotonic() + 30
                    while len(checks) == seen and time.monotonic() < until:
                        time.sleep(0.005)
        return run

    def reader():
        while not stop.is_set():
            gap_report(st, ids, "mini", "mini")
            gap_report(st, ids, "mini", "mini", include_suggestions=0.0)
            time.sleep(0.001)

    def check():
        with st.locked():
            for v in ({}, {"include_suggestions": 0.0}):
                got = gap_report(st, ids, "mini", "mini", **v).to_dict()
                if got != gap_report(st, ids, "mini", "mini", use_index=False, **v).to_dict():
                    mismatches.append((st.generation, v))
        checks.append(not written.is_set())  # True: taken while writers were still deciding

    def checker():
        while not written.is_set():
            check()
            time.sleep(0.03)  # the lock is not fair: leave the writers room
        check()
        stop.set()

    def writers():
        try:
            run_threads([writer(s) for s in range(3)], timeout=120)
        finally:
            written.set()

    run_threads([writers, reader, reader, checker], timeout=180)
    assert not mismatches and sum(checks) >= 4  # checks between decisions, not only after the last one
    same_as_full(ws)
    assert index_cache(st).patched > 0
