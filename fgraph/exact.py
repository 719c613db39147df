r"""Exact inference: log Z, marginals, factor marginals and MAP by variable elimination.

This module is the oracle of the project: every approximate method is tested
against it.  The model is

.. math::  p(x) = Z^{-1} \prod_a \psi_a(x_{\partial a}) \prod_i \phi_i(x_i),

with ``log psi_a = graph.log_table(a)`` and ``log phi_i = graph.var_unary[i]``
(the graph's own evidence, plus the ``evidence`` argument).  All numerics are in
the log domain: potentials are never multiplied, ``-inf`` (a hard zero) is
allowed anywhere, and a log-sum-exp (LSE) over only ``-inf`` gives ``-inf``,
never NaN.

Algorithm
---------
1. **Reduction.**  Variable ``i`` is restricted to its support
   ``{x : phi_i(x) > 0}``; hard evidence leaves one state.  States that some
   factor forbids in every configuration are pruned too, repeatedly until
   nothing changes (they have probability 0).  Variables with one state left
   are *fixed*: they are sliced out of every factor table, and a factor left
   with an empty scope becomes a constant.
2. **Ordering.**  Greedy elimination on the interaction graph of the free
   variables: min-fill (ties: min-weight, the product of the cardinalities of
   the cluster, then the variable index).  Eliminating ``v`` makes the cluster
   ``C_v = {v} + N(v)`` and the separator ``S_v = C_v - {v}``.  The plan is
   refused (ValueError) if ``log2 max_v |table(C_v)|`` exceeds ``max_width``.
3. **Forward (collect) pass** over the bucket tree, in elimination order.  The
   parent of ``C_v`` is the cluster of the earliest-eliminated variable of
   ``S_v``; factor ``a`` sits in the bucket of its earliest-eliminated variable::

       B_v(x_C)    = log phi_v + sum_{a in bucket v} log psi_a + sum_{c child of v} m_{c->v}
       m_{v->p}(x_S) = LSE_{x_v} B_v          (sum-product: LSE with a max shift)
                     = max_{x_v} B_v          (max-product, keeping argmax tables)
       log Z       = sum_{roots r} m_r + constants of the reduction.

   Cluster tables keep their axes sorted by elimination step, so ``v`` is axis
   0 and every table or message is added by a broadcasting reshape (no
   transposes).
4. **Backward (distribute) pass**, Hugin style, in reverse order::

       b_v(x_C)      = B_v + m_{p->v}
       m_{v->c}(x_S) = LSE_{C_v - S_c} b_v  -  m_{c->v}      (-inf where m_{c->v} = -inf)
       p(x_v) ~ exp LSE_{C_v - v} b_v,     p(x_a) ~ exp LSE_{C_v - a} b_v.

   Only messages are stored; cluster tables are recomputed on the way back.
5. **MAP** backtracks in reverse elimination order: ``x_v`` is read from the
   argmax table of ``v`` at the already decoded ``x_{S_v}``, so the state is
   jointly consistent even when max-marginals tie (libDAI ``maxprodbug.fg``).

**Parity systems** (``method='gf2'``, chosen by ``'auto'`` when it applies):
if every factor is a hard parity check (a table equal to a constant ``c`` on one
parity class and ``-inf`` on the other) and every free variable is binary with
uniform evidence, the weight is uniform on the solutions of ``H x = t`` over
GF(2).  Gaussian elimination gives ``log Z = const + (n_free - rank) log 2``
(``-inf`` if inconsistent); in reduced row echelon form a variable is
determined iff its pivot row has no free column, and is uniform otherwise.
Factor marginals always use elimination.  This works at any induced width
(the (96, 48) Gallager code of the external data has min-fill width 58).

Cost: each pass takes time proportional to ``sum_v |table(C_v)|``.  Memory:
a cluster table and one scratch copy, plus the stored messages (one separator
table per variable) for marginals, or argmax tables (one byte per separator
entry up to 256 states) for MAP.  The 10x10 torus of UAI'14 ``Grids_11``
(induced width 23, tables of 2^24 entries) takes about 1 s for log Z and 2-3 s
for all marginals.

:func:`brute_force` enumerates every joint state through
:meth:`CompiledGraph.log_score` (a code path independent of ``log_table``) and
serves as the oracle of the elimination code on small graphs.

Examples
--------
>>> import numpy as np, fgraph
>>> g = fgraph.FactorGraph()
>>> _ = g.add_variables(3)
>>> _ = g.add_ising([[0, 1], [1, 2], [2, 0]], J=0.5)
>>> cg = g.compile()
>>> bool(np.isclose(log_z(cg), brute_force(cg).log_z))
True
"""

from __future__ import annotations

import heapq
import logging
import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .compiled import CompiledGraph, _evidence_items
from .dtypes import FLOAT, INDEX, FrozenPickle
from .problems.ldpc import gf2_rank

__all__ = [
    "DEFAULT_MAX_STATES",
    "DEFAULT_MAX_WIDTH",
    "HEURISTICS",
    "BruteForce",
    "EliminationOrder",
    "ExactResult",
    "brute_force",
    "elimination_order",
    "factor_marginals",
    "hard_parity_consistent",
    "infer",
    "log_z",
    "map_state",
    "marginals",
]

logger = logging.getLogger(__name__)

#: Default limit on log2 of the number of entries of the largest cluster table.
DEFAULT_MAX_WIDTH = 25.0
#: Default limit on the number of joint states that :func:`brute_force` enumerates.
DEFAULT_MAX_STATES = 2**22
#: Elimination heuristics understood by :func:`elimination_order`.
HEURISTICS = ("min-fill", "min-weight", "min-degree")
_METHODS = ("auto", "ve", "gf2", "brute")
_CHUNK = 2**16  # joint states per log_score call in brute force


