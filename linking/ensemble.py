"""Score fusion of description-led linkers (issue 9): one catalogue, several encoders, one ranking.

When descriptions lead (:func:`linking.engine.catalogue_stats`), the descriptions profile is scored by
all-mpnet-base-v2 and by the stock all-MiniLM-L6-v2, each with its own query adapter (trained on the same
bundled curator links) and reference centring; the final score is ``(1 - w) x mpnet + w x MiniLM``.  The two
models make different mistakes (bench/EXPERIMENTS.md, "Objective linking, round 2"): the fusion weight ``w``
was chosen on the bundled MD -> HPC curator links, 2-fold (each fold's adapters trained on the other fold),
never on the PCRS dev set.  Evidence comes from the first member (the description that matched), the expected
precision from the fused profile's own calibration (:data:`FUSED_CALIBRATION`).

Only the descriptions path uses this module: the labels path (ESCO, ``gapmap link``'s job-ad method) is a
plain :class:`~linking.engine.Linker`, unchanged, so its ranks and speed stay as they were.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Sequence

import numpy as np

from . import settings
from .engine import LinkerConfig, Evidence, Linker, Match, expected_precision

#: weight of the MiniLM member (chosen on MD -> HPC 2-fold; see the module docstring)
MINILM_WEIGHT = 0.3
#: (fused score, expected precision) knots: isotonic fit on the bundled MD curator links, descriptions profile
#: forced, 2-fold (bench/alignment_curriculum.py, "calibration_fused"); never fitted on the PCRS dev set
#: (MD 2-fold: MRR 80.87 / R@1 72.03 / R@5 94.06 fused, 80.35 / 71.68 / 91.96 mpnet alone).  Top knot capped at 0.95.
FUSED_CALIBRATION: tuple = (
    (0.10, 0.019), (0.15, 0.021), (0.20, 0.044), (0.25, 0.127), (0.30, 0.31), (0.35, 0.529), (0.40, 0.787),
    (0.45, 0.846), (0.50, 0.95))
#: the same fit per rank bucket (rank 1, ranks 2-3, ranks 4-10; "calibration_by_rank"): the same score is right
#: far more often at rank 1 than at rank 8, which one score-only curve cannot say (ECE on the dev set's top 3:
#: see bench/results/calibration.json).  Flat tails are where the bucket has no higher-scored observations.
FUSED_CALIBRATION_BY_RANK: tuple = (
    (1, ((0.10, 0.0), (0.15, 0.266), (0.20, 0.429), (0.25, 0.429), (0.30, 0.66), (0.35, 0.816), (0.40, 0.857),
         (0.45, 0.864), (0.50, 0.95))),
    (3, ((0.10, 0.0), (0.15, 0.052), (0.20, 0.10), (0.25, 0.14), (0.30, 0.183), (0.35, 0.267), (0.40, 0.333))),
    (10, ((0.05, 0.0), (0.10, 0.015), (0.20, 0.015), (0.25, 0.068))),
)
#: the same per-rank fit for the fusion with the curriculum-tuned MiniLM (``linking.curriculum_ft``), out of fold:
#: each fold's MiniLM built and each adapter trained on the other fold's links (bench/exp/q9_ft_cv.py; MD 2-fold
#: MRR 83.3 / R@1 74.8 / R@5 94.1 at weight 0.3).  Top knot capped at 0.95.
CURRICULUM_FUSED_CALIBRATION_BY_RANK: tuple = (
    (1, ((0.15, 0.0), (0.20, 0.468), (0.25, 0.468), (0.30, 0.571), (0.35, 0.816), (0.40, 0.865), (0.45, 0.933),
         (0.50, 0.95))),
    (3, ((0.15, 0.0), (0.20, 0.069), (0.25, 0.108), (0.30, 0.208), (0.35, 0.286), (0.45, 0.333))),
    (10, ((0.05, 0.002), (0.10, 0.003), (0.15, 0.014), (0.20, 0.014), (0.25, 0.048), (0.30, 0.077))),
)


def member_scores(linker: Linker, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(queries x competencies) final scores of a whole-sentence linker (no segments, no lexical parts), and
    the (adapted) query vectors.  Uses the linker's own encoder, adapter and centring."""
    cfg = linker.config
    if cfg.segment or cfg.bm25_weight or cfg.exact_bonus or cfg.hub_weight or cfg.description_weight:
        raise ValueError("score fusion needs whole-sentence members (descriptions profile)")
    _, _, owner, uvecs, _ = linker.score_matrix(texts)
    s = linker._dense(uvecs)
    if cfg.center_weight:
        s = s - linker._center
    return s, uvecs


