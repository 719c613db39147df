"""Flooding sum-product BP for binary Ising models and parity checks: the ratio form.

For binary variables a normalised message is one number: its odds
``X = p(1) / p(0) = e^L`` (``L = m(1) - m(0)`` the log-odds).  A sweep works on
odds only, with products and quotients and no exp or log:

* variable side (one pass over the variables, prefix and suffix products, never
  a division by a message)::

      E_{i->a} = e^{h_i} prod_{b in di \\ a} X_{b->i},   h_i = log phi_i(1) - log phi_i(0)

* Ising factor ``psi = exp(J s0 s1)``, with ``c = e^{-2J}`` (the closed form of
  the 2 x 2 table, a Moebius map of the other slot's odds)::

      X_{a->0} = (E_{1->a} + c) / (c E_{1->a} + 1)

  It depends on one cavity only, so the variable pass applies it as soon as it
  forms ``E`` and writes the partner edge's new message directly (no second
  pass over the edges of Ising blocks);
* parity check (weight w, target t), the tanh rule of LDPC decoding with
  ``T_j = (E_j - 1) / (E_j + 1) = p_j(1) - p_j(0)``::

      tau_{a->k} = sgn tanh(w / 2) prod_{j != k} (-T_j),   X_{a->k} = (1 + tau) / (1 - tau)

  with prefix and suffix products, ``sgn = -1`` for target 0, and ``|tau|``
  capped at ``TAU_MAX`` (log-odds of about 36.7, as every tanh-rule decoder does).

**Damping** mixes the normalised log-messages, ``L <- (1 - g) L_new + g L_old``
(libDAI's and PGMax's definition, :func:`algorithms.bp.kernels.damp_commit`),
that is ``X <- X_new^(1 - g) X_old^g``.  For a dyadic ``g = m / 2^k`` (``k <=
DYADIC_MAX_K``: 0.5, 0.25, 0.75, ...) this is ``k`` nested square roots
(Horner over the binary digits of ``1 - g``; each root is correctly rounded),
done inside the kernels at almost no cost.  Any other ``g`` takes
``X_old * exp((1 - g) log(X_new / X_old))`` with NumPy's SIMD exp and log over
whole arrays between the kernels.

The **residual** is the largest change of a message probability after damping,
``|p_new - p_old| = |X_new - X_old| / ((1 + X_new)(1 + X_old))``, exactly the
quantity the log-domain engine measures.

**Exact to round-off, by a range argument.**  Every product and quotient of
positive normal floats has a relative error of a few ulps, which in the log
domain is an absolute error of a few 1e-16 -- what the log-domain engine's own
sums carry.  Only overflow or underflow could break this, and it cannot
happen: a message's log-odds never exceed ``m_e = max(lb_e, |L_init,e|)``
(``lb_e = 2|J|`` for a coupling, 36.7 for a check; damping mixes convexly),
and the run takes this form only when every ``m_e <= 100`` and every variable
has ``|h_i| + sum_e m_e <= 700`` (so every product lies within e^+-700, inside
the normal range).  Otherwise -- extreme fields, huge degrees with strong
couplings, or initial messages certain to hundreds of nats -- the same engine
runs in the log-odds form (:func:`var_sweep`, :func:`ising_fac_sweep`,
:func:`parity_fac_sweep`: one tanh and one log per edge, damping by mixing
log-odds), equally exact and slower.  Cavity odds above ``BIG = 1e100`` are
clamped where they enter the Moebius map, which changes its value by a
relative ``e^30 / 1e100`` at most.  Divisions dominate the cost of a sweep, so
the residual and the new odds share one (:func:`_commit`).

It applies when every variable is binary with finite evidence and every block
is an Ising coupling block (|J| <= 15) or, without damping, a parity block
(:func:`parity_block` says why not with damping); then every message is
finite.  Results agree with the log-domain engine to round-off (not bit for
bit); the parity cap changes messages only where a probability is below about
1e-16.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from fgraph.jit import njit, pjit, prange

__all__ = [
    "TANH", "TanhEngine", "TanhState", "IsingBlock", "ParityBlock", "ising_block", "parity_block",
    "llr_from_log", "log_from_llr", "var_sweep", "ising_fac_sweep", "parity_fac_sweep",
    "belief_llr", "var_cavity", "tanh_half", "RatioPlan", "ratio_plan", "dyadic", "var_ratio",
    "parity_ratio", "mix_finish", "belief_odds",
]

#: Largest |tanh| a parity message may take: its log-odds are capped at about 36.7
#: (a probability of 1e-16), as every tanh-rule decoder does; beyond that
#: 1 - tau rounds to 0 and the log-odds would be infinite.
TAU_MAX = 1.0 - 2.0**-52

#: Bounds of the ratio form (module docstring): per-edge log-odds and per-variable
#: sums of |log-odds| (with the field) that keep every product inside the normal range.
EDGE_BOUND = 100.0
VAR_BOUND = 700.0
#: Cavity odds are clamped to this where they enter the Moebius map.
BIG = 1e100
#: Largest k of a damping m / 2^k done by nested square roots (beyond it, exp and log).
DYADIC_MAX_K = 2

VAR_CHUNK = 1024  # variables per parallel task of var_ratio
EDGE_CHUNK = 8192  # edges per parallel task of mix_finish


class IsingBlock(NamedTuple):
    """An Ising block offered to the tanh engine: factors lo..hi-1 and, per parameter row,
    ``tanh(J)`` (the log-odds form) and ``c = exp(-2 J)`` (the ratio form)."""

    lo: int
    hi: int
    tJ: np.ndarray  # float64 (n_param,)
    c: np.ndarray  # float64 (n_param,)

    @property
    def engine(self):
        return TANH


class ParityBlock(NamedTuple):
    """A parity block offered to the tanh engine: factors lo..hi-1, tanh(weight / 2) and the target's sign."""

    lo: int
    hi: int
    tw: np.ndarray  # float64 (n_param,): 1 for a hard check
    sgn: np.ndarray  # float64 (n_param,): -1 for target 0, +1 for target 1

    @property
    def engine(self):
        return TANH


