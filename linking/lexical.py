"""A small BM25 over competency names (numpy + scipy.sparse; no extra dependency)."""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np
from scipy import sparse

_WORD = re.compile(r"[a-z0-9][a-z0-9+#]*(?:\.[a-z0-9+#]+)*")

STOPWORDS = frozenset("""
a about above after again all also am an and any are as at be been being both but by can could
did do does doing during each either etc for from further had has have having he her here hers
him his how i if in into is it its itself just me more most my no nor not of off on once only or
other our ours out over own per same she should so some such than that the their theirs them then
there these they this those through to too under until up upon us very via was we well were what
when where which while who whom why will with within would you your yours e.g i.e ability able
good great strong excellent knowledge skill skills experience experienced work working must
required requirement requirements plus preferred ideally etc
""".split())


def stem(w: str) -> str:
    """A light English suffix stripper (enough to join plural/verb forms for BM25)."""
    if len(w) <= 3 or not w.isalpha():
        return w
    for suf, rep in (("ational", "ate"), ("ization", "ize"), ("ations", "ate"), ("ation", "ate"),
                     ("iveness", "ive"), ("fulness", "ful"), ("ousness", "ous"), ("ements", ""),
                     ("ement", ""), ("ments", ""), ("ment", ""), ("ings", ""), ("ing", ""),
                     ("ies", "y"), ("ied", "y"), ("edly", ""), ("ed", ""), ("ers", "er"),
                     ("ly", ""), ("es", ""), ("s", "")):
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            if suf == "s" and w.endswith(("ss", "us", "is")):
                return w
            if suf == "es" and not w.endswith(("ches", "shes", "sses", "xes", "zes")):
                w = w[:-1]
                return w
            return w[: len(w) - len(suf)] + rep
    return w


def tokenize(text: str) -> list[str]:
    out = []
    for m in _WORD.finditer(text.lower()):
        w = m.group(0).strip(".")
        if not w or w in STOPWORDS:
            continue
        out.append(stem(w))
    return out


class BM25:
    def __init__(self, docs: Sequence[str], k1: float = 1.2, b: float = 0.75):
        toks = [tokenize(d) for d in docs]
        vocab: dict[str, int] = {}
        rows, cols, vals = [], [], []
        for j, ts in enumerate(toks):
            counts: dict[int, int] = {}
            for t in ts:
                j = vocab.setdefault(t, len(vocab))
                counts[j] = counts.get(j, 0) + 1
            for i, c in counts.items():
                rows.append(i)
                cols.append(j)
                vals.append(c)
        self.vocab = vocab
        n_docs = len(docs)
        tf = sparse.csr_matrix((np.asarray(vals, np.float32), (rows, cols)), shape=(len(vocab), n_docs))
        df = np.diff(tf.indptr).astype(np.float32)
        self.idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        dl = np.asarray(tf.sum(axis=0)).ravel()
        avgdl = float(dl.mean()) if n_docs else 1.0
        tf = tf.tocoo()
        denom = tf.data + k1 * (1 - b + b * dl[tf.col] / max(avgdl, 1e-9))
        w = self.idf[tf.row] * tf.data * (k1 + 1) / denom
        self.weights = sparse.csr_matrix((w.astype(np.float32), (tf.row, tf.col)), shape=tf.shape)
        self.n_docs = n_docs

    def query_matrix(self, queries: Sequence[str]) -> sparse.csr_matrix:
        rows, cols = [], []
        for i, q in enumerate(queries):
            seen = set()
            for t in tokenize(q):
                j = self.vocab.get(t)
                if j is not None and j not in seen:
                    seen.add(j)
                    rows.append(i)
                    cols.append(j)
        return sparse.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)),
                                 shape=(len(queries), len(self.vocab)))

    def scores(self, queries: Sequence[str]) -> np.ndarray:
        """(queries x docs) BM25, divided by the query's total idf so values lie in [0, ~1+k1]."""
        qm = self.query_matrix(queries)
        s = (qm @ self.weights).toarray()
        qidf = qm @ self.idf
        return s / np.maximum(qidf, 1e-6)[:, None]
