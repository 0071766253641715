#!/usr/bin/env python3
"""How well the alignment engine suggests competencies for *curriculum objectives*.

Two sets with weak gold labels:
  - md:    the bundled MD curriculum (data/), objectives with curator alignments to the bundled framework;
  - ilios: the Ilios/UCSF sample objectives (../shared) against the AAMC PCRS competencies (58, without the
           catch-alls), gold = the PCRS ids derived by Ilios' own competency map (weak: many objectives carry
           two PCRS ids because the school competency maps to two).
Writes bench/results/alignment_curriculum.json: MRR, R@1, R@5 (share of objectives with a gold competency in
the top k), per set, with the engine's model version.  Usage: python bench/alignment_curriculum.py
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


def md_set():
    comps = {}
    with open(ROOT / "data/framework/hpc.csv", newline="") as f:
        for r in csv.DictReader(f):
            if r["type"] in ("competency", "subcompetency"):
                comps[r["id"]] = (r["label"], tuple(a.strip() for a in r["alt_labels"].split("|") if a.strip()),
                                  r["description"])
    queries = []
    with open(ROOT / "data/curriculum/md.csv", newline="") as f:
        for r in csv.DictReader(f):
            gold = {c.strip() for c in r["competencies"].split(";") if c.strip()}
            if gold:
                queries.append((r["objective_text"], gold))
    return comps, queries


def ilios_set():
    if not SHARED.exists():
        return None
    comps = {}
    with open(SHARED / "aamc_pcrs/pcrs_competencies.csv", newline="") as f:
        for r in csv.DictReader(f):
            if r["is_other_catchall"] != "true":
                comps[r["id"]] = (r["label"], (), r["description"])
    queries = []
    with open(SHARED / "ilios_sample_curriculum/ilios_demo_objectives.csv", newline="") as f:
        for r in csv.DictReader(f):
            gold = {g for g in r["pcrs_ids"].split(";") if g in comps}
            if gold and r["objective_text"].strip():
                queries.append((r["objective_text"], gold))
    return comps, queries


def evaluate(comps, queries, *, observations=None, **linker_kw):
    from linking.engine import CompetencyText, Linker
    items = [CompetencyText(uri=k, label=v[0], alt_labels=v[1], description=v[2]) for k, v in comps.items()]
    linker_kw.setdefault("cache_dir", ROOT / "var/cache/embeddings")
    linker = Linker(items, **linker_kw)
    t0 = time.perf_counter()
    ranked = linker.rank([q for q, _ in queries], top_k=10)
    secs = time.perf_counter() - t0
    mrr = r1 = r5 = 0.0
    for (q, gold), matches in zip(queries, ranked):
        uris = [m.uri for m in matches]
        if observations is not None:  # (score, correct) of every top-10 suggestion, for calibration
            observations.extend((m.score, m.uri in gold) for m in matches)
        first = next((i for i, u in enumerate(uris, 1) if u in gold), None)
        mrr += 1 / first if first else 0
        r1 += first == 1
        r5 += bool(first and first <= 5)
    n = len(queries)
    return {"n": n, "competencies": len(items), "MRR": round(100 * mrr / n, 2), "R@1": round(100 * r1 / n, 2),
            "R@5": round(100 * r5 / n, 2), "seconds": round(secs, 2), "model": linker.model_version}


KNOTS = (0.0, 0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.90)


def calibration(observations):
    """Isotonic fit of "suggestion is a curator link" on score, read off at KNOTS (a lower bound: curators
    list one or two competencies per objective, so a correct but unlisted suggestion counts as wrong)."""
    import numpy as np
    from sklearn.isotonic import IsotonicRegression
    xs = np.array([o[0] for o in observations])
    ys = np.array([1.0 if o[1] else 0.0 for o in observations])
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(xs, ys)
    return [(k, round(float(iso.predict([k])[0]), 3)) for k in KNOTS]


def descriptions_calibration_cv(enc, folds: int = 2):
    """Calibration of the descriptions profile without scoring the adapter on its own training links: the MD
    objectives are split in ``folds`` (by position, fixed), the query adapter is trained on the other folds'
    pairs and the fold is scored; the (score, is a curator link) observations of all folds are pooled."""
    import numpy as np
    from dataclasses import replace
    from linking.engine import ADAPTER_RECIPE, DESCRIPTIONS, CompetencyText, Linker, _train_adapter
    comps, queries = md_set()
    items = [CompetencyText(uri=k, label=v[0], alt_labels=v[1], description=v[2]) for k, v in comps.items()]
    obs, mrr, r1, r5 = [], 0.0, 0, 0
    for f in range(folds):
        test = [q for i, q in enumerate(queries) if i % folds == f]
        train = [q for i, q in enumerate(queries) if i % folds != f]
        pairs = [(q, comps[g][2]) for q, gold in train for g in sorted(gold) if comps[g][2]]
        descs = list(dict.fromkeys(d for _, d in pairs))
        w = _train_adapter(enc.encode([q for q, _ in pairs]), enc.encode(descs),
                           np.array([descs.index(d) for _, d in pairs]), **ADAPTER_RECIPE)
        linker = Linker(items, config=replace(DESCRIPTIONS, query_adapter=False, center_weight=0.0), encoder=enc)
        linker._adapter = w
        linker._center = DESCRIPTIONS.center_weight * linker._reference_mean()
        linker.config = replace(linker.config, center_weight=DESCRIPTIONS.center_weight)
        for (q, gold), ms in zip(test, linker.rank([q for q, _ in test], top_k=10)):
            obs.extend((m.score, m.uri in gold) for m in ms)
            first = next((i for i, m in enumerate(ms, 1) if m.uri in gold), None)
            mrr += 1 / first if first else 0
            r1 += first == 1
            r5 += bool(first and first <= 5)
    n = len(queries)
    return calibration(obs), {"n": n, "MRR": round(100 * mrr / n, 2), "R@1": round(100 * r1 / n, 2),
                              "R@5": round(100 * r5 / n, 2), "folds": folds}


def main():
    from linking.encoder import load_minilm
    from linking.engine import CURRICULUM
    enc = load_minilm(cache_dir=ROOT / "var/cache/embeddings")  # the service's encoder (see service/workspace.py)
    obs = []
    out = {"profile": CURRICULUM.tag(), "md": evaluate(*md_set(), observations=obs, config=CURRICULUM, encoder=enc)}
    out["calibration_md"] = calibration(obs)
    il = ilios_set()
    out["ilios_pcrs"] = evaluate(*il, config=CURRICULUM, encoder=enc) if il else "skipped: ../shared absent"
    # The descriptions profile (chosen for catalogues with code-like labels, e.g. PCRS) gets its calibration
    # from the same curator links: run forced on MD -> HPC (whose labels we ignore), isotonic fit.
    from linking.engine import DESCRIPTIONS, encoder_for
    denc = encoder_for("descriptions", "curriculum", cache_dir=ROOT / "var/cache/embeddings")
    out["md_descriptions_profile"] = evaluate(*md_set(), config=DESCRIPTIONS, encoder=denc)
    out["md_descriptions_profile"]["note"] = "in-sample: the query adapter is trained on these curator links"
    out["calibration_descriptions"], out["md_descriptions_profile_2fold"] = descriptions_calibration_cv(denc)
    out["auto"] = {"md": "labels (curriculum profile)", "ilios_pcrs": "descriptions"}
    if il:
        out["ilios_pcrs_descriptions_profile"] = evaluate(*il, config=DESCRIPTIONS, encoder=denc)
    print(json.dumps(out, indent=2))
    (ROOT / "bench/results").mkdir(parents=True, exist_ok=True)
    (ROOT / "bench/results/alignment_curriculum.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
