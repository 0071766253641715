# ruff: noqa: F401, F403, F405, E701, E702, E731
"""Out-of-fold check of the curriculum MiniLM member: for each of 2 folds of the MD objectives (as in
bench/alignment_curriculum.py), build the MiniLM on the other fold's curator links + all HPC label pairs
(linking.curriculum_ft, same recipe), train each member's adapter on the other fold, score the fold; fusion weights
and rank-aware calibration from the pooled out-of-fold scores."""
import sys, json; from pathlib import Path; sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.exp import q9lib as L
from bench.exp.q9lib import *
from linking import curriculum_ft
from linking.encoder import load_local
from bench.alignment_curriculum import calibration
mc, mq = md(); ids = [k for k in mc if mc[k]["description"]]
label_pairs = [p for p in curriculum_ft.pairs() if p[0] not in {q for q, _ in mq}]
Sp, Sf, Sm, G = [], [], [], []
for f in range(2):
    test = [q for i, q in enumerate(mq) if i % 2 == f]; trn = [q for i, q in enumerate(mq) if i % 2 != f]
    pairs = [(q, mc[g]["description"]) for q, gold in trn for g in sorted(gold) if mc[g]["description"]]
    out = Path(f"/tmp/q9/ft-fold{f}")
    if not curriculum_ft.built(out):
        data = [(q, d, g) for q, gold in trn for g in sorted(gold) if mc[g]["description"] for d in [mc[g]["description"]]] + label_pairs
        curriculum_ft.train(out, data=data)
    ft = load_local(out, cache_dir=C)
    L.E = M_E = (lambda ft: (lambda name, texts: ft.encode(list(texts)) if name == "ft" else E(name, texts)))(ft)
    import bench.exp.q9lib as M; M.E = M_E
    D = {n: M_E(n, [mc[k]["description"] for k in ids]) for n in ("mpnet", "minilm", "ft")}
    for n, dim, acc in (("mpnet", 768, Sp), ("minilm", 384, Sm), ("ft", 384, Sf)):
        W = train([pairset(n, pairs) + (1.0,)], dim)
        acc.append(scorer(n, W)(M_E(n, [q for q, _ in test]), D[n]))
    G += [{ids.index(g) for g in gold if g in ids} for _, gold in test]
Sp, Sf, Sm = np.vstack(Sp), np.vstack(Sf), np.vstack(Sm)
for w in (0.0, 0.2, 0.3, 0.4, 0.5, 0.6):
    print("md2f mpnet+ft", w, summ(ranks((1 - w) * Sp + w * Sf, G), (1, 5)), flush=True)
print("md2f mpnet+stock 0.3", summ(ranks(0.7 * Sp + 0.3 * Sm, G), (1, 5)))
for w in (0.3, 0.5):
    S = (1 - w) * Sp + w * Sf; obs = []
    for row, g in zip(S, G):
        order = np.argsort(-row, kind="stable")[:10]
        obs += [(float(row[j]), j in g, r) for r, j in enumerate(order, 1)]
    print("calib", w, json.dumps({f"{lo}-{hi}": calibration([(x, c) for x, c, r in obs if lo <= r <= hi]) for lo, hi in ((1, 1), (2, 3), (4, 10))}))
