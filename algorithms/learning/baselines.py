"""Baselines of routed training: independent copies, replicated SGD and elastic averaging SGD.

M copies of a model are trained on the same problem with the model's own
local rule, on the same visiting order of the factors (docs/theory.md §7.7):

* :func:`independent` -- no interaction at all (M runs of :func:`train`
  batched over the copy axis);
* :func:`replicated` -- replicated SGD (Baldassi, Pittorino & Zecchina,
  PNAS 117:161, 2020): every ``period`` factor visits each copy is pulled
  elastically towards a centre, the copies' mean or a free centre variable;
* :func:`easgd` -- synchronous elastic averaging SGD (Zhang, Choromanska &
  LeCun, NeurIPS 2015): a centre variable exchanges elastic forces with the
  copies, with the reaction on the centre the sum of the M forces.

The couplings act on every parameter array (for the binary models, on the
hidden real weights h, never on the binary weights sign(h) directly) and
never on the optimizer state (momentum stays with its copy).  Between two
couplings the copies run ``model.epoch`` on consecutive chunks of the epoch's
order, unrouted; the order and every random number of the rules come from the
same stream as in :func:`~algorithms.learning.train`, so a coupling that does
nothing (``gamma=0``) reproduces :func:`independent` bit for bit, and copy m of
:func:`independent` reproduces :func:`~algorithms.learning.train` from copy
m's initial parameters.  This only uses the model contract (the rules draw
their random numbers per factor visit, so running an order in chunks draws the
same numbers as running it at once).

The elastic maps (no learning step in between; ``m`` the copies' mean, ``c``
the centre, ``e_a = theta_a - m`` the deviations, one coupling step):

=========================  =========================================  ===========================
coupling                   step                                       linear modes
=========================  =========================================  ===========================
``replicated``, ``mean``   ``theta_a -= gamma (theta_a - m)``         ``m`` fixed, ``e_a *= 1-gamma``
``replicated``, ``free``   ``d_a = theta_a - c``;                     ``m + c`` fixed,
                           ``theta_a -= gamma d_a``;                  ``m - c *= 1-2 gamma``,
                           ``c += gamma mean_a d_a``                  ``e_a *= 1-gamma``
``easgd``                  ``d_a = theta_a - c``;                     ``M m + c`` fixed,
                           ``theta_a -= alpha d_a``;                  ``m - c *= 1-(M+1) alpha``,
                           ``c += alpha sum_a d_a``                   ``e_a *= 1-alpha``
=========================  =========================================  ===========================

Both sides of a step use the values before it (a synchronous, Jacobi step).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fgraph.dtypes import FLOAT

from ._base import check_positive_int, check_real, data_of, split_rng
from .train import check_model, epoch_loop

__all__ = ["ReplicaResult", "easgd", "independent", "replicated"]

CENTERS = ("mean", "free")


@dataclass(frozen=True, eq=False)
class ReplicaResult:
    """What :func:`independent`, :func:`replicated` and :func:`easgd` return.

    Attributes
    ----------
    params : dict of str to ndarray of float64
        The M trained copies, each array of shape ``(M, *shape)`` with
        ``shape`` as ``model.init``.
    center : dict of str to ndarray of float64, or None
        The centre at the end, shapes as ``model.init``: the copies' mean for
        ``replicated(center='mean')``, the centre variable for
        ``replicated(center='free')`` and :func:`easgd`; None for
        :func:`independent`.
    history : dict of str to ndarray of float64
        Per epoch run: the model's per-copy statistics divided by the factors
        of an epoch, shape (epochs, M), as :func:`~algorithms.learning.train`
        records them (``errors`` and ``updates`` of the online rules: the
        fraction of visits on which copy m misclassified / sent a message;
        ``errors`` and ``loss`` of the MLP; with couplings, the sum of the
        statistics of the epoch's chunks, exact for integer counts and equal
        up to rounding for float sums); ``spread``, shape
        (epochs,), the mean squared distance ``(1/M) sum_a ||theta_a - c||^2``
        of the copies to their centre at the end of the epoch (summed over
        every entry of every parameter array; the copies' mean stands in for
        the centre of :func:`independent`); ``gamma`` (:func:`replicated`)
        or ``alpha`` (:func:`easgd`), shape (epochs,), the coupling of the
        epoch.
    model : Model
    epochs : int
        Epochs run (fewer than asked when the callback stopped the run).
    method : str
        ``'independent'``, ``'replicated'`` or ``'easgd'``.
    settings : dict
        The method's settings (``M``, ``period``, ``gamma``, ...).
    """

    params: dict
    center: dict | None
    history: dict
    model: object
    epochs: int
    method: str
    settings: dict = field(default_factory=dict)


# ----------------------------------------------------------------------------- elastic maps
# Each acts in place on params (arrays (M, ...)) and center (arrays (...)); both
# sides use the values from before the step.  The difference form
# ``theta - k (theta - c)`` leaves theta bit for bit unchanged when k = 0.

def _mean(params: dict) -> dict:
    return {k: v.mean(axis=0) for k, v in params.items()}


def _spread(params: dict, center: dict | None = None) -> float:
    """``(1/M) sum_a ||theta_a - c||^2`` over every entry (``c`` the copies' mean when None)."""
    if center is None:
        center = _mean(params)
    total = 0.0
    M = 1
    for k, v in params.items():
        M = v.shape[0]
        total += float(np.sum((v - center[k][None]) ** 2))
    return total / M


def _couple_mean(params: dict, gamma: float) -> None:
    """Replicated step towards the copies' mean: ``theta_a -= gamma (theta_a - m)``."""
    for v in params.values():
        m = v.mean(axis=0)
        v -= gamma * (v - m[None])


def _couple_free(params: dict, center: dict, gamma: float) -> None:
    """Replicated step with a free centre: ``theta_a -= gamma d_a``, ``c += gamma mean_a d_a``."""
    for k, v in params.items():
        d = v - center[k][None]
        v -= gamma * d
        center[k] += gamma * d.mean(axis=0)


def _easgd_step(params: dict, center: dict, alpha: float) -> None:
    """EASGD elastic step: ``theta_a -= alpha d_a``, ``c += alpha sum_a d_a``."""
    for k, v in params.items():
        d = v - center[k][None]
        v -= alpha * d
        center[k] += alpha * d.sum(axis=0)


class _Coupled:
    """A model as :func:`~algorithms.learning.train.epoch_loop` sees it: its epoch runs the
    wrapped model on chunks of ``period`` factors of the order and couples after each.

    ``strength(e)`` is the coupling of epoch e; ``step(params, k)`` applies one
    elastic step of strength k in place.
    """

    def __init__(self, model, period, strength, step):
        self.model = model
        self.period = period
        self.strength = strength
        self.step = step
        self.e = 0  # epochs run so far (epoch_loop calls epoch once per epoch)

    def n_factors(self, data) -> int:
        return self.model.n_factors(data)

    def epoch(self, params, state, data, order, route, rng) -> dict:
        k = self.strength(self.e)
        totals: dict = {}
        for s in range(0, order.size, self.period):
            # The same random numbers as one call on the whole order: the
            # rules draw them per visit, in visiting order, from ``rng``.
            stats = self.model.epoch(params, state, data, order[s:s + self.period], route, rng)
            for key, val in stats.items():
                val = np.asarray(val)
                totals[key] = val.copy() if key not in totals else totals[key] + val
            self.step(params, k)
        self.e += 1
        return totals


# ----------------------------------------------------------------------------- shared set-up
def _setup(problem, model, M, epochs, seed, init):
    """Validated model, M, epochs; prepared data; initial copies (M, ...) and the order stream."""
    model = check_model(model)
    M = check_positive_int(M, "M")
    epochs = check_positive_int(epochs, "epochs")
    init_rng, order_rng = split_rng(seed)[:2]  # the streams train() uses
    X, y = data_of(problem, labels=getattr(model, "labels", "sign"))
    data = model.prepare(X, y, order_rng)
    n_in = data.X.shape[1]
    if init is None:
        # Copy m is the m-th draw of the init stream: copy 0 is what train() draws from the same seed.
        copies = [model.init(n_in, init_rng) for _ in range(M)]
        params = {k: np.stack([c[k] for c in copies]).astype(FLOAT) for k in copies[0]}
    else:
        params = model.check_params(init, n_in, M)
    params = {k: np.ascontiguousarray(v, dtype=FLOAT) for k, v in params.items()}
    return model, M, epochs, data, params, order_rng


def _result(method, model, params, center, history, run, settings) -> ReplicaResult:
    return ReplicaResult(params=params, center=center, history=history, model=model, epochs=run,
                         method=method, settings=settings)


# ----------------------------------------------------------------------------- public trainers
def independent(problem, model, M, *, epochs, seed=None, init=None, callback=None) -> ReplicaResult:
    """Train M copies of a model independently on the same visiting orders.

    Copy m is exactly the single model :func:`~algorithms.learning.train`
    trains from copy m's initial parameters and the same ``seed``: the M runs
    are only batched over the copy axis (docs/theory.md §7.7).

    Parameters
    ----------
    problem : Problem or (X, y)
        A learning problem with data ``F`` float64 (P, D) and labels ``y``,
        or the pair itself.
    model : Model
        ``Perceptron``, ``Committee``, ``MLP`` or any model of the contract.
    M : int >= 1
        Copies.
    epochs : int >= 1
    seed : int, numpy Generator or None
        Split as in :func:`~algorithms.learning.train` into an init stream
        (copy m is its m-th draw of ``model.init``, so copy 0 is the model
        ``train`` starts from) and an order stream (the visiting order of each
        epoch and the rules' random numbers, shared by all copies).
    init : dict of arrays, optional
        Starting copies (copied), each array of shape ``(M, *shape)`` with
        ``shape`` as ``model.init``.
    callback : callable, optional
        ``callback(epoch, params, stats)`` after each epoch (``params`` with
        the copy axis, ``stats`` the epoch's row of the history); returning
        True stops the run.

    Returns
    -------
    ReplicaResult
        ``method='independent'``, ``center=None``; the history's ``spread``
        is measured around the copies' mean.

    Raises
    ------
    TypeError, ValueError
        A model that is not one of ours, ``M < 1``, ``epochs < 1``, data that
        do not fit the model, ``init`` of the wrong keys or shapes.

    Examples
    --------
    >>> from fgraph.problems import perceptron
    >>> from algorithms.learning import Perceptron
    >>> from algorithms.learning.baselines import independent
    >>> prob = perceptron(51, 1.0, seed=0, graph=False)
    >>> run = independent(prob, Perceptron(), 3, epochs=4, seed=1)
    >>> run.params["h"].shape, run.history["errors"].shape, run.history["spread"].shape
    ((3, 51), (4, 3), (4,))
    """
    model, M, epochs, data, params, order_rng = _setup(problem, model, M, epochs, seed, init)
    state = model.new_state(params)
    history, run = epoch_loop(
        model, params, state, data, epochs, order_rng, callback=callback,
        extra=lambda e, p: {"spread": _spread(p)},
    )
    return _result("independent", model, params, None, history, run, {"M": M})


def replicated(problem, model, M, *, epochs, seed=None, gamma=0.05, gamma_growth=1.0, period=1,
               center="mean", init=None, callback=None) -> ReplicaResult:
    """Replicated SGD: M copies with the model's own rule, elastically coupled to a centre.

    The copies train as in :func:`independent`; after every ``period`` factor
    visits (consecutive chunks of each epoch's order; the last chunk of an
    epoch may be shorter, and every epoch ends with a coupling) every copy is
    pulled towards the centre c (docs/theory.md §7.7; Baldassi, Pittorino &
    Zecchina, PNAS 117:161, 2020):

    * ``center='mean'``: ``c`` is the copies' mean ``m`` and
      ``theta_a <- theta_a - gamma (theta_a - m)``.  The mean is conserved
      and the spread around it shrinks by ``(1 - gamma)^2`` per step.
    * ``center='free'``: ``c`` is a variable of its own, starting at the
      initial copies' mean, and with ``d_a = theta_a - c`` (old values)
      ``theta_a <- theta_a - gamma d_a`` and ``c <- c + gamma mean_a d_a``:
      the centre feels the *mean* of the reactions of the M forces, so it
      moves at the rate of one copy.  ``m + c`` is conserved, ``m - c``
      shrinks by ``1 - 2 gamma`` per step (it alternates in sign for
      ``gamma > 1/2``), the deviations ``theta_a - m`` by ``1 - gamma``.
      (:func:`easgd` is the same map with the *sum* of the reactions.)

    ``gamma`` is the elastic step per coupling, i.e. the product of the
    paper's learning rate and coupling strength.  As in the paper's protocol
    the coupling may grow during training: in epoch e (from 0) it is
    ``min(1, gamma * gamma_growth**e)``.  The coupling acts on every
    parameter array (the hidden real weights h of the binary models) and
    never on the optimizer state.

    Parameters
    ----------
    problem, model, M, epochs, seed, init, callback
        As :func:`independent`.
    gamma : float in [0, 1]
        Elastic step of the first epoch; 0: the copies are independent
        (the run equals :func:`independent` bit for bit); 1 with
        ``center='mean'``: every coupling collapses the copies on their mean.
    gamma_growth : float > 0
        Factor by which ``gamma`` grows per epoch (1: constant), capped at 1.
    period : int >= 1
        Factor visits between couplings.
    center : {'mean', 'free'}

    Returns
    -------
    ReplicaResult
        ``method='replicated'``; ``center`` the final copies' mean or the
        centre variable; the history's ``spread`` around that centre and
        ``gamma`` per epoch.

    Raises
    ------
    TypeError, ValueError
        As :func:`independent`, and ``gamma`` outside [0, 1],
        ``gamma_growth <= 0``, ``period < 1`` or an unknown ``center``.

    Examples
    --------
    >>> from fgraph.problems import perceptron
    >>> from algorithms.learning import Perceptron
    >>> from algorithms.learning.baselines import independent, replicated
    >>> prob = perceptron(51, 1.0, seed=0, graph=False)
    >>> rep = replicated(prob, Perceptron(), 3, epochs=4, seed=1, gamma=0.1)
    >>> ind = independent(prob, Perceptron(), 3, epochs=4, seed=1)
    >>> bool(rep.history["spread"][-1] < ind.history["spread"][-1])
    True
    >>> rep.center["h"].shape, rep.history["gamma"].tolist()
    ((51,), [0.1, 0.1, 0.1, 0.1])
    """
    gamma = check_real(gamma, "gamma", lo=0.0, hi=1.0)
    gamma_growth = check_real(gamma_growth, "gamma_growth", lo=0.0, lo_open=True)
    period = check_positive_int(period, "period")
    if not isinstance(center, str) or center not in CENTERS:
        raise ValueError(f"center must be one of {', '.join(map(repr, CENTERS))}, got {center!r}")
    model, M, epochs, data, params, order_rng = _setup(problem, model, M, epochs, seed, init)
    state = model.new_state(params)

    def strength(e: int) -> float:
        # Geometric growth of the coupling, capped at 1 (a mean-centre step then collapses the
        # copies); gamma_growth**e may overflow for a long run with a fast growth.
        if gamma == 0.0:
            return 0.0
        try:
            return min(1.0, gamma * gamma_growth**e)
        except OverflowError:
            return 1.0

    if center == "mean":
        c = None
        step = _couple_mean
    else:
        c = _mean(params)

        def step(p, k):
            _couple_free(p, c, k)

    coupled = _Coupled(model, period, strength, step)
    history, run = epoch_loop(
        coupled, params, state, data, epochs, order_rng, callback=callback,
        extra=lambda e, p: {"spread": _spread(p, c), "gamma": strength(e)},
    )
    final = _mean(params) if c is None else c
    settings = {"M": M, "gamma": gamma, "gamma_growth": gamma_growth, "period": period, "center": center}
    return _result("replicated", model, params, final, history, run, settings)


def easgd(problem, model, M, *, epochs, seed=None, alpha=None, period=1, init=None,
          callback=None) -> ReplicaResult:
    """Synchronous elastic averaging SGD: M copies and a centre variable exchanging elastic forces.

    The copies train as in :func:`independent`; after every ``period`` factor
    visits (chunks of each epoch's order as in :func:`replicated`), with
    ``d_a = theta_a - c`` from before the step (docs/theory.md §7.7; Zhang,
    Choromanska & LeCun, NeurIPS 2015)::

        theta_a <- theta_a - alpha d_a
        c       <- c + alpha sum_a d_a

    ``alpha`` is the paper's ``eta rho`` and the centre's step is the paper's
    symmetric choice ``beta = M alpha``.  The centre starts at the mean of the
    initial copies.  The map conserves ``sum_a theta_a + c`` and has the
    modes ``e_a = theta_a - m`` (m the copies' mean), multiplied by
    ``1 - alpha``, and ``m - c``, multiplied by ``1 - (M + 1) alpha``: it is
    stable for ``0 < alpha < 2 / (M + 1)`` and monotone for
    ``alpha <= 1 / (M + 1)``.  We require ``M alpha < 1`` (``beta < 1``: the
    centre moves less than the copies' whole elastic pull), which implies
    stability.  (The paper's stability analysis is for the asynchronous
    round-robin scheme; the synchronous modes are computed here.)

    Parameters
    ----------
    problem, model, M, epochs, seed, init, callback
        As :func:`independent`.
    alpha : float, 0 < alpha < 1/M, optional
        Elastic step; default ``0.9 / (4 M)`` (a quarter of the bound).
    period : int >= 1
        Factor visits between elastic steps (the paper's communication
        period tau).

    Returns
    -------
    ReplicaResult
        ``method='easgd'``; ``center`` the centre variable; the history's
        ``spread`` around it and ``alpha`` per epoch.

    Raises
    ------
    TypeError, ValueError
        As :func:`independent`, and ``alpha <= 0``, ``M alpha >= 1`` or
        ``period < 1``.

    Examples
    --------
    >>> from fgraph.problems import perceptron
    >>> from algorithms.learning import Perceptron
    >>> from algorithms.learning.baselines import easgd
    >>> prob = perceptron(51, 1.0, seed=0, graph=False)
    >>> run = easgd(prob, Perceptron(), 3, epochs=4, seed=1, alpha=0.05)
    >>> run.center["h"].shape, run.method, run.history["alpha"].tolist()
    ((51,), 'easgd', [0.05, 0.05, 0.05, 0.05])
    """
    M = check_positive_int(M, "M")
    if alpha is None:
        alpha = 0.9 / (4 * M)
    alpha = check_real(alpha, "alpha", lo=0.0, lo_open=True)
    if M * alpha >= 1.0:
        raise ValueError(
            f"alpha must satisfy M * alpha < 1 for a stable elastic step (M = {M}: alpha < {1 / M:.6g}), "
            f"got alpha = {alpha}"
        )
    period = check_positive_int(period, "period")
    model, M, epochs, data, params, order_rng = _setup(problem, model, M, epochs, seed, init)
    state = model.new_state(params)
    c = _mean(params)
    coupled = _Coupled(model, period, lambda e: alpha, lambda p, k: _easgd_step(p, c, k))
    history, run = epoch_loop(
        coupled, params, state, data, epochs, order_rng, callback=callback,
        extra=lambda e, p: {"spread": _spread(p, c), "alpha": alpha},
    )
    settings = {"M": M, "alpha": alpha, "period": period}
    return _result("easgd", model, params, c, history, run, settings)
