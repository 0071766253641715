"""Open Badges 3.0 export: a learner's demonstrated competencies as an Achievement alignment list."""
from __future__ import annotations

from pathlib import Path

import pytest

from ontology.ids import Ids

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini"
IDS = Ids()


@pytest.fixture
def client(app):
    from service.extensions import gapmap
    with app.app_context():
        gapmap().load_manifest(MINI / "manifest.json")
    return app.test_client()


def test_learner_alignment_list(client, auth):
    r = client.get("/api/programs/mini/learners/L1/ob3", headers=auth("committee"))
    assert r.status_code == 200 and r.mimetype == "application/ld+json"
    a = r.get_json()
    assert a["type"] == ["Achievement"] and a["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    for key in ("id", "name", "description", "criteria"):
        assert a[key]
    # L1 passed A1 (assesses PC1 directly) and A2 (assesses objective O3, accepted-aligned to PC2)
    got = {x["targetCode"]: x for x in a["alignment"]}
    assert set(got) == {"PC1", "PC2"}
    assert got["PC1"]["targetUrl"] == str(IDS.concept("mini", "PC1"))
    assert got["PC1"]["type"] == ["Alignment"] and got["PC1"]["targetType"] == "ceasn:Competency"
    assert got["PC1"]["targetFramework"] == "Mini framework"


def test_failed_learner_has_no_alignments(client, auth):
    a = client.get("/api/programs/mini/learners/L2/ob3", headers=auth("committee")).get_json()
    assert a["alignment"] == [] and "none" in a["criteria"]["narrative"]


def test_unknown_learner_404(client, auth):
    r = client.get("/api/programs/mini/learners/nobody/ob3", headers=auth("committee"))
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
