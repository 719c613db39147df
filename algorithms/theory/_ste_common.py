"""Argument checks and the input-quantizer constants shared by the STE tools (docs/theory.md §9.1).

:mod:`algorithms.theory.ste` (simulation, ODE, fixed points) and :mod:`._ste_pde` (the mean-field
PDE) take the same arguments; both check them here, so the messages and exception types agree.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from scipy.special import ndtr

from .quantizers import check_levels, normal_pdf

__all__ = ["kappas"]


def _real(x, name: str, *, positive: bool = False, nonneg: bool = False) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {x!r} ({type(x).__name__})")
    v = float(x)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {x!r}")
    if positive and not v > 0.0:
        raise ValueError(f"{name} must be > 0, got {x!r}")
    if nonneg and not v >= 0.0:
        raise ValueError(f"{name} must be >= 0, got {x!r}")
    return v


def _int(x, name: str, minimum: int) -> int:
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {x!r} ({type(x).__name__})")
    if int(x) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {x!r}")
    return int(x)


def _levels(levels, name: str) -> np.ndarray:
    return check_levels(levels, name)


def _teacher(teacher):
    """``None`` for the Gaussian teacher w* ~ N(0, 1), else the constant w* as a float."""
    if isinstance(teacher, str):
        if teacher != "gaussian":
            raise ValueError(f"teacher must be 'gaussian' or a real number, got {teacher!r}")
        return None
    return _real(teacher, "teacher")


def _clip(clipped, clip, c: np.ndarray) -> float:
    if not isinstance(clipped, (bool, np.bool_)):
        raise TypeError(f"clipped must be a bool, got {clipped!r}")
    if clip is None:
        return float(c[-1])
    return _real(clip, "clip", positive=True)


def kappas(input_levels) -> tuple[float, float]:
    """``κ₁ = E[x ψ(x)]`` and ``κ₂ = E[ψ(x)²]`` for x ~ N(0, 1), in closed form over the cells of ψ.

    With the thresholds ``t_k`` (``t_{-1} = -inf``, ``t_{L-1} = +inf``),
    ``κ₁ = sum_k c_k (pdf(t_{k-1}) - pdf(t_k))`` and ``κ₂ = sum_k c_k² (Φ(t_k) - Φ(t_{k-1}))``.

    Parameters
    ----------
    input_levels : array_like, float (L,)
        Levels of the input quantizer ψ: strictly increasing, L >= 2, and such that
        ``E ψ(x) = 0`` (e.g. any level set symmetric about 0).

    Returns
    -------
    (float, float)
        κ₁, κ₂.

    Raises
    ------
    ValueError
        Invalid levels, or ``|E ψ| > 1e-12 max|c|`` (the error formula needs a centred ψ).

    Examples
    --------
    >>> k1, k2 = kappas([-1.0, 1.0])
    >>> round(k1, 6), k2   # sign quantizer: sqrt(2/pi), 1
    (0.797885, 1.0)
    """
    c = _levels(input_levels, "input_levels")
    t = np.concatenate([[-np.inf], 0.5 * (c[1:] + c[:-1]), [np.inf]])
    mass = np.diff(ndtr(t))
    pdf = normal_pdf(t)
    mean = float(np.sum(c * mass))
    if abs(mean) > 1e-12 * float(np.max(np.abs(c))):
        raise ValueError(
            f"input_levels must give E[psi(x)] = 0 (e.g. symmetric levels), got E[psi] = {mean:.3g}"
        )
    k1 = float(np.sum(c * (pdf[:-1] - pdf[1:])))
    k2 = float(np.sum(c**2 * mass))
    return k1, k2