def ising_block(graph, t, config):
    """The :class:`IsingBlock` of block t, or None when the tanh engine cannot run it.

    Needs sum-product and ``fast_paths``, and |J| <= 15 (so that tanh(J) < 1 in
    floating point).  Any damping in [0, 1).
    """
    if not (config.fast_paths and config.mode == "sum"):
        return None
    J = np.asarray(graph.params[t]["J"], dtype=np.float64)
    if not np.all(np.abs(J) <= 15.0):
        return None
    return IsingBlock(int(graph.type_ptr[t]), int(graph.type_ptr[t + 1]), np.tanh(J), np.exp(-2.0 * J))


def parity_block(graph, t, config):
    """The :class:`ParityBlock` of block t, or None when the tanh engine cannot run it.

    Needs sum-product, ``fast_paths`` and no damping.  The tanh rule caps a
    check's log-odds at about 36.7; undamped, that changes probabilities by
    1e-16 at most, but damping mixes the capped log-odds themselves
    (``(1 - g) 36.7`` instead of ``(1 - g) L`` for a message certain to ``L``
    nats), which can move a probability by far more than round-off: damped
    parity checks run in the log-domain engine.
    """
    if not (config.fast_paths and config.mode == "sum" and config.damping == 0.0):
        return None
    p = graph.params[t]
    lo, hi = int(graph.type_ptr[t]), int(graph.type_ptr[t + 1])
    return ParityBlock(lo, hi, np.tanh(0.5 * np.asarray(p["weight"])),
                       np.where(np.asarray(p["target"]) == 0, -1.0, 1.0))


def dyadic(damping: float, max_k: int = DYADIC_MAX_K):
    """``(k, bits)`` with ``1 - damping = sum_j b_j 2^-j`` (bit j - 1 of ``bits`` is b_j), or None.

    None when ``damping`` is not ``m / 2^k`` with ``k <= max_k`` (then the
    damped odds take exp and log).  ``(0, 0)`` for no damping.

    Examples
    --------
    >>> dyadic(0.5), dyadic(0.25), dyadic(0.75), dyadic(0.3)
    ((1, 1), (2, 3), (2, 2), None)
    """
    for k in range(max_k + 1):
        m = damping * 2**k
        if m == int(m):
            a = 2**k - int(m)  # 1 - damping = a / 2^k
            bits = 0
            for j in range(1, k + 1):  # b_j is bit (k - j) of a
                if (a >> (k - j)) & 1:
                    bits |= 1 << (j - 1)
            return k, bits
    return None


