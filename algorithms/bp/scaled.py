"""Flooding sum-product on dense tables in scaled linear arithmetic, with exact log-domain fallbacks.

The engine of :func:`algorithms.run_bp` for sum-product flooding (any damping)
on graphs whose factors are all dense tables.  Messages are kept as
probabilities, every operand scaled into [0, 1]::

    u_i(x)      = exp(log phi_i(x) - max log phi_i)                     (max 1)
    W_{i->a}(x) = u_i(x) prod_{b in di \\ a} p_{b->i}(x), divided by its max  (max 1)
    P_a(x_da)   = exp(log psi_a(x_da) - max log psi_a)                  (max 1)
    c_{a->i}(x) = sum_{x_da : x_i = x} P_a(x_da) prod_{j in da \\ i} W_{j->a}(x_j)
    p_{a->i}    = c_{a->i} / sum_x c_{a->i}(x)

so a sweep needs no exp or log at all; log-messages are formed once, at the end
(or when a callback asks).  Both products use prefix and suffix products, never
division, so zeros are harmless.

**Exact to round-off, by construction.**  Every factor of every product is at
most 1, so partial products only shrink: a product whose true value is a normal
float never passed through underflow, and one that did underflow has true value
below 2.3e-308.  A result entry ``>= TINY = 1e-250`` therefore carries a
relative error of a few ulps plus at most ``terms * 2.3e-308 / TINY`` (below
1e-50).  Wherever an entry falls below ``TINY`` the exact log-domain rule takes
over for that item:

* a factor with an output entry below ``TINY`` (hard zeros, or messages certain
  to more than about 575 nats) is recomputed by the log-domain kernel
  (:func:`algorithms.bp.kernels._table_one`); its messages are then kept in the
  log domain (``logx``, flagged in ``eflag``) until it leaves that regime;
* a variable with such an incoming message, a unary entry below ``TINY``
  relative to its maximum, or a product entry below ``TINY`` forms its
  outgoing messages by log-domain sums.

**Damping** mixes the normalised log-messages, ``m <- (1 - g) m_new + g m_old``
renormalised (libDAI's and PGMax's definition, the log-domain engine's
:func:`algorithms.bp.kernels.damp_commit`), i.e. per entry
``p_d(x) = p_new(x)^(1-g) p_old(x)^g / Z``.  Where both messages are linear
(every entry ``>= TINY``) this is done in place, as soon as the new message is
normalised: ``k`` nested square roots for a dyadic ``g = m / 2^k`` (``k <=
DYADIC_MAX_K``; ``sqrt(p_new) sqrt(p_old)`` for ``g = 1/2``).  Any other ``g``
takes ``p_old (p_new / p_old)^(1 - g)``: the kernel stores the quotient (in
``[TINY, 1 / TINY]``) in ``ScaledMessages.Q``, NumPy's SIMD log and exp raise
the whole array to ``1 - g`` between the kernels, and :func:`mix_finish`
multiplies, renormalises and measures the residual (the same rounding as
``exp((1 - g) log p_new + g log p_old)``: an absolute error of a few ulps of
the log).  It stays linear: by Hoelder's inequality ``Z <= 1``, so ``p_d(x) >=
p_new(x)^(1-g) p_old(x)^g >= TINY``.
Where either side is in the log domain (an old message kept in ``logx``, or a
new one from the fallback), the factor goes to the exact log-domain update,
which mixes log-messages as the log-domain engine does (``-inf`` on either side
stays ``-inf``) and renormalises.

The residual is ``max |p_new - p_old|`` over the probabilities of each factor's
outgoing messages after damping, as in the log-domain engine.

**Factors are batched by shape.**  Factors with the same arity and the same
cardinality in every slot (whatever their tables) form a group
(:func:`shape_groups`); the kernel walks the joint states of the shape once and,
for each state and slot, runs a tight loop over the group's factors.  No factor
type is special-cased; one shape is: a group of 2 x 2 tables (decided by shape)
skips the gather and the odometer and updates each factor with its eight
products directly -- the same sums in the same order, so the same bits.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from fgraph.jit import njit, pjit, prange

from . import kernels

__all__ = [
    "TINY", "SCALED", "ScaledEngine", "ScaledState", "TableBlock", "table_block", "linear_tables",
    "ShapeGroups", "shape_groups", "var_linear", "scaled_update", "fallback_range", "to_log", "init_state",
    "exact_unary", "ScaledGraph", "ScaledMessages", "TableArrays", "Damping", "damping_of", "mix_finish",
]

#: Smallest product or sum accepted from linear arithmetic; below it the item is
#: recomputed exactly in the log domain.
TINY = 1e-250
LOG_TINY = math.log(TINY)

CHUNK = 512  # factors per parallel task (scratch rows of this length stay in L1)
#: Largest k of a damping m / 2^k done by nested square roots (beyond it, exp and log).
DYADIC_MAX_K = 2

class TableArrays(NamedTuple):
    """The arrays of a block of dense tables that the kernels read (one argument, not nine).

    Attributes
    ----------
    ids, task_lo, task_hi, task_group : int64
        :class:`ShapeGroups` (factor ids grouped by shape; the parallel tasks).
    g_cards : int64 (n_groups, max_arity)
        ``ShapeGroups.cards``.
    g_arity : int64 (n_groups,)
    tab_ptr : int64 (n_tables + 1,)
    tab_lin : float64 (total,)
        Each table scaled to max 1 (:func:`linear_tables`).
    tab_logp : float64 (total,)
        The log-tables (exact fallbacks).
    """

    ids: np.ndarray
    task_lo: np.ndarray
    task_hi: np.ndarray
    task_group: np.ndarray
    g_cards: np.ndarray
    g_arity: np.ndarray
    tab_ptr: np.ndarray
    tab_lin: np.ndarray
    tab_logp: np.ndarray


class TableBlock(NamedTuple):
    """A block of dense tables offered to the scaled engine: factors lo..hi-1 grouped by shape."""

    lo: int
    hi: int
    groups: ShapeGroups
    arrays: TableArrays

    @property
    def engine(self):
        return SCALED


def table_block(graph, t, config):
    """The :class:`TableBlock` of block t (a dense-table type), or None when the engine does not apply.

    Needs ``config.scaled_tables`` and sum-product (any damping).
    """
    if not (config.scaled_tables and config.mode == "sum"):
        return None
    p = graph.params[t]
    lo, hi = int(graph.type_ptr[t]), int(graph.type_ptr[t + 1])
    sg = shape_groups(graph.fac_ptr, graph.edge_var, graph.card, lo, hi)
    logp = np.asarray(p["logp"])
    ptr = np.asarray(p["ptr"])
    arrays = TableArrays(sg.ids, sg.task_lo, sg.task_hi, sg.task_group, sg.cards, sg.arity, ptr,
                         linear_tables(logp, ptr), logp)
    return TableBlock(lo, hi, sg, arrays)


class Damping(NamedTuple):
    """How the kernels damp (:func:`damping_of`): ``mode`` 0 none, 1 dyadic (``k`` nested square
    roots over the bits ``bits`` of 1 - g), 2 any other g (exp and log); ``g`` the damping."""

    mode: int
    k: int
    bits: int
    g: float


def damping_of(g: float) -> Damping:
    """The :class:`Damping` of a damping value g in [0, 1).

    Examples
    --------
    >>> damping_of(0.0).mode, damping_of(0.5), damping_of(0.3).mode
    (0, Damping(mode=1, k=1, bits=1, g=0.5), 2)
    """
    if g == 0.0:
        return Damping(0, 0, 0, 0.0)
    for k in range(1, DYADIC_MAX_K + 1):
        m = g * 2**k
        if m == int(m):
            a = 2**k - int(m)  # 1 - g = a / 2^k; bit j - 1 of bits is the j-th binary digit of 1 - g
            return Damping(1, k, sum(1 << (j - 1) for j in range(1, k + 1) if (a >> (k - j)) & 1), float(g))
    return Damping(2, 0, 0, float(g))


def linear_tables(logp: np.ndarray, ptr: np.ndarray) -> np.ndarray:
    """Each table scaled to maximum 1: ``exp(logp - max)`` per table.

    Parameters
    ----------
    logp : ndarray of float64, shape (total,)
        Concatenated log-tables (-inf for zeros).
    ptr : ndarray of int64, shape (n_tables + 1,)
        Table ``t`` is ``logp[ptr[t]:ptr[t + 1]]`` (non-empty, not all -inf).

    Returns
    -------
    ndarray of float64, shape (total,)

    Examples
    --------
    >>> linear_tables(np.log([0.5, 2.0, 1.0]), np.array([0, 2, 3]))
    array([0.25, 1.  , 1.  ])
    """
    sizes = np.diff(ptr)
    m = np.maximum.reduceat(logp, ptr[:-1]) if sizes.size else np.zeros(0)
    return np.exp(logp - np.repeat(m, sizes))


def exact_unary(var_unary: np.ndarray, card: np.ndarray):
    """Scaled unary factors and the variables that need log-domain sums.

    Parameters
    ----------
    var_unary : ndarray of float64, shape (n_var, q_max)
        Log unary factors (-inf padding).
    card : ndarray of int64, shape (n_var,)

    Returns
    -------
    ulin : ndarray of float64, shape (n_var, q_max)
        ``exp(var_unary - max)`` (0 for -inf and padding).
    vlog : ndarray of bool, shape (n_var,)
        True where a finite unary entry lies more than ``-log(TINY)`` below the
        maximum (its scaled value would be below ``TINY``).

    Examples
    --------
    >>> u, v = exact_unary(np.array([[0.0, -900.0], [0.0, -np.inf]]), np.array([2, 2]))
    >>> v.tolist()
    [True, False]
    """
    m = np.max(var_unary, axis=1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    shifted = var_unary - m
    ulin = np.exp(shifted)
    vlog = np.any(np.isfinite(shifted) & (shifted < LOG_TINY), axis=1)
    return ulin, vlog


def init_state(f2v: np.ndarray, card_e: np.ndarray):
    """(prob, logx, eflag) from normalised log-messages (n_edge, q_max).

    ``eflag[e]`` is set where a message has an entry below ``log(TINY)``
    (including hard zeros): its exact log-message is kept in ``logx``.
    """
    prob = np.exp(f2v)
    valid = np.arange(f2v.shape[1])[None, :] < card_e[:, None]
    eflag = np.any(valid & (f2v < LOG_TINY), axis=1)
    return prob, f2v.copy(), eflag


class ShapeGroups:
    """Factors lo..hi-1 sorted into groups of equal shape, cut into parallel tasks.

    Attributes
    ----------
    ids : ndarray of int64, shape (hi - lo,)
        Factor ids, group after group (ascending within a group).
    cards : ndarray of int64, shape (n_groups, max_arity)
        Cardinality of each slot of a group's factors (0 beyond its arity).
    arity : ndarray of int64, shape (n_groups,)
    task_lo, task_hi, task_group : ndarray of int64, shape (n_tasks,)
        Task t updates ``ids[task_lo[t]:task_hi[t]]``, all of group task_group[t].
    """

    def __init__(self, ids, cards, arity, task_lo, task_hi, task_group):
        self.ids, self.cards, self.arity = ids, cards, arity
        self.task_lo, self.task_hi, self.task_group = task_lo, task_hi, task_group


def shape_groups(fac_ptr, edge_var, card, lo: int, hi: int, chunk: int = CHUNK) -> ShapeGroups:
    """Group factors lo..hi-1 by shape (arity and slot cardinalities).

    Examples
    --------
    >>> import fgraph
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(3, card=[2, 3, 2])
    >>> _ = g.add_factor([0, 1], np.ones((2, 3))); _ = g.add_factor([2, 1], np.ones((2, 3)))
    >>> _ = g.add_factor([0, 2], np.ones((2, 2)))
    >>> c = g.compile(); sg = shape_groups(c.fac_ptr, c.edge_var, c.card, 0, c.n_fac)
    >>> sg.ids.tolist(), sg.cards.tolist()
    ([2, 0, 1], [[2, 2], [2, 3]])
    """
    fac_ptr = np.asarray(fac_ptr)
    deg = np.diff(fac_ptr[lo : hi + 1])
    n = hi - lo
    d_max = int(deg.max()) if n else 0
    key = np.zeros((n, d_max + 1), dtype=np.int64)
    key[:, 0] = deg
    e_lo, e_hi = int(fac_ptr[lo]), int(fac_ptr[hi])
    rows = np.repeat(np.arange(n), deg)
    cols = np.arange(e_lo, e_hi) - np.repeat(fac_ptr[lo:hi], deg)
    key[rows, cols + 1] = np.asarray(card)[np.asarray(edge_var)[e_lo:e_hi]]
    if n and np.all(key == key[0]):  # one shape (the common case): no sort
        shapes, order, counts = key[:1], np.arange(n), np.array([n])
    else:
        shapes, inverse = np.unique(key, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        order = np.argsort(inverse, kind="stable")
        counts = np.bincount(inverse, minlength=len(shapes))
    starts = np.concatenate([[0], np.cumsum(counts)])
    t_lo, t_hi, t_g = [], [], []
    for gi in range(len(shapes)):
        cuts = np.arange(starts[gi], starts[gi + 1], chunk)
        t_lo.append(cuts)
        t_hi.append(np.minimum(cuts + chunk, starts[gi + 1]))
        t_g.append(np.full(len(cuts), gi))

    def cat(parts):
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)

    return ShapeGroups(
        ids=(lo + order).astype(np.int64), cards=np.ascontiguousarray(shapes[:, 1:]),
        arity=shapes[:, 0].copy(), task_lo=cat(t_lo), task_hi=cat(t_hi), task_group=cat(t_g),
    )


class ScaledGraph(NamedTuple):
    """The graph arrays of the scaled engine's kernels.

    Attributes
    ----------
    var_ptr, var_edges, fac_ptr, edge_var, card, fac_param : int64
        As in :class:`fgraph.compiled.CompiledGraph`.
    var_unary : float64 (n_var, q_max)
        Log unary factors (-inf padding).
    ulin : float64 (n_var, q_max)
        Scaled unary factors (:func:`exact_unary`).
    vlog : bool (n_var,)
        Variables that always take log-domain sums.
    """

    var_ptr: np.ndarray
    var_edges: np.ndarray
    fac_ptr: np.ndarray
    edge_var: np.ndarray
    card: np.ndarray
    fac_param: np.ndarray
    var_unary: np.ndarray
    ulin: np.ndarray
    vlog: np.ndarray


class ScaledMessages(NamedTuple):
    """The message state and scratch of the scaled engine.

    Attributes
    ----------
    prob : float64 (n_edge, q_max)
        Factor messages as probabilities (exact where not ``eflag``; entries >= TINY).
    logx : float64 (n_edge, q_max)
        Exact normalised log-messages of the edges flagged in ``eflag``.
    eflag : bool (n_edge,)
    W : float64 (n_edge, q_max)
        Variable-to-factor messages scaled to max 1 (0 for hard zeros and padding).
    v2f : float64 (n_edge, q_max)
        Exact log v2f (max 0) where ``vexact``.
    vexact : bool (n_edge,)
    lnew, work : float64 (n_edge, q_max)
        Scratch of the log-domain fallback (new log-messages; enumeration sums).
    res : float64 (n_fac,)
        Residual of each factor's last update.
    flag : bool (n_fac,)
        Factors left for :func:`fallback_range`.
    Q : float64 (n_edge, q_max), or (n_edge, 1) on binary graphs
        General damping (mode 2): the quotients ``p_new / p_old`` of the linear
        updates (binary: the one quotient of their odds), raised to ``1 - g`` by
        whole-array SIMD log and exp between the kernels and finished by
        :func:`mix_finish` (1 elsewhere, so every entry stays finite and
        positive).  A (1, 1) placeholder otherwise.
    """

    prob: np.ndarray
    logx: np.ndarray
    eflag: np.ndarray
    W: np.ndarray
    v2f: np.ndarray
    vexact: np.ndarray
    lnew: np.ndarray
    work: np.ndarray
    res: np.ndarray
    flag: np.ndarray
    Q: np.ndarray = np.ones((1, 1))


# ----------------------------------------------------------------- variable side
@njit(inline="always")
def _log_msg(e, x, m):
    """Exact log-message of edge e, state x: kept in logx when flagged, else log of prob (>= TINY)."""
    if m.eflag[e]:
        return m.logx[e, x]
    p = m.prob[e, x]
    return np.log(p) if p > 0.0 else kernels.NEG_INF


@njit
def _var_log(i, g, m):
    """Variable i by log-domain sums: exact v2f (max 0) in m.v2f, its exp in m.W, vexact set.

    The exact incoming log-messages are first written into W's rows of i's edges
    (rows this variable owns), so the log-domain engine's own cavity kernel
    :func:`algorithms.bp.kernels._var_one` forms the sums; W is then overwritten
    with their exponentials.
    """
    q = g.card[i]
    W = m.W
    for k in range(g.var_ptr[i], g.var_ptr[i + 1]):
        e = g.var_edges[k]
        for x in range(q):
            W[e, x] = _log_msg(e, x, m)
    kernels._var_one(i, g.var_ptr, g.var_edges, g.var_unary, g.card, W, m.v2f, True)
    for k in range(g.var_ptr[i], g.var_ptr[i + 1]):
        e = g.var_edges[k]
        for x in range(q):
            v = m.v2f[e, x]
            W[e, x] = np.exp(v) if v != kernels.NEG_INF else 0.0
        m.vexact[e] = True


VAR_CHUNK = 1024  # variables per parallel task of var_linear (one scratch per task)


@pjit
def var_linear(g, m):
    """All variable-to-factor messages ``m.W`` (max 1) from the factor messages (threads own variables).

    Parameters
    ----------
    g : ScaledGraph
    m : ScaledMessages
        Reads ``prob``, ``logx``, ``eflag``; writes ``W`` (0 beyond a card),
        ``vexact`` and, where ``vexact``, the exact log v2f (max 0) in ``v2f``.
    """
    # locals, not attribute reads inside the prange body (parfors lowering of tuple fields)
    card, ulin, vlog, var_ptr, var_edges = g.card, g.ulin, g.vlog, g.var_ptr, g.var_edges
    prob, W, eflag, vexact = m.prob, m.W, m.eflag, m.vexact
    n_var = card.shape[0]
    q_max = W.shape[1]
    n_chunk = (n_var + VAR_CHUNK - 1) // VAR_CHUNK
    for c in prange(n_chunk):
        acc = np.empty(q_max)
        for i in range(c * VAR_CHUNK, min(n_var, (c + 1) * VAR_CHUNK)):
            q = card[i]
            lo = var_ptr[i]
            hi = var_ptr[i + 1]
            exact = vlog[i]
            if q == 2:  # binary: the same products, with both running products in registers
                u0 = ulin[i, 0]
                u1 = ulin[i, 1]
                a0 = u0
                a1 = u1
                for k in range(lo, hi):
                    e = var_edges[k]
                    exact |= eflag[e]
                    W[e, 0] = a0
                    W[e, 1] = a1
                    a0 *= prob[e, 0]
                    a1 *= prob[e, 1]
                a0 = 1.0
                a1 = 1.0
                for k in range(hi - 1, lo - 1, -1):
                    e = var_edges[k]
                    v0 = W[e, 0] * a0
                    v1 = W[e, 1] * a1
                    a0 *= prob[e, 0]
                    a1 *= prob[e, 1]
                    exact |= (v0 < TINY and u0 > 0.0) or (v1 < TINY and u1 > 0.0)
                    mx = v0 if v0 > v1 else v1
                    inv = 1.0 / mx if mx >= TINY else 0.0  # below TINY: exact path anyway
                    W[e, 0] = v0 * inv
                    W[e, 1] = v1 * inv
                    vexact[e] = False
                if exact:
                    _var_log(i, g, m)
                continue
            # prefix products, then suffix products with each row scaled to max 1 as
            # soon as it is complete; every factor is <= 1, so products only shrink
            for x in range(q):
                acc[x] = ulin[i, x]
            for k in range(lo, hi):
                e = var_edges[k]
                exact |= eflag[e]
                for x in range(q):
                    W[e, x] = acc[x]
                    acc[x] *= prob[e, x]
            for x in range(q):
                acc[x] = 1.0
            for k in range(hi - 1, lo - 1, -1):
                e = var_edges[k]
                mx = 0.0
                for x in range(q):
                    v = W[e, x] * acc[x]
                    acc[x] *= prob[e, x]
                    W[e, x] = v
                    mx = v if v > mx else mx
                    # below TINY without an exact zero in the unary: possible underflow
                    exact |= v < TINY and ulin[i, x] > 0.0
                inv = 1.0 / mx if mx >= TINY else 0.0  # below TINY: exact path anyway
                for x in range(q):
                    W[e, x] *= inv
                vexact[e] = False
            if exact:
                _var_log(i, g, m)


# ----------------------------------------------------------------- factor side
@njit(inline="always")
def _mix(pn, po, mode, dk, dbits, g):
    """The damped (unnormalised) entry ``pn^(1-g) po^g`` of two linear entries (both >= TINY).

    Square roots of each factor, not of their product (which may underflow:
    both are only known to be >= TINY); the result is >= TINY.
    """
    if mode == 0:
        return pn
    if mode == 1:
        v = po
        for j in range(dk, 0, -1):
            v = np.sqrt(pn if (dbits >> (j - 1)) & 1 else po) * np.sqrt(v)
        return v
    return np.exp((1.0 - g) * np.log(pn) + g * np.log(po))


@njit(inline="always")
def _commit_edge(e, q, c, off, i, prob, mode, dk, dbits, g, Q):
    """Damp the normalised new message ``c[off:off + q, i]`` of edge e against ``prob[e]``, write it, return
    the largest probability change.  Undamped it is written as is (no renormalisation).  Mode 2
    writes the quotients ``p_new / p_old`` to ``Q`` and leaves ``prob`` to :func:`mix_finish`
    (residual 0 here).  With the binary layout (``Q.shape[1] == 1``) the one quotient of odds
    ``(p_new(1) / p_old(1)) (p_old(0) / p_new(0))`` is stored; outside ``[1e-300, 1e300]``
    (messages flipping between certainties of hundreds of nats) it returns -1: the caller
    flags the factor for the exact fallback (``prob`` is still untouched)."""
    r = 0.0
    if mode == 2:
        if Q.shape[1] == 1:
            if q == 2:
                v = (c[off + 1, i] / prob[e, 1]) * (prob[e, 0] / c[off, i])
                if not (v >= 1e-300 and v <= 1e300):
                    return -1.0
                Q[e, 0] = v
            return r
        for x in range(q):
            Q[e, x] = c[off + x, i] / prob[e, x]
        return r
    if mode == 0:
        for x in range(q):
            v = c[off + x, i]
            dlt = abs(v - prob[e, x])
            r = dlt if dlt > r else r
            prob[e, x] = v
        return r
    s = 0.0
    for x in range(q):
        v = _mix(c[off + x, i], prob[e, x], mode, dk, dbits, g)
        c[off + x, i] = v
        s += v
    inv = 1.0 / s
    for x in range(q):
        v = c[off + x, i] * inv
        dlt = abs(v - prob[e, x])
        r = dlt if dlt > r else r
        prob[e, x] = v
    return r


@njit
def _pair22_task(t, i_lo, i_hi, g, m, mode, dk, dbits, gam, cbuf):
    """Factors ids[i_lo:i_hi] of a group of 2 x 2 tables, one at a time; returns the number flagged.

    The same sums as :func:`_group_task`, in the same order (``sum_x1 P[x0, x1]
    W_1(x1)`` to slot 0, ``sum_x0 P[x0, x1] W_0(x0)`` to slot 1), without the
    gather and the odometer.  ``cbuf`` (2, 1) is scratch of :func:`_commit_edge`.
    """
    n_flag = 0
    W = m.W
    prob = m.prob
    for j in range(i_lo, i_hi):
        a = t.ids[j]
        e0 = g.fac_ptr[a]
        e1 = e0 + 1
        b = t.tab_ptr[g.fac_param[a]]
        p00 = t.tab_lin[b]
        p01 = t.tab_lin[b + 1]
        p10 = t.tab_lin[b + 2]
        p11 = t.tab_lin[b + 3]
        w00 = W[e0, 0]
        w01 = W[e0, 1]
        w10 = W[e1, 0]
        w11 = W[e1, 1]
        c00 = p00 * w10 + p01 * w11
        c01 = p10 * w10 + p11 * w11
        c10 = p00 * w00 + p10 * w01
        c11 = p01 * w00 + p11 * w01
        low = c00 < TINY or c01 < TINY or c10 < TINY or c11 < TINY
        if mode != 0:
            low = low or m.eflag[e0] or m.eflag[e1]
        m.flag[a] = low
        if low:
            n_flag += 1
            continue
        s0 = 1.0 / (c00 + c01)
        s1 = 1.0 / (c10 + c11)
        cbuf[0, 0] = c00 * s0
        cbuf[1, 0] = c01 * s0
        r0 = _commit_edge(e0, 2, cbuf, 0, 0, prob, mode, dk, dbits, gam, m.Q)
        cbuf[0, 0] = c10 * s1
        cbuf[1, 0] = c11 * s1
        r1 = _commit_edge(e1, 2, cbuf, 0, 0, prob, mode, dk, dbits, gam, m.Q)
        if r0 < 0.0 or r1 < 0.0:  # general damping out of the quotient's range: the exact fallback
            m.flag[a] = True
            n_flag += 1
            continue
        m.eflag[e0] = False
        m.eflag[e1] = False
        m.res[a] = r0 if r0 > r1 else r1
    return n_flag


@njit
def _group_task(t, i_lo, i_hi, cs, g, m, mode, dk, dbits, gam, e0s, bases, suf, wl, acc, xs, offs):
    """Update the factors ids[i_lo:i_hi], all of one shape (slot cards ``cs``); returns the number flagged.

    The incoming messages are first gathered into ``wl[off_k + x, i]`` (slot
    k, state x, factor i; ``off_k`` = sum of the cards before k), so every
    later loop runs over contiguous factor-minor rows.  For each joint state
    (digits ``xs``, C order): suffix products ``suf[k, i] = prod_{j > k}
    W_j(x_j)``, then a running prefix (kept in the free row ``suf[d - 1]``)
    that starts at the table entry, so slot k receives prefix times
    ``suf[k]`` -- the table entry times every other slot's message, without
    division -- summed into ``acc[off_k + x_k]``.

    A factor with an output entry below ``TINY`` (or, damped, an old message
    in the log domain) is flagged (flag[a] = True) and left for
    :func:`fallback_range`; otherwise its rows are normalised, damped into
    ``prob`` (:func:`_commit_edge`), res[a] = max |p_new - p_old|, and its
    edges are unflagged.
    """
    W = m.W
    ids = t.ids
    d = cs.shape[0]
    n = i_hi - i_lo
    size = 1
    for k in range(d):
        size *= cs[k]
        xs[k] = 0
    for i in range(n):
        a = ids[i_lo + i]
        e0s[i] = g.fac_ptr[a]
        bases[i] = t.tab_ptr[g.fac_param[a]]
    off = 0
    for k in range(d):
        for x in range(cs[k]):
            for i in range(n):
                wl[off + x, i] = W[e0s[i] + k, x]
                acc[off + x, i] = 0.0
        offs[k] = off
        off += cs[k]
    tab_lin = t.tab_lin
    for s in range(size):
        if s > 0:  # odometer: next joint state, last digit fastest
            k = d - 1
            xs[k] += 1
            while xs[k] == cs[k]:
                xs[k] = 0
                k -= 1
                xs[k] += 1
        if d == 1:  # a unary table: its message is the table itself
            r0 = xs[0]
            for i in range(n):
                acc[r0, i] += tab_lin[bases[i] + s]
            continue
        # suffix products of the slots after k, for k < d - 1
        rl = offs[d - 1] + xs[d - 1]
        for i in range(n):
            suf[d - 2, i] = wl[rl, i]
        for k in range(d - 3, -1, -1):
            r1 = offs[k + 1] + xs[k + 1]
            for i in range(n):
                suf[k, i] = suf[k + 1, i] * wl[r1, i]
        # the running prefix (row d - 1 of suf, free here) starts at the table entry
        r0 = xs[0]
        for i in range(n):
            tv = tab_lin[bases[i] + s]
            acc[r0, i] += tv * suf[0, i]
            suf[d - 1, i] = tv * wl[r0, i]
        for k in range(1, d - 1):
            rk = offs[k] + xs[k]
            for i in range(n):
                acc[rk, i] += suf[d - 1, i] * suf[k, i]
                suf[d - 1, i] *= wl[rk, i]
        for i in range(n):
            acc[rl, i] += suf[d - 1, i]
    # normalisation: slot sums and whether any entry is below TINY, then the
    # scaled rows and residuals of the factors that are not flagged
    for i in range(n):
        suf[0, i] = 0.0  # 1.0 marks a flagged factor
    off = 0
    for k in range(d):
        for i in range(n):
            wl[0, i] = 0.0
        for x in range(cs[k]):
            for i in range(n):
                v = acc[off + x, i]
                wl[0, i] += v
                suf[0, i] = 1.0 if v < TINY else suf[0, i]
        for i in range(n):
            wl[0, i] = 1.0 / wl[0, i] if wl[0, i] >= TINY else 0.0  # else flagged
        for x in range(cs[k]):
            for i in range(n):
                acc[off + x, i] *= wl[0, i]
        off += cs[k]
    n_flag = 0
    for i in range(n):
        a = ids[i_lo + i]
        e0 = e0s[i]
        low = suf[0, i] != 0.0
        if mode != 0:
            for k in range(d):
                low = low or m.eflag[e0 + k]
        m.flag[a] = low
        if low:
            n_flag += 1
            continue
        r = 0.0
        off = 0
        for k in range(d):
            e = e0 + k
            rk = _commit_edge(e, cs[k], acc, off, i, m.prob, mode, dk, dbits, gam, m.Q)
            r = rk if rk > r or rk < 0.0 else r
            m.eflag[e] = False
            off += cs[k]
            if r < 0.0:
                break
        if r < 0.0:  # general damping out of the quotient's range: the exact fallback
            m.flag[a] = True
            n_flag += 1
            continue
        m.res[a] = r
    return n_flag


@pjit
def scaled_update(g, t, m, mode, dk, dbits, gam):
    """Scaled-linear update of every factor of a table block; returns the number flagged.

    Parameters
    ----------
    g : ScaledGraph
    t : TableArrays
    m : ScaledMessages
        Reads ``W`` (variable-to-factor messages scaled to max 1), damps the new
        messages into ``prob`` (old ``eflag`` read when damped, cleared on the
        edges updated here), writes ``res`` and ``flag`` (True where the factor
        needs :func:`fallback_range`).
    mode, dk, dbits : int
        :class:`Damping` (``mode`` 0 none, 1 dyadic, 2 exp/log).
    gam : float
        The damping.
    """
    n_task = t.task_lo.shape[0]
    d_max = max(t.g_cards.shape[1], 1)
    n_flag = 0
    for k in prange(n_task):
        gi = t.task_group[k]
        cs = t.g_cards[gi, : t.g_arity[gi]]
        i_lo = t.task_lo[k]
        i_hi = t.task_hi[k]
        if cs.shape[0] == 2 and cs[0] == 2 and cs[1] == 2:
            got = _pair22_task(t, i_lo, i_hi, g, m, mode, dk, dbits, gam, np.empty((2, 1)))
        else:
            n = i_hi - i_lo
            rows = max(int(np.sum(cs)), 1)
            e0s = np.empty(n, dtype=np.int64)
            bases = np.empty(n, dtype=np.int64)
            suf = np.empty((d_max, n))
            wl = np.empty((rows, n))
            acc = np.empty((rows, n))
            xs = np.empty(d_max, dtype=np.int64)
            offs = np.empty(d_max, dtype=np.int64)
            got = _group_task(t, i_lo, i_hi, cs, g, m, mode, dk, dbits, gam, e0s, bases, suf, wl, acc, xs,
                              offs)
        n_flag += got
    return n_flag


@pjit
def fallback_range(lo, hi, g, t, m, gam):
    """Exact log-domain update of the flagged factors in lo..hi-1, damped by ``gam``.

    The incoming log-messages are the exact ones where ``vexact``, else
    ``log W`` (exact: those entries are 0 or at least ``TINY``).  The new
    log-messages (``m.lnew``) are mixed with the old ones (``logx`` where
    flagged, else ``log prob``) as the log-domain engine does (-inf on either
    side stays -inf) and renormalised; they go to ``logx`` (their edges flagged
    in ``eflag``), their probabilities to ``prob``, and the residual against
    the old ``prob`` to ``res``.
    """
    fac_ptr = g.fac_ptr
    card = g.card
    edge_var = g.edge_var
    fac_param = g.fac_param
    tab_ptr = t.tab_ptr
    tab_logp = t.tab_logp
    W, v2f, vexact, lnew, work = m.W, m.v2f, m.vexact, m.lnew, m.work
    prob, logx, eflag, res, flag = m.prob, m.logx, m.eflag, m.res, m.flag
    d = kernels.max_arity(lo, hi, fac_ptr)
    n_chunk = (hi - lo + CHUNK - 1) // CHUNK
    for c in prange(n_chunk):
        xs = np.empty(d, dtype=np.int64)
        cs = np.empty(d, dtype=np.int64)
        for a in range(lo + c * CHUNK, min(hi, lo + (c + 1) * CHUNK)):
            if not flag[a]:
                continue
            for e in range(fac_ptr[a], fac_ptr[a + 1]):
                if not vexact[e]:
                    for x in range(card[edge_var[e]]):
                        w = W[e, x]
                        v2f[e, x] = np.log(w) if w > 0.0 else kernels.NEG_INF
            kernels._table_one(a, fac_ptr, edge_var, card, fac_param, tab_ptr, tab_logp, v2f, lnew, work, xs,
                               cs, False)
            r = 0.0
            for e in range(fac_ptr[a], fac_ptr[a + 1]):
                q = card[edge_var[e]]
                if gam > 0.0:
                    for x in range(q):
                        u = lnew[e, x]
                        if eflag[e]:
                            b = logx[e, x]
                        else:
                            b = np.log(prob[e, x]) if prob[e, x] > 0.0 else kernels.NEG_INF
                        if u == kernels.NEG_INF or b == kernels.NEG_INF:
                            lnew[e, x] = kernels.NEG_INF
                        else:
                            lnew[e, x] = (1.0 - gam) * u + gam * b
                    kernels.normalize_at(lnew, e, q, False)
                for x in range(q):
                    v = lnew[e, x]
                    logx[e, x] = v
                    p = np.exp(v) if v != kernels.NEG_INF else 0.0
                    dlt = abs(p - prob[e, x])
                    r = dlt if dlt > r else r
                    prob[e, x] = p
                eflag[e] = True
            res[a] = r


@pjit
def mix_finish(fac_ptr, edge_var, card, m):
    """General damping, last step, for every factor not flagged: ``p <- p_old * Q`` (Q holds
    ``(p_new / p_old)^(1 - g)``: the unnormalised ``p_new^(1-g) p_old^g``), renormalised, and
    ``res[a]`` = its largest probability change.  Flagged factors belong to :func:`fallback_range`."""
    prob, Q, res, flag = m.prob, m.Q, m.res, m.flag
    n_fac = flag.shape[0]
    n_chunk = (n_fac + CHUNK - 1) // CHUNK
    for c in prange(n_chunk):
        for a in range(c * CHUNK, min(n_fac, (c + 1) * CHUNK)):
            if flag[a]:
                continue
            r = 0.0
            for e in range(fac_ptr[a], fac_ptr[a + 1]):
                q = card[edge_var[e]]
                if Q.shape[1] == 1:  # binary layout: Q = odds quotient^(1 - g)
                    if q == 2:
                        w = prob[e, 1] / prob[e, 0] * Q[e, 0]  # the damped odds (in range: see _commit_edge)
                        p0 = 1.0 / (1.0 + w)
                        p1 = w * p0
                        d0 = abs(p0 - prob[e, 0])
                        d1 = abs(p1 - prob[e, 1])
                        r = d0 if d0 > r else r
                        r = d1 if d1 > r else r
                        prob[e, 0] = p0
                        prob[e, 1] = p1
                    continue
                s = 0.0
                for x in range(q):
                    s += prob[e, x] * Q[e, x]
                inv = 1.0 / s
                for x in range(q):
                    v = prob[e, x] * Q[e, x] * inv
                    dlt = abs(v - prob[e, x])
                    r = dlt if dlt > r else r
                    prob[e, x] = v
            res[a] = r


@pjit
def to_log(prob, logx, eflag, card_e, out):
    """Normalised log-messages: logx where flagged, else log(prob); -inf beyond each card."""
    n_edge = prob.shape[0]
    for e in prange(n_edge):
        q = card_e[e]
        for x in range(out.shape[1]):
            if x >= q:
                out[e, x] = kernels.NEG_INF
            elif eflag[e]:
                out[e, x] = logx[e, x]
            else:
                p = prob[e, x]
                out[e, x] = np.log(p) if p > 0.0 else kernels.NEG_INF


# ----------------------------------------------------------------- the engine
class ScaledState:
    """The scaled engine's state as a callback sees it."""

    def __init__(self, prob, logx, eflag, card_e):
        self.prob, self.logx, self.eflag, self.card_e = prob, logx, eflag, card_e

    def log_messages(self, out):
        """Write the normalised log-messages (n_edge, q_max) into ``out``."""
        to_log(self.prob, self.logx, self.eflag, self.card_e, out)

    def hard_decision(self):
        """None: the driver forms the decision from :meth:`log_messages`."""
        return None


