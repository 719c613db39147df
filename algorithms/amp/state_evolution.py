"""Bayes-optimal state evolution of AMP/GAMP, through the same denoisers as AMP.

For a GLM y ~ P_out(. | Fx), x_i ~ P_X i.i.d., F_mui ~ N(0, 1/N), P = alpha N, and
rho = E x^2, the overlap ``q_t = E[x f_in]`` of AMP follows (Zdeborová & Krzakala,
Adv. Phys. 65:453, 2016; docs/theory.md §6.5)::

    z = sqrt(q) xi + sqrt(rho - q) eta,   y ~ P_out(. | z)
    qhat  = alpha E_{xi, y} [ g_out(y, sqrt(q) xi, rho - q)^2 ]
    q'    = E_{x, xi} [ x f_in(x + xi / sqrt(qhat), 1 / qhat) ]
    mse   = rho - q

The expectations use probabilists' Gauss–Hermite nodes for xi (``n_nodes``), the
prior's ``quadrature`` for x and the channel's ``y_quadrature`` for y given
(omega, V) — the same code for every prior/channel pair, with the closed forms
only as test oracles. Two refinements keep SE exact where Gauss–Hermite fails:

* a channel that declares ``features()`` (the sign channels: z = 0) has, as
  V -> 0, a feature of width ``sqrt(V/q)`` in xi; its xi-rule is then
  ``graded_gauss_rule`` (composite Gauss–Legendre graded at the feature);
* a prior that supplies ``r_rule(Sigma)`` (point masses, spike-and-slab) is
  integrated in r: ``q' = int Z_in(r) f_in(r)^2 dr`` (= E[x f_in] by the
  Nishimori identity), on panels graded at its atoms and decision boundaries.

``q`` is kept in ``[0, rho (1 - 1e-12)]`` so perfect recovery (q -> rho, V -> 0)
stays finite.

The teacher–student perceptron (Rademacher prior, sign channel, rho = 1) has the
closed forms (``perceptron_qhat``, ``perceptron_q``, ``perceptron_free_entropy``)::

    qhat = alpha / (pi (1 - q)) int Dxi exp(-q xi^2 / (1 - q)) / H(-sqrt(q / (1 - q)) xi)
    q    = int Dxi tanh(sqrt(qhat) xi + qhat)
    f    = E ln cosh(sqrt(qhat) xi + qhat) - qhat/2 + 2 alpha int Dxi Phi(a xi) ln Phi(a xi) - q qhat/2

with ``a = sqrt(q / (1 - q))``; perfect recovery has ``f = -ln 2``. The thresholds
are ``alpha_alg ~ 1.493`` (least alpha at which SE from q0 = 1e-6 reaches q = 1) and
``alpha_IT ~ 1.245-1.249`` (the q < 1 branch's f falls to -ln 2); ``alpha_alg``, ``alpha_it``
and ``alpha_thresholds`` find both (measured: 1.4926 and 1.2447).

Examples
--------
>>> from algorithms.denoisers import BinaryPrior, SignChannel
>>> res = run_se(BinaryPrior(), SignChannel(), alpha=1.0)
>>> res.converged, round(float(res.q[-1]), 4), round(float(res.gen_error[-1]), 4)
(True, 0.5607, 0.2306)
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import integrate, optimize, special

from fgraph.dtypes import FrozenPickle, readonly

from ..denoisers import BinaryPrior, Channel, Prior, SignChannel, gauss_hermite, graded_gauss_rule

__all__ = [
    "SEResult",
    "run_se",
    "se_step",
    "perceptron_qhat",
    "perceptron_q",
    "perceptron_free_entropy",
    "alpha_alg",
    "alpha_it",
    "alpha_thresholds",
]

_CLIP = 1e-12


@dataclass(frozen=True, eq=False)
class SEResult(FrozenPickle):  # pickles equal, read-only arrays and proxies kept
    """Trajectory of state evolution (frozen; arrays read-only).

    Attributes
    ----------
    q : float64 (n_iter + 1,)
        Overlaps ``q_t = E[x f_in]``; ``q[0]`` is the initial value.
    qhat : float64 (n_iter,)
        ``qhat[t]`` is the channel-side overlap computed from ``q[t]`` (it produces ``q[t + 1]``).
    mse : float64 (n_iter + 1,)
        ``rho - q``.
    gen_error : float64 (n_iter + 1,) or None
        Bayes generalisation error ``channel.gen_error(q, rho)`` (sign channels:
        ``arccos(sqrt(q / rho)) / pi``); None for channels without one.
    converged : bool
        ``|q[t+1] - q[t]| < tol * rho`` was reached before ``max_iter``.
    alpha : float
        Sample ratio P / N.
    rho : float
        Second moment of the prior.
    prior, channel : str
        ``identify()`` of the prior and the channel.
    """

    q: np.ndarray
    qhat: np.ndarray
    mse: np.ndarray
    gen_error: np.ndarray | None
    converged: bool
    alpha: float
    rho: float
    prior: str
    channel: str

    @property
    def n_iter(self) -> int:
        """Number of SE iterations performed."""
        return int(self.qhat.shape[0])

    @property
    def q_final(self) -> float:
        """Last overlap."""
        return float(self.q[-1])

    @property
    def mse_final(self) -> float:
        """Last MSE."""
        return float(self.mse[-1])


def se_step(prior: Prior, channel: Channel, alpha: float, q: float, rho=None, n_nodes: int = 100,
            n_y_nodes: int = 32) -> tuple[float, float]:
    """One Bayes-optimal SE step ``q -> (qhat, q')`` for any prior/channel pair.

    Parameters
    ----------
    prior : Prior
        Its ``f_in`` and ``quadrature`` are used.
    channel : Channel
        Its ``g_out`` and ``y_quadrature`` are used.
    alpha : float
        Sample ratio.
    q : float
        Current overlap, clipped to ``[0, rho (1 - 1e-12)]``.
    rho : float, optional
        ``prior.second_moment`` by default.
    n_nodes : int
        Gauss–Hermite nodes for xi (and for Gaussian parts of the prior).
    n_y_nodes : int
        Nodes of the channel's y quadrature (continuous channels).

    Returns
    -------
    (float, float)
        ``(qhat, q')``.

    Examples
    --------
    >>> from algorithms.denoisers import GaussianPrior, GaussianChannel
    >>> qhat, q1 = se_step(GaussianPrior(), GaussianChannel(0.5), 2.0, 0.25)
    >>> round(qhat, 12), round(q1, 12)          # qhat = alpha / (rho - q + Delta), q' = qhat / (1 + qhat)
    (1.6, 0.615384615385)
    """
    rho = prior.second_moment if rho is None else float(rho)
    q = min(max(float(q), 0.0), rho * (1.0 - _CLIP))
    xi, wxi = gauss_hermite(n_nodes)
    xs, wx = prior.quadrature(n_nodes)
    return _step(prior, channel, float(alpha), q, rho, xi, wxi, xs, wx, n_y_nodes)


def _channel_rule(channel, q, V, xi, wxi):
    """The xi rule of the channel side: Gauss–Hermite, or graded if the channel has sharp features."""
    feats = channel.features()
    if feats.size == 0 or q <= 0.0:
        return xi, wxi
    return graded_gauss_rule(feats / math.sqrt(q), math.sqrt(V / q))


def _step(prior, channel, alpha, q, rho, xi, wxi, xs, wx, n_y_nodes):
    V = rho - q
    t, wt = _channel_rule(channel, q, V, xi, wxi)
    omega = math.sqrt(q) * t
    y, wy = channel.y_quadrature(omega, V, n_y_nodes)
    g = channel.g_out(y, omega[:, None], V)[0]
    qhat = alpha * float(np.sum(wt[:, None] * wy * g * g))
    if not qhat > 0.0:
        return 0.0, prior.mean**2
    Sigma = 1.0 / qhat
    rule = prior.r_rule(Sigma)
    if rule is None:  # E_x E_xi [x f_in(x + xi sqrt(Sigma), Sigma)] by Gauss-Hermite
        f = prior.f_in(xs[:, None] + xi[None, :] * math.sqrt(Sigma), Sigma)[0]
        return qhat, float(np.sum((wx * xs)[:, None] * wxi[None, :] * f))
    r, wr = rule  # int Z_in(r) f_in(r)^2 dr (Nishimori), graded at the prior's atoms and boundaries
    f, _, logz = prior.f_in(r, Sigma)
    return qhat, float(np.sum(wr * np.exp(logz) * f * f))


def run_se(prior: Prior, channel: Channel, alpha: float, init: float = 1e-6, max_iter: int = 1000,
           tol: float = 1e-10, damping: float = 0.0, n_nodes: int = 100, n_y_nodes: int = 32) -> SEResult:
    """Iterate Bayes-optimal state evolution from ``q_0 = init``.

    Parameters
    ----------
    prior : Prior
        Prior of the weights (any subclass: only ``f_in``, ``quadrature`` and moments are used).
    channel : Channel
        Output channel (only ``g_out``, ``y_quadrature`` and ``gen_error`` are used).
    alpha : float
        Sample ratio P / N, >= 0.
    init : float
        Initial overlap q_0 in [0, rho] (absolute, not relative to rho).
    max_iter : int
        Maximum number of iterations.
    tol : float
        Stop when ``|q_{t+1} - q_t| < tol * rho``.
    damping : float
        In [0, 1): ``q_{t+1} = (1 - damping) q' + damping q_t``.
    n_nodes : int
        Gauss–Hermite nodes for xi and for Gaussian parts of the prior (50–200).
    n_y_nodes : int
        Nodes of the channel's y quadrature (continuous channels only).

    Returns
    -------
    SEResult

    Examples
    --------
    >>> from algorithms.denoisers import GaussianPrior, GaussianChannel
    >>> res = run_se(GaussianPrior(), GaussianChannel(0.1), alpha=2.0)
    >>> res.converged, round(res.mse_final, 8)     # root of E^2 + (alpha rho + Delta - rho) E - rho Delta
    (True, 0.08442888)
    """
    alpha = float(alpha)
    if not (math.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"alpha must be finite and >= 0, got {alpha!r}")
    if not 0.0 <= damping < 1.0:
        raise ValueError(f"damping must be in [0, 1), got {damping!r}")
    if int(max_iter) < 0:
        raise ValueError(f"max_iter must be >= 0, got {max_iter!r}")
    if not tol > 0:
        raise ValueError(f"tol must be > 0, got {tol!r}")
    rho = float(prior.second_moment)
    if not rho > 0:
        raise ValueError(f"the prior's second moment must be > 0, got {rho!r}")
    init = float(init)
    if not 0.0 <= init <= rho:
        raise ValueError(f"init must be in [0, rho={rho:g}], got {init!r}")
    top = rho * (1.0 - _CLIP)
    xi, wxi = gauss_hermite(n_nodes)
    xs, wx = prior.quadrature(n_nodes)
    qs = [min(init, top)]
    qhats = []
    converged = False
    for _ in range(int(max_iter)):
        qhat, q_new = _step(prior, channel, alpha, qs[-1], rho, xi, wxi, xs, wx, n_y_nodes)
        q_new = (1.0 - damping) * q_new + damping * qs[-1]
        q_new = min(max(q_new, 0.0), top)
        qhats.append(qhat)
        qs.append(q_new)
        if abs(q_new - qs[-2]) < tol * rho:
            converged = True
            break
    q = np.asarray(qs, dtype=np.float64)
    ge = channel.gen_error(q, rho)
    return SEResult(
        q=readonly(q),
        qhat=readonly(np.asarray(qhats, dtype=np.float64)),
        mse=readonly(rho - q),
        gen_error=None if ge is None else readonly(np.asarray(ge, dtype=np.float64)),
        converged=converged,
        alpha=alpha,
        rho=rho,
        prior=prior.identify(),
        channel=channel.identify(),
    )


# ============================================================================ perceptron closed forms
def _quad(fun, lo, hi, points=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        return integrate.quad(fun, lo, hi, points=points, limit=200, epsabs=1e-14, epsrel=1e-12)[0]


def _phi(x):
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def _log_ndtr(x):
    return float(special.log_ndtr(x))


def _gauss_expect(h, a):
    """``int Dxi h(a xi)`` by quad, in the variable t = a xi when a >= 1 (h varies on scale 1)."""
    if a >= 1.0:
        return _quad(lambda t: _phi(t / a) / a * h(t), -40.0 * a, 40.0 * a, points=[-40.0, 0.0, 40.0])
    return _quad(lambda x: _phi(x) * h(a * x), -40.0, 40.0, points=[0.0])


def perceptron_qhat(q: float, alpha: float) -> float:
    """Channel-side SE of the sign channel with rho = 1, by ``scipy.integrate.quad``.

    ``qhat = alpha / (pi (1 - q)) int Dxi exp(-q xi^2 / (1 - q)) / H(-sqrt(q / (1 - q)) xi)``
    (``H(x) = Phi(-x)``), an oracle independent of the Gauss–Hermite SE.

    Parameters
    ----------
    q : float
        Overlap in [0, 1).
    alpha : float
        Sample ratio.

    Returns
    -------
    float

    Examples
    --------
    >>> round(perceptron_qhat(0.0, 1.0), 12) == round(2 / math.pi, 12)
    True
    """
    q = float(q)
    if not 0.0 <= q < 1.0:
        raise ValueError(f"q must be in [0, 1), got {q!r}")
    a = math.sqrt(q / (1.0 - q))
    # int Dxi e^{-a^2 xi^2} / Phi(a xi), written in t = a xi when a >= 1 (the peak has width 1/a)
    return alpha / (math.pi * (1.0 - q)) * _gauss_expect(lambda t: math.exp(-t * t - _log_ndtr(t)), a)


def perceptron_q(qhat: float) -> float:
    """Prior-side SE of the Rademacher prior: ``q = int Dxi tanh(sqrt(qhat) xi + qhat)`` by quad.

    Parameters
    ----------
    qhat : float
        >= 0.

    Returns
    -------
    float

    Examples
    --------
    >>> perceptron_q(0.0)
    0.0
    """
    qhat = float(qhat)
    if qhat < 0:
        raise ValueError(f"qhat must be >= 0, got {qhat!r}")
    s = math.sqrt(qhat)

    def fun(x):
        return _phi(x) * math.tanh(s * x + qhat)

    return _quad(fun, -40.0, 40.0, points=[-s])


def _log_cosh(x):
    x = abs(x)
    return x + math.log1p(math.exp(-2.0 * x)) - math.log(2.0)


def perceptron_free_entropy(q: float, alpha: float, qhat: float | None = None) -> float:
    """Replica-symmetric free entropy of the teacher–student binary perceptron (Rademacher, sign).

    ``f = E ln cosh(sqrt(qhat) xi + qhat) - qhat/2 + 2 alpha int Dxi Phi(a xi) ln Phi(a xi) - q qhat / 2``,
    ``a = sqrt(q / (1 - q))``; perfect recovery (q = 1) gives ``-ln 2``.

    Parameters
    ----------
    q : float
        Overlap in [0, 1].
    alpha : float
        Sample ratio.
    qhat : float, optional
        Conjugate overlap; by default the channel-side stationarity ``perceptron_qhat(q, alpha)``
        (at a fixed point of SE both stationarity conditions hold).

    Returns
    -------
    float

    Examples
    --------
    >>> round(perceptron_free_entropy(1.0, 1.3), 12) == round(-math.log(2), 12)
    True
    >>> round(perceptron_free_entropy(0.0, 0.0), 12)
    0.0
    """
    q = float(q)
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q must be in [0, 1], got {q!r}")
    if q == 1.0:
        return -math.log(2.0)
    if qhat is None:
        qhat = perceptron_qhat(q, alpha)
    s = math.sqrt(qhat)
    a = math.sqrt(q / (1.0 - q))
    prior_term = _quad(lambda x: _phi(x) * _log_cosh(s * x + qhat), -40.0, 40.0, points=[-s])

    def chan(t):
        lp = _log_ndtr(t)
        return math.exp(lp) * lp

    return prior_term - qhat / 2.0 + 2.0 * alpha * _gauss_expect(chan, a) - q * qhat / 2.0


def _perceptron_fixed_point(alpha, n_nodes, max_iter):

    return run_se(
        BinaryPrior(), SignChannel(), alpha, init=1e-6, max_iter=max_iter, tol=1e-12, n_nodes=n_nodes
    )


def alpha_alg(lo: float = 1.40, hi: float = 1.60, xtol: float = 1e-4, n_nodes: int = 100,
              max_iter: int = 20000) -> float:
    """Bisect the algorithmic threshold of the binary perceptron (Rademacher prior, sign channel).

    The least alpha at which SE from q0 = 1e-6 reaches q > 1 - 1e-6 (~1.493; SE slows down
    critically near it, hence the large ``max_iter``).

    Parameters
    ----------
    lo, hi : float
        Bracket: SE must stay below 1 at ``lo`` and reach 1 at ``hi``.
    xtol : float
        Bracket width at which bisection stops.
    n_nodes : int
        Gauss–Hermite nodes of the SE.
    max_iter : int
        SE iterations per alpha.

    Returns
    -------
    float
        Midpoint of the final bracket.

    Examples
    --------
    >>> a = alpha_alg(1.48, 1.50, xtol=0.006)       # brackets 1.4926
    >>> 1.49 < a < 1.495
    True
    """

    def reaches(alpha):
        return _perceptron_fixed_point(alpha, n_nodes, max_iter).q_final > 1.0 - 1e-6

    lo, hi = float(lo), float(hi)
    if reaches(lo) or not reaches(hi):
        raise ValueError(f"alpha_alg is not bracketed by [{lo}, {hi}]")
    while hi - lo > xtol:
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if reaches(mid) else (mid, hi)
    return 0.5 * (lo + hi)


def alpha_it(lo: float = 1.10, hi: float = 1.45, xtol: float = 1e-4, n_nodes: int = 100) -> float:
    """Root in alpha of ``f(q*(alpha)) + ln 2`` on the q < 1 SE branch of the binary perceptron (~1.245).

    ``q*`` is the SE fixed point from q0 = 1e-6 (``hi`` must lie below alpha_alg) and ``f`` is
    ``perceptron_free_entropy``; the root is found by ``scipy.optimize.brentq``.

    Parameters
    ----------
    lo, hi : float
        Bracket (f > -ln 2 at lo, f < -ln 2 at hi).
    xtol : float
        Absolute tolerance on alpha.
    n_nodes : int
        Gauss–Hermite nodes of the SE.

    Returns
    -------
    float

    Examples
    --------
    >>> round(alpha_it(1.2, 1.3, xtol=1e-4), 3)
    1.245
    """

    def excess(alpha):
        res = _perceptron_fixed_point(alpha, n_nodes, 20000)
        if res.q_final > 1.0 - 1e-6:
            raise ValueError(f"SE reaches q = 1 at alpha = {alpha}: hi must lie below alpha_alg")
        return perceptron_free_entropy(res.q_final, alpha, res.qhat[-1]) + math.log(2.0)

    flo, fhi = excess(lo), excess(hi)
    if not (flo > 0 > fhi):
        raise ValueError(f"alpha_IT is not bracketed by [{lo}, {hi}] (f + ln 2 = {flo:.3g}, {fhi:.3g})")
    return float(optimize.brentq(excess, lo, hi, xtol=xtol))


def alpha_thresholds(xtol: float = 1e-4, n_nodes: int = 100) -> dict:
    """Both binary-perceptron thresholds: ``{"alpha_alg": ~1.4926, "alpha_it": ~1.2447, "xtol": xtol}``.

    Parameters
    ----------
    xtol : float
        Tolerance of both searches.
    n_nodes : int
        Gauss–Hermite nodes of the SE.

    Returns
    -------
    dict
        Keys ``alpha_alg``, ``alpha_it``, ``xtol`` (takes a few seconds at xtol = 1e-4).
    """
    a_alg = alpha_alg(xtol=xtol, n_nodes=n_nodes)
    a_it = alpha_it(hi=a_alg - 2 * xtol, xtol=xtol, n_nodes=n_nodes)
    return dict(alpha_alg=a_alg, alpha_it=a_it, xtol=xtol)
