# ruff: noqa: F401, F403, F405, E701, E702, E731
"""MiniLM fusion weight for the descriptions profile chosen on the bundled MD -> HPC links, 2-fold (each fold's
adapters trained on the other fold), descriptions forced; then the chosen weight on dev / Ilios."""
import sys; from pathlib import Path; sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.exp.q9lib import *
mc, mq = md(); ids = [k for k in mc if mc[k]["description"]]
S = {n: [] for n in ("mpnet", "minilm")}; G = []
for f in range(2):
    test = [q for i, q in enumerate(mq) if i % 2 == f]; trn = [q for i, q in enumerate(mq) if i % 2 != f]
    pairs = [(q, mc[g]["description"]) for q, gold in trn for g in sorted(gold) if mc[g]["description"]]
    for n, dim in (("mpnet", 768), ("minilm", 384)):
        W = train([pairset(n, pairs) + (1.0,)], dim)
        S[n].append(scorer(n, W)(E(n, [q for q, _ in test]), E(n, [mc[k]["description"] for k in ids])))
    G += [{ids.index(g) for g in gold if g in ids} for _, gold in test]
Sp, Sm = np.vstack(S["mpnet"]), np.vstack(S["minilm"])
for w in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7):
    print("md2f fuse", w, summ(ranks((1 - w) * Sp + w * Sm, G), (1, 5)), flush=True)
