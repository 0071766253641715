"""Institutions (tenants): one Workspace (store + IRI base) per institution, isolated by construction.

The default institution is the store named by ``GAPMAP_STORE`` (``var/store``), as before.  Another
institution ``ID`` has its own store in ``<store>/../institutions/ID/store`` and mints its IRIs under
``<GAPMAP_BASE>institutions/ID/``; with an in-memory default store (tests) its store is in memory too.
No query, page or write can reach another institution's store: ``service.app.gapmap()`` hands each
request the workspace of its user's institution (anonymous public reads: the default institution).
"""
from __future__ import annotations

import copy
import threading

from .config import Config, var_dir
from .users import DEFAULT_INSTITUTION, check_institution
from .workspace import Workspace


def institution_config(cfg: Config, inst: str) -> Config:
    if inst == DEFAULT_INSTITUTION:
        return cfg
    check_institution(inst)
    c = copy.copy(cfg)
    var = var_dir(cfg)
    if "://" in (cfg.STORE_PATH or ""):
        # A remote default store: each institution's store is a SPARQL server too (one per tenant), never an
        # embedded store in this replica's var/ (other replicas would not see it, and two processes cannot
        # open one embedded store).
        tmpl = getattr(cfg, "INSTITUTION_STORES", "") or ""
        if "{institution}" not in tmpl:
            from ontology.errors import StoreUnavailable
            raise StoreUnavailable(f"institution {inst!r} has no store: with a remote GAPMAP_STORE, set "
                                   "GAPMAP_INSTITUTION_STORES to a URL with {institution} (docs/deploy.md)")
        c.STORE_PATH = tmpl.replace("{institution}", inst)
    else:
        c.STORE_PATH = str(var / "institutions" / inst / "store") if var else ""
    c.BASE = cfg.BASE.rstrip("/") + f"/institutions/{inst}/"
    return c


class Tenants:
    """The open workspaces of one process, by institution (opened on first use)."""

    def __init__(self, cfg: Config, default: Workspace):
        self.cfg = cfg
        self._ws: dict[str, Workspace] = {DEFAULT_INSTITUTION: default}
        self._lock = threading.Lock()

    def get(self, inst: str) -> Workspace:
        ws = self._ws.get(inst)
        if ws is None:
            with self._lock:
                ws = self._ws.get(inst)
                if ws is None:
                    ws = self._ws[inst] = Workspace.from_config(institution_config(self.cfg, inst))
                    ws._encoders = self._ws[DEFAULT_INSTITUTION]._encoders  # one model per kind for all institutions
                    from .query_deadline import read_deadline
                    read_deadline(ws.store, ws.config)  # every institution's queries have the deadline
        return ws

    def open(self) -> dict[str, Workspace]:
        return dict(self._ws)
