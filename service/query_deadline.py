"""The read layer's query deadline on on-disk stores (used for every institution's store)."""
from __future__ import annotations


def read_deadline(store, cfg):
    """On-disk stores: the read layer's named queries run in killable worker processes with a
    deadline (QUERY_DEADLINE), so one pathological query cannot hold a request thread for minutes.
    (In-memory stores, i.e. tests and throwaway runs, keep evaluating in-process.)  Returns the
    engine (to close), or None."""
    deadline = float(getattr(cfg, "QUERY_DEADLINE", 0) or 0)
    caps = store.capabilities
    if deadline <= 0 or not (caps.workers and caps.persistent):
        return None
    from ontology.sparql import SparqlEngine
    eng = SparqlEngine(store, timeout=deadline, workers=int(getattr(cfg, "QUERY_WORKERS", 4) or 4),
                       max_result_bytes=None)
    store.read_executor = eng.select
    return eng
