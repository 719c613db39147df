"""Permutation routing across model copies: :func:`route` and :class:`RoutedRun`.

A model is replicated M times.  At each factor (an example, or a fixed
minibatch) the model's own local rule runs on M *routed models*: routed model
m takes each routing unit u (a weight, a neuron's incoming weights, or a whole
tensor) from copy ``pi_{f,u}(m)``, and the message the rule computes for that
unit returns to the copy it came from (docs/theory.md §7.1-7.3).  The
permutations ``pi_{f,u}`` are drawn from a kernel Q (:mod:`lifts.kernels`),
once for the run (a *static* cover, the default: a true M-cover of the
problem's factor graph) or afresh at every visit (*dynamic*).

The engine is the model's own epoch (:mod:`algorithms.learning`), batched over
the M routed models; this module draws and stores the routing tables, runs the
epochs, and scores the copies, their ensemble and freshly routed models.

Invariants (tested): with ``Identity()`` or M = 1 copy m equals
``algorithms.learning.train(..., init=init[m], seed=seed)`` bit for bit; each
parameter copy receives exactly one message per factor per epoch; identical
starts and a deterministic rule keep all copies equal under any kernel.
"""

from __future__ import annotations

import functools
import numbers
from dataclasses import dataclass, field

import numpy as np

from algorithms.learning import (
    Model,
    Route,
    copy_and_ensemble_errors,
    data_of,
    epoch_loop,
    split_rng,
    teacher_test_set,
)
from fgraph.dtypes import FLOAT, INDEX, FrozenPickle, as_generator

from .cover import Lift, _check_M, _check_perms, lift
from .kernels import Kernel, from_spec

__all__ = ["RoutedRun", "route", "routing_dtype"]

N_TEST = 10_000


def routing_dtype(M: int) -> np.dtype:
    """The smallest unsigned integer type that holds copy indices ``0..M-1``."""
    if M <= 256:
        return np.dtype(np.uint8)
    if M <= 65536:
        return np.dtype(np.uint16)
    raise ValueError(f"M = {M} is too large for routing tables (at most 65536 copies)")


def _check_kernel(kernel, M: int) -> Kernel:
    if isinstance(kernel, str):
        kernel = from_spec(kernel)
    if not isinstance(kernel, Kernel):
        raise TypeError(f"kernel must be a lifts.Kernel or a spec string such as 'ring:1', "
                        f"got {type(kernel).__name__}")
    kernel.Q(M)  # raises ValueError when the kernel does not fit M (a matrix of another size, blocks)
    return kernel


SAMPLE_CHUNK = 1 << 24  # entries per kernel.sample call: bounds the int64 transient to 128 MB


