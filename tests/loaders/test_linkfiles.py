"""``gapmap link``'s files (loaders/linkfiles.py): where the output goes, which inputs are refused and how,
blank and repeated queries.  A deterministic encoder (tests/linking/test_link_speed.TextVectors) stands in for
the model: what is tested is the file handling; ranking quality is tested in tests/linking."""
from __future__ import annotations

import json
import os
import stat
import threading

import pytest

from linking import engine
from linking.engine import Linker
from loaders.linkfiles import link_files, read_competencies
from ontology.errors import LoadError
from tests.linking.test_link_speed import TextVectors, _bundled


@pytest.fixture
def files(tmp_path):
    comps, texts = _bundled()
    comp = tmp_path / "comp.jsonl"
    comp.write_text("".join(json.dumps({"uri": c.uri, "label": c.label, "alt_labels": list(c.alt_labels)}) + "\n"
                            for c in comps))
    q = tmp_path / "q.jsonl"
    q.write_text("".join(json.dumps({"id": f"q{i}", "text": t}) + "\n" for i, t in enumerate(texts[:6])))
    return comp, q, Linker(read_competencies(comp), encoder=TextVectors())


def _ids(path):
    return [json.loads(x)["id"] for x in open(path)]


def test_a_symlinked_output_is_written_through_and_stays_a_link(tmp_path, files):
    comp, q, linker = files
    target = tmp_path / "real.jsonl"
    target.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    link_files(comp, q, link, top=2, progress=False, linker=linker)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert _ids(target) == [f"q{i}" for i in range(6)]
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


def test_a_fifo_output_is_written_through_not_replaced(tmp_path, files):
    comp, q, linker = files
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.extend(open(fifo).read().splitlines()))
    reader.start()
    link_files(comp, q, fifo, top=2, progress=False, linker=linker)
    reader.join(10)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and len(got) == 6


def test_output_dash_is_standard_output(capsys, files):
    comp, q, linker = files
    link_files(comp, q, "-", top=2, progress=False, linker=linker)
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(x)["id"] for x in lines] == [f"q{i}" for i in range(6)]


@pytest.mark.parametrize("which", ["input", "competencies", "input, spelled another way"])
def test_output_that_is_an_input_is_refused_and_the_input_kept(tmp_path, files, which):
    comp, q, linker = files
    victim = comp if which == "competencies" else q
    before = victim.read_bytes()
    out = victim if which != "input, spelled another way" else tmp_path / "sub" / ".." / q.name
    with pytest.raises(LoadError, match="same file as"):
        link_files(comp, q, out, top=2, progress=False, linker=linker)
    assert victim.read_bytes() == before


def test_unwritable_outputs_are_one_line_errors(tmp_path, files):
    comp, q, linker = files
    with pytest.raises(LoadError, match="folder .* is a file"):
        link_files(comp, q, q / "out.jsonl", top=2, progress=False, linker=linker)
    with pytest.raises(LoadError, match="is a folder"):
        link_files(comp, q, tmp_path, top=2, progress=False, linker=linker)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):  # root ignores the mode: /proc refuses everyone
            with pytest.raises(LoadError, match="cannot write --output"):
                link_files(comp, q, "/proc/gapmap-test.jsonl", top=2, progress=False, linker=linker)
        else:
            with pytest.raises(LoadError, match="cannot write --output"):
                link_files(comp, q, ro / "out.jsonl", top=2, progress=False, linker=linker)
    finally:
        (tmp_path / "ro").chmod(0o700)


@pytest.mark.parametrize("field,line", [
    ("text", '{"id": "x", "text": "bad \\ud800 surrogate"}'),
    ("id", '{"id": "bad\\udfff", "text": "weld steel"}'),
])
def test_a_lone_surrogate_in_a_query_is_named(tmp_path, files, field, line):
    comp, _q, linker = files
    q = tmp_path / "bad.jsonl"
    q.write_text('{"id": "ok", "text": "fine"}\n' + line + "\n")
    with pytest.raises(LoadError) as e:
        link_files(comp, q, tmp_path / "o.jsonl", top=2, progress=False, linker=linker)
    assert e.value.row == 2 and e.value.column == field and "surrogate" in str(e.value)
    assert not (tmp_path / "o.jsonl").exists()


