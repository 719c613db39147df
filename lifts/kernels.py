"""Permutation kernels Q: how the M copies are mixed across each edge of an M-cover.

A kernel draws one permutation ``pi_e`` of the copies ``0..M-1`` per base edge
``e`` (SCIENCE.md sections 2-3).  Structured kernels use the **permanental law**
of a nonnegative weight matrix Q (perm Q > 0)::

    P(pi) = prod_m Q[m, pi(m)] / perm Q

and report the doubly stochastic **marginal** ``Pbar[m, m'] = Pr[pi(m) = m']``,
the expected permutation matrix.  ``Pbar != Q`` except for the identity, uniform
and shift kernels: for local kernels Pbar is markedly more diagonal than the
Sinkhorn-balanced Q.  Never substitute Q for Pbar.

Families (d = ring distance min(|m - m'|, M - |m - m'|), ``EPS`` = 1e-9):

============== ================================================================
Identity       pi = id (Q = I)
Uniform        uniform permutation, the random M-lift (Q = J, Pbar = J/M)
CyclicShift    pi_e(m) = m + s_e mod M, s_e given or uniform (not permanental)
Ring(w)        Q = exp(-d^2 / (2 w^2)) + EPS
Block(B, p)    M = B L, Q = Q_B kron 1_{LxL}, Q_B = 1 on the diagonal, p elsewhere
Band(w[, h])   Q = 1 where d <= w, else EPS; with h: 1 on the diagonal, h for 0 < d <= w
Directional    ring Gaussian in the wrapped offset r = m' - m - s, of width
               max(w (1 + kappa sign r), 0.05 w), plus EPS
FromMatrix(Q)  any nonnegative M x M matrix with perm Q > 0
============== ================================================================

Sampling.  Q is first Sinkhorn-balanced (this rescales every prod_m Q[m, pi(m)]
by one constant, so the law is unchanged) and its rows normalised.  For
``M <= EXACT_MAX_M`` permutations are drawn exactly by the subset dynamic
program of :mod:`lifts._perm_kernels` (a table of 2^M sub-permanents built once
per kernel and M, then O(M^2) per edge); the same tables give the exact
marginal.  Beyond, each edge runs its own Metropolis chain (``mcmc_sweeps``
sweeps, all burn-in, each of M transposition proposals, half of them between
ring neighbours, plus one rotation ``pi -> pi + 1 mod M``), started from a
sequential-row draw (or from the maximum-weight permutation when that draw is
forced onto negligible weights), and the marginal is a Monte-Carlo estimate over
independent chains with its binomial standard error.  The standard error does
not include the burn-in bias: against the DP at M <= 12 the default sweeps stay
within 5 standard errors (tests), but chains between well-separated modes (e.g.
rough random matrices) need more sweeps.  Identity, Uniform and CyclicShift
have direct exact samplers and closed-form marginals.

Random numbers: ``seed`` (int, None or numpy Generator) seeds numpy, which
draws one independent stream per edge; results depend on the seed only, not on
the number of Numba threads.

Users add kernels by subclassing :class:`Kernel` and defining ``Q(M)`` only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import numbers
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching

from fgraph.dtypes import FLOAT, INDEX, as_generator, readonly

from . import _perm_kernels as _pk

__all__ = [
    "Kernel",
    "Marginal",
    "Identity",
    "Uniform",
    "CyclicShift",
    "Ring",
    "Block",
    "Band",
    "Directional",
    "FromMatrix",
    "from_spec",
    "sinkhorn",
    "permanent",
    "EXACT_MAX_M",
    "PERMANENT_MAX_M",
    "MCMC_SWEEPS",
    "N_SAMPLES",
    "EPS",
]

#: Largest M sampled (and marginalised) exactly by the subset DP: 2^20 table entries, ~0.1 s.
EXACT_MAX_M = 20
#: Largest M accepted by :func:`permanent` (a table of 2^M float64).
PERMANENT_MAX_M = 24
#: Default number of sweeps (M proposals each) of every MCMC chain; all of it is burn-in.
MCMC_SWEEPS = 20
#: Default number of independent chains behind a Monte-Carlo marginal.
N_SAMPLES = 20000
#: Floor added to the Ring, Band and Directional weights (so every Q > 0).
EPS = 1e-9

METHODS = ("auto", "exact", "mcmc")
START_FLOOR = 1e-6  # a chain's sequential start forced below this fraction of a row maximum: start at the MAP
_MC_CHUNK = 1 << 21  # entries (samples x M) per chunk of a Monte-Carlo marginal
_CACHE_PER_KERNEL = 8


# ----------------------------------------------------------------- argument checks
def _check_int(x, name: str, lo: int) -> int:
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{name} must be an int >= {lo}, got {x!r}")
    if x < lo:
        raise ValueError(f"{name} must be an int >= {lo}, got {x}")
    return int(x)


def _check_M(M) -> int:
    return _check_int(M, "M (the cover degree)", 1)


def _check_real(x, name: str, lo=None, hi=None, lo_open=False, allow_inf=False) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {x!r}")
    v = float(x)
    if math.isnan(v) or (math.isinf(v) and not allow_inf):
        raise ValueError(f"{name} must be finite, got {x!r}")
    if lo is not None and (v < lo or (lo_open and v == lo)):
        raise ValueError(f"{name} must be {'>' if lo_open else '>='} {lo}, got {x!r}")
    if hi is not None and v > hi:
        raise ValueError(f"{name} must be <= {hi}, got {x!r}")
    return v


def _check_method(method) -> str:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return method


def _check_matrix(Q, name: str = "Q", M: int | None = None, need_perm: bool = True) -> np.ndarray:
    """Validate a weight matrix; return it as a C-contiguous float64 copy."""
    arr = np.asarray(Q)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a numeric matrix, got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] < 1:
        raise ValueError(f"{name} must be a square M x M matrix with M >= 1, got shape {arr.shape}")
    if M is not None and arr.shape[0] != M:
        raise ValueError(f"{name} must have shape ({M}, {M}), got {arr.shape}")
    out = np.array(arr, dtype=FLOAT, order="C")
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name} must be finite, got NaN or inf entries")
    if np.any(out < 0):
        raise ValueError(f"{name} must be nonnegative, got a minimum entry {out.min()!r}")
    pos = out > 0
    if not np.all(pos.any(axis=1)):
        raise ValueError(f"{name} has an all-zero row {int(np.flatnonzero(~pos.any(axis=1))[0])}")
    if not np.all(pos.any(axis=0)):
        raise ValueError(f"{name} has an all-zero column {int(np.flatnonzero(~pos.any(axis=0))[0])}")
    if need_perm and not pos.all():
        match = maximum_bipartite_matching(csr_matrix(pos.astype(np.int8)), perm_type="column")
        if np.any(match < 0):
            raise ValueError(f"{name} has permanent 0: no permutation has positive weight")
    return out


def _fmt(x) -> str:
    """Short exact text of a number for identify(): 1.0 -> '1', 0.25 -> '0.25'."""
    if isinstance(x, (bool, str)) or x is None:
        return repr(x)
    if isinstance(x, numbers.Integral):
        return str(int(x))
    v = float(x)
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def _digest(arr: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(arr).tobytes()).hexdigest()[:8]


def _edge_states(rng: np.random.Generator, n_edge: int) -> np.ndarray:
    """int64 (n_edge, 4): the xoshiro128** state of each edge's stream, drawn by numpy."""
    # values < 2^32: the int64 view is the same numbers (the kernels replace an all-zero row)
    return rng.integers(0, 1 << 32, size=(n_edge, 4), dtype=np.uint64).view(INDEX)


