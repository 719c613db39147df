"""check_denoiser: a prior or channel against numerical integration and finite differences."""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import integrate

from fgraph.dtypes import as_generator

from .channels import Channel
from .kernels import LOG_2PI
from .priors import Prior


def _fd(fun, x, h):
    """Five-point central difference of a vectorised function."""
    return (-fun(x + 2 * h) + 8 * fun(x + h) - 8 * fun(x - h) + fun(x - 2 * h)) / (12 * h)


def _posterior_moments(atoms, log_atoms, log_cont, lo, hi, hints, c):
    """log Z, mean - c and variance of (point masses + continuous part on [lo, hi]), by quad."""
    grid = np.concatenate([np.linspace(lo, hi, 2001), [h for h in hints if lo < h < hi]])
    lc = log_cont(grid)
    shift = max(np.max(lc), np.max(log_atoms) if len(log_atoms) else -np.inf)
    pts = sorted({float(h) for h in hints if lo < h < hi})
    opts = dict(points=pts or None, limit=200, epsabs=0.0, epsrel=1e-10)
    has_cont = bool(np.isfinite(np.max(lc)))

    def moment(k, c):
        if not has_cont:
            return 0.0

        def fun(x):
            return float(np.exp(log_cont(np.array([x]))[0] - shift)) * (x - c) ** k

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", integrate.IntegrationWarning)
            return integrate.quad(fun, lo, hi, **opts)[0]

    wa = np.exp(np.asarray(log_atoms) - shift) if len(log_atoms) else np.zeros(0)
    z = wa.sum() + moment(0, c)
    d = ((wa * (atoms - c)).sum() + moment(1, c)) / z
    v = ((wa * (atoms - c - d) ** 2).sum() + moment(2, c + d)) / z
    return shift + math.log(z), d, v


def _err(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b)) / (1.0 + np.abs(np.asarray(b)))))


def check_denoiser(den, n_points: int = 20, seed=0) -> dict:
    """Compare a prior's or channel's outputs with numerical integration and finite differences.

    For a prior, random cavities ``(r, Sigma)`` (``Sigma`` log-uniform in [1e-2, 10],
    ``r = x + sqrt(Sigma) z`` with x from the prior); for a channel, random ``(y, omega, V)``
    (``V`` log-uniform in [1e-2, 3], y drawn from the channel at z ~ N(omega, V)).
    Quadrature: ``scipy.integrate.quad`` of P_X(x) N(x; r, Sigma) (point masses summed
    exactly), resp. P_out(y|z) N(z; omega, V). Finite differences (five-point) of the
    kernel's log Z: ``f_in = r + Sigma d_r log Z``, ``v_in = Sigma d_r f_in``, resp.
    ``g = d_omega log Z``, ``dg = d_omega g``.

    Parameters
    ----------
    den : Prior or Channel
        The denoiser to check.
    n_points : int
        Number of random points.
    seed : None, int or numpy Generator
        Seed of the random points.

    Returns
    -------
    dict
        Max errors ``|a - b| / (1 + |b|)``: for a prior keys ``f_quad``, ``v_quad``,
        ``logz_quad``, ``f_fd``, ``v_fd``; for a channel ``g_quad``, ``dg_quad``,
        ``logz_quad``, ``g_fd``, ``dg_fd``; plus ``quad`` and ``fd`` (the maxima) and ``n_points``.

    Examples
    --------
    >>> from algorithms.denoisers import BinaryPrior, SignChannel
    >>> err = check_denoiser(BinaryPrior(), n_points=5)
    >>> err["quad"] < 1e-9, err["fd"] < 1e-7
    (True, True)
    >>> err = check_denoiser(SignChannel(), n_points=5)
    >>> err["quad"] < 1e-9, err["fd"] < 1e-7
    (True, True)
    """
    rng = as_generator(seed)
    n = int(n_points)
    if n < 1:
        raise ValueError(f"n_points must be >= 1, got {n_points}")
    if isinstance(den, Prior):
        return _check_prior(den, n, rng)
    if isinstance(den, Channel):
        return _check_channel(den, n, rng)
    raise TypeError(f"check_denoiser needs a Prior or a Channel, got {type(den).__name__}")