def test_a_lone_surrogate_in_the_catalogue_is_named(tmp_path):
    comp = tmp_path / "c.jsonl"
    comp.write_text('{"uri": "u1", "label": "ok"}\n{"uri": "u2", "label": "x", "alt_labels": ["a\\ud800"]}\n')
    with pytest.raises(LoadError) as e:
        read_competencies(comp)
    assert e.value.row == 2 and e.value.column == "alt_labels"


def test_blank_queries_get_empty_rankings_and_repeated_ids_a_warning(tmp_path, files, capsys):
    comp, _q, linker = files
    q = tmp_path / "q2.jsonl"
    q.write_text('{"id": "a", "text": "Take a focused history"}\n{"id": "b", "text": "   "}\n'
                 '{"id": "a", "text": "Perform a physical examination"}\n')
    out = tmp_path / "o.jsonl"
    link_files(comp, q, out, top=3, progress=False, linker=linker)
    rows = [json.loads(x) for x in open(out)]
    assert [r["id"] for r in rows] == ["a", "b", "a"]
    assert rows[1] == {"id": "b", "ranked": [], "scores": [], "evidence": [], "precision": []}
    assert len(rows[0]["ranked"]) == len(rows[2]["ranked"]) == 3
    assert "repeated id(s): 'a' on lines 1 and 3" in capsys.readouterr().err


def test_the_first_results_do_not_depend_on_how_many_are_asked_for(files):
    """With the shortlist on, --top 5 is the head of --top 20 and of --top 60 (the shortlist does not grow with
    top_k); past the shortlist the results still come in descending score."""
    comp, _q, _ = files
    comps, texts = _bundled()
    linker = Linker(read_competencies(comp), encoder=TextVectors(), config=engine.LinkerConfig(shortlist=10))
    assert linker._shortlist_pays(10)
    five, twenty, sixty = (linker.rank(texts[:40], top_k=k) for k in (5, 20, 60))
    for a, b, c in zip(five, twenty, sixty):
        assert [m.uri for m in a] == [m.uri for m in b][:5] == [m.uri for m in c][:5]
        assert [m.uri for m in b] == [m.uri for m in c][:20]
        scores = [m.score for m in c]
        assert scores == sorted(scores, reverse=True)


def _assert_same_links(a, b):
    """Same records, rankings and evidence; scores equal to float rounding: the similarity products run in other
    matrix shapes, and BLAS kernels sum in shape-dependent order (on an AMD CPU a score moved 0.088211 -> 0.088212)."""
    ra = [json.loads(x) for x in a.read_text().splitlines()]
    rb = [json.loads(x) for x in b.read_text().splitlines()]
    assert len(ra) == len(rb)
    for x, y in zip(ra, rb):
        assert {k: v for k, v in x.items() if k != "scores"} == {k: v for k, v in y.items() if k != "scores"}
        assert x["scores"] == pytest.approx(y["scores"], abs=1e-5)


def test_units_encoded_a_block_at_a_time_give_the_same_file_and_each_unit_once(tmp_path, files, monkeypatch):
    """``gapmap link`` encodes a block of sentences' units in one encoder call and ranks the block in smaller
    batches from those vectors: the output is that of encoding each batch itself, and no unit is encoded twice
    (also across blocks, through the run memo)."""
    import loaders.linkfiles as lf
    comp, _q, _ = files
    _comps, texts = _bundled()
    q = tmp_path / "many.jsonl"
    q.write_text("".join(json.dumps({"id": f"q{i}", "text": t}) + "\n" for i, t in enumerate(texts[:30] + texts[:9])))

    class Counting(TextVectors):
        def __init__(self):
            self.calls: list[list[str]] = []

        def encode_raw(self, texts, **kw):
            self.calls.append(list(texts))
            return super().encode_raw(texts)

    plain = tmp_path / "plain.jsonl"
    link_files(comp, q, plain, top=5, progress=False, linker=Linker(read_competencies(comp), encoder=TextVectors()))
    monkeypatch.setattr(lf, "BATCH", 4)
    monkeypatch.setattr(lf, "ENCODE_BLOCK", 12)
    enc = Counting()
    linker = Linker(read_competencies(comp), encoder=enc)
    enc.calls.clear()
    blocked = tmp_path / "blocked.jsonl"
    link_files(comp, q, blocked, top=5, progress=False, linker=linker)
    _assert_same_links(blocked, plain)
    seen = [u for call in enc.calls for u in call]
    assert len(seen) == len(set(seen))  # each unit once, the repeated sentences of the last block not at all
    assert len(enc.calls) == 3  # one call per block of 12 (the fourth block is all repeats: no call)
