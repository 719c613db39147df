"""Numba scalar kernels of the denoiser contract (priors and output channels).

One contract, shared by AMP and state evolution (docs/theory.md §6.2).

**Prior** ``code, params``; with the cavity ``r = x + sqrt(Sigma) z``::

    Z_in  = int P_X(x) N(x; r, Sigma) dx
    f_in  = E[x | r]   = r + Sigma d_r log Z_in
    v_in  = Var[x | r] = Sigma d_r f_in

**Channel** ``code, params``; with ``z ~ N(omega, V)``::

    Z_out = int P_out(y | z) N(z; omega, V) dz
    g_out = d_omega log Z_out   = (E[z | y] - omega) / V
    dg    = d_omega^2 log Z_out = (Var[z | y] - V) / V^2

Integer codes and parameter layouts (``params`` is a float64 array)::

    PRIOR_GAUSSIAN        = 0  [mean, var]                       x ~ N(mean, var)
    PRIOR_BINARY          = 1  [p_plus]                          x = +1 w.p. p_plus else -1
    PRIOR_DISCRETE        = 2  [K, l_0..l_{K-1}, w_0..w_{K-1}]   x = l_k w.p. w_k
    PRIOR_GAUSS_BERNOULLI = 3  [rho, mean, var]                  x = 0 w.p. 1-rho, else N(mean, var)
    CHANNEL_GAUSSIAN      = 0  [delta]                           y = z + sqrt(delta) xi
    CHANNEL_SIGN          = 1  []  (any array, ignored)          y = sign(z)
    CHANNEL_NOISY_SIGN    = 2  [delta]                           y = sign(z + sqrt(delta) xi)

Every kernel is exact and stable: mixtures use a log-sum-exp shifted by the
nearest component (finite for ``Sigma -> 0``), the sign channels use
``log_ndtr`` and the inverse Mills ratio with an asymptotic series for
``u < -20``, so finite input with ``Sigma > 0``, ``V > 0`` never gives NaN.
Kernels run as plain Python under ``NUMBA_DISABLE_JIT=1``.

Examples
--------
>>> import numpy as np
>>> f, v, logz = prior_fin(PRIOR_BINARY, np.array([0.5]), 0.3, 0.5)
>>> bool(np.isclose(f, np.tanh(0.6))), bool(np.isclose(v, 1 - np.tanh(0.6) ** 2))
(True, True)
>>> g, dg, logz = channel_gout(CHANNEL_SIGN, np.zeros(1), 1.0, -40.0, 1.0)
>>> bool(np.isfinite(g) and np.isfinite(dg) and np.isfinite(logz))
True
"""

from __future__ import annotations

import math

import numpy as np

from fgraph.glm_factor import CHANNEL_GAUSSIAN, CHANNEL_NOISY_SIGN, CHANNEL_SIGN  # their one definition
from fgraph.jit import njit

__all__ = [
    "PRIOR_GAUSSIAN",
    "PRIOR_BINARY",
    "PRIOR_DISCRETE",
    "PRIOR_GAUSS_BERNOULLI",
    "CHANNEL_GAUSSIAN",
    "CHANNEL_SIGN",
    "CHANNEL_NOISY_SIGN",
    "log_ndtr",
    "mills_ratio",
    "prior_fin",
    "channel_gout",
    "prior_fin_array",
    "channel_gout_array",
]

PRIOR_GAUSSIAN = 0
PRIOR_BINARY = 1
PRIOR_DISCRETE = 2
PRIOR_GAUSS_BERNOULLI = 3

LOG_2PI = float(np.log(2.0 * np.pi))
SQRT2 = math.sqrt(2.0)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
LOG2 = math.log(2.0)
NEG_INF = -math.inf


# ----------------------------------------------------------------- scalar helpers
@njit
def _lognormal(x, mean, var):
    """log N(x; mean, var) for var > 0."""
    d = x - mean
    return -0.5 * d * d / var - 0.5 * (LOG_2PI + math.log(var))


@njit
def _tail_series(u):
    """S(u) - 1 for Phi(u) = phi(u) / (-u) * S(u), u <= -20 (asymptotic series).

    S(u) = 1 - 1/u^2 + 3/u^4 - 15/u^6 + ...; the terms decrease geometrically
    for |u| >= 20 and the sum is truncated when a term drops below 1e-18.
    """
    inv = 1.0 / (u * u)
    term = 1.0
    total = 0.0
    for k in range(1, 40):
        term *= -(2.0 * k - 1.0) * inv
        total += term
        if abs(term) < 1e-18:
            break
    return total


