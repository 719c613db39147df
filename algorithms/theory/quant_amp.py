"""AMP for linear regression with a student on a finite grid of weights, and its state evolution.

Data ``y = F w0 + sqrt(Delta) xi`` with ``F`` i.i.d. N(0, 1/N), ``P = alpha N``
and a teacher ``w0`` of second moment ``rho0`` (a Gaussian teacher:
``fgraph.problems.quantized_regression(..., teacher='gaussian')``).  The student
samples the Gibbs measure at inverse temperature ``beta`` with ridge ``lambda``::

    P_beta(w) ~ exp(-(beta/2) sum_mu (y_mu - F_mu . w)^2 - (beta lambda/2) |w|^2)  prod_i 1[w_i in C]

(docs/theory.md §8.6).  This is GAMP with a Gaussian channel of variance
``1/beta`` and a discrete prior on the levels C, the ridge entering as prior
weights ``pi(c) ~ exp(-beta lambda c^2 / 2)``, so that the site law is::

    p(c | r) ~ exp(-(A + beta lambda) c^2 / 2 + A r c),   A = alpha beta / (1 + beta V)

:func:`quantized_amp` runs it (:func:`algorithms.run_amp`), optionally
annealing ``beta`` upwards with each stage started from the previous one.

**State evolution** (:func:`quantized_se`).  With ``m = w . w0 / N``,
``q = w . w / N`` (the posterior mean ``w``) and ``V = Q - q`` the mean
posterior variance, one AMP iteration maps::

    D   = rho0 + Delta - 2 m + q,   tau^2 = D / alpha,   A = alpha beta / (1 + beta V)
    r   = w0 + tau z,   <c>, Var(c) the mean and variance of p(c | r)
    m'  = E[w0 <c>],   q' = E[<c>^2],   V' = E[Var(c)],   Q' = q' + V'

which is the replica-symmetric fixed-point map of the quantized student,
:func:`algorithms.theory.replica.rs_closure` (:func:`quantized_se` iterates it;
its fixed points are the RS saddle points of
:func:`algorithms.theory.replica.solve_rs`).  Errors: Gibbs
``rho0 + Delta - 2m + Q``, posterior mean ``rho0 + Delta - 2m + q``; training
residuals ``V / (1 + beta V) + D / (1 + beta V)^2`` (Gibbs) and ``D / (1 + beta V)^2``
(posterior mean).  Replica symmetry is
stable (de Almeida–Thouless) when ``lambda_AT = E[(A Var(c))^2] / alpha < 1``.

Examples
--------
>>> import numpy as np
>>> levels = np.linspace(-1.5, 1.5, 4)
>>> se = quantized_se(2.0, levels, 0.1, beta=4.0)
>>> se.converged, round(se.m_final, 4), round(se.q_final, 4), se.lambda_at < 1
(True, 0.8319, 0.8121, True)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fgraph.dtypes import readonly

from ..amp import AMPResult, run_amp
from ..denoisers import DiscretePrior, GaussianChannel
from .replica import at_eigenvalue, rs_closure

__all__ = [
    "QuantAMPResult",
    "QuantSEResult",
    "anneal_schedule",
    "quantized_amp",
    "quantized_se",
    "site_prior",
]

# ----------------------------------------------------------------------------- argument checks
def _positive(x, name, allow_zero=False) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not math.isfinite(x):
        raise ValueError(f"{name} must be a finite number, got {x!r}")
    x = float(x)
    if x < 0 or (x == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {x!r}")
    return x


def _levels(levels) -> np.ndarray:
    if isinstance(levels, str):
        raise ValueError(f"levels must be an array of values, got {levels!r}")
    try:
        lev = np.asarray(levels, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"levels must be numbers, got {levels!r}") from exc
    if lev.ndim != 1 or lev.size < 2:
        raise ValueError(f"levels must be a 1-D array of at least 2 values, got {lev.tolist()}")
    if not np.all(np.isfinite(lev)):
        raise ValueError(f"levels must be finite, got {lev.tolist()}")
    lev = np.sort(lev)
    if np.any(np.diff(lev) <= 0):
        raise ValueError(f"levels must be distinct, got {np.asarray(levels).tolist()}")
    return lev


def site_prior(levels, beta, ridge=0.0) -> DiscretePrior:
    """The student's prior on the levels: weights ``~ exp(-beta ridge c^2 / 2)`` (uniform for ridge 0).

    Parameters
    ----------
    levels : array_like of float, shape (L,)
        Distinct finite levels, L >= 2 (sorted here).
    beta : float
        Inverse temperature, > 0.
    ridge : float
        Ridge lambda >= 0.

    Returns
    -------
    DiscretePrior

    Examples
    --------
    >>> p = site_prior([-1.0, 0.0, 1.0], beta=2.0, ridge=0.5)
    >>> np.round(p.weights, 4).tolist()
    [0.2741, 0.4519, 0.2741]
    """
    lev = _levels(levels)
    beta = _positive(beta, "beta")
    ridge = _positive(ridge, "ridge", allow_zero=True)
    logw = -0.5 * beta * ridge * lev**2
    w = np.exp(logw - logw.max())
    return DiscretePrior(lev, w)


def anneal_schedule(beta, anneal=None) -> tuple[float, ...]:
    """The inverse temperatures of an annealed run, increasing, ending at ``beta``.

    Parameters
    ----------
    beta : float
        Final inverse temperature, > 0.
    anneal : None, int or sequence of float
        None or 1: ``beta`` alone.  An int k >= 2: k stages geometrically spaced
        from ``beta / 10`` to ``beta``.  A sequence: positive, strictly
        increasing betas not above ``beta`` (``beta`` is appended if the last is
        smaller).

    Returns
    -------
    tuple of float

    Examples
    --------
    >>> tuple(round(b, 4) for b in anneal_schedule(8.0, 3))
    (0.8, 2.5298, 8.0)
    >>> anneal_schedule(8.0, [1, 2, 4])
    (1.0, 2.0, 4.0, 8.0)
    """
    beta = _positive(beta, "beta")
    if anneal is None:
        return (beta,)
    if isinstance(anneal, numbers.Integral) and not isinstance(anneal, bool):
        k = int(anneal)
        if k < 1:
            raise ValueError(f"anneal as a number of stages must be >= 1, got {k}")
        if k == 1:
            return (beta,)
        out = tuple(float(b) for b in np.geomspace(beta / 10.0, beta, k))
        return out[:-1] + (beta,)
    if isinstance(anneal, (str, bytes)) or not isinstance(anneal, (Sequence, np.ndarray)):
        raise ValueError(f"anneal must be None, an int or a sequence of betas, got {anneal!r}")
    bs = [_positive(b, "anneal beta") for b in anneal]
    if not bs:
        raise ValueError("anneal sequence must not be empty")
    if any(b2 <= b1 for b1, b2 in zip(bs, bs[1:])):
        raise ValueError(f"anneal betas must be strictly increasing, got {bs}")
    if bs[-1] > beta:
        raise ValueError(f"anneal betas must not exceed beta={beta}, got {bs}")
    return tuple(bs) if bs[-1] == beta else (*bs, beta)


# ----------------------------------------------------------------------------- AMP
@dataclass(frozen=True, eq=False)
class QuantAMPResult:
    """Outcome of :func:`quantized_amp` (frozen).

    Attributes
    ----------
    m : float or None
        ``w . w0 / N`` of the posterior mean ``w`` (None without a teacher).
    q : float
        ``w . w / N``.
    Q : float
        ``q + mean(v)``, the Gibbs self-overlap (v the posterior variances).
    gen_error : float or None
        Gibbs generalisation error ``rho0 + Delta - 2m + Q`` (None without a
        teacher or noise).
    gen_error_mean : float or None
        Posterior-mean error ``rho0 + Delta - 2m + q``, the expected squared
        error of ``F_new . w`` on a fresh sample.
    train_error_mean : float
        ``mean((y - F w)^2)``, the training residual of the posterior mean.
    train_error : float
        Training residual of a Gibbs sample, ``train_error_mean + V / (1 + beta V)``
        with ``V = mean(v)`` (``V / (1 + beta V)`` is the posterior variance of
        ``F_mu . w``).
    rho0 : float or None
        The teacher's empirical second moment ``w0 . w0 / N``.
    noise : float or None
        Delta.
    converged : bool
        The last stage converged.
    n_iter : int
        Iterations summed over the stages.
    betas : tuple of float
        Inverse temperatures of the stages (the last is ``beta``).
    amp : AMPResult
        The last stage's run (estimate, variances, per-iteration history).
    """

    m: float | None
    q: float
    Q: float
    gen_error: float | None
    gen_error_mean: float | None
    train_error: float
    train_error_mean: float
    rho0: float | None
    noise: float | None
    converged: bool
    n_iter: int
    betas: tuple
    amp: AMPResult

    @property
    def beta(self) -> float:
        """The final inverse temperature."""
        return self.betas[-1]


def _teacher_and_noise(problem, truth, noise):
    meta = getattr(problem, "meta", None) or {}
    if truth is None:
        truth = meta.get("teacher")
        if truth is None and getattr(problem, "truth", None) is not None:
            t = np.asarray(problem.truth)
            truth = t if t.dtype.kind == "f" else None
    if noise is None:
        noise = meta.get("noise")
    if truth is not None:
        truth = np.asarray(truth, dtype=np.float64)
    if noise is not None:
        noise = _positive(noise, "noise", allow_zero=True)
    return truth, noise


def quantized_amp(
    problem,
    levels,
    beta,
    *,
    ridge=0.0,
    damping=0.5,
    anneal=None,
    max_iter=500,
    tol=1e-7,
    seed=None,
    init=None,
    truth=None,
    noise=None,
    **amp_options,
) -> QuantAMPResult:
    """AMP for the Gibbs measure of a student with weights on ``levels`` (docs/theory.md §8.6).

    Runs :func:`algorithms.run_amp` with ``site_prior(levels, beta, ridge)``
    (uniform on the levels times ``exp(-beta ridge c^2 / 2)``) and
    ``GaussianChannel(1 / beta)``, at each inverse temperature of
    ``anneal_schedule(beta, anneal)`` in turn, every stage starting from the
    previous stage's means and variances.

    Parameters
    ----------
    problem : Problem or (F, y)
        A regression problem (e.g. ``quantized_regression(..., teacher='gaussian')``:
        its ``F``, ``y``, ``meta['teacher']`` and ``meta['noise']`` are used) or
        the data matrix F, float (P, N), with the labels y, float (P,).
    levels : array_like of float, shape (L,)
        The student's levels: distinct, finite, L >= 2.
    beta : float
        Inverse temperature, > 0.
    ridge : float
        Ridge lambda >= 0.
    damping : float in [0, 1)
        Weight of the old estimate in AMP's update.
    anneal : None, int or sequence of float
        Stages of increasing beta (:func:`anneal_schedule`); None: one run at ``beta``.
    max_iter : int
        Largest number of iterations of each stage.
    tol : float
        Convergence threshold (root mean square change of the estimate).
    seed : int, numpy.random.Generator or None
        For ``init='random'``.
    init : None, 'prior', 'random', ndarray or (xhat, v)
        Start of the first stage (:func:`algorithms.run_amp`).
    truth : array_like of float, shape (N,), optional
        Teacher weights (default: the problem's ``meta['teacher']``).
    noise : float, optional
        Delta of the data, for the generalisation errors (default ``meta['noise']``).
    **amp_options
        Other :class:`algorithms.AMPConfig` fields (``dtype``, ``variance``, ``n_threads``).

    Returns
    -------
    QuantAMPResult

    Raises
    ------
    ValueError
        ``beta <= 0``, ``ridge < 0``, levels that are not distinct finite
        numbers (at least 2), a bad anneal schedule, bad AMP settings.

    Examples
    --------
    >>> import numpy as np
    >>> from fgraph.problems import quantized_regression
    >>> levels = np.linspace(-1.5, 1.5, 4)
    >>> prob = quantized_regression(1000, 2.0, levels, noise=0.1, teacher="gaussian", seed=0, graph=False)
    >>> res = quantized_amp(prob, levels, beta=4.0, anneal=3)
    >>> res.converged, res.betas[-1], res.amp.estimate.shape
    (True, 4.0, (1000,))
    >>> bool(abs(res.m - 0.832) < 0.05 and abs(res.q - 0.812) < 0.05)
    True
    """
    prior_final = site_prior(levels, beta, ridge)  # validates levels, beta, ridge
    betas = anneal_schedule(beta, anneal)
    ridge = float(ridge)
    lev = prior_final.levels
    w0, delta = _teacher_and_noise(problem, truth, noise)
    start = init
    n_iter = 0
    res = None
    for b in betas:
        prior = prior_final if b == betas[-1] else site_prior(lev, b, ridge)
        res = run_amp(problem, prior, GaussianChannel(1.0 / b), truth=w0, init=start, seed=seed,
                      damping=damping, max_iter=max_iter, tol=tol, **amp_options)
        n_iter += res.n_iter
        start = (res.estimate, res.variances)
    w, v = res.estimate, res.variances
    N = w.size
    F = problem[0] if isinstance(problem, (tuple, list)) else problem.F
    y = problem[1] if isinstance(problem, (tuple, list)) else problem.y
    q = float(w @ w) / N
    V = float(np.mean(v))
    Q = q + V
    train = float(np.mean((np.asarray(y, dtype=np.float64) - np.asarray(F, dtype=np.float64) @ w) ** 2))
    b = betas[-1]
    if w0 is not None:
        m = float(w @ w0) / N
        rho0 = float(w0 @ w0) / N
    else:
        m = rho0 = None
    if m is not None and delta is not None:
        gen, gen_mean = rho0 + delta - 2 * m + Q, rho0 + delta - 2 * m + q
    else:
        gen = gen_mean = None
    return QuantAMPResult(m=m, q=q, Q=Q, gen_error=gen, gen_error_mean=gen_mean,
                          train_error=train + V / (1 + b * V), train_error_mean=train, rho0=rho0,
                          noise=delta, converged=res.converged, n_iter=n_iter, betas=betas, amp=res)


# ----------------------------------------------------------------------------- state evolution
@dataclass(frozen=True, eq=False)
class QuantSEResult:
    """Trajectory of :func:`quantized_se` (frozen; arrays read-only, float64 (n_iter + 1,)).

    Attributes
    ----------
    m, q, Q : ndarray
        Overlaps after each iteration; index 0 is the start.
    D : ndarray
        ``rho0 + Delta - 2 m + q``.
    gen_error : ndarray
        Gibbs error ``rho0 + Delta - 2m + Q``.
    gen_error_mean : ndarray
        Posterior-mean error ``D``.
    train_error : ndarray
        Training residual of a Gibbs sample, ``V / (1 + beta V) + D / (1 + beta V)^2``, ``V = Q - q``.
    train_error_mean : ndarray
        Training residual of the posterior mean, ``D / (1 + beta V)^2``.
    lambda_at : float
        ``E[(A Var(c))^2] / alpha`` at the last point
        (:func:`algorithms.theory.replica.at_eigenvalue`); replica symmetry is stable below 1.
    converged : bool
        ``max(|dm|, |dq|, |dQ|) < tol`` was reached.
    alpha, delta, beta, ridge, rho0 : float
    levels : ndarray of float64, shape (L,)
    """

    m: np.ndarray
    q: np.ndarray
    Q: np.ndarray
    D: np.ndarray
    gen_error: np.ndarray
    gen_error_mean: np.ndarray
    train_error: np.ndarray
    train_error_mean: np.ndarray
    lambda_at: float
    converged: bool
    alpha: float
    delta: float
    beta: float
    ridge: float
    rho0: float
    levels: np.ndarray

    @property
    def n_iter(self) -> int:
        """Iterations performed."""
        return int(self.m.size - 1)

    @property
    def m_final(self) -> float:
        """``m[-1]``."""
        return float(self.m[-1])

    @property
    def q_final(self) -> float:
        """``q[-1]``."""
        return float(self.q[-1])

    @property
    def Q_final(self) -> float:
        """``Q[-1]``."""
        return float(self.Q[-1])

    @property
    def stable(self) -> bool:
        """Replica symmetry is stable at the last point (``lambda_at < 1``)."""
        return bool(self.lambda_at < 1.0)


def quantized_se(
    alpha,
    levels,
    delta,
    beta,
    ridge=0.0,
    *,
    rho0=1.0,
    damping=0.0,
    max_iter=1000,
    tol=1e-10,
    init=None,
) -> QuantSEResult:
    """State evolution of :func:`quantized_amp` for a Gaussian teacher N(0, rho0) (docs/theory.md §8.6).

    Iterates the RS map :func:`algorithms.theory.replica.rs_closure`
    ``(m, q, Q) -> (m', q', Q')`` (module docstring), from AMP's
    default start (the prior mean and variance of ``site_prior(levels, beta, ridge)``:
    ``m = 0``, ``q = mean^2``, ``V = var``) or from ``init``.  Undamped, step t
    predicts AMP's (undamped) iteration t; any damping gives the same fixed
    points, the replica-symmetric saddle points.

    Parameters
    ----------
    alpha : float
        Samples per weight, > 0.
    levels : array_like of float, shape (L,)
        The student's levels (distinct, finite, L >= 2).
    delta : float
        Noise variance of the data, >= 0.
    beta : float
        Inverse temperature, > 0.
    ridge : float
        Ridge lambda >= 0.
    rho0 : float
        Teacher variance, > 0.
    damping : float in [0, 1)
        ``x <- (1 - damping) x' + damping x`` for ``x = m, q, V``.
    max_iter : int >= 1
    tol : float > 0
        Stop when ``m, q`` and ``Q`` all change by less than ``tol``.
    init : (m, q, Q), optional
        Starting overlaps (``Q >= q``).

    Returns
    -------
    QuantSEResult

    Raises
    ------
    ValueError
        Non-positive ``alpha``, ``beta``, ``rho0`` or ``tol``, negative ``delta``
        or ``ridge``, bad levels, damping outside [0, 1), a bad ``init``.

    Examples
    --------
    >>> import numpy as np
    >>> se = quantized_se(2.0, np.linspace(-1.5, 1.5, 4), 0.1, beta=4.0)
    >>> round(float(se.gen_error[-1]), 4), round(float(se.gen_error_mean[-1]), 4), se.stable
    (0.4265, 0.2484, True)
    """
    alpha = _positive(alpha, "alpha")
    prior = site_prior(levels, beta, ridge)
    lev = prior.levels
    beta = float(beta)
    ridge = float(ridge)
    delta = _positive(delta, "delta", allow_zero=True)
    rho0 = _positive(rho0, "rho0")
    d = damping
    if isinstance(d, bool) or not isinstance(d, numbers.Real) or not (0.0 <= d < 1.0):
        raise ValueError(f"damping must be a number in [0, 1), got {d!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 1:
        raise ValueError(f"max_iter must be an int >= 1, got {max_iter!r}")
    tol = _positive(tol, "tol")
    if init is None:
        m, q, V = 0.0, prior.mean**2, prior.var
    else:
        try:
            m, q, Q = (float(x) for x in init)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"init must be (m, q, Q), got {init!r}") from exc
        if not all(math.isfinite(x) for x in (m, q, Q)) or q < 0 or Q < q:
            raise ValueError(f"init must be finite with 0 <= q <= Q, got {init!r}")
        V = Q - q
    ms, qs, Vs = [m], [q], [V]
    converged = False
    for _ in range(int(max_iter)):
        m2, q2, Q2 = rs_closure(alpha, lev, delta, beta, m, q, q + V, ridge, teacher="gaussian", rho0=rho0)
        V2 = Q2 - q2
        m2, q2, V2 = ((1 - d) * a + d * b for a, b in ((m2, m), (q2, q), (V2, V)))
        change = max(abs(m2 - m), abs(q2 - q), abs(q2 + V2 - q - V))
        m, q, V = m2, q2, V2
        ms.append(m)
        qs.append(q)
        Vs.append(V)
        if change < tol:
            converged = True
            break
    lam = at_eigenvalue(alpha, lev, max(rho0 + delta - 2 * m + q, 0.0), V, beta, ridge, teacher="gaussian",
                        rho0=rho0)
    m_a, q_a, V_a = (np.array(x, dtype=np.float64) for x in (ms, qs, Vs))
    D = rho0 + delta - 2 * m_a + q_a
    return QuantSEResult(
        m=readonly(m_a), q=readonly(q_a), Q=readonly(q_a + V_a), D=readonly(D),
        gen_error=readonly(D + V_a), gen_error_mean=readonly(D.copy()),
        train_error=readonly(V_a / (1 + beta * V_a) + D / (1 + beta * V_a) ** 2),
        train_error_mean=readonly(D / (1 + beta * V_a) ** 2), lambda_at=lam, converged=converged,
        alpha=alpha, delta=delta, beta=beta, ridge=ridge, rho0=rho0, levels=readonly(lev.copy()),
    )