# ============================================================== public values
@dataclass(frozen=True, eq=False)
class EliminationOrder:
    """An elimination order and the size of the clusters it creates.

    Unpacks as ``order, width = elimination_order(graph)``.

    Attributes
    ----------
    order : ndarray of int64, shape (n_var,)
        A permutation of the variables.  Variables left with one allowed state
        (observed, of cardinality 1, or forced by hard zeros) come first, then
        the free variables in elimination order.
    width : int
        Induced width: number of variables of the largest cluster minus one
        (counting free variables only).
    log2_size : float
        log2 of the number of entries of the largest cluster table (the
        quantity that ``max_width`` bounds; ``width + 1`` for binary variables).
    """

    order: np.ndarray
    width: int
    log2_size: float

    def __iter__(self):
        return iter((self.order, self.width))


@dataclass(frozen=True, eq=False)
class ExactResult:
    """Exact sum-product results.

    Attributes
    ----------
    log_z : float
        Natural log of the partition function (finite: ``Z > 0``).
    marginals : list of ndarray of float64, shape (card[i],)
        ``p(x_i)``, one array per variable.
    factor_marginals : list of ndarray of float64, shape ``tuple(scope_cards(a))``, or None
        ``p(x_{scope(a)})`` in the factor's argument order, if requested.
    """

    log_z: float
    marginals: list
    factor_marginals: list | None


@dataclass(frozen=True, eq=False)
class BruteForce(FrozenPickle):  # pickles equal, read-only arrays and proxies kept
    """Everything exact, by enumeration of all joint states.

    Attributes
    ----------
    log_z : float
        Natural log of Z (``-inf`` if Z = 0).
    log_weights : ndarray of float64, shape (prod(card),)
        Unnormalised log-weight of every joint state, C order over the
        variables (variable ``n_var - 1`` changes fastest).
    marginals : list of ndarray of float64, shape (card[i],), or None
        ``p(x_i)``; None if Z = 0.
    factor_marginals : list of ndarray of float64, shape ``tuple(scope_cards(a))``, or None
        ``p(x_{scope(a)})`` in argument order; None if Z = 0.
    map_state : ndarray of int64, shape (n_var,), or None
        A most probable state (the first in C order among ties); None if Z = 0.
    map_score : float
        Its log-score (``-inf`` if Z = 0).
    """

    log_z: float
    log_weights: np.ndarray
    marginals: list | None
    factor_marginals: list | None
    map_state: np.ndarray | None
    map_score: float


# ================================================================ public API
def log_z(graph, evidence=None, *, max_width=DEFAULT_MAX_WIDTH, method="auto") -> float:
    """Natural log of the partition function ``Z``.

    Parameters
    ----------
    graph : CompiledGraph
    evidence : mapping {variable: state}, optional
        Extra hard evidence (variables by index or by name), on top of the
        graph's own ``var_unary``.
    max_width : float
        Largest allowed log2 of the number of entries of a cluster table
        (default 25: 256 MiB per table).  ``None`` or ``inf`` means no limit.
    method : {'auto', 've', 'gf2', 'brute'}
        ``'ve'``: variable elimination.  ``'gf2'``: Gaussian elimination over
        GF(2) for hard parity checks with uniform (or hard) evidence, where it
        counts the solutions at any width (LDPC codes, BEC decoding).
        ``'brute'``: enumeration (:func:`brute_force`).  ``'auto'`` uses
        ``'gf2'`` when it applies and ``'ve'`` otherwise.

    Returns
    -------
    float
        ``log Z``; ``-inf`` if ``Z = 0`` (contradictory evidence or hard
        constraints).

    Raises
    ------
    TypeError
        If ``graph`` is not a CompiledGraph or the evidence is malformed.
    ValueError
        If the evidence names unknown variables or states, or the elimination
        plan exceeds ``max_width``.

    Examples
    --------
    Two spins with coupling J = 1: Z = 2e + 2/e.

    >>> import fgraph
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(2)
    >>> _ = g.add_ising([0, 1], J=1.0)
    >>> round(log_z(g.compile()), 6)
    1.820075
    >>> round(log_z(g.compile(), {0: 1}), 6)       # log(e + 1/e)
    1.126928
    """
    graph = _check_graph(graph)
    method = _pick_method(method, max_width)
    if method == "brute":
        return brute_force(graph, evidence).log_z
    red = _reduce(graph, evidence)
    if red.zero:
        return -math.inf
    gf2 = _gf2_for(red, method)
    if gf2 is not None:
        return gf2.log_z
    plan = _plan(red, "min-fill", max_width)
    value, _ = _forward(red, plan, mode="sum", keep=False)
    return value


def marginals(graph, evidence=None, *, max_width=DEFAULT_MAX_WIDTH, method="auto") -> list:
    """Exact marginal distribution of every variable.

    One forward and one backward pass over the bucket tree give all marginals.

    Parameters
    ----------
    graph : CompiledGraph
    evidence : mapping {variable: state}, optional
    max_width : float
        See :func:`log_z`.
    method : {'auto', 've', 'gf2', 'brute'}
        See :func:`log_z`.

    Returns
    -------
    list of ndarray of float64, shape (card[i],)
        ``p(x_i)`` for ``i = 0..n_var-1``; each sums to 1.

    Raises
    ------
    ValueError
        If ``Z = 0`` (the marginals are undefined), or as :func:`log_z`.

    Examples
    --------
    >>> import fgraph
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(2)
    >>> _ = g.add_factor([0, 1], [[1.0, 2.0], [3.0, 4.0]])
    >>> [m.round(3).tolist() for m in marginals(g.compile())]
    [[0.3, 0.7], [0.4, 0.6]]
    >>> [m.round(3).tolist() for m in marginals(g.compile(), {1: 0})]
    [[0.25, 0.75], [1.0, 0.0]]
    """
    return infer(graph, evidence, max_width=max_width, method=method).marginals