@njit
def log_ndtr(x):
    """log Phi(x), the log of the standard normal CDF, stable for x -> -inf.

    Parameters
    ----------
    x : float
        Argument.

    Returns
    -------
    float
        ``log Phi(x)``: ``log(erfc(-x/sqrt 2)/2)`` on [-20, 0],
        ``log1p(-erfc(x/sqrt 2)/2)`` for x > 0 and the asymptotic series
        ``-x^2/2 - log(-x) - log(2 pi)/2 + log S(x)`` for x < -20.

    Examples
    --------
    >>> round(log_ndtr(0.0), 12) == round(float(np.log(0.5)), 12)
    True
    >>> bool(np.isfinite(log_ndtr(-1e3)))
    True
    """
    if x > 0.0:
        return math.log1p(-0.5 * math.erfc(x / SQRT2))
    if x >= -20.0:
        return math.log(0.5 * math.erfc(-x / SQRT2))
    return -0.5 * x * x - math.log(-x) - 0.5 * LOG_2PI + math.log1p(_tail_series(x))


@njit
def _sign_terms(u):
    """``(R, R + u, log Phi(u))`` with one erfc: the work of the sign channel at u.

    R = phi(u) / Phi(u) is the inverse Mills ratio.  On [-20, inf) Phi comes
    from one erfc (``1 - erfc(u/sqrt 2)/2`` for u > 0, so log Phi = log1p(...)
    keeps its digits near 1), and R = exp(-u^2/2) / (sqrt(2 pi) Phi): at u = -20
    both are about 1e-88, far from underflow.  Below -20 the asymptotic series.
    """
    if u < -20.0:
        s1 = _tail_series(u)
        s = 1.0 + s1
        logphi = -0.5 * u * u - math.log(-u) - 0.5 * LOG_2PI + math.log1p(s1)
        return -u / s, u * s1 / s, logphi
    if u > 0.0:
        c = 0.5 * math.erfc(u / SQRT2)
        cdf = 1.0 - c
        logphi = math.log1p(-c)
    else:
        cdf = 0.5 * math.erfc(-u / SQRT2)
        logphi = math.log(cdf)
    r = math.exp(-0.5 * u * u) * INV_SQRT_2PI / cdf
    return r, r + u, logphi


@njit
def mills_ratio(u):
    """R(u) = phi(u) / Phi(u) and R(u) + u, both without cancellation.

    Parameters
    ----------
    u : float
        Argument.

    Returns
    -------
    (float, float)
        ``(R, R + u)``. For u < -20, ``R = -u / S`` and ``R + u = u (S - 1) / S``
        with the asymptotic series S, so ``R + u ~ -1/u`` is accurate even at u = -1e3.

    Examples
    --------
    >>> r, ru = mills_ratio(0.0)
    >>> bool(np.isclose(r, np.sqrt(2 / np.pi)))
    True
    """
    r, ru, _ = _sign_terms(u)
    return r, ru


# ----------------------------------------------------------------- priors
@njit
def _prior_gaussian(mean, var, r, Sigma):
    s = var + Sigma
    f = (mean * Sigma + r * var) / s
    v = var * Sigma / s
    return f, v, _lognormal(r, mean, s)


@njit
def _prior_binary(p_plus, r, Sigma):
    if p_plus >= 1.0:
        return 1.0, 0.0, _lognormal(r, 1.0, Sigma)
    if p_plus <= 0.0:
        return -1.0, 0.0, _lognormal(r, -1.0, Sigma)
    if p_plus == 0.5:  # the common symmetric prior: no logs of p
        lp0 = lm0 = -LOG2
    else:
        lp0 = math.log(p_plus)
        lm0 = math.log(1.0 - p_plus)
    a = r / Sigma + 0.5 * (lp0 - lm0)
    # one exponential gives the mean, the variance and log Z: with e = exp(-2|a|)
    # and em = e - 1, tanh|a| = -em / (2 + em) and 1 - tanh^2 = 4 e / (2 + em)^2.
    # em comes from expm1 where |a| is small (no cancellation as a -> 0), e from
    # exp where it is not (e keeps its digits as |a| -> inf, 1 + em would not)
    if abs(a) < 0.5:
        em = math.expm1(-2.0 * abs(a))
        e = 1.0 + em
    else:
        e = math.exp(-2.0 * abs(a))
        em = e - 1.0
    f = math.copysign(-em / (2.0 + em), a)
    v = 4.0 * e / ((2.0 + em) * (2.0 + em))
    # log Z = log[p N(r; 1, S) + (1-p) N(r; -1, S)], shifted by the nearer level;
    # the two shifted log-terms differ by exactly 2|a|, so the smaller one is hi - 2|a|
    dp = (r - 1.0) * (r - 1.0)
    dm = (r + 1.0) * (r + 1.0)
    dmin = min(dp, dm)
    lp = lp0 - (dp - dmin) / (2.0 * Sigma)
    lm = lm0 - (dm - dmin) / (2.0 * Sigma)
    lse = max(lp, lm) + math.log1p(e)
    logz = lse - dmin / (2.0 * Sigma) - 0.5 * (LOG_2PI + math.log(Sigma))
    return f, v, logz


