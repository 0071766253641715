# ruff: noqa: F401, F403, F405, E701, E702, E731
"""Synthetic objective-like sentences from another framework's text (ESCO health skills, skill/competence type):
"Students will be able to {label}." -> the skill's description, mixed with the curator pairs (weight 0.3 / 1.0).
Nothing from PCRS or the dev set.  Dev / Ilios / MD 2-fold."""
import sys; from pathlib import Path; sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.exp.q9lib import *
FR = ["Students will be able to {x}.", "Demonstrate the ability to {x}.", "By the end of the clerkship, {x} under supervision."]
rows = esco_skills("skill/competence")
syn = [(FR[i % len(FR)].format(x=r["label"]), r["description"]) for i, r in enumerate(rows)]
P = pairset("mpnet", syn); Pc = pairset("mpnet", curator_pairs())
for wt in (0.3, 1.0):
    W = train([Pc + (1.0,), P + (wt,)], 768)
    cv = lambda p: train([pairset("mpnet", p) + (1.0,), P + (wt,)], 768)
    print("templ", wt, eval_all("mpnet", W, 0.5, md_cv=cv), flush=True)
