"""The binary perceptron with hidden real weights: clipped perceptron and SBPI rules.

The student has binary weights ``w = sign(h)`` (``sign(0) = +1``) carried by
hidden real weights h, float64 (N,), and labels ``sign(w . x)``.  The rules
(docs/theory.md §7.4) act on h only:

* ``'clipped'`` -- the clipped perceptron: on an example with stability
  ``y (w . x) <= kappa``, ``h += eta y x``, then ``|h_i| <= h_max``;
* ``'sbpi'`` -- the stochastic belief-propagation-inspired rule of Baldassi,
  Braunstein, Brunel & Zecchina (PNAS 2007): the same step on an error, and
  on a *barely correct* example (``0 < y (w . x) <= theta``), with
  probability ``p_s``, the step restricted to the weights it would deepen
  (``sign(h_i) = sign(y x_i)``), which changes no sign.

With the data of :func:`fgraph.problems.perceptron` (``x`` i.i.d.
``N(0, 1/N)``) the field ``w . x`` is of order one, so ``kappa`` and
``theta`` are in those units; a step moves each ``h_i`` by about
``eta / sqrt(N)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from fgraph.dtypes import FLOAT, INDEX

from . import _kernels
from ._base import Model, check_real, data_of

__all__ = ["Perceptron", "SignData"]

RULES = {"clipped": _kernels.CLIPPED, "sbpi": _kernels.SBPI}


class SignData(NamedTuple):
    """Training data of a sign-output model: ``X`` float64 (P, N), ``y`` float64 (P,) in {-1, +1}."""

    X: np.ndarray
    y: np.ndarray


def _dummy_table() -> np.ndarray:
    return np.zeros((1, 1, 1), dtype=np.uint8)


def sign_labels(scores: np.ndarray) -> np.ndarray:
    """``sign`` with ``sign(0) = +1``, float64."""
    return np.where(scores >= 0, 1.0, -1.0)


def sign_vote(scores: np.ndarray) -> np.ndarray:
    """Majority vote of the copies' labels, float64 (P,); a tie goes to the sign of the summed scores."""
    labels = sign_labels(scores).sum(axis=0)
    tie = labels == 0
    if np.any(tie):
        labels = np.where(tie, sign_labels(scores.sum(axis=0)), labels)
    return sign_labels(labels)


