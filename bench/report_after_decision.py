"""The first gap report after a review decision, with the store's journal (the program index patched) and
without it (the index read again, as before), side by side in one process, alternating.

An on-disk store with the bundled data (MD, 353 objectives) and one scaled program (the MD program repeated
10x: 3,530 objectives, bench/scale.py's data).  Each round makes one review decision on the program (add a
manual alignment, reject it, accept it again: ``ontology.review``) and times ``cached_gap_report`` right
after it; in the "re-read" rounds the journal is emptied after the write, so the report reads the program
index from the store as it did before the journal.  Writes bench/results/report_after_decision.json.

    PYTHONPATH=. python bench/report_after_decision.py [--rounds 8]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=8, help="decisions per program and mode")
    args = ap.parse_args(argv)
    from bench.scale import _read_csv, _write_csv, scaled_assessments, scaled_curriculum
    from loaders import Source
    from ontology import review
    from ontology.gaps import cached_gap_report, index_cache
    from service.config import Config
    from service.workspace import Workspace
    from rdflib import Literal, URIRef

    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cfg = Config()
        cfg.STORE_PATH, cfg.CACHE_DIR = str(tmp / "store"), str(tmp / "cache")
        ws = Workspace.from_config(cfg)
        ws.load_manifest(ROOT / "data/manifest.json")
        cur, ass = _read_csv(ROOT / "data/curriculum/md.csv"), _read_csv(ROOT / "data/assessments/md.csv")
        _write_csv(tmp / "cur.csv", scaled_curriculum("s00", cur), list(cur[0].keys()))
        _write_csv(tmp / "ass.csv", scaled_assessments("s00", ass), list(ass[0].keys()))
        ws.load("curriculum-csv", Source.from_path(tmp / "cur.csv"), {"framework": "hpc"}, keep_report=False)
        ws.load("assessments-csv", Source.from_path(tmp / "ass.csv"), {"framework": "hpc"}, keep_report=False)
        st, ids = ws.store, ws.ids
        comps = [r["comp"] for r in st.select("framework_competencies", fw=Literal("hpc"))]
        out: dict = {"triples": len(st)}
        for prog, n_obj in (("md", 353), ("s00", 3530)):
            objs = sorted(r["oid"] for r in st.select("program_objectives", program=ids.program(prog)))
            times: dict[str, list[float]] = {"patched": [], "reread": []}
            cached_gap_report(st, ids, prog, "hpc")  # warm: the index exists for the current generation
            k = 0
            for i in range(args.rounds * 2):
                mode = "patched" if i % 2 == 0 else "reread"
                for step in ("add", "reject", "accept"):
                    oid, comp = objs[(k * 37) % len(objs)], comps[(k * 11) % len(comps)]
                    if step == "add":
                        d = review.add_manual(st, ids, oid, URIRef(comp), "bench")
                        a = URIRef(d.alignment)
                    else:
                        review.decide(st, ids, a, step, "bench")
                    if mode == "reread":
                        with st._journal_lock:  # as before the journal: the index is read again
                            st._journal.clear()
                    patched = index_cache(st).patched
                    t0 = time.perf_counter()
                    cached_gap_report(st, ids, prog, "hpc")
                    times[mode].append(time.perf_counter() - t0)
                    assert (index_cache(st).patched > patched) == (mode == "patched"), mode
                k += 1
            p, r = statistics.median(times["patched"]), statistics.median(times["reread"])
            out[f"{prog}_{n_obj}"] = {"first_report_after_decision_patched_ms": round(p * 1000, 1),
                                      "first_report_after_decision_reread_ms": round(r * 1000, 1),
                                      "reread_over_patched": round(r / p, 1), "decisions_each": len(times[mode])}
            print(prog, out[f"{prog}_{n_obj}"], flush=True)
        st.close()
    out["loadavg_start"], out["loadavg_end"] = [round(x, 2) for x in load_start], \
        [round(x, 2) for x in os.getloadavg()]
    out["note"] = ("median time of cached_gap_report right after a review decision (add manual / reject / accept), "
                   "on disk; patched = program index patched from the store's journal; reread = journal emptied "
                   "after the write, so the index is read from the store (the behaviour before the journal); "
                   "modes alternate in one process")
    path = ROOT / "bench/results/report_after_decision.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
