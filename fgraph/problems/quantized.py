"""Quantized-weight regression (docs/theory.md §8): ``y = F x* + sqrt(noise) xi``, student on a grid.

Data: ``P = round(alpha * n)`` samples, ``F`` float64 (P, n) i.i.d.
``N(0, 1/n)``, ``xi`` i.i.d. N(0, 1), and a teacher ``x*_i`` drawn i.i.d.
either from the given levels (with the given weights, uniform by default;
``teacher='grid'``, the matched setting) or from N(0, 1)
(``teacher='gaussian'``, rho_0 = 1: a student restricted to the levels learns a
continuous teacher, the setting of docs/theory.md §8.6).  Random draws: the
teacher, then ``F``, then the noise.

The factor graph has one variable per weight with one state per level, the
log-prior ``log weights`` as evidence (none when uniform), and one ``glm``
factor with the Gaussian channel per sample::

    log psi_mu = log N(y_mu; sum_i F_mui levels[x_i], noise)

The quantizer that produces the levels (mid-rise, mid-tread, Lloyd-Max;
docs/theory.md §8) is the caller's choice: pass its levels.  The graph is over
the student's levels whichever the teacher.
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

__all__ = ["TEACHERS", "quantized_regression"]

#: Teacher laws of :func:`quantized_regression`.
TEACHERS = ("grid", "gaussian")


def _check_teacher(teacher) -> str:
    if not isinstance(teacher, str) or teacher not in TEACHERS:
        valid = ", ".join(repr(t) for t in TEACHERS)
        raise ValueError(f"unknown teacher {teacher!r}; valid teachers: {valid}")
    return teacher


def quantized_regression(
    n, alpha, levels, weights=None, noise=0.01, seed=None, graph=True, teacher="grid"
) -> Problem:
    """Linear regression learned by a student whose weights lie on a finite grid.

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
        uniform.  They are the grid teacher's law and the graph's log-prior.
    noise : float
        Noise variance Delta > 0 (default 0.01).
    seed : int, numpy.random.Generator or None
    graph : bool
        Build the factor graph (False: the dense problem only, for AMP).
    teacher : {'grid', 'gaussian'}
        The teacher's law: i.i.d. on the levels with ``weights`` ('grid', the
        default), or i.i.d. N(0, 1) ('gaussian').  The teacher is drawn first,
        so one seed gives different ``F`` for the two laws.

    Returns
    -------
    Problem
        ``graph``: n variables of card L (the student's levels), P ``glm``
        factors (Gaussian channel with variance ``noise``), or None.
        ``truth``: the teacher's states, int64 (n,) ('grid'), or its weights,
        float64 (n,) ('gaussian').  ``F`` float64 (P, n), ``y`` float64 (P,).
        ``meta``: ``kind='quantized_regression'``, ``n``, ``p``, ``alpha``,
        ``prior='discrete'``, ``levels``, ``weights`` float64 (L,),
        ``channel='gaussian'``, ``noise``, ``seed``, ``teacher_kind`` ('grid'
        or 'gaussian'), ``teacher`` float64 (n,) (the weight values).

    Raises
    ------
    ValueError
        Bad ``n``, ``alpha``, ``levels``, ``weights``, ``noise`` or ``teacher``.
    TypeError
        A non-integer ``n``, a non-bool ``graph``.

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

    A Gaussian teacher (rho_0 = 1) learned on a 2-bit grid: ``truth`` holds its
    weights, the graph the student's four levels.

    >>> prob = quantized_regression(2000, 0.5, np.linspace(-1.5, 1.5, 4), teacher="gaussian", seed=0)
    >>> prob.meta["teacher_kind"], prob.truth.dtype, int(prob.graph.card[0])
    ('gaussian', dtype('float64'), 4)
    >>> w0 = prob.meta["teacher"]
    >>> bool(abs(w0.mean()) < 0.1 and abs(w0.var() - 1.0) < 0.1)
    True
    """
    n = check_n(n)
    alpha, P = n_samples(n, alpha)
    lev, w = check_levels(levels, weights)
    noise = check_noise(noise, "gaussian")
    build = check_graph_flag(graph)
    kind = _check_teacher(teacher)
    rng, recorded = _seeded(seed)
    if kind == "grid":
        states, teacher = draw_teacher(rng, n, lev, w)
    else:
        states, teacher = draw_teacher(rng, n, None, None)
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
        "teacher_kind": kind,
        "teacher": teacher,
    }
    return make_problem(cg, teacher if states is None else states, meta, F, y)
