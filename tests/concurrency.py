"""Helpers for the integrity tests: a bigger mini program and a deterministic (optionally slow) linker.

The fake linker stands in for the embedding model so the concurrency tests run in seconds and
never load torch; what they test is the write path, not the ranking.
"""
from __future__ import annotations

import hashlib
import multiprocessing
import threading
import time
from pathlib import Path

from ontology.align import competency_texts
from linking.engine import Evidence, Match

MINI = Path(__file__).resolve().parent / "fixtures" / "mini"

VERBS = ["Explain", "Perform", "Demonstrate", "Describe", "Assess", "Discuss", "Plan", "Interpret"]
TOPICS = ["a focused history", "cardiac auscultation", "a ward handover", "bad news to a family",
          "venipuncture", "an abdominal examination", "a discharge summary", "a sign-out to the night team"]


def big_curriculum(path: Path, n: int = 40) -> Path:
    """The mini curriculum plus ``n`` generated objectives in a year-3 course (MED-301)."""
    text = (MINI / "curriculum.csv").read_text()
    rows = [f"mini,Mini MD,3,MED-301,Clerkship Surgery,,,X{i},"
            f"{VERBS[i % len(VERBS)]} {TOPICS[(i // len(VERBS)) % len(TOPICS)]} (case {i}).,2,"
            for i in range(n)]
    path.write_text(text.rstrip("\n") + "\n" + "\n".join(rows) + "\n")
    return path


class FakeLinker:
    """Ranks every competency for a text by a hash of (text, competency): deterministic, instant.

    ``delay`` seconds are slept inside :meth:`rank` (an alignment run that takes a while);
    ``started`` is set when ranking begins.
    """

    model_version = "fake-linker/1"
    encoder = None  # no sentence encoder: checks that need one (near-duplicates) say they did not run

    def __init__(self, store, framework: str = "mini", delay: float = 0.0):
        self.competencies = competency_texts(store, framework)
        self.delay = delay
        self.started = threading.Event()

    def rank(self, texts, top_k: int = 10):
        self.started.set()
        if self.delay:
            time.sleep(self.delay)
        out = []
        for t in texts:
            scored = sorted(self.competencies,
                            key=lambda c: hashlib.sha1(f"{t}|{c.uri}".encode()).hexdigest())[:top_k]
            out.append([Match(uri=c.uri, score=0.9 - 0.05 * i, precision=0.95 - 0.1 * i,
                              evidence=Evidence("label", c.label, (0, min(len(t), 10))))
                        for i, c in enumerate(scored)])
        return out


def use_fake_linker(ws, delay: float = 0.0) -> FakeLinker:
    fake = FakeLinker(ws.store, delay=delay)
    ws.linker = lambda framework: fake  # instance attribute shadows the method
    return fake


def aligned_mini(tmp_path: Path, objectives: int = 40):
    """An in-memory Workspace with the mini framework, the mini curriculum plus ``objectives`` generated
    ones (none: the bundled rows only), aligned by the fake linker (top 3, every suggestion kept)."""
    from loaders import Source
    ws = _open_workspace("", tmp_path / "cache")
    ws.load_manifest(MINI / "manifest.json")
    if objectives:
        ws.load("curriculum-csv", Source.from_path(big_curriculum(tmp_path / "curriculum.csv", objectives)),
                {"framework": "mini"}, keep_report=False)
    use_fake_linker(ws)
    ws.align("mini", top_k=3, min_precision=0)
    return ws


def run_threads(targets, *, timeout: float = 60.0):
    """Start every callable at once (behind a barrier) and wait for all of them."""
    barrier = threading.Barrier(len(targets))
    errors = []

    def wrap(fn):
        def go():
            try:
                barrier.wait()
                fn()
            except BaseException as e:  # noqa: BLE001 - reported to the test
                errors.append(e)
        return go
    threads = [threading.Thread(target=wrap(t), daemon=True) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a writer thread hung"
    if errors:
        raise errors[0]


# kill -9 at a random moment --------------------------------------------------------------------------
# Children are forked from a forkserver that has already imported Gapmap (a single-threaded process,
# so forking is safe), so a cycle costs the work it does rather than an interpreter start.

PRELOAD = ["tests.concurrency", "service.workspace", "service.config", "loaders", "ontology.review",
           "ontology.shacl", "ontology.changes", "pyshacl"]


def _open_workspace(store_path, cache_dir):
    from service.config import Config
    from service.workspace import Workspace
    cfg = Config()
    cfg.STORE_PATH, cfg.CACHE_DIR = str(store_path), str(cache_dir)
    return Workspace.from_config(cfg)


def reload_framework_forever(out, store_path, cache_dir, v1, v2):
    """Reload the mini framework alternately without and with CM1, forever."""
    from rdflib import Literal

    from loaders import Source
    ws = _open_workspace(store_path, cache_dir)
    out("ready")
    i = 0
    while True:
        has = any(r["label"] == "Breaking bad news"
                  for r in ws.store.select("framework_competencies", fw=Literal("mini")))
        ws.load("framework-csv", Source.from_path(v2 if has else v1),
                {"id": "mini", "title": "Mini framework", "version": "1"})
        i += 1
        out(f"reloaded {i}")


def decide_forever(out, store_path, cache_dir, seed, targets):
    """Random decisions on ``targets``, announcing each before ("try") and after ("ack") it is acknowledged."""
    import random

    from rdflib import URIRef

    from ontology import review
    ws = _open_workspace(store_path, cache_dir)
    rng = random.Random(seed)
    out("ready")
    while True:
        a, d = rng.choice(targets), rng.choice(["accept", "reject", "reset"])
        out(f"try {a} {review.DECISIONS[d].rsplit('#', 1)[-1].lower()}")
        review.decide(ws.store, ws.ids, URIRef(a), d, "dr.crash")
        out(f"ack {a}")


def _child(conn, target, args):
    target(conn.send, *args)


def run_and_kill(target, args, delay: float) -> list[str]:
    """Run ``target(out, *args)`` in a forked child; after its "ready", let it work ``delay`` seconds,
    then SIGKILL it.  Returns the lines it wrote after "ready"."""
    ctx = multiprocessing.get_context("forkserver")
    try:
        ctx.set_forkserver_preload(PRELOAD)
    except Exception:  # noqa: BLE001 - the forkserver is already running: it just preloads less
        pass
    r, w = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_child, args=(w, target, args), daemon=True)
    p.start()
    w.close()
    lines = []
    try:
        assert r.poll(120) and r.recv() == "ready", f"the child did not start (exit code {p.exitcode})"
        time.sleep(delay)
    finally:
        p.kill()  # SIGKILL: no cleanup, nothing flushed beyond what each transaction already did
        p.join(30)
        while True:
            try:
                if not r.poll(5):
                    break
                lines.append(r.recv())
            except (EOFError, OSError):
                break
        r.close()
    return lines
