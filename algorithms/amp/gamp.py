"""GAMP on a dense generalised linear model, on the base graph or on an M-cover of it.

The model is ``y_mu ~ P_out(. | z_mu)`` with ``z = F x`` and ``x_i`` i.i.d. from a
prior (docs/theory.md §6.1).  One iteration (Rangan's GAMP)::

    V_mu     = sum_i F_mu,i^2 v_i
    omega_mu = sum_i F_mu,i xhat_i - V_mu g_mu              (Onsager term: the previous g)
    g_mu, dg_mu = g_out, dg_out(y_mu, omega_mu, V_mu)       (the channel)
    Sigma_i  = 1 / sum_mu F_mu,i^2 (-dg_mu)
    r_i      = xhat_i + Sigma_i sum_mu F_mu,i g_mu
    xhat_i, v_i <- (1 - damping) (f_in, v_in)(r_i, Sigma_i) + damping (xhat_i, v_i)

from ``xhat = E x``, ``v = Var x``, ``g = 0`` (or a given start).  The
denoisers are those of :mod:`algorithms.denoisers`, dispatched by their integer
codes inside the kernels.  ``V`` is floored at ``V_MIN`` = 1e-30, and a weight
whose precision ``b_i = sum_mu F^2 (-dg)`` is below ``INFO_MIN / Var x`` (1e-10 of the
prior's precision, or not positive) keeps its value: a noiseless channel at finite N
otherwise loses every message once the weights are recovered (V falls far below
the smallest margin z_mu^2, every g underflows) and returns to the prior mean
(:mod:`algorithms.amp.kernels`).

**Operators** (:mod:`algorithms.amp.kernels`):

* dense, fused (default): one Numba pass over the rows of F per iteration forms
  ``omega, V``, runs the channel and adds ``F^T g`` and ``(F^2)^T (-dg)`` while
  the rows are in cache (F is read from memory once per iteration);
* dense, ``fused=False``: four BLAS matrix-vector products per iteration with
  ``F^2`` formed once, the reference implementation;
* lifted (``lift=``): the operator of an M-cover of the dense factor graph.
  Factor copy (mu, m) reads weight copy (i, pi_mu,i(m))::

      omega_mu,m = sum_i F_mu,i xhat[i, pi_mu,i(m)] - V_mu,m g_mu,m
      (F~^T g)[i, m'] = sum_mu F_mu,i g[mu, pi_mu,i^-1(m')]

  with the labels ``y_mu`` shared by all copies.  The permutations are stored
  compactly (uint8 for M <= 256) and only indexed: the fused operator gathers
  through pi and adds ``F g`` into each thread's own partial sums at
  ``pi_mu,i(m)`` (the inverse-permutation gather written from the row's side),
  the reference (``fused=False``) gathers through precomputed inverse
  permutations, one thread per block of weights; the (PM) x (NM) matrix is
  never formed.  The identity permutations give M independent runs, and M
  identical starting copies reproduce the base run for any permutations.

``variance='scalar'`` replaces every F_mu,i^2 by the mean square entry (uniform
variance GAMP).  ``dtype='float32'`` stores F and the weight state in single
precision (half the memory traffic) and accumulates the dense products in single
precision; the denoisers compute in double, and results are returned as float64.

Convergence: the residual of an iteration is the root mean square change of
``xhat``; a run stops when it falls below ``tol`` (``converged=True``), after
``max_iter`` iterations, when a callback returns a true value, or when the
state stops being finite.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from types import MappingProxyType

import numba
import numpy as np

from fgraph.dtypes import FLOAT, FrozenPickle, as_generator
from fgraph.jit import jit_disabled, threads

from ..denoisers import from_name
from ..denoisers.kernels import channel_gout_array
from . import kernels

__all__ = ["AMPConfig", "AMPProgress", "AMPResult", "run_amp"]

DTYPES = {"float64": np.float64, "float32": np.float32}
VARIANCES = ("full", "scalar")

#: Problems with fewer than this many entries (P N M) run on one thread unless n_threads is
#: given: a parallel launch costs more than an iteration.
SMALL_PROBLEM = 1 << 18


@dataclass(frozen=True)
class AMPConfig:
    """Settings of an AMP run (a value: hashable, comparable, printable).

    Parameters
    ----------
    damping : float in [0, 1)
        Weight of the old ``xhat, v`` in the damped update.
    max_iter : int >= 1
        Largest number of iterations.
    tol : float > 0
        Convergence threshold on the root mean square change of ``xhat``.
    dtype : {'float64', 'float32'}
        Storage of F and of the weight state (``xhat, v``).  The channel and
        prior denoisers compute in double precision either way.
    n_threads : int or None
        Threads of the kernels (None: one thread for problems with fewer than
        ``SMALL_PROBLEM`` entries ``P N M``, Numba's default otherwise).
    fused : bool
        True: the one-pass Numba operator.  False: the reference (BLAS for the
        dense operator; gathers through the inverse permutations, one thread
        per variable block, for the lifted one).
    variance : {'full', 'scalar'}
        'full': ``V_mu = sum_i F_mu,i^2 v_i`` and ``1/Sigma_i = sum_mu F_mu,i^2 (-dg_mu)``;
        'scalar': F^2 replaced by its mean entry (cheaper; exact in the limit of
        i.i.d. F).

    Examples
    --------
    >>> AMPConfig(damping=0.3).identify()
    'AMP[damping=0.3,max_iter=200,tol=1e-08,dtype=float64,variance=full]'
    >>> AMPConfig(dtype="float16")
    Traceback (most recent call last):
    ...
    ValueError: dtype must be one of ('float64', 'float32'), got 'float16'
    """

    damping: float = 0.0
    max_iter: int = 200
    tol: float = 1e-8
    dtype: str = "float64"
    n_threads: int | None = None
    fused: bool = True
    variance: str = "full"

    def __post_init__(self):
        d = self.damping
        if isinstance(d, bool) or not isinstance(d, numbers.Real) or not (0.0 <= d < 1.0):
            raise ValueError(f"damping must be a number in [0, 1), got {d!r}")
        m = self.max_iter
        if isinstance(m, bool) or not isinstance(m, numbers.Integral) or m < 1:
            raise ValueError(f"max_iter must be an int >= 1, got {m!r}")
        t = self.tol
        if isinstance(t, bool) or not isinstance(t, numbers.Real) or not (t > 0 and math.isfinite(t)):
            raise ValueError(f"tol must be a positive finite number, got {t!r}")
        if not isinstance(self.dtype, str) or self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {tuple(DTYPES)}, got {self.dtype!r}")
        n = self.n_threads
        if n is not None and (isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1):
            raise ValueError(f"n_threads must be None or an int >= 1, got {n!r}")
        if not isinstance(self.fused, bool):
            raise TypeError(f"fused must be a bool, got {self.fused!r}")
        if not isinstance(self.variance, str) or self.variance not in VARIANCES:
            raise ValueError(f"variance must be one of {VARIANCES}, got {self.variance!r}")

    def identify(self) -> str:
        """One-line description: ``AMP[damping=...,max_iter=...,tol=...,dtype=...,variance=...]``."""
        extra = "" if self.fused else ",fused=False"
        extra += "" if self.n_threads is None else f",n_threads={self.n_threads}"
        return (
            f"AMP[damping={self.damping:g},max_iter={self.max_iter},tol={self.tol:g},"
            f"dtype={self.dtype},variance={self.variance}{extra}]"
        )


@dataclass(frozen=True, eq=False)
class AMPResult(FrozenPickle):  # pickles equal, read-only arrays and proxies kept
    """Outcome of :func:`run_amp` (read-only arrays).

    Attributes
    ----------
    estimate : ndarray of float64, shape (N,), or (N, M) for a lifted run
        Posterior means ``xhat`` (column m: copy m).
    variances : ndarray of float64, same shape as ``estimate``
        Posterior variances ``v``.
    history : mapping of str to ndarray of float64
        One entry per iteration: ``'residual'`` (n_iter,), the root mean square
        change of ``xhat``; ``'q'`` (n_iter,), the self-overlap ``xhat . xhat / N``
        (mean over copies).  With a known truth x*: ``'overlap'`` (n_iter,),
        ``xhat . x* / N``, and ``'mse'`` (n_iter,), ``|xhat - x*|^2 / N`` (means
        over copies); a lifted run adds ``'overlap_copies'`` and ``'mse_copies'``,
        shape (n_iter, M).
    converged : bool
        The residual fell below ``config.tol``.
    n_iter : int
    seconds : float
        Wall time of the iterations.
    config : AMPConfig
    M : int or None
        Cover degree of a lifted run (None on the base graph).
    stopped_early : bool
        A callback ended the run.
    prior, channel : str
        ``identify()`` of the denoisers.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> F = rng.standard_normal((50, 20)) / np.sqrt(20)
    >>> y = F @ rng.standard_normal(20)
    >>> r = run_amp((F, y), "gaussian:1", "gaussian:0.01", max_iter=5, tol=1e-12)
    >>> r.n_iter, r.estimate.shape, sorted(r.history), r.history["residual"].shape
    (5, (20,), ['q', 'residual'], (5,))
    >>> r.summary().startswith("AMP[damping=0,max_iter=5,tol=1e-12,dtype=float64,variance=full] gaussian/")
    True
    """

    estimate: np.ndarray
    variances: np.ndarray
    history: Mapping
    converged: bool
    n_iter: int
    seconds: float
    config: AMPConfig
    M: int | None = None
    stopped_early: bool = False
    prior: str = ""
    channel: str = ""

    @property
    def residuals(self) -> np.ndarray:
        """``history['residual']``: float64 (n_iter,)."""
        return self.history["residual"]

    @property
    def overlap(self) -> float | None:
        """Last overlap ``xhat . x* / N`` (mean over copies), or None without a truth."""
        h = self.history.get("overlap")
        return float(h[-1]) if h is not None and h.size else None

    @property
    def mse(self) -> float | None:
        """Last mean squared error (mean over copies), or None without a truth."""
        h = self.history.get("mse")
        return float(h[-1]) if h is not None and h.size else None

    def summary(self) -> str:
        """One line: configuration, lift, convergence, iterations, overlap."""
        lift = "" if self.M is None else f" on a cover of degree M={self.M}"
        res = self.residuals[-1] if self.residuals.size else float("nan")
        ov = "" if self.overlap is None else f", overlap {self.overlap:.6g}"
        return (
            f"{self.config.identify()} {self.prior}/{self.channel}{lift}: converged={self.converged} "
            f"after {self.n_iter} iterations, residual {res:.2e}{ov}"
        )


class AMPProgress:
    """What a callback sees after each iteration (valid only during the call).

    Attributes
    ----------
    iteration : int
        Iterations done so far (1-based).
    residual : float
    q : float
        Self-overlap ``xhat . xhat / N`` (mean over copies).
    overlap, mse : float or None
        Against the truth, when known (means over copies).
    estimate, variances : ndarray of float64, shape (N,) or (N, M)
        Current ``xhat`` and ``v`` (read-only).
    M : int or None
    """

    __slots__ = ("iteration", "residual", "q", "overlap", "mse", "estimate", "variances", "M")

    def __init__(self, iteration, residual, q, overlap, mse, estimate, variances, M):
        self.iteration = iteration
        self.residual = residual
        self.q = q
        self.overlap = overlap
        self.mse = mse
        self.estimate = estimate
        self.variances = variances
        self.M = M


# ----------------------------------------------------------------------------- input checks
def _data(problem, truth):
    """(F, y, truth) from a Problem-like object or an (F, y) pair."""
    if isinstance(problem, (tuple, list)):
        if len(problem) != 2:
            raise ValueError(f"problem must be a Problem or a pair (F, y), got a sequence of {len(problem)}")
        F, y = problem
        t = None
    elif hasattr(problem, "F") and hasattr(problem, "y"):
        F, y = problem.F, problem.y
        if F is None or y is None:
            raise ValueError("problem has no data matrix F and labels y (not a learning problem)")
        meta = getattr(problem, "meta", None) or {}
        t = meta.get("teacher") if isinstance(meta, Mapping) else None
        if t is None:
            t = getattr(problem, "truth", None)
    else:
        raise TypeError(f"problem must be a Problem or a pair (F, y), got {type(problem).__name__}")
    F = np.asarray(F)
    if F.dtype.kind not in "biuf":
        raise TypeError(f"F must be numeric, got dtype {F.dtype}")
    if F.ndim != 2 or F.shape[0] < 1 or F.shape[1] < 1:
        raise ValueError(f"F must be a 2-D array with P >= 1 rows and N >= 1 columns, got shape {F.shape}")
    if not np.all(np.isfinite(F)):
        raise ValueError("F holds NaN or inf")
    P, N = F.shape
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise TypeError(f"y must be numeric, got dtype {y.dtype}")
    if y.shape != (P,):
        raise ValueError(f"y must have shape (P,) = ({P},) to match F {F.shape}, got {y.shape}")
    y = np.ascontiguousarray(y, dtype=FLOAT)
    if not np.all(np.isfinite(y)):
        raise ValueError("y holds NaN or inf")
    if truth is None:
        truth = t
    if truth is not None:
        truth = np.asarray(truth)
        if truth.dtype.kind not in "biuf":
            raise TypeError(f"truth must be numeric, got dtype {truth.dtype}")
        truth = truth.astype(FLOAT)
        if truth.shape != (N,):
            raise ValueError(f"truth must have shape (N,) = ({N},), got {truth.shape}")
        if not np.all(np.isfinite(truth)):
            raise ValueError("truth holds NaN or inf")
    return F, y, truth


def _denoiser(obj, kind):
    """(object, code, params) of a prior or channel given as an object or a name."""
    if isinstance(obj, str):
        obj = from_name(obj, kind=kind)
    spec = getattr(obj, "kernel_spec", None)
    if spec is None:
        raise TypeError(
            f"{kind} must be a {kind} object with kernel_spec() or a name, got {type(obj).__name__}"
        )
    try:
        code, params = spec()
    except NotImplementedError as err:
        raise TypeError(f"{kind} {obj!r} has no Numba kernel, so it cannot run inside AMP: {err}") from None
    return obj, int(code), np.ascontiguousarray(params, dtype=FLOAT)


def _lift_perms(lift, P, N):
    """Validated, compacted permutations (P, N, M) of an unsigned dtype, and M."""
    base = None
    if hasattr(lift, "perms"):
        perms = np.asarray(lift.perms)
        M = getattr(lift, "M", perms.shape[-1] if perms.ndim else None)
        base = getattr(lift, "base", None)
    elif isinstance(lift, np.ndarray):
        perms = lift
        M = perms.shape[-1] if perms.ndim else None
    else:
        raise TypeError(
            "lift must be a Lift (an object with M and perms) or a permutation array, int64 (P N, M) or "
            f"(P, N, M), got {type(lift).__name__}; to draw permutations from a kernel Q use "
            "lifts.glm_perms(problem, M, kernel, seed=...)"
        )
    if isinstance(M, bool) or not isinstance(M, numbers.Integral) or M < 1:
        raise ValueError(f"lift M must be an int >= 1, got {M!r}")
    M = int(M)
    if perms.dtype.kind not in "iu":
        raise TypeError(f"lift perms must hold integers, got dtype {perms.dtype}")
    if perms.shape == (P * N, M) and base is not None and hasattr(base, "edge_var"):
        perms = _edge_order(perms, base, P, N, M)
    elif perms.shape == (P * N, M):
        perms = perms.reshape(P, N, M)  # factor-major edges, slot i = variable i
    if perms.shape != (P, N, M):
        raise ValueError(f"lift perms must have shape (P, N, M) = {(P, N, M)}, got {perms.shape}")
    flat = np.ascontiguousarray(perms).reshape(P * N, M)
    bad = kernels.check_perms(flat, M)
    if bad >= 0:
        mu, i = divmod(int(bad), N)
        raise ValueError(
            f"lift perms[{mu}, {i}] = {flat[bad].tolist()} is not a permutation of 0..{M - 1}"
        )
    dt = np.uint8 if M <= 256 else np.uint16 if M <= 65536 else np.uint32
    out = np.empty((P * N, M), dtype=dt)
    kernels.compact_perms(flat, out)
    return out.reshape(P, N, M), M


def _edge_order(perms, base, P, N, M):
    """Permutations of a Lift of the dense GLM graph, reordered to (mu, i)."""
    ef = np.asarray(base.edge_fac, dtype=np.int64)
    ev = np.asarray(base.edge_var, dtype=np.int64)
    if getattr(base, "n_fac", P) != P or getattr(base, "n_var", N) != N or ef.size != P * N:
        raise ValueError(
            f"lift base graph must be the dense GLM graph with {P} factors, {N} variables and {P * N} "
            f"edges, got n_fac={getattr(base, 'n_fac', '?')}, n_var={getattr(base, 'n_var', '?')}, "
            f"n_edge={ef.size}"
        )
    idx = ef * N + ev
    if np.any(np.bincount(idx, minlength=P * N) != 1):
        raise ValueError("lift base graph must connect every factor mu to every variable i exactly once")
    out = np.empty((P * N, M), dtype=perms.dtype)
    out[idx] = perms
    return out.reshape(P, N, M)


def _init_state(init, prior, shape, rng):
    """Initial (xhat, v), float64 of ``shape`` ((N,) or (N, M))."""
    mean, var = float(prior.mean), float(prior.var)
    if init is None or (isinstance(init, str) and init == "prior"):
        return np.full(shape, mean), np.full(shape, var)
    if isinstance(init, str) and init == "random":
        return mean + 0.1 * math.sqrt(var) * rng.standard_normal(shape), np.full(shape, var)
    if isinstance(init, str):
        raise ValueError(f"init must be None, 'prior', 'random', an array or (xhat, v), got {init!r}")
    if isinstance(init, tuple):
        if len(init) != 2:
            raise ValueError(f"init as a tuple must be (xhat, v), got {len(init)} items")
        x0, v0 = init
    else:
        x0, v0 = init, None
    out = []
    for name, arr, default in (("xhat", x0, mean), ("v", v0, var)):
        if arr is None:
            out.append(np.full(shape, default))
            continue
        a = np.asarray(arr)
        if a.dtype.kind not in "biuf":
            raise TypeError(f"init {name} must be numeric, got dtype {a.dtype}")
        a = a.astype(FLOAT)
        if len(shape) == 2 and a.shape == shape[:1]:
            a = np.repeat(a[:, None], shape[1], axis=1)
        if a.shape != shape:
            want = f"{shape[:1]} or {shape}" if len(shape) == 2 else f"{shape}"
            raise ValueError(f"init {name} must have shape {want}, got {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"init {name} holds NaN or inf")
        if name == "v" and np.any(a < 0):
            raise ValueError("init v must be >= 0")
        out.append(a)
    return out[0], out[1]


def _ro(a):
    a = np.array(a, dtype=FLOAT)
    a.flags.writeable = False
    return a


def _ro_view(a):
    v = a.view()
    v.flags.writeable = False
    return v


# ----------------------------------------------------------------------------- driver
def run_amp(
    problem,
    prior,
    channel,
    config: AMPConfig | None = None,
    *,
    truth=None,
    init=None,
    seed=None,
    callback=None,
    lift=None,
    **overrides,
) -> AMPResult:
    """Run GAMP on a dense GLM, or on an M-cover of its factor graph (``lift``).

    Parameters
    ----------
    problem : Problem or (F, y)
        A learning problem (``fgraph.problems.perceptron`` ...; its ``F``, ``y``
        and teacher are used), or the data matrix F, float (P, N), finite, with
        the observations y, float (P,).
    prior : Prior or str
        Weight prior with a ``kernel_spec`` (e.g. ``BinaryPrior()``, ``"binary"``,
        ``"gaussian:1"``); names are parsed by :func:`algorithms.denoisers.from_name`.
    channel : Channel or str
        Output channel (``SignChannel()``, ``"sign"``, ``"gaussian:0.1"``).
    config : AMPConfig, optional
        Settings; keyword ``overrides`` replace its fields (``damping=0.5``).
    truth : array_like of float, shape (N,), optional
        Ground truth x* for the overlap and MSE history (default: the problem's
        ``meta['teacher']``, else its ``truth``).
    init : None, 'prior', 'random', ndarray or (xhat, v)
        Start: the prior mean and variance (None, 'prior'); the prior mean plus
        ``0.1 sqrt(Var x)`` times standard normal noise ('random', drawn
        independently for each copy of a lifted run); or given means (and
        variances), float (N,) or, lifted, (N, M) (an (N,) start is given to
        every copy).  ``g`` starts at 0.
    seed : int, numpy.random.Generator or None
        Random numbers for ``init='random'``.
    callback : callable, optional
        ``callback(AMPProgress)`` after each iteration; a true return value stops the run.
    lift : None, Lift or ndarray of int, optional
        The M-cover: a ``lifts.Lift`` of the problem's dense factor graph (or
        any object with ``M`` and ``perms``), or a permutation array, integer,
        shape (P N, M) (row ``mu N + i`` is the permutation ``m -> pi_mu,i(m)``
        of edge (mu, i)) or (P, N, M).  ``lifts.glm_perms(problem, M, kernel,
        seed=...)`` draws such an array from a kernel Q.
    **overrides
        AMPConfig fields.

    Returns
    -------
    AMPResult

    Raises
    ------
    ValueError
        Shapes that do not match, NaN or inf in F, y, truth or init, bad config
        values (damping outside [0, 1), unknown dtype), M < 1, perms that are
        not permutations.
    TypeError
        Unknown config fields, a prior or channel without a Numba kernel,
        non-numeric input.

    Examples
    --------
    Teacher-student perceptron, binary weights, sign channel, alpha = 2.5 (above
    the algorithmic threshold 1.493: perfect recovery):

    >>> import numpy as np
    >>> rng = np.random.default_rng(3)
    >>> N, P = 400, 1000
    >>> teacher = rng.choice([-1.0, 1.0], N)
    >>> F = rng.standard_normal((P, N)) / np.sqrt(N)
    >>> y = np.where(F @ teacher >= 0, 1.0, -1.0)
    >>> r = run_amp((F, y), "binary", "sign", truth=teacher)
    >>> r.converged, round(r.overlap, 6)
    (True, 1.0)

    The same on a 4-cover (uniform random permutations), all copies started alike:
    every copy follows the base run.

    >>> perms = rng.permuted(np.tile(np.arange(4), (P * N, 1)), axis=1)  # any permutations
    >>> rl = run_amp((F, y), "binary", "sign", truth=teacher, lift=perms, max_iter=r.n_iter)
    >>> rl.estimate.shape, bool(np.allclose(rl.estimate, r.estimate[:, None], atol=1e-9))
    ((400, 4), True)

    Gaussian prior and channel: the fixed point is the posterior mean of ridge
    regression, ``(F^T F / Delta + I / rho)^-1 F^T y / Delta``.

    >>> F = rng.standard_normal((60, 30)) / np.sqrt(30)
    >>> y = F @ rng.standard_normal(30) + 0.1 * rng.standard_normal(60)
    >>> r = run_amp((F, y), "gaussian:1", "gaussian:0.01", tol=1e-13, max_iter=1000)
    >>> exact = np.linalg.solve(F.T @ F / 0.01 + np.eye(30), F.T @ y / 0.01)
    >>> r.converged, bool(np.abs(r.estimate - exact).max() < 1e-9)
    (True, True)
    """
    if config is None:
        config = AMPConfig()
    if not isinstance(config, AMPConfig):
        raise TypeError(f"config must be an AMPConfig, got {type(config).__name__}")
    if overrides:
        names = {f.name for f in fields(AMPConfig)}
        bad = sorted(set(overrides) - names)
        if bad:
            raise TypeError(f"unknown AMP option(s) {bad}; AMPConfig fields are {sorted(names)}")
        config = replace(config, **overrides)
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable")
    F, y, truth = _data(problem, truth)
    prior_obj, pr_code, pr_params = _denoiser(prior, "prior")
    ch_obj, ch_code, ch_params = _denoiser(channel, "channel")
    P, N = F.shape
    rng = as_generator(seed)
    perm, M = (None, 1) if lift is None else _lift_perms(lift, P, N)
    shape = (N,) if perm is None else (N, M)
    x0, v0 = _init_state(init, prior_obj, shape, rng)
    wdt = DTYPES[config.dtype]
    Fw = np.ascontiguousarray(F, dtype=wdt)
    xhat = np.ascontiguousarray(x0, dtype=wdt)
    v = np.ascontiguousarray(v0, dtype=wdt)
    full = config.variance == "full"
    sbar = float(np.mean(np.square(Fw, dtype=FLOAT))) if not full else 0.0
    n_threads = config.n_threads
    if n_threads is None and P * N * M < SMALL_PROBLEM:
        n_threads = 1
    ctx = dict(F=Fw, y=y, xhat=xhat, v=v, pr=(pr_code, pr_params), ch=(ch_code, ch_params), full=full,
               sbar=sbar, damping=float(config.damping), b_min=_b_min(prior_obj))
    tracker = _Tracker(truth, N, M if perm is not None else None)
    converged = stopped = False
    t0 = time.perf_counter()
    with threads(n_threads):
        n_chunks = 1 if jit_disabled() else max(1, min(numba.get_num_threads(), P))
        if perm is None:
            step = _dense_fused(ctx, n_chunks) if config.fused else _dense_blas(ctx)
        else:
            step = _lifted_fused(ctx, perm, n_chunks) if config.fused else _lifted_ref(ctx, perm, n_chunks)
        for it in range(config.max_iter):
            sq = step()
            res = math.sqrt(sq / xhat.size)
            prog = tracker.record(res, xhat, v, it + 1)
            if not math.isfinite(res):
                break
            converged = res < config.tol
            if callback is not None and callback(prog):
                stopped = True
                break
            if converged:
                break
    seconds = time.perf_counter() - t0
    return AMPResult(
        estimate=_ro(xhat), variances=_ro(v), history=tracker.history(), converged=bool(converged),
        n_iter=tracker.n, seconds=seconds, config=config, M=None if perm is None else M,
        stopped_early=stopped, prior=_ident(prior_obj), channel=_ident(ch_obj),
    )


def _b_min(prior):
    """Precision below which a weight keeps its estimate: INFO_MIN / Var x (inf for a point prior)."""
    var = float(prior.var)
    return kernels.INFO_MIN / var if var > 0 else math.inf


def _ident(obj):
    f = getattr(obj, "identify", None)
    return f() if callable(f) else type(obj).__name__


class _Tracker:
    """Per-iteration history: residual, q and (with a truth) overlap and MSE, per copy."""

    def __init__(self, truth, N, M):
        self.truth, self.N, self.M = truth, N, M
        self.rows = []

    def record(self, res, xhat, v, it):
        x = np.asarray(xhat, dtype=FLOAT)
        x2 = x if x.ndim == 2 else x[:, None]
        q = np.einsum("im,im->m", x2, x2) / self.N
        if self.truth is not None:
            ov = self.truth @ x2 / self.N
            d = x2 - self.truth[:, None]
            mse = np.einsum("im,im->m", d, d) / self.N
        else:
            ov = mse = None
        self.rows.append((res, q, ov, mse))
        return AMPProgress(
            it, res, float(q.mean()), None if ov is None else float(ov.mean()),
            None if mse is None else float(mse.mean()), _ro_view(x), _ro_view(np.asarray(v, dtype=FLOAT)),
            self.M,
        )

    @property
    def n(self):
        return len(self.rows)

    def history(self):
        h = {"residual": np.array([r[0] for r in self.rows], dtype=FLOAT)}
        qs = np.array([r[1] for r in self.rows], dtype=FLOAT).reshape(self.n, -1)
        h["q"] = qs.mean(axis=1)
        if self.truth is not None:
            ov = np.array([r[2] for r in self.rows], dtype=FLOAT).reshape(self.n, -1)
            mse = np.array([r[3] for r in self.rows], dtype=FLOAT).reshape(self.n, -1)
            h["overlap"] = ov.mean(axis=1)
            h["mse"] = mse.mean(axis=1)
            if self.M is not None:
                h["overlap_copies"] = ov
                h["mse_copies"] = mse
        for a in h.values():
            a.flags.writeable = False
        return MappingProxyType(h)


# ----------------------------------------------------------------------------- operators
def _prior_update(c, scalar_b):
    """The kernels.PriorUpdate of a run (prior denoiser, damping, guard, scalar-variance switch)."""
    pc, pp = c["pr"]
    return kernels.PriorUpdate(pc, pp, c["damping"], c["b_min"], scalar_b)


def _dense_fused(c, n_chunks):
    """One fused Numba pass over F per iteration (kernels.dense_sweep)."""
    F, y, xhat, v = c["F"], c["y"], c["xhat"], c["v"]
    P, N = F.shape
    wdt = F.dtype
    g = np.zeros(P, dtype=wdt)
    dg = np.zeros(P, dtype=wdt)
    omega = np.zeros(P)
    V = np.zeros(P)
    A = np.zeros((n_chunks, N), dtype=wdt)
    B = np.zeros((n_chunks, N), dtype=wdt)
    bsum = np.zeros(n_chunks)
    cc, cp = c["ch"]
    full, sbar = c["full"], c["sbar"]
    data = kernels.DenseData(F, y, cc, cp, full)
    state = kernels.DenseState(xhat, v, g, dg, omega, V, A, B, bsum)
    prior = _prior_update(c, not full)

    def step():
        Vs = 0.0 if full else sbar * float(np.sum(v, dtype=FLOAT))
        kernels.dense_sweep(data, state, Vs)
        b_scalar = 0.0 if full else sbar * float(bsum.sum())
        return kernels.prior_step(prior, A, B, xhat, v, b_scalar)

    return step


def _dense_blas(c):
    """Reference: F @ xhat, F^2 @ v, F^T @ g, (F^2)^T @ (-dg) with BLAS (F^2 formed once)."""
    F, y, xhat, v = c["F"], c["y"], c["xhat"], c["v"]
    P, N = F.shape
    wdt = F.dtype
    F2 = F * F if c["full"] else None
    g = np.zeros(P)
    dg = np.zeros(P)
    cc, cp = c["ch"]
    full, sbar = c["full"], c["sbar"]
    prior = _prior_update(c, not full)

    def step():
        V = (F2 @ v).astype(FLOAT) if full else np.full(P, sbar * float(np.sum(v, dtype=FLOAT)))
        V = np.where(V > kernels.V_MIN, V, kernels.V_MIN)
        omega = (F @ xhat).astype(FLOAT) - V * g
        channel_gout_array(cc, cp, y, omega, V, g, dg)
        a = (F.T @ g.astype(wdt))[None, :]
        b = (F2.T @ (-dg).astype(wdt))[None, :] if full else a
        b_scalar = 0.0 if full else sbar * float(np.sum(-dg))
        # the O(N) prior step on one thread: Numba's worker threads would otherwise
        # spin against BLAS's between the products (2 threads ran slower than 1)
        with threads(1):
            return kernels.prior_step(prior, a, b, xhat, v, b_scalar)

    return step


def _lifted_fused(c, perm, n_chunks):
    """Fused lifted operator: gathers, channel and scatter into per-thread partials, one pass."""
    F, y, xhat, v = c["F"], c["y"], c["xhat"], c["v"]
    P, N = F.shape
    M = perm.shape[2]
    g = np.zeros((P, M))
    dg = np.zeros((P, M))
    omega = np.zeros((P, M))
    V = np.zeros((P, M))
    A = np.zeros((n_chunks, N, M))
    B = np.zeros((n_chunks, N, M))
    S = np.zeros((n_chunks, 2, M))
    A2, B2 = A.reshape(n_chunks, N * M), B.reshape(n_chunks, N * M)
    xf, vf = xhat.reshape(N * M), v.reshape(N * M)
    cc, cp = c["ch"]
    data = kernels.LiftedData(F, perm, y, cc, cp, c["full"], c["sbar"])
    state = kernels.LiftedState(xhat, v, g, dg, omega, V, A, B, S)
    prior = _prior_update(c, False)  # the lifted B holds the (scalar-variance) sums too

    def step():
        kernels.lifted_sweep(data, state)
        return kernels.prior_step(prior, A2, B2, xf, vf, 0.0)

    return step


def _lifted_ref(c, perm, n_chunks):
    """Reference lifted operator: row gathers through pi, then column gathers through pi^-1."""
    F, y, xhat, v = c["F"], c["y"], c["xhat"], c["v"]
    P, N = F.shape
    M = perm.shape[2]
    FT = np.ascontiguousarray(F.T)
    iperm = np.empty((N, P, M), dtype=perm.dtype)
    kernels.invert_perms(perm, iperm)
    y_rep = np.repeat(y, M)
    g = np.zeros((P, M))
    dg = np.zeros((P, M))
    omega = np.zeros((P, M))
    V = np.zeros((P, M))
    A = np.zeros((N, M))
    B = np.zeros((N, M))
    A2, B2 = A.reshape(1, N * M), B.reshape(1, N * M)
    xf, vf = xhat.reshape(N * M), v.reshape(N * M)
    cc, cp = c["ch"]
    full, sbar = c["full"], c["sbar"]
    prior = _prior_update(c, False)

    def step():
        kernels.lifted_rows(F, perm, xhat, v, full, sbar, omega, V, n_chunks)
        np.copyto(V, np.where(V > kernels.V_MIN, V, kernels.V_MIN))
        omega[...] -= V * g
        channel_gout_array(cc, cp, y_rep, omega.reshape(-1), V.reshape(-1), g.reshape(-1), dg.reshape(-1))
        kernels.lifted_cols(FT, iperm, g, dg, full, sbar, A, B)
        return kernels.prior_step(prior, A2, B2, xf, vf, 0.0)

    return step
