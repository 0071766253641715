"""SparqlEngine without Flask: query checks, the fork and worker-pool executors (negotiation: tests/service/test_negotiation.py)."""
from __future__ import annotations

import json
import os
import threading
import time

import pytest
from rdflib import Graph, Literal, Namespace, URIRef

from ontology.errors import QueryError, QueryTimeout
from ontology.sparql import SparqlEngine, inspect_query
from ontology.store import open_store

EX = Namespace("https://example.edu/t/")
G1 = URIRef("urn:test:g1")
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }"


def graph(n: int, start: int = 0) -> Graph:
    g = Graph()
    for i in range(start, start + n):
        g.add((EX[f"s{i}"], EX.value, Literal(i)))
    return g


def count(engine) -> int:
    return int(json.loads(engine.run(COUNT).body)["results"]["bindings"][0]["n"]["value"])


@pytest.fixture
def mem_engine():
    store = open_store(None)
    store.replace_graphs({G1: graph(3)})
    with SparqlEngine(store, timeout=1.0) as eng:
        yield eng


@pytest.fixture
def disk_engine(tmp_path):
    store = open_store(tmp_path / "store")
    store.replace_graphs({G1: graph(3)})
    with SparqlEngine(store, timeout=1.0) as eng:
        yield eng


# ------------------------------------------------------------------ inspection
@pytest.mark.parametrize("query,form", [
    ("SELECT * WHERE { ?s ?p ?o }", "SELECT"),
    ("PREFIX select: <urn:x:>\n# CONSTRUCT in a comment\nask { ?s select:p ?o }", "ASK"),
    ("BASE <http://x/> PREFIX : <urn:y:> CONSTRUCT WHERE { ?s ?p ?o }", "CONSTRUCT"),
    ("describe <urn:a>", "DESCRIBE"),
    ("CONSTRUCT { ?s ?p ?o } WHERE { SELECT * { ?s ?p ?o } }", "CONSTRUCT"),
    ("not sparql at all", None),
])
def test_forms(query, form):
    assert inspect_query(query).form == form


@pytest.mark.parametrize("query", [
    "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
    "  # comment\nPREFIX ex: <urn:x:> DELETE { ?s ?p ?o } WHERE { ?s ex:p ?o }",
    "WITH <urn:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "LOAD <http://example.org/x.ttl>", "CLEAR ALL", "DROP GRAPH <urn:g>", "CREATE GRAPH <urn:g>",
    "ADD <urn:a> TO <urn:b>", "MOVE DEFAULT TO <urn:b>", "COPY <urn:a> TO <urn:b>",
])
def test_updates_refused(query):
    with pytest.raises(QueryError, match="read-only"):
        inspect_query(query)


@pytest.mark.parametrize("query", [
    "SELECT * { SERVICE <http://x/sparql> { ?s ?p ?o } }",
    "SELECT * { ?a ?b ?c .SERVICE<http://x/sparql>{ ?s ?p ?o } }",
    "PREFIX : <http://x/> SELECT * { SERVICE:sparql { ?s ?p ?o } }",
    "SELECT * { service silent ?endpoint { ?s ?p ?o } }",
    "SELECT * { \\u0053ERVICE <http://x/sparql> { ?s ?p ?o } }",
    "SELECT * { ?s ?p 'a' SERVICE <http://x/sparql> { ?s ?p ?o } }",
])
def test_service_refused(query):
    with pytest.raises(QueryError, match="SERVICE"):
        inspect_query(query)


@pytest.mark.parametrize("query", [
    "SELECT ?service WHERE { ?service a schema:Service ; <urn:service> $service }",
    "SELECT * WHERE { ?s ?p \"SERVICE <http://x> { }\" } # SERVICE <http://x> {}",
    "SELECT * WHERE { ?s ?p '''\nSERVICE <http://x> {}\n''' }",
    "PREFIX ex: <urn:x:> SELECT * WHERE { ?s ex:self-service ?o }",
])
def test_keywords_inside_names_strings_comments_are_fine(query):
    assert inspect_query(query).form == "SELECT"


def test_from_detected_and_empty_query_refused():
    assert inspect_query("SELECT * FROM <urn:g> { ?s ?p ?o }").has_dataset
    assert not inspect_query("SELECT ?from { ?from ?p ?o }").has_dataset
    with pytest.raises(QueryError, match="empty"):
        inspect_query("  \n ")


# ------------------------------------------------------------------ in-memory: fork per query
def test_memory_engine_forks_and_user_prefix_wins(mem_engine):
    assert mem_engine.mode == "fork"
    q = "PREFIX gm: <https://example.edu/t/> SELECT ?s WHERE { ?s gm:value 2 }"
    body = json.loads(mem_engine.run(q).body)
    assert body["results"]["bindings"][0]["s"]["value"] == str(EX.s2)


def gone(pid: int, within: float = 3.0) -> bool:
    """True once ``pid`` is dead *and* reaped (a zombie still answers kill(pid, 0))."""
    end = time.monotonic() + within
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.02)
    return False


def test_fork_timeout_kills_worker_and_store_stays_usable(mem_engine):
    mem_engine.store.replace_graphs({URIRef("urn:test:bulk"): graph(3000, 100)})
    assert count(mem_engine) == 3003
    pids = {w.pid for w in mem_engine._executor._all}
    t0 = time.monotonic()
    with pytest.raises(QueryTimeout, match="exceeded 1 s"):
        mem_engine.run(SLOW)
    assert time.monotonic() - t0 < 2.5
    assert mem_engine.stats["killed"] == 1
    killed = pids - {w.pid for w in mem_engine._executor._all}
    assert len(killed) == 1 and gone(killed.pop())  # killed and reaped: no zombie
    mem_engine.store.replace_graphs({URIRef("urn:test:bulk"): Graph()})  # writes still work
    assert count(mem_engine) == 3


