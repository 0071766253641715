#!/usr/bin/env python3
"""What one replica pays per request over each remote store (Oxigraph server, Virtuoso Open Source), beside
the embedded store: loading the bundled data, reading the generation (every cached request does it once),
computing a gap report and a role-readiness report after a write (cache miss), and a /sparql query
forwarded to the server. Writes bench/results/remote_stores.json.

    nice -n 10 python bench/remote_stores.py [--ports 5637 5638 5639] [--repeat 7]

Virtuoso is skipped (with a note) when ``virtuoso-t`` is not installed (Debian: virtuoso-opensource).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _ms(xs):
    return {"p50_ms": round(statistics.median(xs) * 1000, 2), "min_ms": round(min(xs) * 1000, 2)}


def measure(url: str | None, tmp: Path, repeat: int) -> dict:
    from ontology.gaps import gap_report, report_cache, role_readiness
    from ontology.sparql import SparqlEngine
    from service.config import Config
    from service.workspace import Workspace
    cfg = Config()
    cfg.STORE_PATH, cfg.CACHE_DIR = url or str(tmp / "embedded"), str(tmp / "cache")
    cfg.STORE_TIMEOUT = 900.0  # Virtuoso takes minutes for the larger loads (docs/deploy.md)
    ws = Workspace.from_config(cfg)
    if url:
        ws.store.drop_all()
    out: dict = {}
    t0 = time.perf_counter()
    ws.load_manifest(ROOT / "data/manifest.json")
    out["load_bundled_s"] = round(time.perf_counter() - t0, 2)
    out["triples"] = len(ws.store)
    gen, rep, ready, sparql = [], [], [], []
    fw = ws.program_framework("md")
    eng = SparqlEngine(ws.store, timeout=10.0, workers=1)
    from ontology.access import visible_graphs
    graphs = visible_graphs(ws.store, ws.ids, private=False)
    q = "SELECT ?c ?l WHERE { ?c a gm:Competency ; skos:prefLabel ?l } ORDER BY ?l"
    for _ in range(repeat):
        t = time.perf_counter()
        ws.store.generation
        gen.append(time.perf_counter() - t)
        t = time.perf_counter()
        gap_report(ws.store, ws.ids, "md", fw, role="intern")
        rep.append(time.perf_counter() - t)
        report_cache(ws.store).clear()  # readiness reuses the cached gap report: measure it computed
        t = time.perf_counter()
        role_readiness(ws.store, ws.ids, "md", "intern")
        ready.append(time.perf_counter() - t)
        t = time.perf_counter()
        eng.run(q, accept="application/sparql-results+json", visible_graphs=graphs)
        sparql.append(time.perf_counter() - t)
    eng.close()
    out.update(generation_read=_ms(gen), gap_report_uncached=_ms(rep), role_readiness_uncached=_ms(ready),
               sparql_select_labels=_ms(sparql))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--ports", type=int, nargs=3, default=[5637, 5638, 5639],
                    help="oxigraph server, virtuoso http, virtuoso sql (127.0.0.1)")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--out", default=str(ROOT / "bench/results/remote_stores.json"))
    args = ap.parse_args(argv)
    from bench.scale import stop_server
    from tests.remote import oxigraph_binary, start_virtuoso
    tmp = Path(tempfile.mkdtemp(prefix="gapmap-remote-"))
    out = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "load_average_start": os.getloadavg(),
           "data": "bundled (data/manifest.json)", "stores": {}}
    procs = []
    try:
        out["stores"]["embedded (disk)"] = measure(None, tmp, args.repeat)
        binary = oxigraph_binary()
        if binary:
            p = subprocess.Popen([binary, "serve", "--location", str(tmp / "ox"), "--bind",
                                  f"127.0.0.1:{args.ports[0]}", "--union-default-graph", "--timeout-s", "30"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            procs.append(p)
            url = f"http://127.0.0.1:{args.ports[0]}"
            for _ in range(100):
                try:
                    urllib.request.urlopen(url + "/query?query=ASK%7B%7D", timeout=2).read()
                    break
                except OSError:
                    time.sleep(0.1)
            out["stores"]["oxigraph server 0.5.13"] = measure(url, tmp, args.repeat)
        if shutil.which("virtuoso-t"):
            procs.append(start_virtuoso(tmp / "virtuoso", args.ports[1], args.ports[2]))
            out["stores"]["virtuoso 7.2 (Debian)"] = measure(f"http://127.0.0.1:{args.ports[1]}/sparql", tmp,
                                                             args.repeat)
        else:
            out["stores"]["virtuoso"] = "skipped: virtuoso-t not installed (apt-get install virtuoso-opensource)"
    finally:
        for p in procs:
            stop_server(p)
        shutil.rmtree(tmp, ignore_errors=True)
    out["load_average_end"] = os.getloadavg()
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
