"""Teacher-student perceptron (a GLM): labels ``y = channel(F x*)``, one ``glm`` factor per sample.

Data (docs/theory.md §6.1, §6.7): ``P = round(alpha * n)`` samples, ``F`` float64
(P, n) i.i.d. ``N(0, 1/n)``, teacher ``x*`` i.i.d. from the prior, and

* ``'sign'``:       ``y = sign(F x*)``                   (``sign(0) = +1``);
* ``'noisy_sign'``: ``y = sign(F x* + sqrt(noise) xi)``;
* ``'gaussian'``:   ``y = F x* + sqrt(noise) xi``         (``xi`` i.i.d. N(0, 1)).

Random draws come from ``seed`` in a fixed order: the teacher, then ``F``,
then the channel noise.

The factor graph (for a finite alphabet: ``'binary'`` or an array of levels)
has one variable per weight with one state per level (state ``x`` is the
weight ``levels[x]``; binary: state 0 is -1, state 1 is +1), the log-prior as
evidence (none when uniform), and one ``glm`` factor of arity n per sample
(:mod:`fgraph.glm_factor`).  BP runs on it with the relaxed-BP rule of
:mod:`algorithms.bp.glm`; the exact tables are for tiny n only.  BP on a
factor graph needs a finite alphabet, so the Gaussian prior gives
``graph=None`` (the dense problem ``F, y`` is for AMP).
"""

from __future__ import annotations

from ._glm import (
    apply_channel,
    check_channel,
    check_graph_flag,
    check_n,
    check_noise,
    draw_F,
    draw_teacher,
    glm_graph,
    make_problem,
    n_samples,
    resolve_prior,
)
from ._problem import Problem, _seeded

__all__ = ["perceptron"]


def perceptron(n, alpha, prior="binary", channel="sign", noise=0.0, seed=None, graph=True) -> Problem:
    """Teacher-student perceptron / GLM with i.i.d. Gaussian data.

    Parameters
    ----------
    n : int
        Number of weights N >= 1.
    alpha : float
        Samples per weight, > 0; ``P = round(alpha * n) >= 1``.
    prior : {'binary', 'gaussian'} or array_like of float, shape (L,)
        Teacher prior: +-1 with probability 1/2, N(0, 1), or uniform over the
        given distinct levels (L >= 2).
    channel : {'sign', 'noisy_sign', 'gaussian'}
    noise : float
        Channel variance Delta: 0 for ``'sign'`` (the default), > 0 otherwise.
    seed : int, numpy.random.Generator or None
    graph : bool
        Build the factor graph (when the prior has a finite alphabet).  Pass
        False for large dense problems meant for AMP only.

    Returns
    -------
    Problem
        ``graph``: CompiledGraph (n variables of card L, P ``glm`` factors) or
        None (Gaussian prior, or ``graph=False``).  ``truth``: the teacher's
        states, int64 (n,) (finite alphabet), or its weights, float64 (n,)
        (Gaussian prior).  ``F`` float64 (P, n), ``y`` float64 (P,).
        ``meta``: ``kind='perceptron'``, ``n``, ``p`` (= P), ``alpha``,
        ``prior`` ('binary', 'gaussian' or 'discrete'), ``levels`` and
        ``weights`` float64 (L,) (None for the Gaussian prior), ``channel``,
        ``noise``, ``seed``, ``teacher`` float64 (n,) (the weight values).

    Raises
    ------
    ValueError
        n < 1, alpha <= 0, an unknown prior or channel, noise < 0, noise > 0
        with the sign channel, noise = 0 with a noisy channel, bad levels.

    Examples
    --------
    >>> import numpy as np
    >>> prob = perceptron(20, 2.0, seed=0)
    >>> prob.F.shape, prob.y.shape, prob.graph.n_var, prob.graph.n_fac, prob.graph.types
    ((40, 20), (40,), 20, 40, ('glm',))
    >>> bool(np.all(prob.y == np.where(prob.F @ prob.meta["teacher"] >= 0, 1.0, -1.0)))
    True
    >>> perceptron(10, 1.0, channel="gaussian")
    Traceback (most recent call last):
    ...
    ValueError: channel 'gaussian' needs noise > 0 (the variance Delta), got noise = 0
    """
    n = check_n(n)
    alpha, P = n_samples(n, alpha)
    name, levels, weights = resolve_prior(prior)
    channel = check_channel(channel)
    noise = check_noise(noise, channel)
    build = check_graph_flag(graph)
    rng, recorded = _seeded(seed)
    states, teacher = draw_teacher(rng, n, levels, weights)
    F = draw_F(rng, P, n)
    y = apply_channel(rng, F @ teacher, channel, noise)
    cg = glm_graph(n, F, y, channel, noise, levels, weights) if build and levels is not None else None
    meta = {
        "kind": "perceptron",
        "n": n,
        "p": P,
        "alpha": alpha,
        "prior": name,
        "levels": levels,
        "weights": weights,
        "channel": channel,
        "noise": noise,
        "seed": recorded,
        "teacher": teacher,
    }
    return make_problem(cg, teacher if states is None else states, meta, F, y)

