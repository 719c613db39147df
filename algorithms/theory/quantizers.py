"""Weight quantizers for the typical-case analysis of quantized learning (docs/theory.md §8.1).

A quantizer is a sorted, finite set of distinct **levels** ``c_0 < ... < c_{L-1}``; ``Round_C``
(:func:`quantize`) maps x to the nearest level, so the cell of ``c_k`` is bounded by the
**thresholds** (level midpoints, :func:`thresholds`). Three uniform conventions are offered,
with b bits and width ω (:func:`uniform_levels`):

``"midrise"``
    2^b levels ``-ω + k 2ω/(2^b - 1)``, k = 0..2^b-1; no zero level; ω is the outer level.
``"midtread"``
    2^b - 1 levels ``k ω/(2^(b-1) - 1)``, |k| <= 2^(b-1) - 1, including 0; ω is the outer
    level; needs b >= 2.
``"cells"``
    [-ω, ω] cut into 2^b equal cells, each mapped to its centre: levels ``±ω(2k+1)/2^b``; no
    zero level; ω is the clipping range (inputs beyond ±ω round to the outer cell's centre).

Non-uniform quantizers: :func:`power_of_two_levels` (logarithmic, sign + exponent),
:func:`lloyd_max` (the MSE-optimal quantizer of N(0, 1), Max 1960) and :func:`max_uniform`
(the MSE-optimal *uniform* quantizer of N(0, 1), also Max 1960). :func:`quantizer_mse` gives
the exact ``E[(x - Round_C(x))^2]`` for x ~ N(0, 1) in closed form, cell by cell. For
straight-through-estimator (STE) training :func:`ste_grad` gives the surrogate derivative of
``Round_C`` (1, or 1 inside the clipping range for the clipped STE).

Examples
--------
>>> uniform_levels(2, 1.5, kind="midrise").tolist()
[-1.5, -0.5, 0.5, 1.5]
>>> uniform_levels(2, 2.0, kind="midtread").tolist()
[-2.0, 0.0, 2.0]
>>> uniform_levels(2, 2.0, kind="cells").tolist()
[-1.5, -0.5, 0.5, 1.5]
>>> quantize([0.2, -3.0, 0.5], [-1.5, -0.5, 0.5, 1.5]).tolist()
[0.5, -1.5, 0.5]
>>> round(lloyd_max(2).mse, 4), round(max_uniform(2).mse, 4)
(0.1175, 0.1188)
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_banded
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri

from fgraph.dtypes import FrozenPickle

__all__ = [
    "check_levels",
    "normal_pdf",
    "KINDS",
    "MAX_BITS",
    "LloydMaxResult",
    "MaxUniformResult",
    "lloyd_max",
    "max_uniform",
    "power_of_two_levels",
    "quantize",
    "quantizer_mse",
    "ste_grad",
    "thresholds",
    "uniform_levels",
]

KINDS = ("midrise", "midtread", "cells")
"""The uniform conventions of :func:`uniform_levels`."""

MAX_BITS = 20
"""Largest bit width accepted (2^20 levels)."""

_LLOYD_MAX_BITS = 12
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


# ----------------------------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------------------------


def _check_bits(bits, *, minimum: int = 1, maximum: int = MAX_BITS, why: str = "") -> int:
    if isinstance(bits, bool) or not isinstance(bits, numbers.Integral):
        raise TypeError(f"bits must be an int, got {bits!r} ({type(bits).__name__})")
    b = int(bits)
    if b < minimum:
        reason = f" ({why})" if why else ""
        raise ValueError(f"bits must be >= {minimum}{reason}, got {b}")
    if b > maximum:
        raise ValueError(f"bits must be <= {maximum}, got {b}")
    return b


def _check_width(width) -> float:
    if isinstance(width, bool) or not isinstance(width, numbers.Real):
        raise TypeError(f"width must be a real number, got {width!r} ({type(width).__name__})")
    w = float(width)
    if not (math.isfinite(w) and w > 0.0):
        raise ValueError(f"width must be finite and > 0, got {width!r}")
    return w


def _check_prior(prior) -> None:
    if not (isinstance(prior, str) and prior == "gaussian"):
        raise ValueError(f"prior must be 'gaussian' (N(0, 1)); other priors are not supported, got {prior!r}")


def check_levels(levels, name: str = "levels") -> np.ndarray:
    """A fresh float64 copy of a level set: 1-D, at least 2 values, finite, strictly increasing.

    The one validator of level sets in :mod:`algorithms.theory`; errors name ``name``.

    Examples
    --------
    >>> check_levels([-1, 1]).tolist()
    [-1.0, 1.0]
    >>> check_levels([1.0, -1.0], "weight_levels")
    Traceback (most recent call last):
    ...
    ValueError: weight_levels must be sorted and distinct (strictly increasing), got [1.0, -1.0]
    """
    try:
        c = np.array(levels, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a 1-D array of real numbers, got {levels!r}") from exc
    if c.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {c.shape}")
    if c.size < 2:
        raise ValueError(f"{name} must hold at least 2 values, got {c.size}")
    if not np.all(np.isfinite(c)):
        raise ValueError(f"{name} must be finite, got {c.tolist()}")
    if not np.all(np.diff(c) > 0):
        raise ValueError(f"{name} must be sorted and distinct (strictly increasing), got {c.tolist()}")
    return c


def normal_pdf(t) -> np.ndarray:
    """The N(0, 1) density, float64 of ``t``'s shape, exactly 0 at +-inf (cell edges)."""
    t = np.asarray(t, dtype=np.float64)
    out = np.zeros_like(t)
    fin = np.isfinite(t)
    out[fin] = _INV_SQRT_2PI * np.exp(-0.5 * t[fin] ** 2)
    return out


