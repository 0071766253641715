"""The JSON API (mounted at /api)."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

from . import catalog, jobs, loading, reports, review  # noqa: E402,F401  (routes register on bp)
from .openapi import openapi  # noqa: E402,F401
