"""Loader name / media type / file extension -> loader, like rdflib's plugin registry.

One table (:data:`_TABLE`, filled by the :func:`register` calls at the bottom) says which loaders exist:
name -> (module, class), with the media types and file extensions each reads.  Nothing is imported until a
loader is asked for (:func:`get`), so listing, detecting and reading one format never imports the others.
Loader modules never import this module (no circles: registry -> loader module, never back).

:func:`detect` picks the loader for an upload that does not name one: media type and extension narrow the
table down; when several loaders read the same kind of file (many read ``.csv``), each candidate's
:meth:`~loaders.base.Loader.sniff` looks at the content (a CSV's header row, a JSON or XML root).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import PurePath

from ontology.errors import LoadError, NotFound, UnsupportedFormat

from .base import Loader

__all__ = ["Plugin", "register", "get", "loader_class", "plugins", "available", "detect", "for_media_type"]


@dataclass(frozen=True)
class Plugin:
    """One row of the table: where a loader lives and what it reads (known without importing it)."""

    name: str
    module: str
    cls: str
    media_types: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()

    def load_class(self) -> type[Loader]:
        cls = getattr(importlib.import_module(self.module), self.cls)
        if not (isinstance(cls, type) and issubclass(cls, Loader)):
            raise TypeError(f"{self.module}.{self.cls} is not a Loader")
        return cls


_TABLE: dict[str, Plugin] = {}
_CLASSES: dict[str, type[Loader]] = {}

#: media types that say nothing about the content (browsers send them for unknown extensions)
_NO_CLAIM = {"", "application/octet-stream", "binary/octet-stream", "application/unknown"}


def register(name: str, module: str, cls: str, *, media_types: tuple[str, ...] = (),
             extensions: tuple[str, ...] = ()) -> Plugin:
    """Add (or replace) a loader: ``register("my-csv", "mypkg.loaders", "MyCSV", extensions=(".csv",))``."""
    p = Plugin(name, module, cls, tuple(m.lower() for m in media_types), tuple(e.lower() for e in extensions))
    _TABLE[name] = p
    _CLASSES.pop(name, None)
    return p


def plugins() -> dict[str, Plugin]:
    """The table, by name (imports nothing)."""
    return dict(sorted(_TABLE.items()))


def loader_class(name: str) -> type[Loader]:
    """The class registered as ``name``, imported on first use; an unknown name is a 404."""
    cls = _CLASSES.get(name) if isinstance(name, str) else None
    if cls is None:
        try:
            plugin = _TABLE[name]
        except (KeyError, TypeError):  # TypeError: not a name at all (a list from a JSON body)
            raise NotFound(f"no loader named {str(name)[:60]!r}; known: {', '.join(sorted(_TABLE))}",
                           field="loader") from None
        cls = _CLASSES[name] = plugin.load_class()
    return cls


def get(name: str) -> Loader:
    return loader_class(name)()


def available() -> dict[str, type[Loader]]:
    """Every registered loader class by name (imports them all: for listings)."""
    return {n: loader_class(n) for n in sorted(_TABLE)}


def _suffix(filename: str | None) -> str:
    return PurePath(filename or "").suffix.lower()


def detect(filename: str | None = None, media_type: str | None = None, data: bytes | None = None) -> str:
    """The name of the loader for a file: by media type, then extension, then content.

    A media type or extension no loader reads is a 415 (:class:`UnsupportedFormat`); a file that several
    loaders could read and whose content does not tell them apart is a 422 asking for the loader's name.
    """
    mt = (media_type or "").split(";")[0].strip().lower()
    ext = _suffix(filename)
    by_type = [p for p in _TABLE.values() if mt and mt in p.media_types]
    by_ext = [p for p in _TABLE.values() if ext and ext in p.extensions]
    if by_type and by_ext:  # both known: the loaders that read both, else the extension's (the more specific)
        candidates = [p for p in by_type if p in by_ext] or by_ext
    else:
        candidates = by_type or by_ext
    if not candidates:
        what = " and ".join(x for x in (f"media type {mt!r}" if mt not in _NO_CLAIM else "",
                                        f"extension {ext!r}" if ext else "") if x) or "a file without an extension"
        raise UnsupportedFormat(f"no loader reads {what}; name the loader (see /api/loaders)", file=filename,
                                field="loader")
    if len(candidates) == 1:
        return candidates[0].name
    names = ", ".join(p.name for p in candidates)
    if data is None:
        raise LoadError(f"several loaders read this kind of file ({names}); name the loader",
                        file=filename, column="loader")
    matches = [loader_class(p.name) for p in candidates]
    matches = [c for c in matches if c.sniff(data, filename or "")]
    if not matches:
        raise LoadError(f"the content fits none of the loaders for this kind of file ({names}); name the loader",
                        file=filename, column="loader")
    best = max(len(c.columns) for c in matches)  # the most specific header wins (a superset of columns)
    matches = [c for c in matches if len(c.columns) == best]
    if len(matches) > 1:
        raise LoadError(f"the content fits several loaders ({', '.join(c.name for c in matches)}); name the loader",
                        file=filename, column="loader")
    return matches[0].name


def for_media_type(media_type: str) -> Loader:
    """The loader for a media type that only one loader reads (415 otherwise)."""
    mt = (media_type or "").split(";")[0].strip().lower()
    found = [p for p in _TABLE.values() if mt and mt in p.media_types]
    if len(found) != 1:
        raise UnsupportedFormat(f"no loader for media type {media_type!r}" if not found else
                                f"several loaders read {mt!r} ({', '.join(p.name for p in found)}); name one",
                                field="content-type")
    return get(found[0].name)


# ------------------------------------------------------------------------------------------------ the table
_CSV = ("text/csv",)
_XLSX = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",)

# curricula, frameworks, roles, assessments
register("curriculum-csv", "loaders.curriculum", "CurriculumCSV", media_types=_CSV, extensions=(".csv",))
register("curriculum-xlsx", "loaders.curriculum", "CurriculumXLSX", media_types=_XLSX, extensions=(".xlsx",))
register("framework-csv", "loaders.framework_csv", "FrameworkCSV", media_types=_CSV, extensions=(".csv",))
register("roles-csv", "loaders.roles", "RolesCSV", media_types=_CSV, extensions=(".csv",))
register("assessments-csv", "loaders.assessments", "AssessmentsCSV", media_types=_CSV, extensions=(".csv",))
register("results-csv", "loaders.assessments", "ResultsCSV", media_types=_CSV, extensions=(".csv",))
# outside frameworks (esco and onet read a folder of their release files: named, never detected)
register("skos", "loaders.skos", "SkosScheme",
         media_types=("text/turtle", "application/rdf+xml", "application/ld+json", "application/n-triples"),
         extensions=(".ttl", ".rdf", ".owl", ".xml", ".jsonld", ".nt"))
register("esco", "loaders.esco", "Esco")
register("onet", "loaders.onet", "ONet")
register("case", "loaders.case", "CasePackage",
         media_types=("application/vnd.1edtech.case+json", "application/case+json"), extensions=(".json",))
register("case-csv", "loaders.case", "OpenSaltSpreadsheet", extensions=(".csv", ".xlsx"))
register("medbiq-ci", "loaders.medbiq_ci", "CurriculumInventory", media_types=("application/vnd.medbiq.ci+xml",),
         extensions=(".xml",))
# careers: people, evidence, catalogue, badges, demand
register("people-csv", "loaders.people", "PeopleCSV", media_types=_CSV, extensions=(".csv",))
register("evidence-csv", "loaders.people", "EvidenceCSV", media_types=_CSV, extensions=(".csv",))
register("milestones-csv", "loaders.people", "MilestonesCSV", media_types=_CSV, extensions=(".csv",))
register("credentials-csv", "loaders.people", "CredentialsCSV", media_types=_CSV, extensions=(".csv",))
register("catalogue-csv", "loaders.catalogue", "CatalogueCSV", media_types=_CSV, extensions=(".csv",))
register("badges-ob3", "loaders.catalogue", "OpenBadgesAchievements", extensions=(".json", ".jsonld"))
register("demand-csv", "loaders.catalogue", "DemandCSV", media_types=_CSV, extensions=(".csv",))
# syllabus documents -> a versioned gm:Syllabus and its objectives (loaders/syllabus reads, syllabus_graph writes)
register("syllabus", "loaders.syllabus_graph", "SyllabusDocument",
         media_types=("application/pdf", "application/x-pdf",
                      "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                      "text/html", "application/xhtml+xml", "text/markdown", "text/x-markdown", "text/plain"),
         extensions=(".pdf", ".docx", ".html", ".htm", ".xhtml", ".md", ".markdown", ".txt", ".text"))