def _as_real_array(x, name: str) -> np.ndarray:
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be array-like of real numbers, got {x!r}") from exc
    return a


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64)
    a.setflags(write=False)
    return a


# ----------------------------------------------------------------------------------------------
# level sets
# ----------------------------------------------------------------------------------------------


def uniform_levels(bits: int, width: float = 1.0, kind: str = "midrise") -> np.ndarray:
    """Levels of a symmetric uniform b-bit quantizer of width ω under one of three conventions.

    Parameters
    ----------
    bits : int
        Bit width b, 1 <= b <= ``MAX_BITS`` (b >= 2 for ``"midtread"``).
    width : float
        ω > 0: the outer level (``"midrise"``, ``"midtread"``) or the clipping range (``"cells"``).
    kind : {"midrise", "midtread", "cells"}
        ``"midrise"``: 2^b levels ``-ω + k 2ω/(2^b-1)``, no zero. ``"midtread"``: 2^b - 1 levels,
        step ``ω/(2^(b-1)-1)``, including 0. ``"cells"``: centres ``±ω(2k+1)/2^b`` of 2^b equal
        cells of [-ω, ω], no zero.

    Returns
    -------
    float64 (L,)
        Sorted, symmetric levels; L = 2^b (``"midrise"``, ``"cells"``) or 2^b - 1 (``"midtread"``).

    Raises
    ------
    TypeError
        ``bits`` not an int or ``width`` not a real number.
    ValueError
        ``bits`` out of range, ``width`` <= 0 or not finite, unknown ``kind``.

    Examples
    --------
    >>> uniform_levels(1, 2.0).tolist()
    [-2.0, 2.0]
    >>> uniform_levels(3, 3.0, kind="midtread").tolist()
    [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]
    >>> uniform_levels(1, 1.0, kind="cells").tolist()
    [-0.5, 0.5]
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if kind == "midtread":
        b = _check_bits(bits, minimum=2, why="mid-tread with 1 bit would have the single level 0")
    else:
        b = _check_bits(bits)
    w = _check_width(width)
    n = 2**b
    if kind == "midrise":
        k = np.arange(n, dtype=np.float64)
        c = w * (2.0 * k - (n - 1)) / (n - 1)
    elif kind == "cells":
        k = np.arange(n, dtype=np.float64)
        c = w * (2.0 * k + 1.0 - n) / n
    else:
        m = 2 ** (b - 1) - 1
        k = np.arange(-m, m + 1, dtype=np.float64)
        c = w * k / m
    return c.astype(np.float64)


def power_of_two_levels(bits: int, width: float = 1.0) -> np.ndarray:
    """Levels of the logarithmic (power-of-two) b-bit quantizer: ``{0} ∪ {±ω 2^-k}``.

    Sign-magnitude convention: one sign bit and b - 1 magnitude bits whose 2^(b-1) codes are
    the magnitudes 0 and ``ω 2^-k``, k = 0..2^(b-1)-2 (the code "-0" is unused). This gives
    2^b - 1 levels, as for the mid-tread quantizer (identical to it for b = 2).

    Parameters
    ----------
    bits : int
        Bit width b, 2 <= b <= 6 (b = 6 already reaches ω 2^-30).
    width : float
        ω > 0, the outer level.

    Returns
    -------
    float64 (2^b - 1,)
        Sorted, symmetric levels, including 0.

    Examples
    --------
    >>> power_of_two_levels(2, 2.0).tolist()
    [-2.0, 0.0, 2.0]
    >>> power_of_two_levels(3).tolist()
    [-1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0]
    """
    b = _check_bits(bits, minimum=2, maximum=6, why="1 bit leaves only the sign and the level 0")
    w = _check_width(width)
    mags = w * 2.0 ** -np.arange(2 ** (b - 1) - 1, dtype=np.float64)
    return np.concatenate([-mags, [0.0], mags[::-1]]).astype(np.float64)


def thresholds(levels) -> np.ndarray:
    """Cell boundaries of ``Round_C``: the midpoints of consecutive levels.

    Parameters
    ----------
    levels : array_like, float (L,)
        Strictly increasing finite levels, L >= 2.

    Returns
    -------
    float64 (L - 1,)
        ``(c_k + c_{k+1}) / 2``.

    Examples
    --------
    >>> thresholds([-1.0, 0.0, 2.0]).tolist()
    [-0.5, 1.0]
    """
    c = check_levels(levels)
    return 0.5 * (c[1:] + c[:-1])


# ----------------------------------------------------------------------------------------------
# rounding and the STE
# ----------------------------------------------------------------------------------------------


def quantize(x, levels) -> np.ndarray:
    """``Round_C(x)``: the nearest level, elementwise.

    Ties (x exactly at a threshold) go to the **upper** level; inputs beyond the outer levels
    clip to them; NaN stays NaN.

    Parameters
    ----------
    x : array_like, float
        Inputs, any shape.
    levels : array_like, float (L,)
        Strictly increasing finite levels, L >= 2.

    Returns
    -------
    float64, shape of x
        The rounded values (a 0-d array for scalar x).

    Examples
    --------
    >>> quantize([-0.5, 0.49, 0.5, 7.0], [-1.0, 0.0, 1.0]).tolist()
    [0.0, 0.0, 1.0, 1.0]
    """
    c = check_levels(levels)
    a = _as_real_array(x, "x")
    t = 0.5 * (c[1:] + c[:-1])
    out = c[np.searchsorted(t, a, side="right")]
    nan = np.isnan(a)
    if np.any(nan):
        out = np.where(nan, np.nan, out)
    return np.asarray(out, dtype=np.float64).reshape(a.shape)


def ste_grad(x, levels, clipped: bool = False, clip_range=None) -> np.ndarray:
    """Straight-through surrogate derivative of ``Round_C`` at x (0 or 1).

    The plain STE passes the gradient through: ``d Round_C / dx := 1`` everywhere. The clipped
    STE uses ``1[lo <= x <= hi]`` (closed interval), so weights beyond the range stop moving.

    Parameters
    ----------
    x : array_like, float
        Points, any shape.
    levels : array_like, float (L,)
        Strictly increasing finite levels, L >= 2 (validated; gives the default range).
    clipped : bool
        False: the plain STE (all ones). True: the clipped STE.
    clip_range : None, float or (float, float)
        Range of the clipped STE: None for ``[levels[0], levels[-1]]`` (ω for ``"midrise"``
        and ``"midtread"``), a float ω for ``[-ω, ω]`` (pass the width for ``"cells"``), or
        ``(lo, hi)`` with lo < hi. Ignored when ``clipped`` is False.

    Returns
    -------
    float64, shape of x
        Entries 0.0 or 1.0 (NaN x gives 0.0 when clipped).

    Examples
    --------
    >>> c = uniform_levels(2, 2.0, kind="cells")
    >>> ste_grad([-3.0, 1.6, 0.1], c).tolist()
    [1.0, 1.0, 1.0]
    >>> ste_grad([-3.0, 1.6, 0.1], c, clipped=True).tolist()
    [0.0, 0.0, 1.0]
    >>> ste_grad([-3.0, 1.6, 0.1], c, clipped=True, clip_range=2.0).tolist()
    [0.0, 1.0, 1.0]
    """
    c = check_levels(levels)
    a = _as_real_array(x, "x")
    if not clipped:
        return np.ones(a.shape, dtype=np.float64)
    if clip_range is None:
        lo, hi = float(c[0]), float(c[-1])
    elif isinstance(clip_range, numbers.Real) and not isinstance(clip_range, bool):
        w = float(clip_range)
        if not (math.isfinite(w) and w > 0.0):
            raise ValueError(f"clip_range as a float must be finite and > 0, got {clip_range!r}")
        lo, hi = -w, w
    else:
        try:
            lo, hi = (float(v) for v in clip_range)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"clip_range must be None, a float or (lo, hi), got {clip_range!r}") from exc
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"clip_range must be finite with lo < hi, got {clip_range!r}")
    return ((a >= lo) & (a <= hi)).astype(np.float64)


# ----------------------------------------------------------------------------------------------
# Gaussian cell moments and the MSE
# ----------------------------------------------------------------------------------------------


def _cell_moments(t: np.ndarray):
    """Moments of N(0, 1) on the L cells cut at the L - 1 sorted thresholds ``t``.

    Returns ``M0 = P(cell)``, ``M1 = E[x; cell]``, ``M2 = E[x^2; cell]`` (float64 (L,) each).
    """
    a = np.concatenate([[-np.inf], t])
    b = np.concatenate([t, [np.inf]])
    # right-tail masses for cells above 0 keep the relative accuracy in the upper tail
    m0 = np.where(a > 0, ndtr(-a) - ndtr(-b), ndtr(b) - ndtr(a))
    pa = np.zeros_like(a)
    pb = np.zeros_like(b)
    apa = np.zeros_like(a)
    bpb = np.zeros_like(b)
    fa, fb = np.isfinite(a), np.isfinite(b)
    pa[fa] = _INV_SQRT_2PI * np.exp(-0.5 * a[fa] ** 2)
    pb[fb] = _INV_SQRT_2PI * np.exp(-0.5 * b[fb] ** 2)
    apa[fa] = a[fa] * pa[fa]
    bpb[fb] = b[fb] * pb[fb]
    m1 = pa - pb
    m2 = m0 + apa - bpb
    return m0, m1, m2


def _mse_from_levels(c: np.ndarray) -> float:
    t = 0.5 * (c[1:] + c[:-1])
    m0, m1, m2 = _cell_moments(t)
    # E[(x - c)^2; cell] = M2 - 2 c M1 + c^2 M0, each term >= 0 up to rounding
    per_cell = m2 - 2.0 * c * m1 + c * c * m0
    return float(np.sum(np.maximum(per_cell, 0.0)))


def quantizer_mse(levels, prior: str = "gaussian") -> float:
    """Exact mean squared rounding error ``E[(x - Round_C(x))^2]`` for x ~ N(0, 1).

    Closed form per cell (cells split at the level midpoints): with the cell's mass M0, first
    moment M1 and second moment M2 under the normal pdf/cdf, the cell contributes
    ``M2 - 2 c M1 + c^2 M0``.

    Parameters
    ----------
    levels : array_like, float (L,)
        Strictly increasing finite levels, L >= 2.
    prior : {"gaussian"}
        The law of x; only N(0, 1) is supported.

    Returns
    -------
    float
        The MSE (>= 0).

    Examples
    --------
    >>> b = math.sqrt(2 / math.pi)   # the 1-bit optimum, E|x|
    >>> round(quantizer_mse([-b, b]), 6), round(1 - 2 / math.pi, 6)
    (0.36338, 0.36338)
    """
    _check_prior(prior)
    return _mse_from_levels(check_levels(levels))


# ----------------------------------------------------------------------------------------------
# Lloyd-Max and Max's uniform quantizer
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LloydMaxResult(FrozenPickle):
    """The MSE-optimal (Lloyd–Max) quantizer of N(0, 1) with 2^b levels.

    Attributes
    ----------
    levels : float64 (2^b,)
        Reconstruction levels (read-only), each the conditional mean of its cell.
    thresholds : float64 (2^b - 1,)
        Decision thresholds (read-only), the midpoints of the levels.
    mse : float
        ``E[(x - Round_C(x))^2]``, x ~ N(0, 1).
    n_iter : int
        Iterations used (Lloyd steps plus Newton steps).
    converged : bool
        Whether the level update fell below ``tol``.
    bits : int
        b.
    prior : str
        ``"gaussian"``.
    kind : str
        ``"lloyd-max"``.
    """

    levels: np.ndarray
    thresholds: np.ndarray
    mse: float
    n_iter: int
    converged: bool
    bits: int
    prior: str = "gaussian"
    kind: str = "lloyd-max"


@dataclass(frozen=True)
class MaxUniformResult(FrozenPickle):
    """The MSE-optimal uniform (mid-rise, 2^b levels) quantizer of N(0, 1).

    Attributes
    ----------
    levels : float64 (2^b,)
        ``(k - (2^b - 1)/2) * step``, k = 0..2^b-1 (read-only).
    thresholds : float64 (2^b - 1,)
        Midpoints of the levels (read-only).
    step : float
        Optimal level spacing Δ.
    width : float
        Outer level ω = (2^b - 1) Δ / 2, so ``levels == uniform_levels(b, width, "midrise")``.
    mse : float
        ``E[(x - Round_C(x))^2]``, x ~ N(0, 1).
    bits : int
        b.
    prior : str
        ``"gaussian"``.
    kind : str
        ``"midrise"`` (the uniform convention of the levels).
    """

    levels: np.ndarray
    thresholds: np.ndarray
    step: float
    width: float
    mse: float
    bits: int
    prior: str = "gaussian"
    kind: str = "midrise"


def _lloyd_map(c: np.ndarray):
    """One Lloyd step: thresholds at midpoints, levels at the cells' conditional means."""
    t = 0.5 * (c[1:] + c[:-1])
    m0, m1, _ = _cell_moments(t)
    return m1 / m0, t, m0


