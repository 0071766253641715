#!/usr/bin/env python3
"""Experiment harness for the objective-linking dev set (issue 9): score raw representations fast.

Usage: bench/exp/objdev.py  (prints acc@1 / R@3 / MRR for a list of variants; reads only id/text of objectives
for ranking; gold is used only to score).
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
DEV = ROOT.parent / "shared/bench/objective-linking"


def load():
    comps = [json.loads(line) for line in open(DEV / "competencies.jsonl")]
    objs = [json.loads(line) for line in open(DEV / "objectives.jsonl")]
    return comps, objs


def metrics(S, comps, objs):
    uris = [c["uri"] for c in comps]
    a1 = r3 = mrr = 0.0
    h = [0.0, 0.0, 0.0, 0]
    for i, o in enumerate(objs):
        order = np.argsort(-S[i])
        ranked = [uris[j] for j in order]
        g = set(o["gold"])
        r = next((k for k, u in enumerate(ranked, 1) if u in g), None)
        a1 += r == 1
        r3 += bool(r and r <= 3)
        mrr += 1 / r if r else 0
        if o.get("hard"):
            h[0] += r == 1
            h[1] += bool(r and r <= 3)
            h[2] += 1 / r if r else 0
            h[3] += 1
    n = len(objs)
    return (round(a1 / n, 3), round(r3 / n, 3), round(mrr / n, 3)), tuple(round(x / h[3], 3) for x in h[:3])


if __name__ == "__main__" and not os.environ.get("V2"):
    from linking.encoder import load_minilm
    comps, objs = load()
    enc = load_minilm(cache_dir=ROOT / "var/cache/embeddings")
    Q = enc.encode([o["text"] for o in objs])
    D = enc.encode([c["description"] for c in comps])
    print("plain", metrics(Q @ D.T, comps, objs))


def variants(enc, comps, objs, tag):
    import re
    from linking.engine import segments
    qt = [o["text"] for o in objs]
    Q = enc.encode(qt)
    D = enc.encode([c["description"] for c in comps])
    L = enc.encode([c["label"] for c in comps])
    out = {}
    out["desc"] = Q @ D.T
    out["desc+0.3label"] = Q @ D.T + 0.3 * (Q @ L.T)
    # description clauses: max over clauses mixed with whole
    segs, owner = [], []
    for i, c in enumerate(comps):
        d = c["description"]
        for a, b in segments(d):
            segs.append(d[a:b]); owner.append(i)
    if segs:
        S = enc.encode(segs)
        sims = Q @ S.T
        mx = np.full((len(objs), len(comps)), -1.0, np.float32)
        for j, i in enumerate(owner):
            mx[:, i] = np.maximum(mx[:, i], sims[:, j])
        mx = np.where(mx < -0.5, Q @ D.T, mx)
        out["desc+0.5segmax"] = Q @ D.T + 0.5 * mx
    # domain prior: label stripped of its code
    grp = [re.sub(r"[\s\d.\-:]+$", "", c["label"]).strip() for c in comps]
    G = enc.encode(grp)
    out["desc+0.2group"] = Q @ D.T + 0.2 * (Q @ G.T)
    out["desc+0.3group"] = Q @ D.T + 0.3 * (Q @ G.T)
    # query cleanup: strip stems
    stem = re.compile(r"^\s*(?:by the end of [^,]*,\s*)?(?:the\s+)?(?:students?|learners?|participants?)\s+(?:will|should|must|can)\s+(?:be\s+able\s+to\s+)?", re.I)
    Q2 = enc.encode([stem.sub("", t) for t in qt])
    out["desc cleanq"] = Q2 @ D.T
    out["desc cleanq+0.3group"] = Q2 @ D.T + 0.3 * (Q2 @ G.T)
    for k, v in out.items():
        print(tag, k, metrics(v, comps, objs))
    return out


def main2():
    from linking.encoder import load_minilm, load_local
    comps, objs = load()
    res = {}
    m = load_minilm(cache_dir=ROOT / "var/cache/embeddings")
    res["minilm"] = variants(m, comps, objs, "minilm")
    p = load_local(os.environ.get("MPNET", "/tmp/align_dl/models/all-mpnet-base-v2"), cache_dir=ROOT / "var/cache/embeddings")
    p.dim = 768
    p.cache = None
    t = time.perf_counter()
    res["mpnet"] = variants(p, comps, objs, "mpnet")
    print("mpnet secs", time.perf_counter() - t)
    for k in res["minilm"]:
        print("ens", k, metrics(res["minilm"][k] + res["mpnet"][k], comps, objs))
    np.savez("/tmp/align_dl/res.npz", **{f"{a}|{k}": v for a in res for k, v in res[a].items()})

if __name__ == "__main__" and os.environ.get("V2"):
    main2()
