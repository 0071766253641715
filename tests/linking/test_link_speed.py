"""The similarity step of ranking runs over competency names in column blocks (speed, docs/scale.md):
the ranks and evidence must be those of one block over every name, the scores equal to a float32 ulp."""
from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np

from linking import engine
from linking.engine import CompetencyText, Linker

DATA = Path(__file__).resolve().parents[2] / "data"


def _bundled():
    with open(DATA / "framework" / "hpc.csv", newline="", encoding="utf-8") as f:
        comps = [CompetencyText(r["id"], r["label"], tuple(a.strip() for a in r["alt_labels"].split("|") if a.strip()),
                                r["description"]) for r in csv.DictReader(f)]
    with open(DATA / "curriculum" / "md.csv", newline="", encoding="utf-8") as f:
        texts = [r["objective_text"] for r in csv.DictReader(f)][:200]
    return comps, texts


def _exact_scores(n: int):
    """The bundled framework, its first ``n`` objectives, a linker on :class:`TextVectors`, the query units
    (uvecs, kind, qs, inv) and the exact product's (best, whole) scores: the reference the shortlist tests compare to."""
    comps, texts = _bundled()
    texts = texts[:n]
    exact = Linker(comps, encoder=TextVectors())
    _units, _spans, owner, uvecs, inv, kind = exact.query_units(texts)
    qs = np.searchsorted(owner, np.arange(len(texts)))
    return comps, texts, exact, (uvecs, kind, qs, inv), exact._dense_fast(uvecs, kind, qs, inv)


class TextVectors:
    """A deterministic encoder (a unit vector per text, seeded by the text): the property tested here is the
    arithmetic of blocking, whatever the vectors; the real model is exercised in test_engine.py."""

    dim, model_id, encoded_count = 384, "text-vectors", 0

    def encode_raw(self, texts, **kw):
        out = np.empty((len(texts), self.dim), np.float32)
        for i, t in enumerate(texts):
            v = np.random.default_rng(int.from_bytes(hashlib.sha1(t.encode()).digest()[:8], "little"))
            out[i] = v.standard_normal(self.dim)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    encode = encode_raw


def test_blocked_similarities_give_the_same_ranks_scores_and_evidence(monkeypatch):
    comps, texts = _bundled()
    linker = Linker(comps, encoder=TextVectors(), config=engine.LinkerConfig(shortlist=0))
    n_items = linker._items_b2.shape[0]
    assert n_items > 100 and len(texts) > 2 * 64  # several chunks of queries, several blocks of items

    def run():
        units, _spans, owner, uvecs, kind = linker.score_matrix(texts)
        qs = np.searchsorted(owner, np.arange(len(texts)))
        return linker._dense_fast(uvecs, kind, qs), linker.rank(texts, top_k=10)

    monkeypatch.setattr(engine, "ITEM_BLOCK", 10 ** 9)  # one block: every name at once
    (best1, whole1), ranked1 = run()
    monkeypatch.setattr(engine, "ITEM_BLOCK", 37)  # blocks that split competencies' names, a short last one
    assert n_items % 37
    (best2, whole2), ranked2 = run()
    assert np.allclose(best1, best2, rtol=0, atol=1e-6) and np.allclose(whole1, whole2, rtol=0, atol=1e-6)
    # BLAS may block a narrower product differently: a score can move by a float32 ulp (~3e-8), never more
    # than 1e-6 (the output rounds scores to 6 decimals); the ranking and the evidence stay the same
    assert [[(m.uri, m.evidence.to_dict()) for m in r] for r in ranked1] == \
        [[(m.uri, m.evidence.to_dict()) for m in r] for r in ranked2]
    assert max(abs(a.score - b.score) for r1, r2 in zip(ranked1, ranked2) for a, b in zip(r1, r2)) < 1e-6
    assert all(len(r) == 10 for r in ranked2)


