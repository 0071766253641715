"""The application's shared objects, in a leaf module (Flask tutorial style): ``init_app`` puts
the workspace, the institutions and the read-query engine on the app; ``gapmap()`` gives the
current request's workspace.  Blueprints import from here, never from ``service.app``, so no
module imports the factory back."""
from __future__ import annotations

import atexit

from flask import Flask, current_app, has_request_context

from ontology.store import Store

from .query_deadline import read_deadline
from .workspace import Workspace


def gapmap() -> Workspace:
    """The workspace (store, ids, config, linkers) of the current request's institution
    (the default institution outside requests and for anonymous public reads)."""
    ext = current_app.extensions
    tenants = ext.get("gapmap_tenants")
    if tenants is None or not has_request_context():
        return ext["gapmap"]
    from .auth import current_institution
    return tenants.get(current_institution())


def init_app(app: Flask, cfg, store: Store | None = None) -> None:
    """Open the default institution's workspace, the institutions table and the read deadline."""
    app.extensions["gapmap"] = Workspace.from_config(cfg, store)
    from .tenants import Tenants
    app.extensions["gapmap_tenants"] = Tenants(cfg, app.extensions["gapmap"])
    eng = read_deadline(app.extensions["gapmap"].store, cfg)
    if eng is not None:
        app.extensions["gapmap_reads"] = eng
        # worker processes die with the server, not later as orphans
        atexit.register(eng.close)