def _newton_step(c: np.ndarray) -> np.ndarray:
    """Newton step on F(c) = c - T(c), T the Lloyd map (tridiagonal Jacobian)."""
    new, t, m0 = _lloyd_map(c)
    n = c.size
    pt = _INV_SQRT_2PI * np.exp(-0.5 * t**2)
    # dT_k/dt_{k-1} = p(t_{k-1}) (T_k - t_{k-1}) / M0_k ; dT_k/dt_k = p(t_k) (t_k - T_k) / M0_k
    lower = np.zeros(n)
    upper = np.zeros(n)
    lower[1:] = pt * (new[1:] - t) / m0[1:]
    upper[:-1] = pt * (t - new[:-1]) / m0[:-1]
    # t_k = (c_k + c_{k+1}) / 2, so dT_k/dc_{k-1} = lower_k/2, dT_k/dc_k = (lower_k + upper_k)/2,
    # dT_k/dc_{k+1} = upper_k/2; J = I - dT/dc in banded storage
    ab = np.zeros((3, n))
    ab[0, 1:] = -0.5 * upper[:-1]
    ab[1, :] = 1.0 - 0.5 * (lower + upper)
    ab[2, :-1] = -0.5 * lower[1:]
    return c - solve_banded((1, 1), ab, c - new)


