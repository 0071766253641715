#!/usr/bin/env python3
"""Service figures on the bundled data: load, align (cold and warm cache), gap report and SPARQL latency.

Writes bench/results/service.json.  Usage: python bench/service_timings.py
"""
from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def median_ms(fn, n=20):
    fn()  # warm
    xs = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        xs.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(xs), 2)


def main():
    from service.app import create_app
    from service.config import Config

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Config()
        cfg.STORE_PATH, cfg.CACHE_DIR = str(Path(tmp) / "store"), str(Path(tmp) / "cache")
        app = create_app(cfg)
        ws = app.extensions["gapmap"]
        t0 = time.perf_counter()
        loads = ws.load_manifest(ROOT / "data" / "manifest.json")
        out["load_seconds"] = round(time.perf_counter() - t0, 2)
        out["load"] = {r["path"]: {"triples": r["triples"], "seconds": r["seconds"]} for r in loads}
        t0 = time.perf_counter()
        res = ws.align("md")
        out["align_cold_seconds"] = round(time.perf_counter() - t0, 2)  # model load + encoding everything
        t0 = time.perf_counter()
        res = ws.align("md")
        out["align_warm_seconds"] = round(time.perf_counter() - t0, 2)  # embeddings cached, model loaded
        out["align"] = res.to_dict()
        c = app.test_client()
        from service.auth import users_db
        c.environ_base["HTTP_AUTHORIZATION"] = "Bearer " + users_db(app).add_user("bench", "viewer").token
        out["http_ms_median"] = {
            "gap_report_json": median_ms(lambda: c.get("/api/programs/md/gaps?role=intern")),
            "gap_report_csv": median_ms(lambda: c.get("/api/programs/md/gaps?format=csv")),
            "role_readiness": median_ms(lambda: c.get("/api/programs/md/readiness/intern")),
            "review_queue": median_ms(lambda: c.get("/api/programs/md/review")),
            "dashboard_html": median_ms(lambda: c.get("/programs/md")),
            "sparql_select_count": median_ms(lambda: c.get("/sparql", query_string={
                "query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"})),
        }
        out["triples"] = len(ws.store)
    out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(out, indent=2))
    (ROOT / "bench/results").mkdir(parents=True, exist_ok=True)
    (ROOT / "bench/results/service.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