def _check_prior(prior, n, rng):
    Sigma = 10.0 ** rng.uniform(-2.0, 1.0, n)
    r = prior.sample(n, rng) + np.sqrt(Sigma) * rng.standard_normal(n)
    f, v, lz = prior.f_in(r, Sigma)
    atoms, masses = prior.atoms()
    keep = masses > 0
    atoms, masses = atoms[keep], masses[keep]
    fq, vq, lq = np.empty(n), np.empty(n), np.empty(n)
    for k in range(n):
        s, rk = Sigma[k], r[k]
        log_atoms = np.log(masses) - 0.5 * (atoms - rk) ** 2 / s - 0.5 * (LOG_2PI + math.log(s))

        def log_cont(x, rk=rk, s=s):
            return prior.log_density(x) - 0.5 * (x - rk) ** 2 / s - 0.5 * (LOG_2PI + math.log(s))

        w = 40.0 * math.sqrt(s)
        lq[k], d, vq[k] = _posterior_moments(
            atoms, log_atoms, log_cont, rk - w, rk + w, [rk, prior.mean], rk
        )
        fq[k] = rk + d
    h = 1e-3 * np.sqrt(Sigma)

    def logz(x):
        return prior.f_in(x, Sigma)[2]

    def fin(x):
        return prior.f_in(x, Sigma)[0]

    f_fd = r + Sigma * _fd(logz, r, h)
    v_fd = Sigma * _fd(fin, r, h)
    out = dict(
        f_quad=_err(f, fq), v_quad=_err(v, vq), logz_quad=_err(lz, lq),
        f_fd=_err(f, f_fd), v_fd=_err(v, v_fd),
    )
    out["quad"] = max(out["f_quad"], out["v_quad"], out["logz_quad"])
    out["fd"] = max(out["f_fd"], out["v_fd"])
    out["n_points"] = n
    return out


def _check_channel(channel, n, rng):
    V = 10.0 ** rng.uniform(-2.0, math.log10(3.0), n)
    omega = rng.standard_normal(n)
    y = channel.sample(omega + np.sqrt(V) * rng.standard_normal(n), rng)
    g, dg, lz = channel.g_out(y, omega, V)
    gq, dgq, lq = np.empty(n), np.empty(n), np.empty(n)
    for k in range(n):
        vk, wk, yk = V[k], omega[k], y[k]

        def log_cont(zz, vk=vk, wk=wk, yk=yk):
            return channel.log_likelihood(yk, zz) - 0.5 * (zz - wk) ** 2 / vk - 0.5 * (LOG_2PI + math.log(vk))

        w = 40.0 * math.sqrt(vk)
        hints = [wk, *channel.features().tolist()]
        lq[k], d, var = _posterior_moments(np.zeros(0), np.zeros(0), log_cont, wk - w, wk + w, hints, wk)
        gq[k] = d / vk
        dgq[k] = (var - vk) / vk**2
    h = 1e-3 * np.sqrt(V)

    def logz(x):
        return channel.g_out(y, x, V)[2]

    def gout(x):
        return channel.g_out(y, x, V)[0]

    g_fd = _fd(logz, omega, h)
    dg_fd = _fd(gout, omega, h)
    out = dict(
        g_quad=_err(g, gq), dg_quad=_err(dg, dgq), logz_quad=_err(lz, lq),
        g_fd=_err(g, g_fd), dg_fd=_err(dg, dg_fd),
    )
    out["quad"] = max(out["g_quad"], out["dg_quad"], out["logz_quad"])
    out["fd"] = max(out["g_fd"], out["dg_fd"])
    out["n_points"] = n
    return out
