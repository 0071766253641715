#!/usr/bin/env python3
"""How well the automatic crosswalk matches the reference ESCO ↔ O*NET crosswalk (health subset).

The reference (../shared/frameworks/crosswalk_esco_onet, Nesta's Nov 2020 crosswalk) maps ESCO occupations to
O*NET occupations; 52 of its rows have both ends in the shared ESCO v1.1.1 health and O*NET 29.3 healthcare
subsets, one O*NET occupation per ESCO occupation.  Both sets are loaded with Gapmap's own loaders
(loaders/esco.py, loaders/onet.py) into an in-memory store; the crosswalk engine (the alignment engine's
Linker, as ontology/crosswalk.py uses it) ranks every O*NET occupation (title, definition) for each ESCO
occupation (title + definition as the query), exactly as a framework crosswalk ranks target competencies for
a source competency's label + definition.  Scored on the 52 reference pairs: P@k, R@k, hit@k, MRR; for two
engine profiles (labels only; the curriculum profile, with definitions weighted in) and for each reference
confidence grade.  Writes bench/results/crosswalk.json.  Usage: nice -n 10 python bench/crosswalk.py
"""
from __future__ import annotations

import csv
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "frameworks"


def main() -> int:
    from loaders import Source
    from linking.encoder import load_minilm
    from linking.engine import CURRICULUM, CompetencyText, LinkerConfig, Linker
    from ontology.crosswalk import precision_recall, query_text
    from service.config import LinkerConfig as AppConfig
    from service.workspace import Workspace

    ref_file = SHARED / "crosswalk_esco_onet" / "esco_onet_crosswalk_nov2020_health.csv"
    if not ref_file.exists():
        print(f"skipped: {ref_file} absent")
        return 0
    cfg = AppConfig()
    cfg.STORE_PATH = ""
    ws = Workspace.from_config(cfg)
    t0 = time.perf_counter()
    ws.load("esco", Source.from_path(SHARED / "esco_1_1_1_health"), {"id": "esco", "roles_id": "esco"})
    ws.load("onet", Source.from_path(SHARED / "onet_29_3_healthcare"), {"id": "onet", "roles_id": "onet"})
    load_s = time.perf_counter() - t0
    esco = ws.store.select("role_texts", g=ws.ids.graph("roles", "esco"))
    onet = ws.store.select("role_texts", g=ws.ids.graph("roles", "onet"))
    by_uri = {r["match"]: r for r in esco}
    by_code = {r["id"].removeprefix("onet-"): r for r in onet}

    gold: dict[str, set[str]] = {}
    grade: dict[str, str] = {}
    with open(ref_file, newline="") as f:
        for r in csv.DictReader(f):
            s, t = by_uri.get(r["concept_uri"]), by_code.get(r["onet_code"])
            if s and t:
                gold.setdefault(s["role"], set()).add(t["role"])
                grade[s["role"]] = r["confidence"]
    targets = [CompetencyText(uri=r["role"], label=r["title"],
                              alt_labels=tuple(a for a in (r["altLabels"] or "").split(" | ") if a),
                              description=r["definition"] or "") for r in onet]
    sources = [r for r in esco if r["role"] in gold]
    encoder = load_minilm(cache_dir=Path(ws.config.CACHE_DIR) / "embeddings")
    out = {"reference": str(ref_file.relative_to(ROOT.parent)), "esco_occupations": len(esco),
           "onet_occupations": len(onet), "reference_pairs": sum(map(len, gold.values())),
           "load_seconds": round(load_s, 1), "profiles": {}}
    for name, config in (("labels", LinkerConfig()), ("curriculum", CURRICULUM)):
        t1 = time.perf_counter()
        linker = Linker(targets, config=config, encoder=encoder)
        ranked = linker.rank([query_text(r["title"], r["definition"]) for r in sources], top_k=10)
        pred = {r["role"]: [m.uri for m in ms] for r, ms in zip(sources, ranked)}
        res = precision_recall(pred, gold)
        res["by_confidence"] = {g: precision_recall(pred, {s: gold[s] for s in gold if grade[s] == g})
                                for g in sorted(set(grade.values()))}
        res["seconds"] = round(time.perf_counter() - t1, 2)
        res["model_version"] = linker.model_version
        res["misses_at_1"] = [{"esco": s["title"], "gold": [by_code_t for by_code_t in
                                                           sorted(next(o["title"] for o in onet if o["role"] == g)
                                                                  for g in gold[s["role"]])],
                               "top1": next(o["title"] for o in onet if o["role"] == pred[s["role"]][0])}
                              for s in sources if pred[s["role"]][:1] and pred[s["role"]][0] not in gold[s["role"]]][:15]
        out["profiles"][name] = res
        print(name, {k: v for k, v in res.items() if k.startswith(("P@", "R@", "MRR", "hit@1"))})
    dest = ROOT / "bench" / "results" / "crosswalk.json"
    dest.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
