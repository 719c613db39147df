"""The fast tests of the Numba code also pass as plain Python (NUMBA_DISABLE_JIT=1).

This guards the kernels' pure-Python semantics (prange, inline helpers, -inf
handling) and lets CI check it with the single README test command.

The no-JIT run is a separate pytest process over ``tests/algorithms``. It is started as soon as
collection has selected this test (``tests/conftest.py`` calls :func:`start`), so it runs on the
second core while the rest of the suite runs on the first, and the test only waits for it.
"""

import atexit
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 900
_RUN: dict = {}


def start() -> None:
    """Start the no-JIT run in the background (once per session)."""
    if _RUN:
        return
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-m", "not slow", "-p", "no:cacheprovider",
         "tests/algorithms"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
    )
    _RUN.update(proc=proc, log=log)
    atexit.register(_stop, proc)  # a session that ends early (-x, Ctrl-C) leaves no process behind


def _stop(proc) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0"), reason="already without JIT")
def test_fast_algorithm_tests_pass_without_jit():
    start()  # no-op when collection already started it
    proc, log = _RUN["proc"], _RUN["log"]
    try:
        code = proc.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        code = None
    log.seek(0)
    out = log.read()
    log.close()
    _RUN.clear()
    tail = "\n".join(out.strip().splitlines()[-25:])
    assert code == 0, f"no-JIT run exited with {code}:\n{tail}"
