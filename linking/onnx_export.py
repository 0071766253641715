"""The ONNX export of a sentence-transformer folder (onnxruntime encodes ~3x faster than torch on
CPU); used by the encoder and by the fine-tuning build step."""
from __future__ import annotations

import os
from pathlib import Path


def export_onnx(model_dir: str | os.PathLike, *, token_type_ids: bool = True) -> Path:
    """Write ``model.onnx`` (transformer up to last_hidden_state) beside a saved model.

    The encoder then runs it with onnxruntime: same vectors (cosine >= 0.9999998), ~3x faster
    on CPU, and no torch import in ``gapmap link``.
    """
    import torch
    from transformers import AutoModel

    d = Path(model_dir)
    base = AutoModel.from_pretrained(str(d), local_files_only=True).eval()

    class _Wrap(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.m(input_ids=input_ids, attention_mask=attention_mask,
                          token_type_ids=token_type_ids).last_hidden_state

    class _Wrap2(torch.nn.Module):  # models without token types (MPNet)
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask):
            return self.m(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    x = torch.ones(2, 16, dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    tmp = d / f"model.onnx.tmp{os.getpid()}"
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if token_type_ids else [])
    torch.onnx.export(_Wrap(base) if token_type_ids else _Wrap2(base),
                      (x, x, torch.zeros_like(x)) if token_type_ids else (x, x), str(tmp),
                      input_names=names, output_names=["last_hidden_state"],
                      dynamic_axes={**{n: axes for n in names}, "last_hidden_state": axes},
                      opset_version=17, dynamo=False)
    os.replace(tmp, d / "model.onnx")
    return d / "model.onnx"
