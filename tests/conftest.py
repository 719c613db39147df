"""Shared fixtures: where the external reference data lives."""

from pathlib import Path

import pytest

EXTERNAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "external"


@pytest.fixture(scope="session")
def external() -> Path:
    """Folder of model files with externally known answers (../shared/data/external)."""
    if not EXTERNAL.is_dir():
        pytest.skip(f"external data folder not found at {EXTERNAL}")
    return EXTERNAL
