"""Fast path of flooding sum-product BP for binary Ising models and parity checks (tanh domain).

For binary variables a normalised message is one number, its log-odds
``L = m(1) - m(0)``, or equivalently ``tau = tanh(L / 2) = p(1) - p(0)``.  For an
Ising factor ``psi = exp(J s0 s1)`` the update is a product in the tanh domain::

    tau_{a->0} = tanh(J) * tanh(L_{1->a} / 2)          (and symmetrically)

and the variable side only adds log-odds (``L_{i->a} = h_i + sum_{b != a} L_{b->i}``,
with ``h_i = log phi_i(1) - log phi_i(0)``).  A sweep therefore costs one tanh on
the variable side and one log on the factor side per edge, instead of the
several exp/log pairs of the generic log-domain kernels.  The residual is the
largest change of a message's probability, ``|tau_new - tau_old| / 2``, exactly
the quantity the log-domain engine measures.  Damping mixes log-odds, which is
the log-domain mixture of normalised messages.

A parity check multiplies tanh values (``parity_fac_sweep``), as tanh-rule LDPC
decoders do, with |tau| capped just below 1.

It applies when every variable is binary with finite evidence and the factors
are all Ising couplings or all parity checks (then every message is finite).
Results agree with the log-domain engine to round-off (not bit for bit); the
parity cap changes messages only where a probability is below about 1e-16.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from fgraph.jit import njit, pjit, prange

__all__ = [
    "TANH", "TanhEngine", "TanhState", "IsingBlock", "ParityBlock", "ising_block", "parity_block",
    "llr_from_log", "log_from_llr", "var_sweep", "ising_fac_sweep", "parity_fac_sweep",
    "belief_llr", "var_cavity", "tanh_half", "ising_fac_ratio",
]

#: Largest |tanh| a parity message may take: its log-odds are capped at about 36.7
#: (a probability of 1e-16), as every tanh-rule decoder does; beyond that
#: 1 - tau rounds to 0 and the log-odds would be infinite.
TAU_MAX = 1.0 - 2.0**-52


class IsingBlock(NamedTuple):
    """An Ising block offered to the tanh engine: factors lo..hi-1, ``tanh(J)`` per parameter row."""

    lo: int
    hi: int
    tJ: np.ndarray  # float64 (n_param,)

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
    floating point).
    """
    if not (config.fast_paths and config.mode == "sum"):
        return None
    J = np.asarray(graph.params[t]["J"])
    if not np.all(np.abs(J) <= 15.0):
        return None
    return IsingBlock(int(graph.type_ptr[t]), int(graph.type_ptr[t + 1]), np.tanh(J))


def parity_block(graph, t, config):
    """The :class:`ParityBlock` of block t, or None when the tanh engine cannot run it.

    Needs sum-product and ``fast_paths``.
    """
    if not (config.fast_paths and config.mode == "sum"):
        return None
    p = graph.params[t]
    lo, hi = int(graph.type_ptr[t]), int(graph.type_ptr[t + 1])
    return ParityBlock(lo, hi, np.tanh(0.5 * np.asarray(p["weight"])),
                       np.where(np.asarray(p["target"]) == 0, -1.0, 1.0))


class TanhState:
    """The tanh engine's state as a callback sees it: log-odds of the factor messages and the fields."""

    def __init__(self, graph, h, Lf):
        self.graph, self.h, self.Lf = graph, h, Lf

    def log_messages(self, out):
        """Write the normalised log-messages (n_edge, q_max) into ``out``."""
        log_from_llr(self.Lf, out)

    def hard_decision(self):
        """Argmax of the current beliefs, int64 (n_var,) (ties: state 0)."""
        g = self.graph
        out = np.empty(g.n_var)
        belief_llr(g.var_ptr, g.var_edges, self.h, self.Lf, out)
        return (out > 0).astype(np.int64)


