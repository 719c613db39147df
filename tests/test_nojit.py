"""The fast tests of the Numba code also pass as plain Python (NUMBA_DISABLE_JIT=1).

This guards the kernels' pure-Python semantics (prange, inline helpers, -inf
handling) and lets CI check it with the single README test command.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0"), reason="already without JIT")
def test_fast_algorithm_tests_pass_without_jit():
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    res = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-m", "not slow", "-p", "no:cacheprovider",
         "tests/algorithms"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    tail = "\n".join(res.stdout.strip().splitlines()[-15:])
    assert res.returncode == 0, tail + res.stderr[-2000:]
