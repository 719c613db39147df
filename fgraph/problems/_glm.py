"""Shared pieces of the learning-problem builders (perceptron, committee, quantized regression).

The data model (docs/theory.md §6.1): ``F`` float64 (P, N) with i.i.d.
``N(0, 1/N)`` entries, ``P = round(alpha * N)`` samples, teacher weights drawn
i.i.d. from the prior, labels ``y = channel(F x*)``.

Priors are ``'binary'`` (levels -1, +1 with probability 1/2 each),
``'gaussian'`` (N(0, 1): no finite alphabet, so no factor graph) or an
array of levels (uniform over them, or with given weights).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..dtypes import FLOAT, INDEX, as_float
from ..glm_factor import CHANNEL_CODES, add_committee, add_glm, sign0
from ..graph import FactorGraph
from ._problem import Problem

BINARY_LEVELS = (-1.0, 1.0)


def check_n(n, name: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"{name} must be >= 1, got {n}")
    return int(n)


def n_samples(n: int, alpha) -> tuple[float, int]:
    """``(alpha, P)`` with ``P = round(alpha * n) >= 1``."""
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"alpha must be a real number, got {type(alpha).__name__}")
    alpha = float(alpha)
    if not (math.isfinite(alpha) and alpha > 0):
        raise ValueError(f"alpha must be finite and > 0, got {alpha}")
    P = int(round(alpha * n))
    if P < 1:
        raise ValueError(f"alpha * n = {alpha * n:g} rounds to 0 samples; increase alpha or n")
    return alpha, P


def check_noise(noise, channel: str) -> float:
    """Channel variance Delta: 0 for 'sign', > 0 for 'gaussian' and 'noisy_sign'."""
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real):
        raise TypeError(f"noise must be a real number, got {type(noise).__name__}")
    noise = float(noise)
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be finite and >= 0, got {noise}")
    if channel == "sign" and noise != 0.0:
        raise ValueError(f"channel 'sign' is noiseless, got noise = {noise}; use channel='noisy_sign'")
    if channel != "sign" and noise == 0.0:
        raise ValueError(f"channel {channel!r} needs noise > 0 (the variance Delta), got noise = 0")
    return noise


def check_channel(channel) -> str:
    if not isinstance(channel, str) or channel not in CHANNEL_CODES:
        valid = ", ".join(repr(c) for c in CHANNEL_CODES)
        raise ValueError(f"unknown channel {channel!r}; valid channels: {valid}")
    return channel


def check_levels(levels, weights=None) -> tuple[np.ndarray, np.ndarray]:
    """Levels float64 (L,) (finite, distinct, L >= 2) and weights float64 (L,) summing to 1."""
    if isinstance(levels, str):
        raise ValueError(f"levels must be an array of values, got {levels!r}")
    lev = as_float(levels, "levels")
    if lev.ndim != 1 or lev.size < 2:
        got = np.asarray(levels).tolist()
        raise ValueError(f"levels must be a 1-D array of at least 2 values, got {got}")
    if not np.all(np.isfinite(lev)):
        raise ValueError(f"levels must be finite, got {lev.tolist()}")
    if np.unique(lev).size != lev.size:
        raise ValueError(f"levels must be distinct, got {lev.tolist()}")
    if weights is None:
        w = np.full(lev.size, 1.0 / lev.size)
    else:
        w = as_float(weights, "weights")
        if w.shape != lev.shape:
            raise ValueError(f"weights must have shape {lev.shape} (one per level), got {w.shape}")
        if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError(f"weights must be finite, >= 0 and not all 0, got {w.tolist()}")
        w = w / w.sum()
    return lev.astype(FLOAT, copy=True), w


def resolve_prior(prior) -> tuple[str, np.ndarray | None, np.ndarray | None]:
    """``(name, levels, weights)``; levels and weights are None for the Gaussian prior."""
    if isinstance(prior, str):
        if prior == "binary":
            lev, w = check_levels(BINARY_LEVELS)
            return "binary", lev, w
        if prior == "gaussian":
            return "gaussian", None, None
        raise ValueError(f"unknown prior {prior!r}; use 'binary', 'gaussian' or an array of levels")
    lev, w = check_levels(prior)
    return "discrete", lev, w


def draw_teacher(rng, size, levels, weights) -> tuple[np.ndarray | None, np.ndarray]:
    """``(states int64 or None, values float64)`` of i.i.d. teacher weights."""
    if levels is None:
        return None, rng.standard_normal(size)
    states = rng.choice(levels.size, size=size, p=weights).astype(INDEX)
    return states, levels[states]


def draw_F(rng, P: int, n: int) -> np.ndarray:
    """Data matrix float64 (P, n), i.i.d. N(0, 1/n)."""
    return rng.standard_normal((P, n)) / math.sqrt(n)


def apply_channel(rng, z: np.ndarray, channel: str, noise: float) -> np.ndarray:
    """Labels float64 (P,) of pre-activations ``z`` (one noise draw per sample if noisy)."""
    if channel == "sign":
        return sign0(z)
    noisy = z + math.sqrt(noise) * rng.standard_normal(z.size)
    return noisy if channel == "gaussian" else sign0(noisy)


def glm_graph(n, F, y, channel, noise, levels, weights):
    """Compiled graph: n weights with card L, unary log-prior log(weights), one glm factor per row."""
    g = FactorGraph()
    g.add_variables(n, card=levels.size)
    if np.any(weights != weights[0]):  # a non-uniform prior becomes evidence
        with np.errstate(divide="ignore"):
            g.add_log_evidence(np.arange(n, dtype=INDEX), np.log(weights))
    add_glm(g, F, y, channel, noise, levels)
    return g.compile()


def committee_graph(n, k, F, y, levels, weights):
    """Compiled graph: k*n weights (``W_ki`` is variable ``k*n + i``), one committee factor per row."""
    g = FactorGraph()
    g.add_variables(k * n, card=levels.size)
    if np.any(weights != weights[0]):  # a non-uniform prior becomes evidence
        with np.errstate(divide="ignore"):
            g.add_log_evidence(np.arange(k * n, dtype=INDEX), np.log(weights))
    add_committee(g, F, y, k, levels)
    return g.compile()


def check_graph_flag(graph) -> bool:
    if not isinstance(graph, (bool, np.bool_)):
        raise TypeError(f"graph must be True or False, got {graph!r}")
    return bool(graph)


def make_problem(graph, truth, meta, F, y) -> Problem:
    """Problem with ``graph=None`` allowed (dense problem only: Gaussian prior or ``graph=False``)."""
    return Problem(graph=graph, truth=truth, meta=meta, F=F, y=y)
