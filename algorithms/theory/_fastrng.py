"""Standard normal draws inside Numba kernels: xoshiro256** bits and a 256-layer ziggurat.

The online STE simulation consumes one normal per weight per step, ``d · τ d`` of them (9·10⁸ at
d = 3000, τ = 100). Drawing them with NumPy and handing them to the kernel costs more than the
dynamics itself, so the kernel draws its own.

* **Bits.** xoshiro256** (Blackman & Vigna), a 256-bit state per stream, seeded from a
  :class:`numpy.random.SeedSequence` (:func:`new_state`), so a seed gives the same numbers with or
  without JIT (the plain-Python run wraps the uint64 arithmetic modulo 2⁶⁴ like the compiled one).
* **Normals.** The ziggurat of Marsaglia & Tsang with 256 layers of equal area ``v`` under
  ``f(x) = exp(-x²/2)``, base strip ending at ``r = 3.6541528853610088`` (the constants NumPy
  uses). One 64-bit draw gives the layer (8 bits), the sign (1 bit) and a 53-bit uniform, so the
  layer index and the abscissa are independent bits. About 98.8% of draws are accepted from the
  rectangle test alone; the rest take the wedge test or, in the base layer, Marsaglia's exact
  exponential sampler of the tail beyond r.

Kernels receive the tables as two arrays (:data:`ZIG_X`, :data:`ZIG_F`) and a state row
``uint64 (4,)`` they own.
"""

from __future__ import annotations

import math

import numpy as np

from fgraph.jit import njit

__all__ = ["ZIG_F", "ZIG_X", "new_state", "next_u64", "normals", "std_normal", "uniform", "zig_rest"]

_N = 256
_R = 3.6541528853610088        # start of the tail, f(r) = exp(-r²/2)
_V = 4.92867323399e-3          # area of each layer (and of the base strip plus tail)


def _tables() -> tuple[np.ndarray, np.ndarray]:
    """Layer edges x_0 > x_1 = r > ... > x_N = 0 and f at each edge, float64 (N + 1,)."""
    x = np.empty(_N + 1)
    fr = math.exp(-0.5 * _R * _R)
    x[0] = _V / fr                 # pseudo-width of the base strip: its area is v
    x[1] = _R
    for i in range(1, _N - 1):     # equal areas: x_i (f(x_{i+1}) - f(x_i)) = v
        x[i + 1] = math.sqrt(-2.0 * math.log(_V / x[i] + math.exp(-0.5 * x[i] * x[i])))
    x[_N] = 0.0
    return x, np.exp(-0.5 * x * x)


#: float64 (257,): layer edges of the ziggurat, decreasing from the base strip's width to 0.
ZIG_X, ZIG_F = _tables()
#: float64 (257,): exp(-x²/2) at the layer edges (ZIG_F[N] = 1).

_TWO_M53 = 1.0 / 9007199254740992.0   # 2**-53: 53 random bits -> [0, 1)


def new_state(seed) -> np.ndarray:
    """A fresh xoshiro256** state from an int, a SeedSequence or None.

    Parameters
    ----------
    seed : int, numpy.random.SeedSequence or None

    Returns
    -------
    uint64 (4,)
        Never all zero (the one state xoshiro cannot leave).

    Examples
    --------
    >>> s = new_state(0)
    >>> s.dtype, s.shape
    (dtype('uint64'), (4,))
    >>> bool(np.array_equal(s, new_state(0)))
    True
    """
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    state = ss.generate_state(4, np.uint64)
    if not state.any():
        state[0] = 1
    return state


@njit(inline="always")
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(inline="always")
def next_u64(state):
    """Advance ``state`` (uint64 (4,)) and return the next 64-bit output of xoshiro256**."""
    s0 = state[0]
    s1 = state[1]
    s2 = state[2]
    s3 = state[3]
    result = _rotl(s1 * np.uint64(5), 7) * np.uint64(9)
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    state[0] = s0
    state[1] = s1
    state[2] = s2
    state[3] = s3
    return result


@njit
def uniform(state):
    """A uniform float64 in [0, 1) from the top 53 bits."""
    return float(next_u64(state) >> np.uint64(11)) * _TWO_M53


@njit
def zig_rest(state, zx, zf, u):
    """Finish a ziggurat draw whose first 64 bits ``u`` failed the rectangle test (≈1.5% of draws).

    Kernels inline the fast path themselves (see :func:`std_normal`) and call this only on
    rejection: a per-draw call that passes the table arrays costs ten times the draw.
    """
    while True:
        i = np.int64(u & np.uint64(255))
        x = float(u >> np.uint64(11)) * _TWO_M53 * zx[i]
        if x < zx[i + 1]:
            break
        if i == 0:                 # base strip beyond r: Marsaglia's exact tail sampler
            while True:
                a = -math.log(1.0 - uniform(state)) / zx[1]
                b = -math.log(1.0 - uniform(state))
                if b + b > a * a:
                    break
            x = zx[1] + a
            break
        # wedge between the rectangle and the curve: accept under f
        y = zf[i] + uniform(state) * (zf[i + 1] - zf[i])
        if y < math.exp(-0.5 * x * x):
            break
        u = next_u64(state)
    return x * (1.0 - 2.0 * float((u >> np.uint64(8)) & np.uint64(1)))


@njit
def std_normal(state, zx, zf):
    """One N(0, 1) draw by the ziggurat (tables ``zx = ZIG_X``, ``zf = ZIG_F``).

    The pattern kernels copy into their loops: the rectangle test (98.5% of draws) inline, a
    branch-free sign (the sign bit is a coin flip, which a branch would mispredict half the
    time), :func:`zig_rest` on rejection.
    """
    u = next_u64(state)
    i = np.int64(u & np.uint64(255))
    x = float(u >> np.uint64(11)) * _TWO_M53 * zx[i]
    if x >= zx[i + 1]:
        return zig_rest(state, zx, zf, u)
    return x * (1.0 - 2.0 * float((u >> np.uint64(8)) & np.uint64(1)))


@njit
def _fill(out, state, zx, zf):
    for k in range(out.shape[0]):
        u = next_u64(state)
        i = np.int64(u & np.uint64(255))
        x = float(u >> np.uint64(11)) * _TWO_M53 * zx[i]
        if x >= zx[i + 1]:
            x = zig_rest(state, zx, zf, u)
        else:
            x *= 1.0 - 2.0 * float((u >> np.uint64(8)) & np.uint64(1))
        out[k] = x


def normals(n: int, state: np.ndarray) -> np.ndarray:
    """``n`` standard normal draws from ``state`` (advanced in place), as kernels draw them.

    Parameters
    ----------
    n : int
        Number of draws, >= 0.
    state : uint64 (4,)
        A state from :func:`new_state`.

    Returns
    -------
    float64 (n,)

    Examples
    --------
    >>> z = normals(100_000, new_state(1))
    >>> bool(abs(z.mean()) < 0.01 and abs(z.std() - 1.0) < 0.01)
    True
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be an int >= 0, got {n!r}")
    if not (isinstance(state, np.ndarray) and state.dtype == np.uint64 and state.shape == (4,)):
        raise TypeError(f"state must be a uint64 array of shape (4,), got {state!r}")
    out = np.empty(int(n))
    with np.errstate(over="ignore"):  # plain-Python runs wrap uint64 products like machine code
        _fill(out, state, ZIG_X, ZIG_F)
    return out
