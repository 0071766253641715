"""One Config, read from environment variables (documented in the README)."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env(name, default, cast=str):
    v = os.environ.get(name)
    return default if v in (None, "") else cast(v)


@dataclass
class Config:
    #: on-disk store folder; empty string = in-memory (tests)
    STORE_PATH: str = field(default_factory=lambda: _env("GAPMAP_STORE", str(ROOT / "var" / "store")))
    BASE: str = field(default_factory=lambda: _env("GAPMAP_BASE", "https://example.edu/gapmap/"))
    DATA_DIR: str = field(default_factory=lambda: _env("GAPMAP_DATA", str(ROOT / "data")))
    CACHE_DIR: str = field(default_factory=lambda: _env("GAPMAP_CACHE_DIR", str(ROOT / "var" / "cache")))
    SPARQL_TIMEOUT: float = field(default_factory=lambda: _env("GAPMAP_SPARQL_TIMEOUT", 10.0, float))
    MAX_UPLOAD_BYTES: int = field(default_factory=lambda: _env("GAPMAP_MAX_UPLOAD", 20 * 2**20, int))
    ALIGN_TOP_K: int = field(default_factory=lambda: _env("GAPMAP_ALIGN_TOP_K", 3, int))
    #: suggestions below this calibrated precision are not stored ("no good match" leaves an objective unmapped)
    ALIGN_MIN_PRECISION: float = field(default_factory=lambda: _env("GAPMAP_ALIGN_MIN_PRECISION", 0.05, float))
    #: signs the web UI's session cookie (reviewer name); random per process when unset
    SECRET_KEY: str = field(default_factory=lambda: _env("GAPMAP_SECRET_KEY", secrets.token_hex(16)))
    TESTING: bool = False

    def as_flask(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["MAX_CONTENT_LENGTH"] = self.MAX_UPLOAD_BYTES
        # The review API trusts the session's reviewer name: never send that cookie on cross-site posts.
        d["SESSION_COOKIE_SAMESITE"] = "Lax"
        d["SESSION_COOKIE_HTTPONLY"] = True
        return d
