"""The binary committee machine trained with the least-action rule.

K hidden units with binary weights ``W_k = sign(h_k)`` (hidden real h,
float64 (K, N)) and output ``sign(sum_k sign(W_k . x))`` (K odd, so the vote
never ties).  On an error, the least-action rule (docs/theory.md §7.4) steps
only the unit that is easiest to flip: among the units whose sign disagrees
with the label, the one with the smallest ``|W_k . x|`` gets
``h_k += eta y x`` (then ``|h| <= h_max``).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from fgraph.dtypes import FLOAT, INDEX

from . import _kernels
from ._base import Model, check_real, data_of
from .perceptron import SignData, _dummy_table, sign_labels, sign_vote

__all__ = ["Committee"]


@dataclass(frozen=True)
class Committee(Model):
    """Committee machine of K binary perceptrons and a majority vote.

    Parameters
    ----------
    K : int, odd, >= 1
        Hidden units.
    rule : {'least_action'}
    eta : float > 0
        Step size.
    h_max : float > 0 or inf
        Clip of the hidden weights.
    init_std : float > 0
        Initial ``h`` i.i.d. ``N(0, init_std^2)``; independent starts are what
        distinguish the hidden units.

    Attributes
    ----------
    granularities : ('weight', 'neuron', 'tensor')
        Per weight ``h_ki`` (unit ``k N + i``, the slot order of the committee
        factor), per hidden unit (row k), or the whole (K, N) tensor.

    Examples
    --------
    >>> import numpy as np
    >>> from algorithms.learning import Committee
    >>> model = Committee(3)
    >>> params = {"h": np.ones((2, 3, 4))}              # two copies
    >>> X = np.array([[1.0, 1.0, -1.0, 0.5]]) / 2
    >>> model.scores(params, X).tolist()                # votes of the two copies
    [[3.0], [3.0]]
    """

    K: int = 3
    rule: str = "least_action"
    eta: float = 1.0
    h_max: float = math.inf
    init_std: float = 0.1

    name = "committee"

    def __post_init__(self):
        K = self.K
        if isinstance(K, bool) or not isinstance(K, numbers.Integral):
            raise TypeError(f"K must be an int, got {type(K).__name__}")
        if K < 1 or K % 2 == 0:
            raise ValueError(f"K must be odd and >= 1 (the majority vote must not tie), got {K}")
        if self.rule != "least_action":
            raise ValueError(f"unknown committee rule {self.rule!r}; valid: 'least_action'")
        check_real(self.eta, "eta", lo=0.0, lo_open=True)
        if not (isinstance(self.h_max, (int, float)) and self.h_max > 0):
            raise ValueError(f"h_max must be > 0 (inf: no clipping), got {self.h_max!r}")
        check_real(self.init_std, "init_std", lo=0.0, lo_open=True)

    def init(self, n_in: int, rng) -> dict:
        """``{'h': float64 (K, n_in)}``, i.i.d. ``N(0, init_std^2)``."""
        return {"h": self.init_std * rng.standard_normal((int(self.K), n_in))}

    def prepare(self, X, y, rng=None) -> SignData:
        X, y = data_of((X, y), labels="sign")
        return SignData(X, y)

    def units(self, granularity: str, n_in: int) -> tuple[dict, int]:
        K = int(self.K)
        g = self.check_granularity(granularity)
        if g == "weight":
            return {"h": np.arange(K * n_in, dtype=INDEX).reshape(K, n_in)}, K * n_in
        if g == "neuron":
            return {"h": np.repeat(np.arange(K, dtype=INDEX), n_in).reshape(K, n_in)}, K
        return {"h": np.zeros((K, n_in), dtype=INDEX)}, 1

    def epoch(self, params, state, data: SignData, order, route, rng) -> dict:
        h = params["h"]
        M = h.shape[0]
        routed = route is not None
        errors = np.zeros(M, dtype=INDEX)
        updates = np.zeros(M, dtype=INDEX)
        _kernels.committee_epoch(
            h, data.X, data.y, np.ascontiguousarray(order, dtype=INDEX),
            route.table if routed else _dummy_table(),
            np.ascontiguousarray(route.unit_of["h"]).ravel() if routed else np.zeros(0, dtype=INDEX),
            routed, float(self.eta), float(self.h_max), errors, updates,
        )
        return {"errors": errors, "updates": updates}

    def scores(self, params, X) -> np.ndarray:
        """Votes ``sum_k sign(sign(h_mk) . x)`` of each copy, float64 (M, P) (odd integers)."""
        X = np.asarray(X, dtype=FLOAT)
        fields = np.einsum("mkn,pn->mpk", sign_labels(params["h"]), X)
        return sign_labels(fields).sum(axis=2)

    def errors(self, params, X, y) -> np.ndarray:
        """Misclassified rows of (X, y) per copy, int64 (M,)."""
        return (sign_labels(self.scores(params, X)) != np.asarray(y)[None, :]).sum(axis=1).astype(INDEX)

    def vote(self, params, X) -> np.ndarray:
        """Majority vote of the copies' outputs, float64 (P,) in {-1, +1}."""
        return sign_vote(sign_labels(self.scores(params, X)))

    def gen_errors(self, params, problem) -> None:
        """No closed form for K > 1: copies are scored on a fresh teacher test set instead."""
        return None
