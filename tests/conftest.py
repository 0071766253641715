"""Shared fixtures: an in-memory store, the Flask app and its test client (as in Flask's tutorial)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
#: the team's reference data beside the repo; absent on a user's fresh clone
SHARED = ROOT.parent / "shared"


def need_shared(*parts: str) -> Path:
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"reference data not available: {p} (../shared is beside the repo only on team machines and CI)")
    return p


@pytest.fixture
def store():
    from ontology.store import open_store
    return open_store(None)


@pytest.fixture
def app(tmp_path):
    from service.app import create_app
    return create_app({"STORE_PATH": "", "TESTING": True, "CACHE_DIR": str(tmp_path / "cache"),
                       "SPARQL_TIMEOUT": 2.0})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth(app):
    """``auth("committee")`` → request headers authenticating a user of that role (created on first use).

    Tests of write endpoints and private reads send these; anonymous requests get 401.
    """
    made: dict[str, dict] = {}

    def headers(role: str = "admin", name: str | None = None, **kw) -> dict:
        key = name or f"test-{role}"
        if key not in made:
            made[key] = {"X-Gapmap-User": key}  # replaced by a real bearer token once accounts land
        return made[key]
    return headers
