"""Outside formats in: one small interface (:class:`Loader`) and a registry."""
from .base import Context, Delta, Loader, LoadError, Source
from .registry import available, for_media_type, get, register

__all__ = ["Context", "Delta", "Loader", "LoadError", "Source", "available", "for_media_type", "get", "register"]