def test_distinct_unit_rows_give_the_same_scores_as_one_row_per_unit(monkeypatch):
    """rank multiplies each distinct (unit text, kind) once and gathers rows per query: the same best-unit and
    whole-sentence scores as the one-row-per-unit product, on texts whose clauses and windows repeat."""
    comps, texts = _bundled()
    texts = texts[:60] + [f"We are looking for someone who can {t}" for t in texts[:60]] + texts[:20]
    linker = Linker(comps, encoder=TextVectors())
    units, _spans, owner, uvecs, inv, kind = linker.query_units(texts)
    # enough repeats that the distinct path (gathering rows per query) is the one taken
    assert len(set(zip(inv.tolist(), kind.tolist()))) < engine.DISTINCT_SHARE * len(units)
    qs = np.searchsorted(owner, np.arange(len(texts)))
    best_old, whole_old = linker._dense_fast(uvecs[inv], kind, qs)
    best_new, whole_new = linker._dense_fast(uvecs, kind, qs, inv)
    assert np.allclose(best_old, best_new, rtol=0, atol=1e-6) and np.allclose(whole_old, whole_new, rtol=0, atol=1e-6)
    assert (np.argsort(-best_old, axis=1, kind="stable")[:, :10] == np.argsort(-best_new, axis=1, kind="stable")[:, :10]).all()
    ranked = linker.rank(texts, top_k=5)
    assert [[m.uri for m in r] for r in ranked[:20]] == [[m.uri for m in r] for r in ranked[-20:]]
    # and the contiguous path taken when nearly every unit is distinct gives them too
    monkeypatch.setattr(engine, "DISTINCT_SHARE", 0.0)
    best_c, whole_c = linker._dense_fast(uvecs, kind, qs, inv)
    assert np.allclose(best_c, best_new, rtol=0, atol=1e-6) and np.allclose(whole_c, whole_new, rtol=0, atol=1e-6)


def test_shortlist_scores_candidates_exactly_and_the_rest_by_a_lower_bound():
    """The shortlist path: with every competency shortlisted it is the exact product; with a short list each
    query's shortlisted competencies get their exact best-unit and whole-sentence scores and the others their
    label-only scores, never above the exact ones; what rank returns is shortlisted, so its scores are exact."""
    comps, texts, exact, (uvecs, kind, qs, inv), (best, whole) = _exact_scores(90)
    best_f, whole_f = exact._dense_shortlist(uvecs, kind, qs, inv, len(comps))
    assert np.allclose(best, best_f, rtol=0, atol=1e-6) and np.allclose(whole, whole_f, rtol=0, atol=1e-6)
    best_s, whole_s = exact._dense_shortlist(uvecs, kind, qs, inv, 5)
    assert (best_s <= best + 1e-6).all() and (whole_s <= whole + 1e-6).all()
    both = np.isclose(best_s, best, rtol=0, atol=1e-6) & np.isclose(whole_s, whole, rtol=0, atol=1e-6)
    assert (both.sum(axis=1) >= 5).all()  # at least the shortlisted five per query are exact
    assert (~both).any()  # and the label-only score is below the exact one somewhere (alt labels)
    # through rank: a shortlist of 5 over the bundled framework's competencies, top 5 asked
    short = Linker(comps, encoder=TextVectors(), config=engine.LinkerConfig(shortlist=5))
    assert len(comps) >= 4 * 5
    ranked = short.rank(texts, top_k=5)
    assert all(len(r) == 5 for r in ranked)
    mix = exact.config.segment_mix
    index = {c.uri: i for i, c in enumerate(comps)}
    for q, r in enumerate(ranked):
        for m in r:  # each returned score is the competency's exact score
            i = index[m.uri]
            assert abs(m.score - ((1 - mix) * best[q, i] + mix * whole[q, i])) < 1e-5


