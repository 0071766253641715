# ruff: noqa: F401, F403, F405, E701, E702, E731
"""Round 2 levers on cached vectors: domain prior (label-stem groups), ESCO descriptions as extra negatives for the
curator pairs, description-clause max, and the MiniLM fusion weight chosen on MD -> HPC 2-fold (not on the dev set)."""
import sys; from pathlib import Path; sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.exp.q9lib import *
from linking.engine import label_stem, segments
import torch
comps, objs = dev(); qt = [o["text"] for o in objs]; dt = [c["description"] for c in comps]
Wp = train([pairset("mpnet", curator_pairs()) + (1.0,)], 768)
Sp = scorer("mpnet", Wp)(E("mpnet", qt), E("mpnet", dt))
print("a2", score_dev(Sp), flush=True)
stems = [label_stem(c["label"]) for c in comps]; doms = sorted(set(stems)); M = np.array([[s == d for d in doms] for s in stems], float)
def dom_prior(S, tau):
    out = np.zeros((S.shape[0], len(doms)))
    for j in range(len(doms)):
        x = S[:, M[:, j] > 0] / tau; m = x.max(1, keepdims=True)
        out[:, j] = tau * (m[:, 0] + np.log(np.exp(x - m).mean(1)))
    return out @ M.T
for tau in (0.02, 0.05, 0.1):
    for lam in (0.2, 0.5):
        print("dom", tau, lam, score_dev(Sp + lam * dom_prior(Sp, tau)), flush=True)
# clauses of the target descriptions as extra competency vectors (max), with the adapter
cl, yc = [], []
for i, d in enumerate(dt):
    for a, b in segments(d):
        if len(d[a:b].split()) >= 3: cl.append(d[a:b]); yc.append(i)
Cv = E("mpnet", cl); Qa = adapt(E("mpnet", qt), Wp); R = adapt(E("mpnet", ref()), Wp)
Sc = np.full((len(qt), len(dt)), -1.0); Rc = np.full((R.shape[0], len(dt)), -1.0)
for k, i in enumerate(yc):
    Sc[:, i] = np.maximum(Sc[:, i], Qa @ Cv[k]); Rc[:, i] = np.maximum(Rc[:, i], R @ Cv[k])
has = np.array([i in set(yc) for i in range(len(dt))])
Sc = np.where(has, Sc - 0.5 * Rc.mean(0), Sp)
for w in (0.2, 0.3):
    print("clauses", w, score_dev((Sp + w * Sc) / (1 + w)), flush=True)
# ESCO descriptions as extra negatives
Qc, Dc, yc2 = pairset("mpnet", curator_pairs())
En = E("mpnet", [r["description"] for r in esco_skills()])
W2 = train([(Qc, np.vstack([Dc, En]), yc2, 1.0)], 768)
print("esco negatives", eval_all("mpnet", W2, 0.5), ilios_split("mpnet", W2), flush=True)
