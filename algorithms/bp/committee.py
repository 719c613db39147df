"""Gaussian-approximation BP for committee-machine factors (relaxed BP, docs/theory.md §6.10).

A ``committee`` factor mu (:class:`fgraph.glm_factor.CommitteeType`) has arity
K*N (K odd hidden units, slot ``k*N + i`` is the weight ``w_ki``) and the
log-potential ``log 1[y_mu = sign(sum_k sign(h_k))]`` with
``h_k = sum_i F_mui level(w_ki)``.  Exact BP sums over ``q^(K N - 1)`` states
per message; this rule applies the relaxed-BP Gaussian approximation of
:mod:`algorithms.bp.glm` to each hidden unit and treats the units as
independent::

    E_ki, Var_ki  = mean and variance of level(w_ki) under exp(v2f)
    omega_k = sum_i F_mui E_ki,            V_k = sum_i F_mui^2 Var_ki
    omega_(k->i) = omega_k - F_mui E_ki,   V_(k->i) = V_k - F_mui^2 Var_ki
    a_k = P(sign h_k = y) = Phi(y omega_k / sqrt V_k)

The number ``C_(-k)`` of units ``j != k`` that vote ``y`` is Poisson-binomial
with success probabilities ``a_j``.  With ``m = (K + 1) / 2`` (votes needed by
``y``), unit k changes the outcome only when ``C_(-k) = m - 1``, so::

    nu_(mu->ki)(x) = log [ P(C_(-k) >= m) + P(C_(-k) = m - 1) Phi(y u) ]     (then normalised)
    u = (omega_(k->i) + F_mui level(x)) / sqrt V_(k->i)

evaluated in the log domain (``log_ndtr``, log-sum-exp).  The leave-one-out
laws of ``C_(-k)`` come from prefix and suffix Poisson-binomial tables
(``pre[k]`` over units ``< k``, ``suf[k]`` over units ``>= k``, with suffix
tails), in O(K^2) per factor; a factor costs O(K N q + K^2).  For K = 1 the
rule is exactly :class:`algorithms.bp.glm.GLMRule` with the sign channel.
Cavity variances are clipped below at ``VAR_REL * V_k`` (and ``VAR_MIN``), as
in the GLM rule.

**Bethe term (approximate).**  ``log Z_mu = log P(C >= m)`` with all units at
their full sums ``(omega_k, V_k)``: the same Gaussian relaxation, not the exact
Bethe free energy of the factor graph.

**Contradictions.**  As in the GLM rule: an all ``-inf`` incoming message makes
the factor's other outgoing messages all ``-inf``; the message back to that
slot is formed from the other slots (the dead slot is dropped from its unit).

**Max-product** is not available (ValueError in max mode).

Importing this module registers :class:`CommitteeRule` for ``committee``
(``overwrite=True``), replacing the enumeration rule of :mod:`algorithms.bp.glm`
(still available as ``algorithms.bp.glm.EnumerationRule`` for tiny factors).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from fgraph.jit import njit, pjit, prange

from ..denoisers.kernels import log_ndtr
from .glm import VAR_MIN, VAR_REL, _no_max, _slot_sums
from .kernels import Messages, commit_factor, graph_arrays, load_cavities, normalize_at
from .rules import BPRule

__all__ = ["CommitteeRule", "CommitteeBlock", "committee_range", "committee_log_z"]

NEG_INF = -np.inf


@njit
def _lae(a, b):
    """log(exp(a) + exp(b)), exact for -inf arguments."""
    if a == NEG_INF:
        return b
    if b == NEG_INF:
        return a
    if a > b:
        return a + np.log1p(np.exp(b - a))
    return b + np.log1p(np.exp(a - b))


@njit
def _unit_sums(a, fac_ptr, edge_var, card, F, r, K, N, levels, v2f, mean, var, om, V):
    """Slot moments and unit sums of factor a; returns (n_dead, dead) (zero-mass slots count 0)."""
    e0 = fac_ptr[a]
    n_dead = 0
    dead = -1
    for k in range(K):
        om[k], V[k], nk, dk = _slot_sums(v2f, e0, k * N, N, edge_var, card, levels, F, r, mean, var)
        n_dead += nk
        if dk >= 0:
            dead = dk
    return n_dead, dead


@njit
def _vote_tables(K, sy, om, V, lp, lq, pre, suf, tail):
    """Log Poisson-binomial tables of the units' votes for y.

    ``lp[k]``, ``lq[k]``: log P(unit k votes y), log P(it does not).
    ``pre[k, c]``: log P(c of the units 0..k-1 vote y);  ``suf[k, c]``: the same over units k..K-1.
    ``tail[k, c]``: log P(at least c of the units k..K-1 vote y), c = 0..K+1.
    """
    for k in range(K):
        u = sy * om[k] / np.sqrt(max(V[k], VAR_MIN))
        lp[k] = log_ndtr(u)
        lq[k] = log_ndtr(-u)
    for c in range(K + 1):
        pre[0, c] = NEG_INF
    pre[0, 0] = 0.0
    for k in range(K):
        for c in range(K + 1):
            t = pre[k, c] + lq[k]
            if c > 0:
                t = _lae(t, pre[k, c - 1] + lp[k])
            pre[k + 1, c] = t
    for c in range(K + 2):
        suf[K, c] = NEG_INF
    suf[K, 0] = 0.0
    for k in range(K - 1, -1, -1):
        for c in range(K + 2):
            t = suf[k + 1, c] + lq[k]
            if c > 0:
                t = _lae(t, suf[k + 1, c - 1] + lp[k])
            suf[k, c] = t
    for k in range(K + 1):
        tail[k, K + 1] = NEG_INF
        for c in range(K, -1, -1):
            tail[k, c] = _lae(tail[k, c + 1], suf[k, c])
        tail[k, 0] = 0.0


@njit
def _leave_one_out(k, K, m, pre, suf, tail):
    """(log P(C_-k >= m), log P(C_-k = m - 1)) for the votes of the units j != k."""
    lb = NEG_INF
    la = NEG_INF
    for c in range(k + 1):  # units 0..k-1 contribute c votes
        if pre[k, c] == NEG_INF:
            continue
        need = m - c
        if need <= 0:
            lb = _lae(lb, pre[k, c])
        elif need <= K:
            lb = _lae(lb, pre[k, c] + tail[k + 1, need])
        need = m - 1 - c  # exactly m - 1 in total: units k+1.. give exactly `need`
        if 0 <= need <= K:
            la = _lae(la, pre[k, c] + suf[k + 1, need])
    return lb, la


@njit
def _committee_one(a, g, b, v2f, out):
    """Gaussian-approximation messages of committee factor a (module docstring); g: GraphArrays,
    b: CommitteeBlock."""
    fac_ptr, edge_var, card = g.fac_ptr, g.edge_var, g.card
    F, y, levels = b.F, b.y, b.levels
    e0 = fac_ptr[a]
    d = fac_ptr[a + 1] - e0
    r = g.fac_param[a]
    K = b.units[r]
    N = d // K
    m = (K + 1) // 2
    sy = 1.0 if y[r] >= 0.0 else -1.0
    mean = np.empty(d)
    var = np.empty(d)
    om = np.empty(K)
    V = np.empty(K)
    n_dead, dead = _unit_sums(a, fac_ptr, edge_var, card, F, r, K, N, levels, v2f, mean, var, om, V)
    lp = np.empty(K)
    lq = np.empty(K)
    pre = np.empty((K + 1, K + 1))
    suf = np.empty((K + 1, K + 2))
    tail = np.empty((K + 1, K + 2))
    _vote_tables(K, sy, om, V, lp, lq, pre, suf, tail)
    for k in range(K):
        lb, la = _leave_one_out(k, K, m, pre, suf, tail)
        floor = max(VAR_REL * V[k], VAR_MIN)
        for i in range(N):
            s = k * N + i
            e = e0 + s
            q = card[edge_var[e]]
            if n_dead > 1 or (n_dead == 1 and s != dead):
                for x in range(q):
                    out[e, x] = NEG_INF
                continue
            f = F[r, i]
            om_c = om[k] - f * mean[s]
            sv = np.sqrt(max(V[k] - f * f * var[s], floor))
            for x in range(q):
                out[e, x] = _lae(lb, la + log_ndtr(sy * (om_c + f * levels[r, x]) / sv))
            normalize_at(out, e, q, False)


@pjit
def committee_range(lo, hi, g, b, v2f, out):
    """Gaussian-approximation f2v of committee factors lo..hi-1 (each thread writes its own factors' rows).

    Parameters
    ----------
    lo, hi : int
        Factor range.
    g : GraphArrays
        Wiring of the compiled graph (:func:`algorithms.bp.kernels.graph_arrays`).
    b : CommitteeBlock
        The committee parameter block.
    v2f, out : ndarray of float64, shape (n_edge, q_max)
    """
    for a in prange(lo, hi):
        _committee_one(a, g, b, v2f, out)


@pjit
def committee_log_z(lo, hi, g, b, v2f, out):
    """Approximate log Z_a of committee factors lo..hi-1: log P(at least (K+1)/2 units vote y)."""
    fac_ptr, edge_var, card = g.fac_ptr, g.edge_var, g.card
    F, y, levels = b.F, b.y, b.levels
    for a in prange(lo, hi):
        d = fac_ptr[a + 1] - fac_ptr[a]
        r = g.fac_param[a]
        K = b.units[r]
        mean = np.empty(d)
        var = np.empty(d)
        om = np.empty(K)
        V = np.empty(K)
        n_dead, dead = _unit_sums(a, fac_ptr, edge_var, card, F, r, K, d // K, levels, v2f, mean, var, om, V)
        if n_dead > 0:
            out[a] = NEG_INF
            continue
        lp = np.empty(K)
        lq = np.empty(K)
        pre = np.empty((K + 1, K + 1))
        suf = np.empty((K + 1, K + 2))
        tail = np.empty((K + 1, K + 2))
        _vote_tables(K, 1.0 if y[r] >= 0.0 else -1.0, om, V, lp, lq, pre, suf, tail)
        out[a] = tail[0, (K + 1) // 2]


@njit
def seq_committee(order, g, b, m, damping):
    """One sequential sweep over the committee factors in ``order`` (fresh cavities per factor).

    g : GraphArrays; b : CommitteeBlock; m : Messages (f2v updated in place).  Returns the max residual.
    """
    r = 0.0
    for a in order:
        load_cavities(a, g, m.f2v, m.v2f, False)
        _committee_one(a, g, b, m.v2f, m.new)
        r = max(r, commit_factor(a, g.fac_ptr, g.edge_var, g.card, m.f2v, m.new, damping, False))
    return r


class CommitteeBlock(NamedTuple):
    """The parameter block of committee factors, as the kernels read it (one row per parameter set).

    Attributes
    ----------
    F : float64 (rows, N)
        Weights of each unit's N slots (shared by the units of a row).
    y : float64 (rows,)
        Labels (sign of the majority vote).
    units : int64 (rows,)
        Number of hidden units K of each row (odd).
    levels : float64 (rows, L)
        Value of each state of a slot's variable.
    """

    F: np.ndarray
    y: np.ndarray
    units: np.ndarray
    levels: np.ndarray


def _block(graph, t):
    """(GraphArrays, CommitteeBlock) of block t: contiguous arrays (no copy when already so)."""
    p = graph.params[t]
    return graph_arrays(graph), CommitteeBlock(
        F=np.ascontiguousarray(p["F"], dtype=np.float64),
        y=np.ascontiguousarray(p["y"], dtype=np.float64),
        units=np.ascontiguousarray(p["k"], dtype=np.int64),
        levels=np.ascontiguousarray(p["levels"], dtype=np.float64),
    )


class CommitteeRule(BPRule):
    """Gaussian-approximation BP rule of ``committee`` factors (module docstring).

    Cost O(K N q + K^2) per factor.  Sum-product only; the Bethe term
    ``log Z_a`` is the same (approximate) relaxation.

    Examples
    --------
    One factor, K = 3 units of 4 binary weights each: close to exact enumeration.

    >>> import numpy as np, fgraph, algorithms
    >>> from fgraph.glm_factor import add_committee
    >>> rng = np.random.default_rng(0)
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(12)
    >>> _ = add_committee(g, rng.standard_normal((1, 4)) / 2.0, [1.0], 3, [-1.0, 1.0])
    >>> cg = g.compile()
    >>> v2f = np.log(rng.dirichlet([3.0, 3.0], size=12))
    >>> got, want = np.zeros((12, 2)), np.zeros((12, 2))
    >>> CommitteeRule().f2v(cg, 0, 0, 1, v2f, got, None, False)
    >>> algorithms.dense_f2v(cg, 0, 1, v2f, want, False)
    >>> bool(np.abs(np.exp(got) - np.exp(want)).max() < 0.1)
    True
    """

    def f2v(self, graph, t, lo, hi, v2f, out, work, max_mode, fast=True):
        _no_max(max_mode, "committee")
        committee_range(lo, hi, *_block(graph, t), v2f, out)

    def log_z(self, graph, t, lo, hi, v2f, out, max_mode):
        _no_max(max_mode, "committee")
        committee_log_z(lo, hi, *_block(graph, t), v2f, out)

    def sweep_sequential(self, graph, t, order, f2v, v2f, new, work, damping, max_mode, fast=True):
        _no_max(max_mode, "committee")
        if not self._f2v_is(CommitteeRule):
            return None
        return seq_committee(order, *_block(graph, t), Messages(f2v, v2f, new, work), damping)

