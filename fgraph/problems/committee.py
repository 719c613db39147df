"""Teacher-student committee machine: ``y = sign(sum_k sign(F W*_k))`` with K hidden units.

Data: ``P = round(alpha * n)`` samples, ``F`` float64 (P, n) i.i.d.
``N(0, 1/n)``; the teacher has K weight vectors ``W*_k`` (rows of a (K, n)
array) i.i.d. from the prior; every hidden unit sees the same input ``F_mu``
and the label is the majority vote ``y_mu = sign(sum_k sign(F_mu . W*_k))``.
K must be odd so that the vote never ties; ``sign(0) = +1`` inside each unit.
Random draws: the teacher, then ``F``.  The labels are noiseless.

The factor graph (finite alphabet only) has K*n variables, weight ``W_ki``
being variable ``k*n + i``, and one ``committee`` factor of arity K*n per
sample (:class:`fgraph.glm_factor.CommitteeType`) whose log-table is exact.
Exact inference is for tiny instances only (K*n up to about 20); BP runs at
any size with the Gaussian-approximation rule of :mod:`algorithms.bp.committee`
(start it from random messages: from uniform ones all hidden units stay equal).
"""

from __future__ import annotations

import numbers

from ..glm_factor import sign0
from ._glm import (
    check_graph_flag,
    check_n,
    committee_graph,
    draw_F,
    draw_teacher,
    make_problem,
    n_samples,
    resolve_prior,
)
from ._problem import Problem, _seeded

__all__ = ["committee"]


def committee(n, alpha, k, prior="binary", seed=None, graph=True) -> Problem:
    """Committee machine with K (odd) hidden units and a majority vote output.

    Parameters
    ----------
    n : int
        Inputs per hidden unit N >= 1.
    alpha : float
        Samples per input, > 0; ``P = round(alpha * n) >= 1``.
    k : int
        Number of hidden units K, odd and >= 1 (K = 1 is the perceptron).
    prior : {'binary', 'gaussian'} or array_like of float, shape (L,)
        Teacher prior (as in :func:`~fgraph.problems.perceptron`).
    seed : int, numpy.random.Generator or None
    graph : bool
        Build the factor graph (finite alphabet only; tiny instances only are
        usable, see the module docstring).

    Returns
    -------
    Problem
        ``graph``: CompiledGraph (K*n variables, P ``committee`` factors) or
        None.  ``truth``: states int64 (K*n,) of ``W*`` flattened k-major
        (weights float64 (K*n,) for the Gaussian prior).  ``F`` float64 (P, n),
        ``y`` float64 (P,) in {-1, +1}.  ``meta``: ``kind='committee'``,
        ``n``, ``k``, ``p``, ``alpha``, ``prior``, ``levels``, ``weights``,
        ``channel='sign'``, ``noise=0.0``, ``seed``, ``teacher`` float64 (K, n).

    Examples
    --------
    >>> import numpy as np
    >>> prob = committee(4, 2.0, 3, seed=0)
    >>> prob.graph.n_var, prob.graph.n_fac, prob.F.shape
    (12, 8, (8, 4))
    >>> W = prob.meta["teacher"]
    >>> bool(np.all(prob.y == np.where(np.where(prob.F @ W.T >= 0, 1, -1).sum(1) > 0, 1.0, -1.0)))
    True
    >>> committee(4, 2.0, 2)
    Traceback (most recent call last):
    ...
    ValueError: k must be odd (a majority vote of an even committee can tie), got 2
    """
    n = check_n(n)
    alpha, P = n_samples(n, alpha)
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(f"k must be an int, got {type(k).__name__}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if k % 2 == 0:
        raise ValueError(f"k must be odd (a majority vote of an even committee can tie), got {k}")
    k = int(k)
    name, levels, weights = resolve_prior(prior)
    build = check_graph_flag(graph)
    rng, recorded = _seeded(seed)
    states, teacher = draw_teacher(rng, k * n, levels, weights)
    W = teacher.reshape(k, n)
    F = draw_F(rng, P, n)
    y = sign0(sign0(F @ W.T).sum(axis=1))
    cg = committee_graph(n, k, F, y, levels, weights) if build and levels is not None else None
    meta = {
        "kind": "committee",
        "n": n,
        "k": k,
        "p": P,
        "alpha": alpha,
        "prior": name,
        "levels": levels,
        "weights": weights,
        "channel": "sign",
        "noise": 0.0,
        "seed": recorded,
        "teacher": W,
    }
    return make_problem(cg, teacher if states is None else states, meta, F, y)