class FusedLinker:
    """Ranks like :class:`~linking.engine.Linker` (same ``rank`` contract, same ``Match``/``Evidence``) from a
    weighted sum of its members' scores.  Members share the competency list; the first one gives evidence."""

    def __init__(self, members: Sequence[tuple[Linker, float]], *, calibration: tuple | None = None,
                 rank_calibration: tuple | None = None):
        if not members:
            raise ValueError("no members")
        self.members = [(lk, float(w)) for lk, w in members]
        first = self.members[0][0]
        uris = [c.uri for c in first.competencies]
        for lk, _ in self.members[1:]:
            if [c.uri for c in lk.competencies] != uris:
                raise ValueError("fused linkers must rank the same competencies")
        self.competencies = first.competencies
        self.encoder = first.encoder
        self.config: LinkerConfig = replace(first.config, calibration=calibration or first.config.calibration)
        #: ((max rank, knots), ...) ascending: the knots for a suggestion's rank; None: the score-only knots
        self.rank_calibration = rank_calibration
        tags = ",".join(f"{lk.encoder.model_id.split('@')[0]}:{w:g}" for lk, w in self.members)
        self.model_version = f"{first.model_version}+fused({tags})"

    def scores(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Fused (queries x competencies) scores and the first member's query vectors (for evidence)."""
        total, first_vecs = None, None
        for lk, w in self.members:
            s, v = member_scores(lk, texts)
            total = w * s if total is None else total + w * s
            if first_vecs is None:
                first_vecs = v
        return total, first_vecs

    def precision(self, score: float, rank: int) -> float:
        """Calibrated expected precision of a suggestion with this fused score at this rank (1-based)."""
        for max_rank, knots in self.rank_calibration or ():
            if rank <= max_rank:
                return expected_precision(score, knots)
        return self.config.expected_precision(score)

    def rank(self, texts: Sequence[str], top_k: int = 10) -> list[list[Match]]:
        texts = list(texts)
        if not texts or not self.competencies:
            return [[] for _ in texts]
        top_k = max(1, min(top_k, len(self.competencies)))
        score, _ = self.scores(texts)
        first = self.members[0][0]
        idx = np.argpartition(-score, top_k - 1, axis=1)[:, :top_k]
        out = []
        for r, text in enumerate(texts):
            order = idx[r][np.argsort(-score[r, idx[r]], kind="stable")]
            matches = []
            cap = 1.0  # a suggestion never gets a higher expected precision than the one ranked above it
            for rank, ci in enumerate(order, 1):
                c = self.competencies[int(ci)]
                a = int(first._starts[ci])
                f = ("label", "alt_label", "description")[int(first._item_field[a])]
                ev = Evidence(f, first._item_text[a], (0, len(text)))
                s = float(score[r, ci])
                cap = min(cap, self.precision(s, rank))
                matches.append(Match(c.uri, s, ev, cap))
            out.append(matches)
        return out


def fusion_enabled() -> bool:
    return settings.current().desc_fusion


def rank_aware_calibration() -> bool:
    return settings.current().rank_calibration


_CURRICULUM_ENCODERS: dict = {}


def curriculum_minilm(*, cache_dir=None):
    """The MiniLM fine-tuned on the bundled curriculum (``python -m linking.curriculum_ft``), loaded once per
    process and cache dir; None when it has not been built or ``GAPMAP_DESC_MINILM=base`` asks for the stock one."""
    from . import curriculum_ft
    from .encoder import load_local

    d = curriculum_ft.model_dir()
    if settings.current().desc_minilm == "base" or not curriculum_ft.built(d):
        return None
    key = (str(d.resolve()), str(cache_dir))
    if key not in _CURRICULUM_ENCODERS:
        _CURRICULUM_ENCODERS[key] = load_local(d, cache_dir=cache_dir)
    return _CURRICULUM_ENCODERS[key]


def fuse_descriptions(linker: Linker, *, cache_dir=None, progress: bool = False, minilm=None):
    """The descriptions profile as shipped: ``linker`` (mpnet) fused with the same profile over MiniLM -- the one
    fine-tuned on the bundled curriculum when built (:func:`curriculum_minilm`), else the stock one.

    Returns ``linker`` itself when fusion is off (``GAPMAP_DESC_FUSION=0``) or when ``linker`` is not the mpnet
    one (e.g. mpnet not installed: the MiniLM linker alone is the fallback).  ``minilm``: an already loaded
    MiniLM encoder to share (the service keeps one per kind)."""
    if not fusion_enabled() or getattr(linker.encoder, "name", "") != "mpnet":
        return linker
    enc = curriculum_minilm(cache_dir=cache_dir)
    by_rank = CURRICULUM_FUSED_CALIBRATION_BY_RANK
    if enc is None:
        from .encoder import load_minilm

        enc = minilm or load_minilm(cache_dir=cache_dir)
        by_rank = FUSED_CALIBRATION_BY_RANK
    second = Linker(linker.competencies, config=linker.config, encoder=enc, progress=progress)
    fused = FusedLinker([(linker, 1.0 - MINILM_WEIGHT), (second, MINILM_WEIGHT)], calibration=FUSED_CALIBRATION,
                        rank_calibration=by_rank if rank_aware_calibration() else None)
    return fused
