"""Reproducible offline fine-tuning of the stock MiniLM on the bundled curriculum (issue 9, round 2).

The second member of the fused descriptions profile (``linking.ensemble``): all-MiniLM-L6-v2 fine-tuned on our own
authored data only -- each curator link of the bundled MD curriculum (``data/curriculum/md.csv``) as (objective
text, description of the linked competency of ``data/framework/hpc.csv``), plus each HPC label and alt label ->
its description.  Nothing from PCRS, Ilios, ESCO or any benchmark.  Contrastive (in-batch negatives, symmetric,
scale 20), batches of distinct competencies, AdamW, warm-up 10 %, linear decay, word embeddings frozen, fixed seed.

    python -m linking.curriculum_ft [--out var/models/minilm-curriculum] [--if-missing]

5-12 minutes on 2 shared cores (80 steps of 32 pairs; 309 s with the cores mostly free); the engine uses the stock MiniLM until it is built.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECIPE = {"base": "all-MiniLM-L6-v2", "pairs": ["md objective->hpc description", "hpc label/alt->description"],
          "steps": 80, "batch": 32, "lr": 3e-5, "scale": 20.0, "seed": 13, "max_len": 64,
          "freeze_embeddings": True, "threads": 2}
NAME = "minilm-curriculum"


def model_dir() -> Path:
    from .encoder import model_root

    return model_root() / NAME


def built(d: Path | None = None) -> bool:
    d = d or model_dir()
    return (d / "model.safetensors").exists() and (d / "gapmap_recipe.json").exists()


def pairs(root: Path = ROOT) -> list[tuple[str, str, str]]:
    """(anchor, competency description, competency id), in file order."""
    comps = {}
    with open(root / "data/framework/hpc.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["type"] in ("competency", "subcompetency"):
                comps[r["id"]] = r
    out = []
    with open(root / "data/curriculum/md.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            for c in [c.strip() for c in r["competencies"].split(";") if c.strip()]:
                if c in comps and comps[c]["description"]:
                    out.append((r["objective_text"], comps[c]["description"], c))
    for cid, r in comps.items():
        if not r["description"]:
            continue
        out.append((r["label"], r["description"], cid))
        out += [(a.strip(), r["description"], cid) for a in r["alt_labels"].split("|") if a.strip()]
    return out


def train(out_dir: str | os.PathLike, *, recipe: dict | None = None, log=print,
          data: list[tuple[str, str, str]] | None = None) -> float:
    """Fine-tune and save into ``out_dir`` (atomically).  ``data``: other pairs than :func:`pairs` (the benchmark's
    out-of-fold builds)."""
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    from .encoder import minilm_path
    from .finetune import contrastive_step

    recipe = dict(RECIPE, **(recipe or {}))
    seed = recipe["seed"]
    torch.manual_seed(seed)
    np.random.seed(seed)
    rng = random.Random(seed)
    torch.set_num_threads(recipe["threads"])
    model = SentenceTransformer(str(minilm_path()), device="cpu", local_files_only=True)
    base_len = model.max_seq_length
    model.max_seq_length = recipe["max_len"]
    model.train()
    data = pairs() if data is None else list(data)
    if recipe["freeze_embeddings"]:
        for n, p in model.named_parameters():
            if ".embeddings." in n:
                p.requires_grad_(False)
    params = [p for n, p in model.named_parameters() if ".embeddings." not in n]
    opt = torch.optim.AdamW(params, lr=recipe["lr"], weight_decay=0.01)
    steps, bs = recipe["steps"], recipe["batch"]
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm))))
    ce = torch.nn.CrossEntropyLoss()
    t0, step, order = time.time(), 0, []
    while step < steps:
        if not order:
            order = list(range(len(data)))
            rng.shuffle(order)
        batch, seen = [], set()
        while order and len(batch) < bs:
            a, p, c = data[order.pop()]
            if c in seen:
                continue
            seen.add(c)
            batch.append((a, p))
        if len(batch) < 2:
            continue
        loss = contrastive_step(model, batch, recipe["scale"], ce, opt, sched, params)
        step += 1
        if step % 10 == 0:
            log(f"step {step}/{steps} loss {loss.item():.3f} {time.time() - t0:.0f}s")
    model.eval()
    model.max_seq_length = base_len
    out = Path(out_dir)
    tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    model.save(str(tmp))
    (tmp / "gapmap_recipe.json").write_text(json.dumps({**recipe, "pairs_n": len(data)}, indent=2) + "\n")
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)  # complete or absent: the recipe file marks a finished build
    return time.time() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=None, help="model directory (default: $GAPMAP_MODEL_DIR/minilm-curriculum)")
    ap.add_argument("--if-missing", action="store_true", help="do nothing when the model is already built")
    a = ap.parse_args(argv)
    out = Path(a.out) if a.out else model_dir()
    if a.if_missing and built(out):
        print(f"{out}: already built")
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    secs = train(out)
    print(f"built {out} in {secs:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
