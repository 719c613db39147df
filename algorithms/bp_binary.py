"""Fast path of flooding sum-product BP for binary Ising models, in the tanh domain.

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

It applies when every variable is binary with finite evidence and every factor
is an Ising coupling (then every message is finite: ``|L| <= 2|J|`` on the factor
side).  Results agree with the log-domain engine to round-off (not bit for bit).
"""

from __future__ import annotations

import numpy as np

from ._jit import njit, pjit, prange

__all__ = ["applies", "llr_from_log", "log_from_llr", "ising_var_sweep", "ising_fac_sweep"]


def applies(graph, config) -> bool:
    """Whether the tanh-domain fast path can run this graph and configuration."""
    return (
        config.fast_paths
        and config.mode == "sum"
        and config.schedule == "parallel"
        and graph.types == ("ising",)
        and bool(np.all(graph.card == 2))
        and bool(np.all(np.isfinite(graph.var_unary)))
    )


def llr_from_log(f2v: np.ndarray) -> np.ndarray:
    """Log-odds ``m(1) - m(0)`` of binary log-messages, float64 (n_edge,)."""
    return np.ascontiguousarray(f2v[:, 1] - f2v[:, 0])


def log_from_llr(L: np.ndarray, out: np.ndarray) -> None:
    """Write normalised binary log-messages of log-odds ``L`` into ``out[:, :2]``.

    ``m(1) = -log(1 + e^-L)``, ``m(0) = -log(1 + e^L)`` (stable softplus form).
    """
    out[:, 1] = -np.logaddexp(0.0, -L)
    out[:, 0] = -np.logaddexp(0.0, L)


@njit(error_model="numpy")
def _atanh2(t):
    """2 atanh(t) = log((1 + t) / (1 - t)) for |t| < 1."""
    return np.log((1.0 + t) / (1.0 - t))


@pjit
def ising_var_sweep(var_ptr, var_edges, h, Lf, T):
    """T[e] = tanh(L_{i->a} / 2) for every edge, with L_{i->a} = h_i + sum of the other Lf at i.

    Prefix sums on the way forward, suffix sums on the way back (no subtraction).
    """
    n_var = h.shape[0]
    for i in prange(n_var):
        acc = h[i]
        for k in range(var_ptr[i], var_ptr[i + 1]):
            e = var_edges[k]
            T[e] = acc
            acc += Lf[e]
        acc = 0.0
        for k in range(var_ptr[i + 1] - 1, var_ptr[i] - 1, -1):
            e = var_edges[k]
            v = T[e] + acc
            acc += Lf[e]
            # tanh(v/2) = 1 - 2/(e^v + 1): one exp; exact limits +-1 (e^v = inf or 0), and an
            # absolute error ~1e-16 near v = 0, which is what the probability-domain residual sees
            T[e] = 1.0 - 2.0 / (np.exp(v) + 1.0)


@pjit
def ising_fac_sweep(fac_ptr, fac_param, tJ, T, tau, Lf, damping, res):
    """Ising factors in the tanh domain: tau_{a->0} = tanh(J) T[e1], tau_{a->1} = tanh(J) T[e0].

    Writes the new log-odds Lf and tanh-values tau of the factor's two edges
    (after damping) and res[a] = the largest probability change.
    """
    n_fac = fac_ptr.shape[0] - 1
    for a in prange(n_fac):
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