def factor_marginals(graph, evidence=None, *, max_width=DEFAULT_MAX_WIDTH, method="auto") -> list:
    """Exact joint distribution of the scope of every factor.

    Parameters
    ----------
    graph : CompiledGraph
    evidence : mapping {variable: state}, optional
    max_width : float
        See :func:`log_z`.
    method : {'auto', 've', 'gf2', 'brute'}
        See :func:`log_z`.

    Returns
    -------
    list of ndarray of float64, shape ``tuple(graph.scope_cards(a))``
        ``p(x_{scope(a)})`` for ``a = 0..n_fac-1``, axes in argument order.

    Raises
    ------
    ValueError
        If ``Z = 0``, or as :func:`log_z`.

    Examples
    --------
    >>> import fgraph
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(2)
    >>> _ = g.add_factor([1, 0], [[1.0, 2.0], [3.0, 4.0]])
    >>> factor_marginals(g.compile())[0].round(3).tolist()
    [[0.1, 0.2], [0.3, 0.4]]
    """
    return infer(graph, evidence, max_width=max_width, method=method, factors=True).factor_marginals


def infer(graph, evidence=None, *, max_width=DEFAULT_MAX_WIDTH, method="auto", factors=False) -> ExactResult:
    """log Z, all variable marginals and (optionally) all factor marginals at once.

    Parameters
    ----------
    graph : CompiledGraph
    evidence : mapping {variable: state}, optional
    max_width : float
        See :func:`log_z`.
    method : {'auto', 've', 'gf2', 'brute'}
        See :func:`log_z`.
    factors : bool
        Also compute the factor marginals.

    Returns
    -------
    ExactResult

    Raises
    ------
    ValueError
        If ``Z = 0``, or as :func:`log_z`.

    Examples
    --------
    >>> import fgraph
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(2)
    >>> _ = g.add_ising([0, 1], J=1.0)
    >>> res = infer(g.compile(), factors=True)
    >>> round(res.log_z, 6), res.marginals[0].tolist()
    (1.820075, [0.5, 0.5])
    >>> res.factor_marginals[0].round(4).tolist()
    [[0.4404, 0.0596], [0.0596, 0.4404]]
    """
    graph = _check_graph(graph)
    method = _pick_method(method, max_width)
    if method == "brute":
        bf = brute_force(graph, evidence)
        if bf.marginals is None:
            raise ValueError(_ZERO_MSG)
        return ExactResult(bf.log_z, bf.marginals, bf.factor_marginals if factors else None)
    if factors and method == "gf2":
        raise ValueError("method='gf2' gives no factor marginals; use method='ve' or 'brute'")
    red = _reduce(graph, evidence)
    if red.zero:
        raise ValueError(_ZERO_MSG)
    gf2 = _gf2_for(red, "ve" if factors else method)
    if gf2 is not None:
        if gf2.log_z == -math.inf:
            raise ValueError(_ZERO_MSG)
        return ExactResult(gf2.log_z, gf2.marginals(graph, red), None)
    plan = _plan(red, "min-fill", max_width)
    return _sum_product(graph, red, plan, factors)


def map_state(graph, evidence=None, *, max_width=DEFAULT_MAX_WIDTH, method="auto"):
    """A most probable joint state, by max-product elimination and backtracking.

    Parameters
    ----------
    graph : CompiledGraph
    evidence : mapping {variable: state}, optional
    max_width : float
        See :func:`log_z`.
    method : {'auto', 've', 'gf2', 'brute'}
        See :func:`log_z`.

    Returns
    -------
    state : ndarray of int64, shape (n_var,)
        A maximiser of ``graph.log_score`` that satisfies the evidence (jointly
        consistent also when several maximisers exist).
    score : float
        ``graph.log_score(state)``, the maximal unnormalised log-weight.

    Raises
    ------
    ValueError
        If ``Z = 0`` (no state has positive weight), or as :func:`log_z`.

    Examples
    --------
    A tie: ``psi(0,1) = psi(1,0) = 2`` beat ``psi(0,0) = psi(1,1) = 1``.  Both
    variables have tied max-marginals, yet the decoded state is a maximiser.

    >>> import fgraph
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(2)
    >>> _ = g.add_factor([0, 1], [[1.0, 2.0], [2.0, 1.0]])
    >>> x, s = map_state(g.compile())
    >>> x.tolist(), round(s, 6)                     # log 2
    ([1, 0], 0.693147)
    """
    graph = _check_graph(graph)
    method = _pick_method(method, max_width)
    if method == "brute":
        bf = brute_force(graph, evidence)
        if bf.map_state is None:
            raise ValueError(_ZERO_MSG)
        return bf.map_state, bf.map_score
    red = _reduce(graph, evidence)
    if red.zero:
        raise ValueError(_ZERO_MSG)
    gf2 = _gf2_for(red, method)
    if gf2 is not None:
        if gf2.log_z == -math.inf:
            raise ValueError(_ZERO_MSG)
        state = gf2.solution(red)
        return state, float(graph.log_score(state))
    plan = _plan(red, "min-fill", max_width)
    best, args = _forward(red, plan, mode="max", keep=True)
    if best == -math.inf:
        raise ValueError(_ZERO_MSG)
    x = np.zeros(red.n_var, dtype=INDEX)  # local states (index into support)
    for step in range(len(plan.order) - 1, -1, -1):
        v = plan.order[step]
        x[v] = args[step][tuple(x[plan.clusters[step][1:]])]
    state = np.array([red.support[i][x[i]] for i in range(red.n_var)], dtype=INDEX)
    score = float(graph.log_score(state))
    if not abs(score - best) <= 1e-9 * (1.0 + abs(best)):
        raise RuntimeError(  # pragma: no cover - internal consistency check
            f"internal error in exact.map_state: eliminated max {best!r} != log_score {score!r}"
        )
    return state, score


