"""Writes the Workspace now owns, run concurrently: curriculum edits and "accept the shown suggestions"
read and write under the store's lock, so racing writers never leave two values or overwrite a decision
that landed in between (the rule of README "Integrity under concurrency")."""
from __future__ import annotations

import pytest
from rdflib import URIRef

from ontology.read import catalog
from ontology.read import review as rq
from ontology.vocab import DCTERMS, GM
from tests.concurrency import aligned_mini, run_threads


@pytest.fixture
def ws(tmp_path):
    w = aligned_mini(tmp_path, objectives=0)
    slow_reads(w)
    return w


#: the reads a write decides on; slowed down so that, without the lock, racing writers interleave every time
#: (measured: 10 of 10 runs of 8 racing course edits leave several titles when the lock is left out)
DECIDING_READS = ("node_value_graphs", "program_alignment_states", "program_alignment_pairs", "alignment_detail")


def slow_reads(ws, delay: float = 0.02) -> None:
    import time
    original = ws.store.select

    def select(name, **bindings):
        rows = original(name, **bindings)
        if name in DECIDING_READS:
            time.sleep(delay)
        return rows
    ws.store.select = select  # instance attribute shadows the method


def _values(ws, node: URIRef, prop: URIRef) -> list:
    return [r["v"] for r in ws.store.select("node_value_graphs", n=node, p=prop)]


def test_racing_course_edits_leave_one_title_and_year(ws):
    titles = [f"Clinical Skills I, take {i}" for i in range(8)]
    run_threads([lambda t=t, i=i: ws.edit_course("mini", "MED-101", f"dr.{i}", title=t, year=1 + i % 2)
                 for i, t in enumerate(titles)])
    course = ws.ids.course("MED-101")
    [title] = _values(ws, course, DCTERMS.title)
    [year] = _values(ws, course, GM.year)
    assert title in titles and year in (1, 2)
    assert catalog.course(ws.store, "MED-101").title == title


def test_racing_level_edits_leave_one_level(ws):
    run_threads([lambda lv=lv: ws.edit_objective_level("O1", lv, f"dr.{lv}") for lv in (1, 2, 3, 4, 5) * 2])
    [level] = _values(ws, ws.ids.objective("O1"), GM.targetLevel)
    assert level in (1, 2, 3, 4, 5)
    assert catalog.objective(ws.store, ws.ids.objective("O1")).level == level


def test_accept_shown_never_overwrites_a_concurrent_reject(ws):
    pid = ws.ids.program("mini")
    shown = [a for o in rq.review_queue(ws.store, pid, status="all") for a in o.alignments if a.status == "suggested"]
    assert len(shown) >= 4
    keys = [a.id for a in shown]
    rejected = keys[::2]
    outcome: dict = {}

    def accept():
        outcome["accept"] = ws.accept_shown("mini", keys, 0.0, "dr.bulk")

    def reject(k):
        def go():
            outcome[k] = ws.decide(k, "reject", "dr.reject")
        return go
    run_threads([accept, *[reject(k) for k in rejected]])
    accepted = {d["alignment"].rsplit("/", 1)[-1] for d in outcome["accept"]["decisions"]}
    for k in keys:
        statuses = {r["status"] for r in ws.store.select("alignment_detail", alignment=ws.ids.alignment_ref(k))}
        assert len(statuses) == 1, f"{k} holds {statuses}"
        [status] = statuses
        if k in rejected:
            # the reject either came first (the bulk accept skipped it) or after (and the history chains)
            d = outcome[k]
            assert (d.previous == "suggested" and k not in accepted) or (d.previous == "accepted" and k in accepted)
            assert status.endswith("Rejected")
        else:
            assert k in accepted and status.endswith("Accepted")
