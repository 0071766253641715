"""Competency linking engine: rank competencies for free-text sentences.

Method (bench/EXPERIMENTS.md says how each part was chosen and what it is worth):

* encoder: all-MiniLM-L6-v2 (shipped by a PyPI package), fine-tuned offline on the ESCO catalogue
  when that build step has been run (``linking.finetune``; run with onnxruntime from
  the exported ``model.onnx``), else the stock model (torch);
* every competency has several vectors: its label and each alt label (alt labels count 0.03 less,
  so the label wins ties); its name score is the max cosine over them;
* a query is encoded whole, split into clauses (segments), into 3-word windows (stride 2) when
  it is longer than 6 words and, when it reads like a keyword list ("django postgresql redis"),
  into words and word pairs; each unit is scored, clauses count 0.05 less and windows / keyword
  units 0.10 less than the whole sentence;
* final score = 0.7 x best unit + 0.3 x whole sentence (keeps the sentence's context);
* optional parts that did not help on the dev sets stay switchable in :class:`LinkerConfig`
  (description vectors, BM25 fusion, hubness correction), off by default;
* the top-k competencies come with evidence (the label / alt label / description that matched and
  the query span it matched) and a calibrated expected precision (:func:`expected_precision`).
"""
from __future__ import annotations

import bisect
import os
import re
from dataclasses import dataclass, field, asdict
from typing import Sequence

import numpy as np

from . import settings
from .encoder import Encoder, default_encoder
from .catalogue import (AGREEMENT_MIN, AGREEMENT_SAMPLE, CatalogueStats, catalogue_stats,  # noqa: F401 (re-exported)
                        choose_lead, label_description_agreement, label_stem)
from .units import TOKEN, function_word_ratio, is_acronym, keyword_units, phrase_bounded, segments

METHOD_NAME = "gapmap-link"
METHOD_REVISION = "1"


@dataclass(frozen=True)
class CompetencyText:
    uri: str
    label: str
    alt_labels: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Evidence:
    field: str  # "label" | "alt_label" | "description"
    text: str  # the competency-side text that matched
    query_span: tuple[int, int]  # char offsets in the query of the span that matched best

    def to_dict(self) -> dict:
        return {"field": self.field, "text": self.text, "query_span": list(self.query_span)}


@dataclass(frozen=True)
class Match:
    uri: str
    score: float
    evidence: Evidence
    precision: float  # calibrated expected precision of this suggestion

    def to_dict(self) -> dict:
        return {"uri": self.uri, "score": round(self.score, 6), "precision": round(self.precision, 4),
                "evidence": self.evidence.to_dict()}


@dataclass(frozen=True)
class LinkerConfig:
    """Knobs of the method (defaults are the shipped method; the benchmark varies them)."""

    alt_labels: bool = True
    alt_penalty: float = 0.03  # subtracted from alt-label cosines (label preferred on ties)
    description_weight: float = 0.0
    bm25_weight: float = 0.0
    segment: bool = True
    segment_penalty: float = 0.05  # subtracted from segment scores (whole query preferred)
    segment_mix: float = 0.3  # final = (1-m) * best unit + m * whole query
    keyword_split: bool = True  # keyword-list spans also give single words and word pairs as units
    keyword_penalty: float = 0.05  # extra penalty on those word units
    keyword_max_fw: float = 0.1  # only in queries whose share of function words is at most this
    window_words: int = 3  # also windows of this many words in queries longer than 2x that
    window_stride: int = 2  # words between window starts (0: half the window)
    hub_weight: float = 0.0  # CSLS-style hubness correction: subtract w * r_c
    hub_k: int = 10
    #: cache query-side embeddings too (curriculum objectives are re-aligned again and again)
    cache_queries: bool = False
    #: added when a label or alt label (>= 3 characters) occurs verbatim in the query (acronyms such as
    #: "I-PASS" or "SBAR" that a sentence encoder does not know)
    exact_bonus: float = 0.0
    #: (score, expected precision) knots of this profile; None: the ESCO job-ad calibration below
    calibration: tuple | None = None
    #: what represents a competency: "labels" (label + alt labels, the job-ad method) or "descriptions"
    #: (the description, or the label when a competency has none) for catalogues whose labels carry
    #: little meaning ("Patient Care 1.1"); :func:`choose_lead` picks it from the catalogue itself
    lead: str = "labels"
    #: subtract w x (the competency's mean score over a fixed reference set of objective-like
    #: sentences): competencies whose text resembles everything (hubs) stop winning by default
    center_weight: float = 0.0
    #: map query (objective) vectors through a linear adapter trained on the bundled curriculum's curator links
    #: (objective -> competency description; see :func:`query_adapter`) before scoring
    query_adapter: bool = False
    #: 0: every query unit is scored against every name (exact).  N > 0: two stages -- every unit against the
    #: competencies' preferred labels only (one row per competency instead of ~7 names on ESCO); the N best
    #: competencies per query by that score are then scored exactly over all their names, the rest keep the
    #: label-only score, always below the shortlisted ones (``Linker._dense_shortlist``; results past rank N, when
    #: more are asked for, are ranked by it).  Taken for catalogues of at least 4x that many
    #: competencies with several names each; ``gapmap link`` uses 300 (settings.link_shortlist): ~1.5x faster on
    #: ESCO and better on both dev sets (bench/EXPERIMENTS.md 7b)
    shortlist: int = 0
    extra: dict = field(default_factory=dict, hash=False, compare=False)

    def tag(self) -> str:
        d = asdict(self)
        d.pop("extra")
        d.pop("calibration")
        return ",".join(f"{k}={v}" for k, v in d.items())

    def expected_precision(self, score: float) -> float:
        return expected_precision(score, self.calibration or CALIBRATION)