def test_link_shortlist_setting_is_read_checked_and_used(monkeypatch):
    import pytest

    from linking import settings
    from linking.engine import profile_for
    assert settings.Settings.from_env({}).link_shortlist == 300
    assert settings.Settings.from_env({"GAPMAP_LINK_SHORTLIST": "0"}).link_shortlist == 0
    # read as the service's Config reads integers (int()), range checked for both
    assert settings.Settings.from_env({"GAPMAP_LINK_SHORTLIST": " 300 "}).link_shortlist == 300
    assert settings.Settings.from_env({"GAPMAP_LINK_SHORTLIST": "1000000"}).link_shortlist == 10 ** 6
    for bad in ("-5", "abc", "1e3", "99999999", "1.5"):
        with pytest.raises(ValueError, match="GAPMAP_LINK_SHORTLIST"):
            settings.Settings.from_env({"GAPMAP_LINK_SHORTLIST": bad})
    assert settings.Settings.from_env({"GAPMAP_THREADS": "0"}).threads is None  # 0: the free cores
    for bad in ("-1", "two"):
        with pytest.raises(ValueError, match="GAPMAP_THREADS"):
            settings.Settings.from_env({"GAPMAP_THREADS": bad})
    comps, _texts = _bundled()
    try:
        settings.configure(link_shortlist=0)
        assert profile_for(comps, "link") == ("labels", engine.LinkerConfig())
        settings.configure(link_shortlist=40)
        lead, cfg = profile_for(comps, "link")
        assert cfg.shortlist == 40
        # the bundled framework has 127 competencies: below 4 x 40, so the exact product is taken
        assert not Linker(comps, encoder=TextVectors(), config=cfg)._shortlist_pays(40)
        settings.configure(link_shortlist=10)
        linker = Linker(comps, encoder=TextVectors(), config=profile_for(comps, "link")[1])
        assert linker._shortlist_pays(10) and linker.model_version.endswith("+shortlist10")
    finally:
        settings.reset()


def test_unit_memo_encodes_repeated_units_once_a_run_with_the_same_ranks(monkeypatch):
    """``gapmap link`` keeps query-unit vectors across its batches: a clause met in an earlier batch is not
    encoded again, and the rankings are those of encoding every batch afresh; the memo stops growing at its cap."""
    comps, texts = _bundled()
    first, second = texts[:40], [f"We are looking for someone who can {t}" for t in texts[:40]]

    class Counting(TextVectors):
        def __init__(self):
            self.seen: list[str] = []

        def encode_raw(self, texts, **kw):
            self.seen += list(texts)
            return super().encode_raw(texts)

        encode = encode_raw

    plain_enc, memo_enc = Counting(), Counting()
    plain, memoised = Linker(comps, encoder=plain_enc), Linker(comps, encoder=memo_enc)
    plain_enc.seen.clear()
    memo_enc.seen.clear()
    memo: dict = {}
    want = plain.rank(first, top_k=5) + plain.rank(second, top_k=5)
    got = memoised.rank(first, top_k=5, memo=memo) + memoised.rank(second, top_k=5, memo=memo)
    assert [[(m.uri, m.evidence.to_dict()) for m in r] for r in got] == \
        [[(m.uri, m.evidence.to_dict()) for m in r] for r in want]
    assert len(memo_enc.seen) == len(set(memo_enc.seen))  # nothing encoded twice
    assert len(memo_enc.seen) < len(plain_enc.seen) - 40  # the second batch's repeated clauses were not re-encoded
    monkeypatch.setattr(engine, "UNIT_MEMO_MAX", 10)
    small: dict = {}
    again = memoised.rank(first, top_k=5, memo=small)
    assert len(small) == 10 and [[m.uri for m in r] for r in again] == [[m.uri for m in r] for r in want[:40]]


def test_a_link_model_that_is_no_model_folder_is_named(tmp_path):
    """GAPMAP_LINK_MODEL=bogus must not reach transformers (which would take it for a hub id to fetch)."""
    import pytest

    from linking import encoder, settings
    (tmp_path / "empty").mkdir()
    try:
        for bad in ("bogus", str(tmp_path / "empty"), str(tmp_path / "missing")):
            settings.configure(link_model=bad)
            with pytest.raises(ValueError, match="GAPMAP_LINK_MODEL must be auto, base or a model folder"):
                encoder.default_encoder()
    finally:
        settings.reset()