def lloyd_max(
    bits: int, prior: str = "gaussian", tol: float = 1e-11, max_iter: int = 10_000
) -> LloydMaxResult:
    """Lloyd–Max (Max 1960) MSE-optimal quantizer of N(0, 1) with 2^b levels.

    The optimality conditions are iterated: thresholds at the level midpoints, levels at the
    conditional means of their cells (closed form: ``(p(a) - p(b)) / (Φ(b) - Φ(a))`` for the
    cell (a, b), p and Φ the normal pdf and cdf; no sampling). The start is the compander
    (Panter–Dite) guess ``√3 Φ^-1((k + ½)/2^b)``; after a few Lloyd steps, Newton steps on the
    fixed-point equation (tridiagonal Jacobian) speed up the slow Lloyd convergence of many
    levels, each one kept only if it lowers the residual (else a Lloyd step is taken).

    Parameters
    ----------
    bits : int
        b, 1 <= b <= 12.
    prior : {"gaussian"}
        The source law; only N(0, 1) is supported.
    tol : float
        Stop when a Lloyd step moves no level by ``tol`` or more (> 0). Rounding in the
        centroids of narrow cells puts a floor of about 1e-13 (b = 8) to 1e-12 (b = 12) on
        that step, so much smaller values may not be reached.
    max_iter : int
        Iteration cap (>= 1).

    Returns
    -------
    LloydMaxResult
        ``levels`` float64 (2^b,), ``thresholds`` float64 (2^b - 1,), ``mse``, ``n_iter``,
        ``converged``, ``bits``, ``prior``, ``kind="lloyd-max"``.

    Examples
    --------
    >>> r = lloyd_max(2)
    >>> np.round(r.levels, 4).tolist(), np.round(r.thresholds, 4).tolist(), round(r.mse, 4)
    ([-1.5104, -0.4528, 0.4528, 1.5104], [-0.9816, 0.0, 0.9816], 0.1175)
    >>> r.converged
    True
    """
    b = _check_bits(bits, maximum=_LLOYD_MAX_BITS)
    _check_prior(prior)
    if not (isinstance(tol, numbers.Real) and math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be finite and > 0, got {tol!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 1:
        raise ValueError(f"max_iter must be an int >= 1, got {max_iter!r}")
    n = 2**b
    c = math.sqrt(3.0) * ndtri((np.arange(n) + 0.5) / n)
    converged = False
    it = 0
    resid = np.inf
    while it < int(max_iter):
        it += 1
        new, _, _ = _lloyd_map(c)
        step = float(np.max(np.abs(new - c)))
        if step < tol:
            c = new
            converged = True
            break
        cand = None
        if it > 5:
            try:
                trial = _newton_step(c)
            except (np.linalg.LinAlgError, ValueError):
                trial = None
            if trial is not None and np.all(np.isfinite(trial)) and np.all(np.diff(trial) > 0):
                t_new, _, _ = _lloyd_map(trial)
                r = float(np.max(np.abs(t_new - trial)))
                if r < min(step, resid):
                    cand, resid = trial, r
        if cand is None:
            c = new
            resid = step
        else:
            c = cand
    c = 0.5 * (c - c[::-1])  # exact symmetry of the N(0, 1) optimum
    t = 0.5 * (c[1:] + c[:-1])
    return LloydMaxResult(
        levels=_frozen(c),
        thresholds=_frozen(t),
        mse=_mse_from_levels(c),
        n_iter=it,
        converged=converged,
        bits=b,
    )


def _uniform_grid(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.float64) - 0.5 * (n - 1)


def _uniform_mse_derivative(step: float, a: np.ndarray) -> float:
    """d MSE / d step for the uniform levels ``a * step`` (thresholds follow the midpoints).

    The thresholds are optimal for the levels, so only the explicit dependence counts:
    ``-2 Σ_k a_k (M1_k - a_k step M0_k)``.
    """
    c = a * step
    m0, m1, _ = _cell_moments(0.5 * (c[1:] + c[:-1]))
    return float(-2.0 * np.sum(a * (m1 - c * m0)))


def max_uniform(bits: int, prior: str = "gaussian") -> MaxUniformResult:
    """Max's (1960) MSE-optimal uniform quantizer of N(0, 1): 2^b mid-rise levels, step optimised.

    The levels are ``(k - (2^b - 1)/2) Δ``; Δ solves ``d MSE/dΔ = 0`` (Brent's method on the
    closed-form derivative; the Gaussian MSE has a single minimum in Δ).

    Parameters
    ----------
    bits : int
        b, 1 <= b <= 16.
    prior : {"gaussian"}
        The source law; only N(0, 1) is supported.

    Returns
    -------
    MaxUniformResult
        ``levels`` float64 (2^b,), ``thresholds`` float64 (2^b - 1,), ``step``, ``width``
        (outer level), ``mse``, ``bits``, ``prior``, ``kind="midrise"``.

    Examples
    --------
    >>> r = max_uniform(3)
    >>> round(r.step, 4), round(r.mse, 5)
    (0.586, 0.03744)
    >>> bool(np.allclose(r.levels, uniform_levels(3, r.width, kind="midrise")))
    True
    """
    b = _check_bits(bits, maximum=16)
    _check_prior(prior)
    n = 2**b
    a = _uniform_grid(n)
    lo, hi = 1e-6 / n, 10.0
    step = brentq(_uniform_mse_derivative, lo, hi, args=(a,), xtol=1e-15, rtol=4 * np.finfo(float).eps)
    c = a * step
    return MaxUniformResult(
        levels=_frozen(c),
        thresholds=_frozen(0.5 * (c[1:] + c[:-1])),
        step=float(step),
        width=float(0.5 * (n - 1) * step),
        mse=_mse_from_levels(c),
        bits=b,
    )
