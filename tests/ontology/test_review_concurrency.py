"""Review decisions under concurrency: never contradictory, never lost (issue 8, cases 1, 2 and 6).

Writers hammer one in-memory workspace from many threads at once (behind a barrier); afterwards
every alignment must hold exactly one status, and every acknowledged decision must be either the
final state or followed, in the alignment's history, by later decisions that chain from it.
"""
from __future__ import annotations

from collections import defaultdict

import pytest
from rdflib import URIRef

from ontology import review
from ontology.vocab import GM
from tests.concurrency import aligned_mini, run_threads, use_fake_linker


@pytest.fixture
def ws(tmp_path):
    return aligned_mini(tmp_path)


def statuses(ws) -> dict[str, set[str]]:
    """Every alignment of the program with the set of statuses it holds (one, if all is well)."""
    out = defaultdict(set)
    for r in ws.store.select("program_alignment_states", program=ws.ids.program("mini")):
        if URIRef(r["method"]) != GM.CuratorMethod:
            out[r["alignment"]].add(review._short(r["status"]))
    return out


def suggested(ws) -> list[str]:
    return sorted(a for a, s in statuses(ws).items() if s == {"suggested"})


def assert_consistent(ws, acknowledged: list[review.Decision]):
    """One status per alignment; history is one chain from 'suggested' to the final status; and every
    acknowledged decision is in that chain."""
    state = statuses(ws)
    contradictory = [a for a, s in state.items() if len(s) != 1]
    assert not contradictory, f"{len(contradictory)} alignments hold several statuses"
    by_alignment = defaultdict(list)
    for d in acknowledged:
        by_alignment[d.alignment].append(d)
    for a, decisions in by_alignment.items():
        hist = review.history(ws.store, URIRef(a))
        chain, current, left = [], "suggested", list(hist)
        while left:  # order by chaining previous → new (timestamps can tie within a millisecond)
            nxt = next((h for h in left if h["previous"] == current), None)
            assert nxt is not None, f"history of {a} does not chain: {[(h['previous'], h['new']) for h in hist]}"
            left.remove(nxt)
            chain.append(nxt)
            current = nxt["new"]
        assert state[a] == {current}, f"{a}: final status {state[a]} but history ends at {current}"
        for d in decisions:
            assert any(h["user"] == d.user and h["new"] == d.new and h["previous"] == d.previous
                       for h in chain), f"acknowledged {d} lost"


def test_concurrent_accept_and_reject_pairs_leave_one_status(ws):
    targets = suggested(ws)[:100]
    assert len(targets) == 100
    acked: list[review.Decision] = []

    def decide(a, decision, user):
        def go():
            acked.append(review.decide(ws.store, ws.ids, URIRef(a), decision, user))
        return go
    run_threads([decide(a, d, f"{d}-{i}") for i, a in enumerate(targets) for d in ("accept", "reject")])
    assert len(acked) == 200
    assert_consistent(ws, acked)


def test_expected_status_makes_the_second_of_a_pair_a_conflict(ws):
    from ontology.errors import Conflict
    targets = suggested(ws)[:50]
    acked, conflicts = [], []

    def decide(a, decision, user):
        def go():
            try:
                acked.append(review.decide(ws.store, ws.ids, URIRef(a), decision, user, expected="suggested"))
            except Conflict as e:
                assert e.details["field"] == "expected_status"
                conflicts.append(a)
        return go
    run_threads([decide(a, d, f"{d}-{i}") for i, a in enumerate(targets) for d in ("accept", "reject")])
    assert len(acked) == 50 and sorted(conflicts) == sorted(targets)  # exactly one of each pair won
    assert_consistent(ws, acked)


def test_alignment_run_overlapping_review_loses_no_decision(ws):
    fake = use_fake_linker(ws, delay=1.5)
    targets = suggested(ws)[:20]
    acked = []

    def align():
        ws.align("mini", top_k=3, min_precision=0)

    def review_while_ranking():
        assert fake.started.wait(10)
        for i, a in enumerate(targets):
            acked.append(review.decide(ws.store, ws.ids, URIRef(a), "accept" if i % 2 else "reject", "dr.adams"))
    run_threads([align, review_while_ranking])
    state = statuses(ws)
    lost = [d for d in acked if state.get(d.alignment) != {d.new}]
    assert len(acked) == 20 and lost == [], f"{len(lost)} of 20 acknowledged decisions lost"
    assert_consistent(ws, acked)


def test_bulk_accept_never_overwrites_a_concurrent_reject(ws):
    targets = suggested(ws)
    rejects = targets[::3][:30]
    acked, bulk = [], []

    def reject(a, i):
        def go():
            acked.append(review.decide(ws.store, ws.ids, URIRef(a), "reject", f"rej-{i}"))
        return go

    def accept_all():
        bulk.extend(review.bulk_accept(ws.store, ws.ids, "mini", 0.0, "dr.bulk"))
    run_threads([accept_all] + [reject(a, i) for i, a in enumerate(rejects)])
    state = statuses(ws)
    assert all(state[a] == {"rejected"} for a in rejects), "a bulk accept overwrote an acknowledged reject"
    assert all(d.previous == "suggested" for d in bulk)
    # everything else that was suggested is now accepted, and only those
    assert {a for a, s in state.items() if s == {"accepted"}} == set(targets) - set(rejects)
    assert_consistent(ws, acked + bulk)
