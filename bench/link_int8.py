#!/usr/bin/env python3
"""Experiment: the ESCO-tuned MiniLM with its ONNX graph quantized to int8, through the same skill-linking bench.

    .venv/bin/python bench/link_int8.py      (after bench/linking.py has built var/models/minilm-esco)

Copies the model to var/models/minilm-esco-int8, quantizes ``model.onnx`` (onnxruntime dynamic quantization,
int8 weights per channel), marks the recipe so its embedding cache is its own, and runs bench/linking.py with
``GAPMAP_LINK_MODEL`` pointing at the copy: HOUSE/TECH RP@5 and the 2,000-sentence speed run, written to
bench/results/linking_int8.json beside linking.json (fp32). Not the default: see docs/scale.md.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "var" / "models" / "minilm-esco"
DST = ROOT / "var" / "models" / "minilm-esco-int8"
OUT = ROOT / "bench" / "results" / "linking_int8.json"


def quantize(src: Path = SRC, dst: Path = DST) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    recipe = json.loads((dst / "gapmap_recipe.json").read_text())
    recipe["onnx_int8"] = True  # the cache id hashes the recipe: int8 vectors never mix with fp32 ones
    (dst / "gapmap_recipe.json").write_text(json.dumps(recipe, indent=1))
    quantize_dynamic(str(src / "model.onnx"), str(dst / "model.onnx"), weight_type=QuantType.QInt8,
                     per_channel=True)
    return dst


def main() -> int:
    if not (SRC / "model.onnx").exists():
        print(f"SKIP: {SRC} has no model.onnx: run bench/linking.py (make bench-linking) first")
        return 0
    d = quantize()
    env = {**os.environ, "GAPMAP_LINK_MODEL": str(d)}
    return subprocess.run([sys.executable, str(ROOT / "bench" / "linking.py"), "--out", str(OUT)], env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