class TanhEngine:
    """Flooding sum-product in the tanh domain for binary graphs of Ising and parity blocks.

    The engine owns the variable side (log-odds cavity sums) and the loop; each
    block updates its factors with its own kernel.  A graph runs here when every
    variable is binary with finite evidence and every block's rule offers an
    :class:`IsingBlock` or :class:`ParityBlock` (then every message is finite).
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
        Lf = llr_from_log(f2v)
        tau = np.tanh(0.5 * Lf)
        T = np.empty(graph.n_edge)
        h = np.ascontiguousarray(graph.var_unary[:, 1] - graph.var_unary[:, 0])
        res = np.zeros(graph.n_fac)
        scratch = np.empty(graph.n_edge) if any(isinstance(b, ParityBlock) for b in blocks) else T
        split = config.damping == 0.0
        R = np.empty(graph.n_edge) if split else T
        state = TanhState(graph, h, Lf)
        history, converged, stopped = [], False, False
        for it in range(config.max_iter):
            if split:
                # exp and log as SIMD ufuncs over whole arrays, the kernels do the rest; exp may
                # overflow to inf for huge cavity fields, which gives tau = tanh(J) exactly
                var_cavity(graph.var_ptr, graph.var_edges, h, Lf, T)
                with np.errstate(over="ignore"):
                    np.exp(T, out=T)
                for b in blocks:
                    if isinstance(b, IsingBlock):
                        ising_fac_ratio(b.lo, b.hi, graph.fac_ptr, graph.fac_param, b.tJ, T, tau, R, res)
                    else:
                        parity_fac_ratio(b.lo, b.hi, graph.fac_ptr, graph.fac_param, b.tw, b.sgn, T, scratch,
                                         tau, R, res)
                np.log(R, out=Lf)
            else:
                var_sweep(graph.var_ptr, graph.var_edges, h, Lf, T)
                for b in blocks:
                    if isinstance(b, IsingBlock):
                        ising_fac_sweep(b.lo, b.hi, graph.fac_ptr, graph.fac_param, b.tJ, T, tau, Lf,
                                        config.damping, res)
                    else:
                        parity_fac_sweep(b.lo, b.hi, graph.fac_ptr, graph.fac_param, b.tw, b.sgn, T, scratch,
                                         tau, Lf, config.damping, res)
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
    """T <- tanh(T / 2) in place, as 1 - 2/(e^T + 1): one exp; exact limits +-1 (e^T = inf
    or 0), and an absolute error ~1e-16 near 0, which is what the probability-domain
    residual sees."""
    for e in prange(T.shape[0]):
        T[e] = 1.0 - 2.0 / (np.exp(T[e]) + 1.0)


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


# --------------------------------------------------------------------------- split sweeps
# The two transcendental functions of a sweep run as NumPy ufuncs over whole
# arrays (SIMD exp/log, about 1 ns per element here, against 4-6 ns for scalar
# libm calls inside a Numba loop); the kernels below do everything else.


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
def ising_fac_ratio(lo, hi, fac_ptr, fac_param, tJ, E, tau, R, res):
    """Undamped Ising update from E[e] = exp(L_{i->a}): T = 1 - 2 / (E + 1),
    tau_{a->0} = tanh(J) T[e1] (and symmetrically); writes tau, the ratio
    R = (1 + tau) / (1 - tau) whose log is the new log-odds, and res[a]."""
    for k in prange(hi - lo):
        a = lo + k
        e0 = fac_ptr[a]
        e1 = e0 + 1
        t = tJ[fac_param[a]]
        n0 = t * (1.0 - 2.0 / (E[e1] + 1.0))
        n1 = t * (1.0 - 2.0 / (E[e0] + 1.0))
        r0 = abs(n0 - tau[e0])
        r1 = abs(n1 - tau[e1])
        res[a] = 0.5 * (r0 if r0 > r1 else r1)
        tau[e0] = n0
        tau[e1] = n1
        R[e0] = (1.0 + n0) / (1.0 - n0)
        R[e1] = (1.0 + n1) / (1.0 - n1)


@pjit
def parity_fac_ratio(lo, hi, fac_ptr, fac_param, tw, sgn, E, P, tau, R, res):
    """Undamped parity update from E[e] = exp(L_{i->a}), as :func:`parity_fac_sweep`:
    T = 1 - 2 / (E + 1), tau_{a->k} = sgn tanh(weight / 2) prod_{j != k} (-T_j) capped
    at TAU_MAX; writes tau, the ratio R = (1 + tau) / (1 - tau) whose log is the new
    log-odds, and res[a].  P is scratch (prefix products, rows owned by the factor)."""
    for k in prange(hi - lo):
        a = lo + k
        e_lo = fac_ptr[a]
        e_hi = fac_ptr[a + 1]
        c = sgn[fac_param[a]] * tw[fac_param[a]]
        acc = 1.0
        for e in range(e_lo, e_hi):
            P[e] = acc
            acc *= 2.0 / (E[e] + 1.0) - 1.0  # -T_e
        acc = 1.0
        r = 0.0
        for e in range(e_hi - 1, e_lo - 1, -1):
            n = c * P[e] * acc
            acc *= 2.0 / (E[e] + 1.0) - 1.0
            n = min(max(n, -TAU_MAX), TAU_MAX)
            d = abs(n - tau[e])
            r = d if d > r else r
            tau[e] = n
            R[e] = (1.0 + n) / (1.0 - n)
        res[a] = 0.5 * r