class ScaledEngine:
    """Flooding sum-product over blocks of dense tables in scaled linear arithmetic (module docstring)."""

    name = "scaled"

    def accepts(self, graph, config) -> bool:
        """Graph-wide conditions: sum-product, at least one factor (any damping)."""
        return config.mode == "sum" and graph.n_fac > 0

    def run(self, graph, blocks, config, f2v, report):
        """Iterate from the log-messages ``f2v`` and write the final ones back.

        ``report(iteration, residual, state)`` is called after every sweep; a
        true return value stops the run.  Returns ``(history, converged, stopped)``.
        """
        blocks = [b for b in blocks if b.hi > b.lo]
        card_e = graph.card[graph.edge_var]
        prob, logx, eflag = init_state(f2v, card_e)
        ulin, vlog = exact_unary(graph.var_unary, graph.card)
        g = ScaledGraph(graph.var_ptr, graph.var_edges, graph.fac_ptr, graph.edge_var, graph.card,
                        graph.fac_param, graph.var_unary, ulin, vlog)
        m = ScaledMessages(prob=prob, logx=logx, eflag=eflag, W=np.zeros_like(f2v),
                           v2f=np.full_like(f2v, -np.inf), vexact=np.zeros(graph.n_edge, dtype=np.bool_),
                           lnew=np.full_like(f2v, -np.inf), work=np.zeros_like(f2v),
                           res=np.zeros(graph.n_fac), flag=np.zeros(graph.n_fac, dtype=np.bool_))
        dmp = damping_of(config.damping)
        if dmp.mode == 2:  # binary graphs: one odds quotient per edge (half the logs and exps)
            m = m._replace(Q=np.ones((graph.n_edge, 1)) if graph.q_max == 2 else np.ones_like(f2v))
        state = ScaledState(prob, logx, eflag, card_e)
        history, converged, stopped = [], False, False
        for it in range(config.max_iter):
            var_linear(g, m)
            n_fb = 0
            with np.errstate(over="ignore", under="ignore"):  # out-of-range quotients: flagged (no-JIT)
                for b in blocks:
                    n_fb += scaled_update(g, b.arrays, m, dmp.mode, dmp.k, dmp.bits, dmp.g)
            if dmp.mode == 2:  # (p_new / p_old)^(1 - g) by SIMD log and exp over the whole array
                np.log(m.Q, out=m.Q)
                np.multiply(m.Q, 1.0 - dmp.g, out=m.Q)
                np.exp(m.Q, out=m.Q)
                mix_finish(graph.fac_ptr, graph.edge_var, graph.card, m)
            if n_fb:  # factors with an output entry below TINY: exact log-domain update
                for b in blocks:
                    fallback_range(b.lo, b.hi, g, b.arrays, m, dmp.g)
            r = float(m.res.max())
            history.append(r)
            converged = r < config.tol
            if report(it + 1, r, state):
                stopped = True
                break
            if converged:
                break
        to_log(prob, logx, eflag, card_e, f2v)
        return history, converged, stopped


#: The scaled-table flooding engine (one instance: blocks name it as their ``engine``).
SCALED = ScaledEngine()
