"""One Config, read from environment variables (documented in the README)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env(name, default, cast=str):
    v = os.environ.get(name)
    if v in (None, ""):
        return default
    try:
        return cast(v)
    except ValueError:  # name the variable (int("abc") alone says neither which nor what was expected)
        kind = {int: "a whole number", float: "a number"}.get(cast, "valid")
        raise ValueError(f"{name} must be {kind}, not {v!r}") from None


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
    #: signs the web UI's session cookie; when unset, generated once into var/secret_key (0600)
    SECRET_KEY: str = field(default_factory=lambda: _env("GAPMAP_SECRET_KEY", ""))
    #: the account database: a SQLite path (default var/users.sqlite beside the store; in memory for an in-memory
    #: store) or a postgresql:// URL shared by replicas on several hosts
    USERS_DB: str = field(default_factory=lambda: _env("GAPMAP_USERS_DB", ""))
    #: 1 = anonymous clients may read what the viewer role may (default: everything needs sign-in)
    PUBLIC_READ: bool = field(default_factory=lambda: _env("GAPMAP_PUBLIC_READ", False, _flag))
    #: a reverse proxy doing SSO names the signed-in user in this header (unset = off; see README)
    TRUSTED_USER_HEADER: str = field(default_factory=lambda: _env("GAPMAP_TRUSTED_USER_HEADER", ""))
    #: a web sign-in lasts this many hours
    SESSION_HOURS: float = field(default_factory=lambda: _env("GAPMAP_SESSION_HOURS", 12.0, float))
    #: send the session cookie over HTTPS only (set behind TLS)
    SECURE_COOKIES: bool = field(default_factory=lambda: _env("GAPMAP_SECURE_COOKIES", False, _flag))
    #: how many reverse proxies in front set X-Forwarded-For/-Proto/-Host (0: none; trust nobody's headers)
    PROXIES: int = field(default_factory=lambda: _env("GAPMAP_PROXIES", 0, int))
    RATELIMIT_ENABLED: bool = field(default_factory=lambda: _env("GAPMAP_RATELIMIT", True, _flag))
    RATELIMIT_SIGNIN: str = field(default_factory=lambda: _env("GAPMAP_RATELIMIT_SIGNIN", "10/minute"))
    RATELIMIT_AUTH_FAILURES: str = field(default_factory=lambda: _env("GAPMAP_RATELIMIT_AUTH_FAILURES", "20/minute"))
    RATELIMIT_ALIGN: str = field(default_factory=lambda: _env("GAPMAP_RATELIMIT_ALIGN", "10/minute"))
    RATELIMIT_LOAD: str = field(default_factory=lambda: _env("GAPMAP_RATELIMIT_LOAD", "30/minute"))
    RATELIMIT_UPLOAD: str = field(default_factory=lambda: _env("GAPMAP_RATELIMIT_UPLOAD", "30/minute"))
    # --- SPARQL, CORS, privacy and upload limits (issue 8: no way in through SPARQL or uploads) ---
    #: SPARQL queries one caller (user, or address when anonymous) may run at once; more: 429
    SPARQL_PER_USER: int = field(default_factory=lambda: _env("GAPMAP_SPARQL_PER_USER", 2, int))
    #: SPARQL queries running at once in one server process (keep below its request threads)
    SPARQL_MAX_CONCURRENT: int = field(default_factory=lambda: _env("GAPMAP_SPARQL_MAX_CONCURRENT", 4, int))
    #: comma-separated origins allowed to read public answers cross-site (no CORS when empty; never "*")
    CORS_ORIGINS: str = field(default_factory=lambda: _env("GAPMAP_CORS_ORIGINS", ""))
    #: cohort aggregates over fewer learners than this are suppressed
    MIN_GROUP_SIZE: int = field(default_factory=lambda: _env("GAPMAP_MIN_GROUP_SIZE", 5, int))
    #: rows one table upload may have (framework, curriculum, assessments, results, roles CSV/XLSX)
    MAX_UPLOAD_ROWS: int = field(default_factory=lambda: _env("GAPMAP_MAX_UPLOAD_ROWS", 100_000, int))
    #: seconds a query of the read layer (pages, API) may run on an on-disk store before it is
    #: stopped (503); evaluated in killable worker processes.  0 = in-process, no deadline
    QUERY_DEADLINE: float = field(default_factory=lambda: _env("GAPMAP_QUERY_DEADLINE", 30.0, float))
    #: worker processes evaluating those queries (separate from SPARQL's, so SPARQL never starves pages)
    QUERY_WORKERS: int = field(default_factory=lambda: _env("GAPMAP_QUERY_WORKERS", 4, int))
    # --- scale-out (docs/deploy.md): state several replicas share ---
    #: redis://host:6379/0 shares jobs, rate limits and rendered reports between replicas (empty: in-process)
    REDIS_URL: str = field(default_factory=lambda: _env("GAPMAP_REDIS", ""))
    #: flask-limiter storage URI (default: GAPMAP_REDIS when set, else memory://, i.e. per process)
    RATELIMIT_STORAGE: str = field(default_factory=lambda: _env("GAPMAP_RATELIMIT_STORAGE", ""))
    #: seconds one request to a remote store may take (a large load on Virtuoso takes minutes: docs/deploy.md)
    STORE_TIMEOUT: float = field(default_factory=lambda: _env("GAPMAP_STORE_TIMEOUT", 60.0, float))
    #: with a remote GAPMAP_STORE: the SPARQL server of each other institution, a URL with {institution}
    #: (e.g. http://sparql-{institution}.internal:7878); unset, only the default institution is served
    INSTITUTION_STORES: str = field(default_factory=lambda: _env("GAPMAP_INSTITUTION_STORES", ""))
    #: with a remote GAPMAP_STORE: the folder of drafts and saved versions, shared by this host's processes
    #: (empty: var/drafts); one sub-folder per store URL
    DRAFTS_DIR: str = field(default_factory=lambda: _env("GAPMAP_DRAFTS_DIR", ""))
    # --- the linking engine (linking/settings.py; handed over at start-up, one value per variable) ---
    #: torch/onnx threads for encoding (empty: the cores other processes are not busy on)
    THREADS: int | None = field(default_factory=lambda: _env("GAPMAP_THREADS", None, int))
    #: "auto" (onnxruntime where an ONNX export exists, ~3x faster on CPU) or "torch"
    ENCODER_BACKEND: str = field(default_factory=lambda: _env("GAPMAP_ENCODER_BACKEND", "auto"))
    #: where the assembled mpnet, the ESCO-tuned MiniLM and the query adapter live
    MODEL_DIR: str = field(default_factory=lambda: _env("GAPMAP_MODEL_DIR", str(ROOT / "var" / "models")))
    #: the encoder of `gapmap link`/label-led catalogues: auto | base | a model folder
    LINK_MODEL: str = field(default_factory=lambda: _env("GAPMAP_LINK_MODEL", "auto"))
    #: the encoder of description-led catalogues (code-like labels): mpnet | minilm
    DESC_MODEL: str = field(default_factory=lambda: _env("GAPMAP_DESC_MODEL", "mpnet"))
    #: description-led catalogues fuse mpnet with a MiniLM (0: mpnet alone)
    DESC_FUSION: bool = field(default_factory=lambda: _env("GAPMAP_DESC_FUSION", True, _flag))
    #: that MiniLM: curriculum (fine-tuned on the bundled curriculum when built) | base
    DESC_MINILM: str = field(default_factory=lambda: _env("GAPMAP_DESC_MINILM", "curriculum"))
    #: expected precision fitted per rank (0: from the score alone)
    RANK_CALIBRATION: bool = field(default_factory=lambda: _env("GAPMAP_RANK_CALIBRATION", True, _flag))
    #: label-led linking: competencies per sentence scored exactly after the label-only first stage (0: exact)
    LINK_SHORTLIST: int = field(default_factory=lambda: _env("GAPMAP_LINK_SHORTLIST", 300, int))
    #: label-led linking's encoder arithmetic: auto (bf16 where the CPU has AMX / AVX512-BF16) | fp32 | bf16
    LINK_PRECISION: str = field(default_factory=lambda: _env("GAPMAP_LINK_PRECISION", "auto"))
    TESTING: bool = False

    @classmethod
    def from_mapping(cls, mapping: dict) -> "Config":
        """A Config with ``mapping``'s values over the environment's; an unknown key is an error
        (a typo such as ``PUBLIC_READS`` would otherwise be silently ignored)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(mapping) - known)
        if unknown:
            raise ValueError(f"unknown configuration key(s): {', '.join(unknown)} "
                             f"(known: {', '.join(sorted(known))})")
        cfg = cls()
        for k, v in mapping.items():
            setattr(cfg, k, v)
        return cfg

    def linking_settings(self):
        """The linking engine's settings from this Config."""
        from linking.settings import Settings
        return Settings(threads=self.THREADS or None, encoder_backend=self.ENCODER_BACKEND,
                        model_dir=self.MODEL_DIR, link_model=self.LINK_MODEL, desc_model=self.DESC_MODEL,
                        cache_dir=self.CACHE_DIR, desc_fusion=bool(self.DESC_FUSION),
                        desc_minilm=self.DESC_MINILM, rank_calibration=bool(self.RANK_CALIBRATION),
                        link_shortlist=self.LINK_SHORTLIST, link_precision=self.LINK_PRECISION)

    def as_flask(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["MAX_CONTENT_LENGTH"] = self.MAX_UPLOAD_BYTES
        d["SESSION_COOKIE_SAMESITE"] = "Lax"
        d["SESSION_COOKIE_HTTPONLY"] = True
        return d


def _flag(v: str) -> bool:
    return v.strip().lower() in ("1", "true", "yes", "on")


def var_dir(cfg: Config) -> Path | None:
    """The folder beside the store holding users.sqlite, secret_key and institutions/ (None: in memory)."""
    if not cfg.STORE_PATH:
        return None
    if "://" in cfg.STORE_PATH:  # a remote SPARQL store: the local state stays in this checkout's var/
        return ROOT / "var"
    return Path(cfg.STORE_PATH).resolve().parent