def _ring_distance(M: int) -> np.ndarray:
    m = np.arange(M)
    d = np.abs(m[:, None] - m[None, :])
    return np.minimum(d, M - d)


def _stub(cls_name: str) -> str:
    return (
        f"{cls_name} does not define its weight matrix. A kernel needs only Q(M); define:\n\n"
        f"    class {cls_name}(Kernel):\n"
        f"        def Q(self, M):\n"
        f"            # float64 (M, M), nonnegative, no zero row or column, perm Q > 0\n"
        f"            return np.ones((M, M))\n"
    )


# ----------------------------------------------------------------- numerics
def sinkhorn(Q, tol: float = 1e-12, max_iter: int = 10000):
    """Sinkhorn balancing: scale the rows and columns of Q to sums 1.

    Alternates row and column normalisation (Sinkhorn 1964) until every row sum
    is within ``tol`` of 1 (column sums are 1 after each iteration), or
    ``max_iter`` iterations.  ``balanced = row_scale[:, None] * Q * col_scale``
    multiplies every ``prod_m Q[m, pi(m)]`` by the same constant
    ``prod(row_scale) * prod(col_scale)``, so the permanental law is unchanged
    (whether or not the iteration converged: check ``balanced.sum(1)``).
    Balancing does not give the marginal Pbar.

    Parameters
    ----------
    Q : array_like, shape (M, M)
        Nonnegative and finite, with no all-zero row or column.
    tol : float > 0
    max_iter : int >= 1

    Returns
    -------
    balanced : ndarray of float64, shape (M, M)
    row_scale, col_scale : ndarray of float64, shape (M,)

    Examples
    --------
    >>> B, r, c = sinkhorn([[2.0, 1.0], [1.0, 1.0]])
    >>> B.sum(axis=0).round(10).tolist(), B.sum(axis=1).round(10).tolist()
    ([1.0, 1.0], [1.0, 1.0])
    >>> bool(np.allclose(B, r[:, None] * np.array([[2.0, 1.0], [1.0, 1.0]]) * c[None, :]))
    True
    """
    A = _check_matrix(Q, "Q", need_perm=False)
    tol = _check_real(tol, "tol", lo=0.0, lo_open=True)
    max_iter = _check_int(max_iter, "max_iter", 1)
    M = A.shape[0]
    top = A.max()
    A /= top
    r = np.full(M, 1.0 / top)
    c = np.ones(M)
    for _ in range(max_iter):
        rs = A.sum(axis=1)
        A /= rs[:, None]
        r /= rs
        cs = A.sum(axis=0)
        A /= cs[None, :]
        c /= cs
        if np.max(np.abs(A.sum(axis=1) - 1.0)) <= tol:
            break
    return A, r, c


