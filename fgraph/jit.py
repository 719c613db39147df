"""The Numba policy of mcover, in one place.

* every kernel is compiled with ``cache=True`` (a warm start loads machine code
  from ``__pycache__`` instead of compiling);
* kernels take arrays and scalars only: no closures, no function arguments;
* ``parallel=True`` is used only for loops in which each thread writes rows it
  owns (a variable's outgoing edges, a factor's outgoing edges);
* ``NUMBA_DISABLE_JIT=1`` runs every kernel as plain Python (slow, for debugging
  and for the test-suite's no-JIT run).
"""

from __future__ import annotations

import contextlib
import os

import numba

__all__ = ["njit", "pjit", "prange", "threads", "jit_disabled"]

prange = numba.prange


def jit_disabled() -> bool:
    """True when ``NUMBA_DISABLE_JIT`` is set (kernels run as Python)."""
    return os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0")


def njit(fn=None, **kw):
    """``numba.njit(cache=True)``: the serial kernel decorator."""
    kw.setdefault("cache", True)
    kw.setdefault("nogil", True)
    if fn is None:
        return lambda f: numba.njit(**kw)(f)
    return numba.njit(**kw)(fn)


def pjit(fn):
    """``numba.njit(cache=True, parallel=True)``: for loops whose rows are owned by one thread."""
    return numba.njit(cache=True, parallel=True, nogil=True)(fn)


@contextlib.contextmanager
def threads(n: int | None):
    """Run the enclosed kernels on ``n`` threads (None: Numba's default), then restore."""
    if n is None or jit_disabled():
        yield
        return
    n = int(n)
    if not 1 <= n <= numba.config.NUMBA_NUM_THREADS:
        raise ValueError(f"n_threads must be in 1..{numba.config.NUMBA_NUM_THREADS}, got {n}")
    old = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        yield
    finally:
        numba.set_num_threads(old)