# --- calibration -------------------------------------------------------------------------------
# (score, expected precision) knots measured on the dev sets by bench/calibrate.py (isotonic regression of
# "this top-10 suggestion is a gold link" on its score, HOUSE + TECH, 5,950 suggestions; see
# bench/EXPERIMENTS.md, "Calibration").  Linear interpolation between knots, clamped at the ends; monotone.
# Measured for the fine-tuned model and the `gapmap link` config (shortlist 300; re-measured 2026-12-02, top-1
# precision 44.2% -> 45.5%): re-run bench/calibrate.py when either changes.
CALIBRATION: tuple[tuple[float, float], ...] = (
    (0.35, 0.000), (0.40, 0.023), (0.45, 0.043), (0.50, 0.055), (0.55, 0.085), (0.60, 0.169), (0.65, 0.231),
    (0.70, 0.429), (0.75, 0.489), (0.80, 0.633), (0.85, 0.754), (0.90, 0.765), (0.95, 0.765),
)


def expected_precision(score: float, knots=None) -> float:
    """Expected share of suggestions with this score that are correct (calibrated on dev sets)."""
    knots = knots or CALIBRATION
    xs = [k[0] for k in knots]
    ys = [k[1] for k in knots]
    if score <= xs[0]:
        return ys[0]
    if score >= xs[-1]:
        return ys[-1]
    i = bisect.bisect_right(xs, score)
    x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
    return y0 + (y1 - y0) * (score - x0) / (x1 - x0)


FIELDS = ("label", "alt_label", "description")

#: items (competency names) per block of the similarity matmul in ``Linker._dense_fast``
ITEM_BLOCK = 8192
#: query-unit vectors one ``gapmap link`` run keeps (``Linker.query_units``' memo): 50k x 384 float32 = 75 MB
UNIT_MEMO_MAX = 50_000
#: how far a bf16 product of unit vectors (with the two penalty columns) may lie from the fp32 one: inputs rounded to
#: 8 significant bits (<= 2^-8 over a dot product of unit vectors, Cauchy-Schwarz), penalties (<= 2^-9 x 0.2) and the
#: result (<= 2^-9 x 1.2): 0.0066, rounded up
BF16_SLACK = 0.008
#: ``Linker._dense_fast`` multiplies distinct unit rows only when they are fewer than this share of the units
#: (gathering rows per query costs ~7% when nearly every unit is distinct, docs/scale.md)
DISTINCT_SHARE = 0.9


