"""The model contract shared by single-model training, routing and the baselines.

A *model* (:class:`Model`) is a frozen description of an architecture and its
local learning rule.  Its parameters are a dict of float64 arrays; every
trainer here stores them with a leading **copy axis** M (M = 1 for a single
model), so one code path serves one model, M independent copies, routed
copies and the replicated baselines (docs/theory.md §7.2).

The contract, as used by :func:`algorithms.learning.train` and
``lifts.routing.route``:

``init(n_in, rng) -> {name: float64 array}``
    One fresh copy of the parameters.
``prepare(X, y, rng) -> data``
    Validated training data in the model's own form (a NamedTuple of arrays;
    ``X`` float64 (P, D) C-contiguous and ``y`` first).  Models that group
    examples draw that grouping here, once per run, from ``rng`` (the MLP's
    fixed minibatches).
``n_factors(data)``
    The number of *factors* (local losses) of one epoch: one per example for
    the online rules (perceptron, committee), one per fixed minibatch for the
    MLP.
``units(granularity, n_in) -> (unit_of, n_units)``
    Which routing unit every parameter entry belongs to: ``unit_of[name]`` is
    an int64 array of the parameter's shape; entries of one unit move between
    copies together.  ``'weight'``: every entry its own unit; ``'neuron'``: a
    neuron's incoming weights (and bias); ``'tensor'``: one unit per array.
    Units are numbered so that, for the models that have a factor graph, per
    weight routing enumerates the factor's edges in slot order.
``new_state(params)``
    Per-copy optimizer state (momentum); ``{}`` when there is none.  It lives
    with the parameter copy, not with the routed model.
``epoch(params, state, data, order, route, rng) -> stats``
    One pass over the factors in ``order`` (int64, a subset or permutation of
    ``range(n_factors)``), updating ``params`` in place, **batched over the M
    routed models**: with ``route`` a :class:`Route`, at factor f routed model
    m takes unit u from copy ``route.table[f, u, m]`` (``route=None``: every
    routed model is its own copy), all M routed
    models see the parameters as they were before factor f, and each message
    returns to the copy it came from.  Because every ``table[f, u]`` is a
    permutation, each parameter copy receives exactly one message per factor.
    Random numbers a stochastic rule needs are drawn from ``rng``, one set per
    factor visit, shared by all copies (so copy m of M identity-routed copies
    equals a single model trained from the same seed, bit for bit).
    ``stats`` holds per-copy counts for the epoch: ``errors`` and ``updates``,
    int64 (M,).
``scores(params, X) -> float64 (M, P)`` or ``(M, P, C)``
    The output of each copy on ``X``: a signed field (its sign is the label)
    or class logits.
``errors(params, X, y) -> int64 (M,)`` and ``vote(params, X)``
    Misclassified examples of each copy, and the ensemble's labels (majority
    vote of the copies, or argmax of their mean logits).

Everything here is plain NumPy or Numba; nothing imports ``lifts``.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from fgraph.dtypes import FLOAT, INDEX, as_generator

__all__ = ["GRANULARITIES", "Model", "Route", "data_of", "split_rng"]

GRANULARITIES = ("weight", "neuron", "tensor")


class Route(NamedTuple):
    """How routed models are assembled from the copies during one epoch.

    Attributes
    ----------
    table : ndarray of uint8 or uint16, shape (n_factors, n_units, M)
        ``table[f, u]`` is the permutation of factor f and unit u: routed model
        m at factor f takes unit u from copy ``table[f, u, m]`` and sends its
        message back there.  The smallest unsigned type that holds M-1.
    unit_of : dict of str to ndarray of int64
        For each parameter array, the unit of every entry, flattened in C
        order (from ``Model.units``).
    """

    table: np.ndarray
    unit_of: dict


class Model:
    """Base class of the models in :mod:`algorithms.learning` (see the module docstring)."""

    name = "model"
    granularities: tuple[str, ...] = GRANULARITIES

    # -- helpers every model uses ------------------------------------------------
    def check_granularity(self, granularity) -> str:
        """Return ``granularity`` if this model has it, else raise ValueError naming the valid ones."""
        if not isinstance(granularity, str) or granularity not in self.granularities:
            valid = ", ".join(repr(g) for g in self.granularities)
            raise ValueError(
                f"granularity {granularity!r} is not one the {self.name} model has; valid: {valid}"
            )
        return granularity

    def param_shapes(self, n_in: int) -> dict[str, tuple[int, ...]]:
        """Shapes of one copy's parameter arrays (from :meth:`init` with a throwaway generator)."""
        return {k: v.shape for k, v in self.init(n_in, np.random.default_rng(0)).items()}

    def check_params(self, params, n_in: int, M: int | None = None, name: str = "init") -> dict:
        """Validated float64 copies of user-given parameters.

        ``M=None``: one copy (shapes as :meth:`param_shapes`); an int: a leading
        copy axis of length M.  Raises ValueError naming the offending key.
        """
        if not isinstance(params, Mapping):
            raise TypeError(f"{name} must be a dict of arrays, got {type(params).__name__}")
        shapes = self.param_shapes(n_in)
        if set(params) != set(shapes):
            raise ValueError(
                f"{name} must have the keys {sorted(shapes)} of the {self.name} model, got {sorted(params)}"
            )
        out = {}
        for key, shape in shapes.items():
            want = shape if M is None else (M, *shape)
            arr = np.asarray(params[key])
            if arr.shape != want:
                raise ValueError(f"{name}[{key!r}] must have shape {want}, got {arr.shape}")
            if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
                raise TypeError(f"{name}[{key!r}] must be real numbers, got dtype {arr.dtype}")
            arr = np.array(arr, dtype=FLOAT, order="C", copy=True)
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{name}[{key!r}] has non-finite entries")
            out[key] = arr
        return out

    def new_state(self, params: dict) -> dict:
        """Per-copy optimizer state (none by default)."""
        return {}

    def n_factors(self, data) -> int:
        """Factors per epoch: one per example (online rules)."""
        return int(data.X.shape[0])

    def identify(self) -> str:
        """One line naming the model and its settings."""
        fields = getattr(self, "__dataclass_fields__", {})
        args = ",".join(f"{k}={getattr(self, k)!r}" for k in fields)
        return f"{type(self).__name__}({args})"


