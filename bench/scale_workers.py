#!/usr/bin/env python3
"""Req/s as gunicorn workers grow, over the remote store (an Oxigraph server), bundled data.

Starts ``oxigraph serve`` on 127.0.0.1:5175 (temporary folder), loads data/manifest.json into it
through RemoteStore, then for 1, 2 (, 4) workers starts gunicorn (gthread, 4 threads each) with
GAPMAP_STORE=http://127.0.0.1:5175 on 127.0.0.1:5176 and measures 8 clients for a few seconds:
the gap report (served from each worker's cache after one generation read per request) and a
role-readiness request, anonymously (GAPMAP_PUBLIC_READ=1: what a public catalogue serves). With
``--redis`` it starts redis-server too (GAPMAP_REDIS): rendered reports, jobs and rate limits are shared
by the workers (one computes, the others serve the body from Redis). Writes
bench/results/scale_workers.json (or ``--out``).

    nice -n 10 python bench/scale_workers.py [--workers 1 2 4] [--seconds 6] [--ports 5175 5176 5177] [--redis]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.scale import http_latencies, http_load, ms, pct, stop_server  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--out", default=str(ROOT / "bench/results/scale_workers.json"))
    ap.add_argument("--ports", type=int, nargs=3, default=[5175, 5176, 5177],
                    help="oxigraph server, gunicorn, redis-server (127.0.0.1)")
    ap.add_argument("--redis", action="store_true", help="share state through a redis-server (GAPMAP_REDIS)")
    args = ap.parse_args(argv)
    binary = Path(sys.executable).parent / "oxigraph"
    if not binary.exists():
        binary = shutil.which("oxigraph")
        if not binary:
            sys.exit("the oxigraph server CLI is not installed (pip install oxigraph==0.5.13)")
    tmp = Path(tempfile.mkdtemp(prefix="gapmap-workers-"))
    ox_port, port, redis_port = args.ports
    url = f"http://127.0.0.1:{ox_port}"
    server = subprocess.Popen([str(binary), "serve", "--location", str(tmp / "ox"), "--bind", f"127.0.0.1:{ox_port}",
                               "--union-default-graph", "--timeout-s", "30"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    redis_proc, redis_url = None, ""
    if args.redis:
        redis_proc = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(redis_port), "--save", "",
                                       "--appendonly", "no", "--dir", str(tmp)], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, start_new_session=True)
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
    out = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "load_average_start": os.getloadavg(),
           "store": "oxigraph server 0.5.13 (remote store)", "redis": bool(args.redis), "runs": []}
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/query?query=ASK%7B%7D", timeout=2).read()
                break
            except OSError:
                time.sleep(0.1)
        from service.config import Config
        from service.workspace import Workspace
        cfg = Config()
        cfg.STORE_PATH, cfg.CACHE_DIR = url, str(tmp / "cache")
        ws = Workspace.from_config(cfg)
        t0 = time.perf_counter()
        ws.load_manifest(ROOT / "data/manifest.json")
        out["load_manifest_remote_s"] = round(time.perf_counter() - t0, 2)
        out["triples"] = len(ws.store)
        t0 = time.perf_counter()
        ws.store.generation
        out["generation_read_ms"] = ms(time.perf_counter() - t0)
        for w in args.workers:
            env = dict(os.environ, GAPMAP_STORE=url, GAPMAP_CACHE_DIR=str(tmp / "cache"), PYTHONPATH=str(ROOT),
                       OMP_NUM_THREADS="1", GAPMAP_SECRET_KEY="bench-shared-secret", GAPMAP_PUBLIC_READ="1",
                       GAPMAP_USERS_DB=str(tmp / "users.sqlite"), GAPMAP_REDIS=redis_url)
            proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", str(w),
                                     "-k", "gthread", "--threads", "4", "--log-level", "warning",
                                     "service.app:create_app()"], cwd=str(ROOT), env=env, start_new_session=True)
            try:
                for _ in range(300):
                    try:
                        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/programs", timeout=2).read()
                        break
                    except OSError:
                        time.sleep(0.2)
                path = "/api/programs/md/gaps"
                http_latencies(port, path, 4 * w)  # fill each worker's cache
                one = http_latencies(port, path, 50)
                run = {"workers": w, "gap_report_1_client_p50_ms": ms(pct(one, 50)),
                       "gap_report_8_clients": http_load(port, path, 8, args.seconds),
                       "readiness_8_clients": http_load(port, "/api/programs/md/readiness/intern", 8, args.seconds)}
                print(run, flush=True)
                out["runs"].append(run)
            finally:
                stop_server(proc)
    finally:
        stop_server(server)
        if redis_proc is not None:
            stop_server(redis_proc)
        shutil.rmtree(tmp, ignore_errors=True)
    out["load_average_end"] = os.getloadavg()
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
