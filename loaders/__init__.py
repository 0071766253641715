"""Outside formats in: one small interface (:class:`Loader`) and a lazy table of loaders (:mod:`.registry`)."""
from .base import Context, Delta, Loader, LoadError, Source
from .registry import available, detect, for_media_type, get, loader_class, plugins, register

__all__ = ["Context", "Delta", "Loader", "LoadError", "Source", "available", "detect", "for_media_type", "get",
           "loader_class", "plugins", "register"]