class RatioPlan(NamedTuple):
    """The per-run arrays of the ratio form (:func:`ratio_plan`).

    Attributes
    ----------
    eh : float64 (n_var,)
        ``exp(h_i)``.
    ce : float64 (n_edge,)
        ``+c`` on the first edge of an Ising factor (its partner is the next
        edge), ``-c`` on the second (partner: the previous edge), 0 on parity edges.
    d_max : int
        Largest variable degree (scratch length of :func:`var_ratio`).
    """

    eh: np.ndarray
    ce: np.ndarray
    d_max: int


def ratio_plan(graph, blocks, L0):
    """The :class:`RatioPlan` of the graph, or None when the ratio form's range bounds fail.

    Parameters
    ----------
    graph : CompiledGraph
    blocks : list of IsingBlock or ParityBlock
    L0 : ndarray of float64, shape (n_edge,)
        Initial log-odds of the factor messages.
    """
    n_edge = graph.n_edge
    h = graph.var_unary[:, 1] - graph.var_unary[:, 0]
    ce = np.zeros(n_edge)
    lb = np.zeros(n_edge)
    for b in blocks:
        e_lo, e_hi = int(graph.fac_ptr[b.lo]), int(graph.fac_ptr[b.hi])
        par = np.asarray(graph.fac_param[b.lo : b.hi])
        if isinstance(b, IsingBlock):
            c = b.c[par]
            first = np.asarray(graph.fac_ptr[b.lo : b.hi])
            ce[first] = c
            ce[first + 1] = -c
            lb[first] = lb[first + 1] = np.abs(np.log(c))
        else:
            tw = np.minimum(np.abs(b.tw), TAU_MAX)
            cap = np.log1p(tw) - np.log1p(-tw)
            deg = np.diff(np.asarray(graph.fac_ptr[b.lo : b.hi + 1]))
            lb[e_lo:e_hi] = np.repeat(cap, deg)
    m = np.maximum(lb, np.abs(L0))
    if n_edge and not m.max() <= EDGE_BOUND:
        return None
    per_var = np.abs(h) + np.bincount(graph.edge_var, weights=m, minlength=graph.n_var)
    if graph.n_var and not per_var.max() <= VAR_BOUND:
        return None
    deg = np.diff(graph.var_ptr)
    return RatioPlan(np.exp(h), ce, int(deg.max()) if deg.size else 1)


class TanhState:
    """The tanh engine's state as a callback sees it: the factor messages (odds or log-odds), the fields."""

    def __init__(self, graph, h, Lf=None, eh=None, X=None):
        self.graph, self.h, self.Lf, self.eh, self.X = graph, h, Lf, eh, X

    def log_messages(self, out):
        """Write the normalised log-messages (n_edge, q_max) into ``out``."""
        log_from_llr(self.Lf if self.X is None else np.log(self.X), out)

    def hard_decision(self):
        """Argmax of the current beliefs, int64 (n_var,) (ties: state 0)."""
        g = self.graph
        out = np.empty(g.n_var)
        if self.X is None:
            belief_llr(g.var_ptr, g.var_edges, self.h, self.Lf, out)
            return (out > 0).astype(np.int64)
        belief_odds(g.var_ptr, g.var_edges, self.eh, self.X, out)
        return (out > 1.0).astype(np.int64)


