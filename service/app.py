"""The Flask application factory (thin: routing, content negotiation, errors)."""
from __future__ import annotations

import logging

from flask import Flask

from ontology.store import Store

from .config import Config
from .errors import register_error_handlers
from . import extensions


def create_app(config: Config | dict | None = None, *, store: Store | None = None) -> Flask:
    cfg = Config.from_mapping(config) if isinstance(config, dict) else (config or Config())
    from linking import settings as linking_settings
    linking_settings.configure(cfg.linking_settings())
    app = Flask(__name__, template_folder="web/templates", static_folder="web/static")
    app.config.from_mapping(cfg.as_flask())
    app.json.sort_keys = False
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    extensions.init_app(app, cfg, store)
    from loaders.safety import configure as _upload_limits
    _upload_limits(max_rows=getattr(cfg, "MAX_UPLOAD_ROWS", None))
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
