"""Apps over the mini fixture for the account, tenant and hardening tests (aligned by a word-overlap linker)."""
from __future__ import annotations

import re
from pathlib import Path

from linking.engine import Evidence, Match

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini"
PASSWORD = "correct horse battery"


class WordLinker:
    """Ranks competencies by shared words with their label and definition (fast; no model)."""

    model_version = "test-word-overlap/1"

    def __init__(self, comps):
        self.competencies = comps
        self._words = [(c, set(re.findall(r"[a-z]{4,}", " ".join((c.label, *c.alt_labels, c.description or "")).lower())))
                       for c in comps]

    def rank(self, texts, top_k=5):
        out = []
        for text in texts:
            words = set(re.findall(r"[a-z]{4,}", text.lower()))
            scored = sorted(((len(words & ws) / (len(ws) or 1), i, c) for i, (c, ws) in enumerate(self._words)),
                            key=lambda x: (-x[0], x[1]))[:top_k]
            out.append([Match(uri=c.uri, score=0.5 + s / 2, precision=0.3 + s / 2,
                              evidence=Evidence(field="label", text=c.label, query_span=(0, min(len(text), 10))))
                        for s, _, c in scored])
        return out


def use_word_linker(ws) -> None:
    """Make ``ws.align`` (the API's align) use the word-overlap linker instead of MiniLM."""
    from ontology.align import competency_texts
    ws.linker = lambda framework: WordLinker(competency_texts(ws.store, framework))


def load_mini(ws) -> None:
    ws.load_manifest(MINI / "manifest.json")
    use_word_linker(ws)
    ws.align("mini", top_k=3, min_precision=0.0)


def make_app(tmp_path, **config):
    from service.app import create_app
    return create_app({"STORE_PATH": "", "TESTING": True, "CACHE_DIR": str(tmp_path / "cache"),
                       "SPARQL_TIMEOUT": 5.0, **config})


def suggestions(client, headers, program="mini") -> dict[str, list[dict]]:
    """course code → its alignments (every status), as the review API lists them."""
    q = client.get(f"/api/programs/{program}/review?status=all", headers=headers).get_json()
    out: dict[str, list[dict]] = {}
    for o in q["objectives"]:
        out.setdefault(o["course"], []).extend(o["alignments"])
    return out


def csrf_of(client) -> str:
    with client.session_transaction() as s:
        return s["csrf"]
