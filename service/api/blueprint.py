"""The API blueprint (mounted at /api), in a leaf module: the view modules register on it and the
package imports them, with no circle."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")
