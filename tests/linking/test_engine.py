"""The competency linking engine and the ``gapmap link`` command contract (small data, real model)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from loaders import linkfiles
from linking.encoder import load_minilm
from linking.engine import FIELDS, CompetencyText, Linker, expected_precision
from linking.units import keyword_units, segments
from loaders.linkfiles import link_files
from ontology.errors import LoadError

COMPETENCIES = [
    {"uri": "ex:med", "label": "administer medication",
     "alt_labels": ["give medicines to patients", "dispense drugs"],
     "description": "Give prescribed medicines to patients safely and record the dose."},
    {"uri": "ex:python", "label": "Python (computer programming)",
     "alt_labels": ["Python programming", "write Python code"],
     "description": "Techniques of software development in Python: analysis, coding, testing."},
    {"uri": "ex:budget", "label": "manage budgets", "alt_labels": ["control a budget"],
     "description": "Plan, monitor and report on the budget."},
    {"uri": "ex:french", "label": "speak French", "description": ""},
    {"uri": "ex:cpr", "label": "perform cardiopulmonary resuscitation",
     "alt_labels": ["perform CPR", "carry out resuscitation"]},
    {"uri": "ex:team", "label": "work in teams", "alt_labels": ["collaborate with colleagues"]},
]

QUERIES = [
    {"id": "q1", "text": "You will develop our back-end services in Python.", "gold": ["ex:python"]},
    {"id": 2, "text": "Keep the department's spending within the yearly budget.", "gold": {"bogus": True}},
    {"id": "q3", "text": "Perform CPR and give medicines to patients on the ward."},
    {"id": "q4", "text": "Fluent French is a plus", "gold": "not even a list"},
]


def write_jsonl(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("emb-cache")


@pytest.fixture(scope="module")
def linker(cache_dir):
    comps = [CompetencyText(c["uri"], c["label"], tuple(c.get("alt_labels", ())), c.get("description", ""))
             for c in COMPETENCIES]
    return Linker(comps, cache_dir=cache_dir)


@pytest.fixture
def comp_file(tmp_path):
    return write_jsonl(tmp_path / "comp.jsonl", COMPETENCIES)


class GoldGuard(dict):
    """A JSON object that fails the test if anyone looks at its ``gold`` key."""

    def _check(self, k):
        if k == "gold":
            raise AssertionError("the gold key was read")

    def __getitem__(self, k):
        self._check(k)
        return super().__getitem__(k)

    def get(self, k, default=None):
        self._check(k)
        return super().get(k, default)

    def __contains__(self, k):
        self._check(k)
        return super().__contains__(k)


def test_link_files_contract(tmp_path, comp_file, linker, monkeypatch):
    q = write_jsonl(tmp_path / "q.jsonl", QUERIES)
    out = tmp_path / "out" / "pred.jsonl"
    real_loads = json.loads
    monkeypatch.setattr(linkfiles.json, "loads", lambda s, **kw: real_loads(s, object_hook=GoldGuard))
    summary = link_files(comp_file, q, out, top=3, progress=False, linker=linker)
    monkeypatch.undo()
    assert summary["queries"] == 4 and summary["model_version"] == linker.model_version
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["q1", 2, "q3", "q4"]  # input order, ids kept as given
    uris = {c["uri"] for c in COMPETENCIES}
    for r in rows:
        assert {"id", "ranked", "scores", "evidence"} <= set(r)
        assert len(r["ranked"]) == len(r["scores"]) == len(r["evidence"]) == 3
        assert set(r["ranked"]) <= uris and len(set(r["ranked"])) == 3
        assert r["scores"] == sorted(r["scores"], reverse=True)
        for ev in r["evidence"]:
            assert ev["field"] in FIELDS and ev["text"]
    assert rows[0]["ranked"][0] == "ex:python"
    assert rows[1]["ranked"][0] == "ex:budget"
    assert set(rows[2]["ranked"][:2]) == {"ex:cpr", "ex:med"}  # a two-skill sentence finds both
    assert rows[3]["ranked"][0] == "ex:french"


def test_queries_without_gold_and_blank_lines(tmp_path, comp_file, linker):
    q = write_jsonl(tmp_path / "q.jsonl", [{"id": "a", "text": "programming in Python"}, "",
                                            {"id": "b", "text": ""}])
    out = tmp_path / "pred.jsonl"
    link_files(comp_file, q, out, top=10, progress=False, linker=linker)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"]
    assert len(rows[0]["ranked"]) == len(COMPETENCIES)  # top is capped by the list size


@pytest.mark.parametrize("lines, row, column", [
    ([{"id": "a", "text": "x"}, {"id": "b", "text": "y"}, '{"id": "c", "text": '], 3, None),
    ([{"id": "a", "text": "x"}, {"text": "no id"}], 2, "id"),
    ([{"id": "a"}], 1, "text"),
    ([{"id": "a", "text": 5}], 1, "text"),
    (["[1, 2]"], 1, None),
])
def test_malformed_query_line_is_named(tmp_path, comp_file, linker, lines, row, column):
    q = write_jsonl(tmp_path / "q.jsonl", lines)
    with pytest.raises(LoadError) as ei:
        link_files(comp_file, q, tmp_path / "p.jsonl", progress=False, linker=linker)
    e = ei.value
    assert e.file == str(q) and e.row == row and e.column == column
    assert f"q.jsonl:{row}" in str(e)
    assert not (tmp_path / "p.jsonl").exists()


@pytest.mark.parametrize("bad, column", [
    ({"label": "no uri"}, "uri"),
    ({"uri": "ex:x"}, "label"),
    ({"uri": "ex:x", "label": "  "}, "label"),
    ({"uri": "ex:x", "label": "y", "alt_labels": "not a list"}, "alt_labels"),
    ({"uri": "ex:x", "label": "y", "description": 3}, "description"),
    ({"uri": "ex:med", "label": "duplicate"}, "uri"),
])
def test_malformed_competency_line_is_named(tmp_path, bad, column):
    c = write_jsonl(tmp_path / "c.jsonl", COMPETENCIES + [bad])
    q = write_jsonl(tmp_path / "q.jsonl", [{"id": "a", "text": "x"}])
    with pytest.raises(LoadError) as ei:
        link_files(c, q, tmp_path / "p.jsonl", progress=False)
    assert ei.value.row == len(COMPETENCIES) + 1 and ei.value.column == column


def test_missing_file_is_a_load_error(tmp_path, comp_file):
    with pytest.raises(LoadError):
        link_files(comp_file, tmp_path / "nope.jsonl", tmp_path / "p.jsonl", progress=False)


def test_evidence_points_at_competency_text_and_query_span(linker):
    text = "Perform CPR and give medicines to patients on the ward."
    matches = linker.rank([text], top_k=2)[0]
    by_uri = {c["uri"]: c for c in COMPETENCIES}
    for m in matches:
        c = by_uri[m.uri]
        ev = m.evidence
        assert ev.field in FIELDS
        allowed = {"label": [c["label"]], "alt_label": c.get("alt_labels", []),
                   "description": [c.get("description", "")]}[ev.field]
        assert ev.text in allowed
        a, b = ev.query_span
        assert 0 <= a < b <= len(text)
        d = m.to_dict()
        assert d["uri"] == m.uri and d["evidence"]["query_span"] == [a, b]
    cpr = next(m for m in matches if m.uri == "ex:cpr")
    assert "CPR" in text[slice(*cpr.evidence.query_span)]


def test_segments_split_clauses():
    t = "Perform CPR and give medicines to patients, as well as keep records."
    spans = segments(t)
    pieces = [t[a:b] for a, b in spans]
    assert pieces[0] == "Perform CPR" and "give medicines to patients" in pieces
    assert segments("A single clause") == []


def test_keyword_lists_split_into_terms():
    t = "django postgresql redis"
    pieces = [t[a:b] for a, b in keyword_units(t, 0, len(t))]
    assert {"django", "postgresql", "redis", "django postgresql"} <= set(pieces)
    prose = "You will work with the team"
    assert keyword_units(prose, 0, len(prose)) == []


def test_calibration_is_monotone_and_bounded():
    xs = np.linspace(-1, 2, 301)
    ys = [expected_precision(float(x)) for x in xs]
    assert all(0.0 <= y <= 1.0 for y in ys)
    assert all(b >= a for a, b in zip(ys, ys[1:]))
    assert ys[0] < 0.05 and ys[-1] > 0.5


def test_nothing_relevant_gets_low_scores(linker):
    good, bad = linker.rank(["You will write Python code for our data platform.",
                             "The weather in Lisbon was sunny yesterday."], top_k=1)
    assert bad[0].score < good[0].score
    assert bad[0].precision < 0.2 < good[0].precision


def test_cache_hit_makes_reencoding_free(tmp_path):
    texts = ["administer medication", "manage budgets", "speak French"]
    enc = load_minilm(cache_dir=tmp_path)
    v1 = enc.encode(texts)
    assert enc.encoded_count == 3
    v2 = enc.encode(texts + texts[:1])
    assert enc.encoded_count == 3  # nothing new went through the model
    np.testing.assert_array_equal(v1, v2[:3])
    fresh = load_minilm(cache_dir=tmp_path)  # another process: reads the shards from disk
    fresh._model = enc._model
    v3 = fresh.encode(texts)
    assert fresh.encoded_count == 0
    np.testing.assert_array_equal(v1, v3)
    fresh.encode(["a new text"])
    assert fresh.encoded_count == 1


def test_empty_inputs(linker):
    assert linker.rank([]) == []
    assert len(linker.rank([""], top_k=2)[0]) == 2