def elimination_order(graph, heuristic="min-fill", evidence=None) -> EliminationOrder:
    """Greedy elimination order and its induced width.

    Parameters
    ----------
    graph : CompiledGraph
    heuristic : {'min-fill', 'min-weight', 'min-degree'}
        Greedy cost: number of fill edges, number of entries of the cluster
        table, or number of neighbours.  Ties go to min-weight, then to the
        lower variable index (so the order is deterministic).
    evidence : mapping {variable: state}, optional
        Observed variables drop out of the graph.

    Returns
    -------
    EliminationOrder
        Unpacks as ``(order, width)``; ``log2_size`` is also available.

    Raises
    ------
    ValueError
        For an unknown heuristic, or if the evidence leaves a variable without
        an allowed state (Z = 0).

    Examples
    --------
    A 4-cycle has induced width 2 (a triangulation adds one chord):

    >>> import fgraph
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(4)
    >>> _ = g.add_ising([[0, 1], [1, 2], [2, 3], [3, 0]])
    >>> order, width = elimination_order(g.compile())
    >>> order.tolist(), width
    ([0, 1, 2, 3], 2)
    >>> elimination_order(g.compile(), evidence={0: 1}).width
    1
    """
    graph = _check_graph(graph)
    if heuristic not in HEURISTICS:
        raise ValueError(f"unknown heuristic {heuristic!r}; choose one of {HEURISTICS}")
    red = _reduce(graph, evidence)
    if red.zero:
        raise ValueError(_ZERO_MSG)
    plan = _plan(red, heuristic, None)
    fixed = np.flatnonzero(red.kcard == 1)
    return EliminationOrder(
        order=np.concatenate([fixed, plan.order]).astype(INDEX),
        width=plan.width,
        log2_size=plan.log2_size,
    )


def brute_force(graph, evidence=None, *, max_states=DEFAULT_MAX_STATES) -> BruteForce:
    """Exact answers by enumerating every joint state (small graphs only).

    The log-weight of each state comes from :meth:`CompiledGraph.log_score`,
    vectorised over chunks of states; nothing is shared with the elimination
    code, so this is an independent check of it.

    Parameters
    ----------
    graph : CompiledGraph
    evidence : mapping {variable: state}, optional
    max_states : int
        Refuse to enumerate more joint states than this (default 2**22).

    Returns
    -------
    BruteForce

    Raises
    ------
    ValueError
        If ``prod(card) > max_states``.

    Examples
    --------
    >>> import fgraph
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(2)
    >>> _ = g.add_factor([0, 1], [[1.0, 2.0], [3.0, 4.0]])
    >>> bf = brute_force(g.compile())
    >>> bf.log_weights.round(4).tolist(), round(bf.log_z, 4)     # log 10
    ([0.0, 0.6931, 1.0986, 1.3863], 2.3026)
    >>> bf.map_state.tolist(), bf.marginals[0].round(3).tolist()
    ([1, 1], [0.3, 0.7])
    """
    graph = _check_graph(graph)
    if isinstance(max_states, bool) or not isinstance(max_states, (int, np.integer)) or max_states < 1:
        raise ValueError(f"max_states must be a positive integer, got {max_states!r}")
    card = tuple(int(c) for c in graph.card)
    n_states = math.prod(card)
    if n_states > max_states:
        raise ValueError(
            f"brute force would enumerate {n_states} joint states (2^{math.log2(n_states):.1f}), "
            f"more than max_states={max_states}; use variable elimination (method='ve') "
            f"or pass a larger max_states"
        )
    vu = _unary_with_evidence(graph, evidence)
    # Evidence only zeroes states: add -inf where it removed a state.
    cut = np.where(np.isneginf(vu) & ~np.isneginf(graph.var_unary), -np.inf, 0.0)
    rows = np.arange(graph.n_var)
    lw = np.empty(n_states, dtype=FLOAT)
    for lo in range(0, n_states, _CHUNK):
        hi = min(lo + _CHUNK, n_states)
        x = np.stack(np.unravel_index(np.arange(lo, hi, dtype=INDEX), card), axis=1).astype(INDEX)
        lw[lo:hi] = graph.log_score(x) + cut[rows, x].sum(axis=1)
    lw.flags.writeable = False
    lz = _lse_all(lw)
    if lz == -math.inf:
        return BruteForce(lz, lw, None, None, None, -math.inf)
    with np.errstate(under="ignore"):
        p = np.exp(lw - lz).reshape(card)
    n = graph.n_var
    margs = [_normalise_p(p.sum(axis=tuple(j for j in range(n) if j != i))) for i in range(n)]
    fmargs = []
    for a in range(graph.n_fac):
        scope = graph.scope(a)
        other = tuple(j for j in range(n) if j not in set(scope.tolist()))
        pa = p.sum(axis=other)  # axes: scope variables in increasing index order
        fmargs.append(_normalise_p(np.transpose(pa, np.argsort(np.argsort(scope)))))
    k = int(np.argmax(lw))
    state = np.array(np.unravel_index(k, card), dtype=INDEX).reshape(n)
    return BruteForce(lz, lw, margs, fmargs, state, float(lw[k]))


# ============================================================ input checking
_ZERO_MSG = (
    "Z = 0: the evidence and the hard constraints (zero potentials) admit no state "
    "of positive weight, so marginals and MAP are undefined"
)


def _check_graph(graph) -> CompiledGraph:
    if isinstance(graph, CompiledGraph):
        return graph
    from .graph import FactorGraph

    hint = " (call .compile() on the FactorGraph first)" if isinstance(graph, FactorGraph) else ""
    raise TypeError(f"graph must be a fgraph.CompiledGraph{hint}, got {type(graph).__name__}")


def _pick_method(method, max_width) -> str:
    if not isinstance(method, str) or method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    _check_max_width(max_width)
    return method


def _check_max_width(max_width) -> float:
    if max_width is None:
        return math.inf
    if isinstance(max_width, bool) or not isinstance(max_width, (int, float, np.integer, np.floating)):
        raise TypeError(f"max_width must be a number (log2 of table entries), got {max_width!r}")
    if math.isnan(max_width) or max_width < 0:
        raise ValueError(f"max_width must be >= 0, got {max_width!r}")
    return float(max_width)


