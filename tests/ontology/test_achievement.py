"""Cohort achievement per competency from assessment results."""
from __future__ import annotations

from pathlib import Path

import pytest

from ontology.achievement import cohort_achievement
from ontology.errors import NotFound
from service.config import Config
from service.workspace import Workspace

TESTS = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ws():
    cfg = Config()
    cfg.STORE_PATH = ""
    w = Workspace.from_config(cfg)
    w.load_manifest(TESTS / "fixtures" / "mini" / "manifest.json")
    return w


def test_pass_rates_per_competency(ws):
    a = cohort_achievement(ws.store, ws.ids, "mini", "mini", min_group=1)  # no suppression
    got = {(c.notation, c.cohort): (c.learners, c.pass_rate, c.mean_score) for c in a.competencies}
    # A1 (PC1): L1 0.8 pass, L2 0.4 fail; A2 assesses objective O3, aligned to PC2: L1 0.9 pass
    assert got == {("PC1", "2026"): (2, 0.5, 0.6), ("PC2", "2026"): (1, 1.0, 0.9)}
    assert a.no_results == ("PC3",)  # assessed by A3, which has no results


def test_small_groups_are_suppressed_and_not_differenced(ws):
    # A1 has 2 learners in 2026, A2 one: with min_group=2 only A1 (PC1) is reported
    a = cohort_achievement(ws.store, ws.ids, "mini", "mini", min_group=2)
    got = {(c.notation, c.cohort): (c.learners, c.pass_rate, c.mean_score) for c in a.competencies}
    assert got == {("PC1", "2026"): (2, 0.5, 0.6)}
    assert a.suppressed == (("PC2", "2026"),)
    assert all(o.learners >= 2 for c in a.competencies for o in c.assessments)
    # the default (5) suppresses everything in the mini fixtures, and says so
    d = cohort_achievement(ws.store, ws.ids, "mini", "mini")
    assert d.competencies == () and set(d.suppressed) == {("PC1", "2026"), ("PC2", "2026")}
    assert d.to_dict()["min_group"] == 5


def test_unknown_cohort(ws):
    with pytest.raises(NotFound):
        cohort_achievement(ws.store, ws.ids, "mini", "mini", cohort="1999")


def test_bundled_low_pass_rates_point_at_the_planted_level_gaps():
    cfg = Config()
    cfg.STORE_PATH = ""
    w = Workspace.from_config(cfg)
    w.load_manifest(TESTS.parent / "data" / "manifest.json")
    a = cohort_achievement(w.store, w.ids, "md", "hpc", cohort="2026")
    worst = sorted(a.competencies, key=lambda c: c.pass_rate)[0]
    assert worst.notation == "CS7" and worst.pass_rate < 0.5
