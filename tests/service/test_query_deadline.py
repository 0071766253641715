"""Issue 8: every query of the read layer has a deadline (on-disk stores: worker processes)."""
from __future__ import annotations

import time

import pytest

import ontology.store as store_mod
from ontology.errors import QueryTimeout
from service.app import create_app
from service.extensions import gapmap

from .conftest import BULK_G, bulk_graph

SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }"


@pytest.fixture
def disk_app(tmp_path):
    app = create_app({"TESTING": True, "STORE_PATH": str(tmp_path / "store"), "CACHE_DIR": str(tmp_path / "c"),
                      "QUERY_DEADLINE": 1.0})
    with app.app_context():
        gapmap().store.replace_graphs({BULK_G: bulk_graph(3000)})
    yield app
    app.extensions["gapmap_reads"].close()


def test_named_queries_run_in_workers_with_the_same_rows(disk_app):
    with disk_app.app_context():
        store = gapmap().store
        assert store.read_executor is not None
        via_workers = store.select("frameworks")
        store.read_executor, saved = None, store.read_executor
        try:
            in_process = store.select("frameworks")
        finally:
            store.read_executor = saved
    assert via_workers == in_process
    assert disk_app.extensions["gapmap_reads"].stats["selects"] >= 1


def test_a_runaway_named_query_is_stopped_and_the_app_keeps_answering(disk_app, monkeypatch):
    from tests.conftest import signed_client
    real = store_mod.load_query
    monkeypatch.setattr(store_mod, "load_query", lambda name: SLOW if name == "programs" else real(name))
    client = signed_client(disk_app, "viewer")
    with disk_app.app_context():
        t0 = time.monotonic()
        with pytest.raises(QueryTimeout):
            gapmap().store.select("programs")
        assert time.monotonic() - t0 < 6
    resp = client.get("/api/programs")
    assert resp.status_code == 503 and "QUERY_DEADLINE" in resp.get_json()["detail"]
    assert client.get("/api/frameworks").status_code == 200  # other reads are fine


def test_in_memory_stores_stay_in_process(tmp_path):
    app = create_app({"TESTING": True, "STORE_PATH": "", "CACHE_DIR": str(tmp_path / "c")})
    with app.app_context():
        assert gapmap().store.read_executor is None
        assert gapmap().store.select("frameworks") == []