class TanhEngine:
    """Flooding sum-product for binary graphs of Ising and parity blocks (module docstring).

    The engine owns the variable side and the loop; each block updates its
    factors with its own kernel (Ising factors during the variable pass).  A
    graph runs here when every variable is binary with finite evidence and every
    block's rule offers an :class:`IsingBlock` or :class:`ParityBlock` (then
    every message is finite).  Any damping.
    """

    name = "tanh"

    def accepts(self, graph, config) -> bool:
        """Graph-wide conditions: sum-product, binary variables with finite evidence."""
        return bool(config.mode == "sum" and np.all(graph.card == 2) and np.all(np.isfinite(graph.var_unary)))

    def run(self, graph, blocks, config, f2v, report):
        """Iterate from the log-messages ``f2v`` and write the final ones back.

        ``report(iteration, residual, state)`` is called after every sweep; a
        true return value stops the run.  Returns ``(history, converged, stopped)``.
        """
        L0 = llr_from_log(f2v)
        plan = ratio_plan(graph, blocks, L0)
        if plan is None:
            return self._run_llr(graph, blocks, config, f2v, report, L0)
        return self._run_ratio(graph, blocks, config, f2v, report, L0, plan)

    def _run_ratio(self, graph, blocks, config, f2v, report, L0, plan):
        X = np.exp(L0)
        Xn = np.empty_like(X)
        Ein = np.empty_like(X)
        n_chunk = max(1, -(-graph.n_var // VAR_CHUNK))
        rch = np.zeros(n_chunk)
        rfin = np.zeros(max(1, -(-graph.n_edge // EDGE_CHUNK)))
        res = np.zeros(graph.n_fac)
        parity = [b for b in blocks if isinstance(b, ParityBlock) and b.hi > b.lo]
        g = config.damping
        dy = dyadic(g)
        mode, dk, dbits = (0, 0, 0) if g == 0.0 else ((1, dy[0], dy[1]) if dy is not None else (2, 0, 0))
        h = graph.var_unary[:, 1] - graph.var_unary[:, 0]
        state = TanhState(graph, h, eh=plan.eh, X=X)
        history, converged, stopped = [], False, False
        for it in range(config.max_iter):
            var_ratio(graph.var_ptr, graph.var_edges, plan.eh, plan.ce, X, Xn, Ein, rch, plan.d_max, mode, dk,
                      dbits)
            r = float(rch.max())
            for b in parity:
                parity_ratio(b.lo, b.hi, graph.fac_ptr, graph.fac_param, b.tw, b.sgn, Ein, X, Xn, res, mode,
                             dk, dbits)
                r = max(r, float(res[b.lo : b.hi].max()))
            if mode == 2:  # Xn holds X_new / X_old: X_old (X_new / X_old)^(1 - g) with SIMD log and exp
                np.log(Xn, out=Xn)
                Xn *= 1.0 - g
                np.exp(Xn, out=Xn)
                mix_finish(X, Xn, rfin)
                r = float(rfin.max())
            X, Xn = Xn, X
            state.X = X
            history.append(r)
            converged = r < config.tol
            if report(it + 1, r, state):
                stopped = True
                break
            if converged:
                break
        log_from_llr(np.log(X), f2v)
        return history, converged, stopped

    def _run_llr(self, graph, blocks, config, f2v, report, Lf):
        tau = np.tanh(0.5 * Lf)
        T = np.empty(graph.n_edge)
        h = np.ascontiguousarray(graph.var_unary[:, 1] - graph.var_unary[:, 0])
        res = np.zeros(graph.n_fac)
        scratch = np.empty(graph.n_edge)
        state = TanhState(graph, h, Lf=Lf)
        history, converged, stopped = [], False, False
        for it in range(config.max_iter):
            var_sweep(graph.var_ptr, graph.var_edges, h, Lf, T)
            for b in blocks:
                if isinstance(b, IsingBlock):
                    ising_fac_sweep(b.lo, b.hi, graph.fac_ptr, graph.fac_param, b.tJ, T, tau, Lf,
                                    config.damping, res)
                else:
                    parity_fac_sweep(b.lo, b.hi, graph.fac_ptr, graph.fac_param, b.tw, b.sgn, T, scratch, tau,
                                     Lf, config.damping, res)
            r = float(res.max()) if res.size else 0.0
            history.append(r)
            converged = r < config.tol
            if report(it + 1, r, state):
                stopped = True
                break
            if converged:
                break
        log_from_llr(Lf, f2v)
        return history, converged, stopped


#: The tanh-domain flooding engine (one instance: blocks name it as their ``engine``).
TANH = TanhEngine()


def llr_from_log(f2v: np.ndarray) -> np.ndarray:
    """Log-odds ``m(1) - m(0)`` of binary log-messages, float64 (n_edge,)."""
    return np.ascontiguousarray(f2v[:, 1] - f2v[:, 0])


def log_from_llr(L: np.ndarray, out: np.ndarray) -> None:
    """Write normalised binary log-messages of log-odds ``L`` into ``out[:, :2]``.

    ``m(1) = -log(1 + e^-L)``, ``m(0) = -log(1 + e^L)`` (stable softplus form: both
    share ``log1p(e^-|L|)``, one exp and one log per edge).
    """
    s = np.log1p(np.exp(-np.abs(L)))
    out[:, 1] = -(np.maximum(0.0, -L) + s)
    out[:, 0] = -(np.maximum(0.0, L) + s)


# --------------------------------------------------------------------------- ratio form
@njit(inline="always")
def _commit(N, D, xo, mode, dk, dbits):
    """(value to store, residual) of a new message with odds ``N / D`` against the old odds ``xo``.

    mode 0: no damping; mode 1: dyadic damping ``(N/D)^(1-g) xo^g`` by ``dk``
    nested square roots (Horner over the bits of 1 - g); mode 2: the quotient
    ``(N/D) / xo``, finished by :func:`mix_finish` (residual 0 here).  The
    residual ``|v - xo| / ((1 + v)(1 + xo))`` and the quotient ``v = N / D``
    share one division when ``mode == 0`` or ``g == 1/2`` (``v = w / D`` with
    ``w = N`` or ``sqrt(N xo D)``); the callers keep ``N, D <= 1e114`` and the
    range bounds keep ``xo <= e^100``, so no product overflows.
    """
    if mode == 2:
        return N / (D * xo), 0.0
    if mode == 0 or (dk == 1 and dbits == 1):
        w = N if mode == 0 else np.sqrt(N * xo * D)
        s = 1.0 + xo
        q = 1.0 / (D * (D + w) * s)
        return w * (D + w) * s * q, abs(w - xo * D) * D * q
    v = xo
    xn = N / D
    for j in range(dk, 0, -1):
        v = np.sqrt((xn if (dbits >> (j - 1)) & 1 else xo) * v)
    return v, abs(v - xo) / ((1.0 + v) * (1.0 + xo))


@pjit
def var_ratio(var_ptr, var_edges, eh, ce, X, Xn, Ein, rch, d_max, mode, dk, dbits):
    """The variable pass of the ratio form, with the Ising factors applied on the fly.

    For every edge e = (i, a): the cavity odds ``E = e^{h_i} prod_{b != a} X_b``
    (prefix products in a small scratch, then suffix products).  On a parity
    edge (``ce[e] == 0``) E goes to ``Ein[e]``; on an Ising edge the factor's
    message to the other endpoint, ``(E + c) / (c E + 1)``, is damped against
    ``X`` of that edge and written to ``Xn`` there (:func:`_commit`), and
    ``rch[chunk]`` receives the largest residual of the chunk's variables.

    Parameters
    ----------
    var_ptr, var_edges : ndarray of int64
    eh : ndarray of float64, shape (n_var,)
        ``exp(h_i)``.
    ce : ndarray of float64, shape (n_edge,)
        :attr:`RatioPlan.ce`.
    X : ndarray of float64, shape (n_edge,)
        Current factor messages (odds).
    Xn : ndarray of float64, shape (n_edge,)
        Output: the new odds of Ising edges.
    Ein : ndarray of float64, shape (n_edge,)
        Output: cavity odds of parity edges.
    rch : ndarray of float64, shape (ceil(n_var / VAR_CHUNK),)
        Output: residual per chunk of variables.
    d_max, mode, dk, dbits : int
    """
    n_var = eh.shape[0]
    for c in prange(rch.shape[0]):
        pre = np.empty(d_max)
        r = 0.0
        for i in range(c * VAR_CHUNK, min(n_var, (c + 1) * VAR_CHUNK)):
            lo = var_ptr[i]
            hi = var_ptr[i + 1]
            acc = eh[i]
            for k in range(lo, hi):
                pre[k - lo] = acc
                acc *= X[var_edges[k]]
            acc = 1.0
            for k in range(hi - 1, lo - 1, -1):
                e = var_edges[k]
                E = pre[k - lo] * acc
                acc *= X[e]
                cc = ce[e]
                if cc == 0.0:
                    Ein[e] = E
                    continue
                f = e + 1 if cc > 0.0 else e - 1
                cc = abs(cc)
                E = min(E, BIG)
                v, d = _commit(E + cc, cc * E + 1.0, X[f], mode, dk, dbits)
                Xn[f] = v
                r = d if d > r else r
        rch[c] = r


@pjit
def parity_ratio(lo, hi, fac_ptr, fac_param, tw, sgn, Ein, X, Xn, res, mode, dk, dbits):
    """Parity checks lo..hi-1 in the ratio form, linear in the degree.

    With ``-T_j = 2 / (E_j + 1) - 1`` from the cavity odds ``Ein``, the check
    sends ``tau_{a->k} = sgn tanh(w / 2) prod_{j != k} (-T_j)`` (capped at
    TAU_MAX), i.e. the odds ``(1 + tau) / (1 - tau)``, damped against ``X``
    (:func:`_commit`) into ``Xn``; ``res[a]`` is the largest residual.  The
    prefix products live in ``Xn`` and the factors ``-T_j`` in ``Ein`` (rows the
    factor owns) until the backward pass overwrites them.
    """
    for k in prange(hi - lo):
        a = lo + k
        e_lo = fac_ptr[a]
        e_hi = fac_ptr[a + 1]
        c = sgn[fac_param[a]] * tw[fac_param[a]]
        acc = 1.0
        for e in range(e_lo, e_hi):
            Xn[e] = acc
            m = 2.0 / (Ein[e] + 1.0) - 1.0
            Ein[e] = m
            acc *= m
        acc = 1.0
        r = 0.0
        for e in range(e_hi - 1, e_lo - 1, -1):
            n = c * Xn[e] * acc
            acc *= Ein[e]
            n = min(max(n, -TAU_MAX), TAU_MAX)
            v, d = _commit(1.0 + n, 1.0 - n, X[e], mode, dk, dbits)
            Xn[e] = v
            r = d if d > r else r
        res[a] = r


@pjit
def mix_finish(X, Q, rch):
    """General damping, last step: ``Q <- X * Q`` (Q holds ``(X_new / X)^(1 - g)``) and the
    largest residual ``|p(Q) - p(X)|`` of each chunk of EDGE_CHUNK edges into ``rch``."""
    n = X.shape[0]
    for c in prange(rch.shape[0]):
        r = 0.0
        for e in range(c * EDGE_CHUNK, min(n, (c + 1) * EDGE_CHUNK)):
            xo = X[e]
            v = xo * Q[e]
            Q[e] = v
            a = min(v, BIG)
            b = min(xo, BIG)
            d = abs(a - b) / ((1.0 + a) * (1.0 + b))
            r = d if d > r else r
        rch[c] = r


@pjit
def belief_odds(var_ptr, var_edges, eh, X, out):
    """Odds of every variable's belief: out[i] = e^{h_i} times the product of the incoming odds."""
    n_var = eh.shape[0]
    for i in prange(n_var):
        acc = eh[i]
        for k in range(var_ptr[i], var_ptr[i + 1]):
            acc *= X[var_edges[k]]
        out[i] = acc


# --------------------------------------------------------------------------- log-odds form
# The fallback when the ratio form's range bounds fail (module docstring): one tanh
# on the variable side and one log on the factor side per edge.


@njit(error_model="numpy")
def _atanh2(t):
    """2 atanh(t) = log((1 + t) / (1 - t)) for |t| < 1."""
    return np.log((1.0 + t) / (1.0 - t))


def var_sweep(var_ptr, var_edges, h, Lf, T):
    """T[e] = tanh(L_{i->a} / 2) for every edge: the cavity sums of :func:`var_cavity`, then tanh."""
    var_cavity(var_ptr, var_edges, h, Lf, T)
    tanh_half(T)


@pjit
def tanh_half(T):
    """T <- tanh(T / 2) in place, as sign(T) (1 - e^-|T|) / (1 + e^-|T|): one exp that
    never overflows; exact limits +-1, and an absolute error ~1e-16 near 0, which is
    what the probability-domain residual sees."""
    for e in prange(T.shape[0]):
        v = T[e]
        u = np.exp(-abs(v))
        r = (1.0 - u) / (1.0 + u)
        T[e] = r if v >= 0.0 else -r


@pjit
def var_cavity(var_ptr, var_edges, h, Lf, V):
    """V[e] = L_{i->a} = h_i + sum of the other Lf at i (prefix and suffix sums)."""
    n_var = h.shape[0]
    for i in prange(n_var):
        acc = h[i]
        for k in range(var_ptr[i], var_ptr[i + 1]):
            e = var_edges[k]
            V[e] = acc
            acc += Lf[e]
        acc = 0.0
        for k in range(var_ptr[i + 1] - 1, var_ptr[i] - 1, -1):
            e = var_edges[k]
            V[e] += acc
            acc += Lf[e]


@pjit
def ising_fac_sweep(lo, hi, fac_ptr, fac_param, tJ, T, tau, Lf, damping, res):
    """Ising factors in the tanh domain: tau_{a->0} = tanh(J) T[e1], tau_{a->1} = tanh(J) T[e0].

    Writes the new log-odds Lf and tanh-values tau of the factor's two edges
    (after damping) and res[a] = the largest probability change.
    """
    for k in prange(hi - lo):
        a = lo + k
        e0 = fac_ptr[a]
        e1 = e0 + 1
        t = tJ[fac_param[a]]
        n0 = t * T[e1]
        n1 = t * T[e0]
        if damping > 0.0:
            l0 = (1.0 - damping) * _atanh2(n0) + damping * Lf[e0]
            l1 = (1.0 - damping) * _atanh2(n1) + damping * Lf[e1]
            n0 = np.tanh(0.5 * l0)
            n1 = np.tanh(0.5 * l1)
        else:
            l0 = _atanh2(n0)
            l1 = _atanh2(n1)
        r0 = abs(n0 - tau[e0])
        r1 = abs(n1 - tau[e1])
        res[a] = 0.5 * (r0 if r0 > r1 else r1)
        tau[e0] = n0
        tau[e1] = n1
        Lf[e0] = l0
        Lf[e1] = l1


@pjit
def parity_fac_sweep(lo, hi, fac_ptr, fac_param, tw, sgn, T, P, tau, Lf, damping, res):
    """Parity checks in the tanh domain, linear in the degree.

    With T_j = tanh(L_{j->a} / 2) = p_j(1) - p_j(0), the other slots' parity has
    P_even - P_odd = prod_{j != k} (-T_j), and the check sends
    tau_{a->k} = sgn * tanh(weight / 2) * prod_{j != k} (-T_j), with sgn = -1 for
    target 0 and +1 for target 1 (``tw``, ``sgn`` per parameter row).  Prefix
    products go to P (scratch, rows owned by the factor), suffix products are
    carried backwards.  |tau| is capped at TAU_MAX.
    """
    for k in prange(hi - lo):
        a = lo + k
        e_lo = fac_ptr[a]
        e_hi = fac_ptr[a + 1]
        c = sgn[fac_param[a]] * tw[fac_param[a]]
        acc = 1.0
        for e in range(e_lo, e_hi):
            P[e] = acc
            acc *= -T[e]
        acc = 1.0
        r = 0.0
        for e in range(e_hi - 1, e_lo - 1, -1):
            n = c * P[e] * acc
            acc *= -T[e]
            if n > TAU_MAX:
                n = TAU_MAX
            elif n < -TAU_MAX:
                n = -TAU_MAX
            lv = _atanh2(n)
            if damping > 0.0:
                lv = (1.0 - damping) * lv + damping * Lf[e]
                n = 1.0 - 2.0 / (np.exp(lv) + 1.0)
            d = abs(n - tau[e])
            if d > r:
                r = d
            tau[e] = n
            Lf[e] = lv
        res[a] = 0.5 * r


@pjit
def belief_llr(var_ptr, var_edges, h, Lf, out):
    """Log-odds of every variable's belief: out[i] = h_i + sum of the incoming Lf."""
    n_var = h.shape[0]
    for i in prange(n_var):
        acc = h[i]
        for k in range(var_ptr[i], var_ptr[i + 1]):
            acc += Lf[var_edges[k]]
        out[i] = acc