@njit
def _prior_discrete(params, r, Sigma):
    K = int(params[0])
    # shift every exponent by the nearest level with positive weight
    dmin = math.inf
    for k in range(K):
        if params[1 + K + k] > 0.0:
            d = r - params[1 + k]
            dmin = min(dmin, d * d)
    m = NEG_INF
    for k in range(K):
        w = params[1 + K + k]
        if w > 0.0:
            d = r - params[1 + k]
            lk = math.log(w) - (d * d - dmin) / (2.0 * Sigma)
            if lk > m:
                m = lk
    s = 0.0
    s1 = 0.0
    for k in range(K):
        w = params[1 + K + k]
        if w > 0.0:
            d = r - params[1 + k]
            p = math.exp(math.log(w) - (d * d - dmin) / (2.0 * Sigma) - m)
            s += p
            s1 += p * params[1 + k]
    f = s1 / s
    s2 = 0.0
    for k in range(K):
        w = params[1 + K + k]
        if w > 0.0:
            d = r - params[1 + k]
            p = math.exp(math.log(w) - (d * d - dmin) / (2.0 * Sigma) - m)
            e = params[1 + k] - f
            s2 += p * e * e
    v = s2 / s
    logz = m + math.log(s) - dmin / (2.0 * Sigma) - 0.5 * (LOG_2PI + math.log(Sigma))
    return f, v, logz


@njit
def _prior_gauss_bernoulli(rho, mean, var, r, Sigma):
    if rho <= 0.0:
        return 0.0, 0.0, _lognormal(r, 0.0, Sigma)
    f1, v1, l1 = _prior_gaussian(mean, var, r, Sigma)
    if rho >= 1.0:
        return f1, v1, l1
    l1 = l1 + math.log(rho)
    l0 = _lognormal(r, 0.0, Sigma) + math.log(1.0 - rho)
    hi = max(l0, l1)
    lo = min(l0, l1)
    logz = hi + math.log1p(math.exp(lo - hi))
    p1 = math.exp(l1 - logz)
    p0 = math.exp(l0 - logz)
    f = p1 * f1
    v = p1 * v1 + p0 * p1 * f1 * f1
    return f, v, logz


@njit
def prior_fin(code, params, r, Sigma):
    """Posterior mean, variance and log-partition of a prior at cavity (r, Sigma).

    Parameters
    ----------
    code : int
        ``PRIOR_GAUSSIAN``, ``PRIOR_BINARY``, ``PRIOR_DISCRETE`` or ``PRIOR_GAUSS_BERNOULLI``.
    params : float64 array
        Parameters in the layout of the module docstring.
    r : float
        Cavity mean (the observation ``x + sqrt(Sigma) z``).
    Sigma : float
        Cavity variance, > 0.

    Returns
    -------
    (float, float, float)
        ``(f_in, v_in, log Z_in)``.

    Examples
    --------
    >>> f, v, logz = prior_fin(PRIOR_GAUSSIAN, np.array([0.0, 2.0]), 1.0, 0.5)
    >>> float(f), float(v)
    (0.8, 0.4)
    """
    if code == PRIOR_GAUSSIAN:
        return _prior_gaussian(params[0], params[1], r, Sigma)
    if code == PRIOR_BINARY:
        return _prior_binary(params[0], r, Sigma)
    if code == PRIOR_DISCRETE:
        return _prior_discrete(params, r, Sigma)
    if code == PRIOR_GAUSS_BERNOULLI:
        return _prior_gauss_bernoulli(params[0], params[1], params[2], r, Sigma)
    return math.nan, math.nan, math.nan


# ----------------------------------------------------------------- channels
@njit
def _channel_sign(y, omega, V):
    """Sign channel with z ~ N(omega, V): Z = Phi(y omega / sqrt V)."""
    sy = 1.0 if y >= 0.0 else -1.0
    sv = math.sqrt(V)
    u = sy * omega / sv
    R, Ru, logz = _sign_terms(u)
    g = sy * R / sv
    dg = -R * Ru / V  # = -g (g + omega / V)
    return g, dg, logz


