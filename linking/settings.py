"""The linking engine's settings: one frozen object, read from the environment once.

The service's :class:`service.config.Config` owns the same variables (documented in the README's
configuration table) and hands them over with :func:`configure`, so a server, the CLI and a
bench script see one value per variable.  Library code asks :func:`current`, never ``os.environ``.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    #: torch/onnx threads; None = the cores other processes are not busy on
    threads: int | None = None
    #: "auto" (onnxruntime where an ONNX export exists) or "torch"
    encoder_backend: str = "auto"
    #: where assembled and fine-tuned models live
    model_dir: str = str(ROOT / "var" / "models")
    #: the link encoder: "auto" (the ESCO-tuned MiniLM when built, else MiniLM), "base", or a model folder
    link_model: str = "auto"
    #: the encoder of description-led catalogues: "mpnet" or "minilm"
    desc_model: str = "mpnet"
    #: the embedding cache root (embeddings/ below it)
    cache_dir: str = str(ROOT / "var" / "cache")
    #: description-led catalogues: fuse mpnet with a MiniLM (False: mpnet alone)
    desc_fusion: bool = True
    #: that MiniLM: "curriculum" (fine-tuned on the bundled curriculum when built) or "base"
    desc_minilm: str = "curriculum"
    #: expected precision fitted per rank (False: from the score alone)
    rank_calibration: bool = True
    #: ``gapmap link``: competencies per sentence scored exactly after the label-only first stage (0: score
    #: every unit against every name; see engine.LinkerConfig.shortlist)
    link_shortlist: int = 300
    #: ``gapmap link``'s encoder arithmetic: "fp32" (onnxruntime), "bf16" (torch; ~2.7x faster where the CPU has
    #: AMX or AVX512-BF16, emulated and slower elsewhere) or "auto" (bf16 on such CPUs, else fp32)
    link_precision: str = "auto"

    @classmethod
    def from_env(cls, environ=None) -> "Settings":
        env = os.environ if environ is None else environ

        def get(name, default):
            v = env.get(name)
            return default if v in (None, "") else v

        def whole(name):  # read as the service's Config reads it (int(): " 300 " and "+5" are numbers too)
            v = get(name, None)
            try:
                return None if v is None else int(v)
            except ValueError:
                raise ValueError(f"{name} must be a whole number, not {v!r}") from None

        threads = whole("GAPMAP_THREADS")
        shortlist = whole("GAPMAP_LINK_SHORTLIST")  # range checked in __post_init__ (also for Config's values)
        base = cls()
        return cls(
            threads=threads or None,  # 0: the free cores, as unset
            encoder_backend=get("GAPMAP_ENCODER_BACKEND", base.encoder_backend),
            model_dir=get("GAPMAP_MODEL_DIR", base.model_dir),
            link_model=get("GAPMAP_LINK_MODEL", base.link_model),
            desc_model=get("GAPMAP_DESC_MODEL", base.desc_model),
            cache_dir=get("GAPMAP_CACHE_DIR", base.cache_dir),
            desc_fusion=get("GAPMAP_DESC_FUSION", "1") != "0",
            desc_minilm=get("GAPMAP_DESC_MINILM", base.desc_minilm),
            rank_calibration=get("GAPMAP_RANK_CALIBRATION", "1") != "0",
            link_shortlist=shortlist if shortlist is not None else base.link_shortlist,
            link_precision=get("GAPMAP_LINK_PRECISION", base.link_precision),
        )

    def __post_init__(self):
        if self.encoder_backend not in ("auto", "torch"):
            raise ValueError(f'GAPMAP_ENCODER_BACKEND must be "auto" or "torch", not {self.encoder_backend!r}')
        if self.link_precision not in ("auto", "fp32", "bf16"):
            raise ValueError(f'GAPMAP_LINK_PRECISION must be "auto", "fp32" or "bf16", not {self.link_precision!r}')
        if self.desc_minilm not in ("curriculum", "base"):
            raise ValueError(f'GAPMAP_DESC_MINILM must be "curriculum" or "base", not {self.desc_minilm!r}')
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"GAPMAP_THREADS must be 1 or more (0 or unset: the free cores), not {self.threads!r}")
        if isinstance(self.link_shortlist, bool) or not isinstance(self.link_shortlist, int) \
                or not 0 <= self.link_shortlist <= 10 ** 6:
            raise ValueError(f"GAPMAP_LINK_SHORTLIST must be a whole number from 0 (exact) to 1000000, "
                             f"not {self.link_shortlist!r}")
        if self.desc_model not in ("mpnet", "minilm"):
            raise ValueError(f'GAPMAP_DESC_MODEL must be "mpnet" or "minilm", not {self.desc_model!r}')


_current: Settings | None = None


def current() -> Settings:
    """The configured settings, else the environment's (read afresh: a few lookups, and a script
    or test that sets a variable sees it)."""
    return _current if _current is not None else Settings.from_env()


def configure(settings: Settings | None = None, **changes) -> Settings:
    """Fix the settings (the service calls this from its Config); returns them."""
    global _current
    base = settings or current()
    _current = dataclasses.replace(base, **changes) if changes else base
    return _current


def reset() -> None:
    """Back to reading the environment (tests)."""
    global _current
    _current = None
