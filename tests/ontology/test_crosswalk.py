"""Framework crosswalk: suggestions by the engine, SKOS-relation review with PROV, gap report via a crosswalk."""
from __future__ import annotations

from pathlib import Path

import pytest

from loaders import Source
from ontology.crosswalk import (CrosswalkError, decide, gap_report_via, graph_name, mappings, precision_recall,
                                reviews_graph, run_crosswalk)
from ontology.errors import NotFound
from ontology.gaps import gap_report
from ontology.vocab import GM, PROV, SKOS
from service.config import Config
from service.workspace import Workspace

TESTS = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    cfg = Config()
    cfg.STORE_PATH = ""
    cfg.CACHE_DIR = str(tmp_path_factory.mktemp("cache"))
    ws = Workspace.from_config(cfg)
    ws.load_manifest(TESTS / "fixtures" / "mini" / "manifest.json")
    ws.load("framework-csv", Source.from_path(TESTS / "fixtures" / "crosswalk" / "framework-b.csv"),
            {"id": "xb", "title": "Framework B", "version": "1"})
    run_crosswalk(ws.store, ws.ids, "mini", "xb", ws.linker("xb"), top_k=2)
    return ws


def _m(ws, src, tgt):
    return next(m for m in mappings(ws.store, ws.ids, "mini", "xb") if (m.source_notation, m.target_notation) == (src, tgt))


def test_suggestions_rank_the_right_counterpart_first(ws):
    ms = mappings(ws.store, ws.ids, "mini", "xb")
    top = {m.source_notation: m.target_notation for m in ms if m.rank == 1}
    assert top["PC1"] == "X1" and top["PC2"] == "X2" and top["CM2"] == "X3" and top["CM1"] == "X4"
    assert all(m.status == "suggested" and m.relation in ("close", "exact") for m in ms)
    assert len(ms) == 12  # 6 source competencies x top 2
    assert _m(ws, "PC1", "X1").precision > _m(ws, "PC1", "X2").precision


def test_review_gap_report_via_and_rerun(ws):
    s, i = ws.store, ws.ids
    for src, tgt, rel in (("PC1", "X1", "close"), ("PC2", "X2", "exact"), ("CM2", "X3", "close")):
        d = decide(s, i, "mini", "xb", _m(ws, src, tgt).id, "accept", "dr.b", relation=rel)
        assert d["status"] == "accepted" and d["relation"] == rel and d["user"] == "dr.b"
    decide(s, i, "mini", "xb", _m(ws, "CM1", "X4").id, "reject", "dr.b")
    g = s.graph(graph_name(i, "mini", "xb"))
    pc1, x1 = i.concept("mini", "PC1"), i.concept("xb", "X1")
    assert (pc1, SKOS.closeMatch, x1) in g  # plain SKOS for SPARQL users
    rg = s.graph(reviews_graph(i, "mini", "xb"))
    assert len(set(rg.subjects(PROV.used, None))) == 4 and (None, GM.newStatus, GM.Rejected) in rg

    rep = gap_report_via(s, i, "mini", "xb", via="mini")
    st = {e.notation: e.status for e in rep.entries}
    direct = {e.notation: e.status for e in gap_report(s, i, "mini", "mini").entries}
    assert st["X1"] == direct["PC1"] and st["X2"] == direct["PC2"] and st["X3"] == direct["CM2"]
    assert st["X4"] == "not_taught" and st["X5"] == "not_taught"  # the rejected mapping does not count
    assert rep.summary["via"] == "mini" and rep.summary["mapped_competencies"] == 3
    # a related match does not carry teaching over
    decide(s, i, "mini", "xb", _m(ws, "CM2", "X3").id, "accept", "dr.b", relation="related")
    assert {e.notation: e.status for e in gap_report_via(s, i, "mini", "xb", via="mini").entries}["X3"] == "not_taught"
    assert (i.concept("mini", "CM2"), SKOS.closeMatch, i.concept("xb", "X3")) not in s.graph(graph_name(i, "mini", "xb"))

    # re-running keeps decisions and the SKOS triples, replaces only suggestions
    res = run_crosswalk(s, i, "mini", "xb", ws.linker("xb"), top_k=2)
    assert res.kept_decisions == 4 and res.suggestions == 8
    assert _m(ws, "PC2", "X2").status == "accepted" and _m(ws, "PC2", "X2").relation == "exact"
    assert (i.concept("mini", "PC2"), SKOS.exactMatch, i.concept("xb", "X2")) in s.graph(graph_name(i, "mini", "xb"))


def test_errors(ws):
    s, i = ws.store, ws.ids
    with pytest.raises(NotFound):
        run_crosswalk(s, i, "mini", "nope", ws.linker("xb"))
    with pytest.raises(CrosswalkError):
        run_crosswalk(s, i, "mini", "mini", ws.linker("xb"))
    with pytest.raises(CrosswalkError):
        run_crosswalk(s, i, "mini> <x", "xb", ws.linker("xb"))
    m = _m(ws, "PC3", "X2").id
    with pytest.raises(CrosswalkError) as e:
        decide(s, i, "mini", "xb", m, "accept", "dr.b", relation="sibling")
    assert e.value.details["field"] == "relation"
    with pytest.raises(NotFound):
        decide(s, i, "mini", "xb", "0" * 16, "accept", "dr.b")
    with pytest.raises(NotFound):
        decide(s, i, "mini", "xb", "../../etc", "accept", "dr.b")
    with pytest.raises(NotFound):
        gap_report_via(s, i, "mini", "xb", via="nothing")


def test_precision_recall():
    pr = precision_recall({"a": ["x", "y"], "b": ["z", "w"], "c": []}, {"a": {"x"}, "b": {"w", "v"}}, ks=(1, 2))
    assert pr["sources"] == 2 and pr["gold_pairs"] == 3
    assert pr["P@1"] == 0.5 and pr["R@1"] == round(1 / 3, 4) and pr["R@2"] == round(2 / 3, 4)
    assert pr["hit@2"] == 1.0 and pr["MRR"] == 0.75