def _draw_table(kernel: Kernel, n_factors: int, n_units: int, M: int, rng) -> np.ndarray:
    """Routing table (n_factors, n_units, M) of the smallest unsigned dtype, one permutation per (f, u).

    Kernels return int64 permutations; large tables are drawn in blocks of
    whole factors (in order, from the same stream) and narrowed block by
    block, so the peak memory stays near the compact table itself.
    """
    table = np.empty((n_factors, n_units, M), dtype=routing_dtype(M))
    step = max(1, SAMPLE_CHUNK // max(1, n_units * M))
    for f0 in range(0, n_factors, step):
        f1 = min(n_factors, f0 + step)
        table[f0:f1] = kernel.sample((f1 - f0) * n_units, M, rng).reshape(f1 - f0, n_units, M)
    return table


def gather(params: dict, unit_of: dict, perm: np.ndarray) -> dict:
    """Routed models assembled from the copies: unit u of routed model m from copy ``perm[u, m]``.

    ``params`` arrays carry a leading copy axis M; ``unit_of[name]`` gives each
    entry's unit; ``perm`` is int (n_units, M).  Returns new arrays of the
    same shapes.
    """
    out = {}
    for name, arr in params.items():
        M = arr.shape[0]
        flat = arr.reshape(M, -1)
        u = np.asarray(unit_of[name]).ravel()
        src = np.asarray(perm)[u].T.astype(INDEX)  # (M, n): copy each routed entry comes from
        out[name] = flat[src, np.arange(flat.shape[1])].reshape(arr.shape)
    return out


@dataclass(frozen=True, eq=False)
class RoutedRun(FrozenPickle):  # pickles equal, read-only arrays and proxies kept
    """The result of :func:`route`.

    Attributes
    ----------
    params : dict of str to ndarray of float64
        The trained copies: each array as in ``model.init`` with a leading copy
        axis of length M.
    perms : ndarray of uint8 or uint16, shape (n_factors * n_units, M), or None
        The static routing: row ``f * n_units + u`` is the permutation of
        factor f and unit u (routed model m took unit u from copy
        ``perms[row, m]``).  For per-weight routing of the perceptron and the
        committee, rows are the edges of the problem's factor graph in order.
        None for dynamic routing (redrawn every visit).
    history : dict of str to ndarray of float64, shape (epochs, M)
        Per epoch and copy: ``errors`` (fraction of factor visits the routed
        model got wrong), ``updates`` (fraction that sent a message) and, for
        teacher-student perceptrons, ``gen_error`` (exact, at the epoch's end).
    copy_gen_errors : ndarray of float64, shape (M,), or None
        Each copy's generalization error: exact ``arccos(R)/pi`` for the
        teacher-student perceptron, else the error on the fresh teacher test
        set or on ``test``; None when there is neither.
    ensemble_error : float or None
        Error of the copies' majority vote (mean logits for the MLP) on the
        same test data.
    routed_error : float or None
        Mean error of M freshly routed models (one new permutation per unit
        from the kernel) on the same test data.
    model, kernel, M, granularity, dynamic, epochs, seed
        The settings (``kernel`` is the kernel object; ``epochs`` those run).
    problem
        The training problem (for :attr:`lift`).
    """

    params: dict
    perms: np.ndarray | None
    history: dict
    copy_gen_errors: np.ndarray | None
    ensemble_error: float | None
    routed_error: float | None
    model: Model
    kernel: Kernel
    M: int
    granularity: str
    dynamic: bool
    epochs: int
    seed: object
    problem: object = field(repr=False)
    unit_of: dict = field(repr=False)

    @functools.cached_property
    def lift(self) -> Lift | None:
        """The M-cover of the problem's factor graph wired by the training permutations.

        Factor copy (mu, m) of the lift reads weight j from copy
        ``perms[mu * n_units + unit(j), m]``, the routed model of training, so
        girth, cycle counts and :func:`lifts.lift_cycle_table` describe the
        routed training graph.  Built on first access (O(M x edges) memory).
        None for dynamic routing, for models whose factors are minibatches,
        and for problems without a factor graph (``graph=False``, the MLP).
        """
        graph = getattr(self.problem, "graph", None)
        if self.perms is None or graph is None or self.model.name not in ("perceptron", "committee"):
            return None
        u = np.ascontiguousarray(self.unit_of[next(iter(self.unit_of))]).ravel()
        n_units = int(u.max()) + 1
        table = self.perms.reshape(-1, n_units, self.M)
        edge_perms = table[:, u, :].reshape(-1, self.M)
        if edge_perms.shape[0] != graph.n_edge:
            return None
        return lift(graph, self.M, perms=edge_perms.astype(INDEX))

    def evaluate(self, X, y, n_routed: int = 1, seed=None) -> dict:
        """Score the copies, their ensemble and freshly routed models on data (X, y).

        Parameters
        ----------
        X : array_like of float, shape (P, D)
        y : array_like, shape (P,)
            Labels as the model takes them (+-1, or class indices for the MLP).
        n_routed : int >= 0
            Fresh routings to draw (each gives M routed models).
        seed : int, numpy Generator or None
            For the fresh permutations.

        Returns
        -------
        dict
            ``copy_errors`` float64 (M,), ``ensemble_error`` float,
            ``routed_errors`` float64 (n_routed, M) (empty when n_routed = 0).
        """
        X, y = data_of((X, y), labels=getattr(self.model, "labels", "sign"))
        copy_errs, ens = copy_and_ensemble_errors(self.model, self.params, X, y)
        rng = as_generator(seed)
        n_units = int(max(int(np.max(u)) for u in self.unit_of.values())) + 1
        routed = np.empty((int(n_routed), self.M), dtype=FLOAT)
        for r in range(int(n_routed)):
            perm = self.kernel.sample(n_units, self.M, rng)
            routed[r] = self.model.errors(gather(self.params, self.unit_of, perm), X, y) / y.size
        return {"copy_errors": copy_errs, "ensemble_error": ens, "routed_errors": routed}


def _n_in(data) -> int:
    return int(data.X.shape[1])


def route(problem, model, M, kernel, *, epochs, seed=None, init=None, granularity="weight",
          dynamic=False, perms=None, callback=None, test=None, n_test=N_TEST) -> RoutedRun:
    """Train M copies of a model with permutation routing along a kernel Q.

    Parameters
    ----------
    problem : Problem or (X, y)
        A learning problem (``fgraph.problems.perceptron``, ``committee``, or
        data for the MLP).
    model : algorithms.learning.Model
        ``Perceptron``, ``Committee`` or ``MLP``: its rule is the local rule.
    M : int >= 1
        Number of copies.
    kernel : Kernel or str
        The mixing kernel (``Identity()``, ``Uniform()``, ``Ring(width)``, ... or
        a spec such as ``"ring:1"``); it must fit M.
    epochs : int >= 1
    seed : int, numpy Generator or None
        One seed for the run, split into independent streams for the initial
        copies, the visiting order (shared by all copies, and equal to that of
        ``algorithms.learning.train`` with the same seed), the permutations and
        the test set.
    init : dict of arrays with a leading axis M, optional
        Starting copies (default: drawn independently from ``model.init``).
    granularity : {'weight', 'neuron', 'tensor'}
        The routing unit.
    dynamic : bool
        Redraw the permutations at every visit instead of fixing one cover.
    perms : array_like of int, shape (n_factors * n_units, M), optional
        An explicit static routing (then ``kernel`` only serves fresh routed
        evaluations); each row a permutation of ``0..M-1``.
    callback : callable, optional
        ``callback(epoch, params, stats)`` after each epoch; True stops the run.
    test : (X, y), optional
        Held-out data for the scores when the problem has no teacher.
    n_test : int >= 1
        Size of the fresh teacher test set (teacher-student problems).

    Returns
    -------
    RoutedRun

    Raises
    ------
    TypeError, ValueError
        M < 1, a kernel that does not fit M, a granularity the model does not
        have, epochs < 1, data or ``init`` whose shape does not match the model,
        ``perms`` of the wrong shape or not permutations, ``dynamic`` with ``perms``.

    Examples
    --------
    >>> import numpy as np
    >>> from fgraph.problems import perceptron
    >>> from algorithms.learning import Perceptron
    >>> from lifts import Ring, route
    >>> prob = perceptron(101, 2.0, seed=0)
    >>> run = route(prob, Perceptron(), 4, Ring(1.0), epochs=10, seed=1, n_test=2000)
    >>> run.params["h"].shape, run.perms.shape, run.copy_gen_errors.shape
    ((4, 101), (20402, 4), (4,))
    >>> bool(np.array_equal(run.lift.perms, run.perms))     # the routed training graph
    True
    >>> 0.0 <= run.ensemble_error <= 0.5
    True
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be an algorithms.learning model (Perceptron, Committee, MLP), "
                        f"got {type(model).__name__}")
    M = _check_M(M)
    kernel = _check_kernel(kernel, M)
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral):
        raise TypeError(f"epochs must be an int, got {type(epochs).__name__}")
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    granularity = model.check_granularity(granularity)
    if not isinstance(dynamic, (bool, np.bool_)):
        raise TypeError(f"dynamic must be True or False, got {dynamic!r}")
    if dynamic and perms is not None:
        raise ValueError("dynamic=True redraws the permutations at every visit; it cannot take fixed perms")

    init_rng, order_rng, perm_rng, test_rng = split_rng(seed)
    X, y = data_of(problem, labels=getattr(model, "labels", "sign"))
    data = model.prepare(X, y, order_rng)
    n_in = _n_in(data)
    if init is None:
        ones = [model.init(n_in, init_rng) for _ in range(M)]
        params = {k: np.ascontiguousarray(np.stack([o[k] for o in ones]), dtype=FLOAT) for k in ones[0]}
    else:
        params = model.check_params(init, n_in, M)
    state = model.new_state(params)
    unit_shaped, n_units = model.units(granularity, n_in)
    unit_of = {k: np.ascontiguousarray(v, dtype=INDEX).ravel() for k, v in unit_shaped.items()}
    n_fac = model.n_factors(data)

    if perms is not None:
        p = np.asarray(perms)
        if not np.issubdtype(p.dtype, np.integer):
            raise TypeError(f"perms must be integers, got dtype {p.dtype}")
        _check_perms(p, n_fac * n_units, M)
        table = np.ascontiguousarray(p, dtype=routing_dtype(M)).reshape(n_fac, n_units, M)
    elif dynamic:
        table = None
    else:
        table = _draw_table(kernel, n_fac, n_units, M, perm_rng)

    def route_of_epoch(e):
        if table is not None:
            return Route(table, unit_of)
        return Route(_draw_table(kernel, n_fac, n_units, M, perm_rng), unit_of)

    extra = None
    if model.gen_errors(params, problem) is not None:
        def extra(e, prm):
            return {"gen_error": model.gen_errors(prm, problem)}

    history, run = epoch_loop(model, params, state, data, int(epochs), order_rng,
                                         route_of_epoch=route_of_epoch, callback=callback, extra=extra)

    test_data = teacher_test_set(problem, n_test, test_rng) if test is None else data_of(
        test, labels=getattr(model, "labels", "sign"))
    gen = model.gen_errors(params, problem)
    ens = routed_err = None
    if test_data is not None:
        Xt, yt = test_data
        copy_errs, ens = copy_and_ensemble_errors(model, params, Xt, yt)
        if gen is None:
            gen = copy_errs
        perm = kernel.sample(n_units, M, test_rng)
        routed_err = float(np.mean(model.errors(gather(params, unit_of, perm), Xt, yt)) / len(yt))
    return RoutedRun(
        params=params,
        perms=None if table is None else table.reshape(n_fac * n_units, M),
        history=history,
        copy_gen_errors=None if gen is None else np.asarray(gen, dtype=FLOAT),
        ensemble_error=ens,
        routed_error=routed_err,
        model=model,
        kernel=kernel,
        M=M,
        granularity=granularity,
        dynamic=bool(dynamic),
        epochs=run,
        seed=seed if not isinstance(seed, np.random.Generator) else None,
        problem=problem,
        unit_of=unit_of,
    )
