"""Server-rendered pages (the web UI) and the dereferenceable vocabulary: the blueprint and the
shared page helpers are in ``pages``; each ``views_*`` module registers its routes on it."""
from .pages import bp  # noqa: F401
from . import views_auth, views_catalog, views_program, views_sparql  # noqa: F401  (routes register on bp)
from . import views_careers  # noqa: F401  (people, plans, mentoring, pipeline)
from . import views_workbench  # noqa: F401  (progression, health, crosswalks, drafts)