def _unary_with_evidence(graph, evidence) -> np.ndarray:
    """var_unary with the extra evidence applied: float64 (n_var, q_max), a fresh copy."""
    vu = np.array(graph.var_unary, dtype=FLOAT)
    for var, state in _evidence_items(evidence, graph):
        keep = vu[var, state]
        vu[var, :] = -np.inf
        vu[var, state] = keep
    return vu


# =============================================================== reduction
@dataclass
class _Reduced:
    """The model restricted to the support of every variable.

    ``support[i]`` int64 (kcard[i],) allowed states of ``i``; ``unary[i]``
    float64 (kcard[i],) restricted log phi_i (None for fixed variables);
    ``scopes[a]`` int64 free variables of factor ``a`` (argument order) and
    ``tables[a]`` its restricted log table over them; ``const`` collects fixed
    variables' evidence and factors without free variables.
    """

    n_var: int
    support: list
    kcard: np.ndarray
    unary: list
    scopes: list
    tables: list
    const: float
    zero: bool


def _reduce(graph: CompiledGraph, evidence) -> _Reduced:
    vu = _unary_with_evidence(graph, evidence)
    n = graph.n_var
    card = graph.card
    finite = np.isfinite(vu)
    kcard = finite.sum(axis=1).astype(INDEX)
    if np.any(kcard == 0):
        return _Reduced(n, [], kcard, [], [], [], -math.inf, True)
    support = [
        np.arange(int(card[i]), dtype=INDEX)
        if kcard[i] == card[i]
        else np.flatnonzero(finite[i]).astype(INDEX)
        for i in range(n)
    ]
    scopes = [graph.scope(a) for a in range(graph.n_fac)]
    tables = []
    for a, scope in enumerate(scopes):
        t = np.asarray(graph.log_table(a), dtype=FLOAT)
        for ax, i in enumerate(scope):
            if kcard[i] < card[i]:
                t = np.take(t, support[i], axis=ax)
        tables.append(t)
    # Prune states that every configuration of some factor forbids (exact: they have
    # probability 0), until nothing changes.
    var_facs = [[] for _ in range(n)]
    for a, scope in enumerate(scopes):
        for ax, i in enumerate(scope):
            var_facs[i].append((a, ax))
    dirty = set(range(graph.n_fac))
    while dirty:
        masks = {}
        for a in sorted(dirty):
            t = tables[a]
            for ax, i in enumerate(scopes[a]):
                other = tuple(j for j in range(t.ndim) if j != ax)
                alive = (t.max(axis=other) if other else t) > -np.inf
                if not alive.all():
                    masks[i] = masks[i] & alive if i in masks else alive
        dirty = set()
        for i, mask in masks.items():
            keep = np.flatnonzero(mask)
            if keep.size == 0:
                return _Reduced(n, [], kcard, [], [], [], -math.inf, True)
            support[i] = support[i][keep]
            kcard[i] = keep.size
            for a, ax in var_facs[i]:
                tables[a] = np.take(tables[a], keep, axis=ax)
                dirty.add(a)
    fixed = kcard == 1
    const = float(sum(vu[i, support[i][0]] for i in np.flatnonzero(fixed)))
    unary = [None if fixed[i] else vu[i, support[i]] for i in range(n)]
    free_scopes = []
    for a, scope in enumerate(scopes):
        fx = fixed[scope]
        if np.any(fx):
            tables[a] = tables[a][tuple(0 if f else slice(None) for f in fx)]
        free_scopes.append(np.asarray(scope[~fx], dtype=INDEX))
        if tables[a].ndim == 0:
            const += float(tables[a])
    return _Reduced(n, support, kcard, unary, free_scopes, tables, const, const == -math.inf)


# ================================================================ planning
@dataclass
class _Plan:
    """Bucket tree of an elimination order over the free variables.

    ``order`` int64 (n_step,) free variables in elimination order; ``step``
    int64 (n_var,) step of each variable (-1 if fixed); ``clusters[k]`` int64
    cluster of step k sorted by step (first = ``order[k]``); ``parent`` int64
    (n_step,) parent step or -1 at a root; ``children[k]`` and ``bucket[k]``
    (factor ids) are lists.
    """

    order: np.ndarray
    step: np.ndarray
    clusters: list
    parent: np.ndarray
    children: list
    bucket: list
    width: int
    log2_size: float


def _plan(red: _Reduced, heuristic: str, max_width) -> _Plan:
    limit = _check_max_width(max_width)
    free = np.flatnonzero(red.kcard > 1)
    adj = {int(v): set() for v in free}
    for s in red.scopes:
        if s.size > 1:
            sl = s.tolist()
            for u in sl:
                adj[u].update(sl)
    for v, nb in adj.items():
        nb.discard(v)
    kc = {v: int(red.kcard[v]) for v in adj}
    order, nbrs = _greedy(adj, kc, heuristic)
    n_step = len(order)
    step = np.full(red.n_var, -1, dtype=INDEX)
    step[order] = np.arange(n_step, dtype=INDEX)
    clusters, parent = [], np.full(n_step, -1, dtype=INDEX)
    children = [[] for _ in range(n_step)]
    width, log2_size = 0, 0.0
    for k, (v, nb) in enumerate(zip(order, nbrs)):
        s = np.array(sorted(nb, key=lambda u: step[u]), dtype=INDEX)
        clusters.append(np.concatenate([[v], s]).astype(INDEX))
        width = max(width, len(nb))
        log2_size = max(log2_size, float(np.log2(red.kcard[clusters[-1]]).sum()))
        if s.size:
            parent[k] = step[s[0]]
            children[parent[k]].append(k)
    bucket = [[] for _ in range(n_step)]
    for a, s in enumerate(red.scopes):
        if s.size:
            bucket[int(step[s].min())].append(a)
    logger.debug(
        "elimination plan (%s): %d free variables, induced width %d, largest table 2^%.1f",
        heuristic, n_step, width, log2_size,
    )
    if log2_size > limit + 1e-9:
        k = max(range(n_step), key=lambda j: float(np.log2(red.kcard[clusters[j]]).sum()))
        raise ValueError(
            f"exact inference needs a cluster table of 2^{log2_size:.1f} entries "
            f"({len(clusters[k])} variables; induced width {width} with the {heuristic} order), "
            f"above the limit max_width={limit:g} (log2 of table entries). Pass "
            f"max_width={math.ceil(log2_size)} or more to allow it (each such table takes "
            f"{8 * 2.0**log2_size / 2**20:.0f} MiB, and a few exist at once), or use an "
            f"approximate method."
        )
    return _Plan(np.asarray(order, dtype=INDEX), step, clusters, parent, children, bucket, width, log2_size)


