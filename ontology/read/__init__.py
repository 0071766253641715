"""The typed read layer: one module per area, each mapping named queries (``ontology/queries/*.rq``, bound
parameters) to frozen row types with ``to_dict()``.  The API, the web pages and the CLI read through it.

- :mod:`.catalog`: frameworks, competencies, programs, courses, objectives, assessments, job roles
- :mod:`.review`: the review queue (one, for API, page and CLI), alignments, their history, syllabus versions
- :mod:`.reports`: the one path to a gap report, role readiness
- :mod:`.careers`: saved mentor matches
"""