def permanent(Q, log: bool = False):
    """Exact permanent of a square matrix by the subset DP (O(M 2^M), M <= PERMANENT_MAX_M).

    Rows are scaled by powers of two near their largest absolute entry during
    the DP (exactly, and multiplied back), so moderate entries never overflow.  The DP only
    adds products, which for nonnegative matrices has none of the cancellation
    of Ryser's formula.

    Parameters
    ----------
    Q : array_like of float, shape (M, M)
        Finite real entries (signs allowed; nonnegative for ``log=True``).
    log : bool
        Return ``log perm Q`` (``-inf`` for 0), computed without overflow.

    Returns
    -------
    float

    Examples
    --------
    >>> permanent(np.ones((4, 4)))   # 4!
    24.0
    >>> permanent([[1, 2], [3, 4]])  # 1*4 + 2*3
    10.0
    """
    arr = np.asarray(Q)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"Q must be a numeric matrix, got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] < 1:
        raise ValueError(f"Q must be a square M x M matrix with M >= 1, got shape {arr.shape}")
    A = np.array(arr, dtype=FLOAT, order="C")
    if not np.all(np.isfinite(A)):
        raise ValueError("Q must be finite, got NaN or inf entries")
    M = A.shape[0]
    if M > PERMANENT_MAX_M:
        raise ValueError(f"permanent needs 2^M memory; M must be <= {PERMANENT_MAX_M}, got M={M}")
    if log and np.any(A < 0):
        raise ValueError("log=True needs a nonnegative Q")
    top = np.abs(A).max(axis=1)
    if np.any(top == 0):
        return -math.inf if log else 0.0
    exps = np.frexp(top)[1]  # 2^(e-1) <= top < 2^e: scaling by 2^-e is exact
    A = np.ldexp(A, -exps[:, None])
    p = float(_pk.g_table(A)[(1 << M) - 1])
    total_exp = int(exps.sum())
    if log:
        return math.log(p) + total_exp * math.log(2.0) if p > 0 else -math.inf
    if p == 0:
        return 0.0
    mant, e = math.frexp(p)
    return math.ldexp(mant, e + total_exp) if e + total_exp < 1024 else math.copysign(math.inf, p)


# ----------------------------------------------------------------- results
@dataclass(frozen=True, eq=False)
class Marginal:
    """The marginal Pbar of a kernel at cover degree M: ``P[m, m'] = Pr[pi(m) = m']``.

    Attributes
    ----------
    P : ndarray of float64, shape (M, M), read-only
        Doubly stochastic (up to Monte-Carlo error when not exact).
    stderr : ndarray of float64, shape (M, M), read-only
        Standard error of each entry: zeros when exact, else
        ``sqrt(P (1 - P) / n_samples)`` over independent chains.
    exact : bool
        True for closed forms and the subset DP.
    n_samples : int
        Number of independent samples behind a Monte-Carlo estimate (0 when exact).

    Examples
    --------
    >>> mg = Uniform().marginal(3)
    >>> mg.exact, mg.P[0].round(4).tolist(), float(mg.stderr.max())
    (True, [0.3333, 0.3333, 0.3333], 0.0)
    """

    P: np.ndarray
    stderr: np.ndarray
    exact: bool
    n_samples: int = 0

    def __post_init__(self):
        object.__setattr__(self, "P", readonly(np.asarray(self.P, dtype=FLOAT)))
        object.__setattr__(self, "stderr", readonly(np.asarray(self.stderr, dtype=FLOAT)))

    @property
    def M(self) -> int:
        """Cover degree."""
        return self.P.shape[0]


def _exact_marginal(P) -> Marginal:
    P = np.asarray(P, dtype=FLOAT)
    return Marginal(P, np.zeros_like(P), True, 0)


# ----------------------------------------------------------------- tables (cached per kernel and M)
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cached(kernel, key, build):
    try:
        slot = _CACHE.setdefault(kernel, {})
    except TypeError:  # unhashable or not weak-referenceable user kernel: no caching
        return build()
    if key not in slot:
        if len(slot) >= _CACHE_PER_KERNEL:
            slot.pop(next(iter(slot)))
        slot[key] = build()
    return slot[key]


def _balanced(Q: np.ndarray) -> np.ndarray:
    """Sinkhorn-balanced Q with rows normalised to sum 1 (same permanental law)."""
    B = sinkhorn(Q)[0]
    B /= B.sum(axis=1)[:, None]
    return B


