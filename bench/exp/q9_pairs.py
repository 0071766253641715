# ruff: noqa: F401, F403, F405, E701, E702, E731
"""Training pairs derived from framework text (not the target catalogue, not the dev set): ESCO health skills
(label -> description) and the bundled HPC framework (label / alt labels -> description), mixed with the curator
pairs to train the query adapter.  Dev / Ilios / MD 2-fold."""
import sys; from pathlib import Path; sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.exp.q9lib import *
name = sys.argv[1] if len(sys.argv) > 1 else "mpnet"; dim = 768 if name == "mpnet" else 384
esc = [(r["label"], r["description"]) for r in esco_skills()]
esc_s = [(r["label"], r["description"]) for r in esco_skills("skill/competence")]
hc = [r for r in csv.DictReader(open(ROOT / "data/framework/hpc.csv")) if r["description"]]
hpc = [(x, r["description"]) for r in hc for x in [r["label"]] + [a.strip() for a in r["alt_labels"].split("|") if a.strip()]]
print(len(esc), len(esc_s), len(hpc))
P = {k: pairset(name, v) for k, v in [("cur", curator_pairs()), ("esco", esc), ("esco_s", esc_s), ("hpc", hpc)]}
def run(tag, mix, steps=100, cw=0.5, cv_md=False, **kw):
    W = train([P[k] + (w,) for k, w in mix], dim, steps=steps, **kw)
    cv = lambda p: train([pairset(name, p) + (1.0,)] + [P[k] + (w,) for k, w in mix if k != "cur"], dim, steps=steps, **kw)
    print(tag, eval_all(name, W, cw, md_cv=cv if cv_md else None), ilios_split(name, W, cw), flush=True)
for tag, mix in [("cur + esco 1.0", [("cur", 1.0), ("esco", 1.0)]), ("esco only", [("esco", 1.0)]),
                 ("cur + esco 0.3", [("cur", 1.0), ("esco", 0.3)]),
                 ("cur + esco_s 1.0", [("cur", 1.0), ("esco_s", 1.0)]),
                 ("cur + esco 1.0 + hpc 0.3", [("cur", 1.0), ("esco", 1.0), ("hpc", 0.3)])]:
    run(tag, mix)