def test_fork_workers_are_reused_until_a_write(mem_engine):
    for _ in range(5):
        count(mem_engine)
    assert mem_engine.stats["spawned"] == 1
    old = {w.pid for w in mem_engine._executor._all}
    mem_engine.store.replace_graphs({URIRef("urn:test:more"): graph(1, 9)})
    assert count(mem_engine) == 4
    assert mem_engine.stats["spawned"] == 2
    assert all(gone(pid) for pid in old)  # the stale worker was retired
    procs = {w.pid for w in mem_engine._executor._all}
    mem_engine.close()
    assert all(gone(pid) for pid in procs)


def test_fork_sees_every_write(mem_engine):
    for i in range(3):
        mem_engine.store.replace_graphs({URIRef(f"urn:test:more{i}"): graph(2, 10 * (i + 1))})
        assert count(mem_engine) == 3 + 2 * (i + 1)


def test_concurrent_queries(mem_engine):
    results, errors = [], []

    def work():
        try:
            for _ in range(10):
                results.append(count(mem_engine))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and results == [3] * 40


def test_no_timeout_runs_inline():
    store = open_store(None)
    store.replace_graphs({G1: graph(2)})
    eng = SparqlEngine(store, timeout=None)
    assert eng.mode == "inline" and count(eng) == 2


# ------------------------------------------------------------------ on disk: worker pool on snapshots
def test_pool_reuses_snapshot_until_a_write(disk_engine):
    assert disk_engine.mode == "pool"
    for _ in range(5):
        assert count(disk_engine) == 3
    assert disk_engine.stats["snapshots"] <= 2  # a post-checkpoint WAL purge may cost one more
    before = disk_engine.stats["snapshots"]
    for _ in range(5):
        count(disk_engine)
    assert disk_engine.stats["snapshots"] == before
    disk_engine.store.replace_graphs({URIRef("urn:test:more"): graph(4, 50)})
    assert count(disk_engine) == 7
    assert disk_engine.stats["snapshots"] > before


def test_pool_sees_writes_that_bypass_the_generation_counter(disk_engine):
    assert count(disk_engine) == 3
    gen = disk_engine.store.generation
    disk_engine.store.ox.update("INSERT DATA { GRAPH <urn:test:raw> { <urn:a> <urn:b> <urn:c> } }")
    assert disk_engine.store.generation == gen
    assert count(disk_engine) == 4


def test_pool_timeout_replaces_worker_and_cleans_snapshots(disk_engine):
    root = disk_engine._executor.root
    disk_engine.store.replace_graphs({URIRef("urn:test:bulk"): graph(3000, 100)})
    with pytest.raises(QueryTimeout):
        disk_engine.run(SLOW)
    assert disk_engine.stats["killed"] == 1
    disk_engine.store.replace_graphs({URIRef("urn:test:bulk"): Graph()})
    assert count(disk_engine) == 3
    assert disk_engine.stats["spawned"] >= 2
    # only snapshots still open by a worker (at most one per worker) plus the current one remain
    assert len(list(root.iterdir())) <= disk_engine.workers + 1
    procs = [w.proc for w in disk_engine._executor._all]
    disk_engine.close()
    assert not root.exists()
    assert all(p.poll() is not None for p in procs)


def test_pool_concurrent_queries_and_writes(disk_engine):
    errors = []

    def read():
        try:
            for _ in range(10):
                assert count(disk_engine) >= 3
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    for i in range(5):
        disk_engine.store.replace_graphs({URIRef("urn:test:w"): graph(i + 1, 500)})
    for t in threads:
        t.join()
    assert not errors
    assert count(disk_engine) == 3 + 5
    # a half-done replace_graphs is never visible: no staging graph ever leaks into results
    q = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    graphs = {b["g"]["value"] for b in json.loads(disk_engine.run(q).body)["results"]["bindings"]}
    assert graphs == {str(G1), "urn:test:w"}


@pytest.mark.parametrize("on_disk", [False, True])
def test_idle_workers_exit_and_are_replaced(tmp_path, on_disk):
    store = open_store(tmp_path / "store" if on_disk else None)
    store.replace_graphs({G1: graph(3)})
    with SparqlEngine(store, timeout=1.0, idle_exit=0.3) as eng:
        assert count(eng) == 3
        (w,) = eng._executor._all
        assert gone(w.pid, within=5.0) or not w.alive()
        assert count(eng) == 3
        assert eng.stats["spawned"] == 2


def test_queued_query_gets_the_worker_freed_by_a_timeout(mem_engine):
    mem_engine.store.replace_graphs({URIRef("urn:test:bulk"): graph(3000, 100)})
    mem_engine.workers = 1
    errors = []
    t = threading.Thread(target=lambda: errors.append(pytest.raises(QueryTimeout, mem_engine.run, SLOW)))
    t.start()
    time.sleep(0.3)
    t0 = time.monotonic()
    assert count(mem_engine) == 3003  # waited for the slow query's worker to be killed, then ran
    assert time.monotonic() - t0 < 1.5
    t.join()
    assert errors


def test_all_workers_busy_is_503_not_a_hang(mem_engine):
    mem_engine.workers = 1
    held = mem_engine._executor._acquire(lambda w: True)  # the only worker, busy
    try:
        with pytest.raises(QueryTimeout, match="busy"):
            mem_engine.run(COUNT)
    finally:
        mem_engine._executor._release(held)
    assert count(mem_engine) == 3