# ----------------------------------------------------------------- the base class
class Kernel:
    """Base class of permutation kernels; a subclass defines ``Q(M)`` only.

    ``Q(M)`` returns the float64 (M, M) weight matrix (nonnegative, finite, no
    zero row or column, perm Q > 0; a deterministic function of M).  Everything
    else is inherited: the permanental sampler, the marginal, ``P`` and
    ``identify`` (the class name and, for dataclasses, the fields).  Frozen
    dataclasses make good kernels: they are values, and equal kernels share the
    cached DP tables.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class NextNeighbour(Kernel):
    ...     weight: float = 0.5
    ...     def Q(self, M):
    ...         return np.eye(M) + self.weight * np.eye(M, k=1) + self.weight * np.eye(M, k=1 - M)
    >>> k = NextNeighbour(0.25)
    >>> k.identify()
    'NextNeighbour(weight=0.25)'
    >>> k.sample(2, 5, seed=1).shape
    (2, 5)
    >>> P = k.P(5)
    >>> bool(np.allclose(P.sum(axis=0), 1.0))
    True
    """

    def Q(self, M: int) -> np.ndarray:
        """The weight matrix Q, float64 (M, M) (subclasses define it)."""
        raise NotImplementedError(_stub(type(self).__name__))

    def identify(self) -> str:
        """One-line description, e.g. ``'Ring(width=1)'``."""
        parts = []
        if dataclasses.is_dataclass(self):
            parts = [f"{f.name}={_fmt(getattr(self, f.name))}" for f in dataclasses.fields(self) if f.repr]
        return f"{type(self).__name__}({', '.join(parts)})"

    # -- checked weights and cached tables
    def weights(self, M: int) -> np.ndarray:
        """``Q(M)`` after validation: float64 (M, M), C-contiguous.

        Raises ValueError/TypeError naming the problem when Q is not square of
        size M, not finite, negative, has a zero row or column, or has
        permanent 0.
        """
        M = _check_M(M)
        return _check_matrix(self.Q(M), f"{type(self).__name__}.Q({M})", M=M)

    def _dp_tables(self, M: int):
        def build():
            B = _balanced(self.weights(M))
            return B, _pk.g_table(B)

        return _cached(self, ("dp", M), build)

    def _mcmc_tables(self, M: int):
        def build():
            B = _balanced(self.weights(M))
            with np.errstate(divide="ignore"):
                logB = np.log(B)
            rows, cols = linear_sum_assignment(-logB)
            start = np.empty(M, dtype=INDEX)
            start[rows] = cols
            use_log = bool(B[B > 0].min() < 1e-150)  # products of two entries could underflow
            return B, logB, use_log, START_FLOOR * B.max(axis=1), start

        return _cached(self, ("mcmc", M), build)

    # -- hooks for kernels with closed forms
    def _direct_sample(self, n_edge: int, M: int, rng: np.random.Generator):
        return None

    def _direct_marginal(self, M: int):
        return None

    # -- public API
    def sample(self, n_edge: int, M: int, seed=None, *, method: str = "auto", mcmc_sweeps: int = MCMC_SWEEPS):
        """Draw one permutation per edge.

        Parameters
        ----------
        n_edge : int >= 0
            Number of permutations (base edges).
        M : int >= 1
            Cover degree.
        seed : int, None or numpy Generator
            The same seed gives the same output (for any number of threads).
        method : {'auto', 'exact', 'mcmc'}
            'auto': the direct sampler of Identity/Uniform/CyclicShift, else the
            exact subset DP for ``M <= EXACT_MAX_M`` and MCMC beyond.  'exact'
            forces the DP (error if ``M > EXACT_MAX_M``); 'mcmc' forces the chains.
        mcmc_sweeps : int >= 1
            Sweeps of every chain (M transposition proposals and one rotation
            each), all of them burn-in: the chain's final state is the sample.

        Returns
        -------
        ndarray of int64, shape (n_edge, M)
            Row e is a permutation: ``out[e, m] = pi_e(m)``.

        Examples
        --------
        >>> perms = Ring(width=1.0).sample(4, 6, seed=0)
        >>> perms.dtype, perms.shape
        (dtype('int64'), (4, 6))
        >>> bool(np.all(np.sort(perms, axis=1) == np.arange(6)))
        True
        >>> bool(np.array_equal(perms, Ring(width=1.0).sample(4, 6, seed=0)))
        True
        """
        n_edge = _check_int(n_edge, "n_edge", 0)
        M = _check_M(M)
        method = _check_method(method)
        mcmc_sweeps = _check_int(mcmc_sweeps, "mcmc_sweeps", 1)
        rng = as_generator(seed)
        if method == "auto":
            out = self._direct_sample(n_edge, M, rng)
            if out is not None:
                return out
            method = "exact" if M <= EXACT_MAX_M else "mcmc"
        return self._permanental_sample(n_edge, M, rng, method, mcmc_sweeps)

    def _permanental_sample(self, n_edge, M, rng, method, mcmc_sweeps):
        out = np.empty((n_edge, M), dtype=INDEX)
        if method == "exact":
            if M > EXACT_MAX_M:
                raise ValueError(f"method='exact' needs M <= EXACT_MAX_M = {EXACT_MAX_M}, got M={M}")
            B, g = self._dp_tables(M)
            _pk.sample_exact(B, g, _edge_states(rng, n_edge), out)
        else:
            B, logB, use_log, floor, start = self._mcmc_tables(M)
            _pk.sample_mcmc(B, logB, use_log, floor, start, mcmc_sweeps, _edge_states(rng, n_edge), out)
        return out

    def marginal(
        self,
        M: int,
        seed=None,
        n_samples: int | None = None,
        *,
        method: str = "auto",
        mcmc_sweeps: int = MCMC_SWEEPS,
    ) -> Marginal:
        """The marginal ``Pbar[m, m'] = Pr[pi(m) = m']`` (the expected permutation matrix).

        Parameters
        ----------
        M : int >= 1
        seed : int, None or numpy Generator
            For the Monte-Carlo estimate only.
        n_samples : int >= 1, optional
            Independent chains of the Monte-Carlo estimate (default ``N_SAMPLES``);
            ignored when exact.
        method : {'auto', 'exact', 'mcmc'}
            'auto': closed form if the kernel has one, else the subset DP for
            ``M <= EXACT_MAX_M``, else Monte Carlo over MCMC samples.
        mcmc_sweeps : int >= 1
            As in :meth:`sample`.

        Returns
        -------
        Marginal
            ``P`` and ``stderr`` float64 (M, M), ``exact``.

        Examples
        --------
        >>> mg = Ring(width=1.0).marginal(8)
        >>> mg.exact, bool(np.allclose(mg.P.sum(axis=1), 1.0))
        (True, True)
        >>> bool(np.all(np.diag(mg.P) > np.diag(sinkhorn(Ring(width=1.0).Q(8))[0])))
        True
        """
        M = _check_M(M)
        method = _check_method(method)
        mcmc_sweeps = _check_int(mcmc_sweeps, "mcmc_sweeps", 1)
        n = N_SAMPLES if n_samples is None else _check_int(n_samples, "n_samples", 1)
        if method == "auto":
            direct = self._direct_marginal(M)
            if direct is not None:
                return direct
            method = "exact" if M <= EXACT_MAX_M else "mcmc"
        if method == "exact":
            if M > EXACT_MAX_M:
                raise ValueError(f"method='exact' needs M <= EXACT_MAX_M = {EXACT_MAX_M}, got M={M}")
            return _cached(self, ("marginal", M), lambda: self._dp_marginal(M))
        return self._mc_marginal(M, as_generator(seed), n, mcmc_sweeps)

    def _dp_marginal(self, M: int) -> Marginal:
        B, g = self._dp_tables(M)
        f = _pk.f_table(B)
        acc = _pk.marginal_sums(f, g, M)
        return _exact_marginal(B * acc / g[(1 << M) - 1])

    def _mc_marginal(self, M, rng, n, mcmc_sweeps) -> Marginal:
        counts = np.zeros(M * M, dtype=INDEX)
        chunk = max(1, _MC_CHUNK // M)
        rows = np.arange(M, dtype=INDEX) * M
        done = 0
        while done < n:
            k = min(chunk, n - done)
            perms = self._permanental_sample(k, M, rng, "mcmc", mcmc_sweeps)
            counts += np.bincount((perms + rows).ravel(), minlength=M * M)
            done += k
        P = (counts / n).reshape(M, M)
        return Marginal(P, np.sqrt(P * (1.0 - P) / n), False, n)

    def P(self, M: int, **kw) -> np.ndarray:
        """``marginal(M, **kw).P``: float64 (M, M), read-only.

        Examples
        --------
        >>> Identity().P(3).tolist()
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
        """
        return self.marginal(M, **kw).P


# ----------------------------------------------------------------- the families
@dataclass(frozen=True)
class Identity(Kernel):
    """pi = id on every edge: the cover is M disjoint copies (Q = I, Pbar = I).

    Examples
    --------
    >>> Identity().sample(2, 4).tolist()
    [[0, 1, 2, 3], [0, 1, 2, 3]]
    """

    def Q(self, M: int) -> np.ndarray:
        """The identity matrix, float64 (M, M)."""
        return np.eye(_check_M(M))

    def _direct_sample(self, n_edge, M, rng):
        return np.tile(np.arange(M, dtype=INDEX), (n_edge, 1))

    def _direct_marginal(self, M):
        return _exact_marginal(np.eye(M))


@dataclass(frozen=True)
class Uniform(Kernel):
    """Independent uniform permutations: the random M-lift (Q = J, Pbar = J/M).

    Sampled directly (Fisher-Yates per edge, in parallel over edges).

    Examples
    --------
    >>> perms = Uniform().sample(3, 5, seed=7)
    >>> sorted(perms[0].tolist())
    [0, 1, 2, 3, 4]
    >>> Uniform().P(2).tolist()
    [[0.5, 0.5], [0.5, 0.5]]
    """

    def Q(self, M: int) -> np.ndarray:
        """The all-ones matrix J, float64 (M, M)."""
        M = _check_M(M)
        return np.ones((M, M))

    def _direct_sample(self, n_edge, M, rng):
        out = np.empty((n_edge, M), dtype=INDEX)
        _pk.sample_uniform(_edge_states(rng, n_edge), out)
        return out

    def _direct_marginal(self, M):
        return _exact_marginal(np.full((M, M), 1.0 / M))


@dataclass(frozen=True, eq=False)
class CyclicShift(Kernel):
    """Cyclic shifts ``pi_e(m) = m + s_e mod M``: quasi-cyclic lifts (protograph codes).

    The law is *not* permanental: with random shifts it is uniform over the M
    shifts (the permanental law of any Q charging all M shifts would charge
    other permutations too).  ``Q(M)`` therefore returns the expected
    permutation matrix Pbar itself: J/M for random shifts, the shift matrix
    ``S[m, (m + s) % M] = 1`` for a common shift, and the average of the edges'
    shift matrices for per-edge shifts.  Sampling and marginals are exact for
    any M (``method`` is accepted and ignored).

    Parameters
    ----------
    shifts : None, int or array_like of int, shape (n_edge,)
        None: an independent uniform shift per edge; an int: the same shift on
        every edge; an array: the shift of each edge (taken mod M), and
        ``sample`` then needs ``n_edge == len(shifts)``.

    Examples
    --------
    >>> CyclicShift(1).sample(2, 4).tolist()
    [[1, 2, 3, 0], [1, 2, 3, 0]]
    >>> CyclicShift([0, 3]).sample(2, 4).tolist()
    [[0, 1, 2, 3], [3, 0, 1, 2]]
    >>> CyclicShift().identify()
    'CyclicShift(shifts=random)'
    """

    shifts: object = None

    def __post_init__(self):
        s = self.shifts
        if s is None:
            return
        if isinstance(s, numbers.Integral) and not isinstance(s, bool):
            object.__setattr__(self, "shifts", int(s))
            return
        arr = np.asarray(s)
        if arr.dtype.kind not in "iu" or arr.ndim != 1:
            raise TypeError(
                f"shifts must be None, an int or a 1-D int array (n_edge,), got {type(s).__name__} "
                f"of dtype {arr.dtype} and shape {arr.shape}"
            )
        object.__setattr__(self, "shifts", readonly(arr.astype(INDEX)))

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        a, b = self.shifts, other.shifts
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b)
        return a == b

    def __hash__(self):
        s = self.shifts
        return hash((CyclicShift, _digest(s) if isinstance(s, np.ndarray) else s))

    def identify(self) -> str:
        """One line: ``CyclicShift(shifts=random|s|[...])``."""
        s = self.shifts
        if s is None:
            text = "random"
        elif isinstance(s, np.ndarray):
            text = str(s.tolist()) if s.size <= 8 else f"<n_edge={s.size}, sha1={_digest(s)}>"
        else:
            text = str(s)
        return f"CyclicShift(shifts={text})"

    def Q(self, M: int) -> np.ndarray:
        """The expected permutation matrix Pbar (see the class notes), float64 (M, M)."""
        M = _check_M(M)
        s = self.shifts
        if s is None:
            return np.full((M, M), 1.0 / M)
        s = np.atleast_1d(np.asarray(s, dtype=INDEX)) % M
        Q = np.zeros((M, M))
        m = np.arange(M)
        np.add.at(Q, (np.broadcast_to(m, (s.size, M)), (m[None, :] + s[:, None]) % M), 1.0 / s.size)
        return Q

    def sample(self, n_edge: int, M: int, seed=None, *, method: str = "auto", mcmc_sweeps: int = MCMC_SWEEPS):
        """Draw the shift permutations (see :meth:`Kernel.sample`; always exact and direct)."""
        n_edge = _check_int(n_edge, "n_edge", 0)
        M = _check_M(M)
        _check_method(method)
        _check_int(mcmc_sweeps, "mcmc_sweeps", 1)
        s = self.shifts
        if s is None:
            s = as_generator(seed).integers(0, M, size=n_edge, dtype=INDEX)
        elif isinstance(s, np.ndarray):
            if s.size != n_edge:
                raise ValueError(f"CyclicShift has {s.size} shifts but n_edge={n_edge}")
            s = s % M
        else:
            s = np.full(n_edge, s % M, dtype=INDEX)
        return (np.arange(M, dtype=INDEX)[None, :] + s[:, None]) % M

    def _direct_marginal(self, M):
        return _exact_marginal(self.Q(M))

    def marginal(self, M: int, seed=None, n_samples=None, *, method="auto", mcmc_sweeps=MCMC_SWEEPS):
        """Closed form (see :meth:`Kernel.marginal`): J/M, the shift matrix, or the edge average.

        Examples
        --------
        >>> CyclicShift(1).P(3).tolist()
        [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
        """
        M = _check_M(M)
        _check_method(method)
        return self._direct_marginal(M)