def _greedy(adj: dict, kc: dict, heuristic: str):
    """Greedy elimination on the graph ``adj`` (dict var -> set of neighbours; consumed).

    Fill counts (non-adjacent pairs among a variable's neighbours) are updated
    incrementally: eliminating ``v`` removes the pairs through ``v`` at its
    neighbours, and each fill edge ``(x, y)`` removes one missing pair at every
    common neighbour and adds the new missing pairs at ``x`` and ``y``.

    Returns the order (list of vars) and, per step, the neighbours at elimination time.
    """
    fill = {}
    if heuristic == "min-fill":
        for v, nb in adj.items():
            fill[v] = (sum(len(nb - adj[u]) for u in nb) - len(nb)) // 2

    def key(v):
        w = kc[v]
        for u in adj[v]:
            w *= kc[u]
        if heuristic == "min-fill":
            return (fill[v], w, v)
        if heuristic == "min-degree":
            return (len(adj[v]), w, v)
        return (w, v)

    cur = {v: key(v) for v in adj}
    heap = list(cur.values())
    heapq.heapify(heap)
    order, nbrs = [], []
    while heap:
        k = heapq.heappop(heap)
        v = k[-1]
        if cur.get(v) != k:
            continue
        del cur[v]
        nb = adj.pop(v)
        order.append(v)
        nbrs.append(nb)
        touched = set(nb)
        if heuristic == "min-fill":
            for u in nb:
                au = adj[u]
                au.discard(v)
                fill[u] -= len(au - nb)  # pairs (v, z) with z not adjacent to v
            nbl = sorted(nb)
            for ix, x in enumerate(nbl):
                ax = adj[x]
                for y in nbl[ix + 1 :]:
                    if y in ax:
                        continue
                    ay = adj[y]
                    common = ax & ay
                    for z in common:
                        fill[z] -= 1
                    touched |= common
                    fill[x] += len(ax) - len(common)
                    fill[y] += len(ay) - len(common)
                    ax.add(y)
                    ay.add(x)
        else:
            for u in nb:
                au = adj[u]
                au.discard(v)
                au.update(nb)
                au.discard(u)
        for u in touched:
            k2 = key(u)
            if k2 != cur[u]:
                cur[u] = k2
                heapq.heappush(heap, k2)
    return order, nbrs


# ==================================================== GF(2) linear systems
def hard_parity_consistent(graph) -> bool:
    """Whether the hard constraints of the model leave any state of positive weight, as far as a
    GF(2) check sees.

    Returns False when some variable has no allowed state (every evidence entry
    zero), or when the hard parity checks of the graph (factors of the built-in
    ``parity`` type with ``weight=inf``), with the hard evidence on their
    variables, have no common solution: then Z = 0.  Gaussian elimination over
    GF(2) decides the linear system exactly, at any induced width.  True does
    not prove Z > 0 (other factors may still exclude every solution).

    Parameters
    ----------
    graph : CompiledGraph

    Returns
    -------
    bool

    Examples
    --------
    >>> import fgraph
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(3)
    >>> _ = g.add_parity([[0, 1], [1, 2]], target=0); _ = g.add_parity([0, 2], target=1)
    >>> hard_parity_consistent(g.compile())          # x0 = x1 = x2 and x0 != x2
    False
    >>> hard_parity_consistent(g.compile().with_evidence({0: 1}))
    False
    >>> g2 = fgraph.FactorGraph(); _ = g2.add_variables(3); _ = g2.add_parity([0, 1, 2], target=1)
    >>> hard_parity_consistent(g2.compile().with_evidence({0: 1, 1: 1}))
    True
    """
    graph = _check_graph(graph)
    allowed = np.isfinite(graph.var_unary) & (np.arange(graph.q_max)[None, :] < graph.card[:, None])
    n_allowed = allowed.sum(axis=1)
    if np.any(n_allowed == 0):
        return False
    # a binary variable with one allowed state is fixed by hard evidence
    fixed = np.full(graph.n_var, -1, dtype=INDEX)
    one = (n_allowed == 1) & (graph.card == 2)
    fixed[one] = np.argmax(allowed[one], axis=1)
    cols, rows, targets = [], [], []
    for t, name in enumerate(graph.types):
        if name != "parity":
            continue
        p = graph.params[t]
        for a in range(int(graph.type_ptr[t]), int(graph.type_ptr[t + 1])):
            r = int(graph.fac_param[a])
            if not math.isinf(float(p["weight"][r])):
                continue
            scope = graph.edge_var[graph.fac_ptr[a]:graph.fac_ptr[a + 1]]
            known = fixed[scope]
            tgt = (int(p["target"][r]) + int(known[known >= 0].sum())) % 2
            free = scope[known < 0]
            if free.size == 0:
                if tgt:
                    return False
                continue
            cols.append(free)
            rows.append(np.full(free.size, len(targets), dtype=INDEX))
            targets.append(tgt)
    if not any(targets):  # homogeneous: x = 0 solves it
        return True
    m = len(targets)
    H = sp.csr_array((np.ones(sum(c.size for c in cols), dtype=np.uint8), (np.concatenate(rows),
                      np.concatenate(cols))), shape=(m, graph.n_var))
    H.sum_duplicates()
    H.data %= 2  # a variable twice in one check cancels
    H.eliminate_zeros()
    aug = sp.hstack([H, sp.csr_array(np.array(targets, dtype=np.uint8)[:, None])], format="csr")
    return gf2_rank(H) == gf2_rank(aug) if H.nnz else not any(targets)


