"""The settings examples stay true: examples/settings.example.toml names every key with its
default, the Maven example is valid, and a bad settings file refuses the build."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from pydantic import BaseModel

from settings import Settings, load_settings
from tests.conftest import PROJECT, TINY, write_extracts

EXAMPLES = PROJECT / "examples"


def keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Every settings key, dotted, down to nested models (not into dicts and lists)."""
    found = set()
    for name, field in model.model_fields.items():
        found.add(prefix + name)
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            found |= keys(field.annotation, f"{prefix}{name}.")
    return found


def flatten(table: dict, nested: set[str], prefix: str = "") -> set[str]:
    """The dotted keys a TOML file sets, descending only into the tables that are models."""
    found = set()
    for name, value in table.items():
        found.add(prefix + name)
        if isinstance(value, dict) and prefix + name in nested:
            found |= flatten(value, nested, f"{prefix}{name}.")
    return found


def test_the_settings_example_sets_every_key_to_its_default():
    path = EXAMPLES / "settings.example.toml"
    assert load_settings(path) == Settings()
    expected = keys(Settings)
    nested = {key.rsplit(".", 1)[0] for key in expected if "." in key}
    text = path.read_text(encoding="utf-8")
    missing = expected - flatten(tomllib.loads(text), nested)
    # TOML has no null: a key whose default is unset appears commented out, with an example value.
    unset = {key for key in missing if "." not in key and Settings.model_fields[key].default is None}
    assert all(f"\n# {key} = " in text for key in unset), f"show these unset settings commented out: {sorted(unset)}"
    missing -= unset
    assert not missing, f"add these settings to {path.name} with their default and a comment: {sorted(missing)}"


def test_the_maven_example_is_valid_settings():
    settings = load_settings(EXAMPLES / "maven-crm.toml")
    assert list(settings.stage_map) == ["Prospecting", "Engaging", "Won", "Lost"]
    assert settings.file_map == {"opportunities": "sales_pipeline.csv"}


def test_a_settings_file_with_a_bad_value_refuses_the_build(tmp_path: Path):
    folder = write_extracts(tmp_path / "extracts", TINY)
    bad = tmp_path / "bad.toml"
    bad.write_text("fiscal_year_start_month = 13\n", encoding="utf-8")
    command = [sys.executable, "-m", "loaders", "build", str(folder), "--db", str(tmp_path / "p.duckdb"), "--settings", str(bad)]
    refused = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1
    assert "build refused:" in refused.stderr and "fiscal_year_start_month" in refused.stderr
    assert not (tmp_path / "p.duckdb").exists()
