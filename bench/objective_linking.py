#!/usr/bin/env python3
"""Objective linking: 160 learning objectives -> AAMC PCRS (../shared/bench/objective-linking), issue 9.

    .venv/bin/python bench/objective_linking.py      (part of `make bench`)

Runs the real ``gapmap link`` path (``link_files``: the catalogue-adaptive profile, no flags) and the service's
choice (``linker_for(purpose="curriculum")``) on the dev set, plus the plain MiniLM baseline and forced
profiles, and scores them with the shared scorer (``../shared/bench/score_linking.py``: MRR / RP@5 / RP@10) and
with acc@1 / recall@3 / MRR, overall, on the ``hard`` subset and per PCRS domain.  Only ``id`` and ``text`` of
an objective reach the linker (the input file written for ``link`` holds nothing else).  Also measures the
reliability of the expected precision (ECE and a reliability table over the top-3 suggestions) per framework.
Writes ``bench/results/objective_linking.json`` and ``bench/results/calibration.json`` (section
"objective_linking").  Skips with a message when ../shared is absent.
"""
from __future__ import annotations

import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEV = ROOT.parent / "shared" / "bench" / "objective-linking"
SCORER = ROOT.parent / "shared" / "bench" / "score_linking.py"
RESULTS = ROOT / "bench" / "results"
CACHE = ROOT / "var" / "cache" / "embeddings"
TARGETS = {"acc@1": 0.55, "recall@3": 0.80, "MRR": 0.68}
BASELINES = {"plain all-MiniLM-L6-v2, objective <-> description (issue 9)": {"acc@1": 0.319, "recall@3": 0.544, "MRR": 0.461},
             "service curriculum profile before issue 9": {"acc@1": 0.256, "recall@3": 0.481, "MRR": 0.397},
             "gapmap link before issue 9": {"acc@1": 0.044, "recall@3": 0.106, "MRR": 0.109}}


def load_dev():
    comps = [json.loads(line) for line in open(DEV / "competencies.jsonl", encoding="utf-8")]
    objs = [json.loads(line) for line in open(DEV / "objectives.jsonl", encoding="utf-8")]
    return comps, objs


def metrics(ranked: dict[str, list[str]], objs, subset=None) -> dict:
    rows = [o for o in objs if subset is None or subset(o)]
    a1 = r3 = mrr = 0.0
    for o in rows:
        g = set(o["gold"])
        r = next((k for k, u in enumerate(ranked.get(o["id"], []), 1) if u in g), None)
        a1 += r == 1
        r3 += bool(r and r <= 3)
        mrr += 1 / r if r else 0.0
    n = max(1, len(rows))
    return {"n": len(rows), "acc@1": round(a1 / n, 3), "recall@3": round(r3 / n, 3), "MRR": round(mrr / n, 3)}


