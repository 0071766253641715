"""One configuration object: every variable in Config, unknown keys refused, the linking engine's
settings handed over from it."""
import pytest

from service.app import create_app
from service.config import Config


def test_unknown_key_is_refused_by_name():
    with pytest.raises(ValueError, match="PUBLIC_READS"):
        create_app({"TESTING": True, "STORE_PATH": "", "PUBLIC_READS": True})


def test_linking_settings_come_from_the_config(tmp_path, monkeypatch):
    from linking import encoder, settings
    monkeypatch.setenv("GAPMAP_MODEL_DIR", "/nonexistent-from-env")
    create_app({"TESTING": True, "STORE_PATH": "", "MODEL_DIR": str(tmp_path / "models"),
                "CACHE_DIR": str(tmp_path / "cache"), "THREADS": 1})
    assert encoder.model_root() == tmp_path / "models"
    assert encoder.cache_dir_from_env() == tmp_path / "cache" / "embeddings"
    assert encoder.free_cores() == 1
    settings.reset()
    assert str(encoder.model_root()) == "/nonexistent-from-env"  # back to the environment


def test_bad_linking_value_is_named(monkeypatch):
    monkeypatch.setenv("GAPMAP_ENCODER_BACKEND", "cuda")
    with pytest.raises(ValueError, match="GAPMAP_ENCODER_BACKEND"):
        create_app({"TESTING": True, "STORE_PATH": ""})


def test_every_environment_variable_the_code_reads_is_a_config_field_and_documented():
    """Scan the packages for GAPMAP_ names: each is read through Config (or linking.settings, which
    Config feeds) and has a row in the README's configuration table."""
    import re
    from dataclasses import fields
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text()
    config_src = (root / "service" / "config.py").read_text()
    used = set()
    for pkg in ("ontology", "loaders", "linking", "service"):
        for p in (root / pkg).rglob("*.py"):
            used |= set(re.findall(r'"(GAPMAP_[A-Z_]+)"', p.read_text()))
    fieldnames = {f.name for f in fields(Config)}
    for name in sorted(used):
        # the table lists the rate limits as `GAPMAP_RATELIMIT_SIGNIN`, `_AUTH_FAILURES`, …
        short = "`_" + name.removeprefix("GAPMAP_RATELIMIT_") + "`"
        assert f"`{name}`" in readme or short in readme, f"{name} not in the README table"
        if name not in ("GAPMAP_INSTITUTION", "GAPMAP_USER"):  # CLI option defaults (click envvar)
            assert f'"{name}"' in config_src or name.removeprefix("GAPMAP_") in fieldnames, name
