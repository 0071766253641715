import sys, re, csv
import numpy as np
from pathlib import Path
ROOT = Path(__file__).resolve().parents[2]; sys.path.insert(0, str(ROOT))
from bench.exp.objdev import metrics
from bench.exp.objdev2 import encs, comps, objs, qt
from linking.engine import segments
ref = [r["objective_text"] for r in csv.DictReader(open(ROOT / "data/curriculum/md.csv"))]
stem = re.compile(r"^\s*(?:by the end of [^,]*,\s*)?(?:the\s+)?(?:students?|learners?|participants?)\s+(?:will|should|must|can)\s+(?:be\s+able\s+to\s+)?", re.I)
res = {}
for name, enc in encs.items():
    Q = enc.encode([stem.sub("", t) for t in qt]); D = enc.encode([c["description"] for c in comps])
    R = enc.encode(ref)
    S = Q @ D.T
    mu = (R @ D.T).mean(0)
    segs, owner = [], []
    for i, c in enumerate(comps):
        d = c["description"]
        for a, b in segments(d):
            segs.append(d[a:b]); owner.append(i)
    SG = enc.encode(segs); owner = np.array(owner)
    def segmax(X):
        sims = X @ SG.T
        mx = np.full((len(X), len(comps)), -1.0, np.float32)
        for j, i in enumerate(owner):
            mx[:, i] = np.maximum(mx[:, i], sims[:, j])
        return np.where(mx < -0.5, X @ D.T, mx)
    M = segmax(Q); muM = segmax(R).mean(0)
    for w in (0.5, 0.75, 1.0):
        print(name, f"refcenter {w}", metrics(S - w * mu, comps, objs))
    for a in (0.3, 0.5):
        T = S + a * M; muT = mu + a * muM
        print(name, f"seg{a}", metrics(T, comps, objs), "refc", metrics(T - 0.75 * muT, comps, objs))
    res[name] = (S, mu, M, muM)
S1, mu1, M1, muM1 = res["minilm"]; S2, mu2, M2, muM2 = res["mpnet"]
for wm in (0.3, 0.5):
    for c in (0.5, 0.75, 1.0):
        T = (1 - wm) * (S2 + 0.3 * M2 - c * (mu2 + 0.3 * muM2)) + wm * (S1 + 0.3 * M1 - c * (mu1 + 0.3 * muM1))
        print("ens", wm, c, metrics(T, comps, objs))
