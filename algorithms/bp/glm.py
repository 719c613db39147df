"""Relaxed BP for dense GLM factors: BP on learning problems (docs/theory.md §6.10).

A ``glm`` factor mu (:mod:`fgraph.glm_factor`) has arity N and the
log-potential ``log P_out(y_mu | z_mu)`` with ``z_mu = sum_j F_muj level(x_j)``.
Exact BP would sum over ``q^(N-1)`` states per message.  Relaxed BP replaces
the cavity sum ``sum_{j != i} F_muj level(x_j)``, with ``x_j`` distributed by
the incoming message ``mu_{j->mu}``, by a Gaussian of the same mean and
variance (central limit theorem: exact as N -> infinity, error O(1/sqrt N)
per factor for generic messages)::

    E_j = sum_x p_j(x) level(x),      Var_j = sum_x p_j(x) (level(x) - E_j)^2,   p_j = exp(mu_{j->mu})
    omega_{mu->i} = sum_{j != i} F_muj E_j,     V_{mu->i} = sum_{j != i} F_muj^2 Var_j
    nu_{mu->i}(x) = log Z_out(y_mu; omega_{mu->i} + F_mui level(x), V_{mu->i})       (then normalised)

with ``Z_out(y; omega, V) = int P_out(y | z) N(z; omega, V) dz`` from the shared
denoiser contract (:func:`algorithms.denoisers.kernels.channel_gout`).  Each
cavity sum is the full sum minus one term, so a factor costs O(N q) channel
evaluations.  Cancellation in ``V - F^2 Var_i`` is guarded by clipping the
cavity variance below at ``VAR_REL * V`` (and at ``VAR_MIN``).

**Bethe term.**  ``log Z_mu`` uses the same approximation over all slots:
``log Z_out(y_mu; sum_j F_muj E_j, sum_j F_muj^2 Var_j)``.  The Bethe log Z
of a graph with ``glm`` factors is therefore approximate (it is not the exact
Bethe free energy of the factor graph, only its Gaussian relaxation).

**Contradictions.**  An all ``-inf`` incoming message (zero mass) makes the
factor's other outgoing messages all ``-inf``, as in exact BP; the message
back to that slot is formed from the other slots.

**Max-product** has no Gaussian relaxation here: the rule raises a
ValueError in max mode (run sum-product and take the argmax of the
marginals).

This module also defines :class:`EnumerationRule` (exact, by dense
enumeration of ``graph.log_table``; tiny factors only): the exact reference for
``glm`` and ``committee`` factors of tiny arity
(``register_bp_rule("glm", EnumerationRule(), overwrite=True)``).  The
``committee`` type's fast rule is :class:`algorithms.bp.committee.CommitteeRule`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

import fgraph.glm_factor  # noqa: F401  (registers the 'glm' and 'committee' factor types)
from fgraph.jit import njit, pjit, prange

from ..denoisers.kernels import channel_gout
from .kernels import Messages, commit_factor, graph_arrays, load_cavities, normalize_at
from .rules import BPRule, dense_f2v, dense_log_z

__all__ = ["GLMRule", "GLMBlock", "EnumerationRule", "VAR_MIN", "VAR_REL", "glm_range", "glm_log_z"]

NEG_INF = -np.inf

#: Relative floor of a cavity variance (guards ``V - F^2 Var`` against cancellation).
VAR_REL = 1e-12
#: Absolute floor of every variance passed to the channel.
VAR_MIN = 1e-300


@njit
def _moments(v2f, e, q, levels, r):
    """Mean and variance of level(x) under exp(v2f[e, :q]); (nan, nan) for an all -inf row."""
    m = NEG_INF
    for x in range(q):
        if v2f[e, x] > m:
            m = v2f[e, x]
    if m == NEG_INF:
        return np.nan, np.nan
    s = 0.0
    s1 = 0.0
    for x in range(q):
        w = np.exp(v2f[e, x] - m)
        s += w
        s1 += w * levels[r, x]
    mean = s1 / s
    s2 = 0.0
    for x in range(q):
        d = levels[r, x] - mean
        s2 += np.exp(v2f[e, x] - m) * d * d
    return mean, s2 / s


@njit
def _slot_sums(v2f, e0, s0, n, edge_var, card, levels, F, r, mean, var):
    """Moments of slots s0..s0+n-1 of the factor whose first edge is e0, with weights F[r, :n].

    Writes the slot means and variances into ``mean[s], var[s]`` and returns
    ``(sum_i F[r, i] mean, sum_i F[r, i]^2 var, n_dead, dead)``: a slot whose
    incoming message has zero mass counts as (0, 0); ``dead`` is the last such
    slot (-1 if none).
    """
    om = 0.0
    V = 0.0
    n_dead = 0
    dead = -1
    for i in range(n):
        s = s0 + i
        e = e0 + s
        mu, v = _moments(v2f, e, card[edge_var[e]], levels, r)
        if mu != mu:  # zero-mass incoming message
            n_dead += 1
            dead = s
            mu = 0.0
            v = 0.0
        mean[s] = mu
        var[s] = v
        f = F[r, i]
        om += f * mu
        V += f * f * v
    return om, V, n_dead, dead


@njit
def _glm_one(a, g, b, v2f, out):
    """Relaxed-BP messages of glm factor a (module docstring); g: GraphArrays, b: GLMBlock."""
    fac_ptr, edge_var, card = g.fac_ptr, g.edge_var, g.card
    F, levels = b.F, b.levels
    e0 = fac_ptr[a]
    d = fac_ptr[a + 1] - e0
    r = g.fac_param[a]
    code = b.channel[r]
    yr = b.y[r]
    cp = b.cpar[r]
    mean = np.empty(d)
    var = np.empty(d)
    om, V, n_dead, dead = _slot_sums(v2f, e0, 0, d, edge_var, card, levels, F, r, mean, var)
    floor = max(VAR_REL * V, VAR_MIN)
    for k in range(d):
        e = e0 + k
        q = card[edge_var[e]]
        if n_dead > 1 or (n_dead == 1 and k != dead):
            for x in range(q):
                out[e, x] = NEG_INF
            continue
        f = F[r, k]
        om_c = om - f * mean[k]
        V_c = max(V - f * f * var[k], floor)
        for x in range(q):
            out[e, x] = channel_gout(code, cp, yr, om_c + f * levels[r, x], V_c)[2]
        normalize_at(out, e, q, False)


@pjit
def glm_range(lo, hi, g, b, v2f, out):
    """Relaxed-BP f2v of glm factors lo..hi-1 (each thread writes its own factors' edge rows).

    Parameters
    ----------
    lo, hi : int
        Factor range.
    g : GraphArrays
        Wiring of the compiled graph (:func:`algorithms.bp.kernels.graph_arrays`).
    b : GLMBlock
        The glm parameter block.
    v2f, out : ndarray of float64, shape (n_edge, q_max)
    """
    for a in prange(lo, hi):
        _glm_one(a, g, b, v2f, out)


@pjit
def glm_log_z(lo, hi, g, b, v2f, out):
    """Approximate log Z_a of glm factors lo..hi-1: log Z_out(y; sum_j F E_j, sum_j F^2 Var_j)."""
    fac_ptr, edge_var, card = g.fac_ptr, g.edge_var, g.card
    F, levels, channel, cpar, y = b.F, b.levels, b.channel, b.cpar, b.y
    for a in prange(lo, hi):
        e0 = fac_ptr[a]
        r = g.fac_param[a]
        om = 0.0
        V = 0.0
        ok = True
        for k in range(fac_ptr[a + 1] - e0):
            e = e0 + k
            mu, v = _moments(v2f, e, card[edge_var[e]], levels, r)
            if mu != mu:
                ok = False
                break
            f = F[r, k]
            om += f * mu
            V += f * f * v
        if ok:
            out[a] = channel_gout(channel[r], cpar[r], y[r], om, max(V, VAR_MIN))[2]
        else:
            out[a] = NEG_INF


@njit
def seq_glm(order, g, b, m, damping):
    """One sequential sweep over the glm factors in ``order`` (fresh cavities per factor); max residual.

    g : GraphArrays; b : GLMBlock; m : Messages (f2v updated in place).
    """
    r = 0.0
    for a in order:
        load_cavities(a, g, m.f2v, m.v2f, False)
        _glm_one(a, g, b, m.v2f, m.new)
        r = max(r, commit_factor(a, g.fac_ptr, g.edge_var, g.card, m.f2v, m.new, damping, False))
    return r


def _no_max(max_mode, factor_type="glm"):
    """Refuse max-product: the Gaussian relaxations of dense factors are sum-product approximations."""
    if max_mode:
        raise ValueError(
            f"max-product is not available for {factor_type!r} factors: the Gaussian approximation of "
            "the incoming sum is a sum-product rule; run mode='sum' and take the argmax of the marginals"
        )


class GLMBlock(NamedTuple):
    """The parameter block of glm factors, as the kernels read it (one row per parameter set).

    Attributes
    ----------
    F : float64 (rows, N)
        Weights of each factor's slots.
    y : float64 (rows,)
        Observations.
    channel : int64 (rows,)
        Channel codes (:data:`fgraph.glm_factor.CHANNEL_CODES`).
    cpar : float64 (rows, 1)
        Channel parameters (the noise variance Delta).
    levels : float64 (rows, L)
        Value of each state of a slot's variable.
    """

    F: np.ndarray
    y: np.ndarray
    channel: np.ndarray
    cpar: np.ndarray
    levels: np.ndarray


def _block(graph, t):
    """(GraphArrays, GLMBlock) of block t: contiguous float64/int64 arrays (no copy when already so)."""
    p = graph.params[t]
    return graph_arrays(graph), GLMBlock(
        F=np.ascontiguousarray(p["F"], dtype=np.float64),
        y=np.ascontiguousarray(p["y"], dtype=np.float64),
        channel=np.ascontiguousarray(p["channel"], dtype=np.int64),
        cpar=np.ascontiguousarray(p["noise"], dtype=np.float64).reshape(-1, 1),
        levels=np.ascontiguousarray(p["levels"], dtype=np.float64),
    )


class GLMRule(BPRule):
    """Relaxed-BP rule of ``glm`` factors (module docstring): O(N q) channel calls per factor.

    Sum-product only; the Bethe term ``log Z_a`` is the same Gaussian relaxation.

    Examples
    --------
    One noisy-sign factor on 10 binary weights: the rule is close to exact enumeration.

    >>> import numpy as np, fgraph, algorithms
    >>> from fgraph.glm_factor import add_glm
    >>> rng = np.random.default_rng(0)
    >>> g = fgraph.FactorGraph(); _ = g.add_variables(10)
    >>> _ = add_glm(g, rng.standard_normal((1, 10)) / np.sqrt(10), [1.0], "noisy_sign", 0.5, [-1.0, 1.0])
    >>> cg = g.compile()
    >>> v2f = np.log(rng.dirichlet([1.0, 1.0], size=10))
    >>> got, want = np.zeros((10, 2)), np.zeros((10, 2))
    >>> GLMRule().f2v(cg, 0, 0, 1, v2f, got, None, False)
    >>> algorithms.dense_f2v(cg, 0, 1, v2f, want, False)
    >>> bool(np.abs(np.exp(got) - np.exp(want)).max() < 0.01)
    True
    """

    def f2v(self, graph, t, lo, hi, v2f, out, work, max_mode, fast=True):
        _no_max(max_mode)
        glm_range(lo, hi, *_block(graph, t), v2f, out)

    def log_z(self, graph, t, lo, hi, v2f, out, max_mode):
        _no_max(max_mode)
        glm_log_z(lo, hi, *_block(graph, t), v2f, out)

    def sweep_sequential(self, graph, t, order, f2v, v2f, new, work, damping, max_mode, fast=True):
        _no_max(max_mode)
        if not self._f2v_is(GLMRule):
            return None
        return seq_glm(order, *_block(graph, t), Messages(f2v, v2f, new, work), damping)


class EnumerationRule(BPRule):
    """Exact BP rule by dense enumeration of ``graph.log_table`` (tiny factors only; sum and max).

    The exact reference for tiny ``committee`` and ``glm`` factors.

    Examples
    --------
    >>> import fgraph, algorithms
    >>> from fgraph.problems.committee import committee
    >>> prob = committee(2, 2.0, 3, seed=0)
    >>> algorithms.check_bp_rule(EnumerationRule(), prob.graph, seed=0)["max_f2v_error"]
    0.0
    """

    def f2v(self, graph, t, lo, hi, v2f, out, work, max_mode, fast=True):
        dense_f2v(graph, lo, hi, v2f, out, max_mode)

    def log_z(self, graph, t, lo, hi, v2f, out, max_mode):
        dense_log_z(graph, lo, hi, v2f, out, max_mode)