@njit
def channel_gout(code, params, y, omega, V):
    """Output function, its derivative and log-partition of a channel at (y, omega, V).

    Parameters
    ----------
    code : int
        ``CHANNEL_GAUSSIAN``, ``CHANNEL_SIGN`` or ``CHANNEL_NOISY_SIGN``.
    params : float64 array
        Parameters in the layout of the module docstring (ignored by the sign channel).
    y : float
        Observation (``+-1`` for sign channels; ``y >= 0`` counts as +1).
    omega : float
        Mean of z.
    V : float
        Variance of z, > 0.

    Returns
    -------
    (float, float, float)
        ``(g_out, dg_out, log Z_out)``.

    Examples
    --------
    >>> g, dg, logz = channel_gout(CHANNEL_GAUSSIAN, np.array([0.5]), 1.0, 0.0, 1.5)
    >>> float(g), float(dg)
    (0.5, -0.5)
    """
    if code == CHANNEL_GAUSSIAN:
        s = params[0] + V
        return (y - omega) / s, -1.0 / s, _lognormal(y, omega, s)
    if code == CHANNEL_SIGN:
        return _channel_sign(y, omega, V)
    if code == CHANNEL_NOISY_SIGN:
        return _channel_sign(y, omega, V + params[0])
    return math.nan, math.nan, math.nan


# ----------------------------------------------------------------- array loops
@njit
def prior_fin_array(code, params, r, Sigma, f_out, v_out):
    """Apply ``prior_fin`` elementwise; returns the sum of log Z_in.

    Parameters
    ----------
    code : int
        Prior code.
    params : float64 array
        Prior parameters.
    r : float64 (n,)
        Cavity means.
    Sigma : float64 (n,) or (1,)
        Cavity variances (length 1 broadcasts).
    f_out, v_out : float64 (n,)
        Written with the posterior means and variances.

    Returns
    -------
    float
        ``sum_i log Z_in(r_i, Sigma_i)``.

    Examples
    --------
    >>> f = np.empty(2); v = np.empty(2)
    >>> _ = prior_fin_array(PRIOR_BINARY, np.array([0.5]), np.array([0.0, 1.0]), np.ones(2), f, v)
    >>> bool(np.allclose(f, np.tanh([0.0, 1.0])))
    True
    """
    n = r.shape[0]
    one = Sigma.shape[0] == 1
    total = 0.0
    for i in range(n):
        s = Sigma[0] if one else Sigma[i]
        f, v, lz = prior_fin(code, params, r[i], s)
        f_out[i] = f
        v_out[i] = v
        total += lz
    return total


@njit
def channel_gout_array(code, params, y, omega, V, g_out, dg_out):
    """Apply ``channel_gout`` elementwise; returns the sum of log Z_out.

    Parameters
    ----------
    code : int
        Channel code.
    params : float64 array
        Channel parameters.
    y, omega : float64 (n,)
        Observations and means of z.
    V : float64 (n,) or (1,)
        Variances of z (length 1 broadcasts).
    g_out, dg_out : float64 (n,)
        Written with g_out and its derivative.

    Returns
    -------
    float
        ``sum_mu log Z_out(y_mu, omega_mu, V_mu)``.

    Examples
    --------
    >>> g = np.empty(2); dg = np.empty(2)
    >>> _ = channel_gout_array(CHANNEL_GAUSSIAN, np.array([1.0]), np.array([1.0, 2.0]),
    ...                        np.zeros(2), np.ones(2), g, dg)
    >>> g.tolist(), dg.tolist()
    ([0.5, 1.0], [-0.5, -0.5])
    """
    n = y.shape[0]
    one = V.shape[0] == 1
    total = 0.0
    for i in range(n):
        s = V[0] if one else V[i]
        g, dg, lz = channel_gout(code, params, y[i], omega[i], s)
        g_out[i] = g
        dg_out[i] = dg
        total += lz
    return total


@njit
def _prior_fin_vec(code, params, r, Sigma, f_out, v_out, logz_out):
    """``prior_fin`` over flat arrays of equal length, writing log Z_in too (used by ``Prior.f_in``)."""
    for i in range(r.shape[0]):
        f, v, lz = prior_fin(code, params, r[i], Sigma[i])
        f_out[i] = f
        v_out[i] = v
        logz_out[i] = lz


@njit
def _channel_gout_vec(code, params, y, omega, V, g_out, dg_out, logz_out):
    """``channel_gout`` over flat arrays of equal length, also writing log Z_out (for ``Channel.g_out``)."""
    for i in range(y.shape[0]):
        g, dg, lz = channel_gout(code, params, y[i], omega[i], V[i])
        g_out[i] = g
        dg_out[i] = dg
        logz_out[i] = lz
