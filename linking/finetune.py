"""Reproducible offline fine-tuning of MiniLM on the ESCO catalogue (labels, alt labels, descriptions).

Training data come only from the competency catalogue given (ESCO: reuse authorised under
Commission Decision 2011/833/EU, with attribution); never from benchmark sentences or gold.
Pairs: (alt label -> label), (description -> label), contrastive with in-batch negatives
(MultipleNegativesRanking loss), each batch holding distinct competencies.

    python -m linking.finetune --competencies esco_skills.jsonl --out var/models/X
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import time
from pathlib import Path

from .onnx_export import export_onnx

RECIPE = {
    "base": "all-MiniLM-L6-v2",
    "pairs": ["alt->label", "desc->label", "template->label"],
    "epochs": 1,
    "batch": 64,
    "lr": 3e-5,
    "scale": 20.0,
    "seed": 13,
    "max_len": 32,
    "max_alts": 1,
    "combo_share": 0.35,
    "combo3_share": 0.3,
    "max_steps": 360,  # 0: all pairs; else stop after this many steps (schedule fitted to it)
    "freeze_embeddings": True,
}


# Generic job-ad / learning-objective frames for synthetic anchors (not taken from any benchmark).
FRAMES = (
    "You will {x}.", "Experience with {x}.", "Ability to {x}.", "Knowledge of {x} is required.",
    "We expect you to {x}.", "Responsible for {x}.", "Students will be able to {x}.", "You are good at {x}.",
    "Understand {x}.", "Proven skills in {x}.", "{X}.", "Familiarity with {x} is a plus.",
)
FRAMES2 = (
    "You will {x} and {y}.", "Experience with {x} and {y}.", "Ability to {x}, as well as {y}.",
    "{X}; {y}.", "You {x} and are able to {y}.", "Skills: {x}, {y}.",
)
FRAMES3 = (
    "Experience with {x}, {y} and {z}.", "{X} {y} {z}", "Skills: {x} {y} {z}", "You know {x}, {y}, {z}.",
    "Nice to have: {x}, {y} or {z}.", "We use {x}, {y} and {z}.",
)


def _fill(frame: str, x: str, y: str = "", z: str = "") -> str:
    return frame.format(x=x, y=y, z=z, X=x[:1].upper() + x[1:])


def _short(name: str) -> str:
    """'Python (computer programming)' -> 'Python': the way lists in job ads name tools."""
    return name.split(" (")[0] if " (" in name else name


def build_pairs(comps: list[dict], recipe: dict, rng: random.Random) -> list[tuple[str, str, int]]:
    """(anchor, positive, competency index) in an order where a batch holds distinct competencies."""
    per: list[list[tuple[str, str, int]]] = []
    for i, c in enumerate(comps):
        label = c["label"]
        ps = []
        if "desc->label" in recipe["pairs"] and c.get("description"):
            ps.append((c["description"], label, i))
        if "alt->label" in recipe["pairs"]:
            alts = [a for a in c.get("alt_labels") or [] if a and a != label]
            rng.shuffle(alts)
            ps += [(a, label, i) for a in alts[: recipe["max_alts"]]]
        if "template->label" in recipe["pairs"]:
            names = [label] + [a for a in c.get("alt_labels") or [] if a]
            x = rng.choice(names)
            u = rng.random()
            if recipe.get("combo3_share", 0) and u < recipe["combo3_share"]:
                others = [comps[rng.randrange(len(comps))] for _ in range(2)]
                ys = [_short(rng.choice([o["label"]] + list(o.get("alt_labels") or []))) for o in others]
                slots = [_short(x)] + ys
                rng.shuffle(slots)
                ps.append((_fill(rng.choice(FRAMES3), *slots), label, i))
            elif u < recipe.get("combo3_share", 0) + recipe.get("combo_share", 0.5):
                other = comps[rng.randrange(len(comps))]
                y = rng.choice([other["label"]] + list(other.get("alt_labels") or []))
                if rng.random() < 0.5:
                    x, y = y, x
                ps.append((_fill(rng.choice(FRAMES2), x, y), label, i))
            else:
                ps.append((_fill(rng.choice(FRAMES), x), label, i))
        rng.shuffle(ps)
        per.append(ps)
    out = []
    depth = max((len(p) for p in per), default=0)
    for r in range(depth):
        layer = [p[r] for p in per if len(p) > r]
        rng.shuffle(layer)
        out += layer
    return out


def train(competencies_path: str, out_dir: str, *, recipe: dict | None = None, threads: int | None = None,
          log=print) -> Path:
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    from .encoder import free_cores, minilm_path

    recipe = dict(RECIPE, **(recipe or {}))
    torch.manual_seed(recipe["seed"])
    np.random.seed(recipe["seed"])
    rng = random.Random(recipe["seed"])
    torch.set_num_threads(threads or free_cores())
    comps = [json.loads(line) for line in open(competencies_path, encoding="utf-8") if line.strip()]
    pairs = build_pairs(comps, recipe, rng)
    model = SentenceTransformer(str(minilm_path()), device="cpu", local_files_only=True)
    base_max_len = model.max_seq_length
    model.max_seq_length = recipe["max_len"]
    model.train()
    bs = recipe["batch"]
    steps = (len(pairs) + bs - 1) // bs * recipe["epochs"]
    if recipe["max_steps"]:
        steps = min(steps, recipe["max_steps"])
    if recipe["freeze_embeddings"]:
        for name, p in model.named_parameters():
            if ".embeddings." in name:
                p.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=recipe["lr"], weight_decay=0.01)
    warm = max(1, int(0.1 * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm))))
    ce = torch.nn.CrossEntropyLoss()
    t0 = time.time()
    step = 0
    for ep in range(recipe["epochs"]):
        for b0 in range(0, len(pairs), bs):
            if step >= steps:
                break
            batch = pairs[b0:b0 + bs]
            seen, clean = set(), []
            for a, p, i in batch:
                if i not in seen:
                    seen.add(i)
                    clean.append((a, p))
            if len(clean) < 2:
                continue
            loss = contrastive_step(model, clean, recipe["scale"], ce, opt, sched, params)
            step += 1
            if step % 50 == 0 or step == steps:
                el = time.time() - t0
                log(f"step {step}/{steps} loss {loss.item():.4f} {el:.0f}s (eta {el / step * (steps - step):.0f}s)")
    model.eval()
    model.max_seq_length = base_max_len  # training truncation must not limit inference
    final = Path(out_dir)
    out = final.with_name(final.name + ".building")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    model.save(str(out))
    (out / "gapmap_recipe.json").write_text(json.dumps({**recipe, "pairs_n": len(pairs),
                                                        "catalogue_sha1": catalogue_sha1(competencies_path),
                                                        "train_seconds": round(time.time() - t0, 1)}, indent=1))
    export_onnx(out)
    if final.exists():
        shutil.rmtree(final)
    os.replace(out, final)  # readers never see a half-written model
    log(f"saved {final} ({time.time() - t0:.0f}s)")
    return final


def contrastive_step(model, batch, scale, ce, opt, sched, params):
    """One step of in-batch contrastive training (symmetric InfoNCE over (anchor, positive) pairs, the other
    positives as negatives); shared by the ESCO and the curriculum builds.  Returns the loss."""
    import torch

    fa = model.preprocess([a for a, _ in batch])
    fp = model.preprocess([p for _, p in batch])
    ea = torch.nn.functional.normalize(model(fa)["sentence_embedding"], dim=-1)
    ep = torch.nn.functional.normalize(model(fp)["sentence_embedding"], dim=-1)
    sim = ea @ ep.T * scale
    labels = torch.arange(len(batch))
    loss = (ce(sim, labels) + ce(sim.T, labels)) / 2
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    sched.step()
    return loss


def recipe_matches(out: Path, recipe: dict, competencies_path: str) -> bool:
    """True when ``out`` holds a model built from this recipe and this catalogue."""
    f = out / "gapmap_recipe.json"
    if not (f.exists() and (out / "model.safetensors").exists()):
        return False
    try:
        built = json.loads(f.read_text())
    except ValueError:
        return False
    want = dict(RECIPE, **recipe)
    return all(built.get(k) == v for k, v in want.items()) and \
        built.get("catalogue_sha1") == catalogue_sha1(competencies_path) and (out / "model.onnx").exists()


def catalogue_sha1(path: str) -> str:
    import hashlib

    return hashlib.sha1(Path(path).read_bytes()).hexdigest()


def main(argv=None):
    from .encoder import finetuned_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--competencies", required=True, help="catalogue JSONL (uri, label, alt_labels, description)")
    ap.add_argument("--out", default=None, help="model directory (default: $GAPMAP_MODEL_DIR/minilm-esco)")
    ap.add_argument("--recipe", default="{}", help="JSON overrides of RECIPE")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--if-missing", action="store_true", help="do nothing if the same recipe is already built")
    a = ap.parse_args(argv)
    out = Path(a.out) if a.out else finetuned_dir()
    recipe = json.loads(a.recipe)
    if a.if_missing and recipe_matches(out, recipe, a.competencies):
        print(f"{out}: already built with this recipe")
        return
    train(a.competencies, str(out), recipe=recipe, threads=a.threads)


if __name__ == "__main__":
    main()