@dataclass
class _GF2:
    """A hard parity system ``H x = t`` over the free variables, in reduced row echelon form.

    ``cols`` int64 (n_free,) free variables (column j is variable cols[j]);
    ``pivots`` maps a pivot column to its row ``(bitmask, target)``; ``log_z``
    is ``-inf`` for an inconsistent system.
    """

    cols: np.ndarray
    pivots: dict
    log_z: float

    def _determined(self, j: int):
        row = self.pivots.get(j)
        return row[1] if row is not None and row[0] == 1 << j else None

    def marginals(self, graph, red) -> list:
        out = []
        local = {int(v): j for j, v in enumerate(self.cols)}
        for i in range(red.n_var):
            p = np.zeros(int(graph.card[i]), dtype=FLOAT)
            if red.kcard[i] == 1:
                p[red.support[i][0]] = 1.0
            else:
                x = self._determined(local[i])
                if x is None:
                    p[red.support[i]] = 0.5
                else:
                    p[red.support[i][x]] = 1.0
            out.append(p)
        return out

    def solution(self, red) -> np.ndarray:
        """The solution with every non-pivot variable in its first allowed state."""
        x = np.array([s[0] for s in red.support], dtype=INDEX)
        for j, (_, target) in self.pivots.items():
            i = int(self.cols[j])
            x[i] = red.support[i][target]
        return x


def _gf2_for(red: _Reduced, method: str):
    """The GF(2) solver if ``method`` asks for it (or 'auto' and it applies), else None."""
    if method not in ("auto", "gf2"):
        return None
    sys = _gf2_system(red)
    if sys is None and method == "gf2":
        raise ValueError(
            "method='gf2' needs every factor to be a hard parity check (XOR table with equal "
            "nonzero entries) and every unobserved variable to be binary with uniform evidence"
        )
    return sys


def _gf2_system(red: _Reduced):
    """Counting solutions of a hard parity system: log Z = const + (n_free - rank) log 2.

    Applies when every free variable has two allowed states and constant
    evidence, and every factor, restricted to its free variables, is ``c`` on
    one parity class and ``-inf`` on the other.  Returns None otherwise.
    """
    free = np.flatnonzero(red.kcard > 1)
    if np.any(red.kcard[free] != 2):
        return None
    const = red.const
    for i in free:
        u = red.unary[i]
        if u[0] != u[1]:
            return None
        const += float(u[0])
    col = {int(v): j for j, v in enumerate(free)}
    rows = []
    for s, t in zip(red.scopes, red.tables):
        if s.size == 0:
            continue
        fin = np.isfinite(t)
        target = 0 if fin.flat[0] else 1
        if not np.array_equal(fin, np.indices(t.shape).sum(axis=0) % 2 == target):
            return None
        vals = t[fin]
        if np.any(vals != vals[0]):
            return None
        const += float(vals[0])
        rows.append((sum(1 << col[int(v)] for v in s), target))
    pivots = {}
    consistent = True
    for mask, target in rows:  # forward elimination; the pivot of a row is its lowest column
        while mask:
            c = (mask & -mask).bit_length() - 1
            if c not in pivots:
                pivots[c] = (mask, target)
                break
            pm, pt = pivots[c]
            mask ^= pm
            target ^= pt
        else:
            consistent = consistent and target == 0
    for c in sorted(pivots):  # back substitution: reduced row echelon form
        mc, tc = pivots[c]
        bit = 1 << c
        for d, (md, td) in pivots.items():
            if d != c and md & bit:
                pivots[d] = (md ^ mc, td ^ tc)
    lz = const + (free.size - len(pivots)) * math.log(2) if consistent else -math.inf
    return _GF2(free, pivots, lz)


# ================================================================ numerics
class _Tables:
    """Factor tables with axes sorted by elimination step, grouped by bucket."""

    def __init__(self, red: _Reduced, plan: _Plan):
        self.red, self.plan = red, plan
        self.axis = np.full(red.n_var, -1, dtype=INDEX)  # scratch: axis of a variable in a cluster
        self.items = []  # per step: list of (array, vars sorted by step)
        for k, v in enumerate(plan.order):
            its = [(red.unary[v], np.array([v], dtype=INDEX))]
            for a in plan.bucket[k]:
                s = red.scopes[a]
                perm = np.argsort(plan.step[s], kind="stable")
                t = red.tables[a]
                if np.any(perm != np.arange(perm.size)):
                    t = np.transpose(t, perm)
                its.append((np.ascontiguousarray(t), s[perm]))
            self.items.append(its)
        self.fac_perm = {}  # factor -> perm from step-sorted to argument order of its free vars

    def cluster(self, k: int, extra) -> np.ndarray:
        """Sum of the items of step k and ``extra`` (array, vars) broadcast over C_k."""
        C = self.plan.clusters[k]
        self.axis[C] = np.arange(C.size)
        kcard = self.red.kcard
        shape = tuple(int(c) for c in kcard[C])
        views = []
        for arr, V in self.items[k] + extra:
            bs = np.ones(C.size, dtype=INDEX)
            bs[self.axis[V]] = kcard[V]
            views.append(np.reshape(arr, tuple(int(b) for b in bs)))
        views.sort(key=lambda w: -w.size)
        T = np.empty(shape, dtype=FLOAT)
        if len(views) == 1:
            np.copyto(T, views[0])
        else:
            np.add(views[0], views[1], out=T)
            for w in views[2:]:
                np.add(T, w, out=T)
        return T


def _shift(m: np.ndarray) -> np.ndarray:
    """Max shift that is 0 where the max is -inf (so that -inf - shift stays -inf)."""
    return np.where(np.isfinite(m), m, 0.0)


