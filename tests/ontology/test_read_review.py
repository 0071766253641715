"""The typed review queue (ontology/read/review.py) on the bundled data: filters, syllabus order, pages,
ETags, and that decisions made through the Workspace show in it."""
from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import URIRef

from ontology import review
from ontology.errors import NotFound
from ontology.read import catalog
from ontology.read import review as rq
from service.config import Config
from service.workspace import Workspace
from tests.concurrency import FakeLinker

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    cfg = Config()
    cfg.STORE_PATH, cfg.CACHE_DIR = "", str(tmp_path_factory.mktemp("cache"))
    w = Workspace.from_config(cfg)
    w.load_manifest(DATA / "manifest.json")
    fake = FakeLinker(w.store, "hpc")  # deterministic, no model: what is tested is the reading
    w.linker = lambda framework: fake
    w.align("md", top_k=3, min_precision=0)
    return w


def _raw_objectives(ws, year=None):
    """The objectives of md (and year) straight from the named query, independent of the read layer."""
    return {r["oid"] for r in ws.store.select("review_queue", program=ws.ids.program("md"))
            if year is None or r["year"] == year}


def test_queue_filters_by_year_and_is_in_syllabus_order(ws):
    items = rq.review_queue(ws.store, ws.ids.program("md"), year=2, status="all")
    assert items and {o.year for o in items} == {2}
    assert {o.objective for o in items} == _raw_objectives(ws, 2)
    year2 = {c.code for c in catalog.program_courses(ws.store, "md") if c.year == 2}
    assert {o.course for o in items} <= year2
    # courses in code order, each course's objectives together
    codes = [o.course for o in items]
    assert codes == sorted(codes)
    # numbers inside ids compare as numbers ("O2" before "O10") where the document gives no position
    assert rq.natural("MED101-2") < rq.natural("MED101-10")
    for o in items:  # within an objective: suggestions first, best score first
        keys = [(a.status != "suggested", -(a.score or 0)) for a in o.alignments]
        assert keys == sorted(keys)


def test_queue_course_filter_and_status_filters(ws):
    pid = ws.ids.program("md")
    everything = rq.review_queue(ws.store, pid, status="all")
    assert {o.objective for o in everything} == _raw_objectives(ws)
    med101 = rq.review_queue(ws.store, pid, course="MED-101", status="all")
    assert med101 and {o.course for o in med101} == {"MED-101"}
    pending = rq.review_queue(ws.store, pid, status="pending")
    assert all(o.pending or o.unmapped for o in pending)
    strict = rq.review_queue(ws.store, pid, status="suggested", min_precision=0.9)
    assert all(any(a.status == "suggested" and (a.precision or 0) >= 0.9 for a in o.alignments) for o in strict)
    assert len(strict) <= len(rq.review_queue(ws.store, pid, status="suggested"))
    with pytest.raises(rq.QueueFilterError) as e:
        rq.review_queue(ws.store, pid, status="maybe")
    assert e.value.status == 400


def test_a_decision_through_the_workspace_shows_in_the_queue(ws):
    pid = ws.ids.program("md")
    o = next(o for o in rq.review_queue(ws.store, pid, course="BMS-120", status="suggested"))
    a = next(a for a in o.alignments if a.status == "suggested")
    # the queue's ETag is the alignment's current ETag
    assert a.etag == review.alignment_state(ws.store, URIRef(a.iri))["etag"] == rq.current_etag(ws.store, URIRef(a.iri))
    st = rq.alignment_state(ws.store, URIRef(a.iri))
    assert (st.status, st.objective, st.program, st.to_dict()["etag"]) == ("suggested", o.objective, "md", a.etag)
    with pytest.raises(NotFound):
        rq.alignment_state(ws.store, ws.ids.alignment_ref("0" * 16))
    assert rq.current_etag(ws.store, ws.ids.alignment_ref("0" * 16)) is None
    d = ws.decide(a.id, "accept", "dr.read", expected="suggested", if_match=a.etag)
    assert (d.previous, d.new) == ("suggested", "accepted")
    after = {x.objective: x for x in rq.review_queue(ws.store, pid, course="BMS-120", status="accepted")}
    mine = next(x for x in after[o.objective].alignments if x.id == a.id)
    assert mine.status == "accepted" and mine.etag == d.etag != a.etag
    assert o.objective not in {x.objective for x in rq.review_queue(ws.store, pid, course="BMS-120",
                                                                      status="unmapped")}
    hist = rq.alignment_history(ws.store, URIRef(a.iri))
    last = hist[-1].to_dict()
    assert (last["user"], last["previous"], last["new"]) == ("dr.read", "suggested", "accepted")


def test_queue_pages_partition_the_queue(ws):
    items = rq.review_queue(ws.store, ws.ids.program("md"), status="all")
    pages = [rq.queue_page(items, n, 100) for n in range(1, 6)]
    assert pages[0].pages == -(-len(items) // 100) and pages[0].total == len(items)
    seen = [o.objective for p in pages[:pages[0].pages] for o in p.items]
    assert seen == [o.objective for o in items]
    assert rq.queue_page(items, 999, 100).page == pages[0].pages  # clamped to the last page
    assert rq.queue_page([], 1, 100).pages == 1


def test_rows_are_frozen_and_serialise(ws):
    o = rq.review_queue(ws.store, ws.ids.program("md"), status="all")[0]
    with pytest.raises(AttributeError):
        o.text = "changed"  # type: ignore[misc]
    d = o.to_dict()
    assert set(d) >= {"objective", "text", "course", "course_title", "year", "alignments"}
    if d["alignments"]:
        assert set(d["alignments"][0]) >= {"etag", "id", "iri", "competency", "status", "method", "query_span"}
    assert rq.segments("abcdef", (1, 3)) == [("a", False), ("bc", True), ("def", False)]
    assert rq.segments("abc", (5, 9)) == [("abc", False)]
