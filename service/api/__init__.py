"""The JSON API (mounted at /api)."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

from . import accounts, catalog, exports, jobs, linked, loading, reports, review  # noqa: E402,F401  (routes register on bp)
from . import careers  # noqa: E402,F401  (people, plans, mentoring, pipeline)
from . import workbench  # noqa: E402,F401  (progression, health, crosswalks, drafts)
from . import docs, openapi  # noqa: E402,F401  (the generated document and its browsable UI)