@dataclass(frozen=True)
class Ring(Kernel):
    """Gaussian ring kernel ``Q = exp(-d^2 / (2 width^2)) + EPS`` (d: ring distance).

    ``width -> 0`` gives the identity, ``width -> inf`` the uniform lift.

    Parameters
    ----------
    width : float > 0 (inf allowed)

    Examples
    --------
    >>> Ring(width=1.0).identify()
    'Ring(width=1)'
    >>> Ring(1.0).Q(4).round(3).tolist()[0]
    [1.0, 0.607, 0.135, 0.607]
    """

    width: float

    def __post_init__(self):
        _check_real(self.width, "width", lo=0.0, lo_open=True, allow_inf=True)

    def Q(self, M: int) -> np.ndarray:
        """float64 (M, M), symmetric circulant."""
        d = _ring_distance(_check_M(M)).astype(FLOAT)
        return np.exp(-(d**2) / (2.0 * float(self.width) ** 2)) + EPS


@dataclass(frozen=True)
class Block(Kernel):
    """Block kernel: ``M = n_blocks * L`` and ``Q = Q_B kron ones(L, L)``.

    ``Q_B`` (n_blocks x n_blocks) is 1 on the diagonal and ``p_out`` elsewhere:
    copies mix freely inside their block and with relative weight ``p_out``
    across blocks (``p_out = 0``: never).

    Parameters
    ----------
    n_blocks : int >= 1
        Must divide M.
    p_out : float >= 0

    Examples
    --------
    >>> Block(2, 0.1).Q(4).tolist()
    [[1.0, 1.0, 0.1, 0.1], [1.0, 1.0, 0.1, 0.1], [0.1, 0.1, 1.0, 1.0], [0.1, 0.1, 1.0, 1.0]]
    """

    n_blocks: int
    p_out: float

    def __post_init__(self):
        _check_int(self.n_blocks, "n_blocks", 1)
        _check_real(self.p_out, "p_out", lo=0.0)

    def Q(self, M: int) -> np.ndarray:
        """float64 (M, M); ValueError when n_blocks does not divide M."""
        M = _check_M(M)
        B = int(self.n_blocks)
        if M % B:
            raise ValueError(f"Block needs M divisible by n_blocks={B}, got M={M}")
        QB = np.full((B, B), float(self.p_out))
        np.fill_diagonal(QB, 1.0)
        return np.kron(QB, np.ones((M // B, M // B)))


@dataclass(frozen=True)
class Band(Kernel):
    """Band kernel: 1 where the ring distance d <= w, else EPS.

    Variant ``h`` (typically < 1): 1 on the diagonal, ``h`` for 0 < d <= w, EPS outside.

    Parameters
    ----------
    w : int >= 0
        Half-width of the band.
    h : float >= 0, optional

    Examples
    --------
    >>> Band(1).Q(4).round(3).tolist()[0]
    [1.0, 1.0, 0.0, 1.0]
    >>> Band(1, h=0.5).identify()
    'Band(w=1, h=0.5)'
    """

    w: int
    h: float | None = None

    def __post_init__(self):
        _check_int(self.w, "w", 0)
        if self.h is not None:
            _check_real(self.h, "h", lo=0.0)

    def identify(self) -> str:
        """``Band(w=...)`` or ``Band(w=..., h=...)``."""
        h = "" if self.h is None else f", h={_fmt(self.h)}"
        return f"Band(w={int(self.w)}{h})"

    def Q(self, M: int) -> np.ndarray:
        """float64 (M, M), symmetric circulant."""
        d = _ring_distance(_check_M(M))
        band = 1.0 if self.h is None else float(self.h)
        Q = np.where(d <= int(self.w), band, EPS)
        np.fill_diagonal(Q, 1.0)
        return Q


@dataclass(frozen=True)
class Directional(Kernel):
    """Drifting ring kernel (parametrisation ours, SCIENCE.md section 3).

    With the wrapped offset ``r = ((m' - m - shift) mod M)`` taken in
    ``(-M/2, M/2]``, ``Q[m, m'] = exp(-r^2 / (2 s_r^2)) + EPS`` with
    ``s_r = max(width (1 + kappa sign r), 0.05 width)``: the kernel is centred
    ``shift`` copies ahead and wider on one side (``kappa > 0``: forward).

    Parameters
    ----------
    width : float > 0
    kappa : float in [-1, 1]
    shift : int

    Examples
    --------
    >>> k = Directional(1.0, 0.5, 1)
    >>> k.identify()
    'Directional(width=1, kappa=0.5, shift=1)'
    >>> int(np.argmax(k.Q(6)[0]))
    1
    """

    width: float
    kappa: float = 0.0
    shift: int = 0

    def __post_init__(self):
        _check_real(self.width, "width", lo=0.0, lo_open=True)
        _check_real(self.kappa, "kappa", lo=-1.0, hi=1.0)
        if isinstance(self.shift, bool) or not isinstance(self.shift, numbers.Integral):
            raise TypeError(f"shift must be an int, got {self.shift!r}")

    def Q(self, M: int) -> np.ndarray:
        """float64 (M, M), circulant (not symmetric unless kappa = 0 and shift = 0)."""
        M = _check_M(M)
        m = np.arange(M)
        r = (m[None, :] - m[:, None] - int(self.shift)) % M
        r = np.where(r > M / 2, r - M, r).astype(FLOAT)
        w = float(self.width)
        s = np.maximum(w * (1.0 + float(self.kappa) * np.sign(r)), 0.05 * w)
        return np.exp(-(r**2) / (2.0 * s**2)) + EPS


@dataclass(frozen=True, eq=False)
class FromMatrix(Kernel):
    """Any nonnegative M x M weight matrix with perm Q > 0 (fixed M).

    The matrix is validated at construction (square, finite, nonnegative, no
    zero row or column, permanent > 0) and stored read-only.

    Parameters
    ----------
    matrix : array_like, shape (M, M)
    name : str, optional
        Shown by ``identify`` (e.g. the file it came from).

    Examples
    --------
    >>> k = FromMatrix([[1.0, 2.0], [2.0, 1.0]])
    >>> k.P(2).round(12).tolist()   # Pr[id] = 1 / (1 + 4)
    [[0.2, 0.8], [0.8, 0.2]]
    >>> k.identify()
    'FromMatrix(M=2, sha1=7dff3fe6)'
    """

    matrix: np.ndarray
    name: str | None = field(default=None, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "matrix", readonly(_check_matrix(self.matrix, "matrix")))

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return np.array_equal(self.matrix, other.matrix)

    def __hash__(self):
        return hash((FromMatrix, self.matrix.shape, _digest(self.matrix)))

    @property
    def M(self) -> int:
        """The fixed cover degree."""
        return self.matrix.shape[0]

    def identify(self) -> str:
        """``FromMatrix([name, ]M=..., sha1=...)`` (sha1: first 8 hex digits of the float64 bytes)."""
        name = "" if self.name is None else f"{self.name!r}, "
        return f"FromMatrix({name}M={self.M}, sha1={_digest(self.matrix)})"

    def Q(self, M: int) -> np.ndarray:
        """The stored matrix (read-only float64 (M, M)); ValueError for another M."""
        M = _check_M(M)
        if M != self.M:
            raise ValueError(f"FromMatrix holds a {self.M} x {self.M} matrix; it cannot be used with M={M}")
        return self.matrix


# ----------------------------------------------------------------- CLI specs
SPEC_FORMS = (
    "identity",
    "uniform",
    "shift",
    "shift:S",
    "ring:WIDTH",
    "block:N_BLOCKS:P_OUT",
    "band:W",
    "band:W:H",
    "directional:WIDTH:KAPPA:SHIFT",
    "matrix:PATH.npy",
    "matrix:PATH.txt",
)


def _spec_error(text: str, why: str) -> ValueError:
    return ValueError(f"bad kernel spec {text!r}: {why}; valid forms: {', '.join(SPEC_FORMS)}")


def from_spec(text: str) -> Kernel:
    """Parse a command-line kernel spec.

    Forms: ``identity``, ``uniform``, ``shift`` / ``shift:S``, ``ring:WIDTH``,
    ``block:N_BLOCKS:P_OUT``, ``band:W`` / ``band:W:H``,
    ``directional:WIDTH:KAPPA:SHIFT``, ``matrix:PATH`` (``.npy`` by
    :func:`numpy.load`, anything else by :func:`numpy.loadtxt`).  Names are
    case-insensitive.  Unknown names, wrong argument counts and malformed or
    out-of-range numbers raise ValueError listing the valid forms.

    Parameters
    ----------
    text : str

    Returns
    -------
    Kernel

    Examples
    --------
    >>> from_spec("ring:1.5").identify()
    'Ring(width=1.5)'
    >>> from_spec("block:4:0.1")
    Block(n_blocks=4, p_out=0.1)
    >>> from_spec("shift:3").identify()
    'CyclicShift(shifts=3)'
    """
    if not isinstance(text, str):
        raise TypeError(f"kernel spec must be a str, got {type(text).__name__}")
    name, _, rest = text.strip().partition(":")
    name = name.strip().lower()
    if name == "matrix":
        if not rest:
            raise _spec_error(text, "matrix needs a path")
        path = Path(rest)
        try:
            Q = np.load(path, allow_pickle=False) if path.suffix == ".npy" else np.loadtxt(path, ndmin=2)
        except ValueError as exc:
            raise _spec_error(text, f"cannot read a matrix from {str(path)!r} ({exc})") from None
        return FromMatrix(Q, name=path.name)
    args = [a.strip() for a in rest.split(":")] if rest else []
    table = {
        "identity": ((), lambda: Identity()),
        "uniform": ((), lambda: Uniform()),
        "shift": ((), lambda: CyclicShift()),
        "ring": ((float,), Ring),
        "block": ((int, float), Block),
        "band": ((int,), Band),
        "directional": ((float, float, int), Directional),
    }
    if name == "shift" and len(args) == 1:
        types, make = (int,), CyclicShift
    elif name == "band" and len(args) == 2:
        types, make = (int, float), Band
    elif name in table:
        types, make = table[name]
    else:
        raise _spec_error(text, f"unknown kernel name {name!r}")
    if len(args) != len(types):
        raise _spec_error(text, f"{name} takes {len(types)} argument(s), got {len(args)}")
    try:
        values = [t(a) for t, a in zip(types, args)]
    except ValueError:
        raise _spec_error(text, "malformed number") from None
    try:
        return make(*values)
    except (TypeError, ValueError) as exc:
        raise _spec_error(text, str(exc)) from None