def data_of(problem, labels: str = "sign") -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` of a learning problem: float64 (P, D) C-contiguous and (P,).

    ``problem`` is a :class:`fgraph.problems.Problem` with ``F`` and ``y``, or
    an ``(X, y)`` pair.  ``labels='sign'`` requires y in {-1, +1};
    ``'class'`` requires integer class labels 0..C-1 (returned as int64);
    ``'raw'`` checks the shape only (the model's ``prepare`` validates).
    """
    if isinstance(problem, (tuple, list)) and len(problem) == 2:
        X, y = problem
    else:
        X, y = getattr(problem, "F", None), getattr(problem, "y", None)
        if X is None or y is None:
            raise TypeError(
                "problem must be a learning problem with data F and labels y, or an (X, y) pair; "
                f"got {type(problem).__name__}"
            )
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"the data X must be a non-empty 2-D array (P, D), got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.number) or np.iscomplexobj(X):
        raise TypeError(f"the data X must be real numbers, got dtype {X.dtype}")
    X = np.ascontiguousarray(X, dtype=FLOAT)
    if not np.all(np.isfinite(X)):
        raise ValueError("the data X has non-finite entries")
    y = np.asarray(y)
    if y.shape != (X.shape[0],):
        raise ValueError(f"the labels y must have shape ({X.shape[0]},) (one per row of X), got {y.shape}")
    if labels == "sign":
        yf = np.ascontiguousarray(y, dtype=FLOAT)
        if not np.all((yf == 1.0) | (yf == -1.0)):
            bad = yf[(yf != 1.0) & (yf != -1.0)][:3].tolist()
            raise ValueError(f"the labels y must be -1 or +1 for this model, got values such as {bad}")
        return X, yf
    if labels == "class":
        if not (np.issubdtype(y.dtype, np.integer) or np.all(np.asarray(y, float) == np.round(y))):
            raise ValueError("the labels y must be integer class indices 0..C-1 for this model")
        yi = np.ascontiguousarray(y, dtype=INDEX)
        if yi.min() < 0:
            raise ValueError(f"class labels must be >= 0, got {int(yi.min())}")
        return X, yi
    if labels == "raw":
        return X, np.ascontiguousarray(y)
    raise ValueError(f"labels must be 'sign', 'class' or 'raw', got {labels!r}")


def split_rng(seed) -> tuple[np.random.Generator, ...]:
    """Four independent streams from one seed: ``(init, order, routing, test)``.

    ``init`` draws the starting parameters, ``order`` the visiting order of
    each epoch and every random number a rule uses, ``routing`` the
    permutations, ``test`` fresh test data.  Keeping them apart is what makes
    routed copies comparable with single models trained from the same seed.
    """
    return tuple(as_generator(seed).spawn(4))


def check_positive_int(value, name: str, lo: int = 1) -> int:
    """``int(value)`` if it is an int >= lo, else TypeError/ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < lo:
        raise ValueError(f"{name} must be >= {lo}, got {value}")
    return int(value)


def check_real(value, name: str, lo: float | None = None, lo_open: bool = False,
               hi: float | None = None) -> float:
    """``float(value)`` if finite and in range, else TypeError/ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    if lo is not None and (v <= lo if lo_open else v < lo):
        raise ValueError(f"{name} must be {'>' if lo_open else '>='} {lo}, got {v}")
    if hi is not None and v > hi:
        raise ValueError(f"{name} must be <= {hi}, got {v}")
    return v