def _lse_first(T: np.ndarray) -> np.ndarray:
    """LSE over axis 0; overwrites T."""
    ms = _shift(T.max(axis=0))
    np.subtract(T, ms, out=T)
    with np.errstate(under="ignore"):
        np.exp(T, out=T)
    s = T.sum(axis=0)
    with np.errstate(divide="ignore"):
        out = np.log(s)
    out += ms
    return out


def _max_first(T: np.ndarray):
    """Max over axis 0 and the first argmax (small unsigned dtype)."""
    q = T.shape[0]
    m = np.array(T[0], dtype=FLOAT, copy=True)
    dt = np.uint8 if q <= 2**8 else np.uint16 if q <= 2**16 else INDEX
    arg = np.zeros(m.shape, dtype=dt)
    for x in range(1, q):
        np.copyto(arg, x, where=T[x] > m)
        np.maximum(m, T[x], out=m)
    return m, arg


def _lse_keep(B: np.ndarray, keep: tuple, buf: np.ndarray) -> np.ndarray:
    """LSE of B onto the axes ``keep`` (increasing); ``buf`` is scratch of B's shape."""
    red_axes = tuple(j for j in range(B.ndim) if j not in keep)
    if not red_axes:
        return B.copy()
    m = B.max(axis=red_axes, keepdims=True)
    ms = _shift(m)
    np.subtract(B, ms, out=buf)
    with np.errstate(under="ignore"):
        np.exp(buf, out=buf)
    s = buf.sum(axis=red_axes)
    with np.errstate(divide="ignore"):
        out = np.log(s)
    out += ms.reshape(out.shape)
    return out


def _lse_all(x: np.ndarray) -> float:
    if x.size == 0:
        return -math.inf
    m = float(np.max(x))
    if m == -math.inf:
        return m
    with np.errstate(under="ignore"):
        return m + float(np.log(np.sum(np.exp(x - m))))


def _normalise_log(lv: np.ndarray) -> np.ndarray:
    lz = _lse_all(lv)
    with np.errstate(under="ignore"):
        p = np.exp(lv - lz)
    return _normalise_p(p)


def _normalise_p(p: np.ndarray) -> np.ndarray:
    p = np.asarray(p, dtype=FLOAT)
    return p / p.sum()


def _forward(red: _Reduced, plan: _Plan, mode: str, keep: bool):
    """Collect pass.  Returns (log Z or max log-score, per-step messages or argmax tables)."""
    tabs = _Tables(red, plan)
    n_step = len(plan.order)
    ups = [None] * n_step
    stored = [None] * n_step
    total = red.const
    for k in range(n_step):
        extra = [(ups[c], plan.clusters[c][1:]) for c in plan.children[k]]
        T = tabs.cluster(k, extra)
        if not keep or mode == "max":
            for c in plan.children[k]:
                ups[c] = None
        if mode == "sum":
            msg = _lse_first(T)
        else:
            msg, arg = _max_first(T)
            if keep:
                stored[k] = arg
        del T
        if plan.parent[k] < 0:
            total += float(msg)
        else:
            ups[k] = msg
        if keep and mode == "sum":
            stored[k] = msg
    return total, stored


def _sum_product(graph: CompiledGraph, red: _Reduced, plan: _Plan, factors: bool) -> ExactResult:
    lz, ups = _forward(red, plan, mode="sum", keep=True)
    if lz == -math.inf:
        raise ValueError(_ZERO_MSG)
    tabs = _Tables(red, plan)
    n_step = len(plan.order)
    down = [None] * n_step
    var_log = {}
    fac_log = {}
    for k in range(n_step - 1, -1, -1):
        C = plan.clusters[k]
        extra = [(ups[c], plan.clusters[c][1:]) for c in plan.children[k]]
        if down[k] is not None:
            extra.append((down[k], C[1:]))
            down[k] = None
        B = tabs.cluster(k, extra)
        buf = np.empty_like(B)
        var_log[int(plan.order[k])] = _lse_keep(B, (0,), buf)
        for c in plan.children[k]:
            keep = tuple(int(j) for j in tabs.axis[plan.clusters[c][1:]])
            sep = _lse_keep(B, keep, buf)
            up = ups[c]
            ok = np.isfinite(up)
            msg = np.full(sep.shape, -np.inf)
            np.subtract(sep, up, out=msg, where=ok)
            down[c] = msg
            ups[c] = None
        if factors:
            for a in plan.bucket[k]:
                s = red.scopes[a]
                keep_s = tabs.axis[s]  # axes of the free vars in argument order
                srt = np.sort(keep_s)
                lb = _lse_keep(B, tuple(int(j) for j in srt), buf)
                fac_log[a] = np.transpose(lb, np.argsort(np.argsort(keep_s)))
        del B, buf
    margs = []
    for i in range(red.n_var):
        p = np.zeros(int(graph.card[i]), dtype=FLOAT)
        if red.kcard[i] == 1:
            p[red.support[i][0]] = 1.0
        else:
            p[red.support[i]] = _normalise_log(var_log[i])
        margs.append(p)
    fmargs = None
    if factors:
        fmargs = [_embed_factor(graph, red, a, fac_log.get(a)) for a in range(graph.n_fac)]
    return ExactResult(lz, margs, fmargs)


def _embed_factor(graph, red, a, lb) -> np.ndarray:
    """Full-size factor belief, float64 scope_cards(a), from the belief over its free vars."""
    scope = graph.scope(a)
    out = np.zeros(tuple(int(c) for c in graph.card[scope]), dtype=FLOAT)
    idx = [red.support[i][:1] if red.kcard[i] == 1 else red.support[i] for i in scope]
    if lb is None:
        sub = np.ones([1] * scope.size)
    else:
        shape = [1 if red.kcard[i] == 1 else int(red.kcard[i]) for i in scope]
        sub = _normalise_log(lb).reshape(shape)
    out[np.ix_(*idx)] = sub
    return out
