"""The Flask application factory (thin: routing, content negotiation, errors)."""
from __future__ import annotations

import logging

from flask import Flask, current_app, has_request_context

from ontology.store import Store

from .config import Config
from .errors import register_error_handlers
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


def read_deadline(store, cfg):
    """On-disk stores: the read layer's named queries run in killable worker processes with a
    deadline (QUERY_DEADLINE), so one pathological query cannot hold a request thread for minutes.
    (In-memory stores, i.e. tests and throwaway runs, keep evaluating in-process.)  Returns the
    engine (to close), or None."""
    deadline = float(getattr(cfg, "QUERY_DEADLINE", 0) or 0)
    if deadline <= 0 or not getattr(store, "path", None) or not hasattr(store, "read_executor"):
        return None
    from ontology.sparql import SparqlEngine
    eng = SparqlEngine(store, timeout=deadline, workers=int(getattr(cfg, "QUERY_WORKERS", 4) or 4),
                       max_result_bytes=None)
    store.read_executor = eng.select
    return eng


def _read_deadline(app: Flask, cfg) -> None:
    eng = read_deadline(app.extensions["gapmap"].store, cfg)
    if eng is not None:
        app.extensions["gapmap_reads"] = eng


def create_app(config: Config | dict | None = None, *, store: Store | None = None) -> Flask:
    if isinstance(config, dict):
        cfg = Config()
        for k, v in config.items():
            setattr(cfg, k, v)
    else:
        cfg = config or Config()
    app = Flask(__name__, template_folder="web/templates", static_folder="web/static")
    app.config.from_mapping(cfg.as_flask())
    app.json.sort_keys = False
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app.extensions["gapmap"] = Workspace.from_config(cfg, store)
    from .tenants import Tenants
    app.extensions["gapmap_tenants"] = Tenants(cfg, app.extensions["gapmap"])
    from loaders.safety import configure as _upload_limits
    _upload_limits(max_rows=getattr(cfg, "MAX_UPLOAD_ROWS", None))
    _read_deadline(app, cfg)
    register_error_handlers(app)

    from .api import bp as api_bp
    from .sparql import bp as sparql_bp
    from .web import bp as web_bp
    app.register_blueprint(api_bp)
    from .api.linked import context_bp
    app.register_blueprint(context_bp)
    app.register_blueprint(sparql_bp)
    app.register_blueprint(web_bp)
    from . import auth
    auth.init_app(app, cfg)
    return app
