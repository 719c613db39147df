"""Shared fixtures: where the external reference data lives.

The model files with externally known answers live in ``../shared/data/external``
next to the repository (override with the environment variable
``MCOVER_EXTERNAL_DATA``).  Outside CI the tests that need them skip when the
folder is absent; under CI (``CI`` set) its absence is a failure, so the oracle
tests can never pass by being skipped.
"""

import os
from pathlib import Path

import pytest

EXTERNAL = Path(
    os.environ.get("MCOVER_EXTERNAL_DATA")
    or Path(__file__).resolve().parents[2] / "shared" / "data" / "external"
)


@pytest.fixture(scope="session")
def external() -> Path:
    """Folder of model files with externally known answers."""
    if not EXTERNAL.is_dir():
        msg = f"external data folder not found at {EXTERNAL} (set MCOVER_EXTERNAL_DATA)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return EXTERNAL


def pytest_collection_modifyitems(session, config, items):
    """Start the no-JIT rerun (tests/test_nojit.py) in the background as soon as it is selected,
    so that it overlaps the rest of the suite instead of running after it."""
    if os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0"):
        return
    for item in items:
        if item.nodeid.endswith("test_nojit.py::test_fast_algorithm_tests_pass_without_jit"):
            item.module.start()
            break
