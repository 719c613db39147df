"""Replica-symmetric (RS) theory of linear regression with quantized student weights.

Model (docs/theory.md §8.2). Inputs ``x_mu`` have i.i.d. N(0, 1/N) entries, ``alpha = M/N``,
the teacher is ``y_mu = x_mu . w0 + sqrt(delta) xi_mu`` with ``w0_i ~ P0`` and ``rho0 = E w0^2``,
and the student samples ``P(w) ~ exp(-beta/2 sum_mu (y_mu - x_mu . w)^2 - beta*ridge/2 |w|^2)``
restricted to ``w_i`` in a finite set of levels ``C``.

RS saddle point (§8.2). With ``m = w.w0/N``, ``q = <w>.<w>/N``, ``Q = |w|^2/N``,
``D = rho0 + delta - 2 m + q`` and ``chi_t = Q - q``::

    A     = alpha beta / (1 + beta chi_t)                  (= mhat = Qhat + qhat)
    qhat  = alpha beta^2 D / (1 + beta chi_t)^2,           tau^2 = qhat / A^2 = D / alpha
    r     = w0 + tau z,  z ~ N(0, 1)                       (the effective scalar channel)
    p(c | r) ~ exp(-(A + beta ridge) c^2 / 2 + A r c),     c in C
    m = E[w0 <c>],  q = E[<c>^2],  chi_t = E[Var(c | r)],  Q = q + chi_t

The errors (test error including the label noise ``delta``):

* ``gen_error``      = rho0 + delta - 2m + Q = D + chi_t   (a Gibbs sample of the posterior),
* ``gen_error_mean`` = rho0 + delta - 2m + q = D           (the posterior mean),
* ``train_error``      = chi_t / (1 + beta chi_t) + D / (1 + beta chi_t)^2   (Gibbs sample),
* ``train_error_mean`` = D / (1 + beta chi_t)^2                              (posterior mean),

both training errors being mean squared residuals ``(1/M) sum_mu (y_mu - x_mu . w)^2``.

Zero temperature (§8.3). As ``beta -> inf`` with ``chi = beta chi_t`` finite,
``<c> -> Round_C(s r)`` with ``s = alpha / (alpha + ridge (1 + chi))`` (``s = 1`` without ridge), so::

    D   = delta + E[(w0 - Round_C(s (w0 + sqrt(D/alpha) z)))^2]
    S   = sum_k p_r(t_k / s) (c_{k+1} - c_k),     t_k = (c_k + c_{k+1}) / 2
    chi = S / (alpha - S)        (chi = inf when S >= alpha: the interpolation peak)

with ``p_r`` the density of ``r``. Both errors are then ``D`` and ``D / (1 + chi)^2``. With a ridge,
``chi / (1 + chi) = S / alpha`` and ``1 + chi = alpha (1 - s) / (ridge s)`` give, at each ``D``, the
scalar equation ``alpha - ridge s / (1 - s) = S(s)`` for ``s`` in ``(0, alpha / (alpha + ridge)]``
(``s -> 0``, ``chi = inf`` when no root exists). Without
quantization (``levels=None``) the posterior is Gaussian, ``<c> = s r``, ``Var(c | r) = chi_t``,
and everything is closed form: ``chi = 2 / ((alpha + ridge - 1) + sqrt((alpha + ridge - 1)^2 + 4 ridge))``,
``D = (rho0 (1 - s)^2 + delta) / (1 - s^2 / alpha)`` (``delta alpha / (alpha - 1)`` when ridge = 0),
independent of ``beta``. Among several roots of the ``D`` equation the one reported is the branch
reached by iterating the map from ``D0 = rho0 + delta`` (the AMP initialisation ``w = 0``).

AT stability (§8.4). The replicon eigenvalue is ``lambda_AT = (1/alpha) E[(A Var(c | r))^2]``;
RS is stable iff ``lambda_AT < 1``. Continuous weights give ``s^2 / alpha`` (``1/alpha`` without
ridge). For discrete levels ``lambda_AT ~ beta`` as ``beta -> inf``, so the T = 0 RS solution is
reported with ``lambda_AT = inf``: at T = 0 the RS values are solver checks, not predictions.

Integration (§8.5). Every expectation is an integral over ``r ~ N(0, rho0 + tau^2)`` with
``w0 | r ~ N(rho0 r / (rho0 + tau^2), rho0 tau^2 / (rho0 + tau^2))`` (Gaussian teacher), or over the
mixture ``r ~ (1/K) sum_j N(c_j, tau^2)`` (teacher uniform on the levels). At finite ``beta``
the integrand is smooth and a composite Gauss–Legendre rule is used, with panels graded around
each effective threshold ``(1 + beta ridge / A) t_k`` whose logistic width ``1 / (A (c_{k+1} - c_k))``
is small, around the two outer levels, and (grid teacher) around each teacher atom. At
``beta = inf`` ``Round_C`` is constant on the cells between thresholds and each cell contributes
closed-form Gaussian moments (normal cdf and pdf).

Examples
--------
>>> import numpy as np
>>> levels = np.linspace(-1.5, 1.5, 4)                  # 2-bit mid-rise, outer level 1.5
>>> res = solve_rs(2.0, levels, 0.1, beta=10.0)
>>> res.converged, res.stable
(True, True)
>>> round(res.gen_error_mean, 4), round(res.lambda_at, 4)
(0.2841, 0.8182)
>>> t0 = solve_rs(2.0, levels, 0.1)                     # beta = inf
>>> round(t0.gen_error, 4), round(t0.chi, 4), t0.lambda_at
(0.3738, 0.7343, inf)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy import optimize, special

from .quantizers import check_levels

__all__ = [
    "RSResult",
    "solve_rs",
    "response_S",
    "rounding_error",
    "at_eigenvalue",
    "rs_closure",
]

_SQRT2PI = math.sqrt(2.0 * math.pi)
_N_GL = 12  # Gauss–Legendre nodes per panel
_SHARP = 0.5  # A gap^2 above which a threshold gets its own graded panels
_OFFSETS = np.array([0.0, 1.0, 2.5, 5.0, 10.0, 18.0, 30.0, 42.0])  # in logistic widths
_EDGE_OFFSETS = np.array([0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0])  # in posterior std (outer levels)
_STALL = 25  # Anderson steps without a new best residual before falling back to the plain map
_TAILS = 9.5  # integrate r over +-_TAILS standard deviations


# ----------------------------------------------------------------------------------------------
# result
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class RSResult:
    """One replica-symmetric fixed point (frozen).

    Attributes
    ----------
    alpha, delta, beta, ridge : float
        The inputs (``beta = inf`` for zero temperature).
    levels : ndarray of float64, shape (K,) or None
        The sorted student levels (read-only), ``None`` for continuous weights.
    teacher : str
        ``"gaussian"`` (``w0 ~ N(0, rho0)``) or ``"grid"`` (``w0`` uniform over ``levels``).
    rho0 : float
        ``E w0^2``.
    m, q, Q : float
        Overlaps ``w.w0/N``, ``<w>.<w>/N``, ``|w|^2/N``.
    chi_tilde : float
        ``Q - q`` (the posterior variance per weight; 0 at ``beta = inf``).
    chi : float
        ``beta chi_tilde`` at finite ``beta``; the T = 0 response ``S / (alpha - S)`` at
        ``beta = inf`` (``inf`` at and beyond the interpolation peak ``S >= alpha``).
    D : float
        ``rho0 + delta - 2 m + q``, the effective channel variance times ``alpha``.
    gen_error : float
        Test error of a Gibbs sample of the posterior, ``rho0 + delta - 2 m + Q``.
    gen_error_mean : float
        Test error of the posterior mean, ``rho0 + delta - 2 m + q = D``. Equal to ``gen_error``
        at ``beta = inf``.
    train_error : float
        Mean squared training residual of a Gibbs sample,
        ``chi_tilde / (1 + chi) + D / (1 + chi)^2``.
    train_error_mean : float
        Mean squared training residual of the posterior mean, ``D / (1 + chi)^2``.
    S : float
        T = 0 response ``sum_k p_r(t_k / s) (c_{k+1} - c_k)`` evaluated at this ``D`` (1 for
        continuous weights, where it is ``s``); also reported at finite ``beta`` for comparison.
    lambda_at : float
        AT replicon eigenvalue ``(1/alpha) E[(A Var(c|r))^2]`` (``inf`` for discrete levels at
        ``beta = inf``).
    stable : bool
        ``lambda_at < 1``.
    converged : bool
        Whether the solver met ``tol`` (always ``True`` for the closed forms).
    n_iter : int
        Fixed-point iterations used (summed over the ``beta`` ladder).
    root : str
        How the fixed point was found (branch, initialisation, bracket).
    """

    alpha: float
    levels: np.ndarray | None = field(repr=False)
    delta: float
    beta: float
    ridge: float
    teacher: str
    rho0: float
    m: float
    q: float
    Q: float
    chi_tilde: float
    chi: float
    D: float
    gen_error: float
    gen_error_mean: float
    train_error: float
    train_error_mean: float
    S: float
    lambda_at: float
    stable: bool
    converged: bool
    n_iter: int
    root: str


# ----------------------------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------------------------


def _check_levels(levels) -> np.ndarray:
    c = check_levels(levels)
    c.flags.writeable = False
    return c


def _check_positive(name: str, value, *, allow_zero: bool = False, allow_inf: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if math.isnan(v) or (math.isinf(v) and not allow_inf) or v < 0 or (v == 0 and not allow_zero):
        cond = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {cond}{'' if allow_inf else ' and finite'}, got {value!r}")
    return v


def _teacher_rho0(teacher: str, levels: np.ndarray | None, rho0: float) -> float:
    if teacher == "gaussian":
        return _check_positive("rho0", rho0)
    if teacher == "grid":
        if levels is None:
            raise ValueError("teacher='grid' needs levels (got levels=None)")
        return float(np.mean(levels**2))
    raise ValueError(f"teacher must be 'gaussian' or 'grid', got {teacher!r}")


# ----------------------------------------------------------------------------------------------
# zero temperature: closed-form cell integrals
# ----------------------------------------------------------------------------------------------


def _cell_moments(levels, tau2, rho0, teacher, scale=1.0):
    """``(m, q)`` at T = 0: ``m = E[w0 Round(s r)]``, ``q = E[Round(s r)^2]``, closed form."""
    c = levels
    t = 0.5 * (c[:-1] + c[1:]) / scale
    if teacher == "gaussian":
        s2 = rho0 + tau2
        sd = math.sqrt(s2)
        u = np.concatenate(([-np.inf], t / sd, [np.inf]))
        cdf = special.ndtr(u)
        pdf = np.exp(-0.5 * np.where(np.isfinite(u), u, 0.0) ** 2) / _SQRT2PI
        pdf[[0, -1]] = 0.0
        p = np.diff(cdf)
        m1 = sd * (pdf[:-1] - pdf[1:])  # E[r; cell]
        return float(rho0 / s2 * (c @ m1)), float((c * c) @ p)
    # grid teacher: w0 = c_j with probability 1/K, r | w0 ~ N(w0, tau2)
    edges = np.concatenate(([-np.inf], t, [np.inf]))
    if tau2 > 0:
        with np.errstate(over="ignore"):
            p = np.diff(special.ndtr((edges[None, :] - c[:, None]) / math.sqrt(tau2)), axis=1)
    else:
        p = -np.diff((c[:, None] > edges[None, :]).astype(np.float64), axis=1)  # r = w0 exactly
    m = float(np.mean(c * (p @ c)))
    q = float(np.mean(p @ (c * c)))
    return m, q


def _density_r(x, tau2, rho0, teacher, levels):
    """Density of ``r = w0 + tau z`` at the points ``x``."""
    x = np.asarray(x, dtype=np.float64)
    if teacher == "gaussian":
        s2 = rho0 + tau2
        return np.exp(-0.5 * x * x / s2) / math.sqrt(2.0 * math.pi * s2)
    if tau2 == 0:
        return np.zeros_like(x)
    d = (x[..., None] - levels) ** 2
    with np.errstate(over="ignore"):  # tau2 -> 0: the Gaussian underflows to 0, as it should
        return np.mean(np.exp(-0.5 * d / tau2), axis=-1) / math.sqrt(2.0 * math.pi * tau2)


def response_S(levels, D, alpha, rho0=1.0, *, teacher="gaussian", scale=1.0):
    """T = 0 response ``S = sum_k p_r(t_k / scale) (c_{k+1} - c_k)``.

    ``p_r`` is the density of ``r = w0 + sqrt(D/alpha) z`` and ``t_k`` the midpoints of the
    levels, so ``S = E[d Round_C(scale r) / dr]``; then ``chi = S / (alpha - S)``.

    Parameters
    ----------
    levels : array_like of float, shape (K,)
        Sorted distinct levels.
    D : float
        ``rho0 + delta - 2m + q`` (channel variance ``D / alpha``).
    alpha : float
        Samples per weight.
    rho0 : float, optional
        Teacher variance (Gaussian teacher).
    teacher : {"gaussian", "grid"}, optional
    scale : float, optional
        ``s = alpha / (alpha + ridge (1 + chi))``; 1 without ridge.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> round(response_S(np.linspace(-8, 8, 4096), 0.5, 2.0), 6)   # fine wide grid: S -> 1
    1.0
    """
    c = _check_levels(levels)
    alpha = _check_positive("alpha", alpha)
    D = _check_positive("D", D, allow_zero=True)
    rho0 = _teacher_rho0(teacher, c, rho0)
    t = 0.5 * (c[:-1] + c[1:]) / scale
    return float(_density_r(t, D / alpha, rho0, teacher, c) @ np.diff(c))


def rounding_error(levels, noise_var=0.0, *, teacher="gaussian", rho0=1.0, scale=1.0):
    """``E[(w0 - Round_C(scale (w0 + sqrt(noise_var) z)))^2]``, exact (normal cdf/pdf per cell).

    With ``noise_var = 0`` this is the plain quantization MSE of the levels for ``P0``.

    Parameters
    ----------
    levels : array_like of float, shape (K,)
    noise_var : float, optional
        ``tau^2 = D / alpha``.
    teacher : {"gaussian", "grid"}, optional
    rho0 : float, optional
        Teacher variance (Gaussian teacher).
    scale : float, optional

    Returns
    -------
    float

    Examples
    --------
    >>> round(rounding_error([-1.510, -0.4528, 0.4528, 1.510]), 4)   # Max's 4-level quantizer
    0.1175
    """
    c = _check_levels(levels)
    tau2 = _check_positive("noise_var", noise_var, allow_zero=True)
    rho0 = _teacher_rho0(teacher, c, rho0)
    m, q = _cell_moments(c, tau2, rho0, teacher, scale)
    return rho0 - 2.0 * m + q


# ----------------------------------------------------------------------------------------------
# finite temperature: quadrature over r
# ----------------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _gl(n):
    x, w = np.polynomial.legendre.leggauss(n)
    return x, w


def _site_features(levels, A, Ap):
    """Breakpoints in ``r`` where ``<c>(r)`` has structure: sharp thresholds and the outer levels."""
    c = levels
    ratio = Ap / A
    pts = []
    gaps = np.diff(c)
    t = ratio * 0.5 * (c[:-1] + c[1:])
    width = 1.0 / (A * gaps)
    sharp = A * gaps**2 > _SHARP
    if np.any(sharp):
        tt = np.concatenate(([-np.inf], t, [np.inf]))
        half = 0.5 * np.minimum(tt[1:-1] - tt[:-2], tt[2:] - tt[1:-1])
        off = np.concatenate((-_OFFSETS[::-1], _OFFSETS[1:]))
        rel = width[sharp, None] * off[None, :]
        keep = np.abs(rel) < half[sharp, None]
        pts.append((t[sharp, None] + rel)[keep])
        pts.append(0.5 * (t[sharp][1:] + t[sharp][:-1]))
    # the two outer levels (saturation of <c>), on the posterior-std scale
    h = math.sqrt(Ap) / A
    off = np.concatenate((-_EDGE_OFFSETS[::-1], _EDGE_OFFSETS[1:])) * h
    pts.append(ratio * c[0] + off)
    pts.append(ratio * c[-1] + off)
    return np.concatenate(pts)


def _panels(bp):
    """Composite Gauss–Legendre nodes and weights on the sorted breakpoints ``bp``."""
    x, w = _gl(_N_GL)
    mid = 0.5 * (bp[1:] + bp[:-1])
    hw = 0.5 * (bp[1:] - bp[:-1])
    return (mid[:, None] + hw[:, None] * x[None, :]).ravel(), (hw[:, None] * w[None, :]).ravel()


def _r_rule(levels, A, Ap, tau2, rho0, teacher):
    """Nodes ``r``, weights (density included) and ``E[w0 | r]`` for the r-integrals.

    Gaussian teacher: one rule in ``r ~ N(0, rho0 + tau2)``. Grid teacher: one rule in
    ``z = (r - c_j) / tau`` per teacher atom ``c_j`` (weight ``1/K``), so that the Gaussian weight
    is exact however small ``tau`` is, and ``E[w0 | r]`` is replaced by the atom itself.
    """
    c = levels
    feats = _site_features(c, A, Ap)
    if teacher == "gaussian":
        s2 = rho0 + tau2
        sd = math.sqrt(s2)
        lo, hi = -_TAILS * sd, _TAILS * sd
        bp = np.concatenate((np.linspace(lo, hi, 2 * int(2 * _TAILS) + 1), feats))  # panels of sd / 2
        r, wt = _panels(np.unique(np.clip(bp, lo, hi)))
        return r, wt * np.exp(-0.5 * r * r / s2) / math.sqrt(2.0 * math.pi * s2), (rho0 / s2) * r
    tau = math.sqrt(tau2)
    base = np.linspace(-_TAILS, _TAILS, 2 * int(2 * _TAILS) + 1)
    rs, ws, es = [], [], []
    for cj in c:
        z, wz = _panels(np.unique(np.clip(np.concatenate((base, (feats - cj) / tau)), -_TAILS, _TAILS)))
        rs.append(cj + tau * z)
        ws.append(wz * np.exp(-0.5 * z * z) / (_SQRT2PI * c.size))
        es.append(np.full(z.size, cj))
    return np.concatenate(rs), np.concatenate(ws), np.concatenate(es)


def _site(levels, A, Ap, r):
    """Posterior mean and variance of ``c`` under ``p(c|r) ~ exp(-Ap c^2/2 + A r c)``."""
    c = levels
    logit = (A * r)[:, None] * c[None, :] - (0.5 * Ap) * (c * c)[None, :]
    logit -= logit.max(axis=1, keepdims=True)
    p = np.exp(logit)
    p /= p.sum(axis=1, keepdims=True)
    mean = p @ c
    var = np.einsum("ij,ij->i", p, (c[None, :] - mean[:, None]) ** 2)
    return mean, var


def _closure(levels, alpha, beta, ridge, D, chi_t, rho0, teacher, *, with_at=False):
    A = alpha * beta / (1.0 + beta * chi_t)
    Ap = A + beta * ridge
    tau2 = D / alpha
    if teacher == "grid" and tau2 <= 1e-280:
        r = levels.copy()
        wt = np.full(levels.size, 1.0 / levels.size)
        e1 = levels
    else:
        r, wt, e1 = _r_rule(levels, A, Ap, tau2, rho0, teacher)
    mean, var = _site(levels, A, Ap, r)
    m = float(wt @ (e1 * mean))
    q = float(wt @ (mean * mean))
    ct = float(wt @ var)
    lam = float(wt @ (A * var) ** 2) / alpha if with_at else math.nan
    return m, q, ct, lam


def rs_closure(alpha, levels, delta, beta, m, q, Q, ridge=0.0, *, teacher="gaussian", rho0=1.0):
    """One application of the finite-``beta`` RS map ``(m, q, Q) -> (m', q', Q')``.

    ``D = rho0 + delta - 2m + q``, ``chi_t = Q - q``, ``A = alpha beta / (1 + beta chi_t)``,
    ``tau^2 = D/alpha`` and ``m' = E[w0 <c>]``, ``q' = E<c>^2``, ``Q' = q' + E Var(c|r)``.
    A fixed point of this map is an RS saddle point.

    Parameters
    ----------
    alpha, delta, beta, ridge : float
    levels : array_like of float, shape (K,)
    m, q, Q : float
    teacher : {"gaussian", "grid"}, optional
    rho0 : float, optional

    Returns
    -------
    tuple of float
        ``(m', q', Q')``.

    Examples
    --------
    >>> import numpy as np
    >>> res = solve_rs(2.0, np.linspace(-1.5, 1.5, 4), 0.1, beta=10.0)
    >>> new = rs_closure(2.0, res.levels, 0.1, 10.0, res.m, res.q, res.Q)
    >>> bool(np.allclose(new, (res.m, res.q, res.Q), atol=1e-10))
    True
    """
    c = _check_levels(levels)
    rho0 = _teacher_rho0(teacher, c, rho0)
    D = rho0 + delta - 2.0 * m + q
    m2, q2, ct, _ = _closure(c, alpha, beta, ridge, max(D, 0.0), max(Q - q, 0.0), rho0, teacher)
    return m2, q2, q2 + ct


def at_eigenvalue(alpha, levels, D, chi_tilde, beta, ridge=0.0, *, teacher="gaussian", rho0=1.0):
    """AT replicon eigenvalue ``(1/alpha) E[(A Var(c | r))^2]`` at given order parameters.

    Parameters
    ----------
    alpha, beta, ridge : float
    levels : array_like of float, shape (K,)
    D : float
        ``rho0 + delta - 2m + q``.
    chi_tilde : float
        ``Q - q``.
    teacher : {"gaussian", "grid"}, optional
    rho0 : float, optional

    Returns
    -------
    float
        ``A = alpha beta / (1 + beta chi_tilde)``; RS is stable iff the value is < 1.

    Examples
    --------
    >>> import numpy as np
    >>> lam = at_eigenvalue(2.0, np.linspace(-16, 16, 129), 0.2, 1.0, 1.0)   # ~ continuous: 1/alpha
    >>> round(lam, 6)
    0.5
    """
    c = _check_levels(levels)
    rho0 = _teacher_rho0(teacher, c, rho0)
    return _closure(c, alpha, beta, ridge, D, chi_tilde, rho0, teacher, with_at=True)[3]


# ----------------------------------------------------------------------------------------------
# solvers
# ----------------------------------------------------------------------------------------------


def _result(alpha, levels, delta, beta, ridge, teacher, rho0, m, q, chi_t, chi, S, lam, conv, n_iter, root):
    D = rho0 + delta - 2.0 * m + q
    if math.isinf(beta):
        chi_t = 0.0
    Q = q + chi_t
    if math.isinf(chi):
        tr_mean = 0.0
        tr = 0.0 if math.isinf(beta) else chi_t / (1.0 + chi)
    else:
        tr_mean = D / (1.0 + chi) ** 2
        tr = chi_t / (1.0 + chi) + tr_mean
    return RSResult(
        alpha=alpha, levels=levels, delta=delta, beta=beta, ridge=ridge, teacher=teacher, rho0=rho0,
        m=m, q=q, Q=Q, chi_tilde=chi_t, chi=chi, D=D, gen_error=D + chi_t, gen_error_mean=D,
        train_error=tr, train_error_mean=tr_mean, S=S, lambda_at=lam, stable=bool(lam < 1.0),
        converged=bool(conv), n_iter=int(n_iter), root=root,
    )  # fmt: skip


def _solve_continuous(alpha, delta, beta, ridge, rho0):
    a1 = alpha + ridge - 1.0
    if ridge == 0.0 and alpha <= 1.0:
        inf = math.inf
        return RSResult(
            alpha=alpha, levels=None, delta=delta, beta=beta, ridge=ridge, teacher="gaussian", rho0=rho0,
            m=rho0, q=inf, Q=inf, chi_tilde=inf, chi=inf, D=inf, gen_error=inf, gen_error_mean=inf,
            train_error=0.0, train_error_mean=0.0, S=1.0, lambda_at=1.0 / alpha, stable=False,
            converged=False, n_iter=0, root="no RS solution: continuous ridgeless weights need alpha > 1",
        )  # fmt: skip
    chi = 2.0 / (a1 + math.sqrt(a1 * a1 + 4.0 * ridge))
    s = alpha / (alpha + ridge * (1.0 + chi))
    D = (rho0 * (1.0 - s) ** 2 + delta) / (1.0 - s * s / alpha)
    m = rho0 * s
    q = s * s * (rho0 + D / alpha)
    chi_t = chi / beta
    root = "closed form (Gaussian posterior)"
    return _result(alpha, None, delta, beta, ridge, "gaussian", rho0, m, q, chi_t, chi, s, s * s / alpha,
                   True, 0, root)  # fmt: skip


def _solve_t0(alpha, c, delta, ridge, rho0, teacher, tol, max_iter, init):
    D0 = rho0 + delta if init is None else float(init)

    def gmap(D, scale=1.0):
        m, q = _cell_moments(c, max(D, 0.0) / alpha, rho0, teacher, scale)
        return delta + rho0 - 2.0 * m + q

    if ridge > 0.0:
        # chi / (1 + chi) = S(s) / alpha with 1 + chi = alpha (1 - s) / (ridge s) gives, for fixed D,
        # k(s) = alpha - ridge s / (1 - s) - S(s) = 0 on (0, alpha / (alpha + ridge)], solved by brentq;
        # s -> 0 (chi = inf) when alpha <= S(0+). D is then iterated from D0 with this s(D).
        s_max = alpha / (alpha + ridge)

        def scale_of(D):
            def k(sc):
                return (
                    alpha - ridge * sc / (1.0 - sc) - response_S(c, D, alpha, rho0, teacher=teacher, scale=sc)
                )

            lo = 1e-150
            if k(s_max) >= 0.0:  # S(s_max) = 0: no density at the thresholds, chi = 0
                return s_max
            if k(lo) <= 0.0:
                return lo
            return optimize.brentq(k, lo, s_max, xtol=1e-15, rtol=4 * np.finfo(float).eps)

        D, conv, n = D0, False, 0
        for n in range(1, max_iter + 1):  # noqa: B007
            D_new = gmap(D, scale_of(D))
            done = abs(D_new - D) <= tol * max(1.0, D)
            D = D_new
            if done:
                conv = True
                break
        s = scale_of(D)
        S = response_S(c, D, alpha, rho0, teacher=teacher, scale=s)
        chi = alpha * (1.0 - s) / (ridge * s) - 1.0 if s > 1e-150 else math.inf
        m, q = _cell_moments(c, D / alpha, rho0, teacher, s)
        root = f"iterated from D0 = {D0:.6g} ({n} steps), s = alpha / (alpha + ridge (1 + chi)) by brentq"
        return _result(alpha, c, delta, math.inf, ridge, teacher, rho0, m, q, 0.0, chi, S, math.inf,
                       conv, n, root)  # fmt: skip

    # ridgeless: iterate D <- delta + g(D) from D0 into the basin, then bracket-refine with brentq
    D, prev, n = D0, D0, 0
    for n in range(1, max_iter + 1):  # noqa: B007
        prev, D = D, gmap(D)
        if abs(D - prev) <= 1e-3 * tol * max(1.0, D):
            break

    def F(x):
        return x - gmap(x)

    f0 = F(D)
    root = f"iterated from D0 = {D0:.6g} ({n} steps)"
    conv = False
    if f0 == 0.0:
        conv = True
    else:
        h = max(4.0 * abs(D - prev), 1e-13 * max(1.0, D))
        bracket = None
        for _ in range(200):
            for x in (D - h, D + h):
                if x < 0.0:
                    x = 0.0
                fx = F(x)
                if fx == 0.0 or np.sign(fx) != np.sign(f0):
                    bracket = (min(x, D), max(x, D))
                    break
            if bracket is not None:
                break
            h *= 2.0
        if bracket is not None and bracket[0] != bracket[1]:
            D = optimize.brentq(F, *bracket, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=200)
            root += f", refined by brentq on [{bracket[0]:.6g}, {bracket[1]:.6g}]"
            conv = True
        elif bracket is not None:
            D, conv = bracket[0], True
    m, q = _cell_moments(c, D / alpha, rho0, teacher)
    S = response_S(c, D, alpha, rho0, teacher=teacher)
    chi = S / (alpha - S) if S < alpha else math.inf
    return _result(alpha, c, delta, math.inf, 0.0, teacher, rho0, m, q, 0.0, chi, S, math.inf, conv, n, root)


def _solve_finite(alpha, c, delta, beta, ridge, rho0, teacher, damping, tol, max_iter, x0, depth):
    """Fixed point of ``x = F(x)``, ``x = (m, q, chi_t)``: damped iteration, Anderson-accelerated.

    The Anderson step (type II, memory ``depth``) mixes the last iterates by least squares on the
    residuals ``F(x) - x``; a step that leaves the domain (``D < 0`` or ``chi_t < 0``) is replaced by
    the plain damped step, the memory is cleared when the residual grows tenfold, and when the best
    residual has not improved for ``_STALL`` steps the plain damped map takes over from the best
    iterate.
    """

    def F(x):
        D = rho0 + delta - 2.0 * x[0] + x[1]
        out = _closure(c, alpha, beta, ridge, max(D, 0.0), max(x[2], 0.0), rho0, teacher)
        return np.array(out[:3])

    def ok(x):
        return x[2] >= 0.0 and rho0 + delta - 2.0 * x[0] + x[1] >= 0.0

    mix = 1.0 - damping
    x = np.array(x0, dtype=np.float64)
    xs, gs = [], []
    best, x_best, n_best = math.inf, x, 0
    for n in range(1, max_iter + 1):
        fx = F(x)
        g = fx - x
        err = float(np.max(np.abs(g)))
        if err < tol:
            return tuple(float(v) for v in fx), True, n
        if err > 10.0 * best:
            xs, gs = [], []
        if err < best:
            best, x_best, n_best = err, x.copy(), n
        if depth > 0 and n - n_best > _STALL:
            # Anderson stalled: finish with the plain damped map from the best iterate
            x, depth, xs, gs = x_best, 0, [], []
            continue
        plain = x + mix * g
        xs.append(x.copy())
        gs.append(g)
        if depth > 0 and len(xs) > 1:
            xs, gs = xs[-(depth + 1) :], gs[-(depth + 1) :]
            dX = np.diff(np.array(xs), axis=0).T
            dG = np.diff(np.array(gs), axis=0).T
            gamma = np.linalg.lstsq(dG, g, rcond=None)[0]
            xa = plain - (dX + mix * dG) @ gamma
            x = xa if np.all(np.isfinite(xa)) and ok(xa) else plain
        else:
            x = plain
        if not ok(x):
            x = np.array([x[0], x[1], max(x[2], 0.0)])
    return tuple(float(v) for v in x), False, max_iter


def solve_rs(
    alpha,
    levels,
    delta,
    beta=np.inf,
    ridge=0.0,
    *,
    teacher="gaussian",
    rho0=1.0,
    damping=0.3,
    tol=1e-12,
    max_iter=5000,
    init=None,
    beta_start=1.0,
    beta_ratio=4.0,
    anderson=3,
):
    """Solve the RS saddle-point equations of quantized-weight regression.

    Parameters
    ----------
    alpha : float
        Samples per weight ``M/N`` (> 0).
    levels : array_like of float, shape (K,), or None
        Sorted distinct student levels (K >= 2); ``None`` for continuous weights (closed form,
        Gaussian teacher only).
    delta : float
        Label-noise variance (>= 0).
    beta : float, optional
        Inverse temperature (> 0); ``numpy.inf`` (default) for zero temperature.
    ridge : float, optional
        Ridge penalty ``lambda`` (>= 0).
    teacher : {"gaussian", "grid"}, optional
        ``w0 ~ N(0, rho0)`` or ``w0`` uniform over ``levels`` (then ``rho0 = mean(levels^2)``).
    rho0 : float, optional
        Teacher variance for the Gaussian teacher (default 1).
    damping : float, optional
        Finite ``beta``: weight of the old iterate in ``x <- damping x + (1 - damping) F(x)``.
    tol : float, optional
        Finite ``beta``: stop when ``max |F(x) - x| < tol`` over ``(m, q, Q - q)``. Zero
        temperature: relative tolerance of the ``D`` iteration (the root is then refined by brentq
        to machine precision).
    max_iter : int, optional
        Iteration cap (per rung of the ``beta`` ladder).
    init : tuple of float or RSResult, optional
        Finite ``beta``: starting ``(m, q, Q)`` (or a previous result); the ``beta`` ladder is then
        skipped. Zero temperature: the starting ``D`` (float) or a result whose ``D`` is used.
        Default: ``m = mean(c) E w0``, ``q = mean(c)^2``, ``Q = mean(c^2)`` (the AMP start
        ``w = prior mean``) and ``D0 = rho0 + delta``.
    beta_start, beta_ratio : float, optional
        Finite ``beta > beta_start`` is reached by continuation over ``beta_start * beta_ratio^j``
        (then ``beta``), each rung warm-started from the previous one.
    anderson : int, optional
        Memory of the Anderson acceleration of the finite-``beta`` iteration (0: plain damped).

    Returns
    -------
    RSResult

    Raises
    ------
    ValueError
        On ``alpha <= 0``, ``delta < 0``, ``beta <= 0``, ``ridge < 0``, or levels that are not
        1-d, finite, sorted, distinct and at least 2.

    Examples
    --------
    >>> import numpy as np
    >>> res = solve_rs(3.0, np.linspace(-8, 8, 4096), 0.1)          # 12 bits ~ continuous
    >>> round(res.gen_error, 5), round(0.1 * 3.0 / 2.0, 5)
    (0.15, 0.15)
    >>> round(solve_rs(3.0, None, 0.1).D, 12)                       # continuous, closed form
    0.15
    >>> round(solve_rs(1e6, [-1.510, -0.4528, 0.4528, 1.510], 0.0).gen_error, 4)   # Max's quantizer
    0.1175
    """
    alpha = _check_positive("alpha", alpha)
    delta = _check_positive("delta", delta, allow_zero=True)
    beta = _check_positive("beta", beta, allow_inf=True)
    ridge = _check_positive("ridge", ridge, allow_zero=True)
    if not 0.0 <= damping < 1.0:
        raise ValueError(f"damping must be in [0, 1), got {damping!r}")
    if levels is None:
        if teacher != "gaussian":
            raise ValueError(f"continuous weights (levels=None) need teacher='gaussian', got {teacher!r}")
        return _solve_continuous(alpha, delta, beta, ridge, _check_positive("rho0", rho0))
    c = _check_levels(levels)
    rho0 = _teacher_rho0(teacher, c, rho0)

    if math.isinf(beta):
        if isinstance(init, RSResult):
            init = init.D
        return _solve_t0(alpha, c, delta, ridge, rho0, teacher, tol, max_iter, init)

    mean_w0 = 0.0 if teacher == "gaussian" else float(np.mean(c))
    if init is None:
        x = (float(np.mean(c)) * mean_w0, float(np.mean(c)) ** 2, float(np.var(c)))
        rungs = [beta]
        if beta > beta_start:
            rungs = [beta_start]
            while rungs[-1] * beta_ratio < beta:
                rungs.append(rungs[-1] * beta_ratio)
            rungs.append(beta)
        root = "damped iteration from m = mean(c) E w0, q = mean(c)^2, Q = mean(c^2)"
    else:
        if isinstance(init, RSResult):
            init = (init.m, init.q, init.Q)
        mi, qi, Qi = (float(v) for v in init)
        x = (mi, qi, max(Qi - qi, 0.0))
        rungs = [beta]
        root = f"damped iteration from init m = {mi:.6g}, q = {qi:.6g}, Q = {Qi:.6g}"
    if len(rungs) > 1:
        root += ", continuation over beta = " + ", ".join(f"{b:.4g}" for b in rungs)
    n_tot, conv = 0, True
    for b in rungs:
        x, conv, n = _solve_finite(
            alpha, c, delta, b, ridge, rho0, teacher, damping, tol, max_iter, x, anderson
        )
        n_tot += n
    m, q, ct = x
    D = max(rho0 + delta - 2.0 * m + q, 0.0)
    lam = _closure(c, alpha, beta, ridge, D, ct, rho0, teacher, with_at=True)[3]
    s = alpha / (alpha + ridge * (1.0 + beta * ct))
    S = response_S(c, D, alpha, rho0, teacher=teacher, scale=s)
    return _result(
        alpha, c, delta, beta, ridge, teacher, rho0, m, q, ct, beta * ct, S, lam, conv, n_tot, root
    )
