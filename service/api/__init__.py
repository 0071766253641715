"""The JSON API (mounted at /api)."""
from .blueprint import bp  # noqa: F401

from . import accounts, catalog, exports, jobs, linked, loading, reports, review  # noqa: F401  (routes register on bp)
from . import careers  # noqa: F401  (people, plans, mentoring, pipeline)
from . import workbench  # noqa: F401  (progression, health, crosswalks, drafts)
from . import docs, openapi  # noqa: F401  (the generated document and its browsable UI)

from .params import check_query  # noqa: E402

bp.before_request(check_query)  # an undeclared query parameter is a 400 naming it