def shared_score(objs, ranked) -> dict | None:
    if not SCORER.exists():
        return None
    spec = importlib.util.spec_from_file_location("score_linking", SCORER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    gold = {o["id"]: {"id": o["id"], "gold": o["gold"]} for o in objs}
    return mod.score(gold, {k: {"ranked": v} for k, v in ranked.items()})


def report(name, ranked, objs, seconds=None, extra=None) -> dict:
    domains = sorted({o["gold"][0][-4:-2] for o in objs})
    out = {"method": name, "all": metrics(ranked, objs), "hard": metrics(ranked, objs, lambda o: o.get("hard")),
           "not_hard": metrics(ranked, objs, lambda o: not o.get("hard")),
           "per_domain": {d: metrics(ranked, objs, lambda o, d=d: o["gold"][0][-4:-2] == d) for d in domains},
           "shared_scorer": shared_score(objs, ranked)}
    if seconds is not None:
        out["seconds"] = round(seconds, 2)
        out["ms_per_objective"] = round(1000 * seconds / len(objs), 1)
    out.update(extra or {})
    return out


def reliability(pairs, bins=(0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01)) -> dict:
    """ECE and a reliability table of (expected precision, is correct) pairs."""
    table, ece, n = [], 0.0, len(pairs)
    for lo, hi in zip(bins, bins[1:]):
        b = [(p, c) for p, c in pairs if lo <= p < hi]
        if not b:
            continue
        conf = sum(p for p, _ in b) / len(b)
        acc = sum(c for _, c in b) / len(b)
        ece += len(b) / n * abs(conf - acc)
        table.append({"bin": f"{lo:.1f}-{min(hi, 1.0):.1f}", "n": len(b), "mean_expected": round(conf, 3),
                      "observed": round(acc, 3)})
    return {"ECE": round(ece, 3), "n": n, "table": table}


def run_linker(linker, objs, top=10):
    t0 = time.perf_counter()
    res = linker.rank([o["text"] for o in objs], top_k=top)
    secs = time.perf_counter() - t0
    return {o["id"]: [m.uri for m in ms] for o, ms in zip(objs, res)}, res, secs


def main() -> int:
    if not DEV.exists():
        print(f"skipped: {DEV} absent (../shared is on team machines and CI only)")
        return 0
    from linking.encoder import load_minilm, mpnet_available
    from linking.choice import linker_for
    from linking.engine import CompetencyText, catalogue_stats
    from loaders.linkfiles import link_files

    comps, objs = load_dev()
    items = [CompetencyText(c["uri"], c["label"], tuple(c.get("alt_labels") or ()), c.get("description") or "")
             for c in comps]
    from linking import curriculum_ft
    out = {"set": str(DEV.relative_to(ROOT.parent)), "objectives": len(objs), "competencies": len(comps),
           "curriculum_minilm_built": curriculum_ft.built(),
           "targets": TARGETS, "baselines": BASELINES, "catalogue": catalogue_stats(items).to_dict(),
           "mpnet_installed": mpnet_available(), "methods": []}

    # 1. gapmap link, exactly as a user runs it (input file holds only id and text)
    with tempfile.TemporaryDirectory() as td:
        cpath, qpath, ppath = Path(td) / "c.jsonl", Path(td) / "q.jsonl", Path(td) / "p.jsonl"
        cpath.write_text("".join(json.dumps(c) + "\n" for c in comps))
        qpath.write_text("".join(json.dumps({"id": o["id"], "text": o["text"]}) + "\n" for o in objs))
        t0 = time.perf_counter()
        summary = link_files(cpath, qpath, ppath, top=10, progress=False, cache_dir=CACHE)
        secs = time.perf_counter() - t0
        preds = [json.loads(line) for line in ppath.read_text().splitlines()]
    ranked = {p["id"]: p["ranked"] for p in preds}
    out["methods"].append(report("gapmap link (auto profile)", ranked, objs, secs,
                                 {"profile": summary.get("profile"), "model": summary["model_version"]}))
    link_pairs = [(pr, u in set(o["gold"])) for p, o in zip(preds, objs)
                  for u, pr in list(zip(p["ranked"], p["precision"]))[:3]]

    # 2. the service's choice (purpose=curriculum), same objectives
    svc = linker_for(items, purpose="curriculum", cache_dir=CACHE)
    ranked, res, secs = run_linker(svc, objs)
    out["methods"].append(report("service alignment (auto profile)", ranked, objs, secs,
                                 {"profile": svc.profile, "model": svc.model_version}))
    svc_pairs = [(m.precision, m.uri in set(o["gold"])) for o, ms in zip(objs, res) for m in ms[:3]]

    # 3. forced profiles and the plain baseline, for the record
    enc = load_minilm(cache_dir=CACHE)
    if mpnet_available():  # the descriptions profile before round 2: mpnet alone (GAPMAP_DESC_FUSION=0)
        os.environ["GAPMAP_DESC_FUSION"] = "0"
        try:
            lk = linker_for(items, cache_dir=CACHE)
        finally:
            os.environ.pop("GAPMAP_DESC_FUSION")
        ranked, res_alone, secs = run_linker(lk, objs)
        os.environ["GAPMAP_DESC_MINILM"] = "base"  # the fusion without the curriculum-tuned MiniLM
        try:
            lk_base = linker_for(items, cache_dir=CACHE)
        finally:
            os.environ.pop("GAPMAP_DESC_MINILM")
        rk, _, sb = run_linker(lk_base, objs)
        out["methods"].append(report("descriptions profile, mpnet + stock MiniLM fused", rk, objs, sb,
                                     {"profile": lk_base.profile, "model": lk_base.model_version}))
        out["methods"].append(report("descriptions profile, mpnet alone (before round 2)", ranked, objs, secs,
                                     {"profile": lk.profile, "model": lk.model_version}))
        alone_pairs = [(m.precision, m.uri in set(o["gold"])) for o, ms in zip(objs, res_alone) for m in ms[:3]]
    for name, kw in [("forced curriculum profile, MiniLM (the service before issue 9)",
                      {"profile": "curriculum", "purpose": "curriculum", "encoder": enc}),
                     ("descriptions profile with MiniLM instead of mpnet", {"profile": "descriptions", "encoder": enc})]:
        lk = linker_for(items, cache_dir=CACHE, **kw)
        ranked, _, secs = run_linker(lk, objs)
        out["methods"].append(report(name, ranked, objs, secs, {"profile": lk.profile, "model": lk.model_version}))
    import numpy as np
    qv = enc.encode_raw([o["text"] for o in objs])
    dv = enc.encode([c["description"] for c in comps])
    S = qv @ dv.T
    ranked = {o["id"]: [comps[j]["uri"] for j in np.argsort(-S[i])[:10]] for i, o in enumerate(objs)}
    out["methods"].append(report("plain all-MiniLM-L6-v2 cosine, objective <-> description", ranked, objs))

    # cost per sentence, cold (no cache): raw encoding of the 160 objectives by each encoder
    from linking.encoder import load_mpnet
    cost = {}
    for name, e in [("all-MiniLM-L6-v2", enc)] + ([("all-mpnet-base-v2", load_mpnet(cache_dir=CACHE))]
                                                   if mpnet_available() else []):
        e.encode_raw([o["text"] for o in objs[:8]])  # load the model
        t0 = time.perf_counter()
        e.encode_raw([o["text"] for o in objs])
        cost[name] = {"ms_per_objective": round(1000 * (time.perf_counter() - t0) / len(objs), 1), "backend": e.backend}
    if len(cost) == 2:  # the shipped descriptions profile encodes each objective with both
        cost["fused (mpnet + MiniLM)"] = {"ms_per_objective": round(sum(c["ms_per_objective"] for c in cost.values()), 1)}
    out["encoding_cost_cold"] = cost
    out["calibration"] = {"gapmap link": reliability(link_pairs), "service": reliability(svc_pairs),
                          **({"mpnet alone (before round 2)": reliability(alone_pairs)} if mpnet_available() else {}),
                          "note": "top-3 suggestions per dev objective; expected precision fitted on the bundled "
                                  "MD -> HPC curator links (bench/alignment_curriculum.py), never on this set"}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "objective_linking.json").write_text(json.dumps(out, indent=2) + "\n")
    cal_path = RESULTS / "calibration.json"
    cal = json.loads(cal_path.read_text()) if cal_path.exists() else {}
    cal["objective_linking_pcrs"] = out["calibration"]
    cal_path.write_text(json.dumps(cal, indent=2) + "\n")
    for m in out["methods"]:
        a, h = m["all"], m["hard"]
        print(f"{m['method'][:60]:60s} {a['acc@1']:.3f} {a['recall@3']:.3f} {a['MRR']:.3f}  hard "
              f"{h['acc@1']:.3f} {h['recall@3']:.3f} {h['MRR']:.3f}  {m.get('ms_per_objective', '')}")
    print("cost", out["encoding_cost_cold"])
    print("ECE link", out["calibration"]["gapmap link"]["ECE"], "service", out["calibration"]["service"]["ECE"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
