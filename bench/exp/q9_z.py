# ruff: noqa: F401, F403, F405, E701, E702, E731
"""On the fused profile: (f) hub correction as a z-score over the reference objectives instead of -0.5 x mean;
(g) the domain (label stem, "Patient Care") prepended to each description ("Patient Care: Perform all ...")."""
import sys; from pathlib import Path; sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.exp.q9lib import *
from linking.engine import label_stem
comps, objs = dev(); qt = [o["text"] for o in objs]; dt = [c["description"] for c in comps]
dt_dom = [f"{label_stem(c['label']).capitalize()}: {c['description']}" for c in comps]
Ws = {n: train([pairset(n, curator_pairs()) + (1.0,)], d) for n, d in (("mpnet", 768), ("minilm", 384))}
def S(n, descs, mode="mean", cw=0.5):
    W = Ws[n]; Q = adapt(E(n, qt), W); D = E(n, descs); R = adapt(E(n, ref()), W) @ D.T
    raw = Q @ D.T
    if mode == "mean": return raw - cw * R.mean(0)
    z = (raw - R.mean(0)) / R.std(0); return z * R.std().mean()  # back to cosine scale
fuse = lambda a, b: 0.7 * a + 0.3 * b
print("fused", score_dev(fuse(S("mpnet", dt), S("minilm", dt))), flush=True)
print("fused z", score_dev(fuse(S("mpnet", dt, "z"), S("minilm", dt, "z"))), flush=True)
print("fused mean 1.0", score_dev(fuse(S("mpnet", dt, cw=1.0), S("minilm", dt, cw=1.0))), flush=True)
print("fused dom-prefixed", score_dev(fuse(S("mpnet", dt_dom), S("minilm", dt_dom))), flush=True)
