"""Importing this module registers every bundled loader."""
from . import assessments, curriculum, framework_csv, roles  # noqa: F401
from . import esco, onet, skos  # noqa: F401
from . import catalogue, people  # noqa: F401  (careers: people, evidence, catalogue, badges, demand)
from . import case, medbiq_ci  # noqa: F401
