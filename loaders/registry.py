"""Format name / media type / file extension -> loader, like rdflib's plugin registry."""
from __future__ import annotations

from ontology.errors import UnsupportedFormat

from .base import Loader

_LOADERS: dict[str, type[Loader]] = {}


def register(cls: type[Loader]) -> type[Loader]:
    """Class decorator: make a loader available by its name, media types and extensions."""
    _LOADERS[cls.name] = cls
    return cls


def get(name: str) -> Loader:
    _ensure_builtins()
    try:
        return _LOADERS[name]()
    except KeyError:
        raise UnsupportedFormat(f"no loader named {name!r}; known: {', '.join(sorted(_LOADERS))}",
                                field="loader") from None


def for_media_type(media_type: str) -> Loader:
    _ensure_builtins()
    mt = media_type.split(";")[0].strip().lower()
    for cls in _LOADERS.values():
        if mt in cls.media_types:
            return cls()
    raise UnsupportedFormat(f"no loader for media type {media_type!r}", field="content-type")


def available() -> dict[str, type[Loader]]:
    _ensure_builtins()
    return dict(sorted(_LOADERS.items()))


_loaded = False


def _ensure_builtins():
    global _loaded
    if not _loaded:
        _loaded = True
        from . import builtin  # noqa: F401  (registers the bundled loaders)
