"""Small argument helpers shared by the prior and channel modules (private to algorithms.denoisers)."""

from __future__ import annotations

import math

import numpy as np


def _fmt(x: float) -> str:
    return f"{float(x):.12g}"


def _finite(name: str, value) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return x


def _broadcast_flat(*arrays):
    arrs = np.broadcast_arrays(*[np.asarray(a, dtype=np.float64) for a in arrays])
    shape = arrs[0].shape
    return shape, [np.ascontiguousarray(a).ravel() for a in arrs]


def _shaped(shape, *flat):
    if shape == ():
        return tuple(float(a[0]) for a in flat)
    return tuple(a.reshape(shape) for a in flat)
