# ruff: noqa: F401, F403, F405, E701, E702, E731
"""Ensembles and domain priors on top of the shipped a2 (cached vectors; no dev-set fitting beyond the grid shown).
- mpnet a2 + MiniLM a2 score fusion (weight on MiniLM) or reciprocal-rank fusion;
- + BM25 over descriptions;
- domain prior: competencies grouped by label stem (codes removed: "Patient Care 1.1" -> "patient care"),
  s_c + lam * tau*logsumexp(s_domain/tau) (evidence the objective belongs to that domain)."""
import sys; from pathlib import Path; sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.exp.q9lib import *
from linking.engine import label_stem
comps, objs = dev(); qt = [o["text"] for o in objs]; dt = [c["description"] for c in comps]
Wp = train([pairset("mpnet", curator_pairs()) + (1.0,)], 768)
Wm = train([pairset("minilm", curator_pairs()) + (1.0,)], 384)
Sp = scorer("mpnet", Wp)(E("mpnet", qt), E("mpnet", dt))
Sm = scorer("minilm", Wm)(E("minilm", qt), E("minilm", dt))
print("a2", score_dev(Sp)); print("minilm a2", score_dev(Sm))
for w in (0.2, 0.3, 0.5):
    print("fuse minilm", w, score_dev((1 - w) * Sp + w * Sm))
def rrf(*Ss, k=60):
    out = 0
    for S in Ss:
        r = np.argsort(np.argsort(-S, 1), 1) + 1
        out = out + 1.0 / (k + r)
    return out
print("rrf", score_dev(rrf(Sp, Sm)))
from linking.lexical import BM25
bm = BM25(dt); B = bm.scores(qt); B = B / np.maximum(B.max(1, keepdims=True), 1e-9)
for w in (0.05, 0.1, 0.2):
    print("bm25", w, score_dev(Sp + w * B))
stems = [label_stem(c["label"]) for c in comps]; doms = sorted(set(stems)); M = np.array([[s == d for d in doms] for s in stems], float)
def dom_prior(S, tau):
    out = np.zeros((S.shape[0], len(doms)))
    for j in range(len(doms)):
        x = S[:, M[:, j] > 0] / tau; m = x.max(1, keepdims=True)
        out[:, j] = tau * (m[:, 0] + np.log(np.exp(x - m).mean(1)))
    return out @ M.T
for tau in (0.02, 0.05, 0.1):
    for lam in (0.2, 0.5):
        print("dom", tau, lam, score_dev(Sp + lam * dom_prior(Sp, tau)))
