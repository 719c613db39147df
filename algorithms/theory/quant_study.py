"""The three findings of the typical-case analysis of quantized regression, as functions.

Each function sweeps :func:`algorithms.theory.replica.solve_rs` over one axis and returns a
small frozen result of plain arrays (docs/theory.md §8.7):

* :func:`phase_diagram` -- the AT eigenvalue over (bits, width) at finite beta: where
  replica symmetry is unstable (finding i);
* :func:`optimal_width` -- the width that minimises the generalization error for given
  (alpha, bits, Delta) (finding ii);
* :func:`error_curve` and :func:`interpolation_peak` -- the error against alpha with and
  without quantization, and where the zero-temperature interpolation peak ``alpha = S`` lands
  (finding iii);
* :func:`compare_levels` -- Max's uniform against Lloyd-Max levels, error and stability.

Sweeps warm-start each point from its neighbour on the swept axis, which is what makes a
40 x 40 phase diagram take seconds rather than minutes.  Every result records the level
convention (``kind``) it used, since the papers' own is not known.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq, minimize_scalar

from fgraph.dtypes import FLOAT, INDEX

from .quantizers import lloyd_max, max_uniform, uniform_levels
from .replica import solve_rs

__all__ = [
    "ErrorCurve", "LevelComparison", "OptimalWidth", "PhaseDiagram", "compare_levels", "error_curve",
    "interpolation_peak", "optimal_width", "phase_diagram",
]


def _freeze(*arrays):
    for a in arrays:
        a.flags.writeable = False


def _bits_list(bits) -> np.ndarray:
    b = np.atleast_1d(np.asarray(bits))
    if b.ndim != 1 or b.size < 1 or not np.issubdtype(b.dtype, np.integer) or np.any(b < 1):
        raise ValueError(f"bits must be integers >= 1, got {np.asarray(bits).tolist()}")
    return b.astype(INDEX)


def _widths(widths) -> np.ndarray:
    w = np.atleast_1d(np.asarray(widths, dtype=FLOAT))
    if w.ndim != 1 or w.size < 1 or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise ValueError(f"widths must be finite and > 0, got {np.asarray(widths).tolist()}")
    return w


def _positive(value, name: str, allow_inf: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    v = float(value)
    if not (v > 0) or (math.isinf(v) and not allow_inf) or math.isnan(v):
        raise ValueError(f"{name} must be > 0{' (inf allowed)' if allow_inf else ' and finite'}, got {v}")
    return v


@dataclass(frozen=True, eq=False)
class PhaseDiagram:
    """RS stability over (bits, width).

    Attributes
    ----------
    bits : ndarray of int64, shape (B,)
    widths : ndarray of float64, shape (W,)
    lambda_at : ndarray of float64, shape (B, W)
        AT eigenvalue of the RS fixed point; RS is unstable where it exceeds 1.
    stable : ndarray of bool, shape (B, W)
    gen_error : ndarray of float64, shape (B, W)
        Gibbs generalization error of the RS fixed point (meaningful where stable).
    converged : ndarray of bool, shape (B, W)
    kind : str
        Level convention of :func:`~algorithms.theory.quantizers.uniform_levels`.
    alpha, delta, beta, ridge : float
    """

    bits: np.ndarray
    widths: np.ndarray
    lambda_at: np.ndarray
    stable: np.ndarray
    gen_error: np.ndarray
    converged: np.ndarray
    kind: str
    alpha: float
    delta: float
    beta: float
    ridge: float


def phase_diagram(bits, widths, *, alpha, delta, beta, kind="midrise", ridge=0.0) -> PhaseDiagram:
    """The AT eigenvalue of the RS solution over a (bits, width) grid at finite beta.

    Parameters
    ----------
    bits : int or array_like of int, shape (B,)
        Bits per weight (mid-tread needs >= 2).
    widths : array_like of float, shape (W,)
        Quantization widths omega > 0 (meaning set by ``kind``).
    alpha : float > 0
    delta : float >= 0
        Label-noise variance.
    beta : float > 0, finite
        Inverse temperature (at beta = inf discrete levels are always RS-unstable).
    kind : {'midrise', 'midtread', 'cells'}
    ridge : float >= 0

    Returns
    -------
    PhaseDiagram

    Examples
    --------
    >>> pd = phase_diagram([1, 2], [0.5, 2.0], alpha=2.0, delta=0.1, beta=5.0)
    >>> pd.lambda_at.shape, pd.stable.dtype
    ((2, 2), dtype('bool'))
    >>> bool(pd.lambda_at[1, 1] > pd.lambda_at[1, 0])   # wider spacing, less stable
    True
    """
    b = _bits_list(bits)
    w = _widths(widths)
    beta = _positive(beta, "beta")
    lam = np.empty((b.size, w.size))
    gen = np.empty_like(lam)
    conv = np.zeros(lam.shape, dtype=bool)
    for i, bb in enumerate(b):
        prev = None
        for j, ww in enumerate(w):
            levels = uniform_levels(int(bb), float(ww), kind=kind)
            res = solve_rs(alpha, levels, delta, beta=beta, ridge=ridge, init=prev)
            if not res.converged:  # a warm start from a neighbour that fell in another basin
                res = solve_rs(alpha, levels, delta, beta=beta, ridge=ridge)
            lam[i, j], gen[i, j], conv[i, j] = res.lambda_at, res.gen_error, res.converged
            prev = res if res.converged else None
    stable = lam < 1.0
    _freeze(b, w, lam, stable, gen, conv)
    return PhaseDiagram(b, w, lam, stable, gen, conv, str(kind), float(alpha), float(delta), beta,
                        float(ridge))


@dataclass(frozen=True, eq=False)
class OptimalWidth:
    """The generalization-optimal quantization width.

    Attributes
    ----------
    width : float
        omega* minimising ``gen_error`` over ``bounds``.
    gen_error : float
        The error at omega*.
    widths, errors : ndarray of float64, shape (G,)
        The coarse grid searched before refinement and its errors.
    kind : str
    alpha, delta, beta : float
    bits : int
    """

    width: float
    gen_error: float
    widths: np.ndarray
    errors: np.ndarray
    kind: str
    alpha: float
    bits: int
    delta: float
    beta: float


def optimal_width(alpha, bits, delta, *, kind="midrise", beta=np.inf, ridge=0.0, bounds=(0.05, 5.0),
                  n_grid=40) -> OptimalWidth:
    """omega*(alpha, bits, Delta): the width with the smallest RS generalization error.

    A coarse grid of ``n_grid`` widths over ``bounds`` locates the basin, then a bounded
    scalar minimisation refines it between the grid neighbours of the best point.  At
    ``beta = inf`` the error is the zero-temperature one (the trade-off of clipping against
    granularity); for ``alpha -> inf`` and ``Delta = 0`` the optimum is Max's quantizer.

    Examples
    --------
    >>> ow = optimal_width(1e6, 2, 0.0)           # alpha -> inf: Max's 4-level uniform quantizer
    >>> round(ow.width, 3), round(ow.gen_error, 4)   # outer level 1.5 x step 0.9957
    (1.494, 0.1188)
    """
    b = int(_bits_list(bits)[0])
    lo, hi = (float(x) for x in bounds)
    if not (0 < lo < hi and math.isfinite(hi)):
        raise ValueError(f"bounds must satisfy 0 < lo < hi < inf, got {bounds}")
    if int(n_grid) < 3:
        raise ValueError(f"n_grid must be >= 3, got {n_grid}")

    def err(w):
        levels = uniform_levels(b, float(w), kind=kind)
        return solve_rs(alpha, levels, delta, beta=beta, ridge=ridge).gen_error

    grid = np.linspace(lo, hi, int(n_grid))
    errs = np.array([err(w) for w in grid])
    k = int(np.argmin(errs))
    a, c = grid[max(k - 1, 0)], grid[min(k + 1, grid.size - 1)]
    opt = minimize_scalar(err, bounds=(a, c), method="bounded", options={"xatol": 1e-6})
    if opt.fun <= errs[k]:
        w_best, e_best = float(opt.x), float(opt.fun)
    else:
        w_best, e_best = float(grid[k]), float(errs[k])
    _freeze(grid, errs)
    return OptimalWidth(w_best, e_best, grid, errs, str(kind), float(alpha), b, float(delta), float(beta))


@dataclass(frozen=True, eq=False)
class ErrorCurve:
    """RS errors against alpha for one set of levels (or continuous weights).

    Attributes
    ----------
    alphas : ndarray of float64, shape (A,)
    gen_error, train_error : ndarray of float64, shape (A,)
        Gibbs generalization and training errors (``inf`` at the continuous peak alpha = 1).
    S, chi : ndarray of float64, shape (A,)
        Zero-temperature response and susceptibility (``chi = S / (alpha - S)``).
    lambda_at : ndarray of float64, shape (A,)
    label : str
        ``'continuous'`` or the levels' description.
    """

    alphas: np.ndarray
    gen_error: np.ndarray
    train_error: np.ndarray
    S: np.ndarray
    chi: np.ndarray
    lambda_at: np.ndarray
    label: str


def error_curve(alphas, levels, delta, *, beta=np.inf, ridge=0.0, label=None) -> ErrorCurve:
    """Generalization and training error of the RS solution along a grid of alpha.

    ``levels=None`` is the continuous student, whose ridgeless zero-temperature error
    ``Delta alpha / (alpha - 1)`` diverges at alpha = 1 (the double-descent peak; reported as
    ``inf`` for alpha <= 1).  Quantized levels keep the error finite: the rounding error is
    bounded, and the interpolation peak moves to alpha = S < 1 (:func:`interpolation_peak`).

    Examples
    --------
    >>> import numpy as np
    >>> ec = error_curve([2.0, 4.0], None, 0.1)
    >>> ec.gen_error.round(6).tolist()              # Delta alpha / (alpha - 1)
    [0.2, 0.133333]
    """
    a = np.atleast_1d(np.asarray(alphas, dtype=FLOAT))
    if a.ndim != 1 or a.size < 1 or not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise ValueError(f"alphas must be finite and > 0, got {np.asarray(alphas).tolist()}")
    out = {k: np.empty(a.size) for k in ("gen", "train", "S", "chi", "lam")}
    for i, al in enumerate(a):
        if levels is None and not np.isfinite(beta) and ridge == 0.0 and al <= 1.0:
            out["gen"][i] = out["train"][i] = out["chi"][i] = np.inf
            out["S"][i], out["lam"][i] = 1.0, 1.0 / al
            continue
        r = solve_rs(float(al), levels, delta, beta=beta, ridge=ridge)
        out["gen"][i], out["train"][i], out["S"][i] = r.gen_error, r.train_error, r.S
        out["chi"][i], out["lam"][i] = r.chi, r.lambda_at
    if label is None:
        label = "continuous" if levels is None else f"{len(np.asarray(levels))} levels"
    arrs = (a, out["gen"], out["train"], out["S"], out["chi"], out["lam"])
    _freeze(*arrs)
    return ErrorCurve(*arrs, label=str(label))


def interpolation_peak(levels, delta, *, lo=1e-3, hi=1.0) -> float:
    """The alpha of the zero-temperature interpolation peak, where ``alpha = S(alpha)``.

    ``chi = S / (alpha - S)`` diverges where the number of samples per weight meets the
    response S of the rounded estimator; S < 1 for quantized levels, so the peak sits below
    the continuous alpha = 1.  Found by bracketing ``alpha - S(D(alpha), alpha)`` on
    ``(lo, hi]`` (S is evaluated at the RS value of D); NaN when there is no sign change.

    Examples
    --------
    >>> from algorithms.theory.quantizers import uniform_levels
    >>> a = interpolation_peak(uniform_levels(2, 1.5), 0.1)
    >>> 0.0 < a < 1.0
    True
    """
    if levels is None:
        return 1.0

    def f(al):
        return al - solve_rs(al, levels, delta).S

    flo, fhi = f(lo), f(hi)
    if np.sign(flo) == np.sign(fhi):
        return float("nan")
    return float(brentq(f, lo, hi, xtol=1e-10))


@dataclass(frozen=True, eq=False)
class LevelComparison:
    """Uniform (Max) against non-uniform (Lloyd-Max) levels at equal bits.

    Attributes
    ----------
    bits : ndarray of int64, shape (B,)
    uniform_error, lloyd_error : ndarray of float64, shape (B,)
        RS generalization errors.
    uniform_lambda_at, lloyd_lambda_at : ndarray of float64, shape (B,)
        AT eigenvalues (finite beta) -- RS is stable below 1.
    alpha, delta, beta : float
    """

    bits: np.ndarray
    uniform_error: np.ndarray
    lloyd_error: np.ndarray
    uniform_lambda_at: np.ndarray
    lloyd_lambda_at: np.ndarray
    alpha: float
    delta: float
    beta: float


def compare_levels(bits, *, alpha, delta, beta) -> LevelComparison:
    """Max's MSE-optimal uniform levels against Lloyd-Max levels, bit by bit.

    Examples
    --------
    >>> cmp = compare_levels([2, 3], alpha=2.0, delta=0.1, beta=5.0)
    >>> bool(np.all(cmp.lloyd_error < cmp.uniform_error))    # non-uniform levels generalize better
    True
    """
    b = _bits_list(bits)
    beta = _positive(beta, "beta", allow_inf=True)
    ue, le, ul, ll = (np.empty(b.size) for _ in range(4))
    for i, bb in enumerate(b):
        ru = solve_rs(alpha, max_uniform(int(bb)).levels, delta, beta=beta)
        rl = solve_rs(alpha, lloyd_max(int(bb)).levels, delta, beta=beta)
        ue[i], le[i], ul[i], ll[i] = ru.gen_error, rl.gen_error, ru.lambda_at, rl.lambda_at
    _freeze(b, ue, le, ul, ll)
    return LevelComparison(b, ue, le, ul, ll, float(alpha), float(delta), beta)