@dataclass(frozen=True)
class Perceptron(Model):
    """Binary perceptron ``y = sign(sign(h) . x)`` trained online on its hidden weights h.

    Parameters
    ----------
    rule : {'clipped', 'sbpi'}
        The local rule (module docstring).
    eta : float > 0
        Step size of ``h += eta y x``.
    kappa : float
        Stability below which the clipped rule steps (0: on errors only).
    h_max : float > 0 or inf
        Clip of the hidden weights after each step.
    theta : float >= 0
        SBPI's "barely correct" stability threshold.
    p_s : float in [0, 1]
        SBPI's reinforcement probability on a barely correct example.
    init_std : float > 0
        Initial ``h`` is i.i.d. ``N(0, init_std^2)``.

    Attributes
    ----------
    granularities : ('weight', 'neuron', 'tensor')
        ``'weight'`` routes every ``h_i`` on its own; the perceptron has one
        neuron, so ``'neuron'`` and ``'tensor'`` both move the whole vector.

    Examples
    --------
    >>> from fgraph.problems import perceptron
    >>> from algorithms.learning import Perceptron, train
    >>> prob = perceptron(201, 2.0, seed=0, graph=False)
    >>> run = train(prob, Perceptron(), epochs=20, seed=1)
    >>> run.params["h"].shape, run.history["errors"].shape
    ((201,), (20,))
    >>> bool(Perceptron().gen_errors({"h": run.params["h"][None]}, prob)[0] < 0.3)
    True
    """

    rule: str = "clipped"
    eta: float = 1.0
    kappa: float = 0.0
    h_max: float = math.inf
    theta: float = 0.5
    p_s: float = 0.3
    init_std: float = 0.1

    name = "perceptron"

    def __post_init__(self):
        if self.rule not in RULES:
            raise ValueError(f"unknown perceptron rule {self.rule!r}; valid: {', '.join(map(repr, RULES))}")
        check_real(self.eta, "eta", lo=0.0, lo_open=True)
        check_real(self.kappa, "kappa")
        if not (isinstance(self.h_max, (int, float)) and self.h_max > 0):
            raise ValueError(f"h_max must be > 0 (inf: no clipping), got {self.h_max!r}")
        check_real(self.theta, "theta", lo=0.0)
        check_real(self.p_s, "p_s", lo=0.0, hi=1.0)
        check_real(self.init_std, "init_std", lo=0.0, lo_open=True)

    # -- the contract ---------------------------------------------------------------
    def init(self, n_in: int, rng) -> dict:
        """``{'h': float64 (n_in,)}``, i.i.d. ``N(0, init_std^2)``."""
        return {"h": self.init_std * rng.standard_normal(n_in)}

    def prepare(self, X, y, rng=None) -> SignData:
        X, y = data_of((X, y), labels="sign")
        return SignData(X, y)

    def units(self, granularity: str, n_in: int) -> tuple[dict, int]:
        """Per weight: unit i is ``h_i`` (edge (mu, i) of the factor graph); else one unit."""
        if self.check_granularity(granularity) == "weight":
            return {"h": np.arange(n_in, dtype=INDEX)}, n_in
        return {"h": np.zeros(n_in, dtype=INDEX)}, 1

    def epoch(self, params, state, data: SignData, order, route, rng) -> dict:
        h = params["h"]
        M = h.shape[0]
        coins = rng.random(order.size) if self.rule == "sbpi" else np.zeros(0)
        routed = route is not None
        table = route.table if routed else _dummy_table()
        unit_of = route.unit_of["h"] if routed else np.zeros(0, dtype=INDEX)
        errors = np.zeros(M, dtype=INDEX)
        updates = np.zeros(M, dtype=INDEX)
        _kernels.perceptron_epoch(
            h, data.X, data.y, np.ascontiguousarray(order, dtype=INDEX),
            table, unit_of, routed, coins, RULES[self.rule],
            float(self.eta), float(self.kappa), float(self.h_max), float(self.p_s), float(self.theta),
            errors, updates,
        )
        return {"errors": errors, "updates": updates}

    def scores(self, params, X) -> np.ndarray:
        """Fields ``sign(h_m) . x``, float64 (M, P)."""
        return sign_labels(params["h"]) @ np.asarray(X, dtype=FLOAT).T

    def errors(self, params, X, y) -> np.ndarray:
        """Misclassified rows of (X, y) per copy, int64 (M,)."""
        return (sign_labels(self.scores(params, X)) != np.asarray(y)[None, :]).sum(axis=1).astype(INDEX)

    def vote(self, params, X) -> np.ndarray:
        """Majority vote of the copies, float64 (P,) in {-1, +1}."""
        return sign_vote(self.scores(params, X))

    def gen_errors(self, params, problem) -> np.ndarray | None:
        """Exact generalization error ``arccos(R) / pi`` of each copy, float64 (M,).

        ``R`` is the normalised overlap of ``sign(h_m)`` with the teacher of a
        teacher-student problem with a noiseless sign channel and i.i.d.
        Gaussian inputs (docs/theory.md §7.6); None for other problems.
        """
        meta = getattr(problem, "meta", {})
        if meta.get("kind") != "perceptron" or meta.get("channel") != "sign":
            return None
        teacher = np.asarray(meta["teacher"], dtype=FLOAT)
        w = sign_labels(params["h"])
        R = (w @ teacher) / (np.linalg.norm(w, axis=1) * np.linalg.norm(teacher))
        return np.arccos(np.clip(R, -1.0, 1.0)) / math.pi