class Linker:
    """Ranks competencies for texts.  Build once per competency list; ``rank`` is thread-safe."""

    def __init__(self, competencies: Sequence[CompetencyText], *, cache_dir=None, progress=False,
                 config: LinkerConfig | None = None, encoder: Encoder | None = None):
        self.config = config or LinkerConfig()
        self.competencies = list(competencies)
        self.progress = progress
        self.encoder = encoder or default_encoder(cache_dir=cache_dir)
        self.model_version = f"{METHOD_NAME}/{METHOD_REVISION}+{self.encoder.model_id}"
        cfg = self.config
        n = len(self.competencies)
        # name items (label + alt labels), contiguous per competency
        item_text: list[str] = []
        item_field: list[int] = []
        starts = np.zeros(n, dtype=np.int64)
        by_desc = cfg.lead == "descriptions"
        for i, c in enumerate(self.competencies):
            starts[i] = len(item_text)
            if by_desc and (c.description or "").strip():
                item_text.append(c.description)
                item_field.append(2)
                continue
            item_text.append(c.label)
            item_field.append(0)
            if cfg.alt_labels:
                for a in dict.fromkeys(c.alt_labels):
                    if a and a != c.label:
                        item_text.append(a)
                        item_field.append(1)
        self._item_text = item_text
        self._item_field = np.asarray(item_field, dtype=np.int8)
        self._starts = starts
        self._ends = np.append(starts[1:], len(item_text)) if n else starts
        self._item_bias = np.where(self._item_field == 1, -cfg.alt_penalty, 0.0).astype(np.float32)
        texts = list(item_text)
        descs = [c.description or "" for c in self.competencies]
        self._has_desc = np.array([bool(d.strip()) for d in descs])
        if cfg.description_weight > 0:
            texts += [d for d in descs if d.strip()]
        # names + one column holding the alt-label penalty (see _dense); _items is a view of it
        # and one column of ones that carries the query-unit penalty (see _dense_fast)
        if len(texts) == len(item_text) and texts and isinstance(self.encoder, Encoder):  # (test encoders take no out=)
            # the name vectors written straight into their columns (ESCO: one 150 MB copy less at every start)
            dim = self.encoder.dim
            self._items_b2 = np.empty((len(item_text), dim + 2), np.float32)
            self._items_b2[:, dim] = self._item_bias
            self._items_b2[:, dim + 1] = 1.0
            vecs = self.encoder.encode(texts, progress=progress, out=self._items_b2[:, :dim])
        else:
            vecs = self.encoder.encode(texts, progress=progress) if texts else np.zeros((0, self.encoder.dim), np.float32)
            dim = vecs.shape[1]
            self._items_b2 = np.ascontiguousarray(np.hstack([vecs[: len(item_text)], self._item_bias[:, None],
                                                             np.ones((len(item_text), 1), np.float32)]))
        self._items_b = self._items_b2[:, :dim + 1]
        self._items = self._items_b2[:, :dim]
        self._desc = np.zeros((n, dim), np.float32)
        if cfg.description_weight > 0 and self._has_desc.any():
            self._desc[self._has_desc] = vecs[len(item_text):]
        self._hub = np.zeros(n, np.float32)
        if cfg.hub_weight > 0 and n:
            self._hub = self._hubness(cfg.hub_k)
        self._adapter = query_adapter(self.encoder) if cfg.query_adapter else None
        if self._adapter is not None:
            self.model_version += f"+adapter-{self._adapter_tag}"
        self._center = np.zeros(n, np.float32)
        if cfg.center_weight > 0 and n:
            self._center = cfg.center_weight * self._reference_mean()
        if self._shortlist_pays(cfg.shortlist) and cfg.description_weight <= 0:
            self.model_version += f"+shortlist{cfg.shortlist}"
        self._labels_b2: np.ndarray | None = None  # the preferred labels' rows of _items_b2 (shortlist stage 1)
        self._labels_bf16 = None  # the same in bf16 (torch), for a bf16 encoder
        self._items_t = None  # _items_b2 as a torch tensor (same memory), for a bf16 encoder
        self._bm25 = None
        self._exact = self._exact_index() if cfg.exact_bonus > 0 and n else None
        if cfg.bm25_weight > 0 and n:
            docs = [" ".join((c.label,) + (tuple(c.alt_labels) if cfg.alt_labels else ())) for c in self.competencies]
            from .lexical import BM25  # scipy: only for this optional part

            self._bm25 = BM25(docs)

    # ------------------------------------------------------------------------------------------
    def _dense(self, uvecs: np.ndarray) -> np.ndarray:
        """(units x competencies) dense scores."""
        cfg = self.config
        if cfg.alt_penalty:  # the alt-label penalty rides along as an extra dimension of the matmul
            sims = np.hstack([uvecs, np.ones((len(uvecs), 1), np.float32)]) @ self._items_b.T
        else:
            sims = uvecs @ self._items.T
        names = np.maximum.reduceat(sims, self._starts, axis=1)
        if cfg.description_weight > 0:
            d = uvecs @ self._desc.T
            d = np.where(self._has_desc, d, names)
            names = (names + cfg.description_weight * d) / (1.0 + cfg.description_weight)
        return names

    def _hubness(self, k: int) -> np.ndarray:
        """r_c: mean of competency c's k best dense scores against reference sentences.

        The reference sentences are the competencies' own descriptions (or labels when there are
        none), i.e. the catalogue itself: competencies that look similar to everything get r_c high.
        """
        ref = [c.description or c.label for c in self.competencies]
        rv = self.encoder.encode(ref, progress=self.progress)
        k = max(1, min(k, len(ref)))
        acc = np.zeros(len(self.competencies), np.float64)
        topk = None
        for r0 in range(0, len(ref), 512):
            d = self._dense(rv[r0:r0 + 512])
            part = -np.partition(-d, k - 1, axis=0)[:k] if d.shape[0] >= k else d
            topk = part if topk is None else -np.partition(-np.vstack([topk, part]), k - 1, axis=0)[:k]
        acc = topk.mean(axis=0)
        return acc.astype(np.float32)

    def _reference_mean(self) -> np.ndarray:
        """Each competency's mean whole-sentence score over the reference objectives (see REFERENCE_FILE)."""
        ref = reference_sentences()
        if not ref:
            return np.zeros(len(self.competencies), np.float32)
        rv = self._adapt(self.encoder.encode(ref, progress=self.progress))
        return self._dense(rv).mean(axis=0).astype(np.float32)

    @property
    def _adapter_tag(self) -> str:
        return ADAPTER_TAG

    def _adapt(self, v: np.ndarray) -> np.ndarray:
        if self._adapter is None or not len(v):
            return v
        a = v + v @ self._adapter
        return (a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)).astype(np.float32)

    def _unit_penalty(self, kind: np.ndarray) -> np.ndarray:
        cfg = self.config
        pen = np.where(kind > 0, cfg.segment_penalty, 0.0)
        return (pen + np.where(kind == 2, cfg.keyword_penalty, 0.0)).astype(np.float32)

    def _dense_fast(self, uvecs: np.ndarray, kind: np.ndarray, qs: np.ndarray, inv: np.ndarray | None = None):
        """(best unit, whole sentence) name scores, queries x competencies, for name-only configs.

        Both penalties ride in the matmul (unit side [v, 1, -pen], item side [v, bias, 1]); the max
        over a query's units is taken per item first (row-wise, cheap), so the per-competency max
        over items runs on one row per query instead of one per unit.
        """
        kinds = np.arange(3)
        pen3 = self._unit_penalty(kinds) if self.config.segment else np.zeros(3, np.float32)
        inv = np.arange(len(kind)) if inv is None else np.asarray(inv, np.int64)
        key = inv * 3 + np.asarray(kind, np.int64)
        # ``uvecs`` may hold each distinct text once (``inv``: unit -> row): the matmul then runs on distinct
        # (text, kind) rows only (the speed set's 27.5k units are 13.8k texts) and each query gathers its rows
        # afterwards; a row's dot products do not depend on which other rows are multiplied with it
        pairs, rows = np.unique(key, return_inverse=True)
        rows = rows.reshape(-1)
        gather = len(pairs) < DISTINCT_SHARE * len(kind)
        if not gather:  # few repeats (real input within a chunk): contiguous rows, no gathering (faster)
            pairs = key
            rows = np.arange(len(kind))
        u_aug = np.hstack([uvecs[pairs // 3], np.ones((len(pairs), 1), np.float32), -pen3[pairs % 3][:, None]])
        n_items = self._items_b2.shape[0]
        ends = np.append(qs[1:], len(kind))
        best_items = np.empty((len(qs), n_items), np.float32)
        whole_items = np.empty((len(qs), n_items), np.float32)
        # Items in column blocks: each block's similarities (units x ITEM_BLOCK) stay in cache while the
        # per-query maxima are taken, instead of writing and re-reading a units x 97k matrix (~350 MB per
        # chunk on ESCO); each similarity is the same dot product, so the scores are the same
        # (to a float32 ulp where BLAS blocks a narrow product differently; ranks unchanged,
        # tests/linking/test_link_speed.py).  Measured in docs/scale.md.
        for c0 in range(0, n_items, ITEM_BLOCK):
            c1 = min(n_items, c0 + ITEM_BLOCK)
            sims = u_aug @ self._items_b2[c0:c1].T
            for j, (a, b) in enumerate(zip(qs, ends)):
                np.max(sims[rows[a:b]] if gather else sims[a:b], axis=0, out=best_items[j, c0:c1])
            whole_items[:, c0:c1] = sims[rows[qs]]
        best = np.maximum.reduceat(best_items, self._starts, axis=1)
        whole = np.maximum.reduceat(whole_items, self._starts, axis=1)
        return best, whole

    def _shortlist_pays(self, keep: int) -> bool:
        """The two-stage product pays only when the catalogue is many times the shortlist (ESCO: 13.5k vs 300)
        and competencies have several names (with one name each the first stage is already exact)."""
        n = len(self.competencies)
        return bool(self.config.shortlist) and n >= 4 * keep and self._items_b2.shape[0] >= 2 * n

    def _dense_shortlist(self, uvecs: np.ndarray, kind: np.ndarray, qs: np.ndarray, inv: np.ndarray, keep: int):
        """Like :meth:`_dense_fast`, in two stages: every unit against the competencies' preferred labels only, then
        each query's ``keep`` best competencies by that first score against all their names, exactly.

        The first-stage score is a lower bound of the exact one (the label is one of a competency's names, with no
        alt-label penalty), so shortlisted competencies -- which always hold the top ``keep`` -- get their exact
        score, and the others their label-only score.  The candidates are thus chosen on their preferred labels: a
        competency that only an alt label matches does not enter unless its label is near too.  That is a
        change of method, not only of speed: on the dev sets it ranks better than the exact product
        (bench/EXPERIMENTS.md 7b: ESCO's alt labels are noisier than its preferred labels).

        With a bf16 encoder both stages run in torch: stage 1 in bf16 (its scores less BF16_SLACK, so lower bounds
        still), stage 2 in fp32 in torch's thread pool.
        """
        kinds = np.arange(3)
        pen3 = self._unit_penalty(kinds) if self.config.segment else np.zeros(3, np.float32)
        inv = np.asarray(inv, np.int64)
        kind = np.asarray(kind, np.int64)
        u_aug = np.hstack([uvecs[inv], np.ones((len(inv), 1), np.float32), -pen3[kind][:, None]])
        ends = np.append(qs[1:], len(kind))
        n = len(self._starts)
        # stage 1: every unit x labels (the label is each competency's first name), maxima per query
        if self._labels_b2 is None:
            self._labels_b2 = np.ascontiguousarray(self._items_b2[self._starts])
        torch_path = getattr(self.encoder, "precision", "fp32") == "bf16"
        if torch_path:
            best, whole = self._label_scores_bf16(u_aug, qs, ends)
        else:
            lab = u_aug @ self._labels_b2.T
            best = np.empty((len(qs), n), np.float32)
            for j, (a, b) in enumerate(zip(qs, ends)):  # (np.maximum.reduceat over rows is ~5x slower here)
                np.max(lab[a:b], axis=0, out=best[j])
            whole = lab[qs]  # each query's first unit is the whole sentence (query_units)
        mix = self.config.segment_mix if self.config.segment else 0.0
        bound = (1 - mix) * best + mix * whole
        keep = min(keep, n)
        cand = np.argpartition(-bound, keep - 1, axis=1)[:, :keep] if keep < n else np.tile(np.arange(n), (len(qs), 1))
        sizes = self._ends - self._starts
        product = self._names_product_torch(u_aug) if torch_path else (lambda a, b, offs: u_aug[a:b] @ self._items_b2[offs].T)

        def names_of(c: np.ndarray):  # the candidates' name rows (contiguous per candidate) and each one's first
            cnt = sizes[c]
            first = np.append(0, np.cumsum(cnt)[:-1])
            return np.repeat(self._starts[c] - first, cnt) + np.arange(cnt.sum()), first

        # stage 2: the candidates' names; row 0 of each query's units is the whole sentence
        for j, (a, b) in enumerate(zip(qs, ends)):
            c = np.sort(cand[j])
            offs, first = names_of(c)
            sims = product(a, b, offs)
            best[j, c] = np.maximum.reduceat(sims.max(axis=0), first)
            whole[j, c] = np.maximum.reduceat(sims[0], first)
        return best, whole

    def _names_product_torch(self, u_aug: np.ndarray):
        """Stage 2's fp32 product through torch's thread pool: after a bf16 stage 1 in torch, numpy's BLAS threads
        and torch's OpenMP threads would spin against each other on the two cores (measured: stage 2 1.4 -> 1.9 s)."""
        import torch

        if self._items_t is None:
            self._items_t = torch.from_numpy(self._items_b2)  # shares the array's memory
        items, u = self._items_t, torch.from_numpy(u_aug)

        def product(a: int, b: int, offs: np.ndarray) -> np.ndarray:
            with torch.inference_mode():
                return (u[a:b] @ items.index_select(0, torch.from_numpy(offs)).T).numpy()
        return product

    def _label_scores_bf16(self, u_aug: np.ndarray, qs: np.ndarray, ends: np.ndarray):
        """Stage 1 of :meth:`_dense_shortlist` in bf16 (torch, as the encoder that made the vectors): ~3x faster than
        the fp32 product where the CPU multiplies bf16 natively.  The scores are rounded to bf16 (~0.004 near 0.7):
        they only choose the shortlist, whose members are then scored exactly in fp32 (EXPERIMENTS §7c); the others keep
        this score less BF16_SLACK, a lower bound as in fp32."""
        import torch

        if self._labels_bf16 is None:
            self._labels_bf16 = torch.from_numpy(self._labels_b2).to(torch.bfloat16)
        with torch.inference_mode():
            lab = torch.from_numpy(u_aug).to(torch.bfloat16) @ self._labels_bf16.T
            best = torch.stack([lab[a:b].amax(dim=0) for a, b in zip(qs.tolist(), ends.tolist())])
            # minus the rounding bound, so these stay lower bounds of the exact scores (as the fp32 stage's are): a
            # competency left off the shortlist never outranks a shortlisted one by rounding up
            return (best.float().numpy() - BF16_SLACK,
                    lab[torch.from_numpy(np.asarray(qs, np.int64))].float().numpy() - BF16_SLACK)

    def score_matrix(self, texts: Sequence[str]):
        """Per query, its units (texts, spans, owner query, kind) and their vectors, one row per unit."""
        units, unit_span, owner, uvecs, inv, kind = self.query_units(texts)
        return units, unit_span, owner, uvecs[inv], kind

    def query_units(self, texts: Sequence[str], memo: dict | None = None):
        """Like :meth:`score_matrix`, but the vectors are one row per distinct unit text, ``inv`` mapping
        each unit to its row (what ``rank`` multiplies: repeated clauses and windows once).  ``memo``: unit
        text -> vector kept by the caller across calls (one ``gapmap link`` run), filled up to UNIT_MEMO_MAX."""
        units, unit_span, owner, kind = self._units(texts)
        # query text is not cached (one-off sentences would only grow the cache), but a text that
        # occurs several times in one call (a repeated objective or clause) is encoded once
        uniq = list(dict.fromkeys(units))
        where = {u: i for i, u in enumerate(uniq)}
        if memo is None:
            uvecs = self._encode_units(uniq)
        else:  # units seen earlier in the run (boilerplate clauses of job ads, re-framed sentences) once
            todo = [u for u in uniq if u not in memo]
            new = dict(zip(todo, self._encode_units(todo))) if todo else {}
            uvecs = np.stack([memo[u] if u in memo else new[u] for u in uniq]) if uniq else self._encode_units(uniq)
            for u, v in new.items():
                if len(memo) >= UNIT_MEMO_MAX:
                    break
                memo[u] = v
        uvecs = self._adapt(uvecs)
        inv = np.fromiter((where[u] for u in units), dtype=np.int64, count=len(units))
        return units, unit_span, np.asarray(owner), uvecs, inv, np.asarray(kind)

    def _encode_units(self, texts: list[str]) -> np.ndarray:
        encode = self.encoder.encode if self.config.cache_queries else self.encoder.encode_raw
        return encode(texts)

    def encode_units(self, texts: Sequence[str], memo: dict | None = None) -> dict:
        """The vectors of ``texts``' query units that ``memo`` lacks, in one encoder call: a caller that ranks a long
        input in small batches encodes a large block's units at once (fewer, fuller encoder batches) and passes
        them to :meth:`rank` as its memo."""
        memo = {} if memo is None else memo
        todo = [u for u in dict.fromkeys(self._units(texts)[0]) if u not in memo]
        return dict(zip(todo, self._encode_units(todo))) if todo else {}

    def _units(self, texts: Sequence[str]):
        """(unit texts, spans, owner query, kind) of ``texts``: each query's whole text first, then its clauses,
        keyword units and windows (see the module docstring)."""
        cfg = self.config
        units: list[str] = []
        unit_span: list[tuple[int, int]] = []
        owner: list[int] = []
        kind: list[int] = []  # 0 whole, 1 segment, 2 keyword unit
        for qi, t in enumerate(texts):
            units.append(t)
            unit_span.append((0, len(t)))
            owner.append(qi)
            kind.append(0)
            if cfg.segment:
                spans = {s: 1 for s in segments(t)}
                if cfg.keyword_split and function_word_ratio(t) <= cfg.keyword_max_fw:
                    for a, b in list(spans) or [(0, len(t))]:
                        for s in keyword_units(t, a, b):
                            if s != (0, len(t)):
                                spans.setdefault(s, 2)
                if cfg.window_words:
                    toks = [(m.start(), m.end()) for m in TOKEN.finditer(t)]
                    w = cfg.window_words
                    if len(toks) > 2 * w:
                        for i in range(0, len(toks) - w + 1, cfg.window_stride or max(1, w // 2)):
                            spans.setdefault((toks[i][0], toks[i + w - 1][1]), 2)
                for (a, b), k in spans.items():
                    units.append(t[a:b])
                    unit_span.append((a, b))
                    owner.append(qi)
                    kind.append(k)
        return units, unit_span, owner, kind

    def _exact_index(self):
        """One regex over every label and alt label, and which competencies (and field) each names."""
        names: dict[str, list[tuple[int, str, str]]] = {}
        for i, c in enumerate(self.competencies):
            for fld, name in [("label", c.label)] + [("alt_label", a) for a in c.alt_labels]:
                key = " ".join(name.lower().split())
                if len(key) >= 3:
                    names.setdefault(key, []).append((i, fld, name))
        if not names:
            return None
        alt = "|".join(re.escape(k) for k in sorted(names, key=len, reverse=True))
        return re.compile(rf"(?<![\w-])(?:{alt})(?![\w-])", re.I), names

    def _exact_hits(self, text: str) -> dict[int, Evidence]:
        rx, names = self._exact
        hits: dict[int, Evidence] = {}
        for m in rx.finditer(text):
            for i, fld, name in names.get(" ".join(m.group(0).lower().split()), ()):
                if not (is_acronym(name) or phrase_bounded(text, m.start(), m.end())):
                    continue  # "care planning" inside "advance care planning" names another thing
                hits.setdefault(i, Evidence(fld, name, (m.start(), m.end())))
        return hits

    def rank(self, texts: Sequence[str], top_k: int = 10, *, memo: dict | None = None) -> list[list[Match]]:
        """The ``top_k`` competencies per text; ``memo`` as in :meth:`query_units`."""
        texts = list(texts)
        if not texts or not self.competencies:
            return [[] for _ in texts]
        cfg = self.config
        top_k = max(1, min(top_k, len(self.competencies)))
        units, unit_span, owner, uvecs, inv, kind = self.query_units(texts, memo)
        bm = self._bm25.scores(texts) if self._bm25 is not None else None
        results: list[list[Match]] = []
        q_first = np.searchsorted(owner, np.arange(len(texts)))
        chunk = 64  # queries per block: ~900 units x 97k ESCO names = ~350 MB of similarities
        upen = self._unit_penalty(kind) if cfg.segment else np.zeros(len(kind), np.float32)
        # the shortlist does not grow with top_k: the first results must not depend on how many are asked for
        # (ranks past the shortlist carry their label-only scores, all below the shortlisted ones)
        shortlist = cfg.shortlist if self._shortlist_pays(cfg.shortlist) else 0
        for c0 in range(0, len(texts), chunk):
            c1 = min(len(texts), c0 + chunk)
            u0 = q_first[c0]
            u1 = q_first[c1] if c1 < len(texts) else len(units)
            qs = q_first[c0:c1] - u0
            if cfg.description_weight > 0:  # general path
                dense_u = self._dense(uvecs[inv[u0:u1]])
                if cfg.segment:
                    dense_u -= self._unit_penalty(kind[u0:u1])[:, None]
                dense = np.maximum.reduceat(dense_u, qs, axis=0)
                whole = dense_u[qs]
            elif shortlist:
                dense, whole = self._dense_shortlist(uvecs, kind[u0:u1], qs, inv[u0:u1], shortlist)
            else:
                dense, whole = self._dense_fast(uvecs, kind[u0:u1], qs, inv[u0:u1])
            if cfg.segment and cfg.segment_mix:
                dense = (1 - cfg.segment_mix) * dense + cfg.segment_mix * whole
            score = dense
            if cfg.center_weight:
                score = score - self._center
            if cfg.hub_weight:
                score = score - cfg.hub_weight * self._hub
            if bm is not None:
                score = score + cfg.bm25_weight * bm[c0:c1]
            exact = [self._exact_hits(texts[q]) for q in range(c0, c1)] if self._exact else None
            if exact:
                score = score.copy()
                for r, hits in enumerate(exact):
                    for ci in hits:
                        score[r, ci] += cfg.exact_bonus
            idx = np.argpartition(-score, top_k - 1, axis=1)[:, :top_k]
            for r in range(c1 - c0):
                qi = c0 + r
                order = idx[r][np.argsort(-score[r, idx[r]], kind="stable")]
                ub = q_first[qi] - u0
                ue = (q_first[qi + 1] - u0) if qi + 1 < len(texts) else (u1 - u0)
                matches = []
                qv, qspans, qpen = uvecs[inv[u0 + ub:u0 + ue]], unit_span[u0 + ub:u0 + ue], upen[u0 + ub:u0 + ue]
                for ci in order:
                    ev = exact[r].get(int(ci)) if exact else None
                    ev = ev or self._evidence(qv, qspans, int(ci), qpen)
                    s = float(score[r, ci])
                    matches.append(Match(self.competencies[ci].uri, s, ev, cfg.expected_precision(s)))
                results.append(matches)
        return results

    def _evidence(self, uvecs: np.ndarray, spans: list[tuple[int, int]], ci: int,
                  unit_penalty: np.ndarray | None = None) -> Evidence:
        """The (query unit, competency text) pair that gave competency ``ci`` its best unit score."""
        a, b = self._starts[ci], self._ends[ci]
        sims = uvecs @ self._items[a:b].T + self._item_bias[a:b]
        if unit_penalty is not None:
            sims = sims - unit_penalty[:, None]
        best = np.unravel_index(int(np.argmax(sims)), sims.shape)
        u, it = int(best[0]), int(best[1])
        best_name = float(sims[u, it])
        if self.config.description_weight > 0 and self._has_desc[ci]:
            d = uvecs @ self._desc[ci]
            if float(d.max()) > best_name:
                c = self.competencies[ci]
                return Evidence("description", c.description, spans[int(np.argmax(d))])
        f = FIELDS[int(self._item_field[a + it])]
        return Evidence(f, self._item_text[a + it], spans[u])


#: The profile for aligning curriculum objectives to a competency framework (the service's default).
#: Frameworks describe competencies in their definitions (PCRS labels are just "Patient Care 1.1"), so
#: definitions weigh in (measured in bench/EXPERIMENTS.md, "Curriculum profile"); objective embeddings are
#: cached because a program is re-aligned after every upload; calibration measured on the bundled curriculum.
#: Knots: isotonic fit of "suggestion is a curator link" on score over the top-10 suggestions of the 286
#: curator-aligned objectives of data/curriculum/md.csv (bench/alignment_curriculum.py); a lower bound, since
#: curators list one or two competencies per objective; the top knot is capped at 0.95 (few observations).
CURRICULUM = LinkerConfig(description_weight=2.0, cache_queries=True, exact_bonus=0.1, calibration=(
    (0.30, 0.026), (0.35, 0.057), (0.40, 0.064), (0.45, 0.147), (0.50, 0.307), (0.55, 0.487), (0.60, 0.658),
    (0.65, 0.818), (0.70, 0.905), (0.75, 0.95)))


# --- catalogue-adaptive representation -----------------------------------------------------------
#: Objective-like sentences (the bundled MD curriculum's objective texts, our own authored data) used as a
#: fixed reference by ``LinkerConfig.center_weight``: a competency's mean score over them measures how much it
#: attracts any objective.  Fixed, so one objective gets the same score alone or in a batch.
REFERENCE_FILE = __import__("pathlib").Path(__file__).with_name("reference_objectives.txt")


def reference_sentences() -> list[str]:
    try:
        return [ln.strip() for ln in REFERENCE_FILE.read_text(encoding="utf-8").splitlines() if ln.strip()]
    except OSError:
        return []


#: The profile for catalogues whose meaning is in the descriptions (chosen by :func:`catalogue_stats`, used
#: by both ``gapmap link`` and the service): each competency is its description, encoded by the stronger
#: all-mpnet-base-v2 when installed; the whole objective is scored (clause and window units added nothing
#: here, see bench/EXPERIMENTS.md, "Objective linking"), minus half the competency's mean score over the
#: reference objectives.  Calibration: see DESCRIPTIONS_CALIBRATION (fitted on bundled curator links).
#: Knots: isotonic fit of "suggestion is a curator link" on score over the top-10 suggestions of the 286
#: curator-aligned MD objectives against the bundled framework, this profile forced (labels ignored), mpnet,
#: 2-fold cross-validated (the query adapter of each fold trained on the other fold's links; see
#: bench/alignment_curriculum.py, "calibration_descriptions"); never fitted on the PCRS dev set, whose
#: reliability is measured in bench/results/calibration.json.  Top knot capped at 0.95 (few observations).
DESCRIPTIONS_CALIBRATION: tuple = (
    (0.10, 0.021), (0.15, 0.021), (0.20, 0.055), (0.25, 0.11), (0.30, 0.265), (0.35, 0.593), (0.45, 0.80),
    (0.50, 0.95))
DESCRIPTIONS = LinkerConfig(lead="descriptions", alt_labels=False, segment=False, center_weight=0.5,
                      cache_queries=True, query_adapter=True, calibration=DESCRIPTIONS_CALIBRATION)

# --- query adapter ----------------------------------------------------------------------------------
#: Training pairs: each curator link of the bundled MD curriculum (data/curriculum/md.csv) as (objective text,
#: description of the linked competency of data/framework/hpc.csv); our own authored data, no dev-set text.
ADAPTER_PAIRS = __import__("pathlib").Path(__file__).with_name("adapter_pairs.jsonl")
ADAPTER_RECIPE = {"steps": 100, "lr": 1e-3, "weight_decay": 1e-2, "temperature": 0.05, "seed": 0}
ADAPTER_TAG = "v1"


def query_adapter(encoder) -> np.ndarray | None:
    """A (dim x dim) residual map W for objective vectors (v -> normalise(v + v W)), trained once per encoder.

    Learns how curriculum objectives ("Deliver a structured handover of a ward patient") sit relative to the
    competency descriptions curators link them to ("Transfer responsibility for patients..."), from the
    bundled curator links only: a contrastive loss over the bundled framework's descriptions, W starting at
    zero with weight decay (so it stays close to the identity), Adam, fixed seed and steps -- reproducible.
    Cached as ``var/models/adapters/<encoder id>-<pairs sha1>.npy`` (written atomically); None when the
    pairs file is missing.  ~2 s of training after encoding ~400 texts once (bench/EXPERIMENTS.md).
    """
    import hashlib
    import json

    from .encoder import model_root

    if not ADAPTER_PAIRS.exists():
        return None
    raw = ADAPTER_PAIRS.read_bytes()
    sig = hashlib.sha1(raw + json.dumps(ADAPTER_RECIPE, sort_keys=True).encode()).hexdigest()[:12]
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", str(encoder.model_id))
    path = model_root() / "adapters" / f"{safe}-{sig}.npy"
    if path.exists():
        try:
            w = np.load(path)
            if w.shape == (encoder.dim, encoder.dim):
                return w.astype(np.float32)
        except (OSError, ValueError):
            pass
    pairs = [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]
    descs = list(dict.fromkeys(p["description"] for p in pairs))
    y = np.array([descs.index(p["description"]) for p in pairs])
    q = encoder.encode([p["objective"] for p in pairs])
    d = encoder.encode(descs)
    w = _train_adapter(q, d, y, **ADAPTER_RECIPE)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        np.save(f, w)
    os.replace(tmp, path)
    return w


def _train_adapter(q: np.ndarray, d: np.ndarray, y: np.ndarray, *, steps: int, lr: float, weight_decay: float,
                   temperature: float, seed: int) -> np.ndarray:
    import torch

    torch.manual_seed(seed)
    dim = q.shape[1]
    w = torch.zeros(dim, dim, requires_grad=True)
    opt = torch.optim.Adam([w], lr=lr)
    qt, dt, yt = torch.tensor(q), torch.tensor(d), torch.tensor(y)
    for _ in range(steps):
        a = qt + qt @ w
        a = a / a.norm(dim=1, keepdim=True)
        loss = torch.nn.functional.cross_entropy(a @ dt.T / temperature, yt) + weight_decay * (w ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return w.detach().numpy().astype(np.float32)

PROFILES = ("auto", "labels", "curriculum", "descriptions")


def encoder_for(lead: str, purpose: str, *, cache_dir=None):
    """The encoder for a representation: mpnet when descriptions lead (and it is installed), else as before:
    the ESCO-tuned MiniLM for ``link`` (labels), the stock MiniLM for the curriculum profile."""
    from . import encoder as E

    if lead == "descriptions" and E.mpnet_available() and settings.current().desc_model == "mpnet":
        return E.load_mpnet(cache_dir=cache_dir)
    if purpose == "link" and lead == "labels":  # bf16 where the CPU has it natively (GAPMAP_LINK_PRECISION)
        return E.default_encoder(cache_dir=cache_dir, precision=settings.current().link_precision)
    return E.load_minilm(cache_dir=cache_dir)


def profile_for(competencies: Sequence[CompetencyText], purpose: str = "link", profile: str = "auto", *,
                stats: CatalogueStats | None = None) -> tuple[str, LinkerConfig]:
    """(lead, LinkerConfig) for a catalogue: ``purpose`` is "link" (the link command) or "curriculum" (the service);
    ``profile`` forces one ("labels": the job-ad method, "curriculum": labels + definitions, "descriptions");
    ``stats``: measurements already taken (e.g. with the label-description agreement)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r} (one of {', '.join(PROFILES)})")
    if profile == "auto":
        lead = (stats or catalogue_stats(competencies)).lead
        if lead == "descriptions":
            return lead, DESCRIPTIONS
        return lead, (CURRICULUM if purpose == "curriculum" else _link_config())
    if profile == "descriptions":
        return "descriptions", DESCRIPTIONS
    return "labels", (CURRICULUM if profile == "curriculum" else _link_config())


def _link_config() -> LinkerConfig:
    """The job-ad method with the configured shortlist (GAPMAP_LINK_SHORTLIST, default 300)."""
    return LinkerConfig(shortlist=settings.current().link_shortlist)
