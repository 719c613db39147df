"""Quantized-weight regression (docs/theory.md §8): ``y = F x* + sqrt(noise) xi``, x* on a grid.

Data: ``P = round(alpha * n)`` samples, ``F`` float64 (P, n) i.i.d.
``N(0, 1/n)``, teacher ``x*_i`` i.i.d. from the given levels (with the given
weights, uniform by default), ``xi`` i.i.d. N(0, 1).  Random draws: the
teacher, then ``F``, then the noise.

The factor graph has one variable per weight with one state per level, the
log-prior ``log weights`` as evidence (none when uniform), and one ``glm``
factor with the Gaussian channel per sample::

    log psi_mu = log N(y_mu; sum_i F_mui levels[x_i], noise)

The quantizer that produces the levels (mid-rise, mid-tread, Lloyd-Max;
docs/theory.md §8) is the caller's choice: pass its levels.
"""

from __future__ import annotations

from ._glm import (
    apply_channel,
    check_graph_flag,
    check_levels,
    check_n,
    check_noise,
    draw_F,
    draw_teacher,
    glm_graph,
    make_problem,
    n_samples,
)
from ._problem import Problem, _seeded

__all__ = ["quantized_regression"]


def quantized_regression(n, alpha, levels, weights=None, noise=0.01, seed=None, graph=True) -> Problem:
    """Linear regression with a teacher whose weights lie on a finite grid.

    Parameters
    ----------
    n : int
        Number of weights N >= 1.
    alpha : float
        Samples per weight, > 0; ``P = round(alpha * n) >= 1``.
    levels : array_like of float, shape (L,)
        Distinct finite weight values, L >= 2 (state ``x`` is ``levels[x]``).
    weights : array_like of float, shape (L,), optional
        Prior probabilities of the levels (>= 0, normalised here); default
        uniform.
    noise : float
        Noise variance Delta > 0 (default 0.01).
    seed : int, numpy.random.Generator or None
    graph : bool
        Build the factor graph (False: the dense problem only, for AMP).

    Returns
    -------
    Problem
        ``graph``: n variables of card L, P ``glm`` factors (Gaussian channel),
        or None.  ``truth`` int64 (n,): the teacher's states.  ``F`` float64
        (P, n), ``y`` float64 (P,).  ``meta``: ``kind='quantized_regression'``,
        ``n``, ``p``, ``alpha``, ``prior='discrete'``, ``levels``, ``weights``
        float64 (L,), ``channel='gaussian'``, ``noise``, ``seed``, ``teacher``
        float64 (n,).

    Examples
    --------
    >>> import numpy as np
    >>> prob = quantized_regression(10, 3.0, levels=[-1.0, 0.0, 1.0], noise=0.1, seed=0)
    >>> prob.graph.card[:3].tolist(), prob.F.shape
    ([3, 3, 3], (30, 10))
    >>> resid = prob.y - prob.F @ prob.meta["levels"][prob.truth]
    >>> bool(np.abs(resid).max() < 5 * np.sqrt(0.1))
    True
    >>> quantized_regression(10, 1.0, levels=[0.0, 0.0])
    Traceback (most recent call last):
    ...
    ValueError: levels must be distinct, got [0.0, 0.0]
    """
    n = check_n(n)
    alpha, P = n_samples(n, alpha)
    lev, w = check_levels(levels, weights)
    noise = check_noise(noise, "gaussian")
    build = check_graph_flag(graph)
    rng, recorded = _seeded(seed)
    states, teacher = draw_teacher(rng, n, lev, w)
    F = draw_F(rng, P, n)
    y = apply_channel(rng, F @ teacher, "gaussian", noise)
    cg = glm_graph(n, F, y, "gaussian", noise, lev, w) if build else None
    meta = {
        "kind": "quantized_regression",
        "n": n,
        "p": P,
        "alpha": alpha,
        "prior": "discrete",
        "levels": lev,
        "weights": w,
        "channel": "gaussian",
        "noise": noise,
        "seed": recorded,
        "teacher": teacher,
    }
    return make_problem(cg, states, meta, F, y)
