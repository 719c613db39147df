"""Permutation kernels Q: how the M copies are mixed across each edge of an M-cover.

A kernel draws one permutation ``pi_e`` of the copies ``0..M-1`` per base edge
``e`` (docs/theory.md §3, §4.1).  Structured kernels use the **permanental law**
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
marginal.  Identity, Uniform and CyclicShift have direct exact samplers and
closed-form marginals, and Block has an exact marginal at any M (below).

Beyond ``EXACT_MAX_M`` every edge runs its own Metropolis chain (docs/theory.md
§4.7).  One chain per edge and one draw per chain: the edges of a lift are
independent, so no chain is thinned or reused.  The moves
(:func:`lifts._perm_kernels.mcmc_advance`) are transpositions of two rows'
images -- ring neighbours, uniform pairs, and *informed* pairs drawn in
proportion to how poorly each row sits (``max_c Q[m, c] / Q[m, pi(m)]``), which
pairs up the rows stranded off their block and moves a chain between block
tables in a few sweeps -- plus one rotation ``pi -> pi +- 1 mod M`` per sweep
for the winding classes of circulant kernels.  Every move is a
Metropolis-Hastings step in detailed balance with the permanental law, so the
chains are exact in law; only their length is at stake.

Adaptive length (``mcmc_sweeps=None``, the default; docs/theory.md §4.8).  A
fair coin per chain picks its start: "cold", the maximum-weight permutation
(the MAP), or "hot", a uniform random permutation (if that has weight 0, a
walk on the support of Q from the MAP).  For the log-weight
``sum_m log Q[m, pi(m)]`` the two families bracket the law: the MAP maximises
it, and the law's mean exceeds the uniform mean by
``Cov_unif(w, log w) / E_unif[w] >= 0``.  Chains that have forgotten their
start have the same law in both families.  At checkpoints of 8, 16, 32, ...
sweeps (up to ``max_sweeps``) six linear statistics ``sum_m F[m, pi(m)]`` -- the
log-weight, the overlap with the MAP, the cosine and sine of the ring offset
``pi(m) - m`` (winding), and the second and third singular vectors of Q
(coarse occupation such as block tables) -- are compared between the families
by ``z = (mean_cold - mean_hot) / sqrt(var_cold / n_cold + var_hot / n_hot)``;
the between-start potential scale reduction
``R-hat = sqrt(1 + (mean_cold - mean_hot)^2 / (var_cold + var_hot))`` (Gelman
and Rubin with the two families as the chains) is reported alongside.  The
chains are **certified** at the first checkpoint T such that every
``|z| < Z_CERT`` (3.5) at the three checkpoints T / 4, T / 2 and T, and their
states at T are returned.  Why this certifies: at T / 4 the gap
between the families, which brackets the law's mean log-weight, is already
within a few standard errors of the mean of the very population being
returned; if the memory of the start decays geometrically (as it does,
asymptotically, for every ergodic chain), the gap at T is that fraction to the
fourth power of the starting gap, far below one standard error, so the bias is
negligible next to the Monte-Carlo error of anything estimated from the sample.
The factor 4 also covers modes up to four times slower than the monitored
statistics (against the subset DP, a rough lognormal Q at M = 20 left one entry
of Pbar 4.6 standard errors off when two checkpoints sufficed).  The population
is the edges' chains plus auxiliary chains up to ``MCMC_MIN_CHAINS``, so the
check has power for a few edges, and a larger sample is held to a finer
resolution.  No finite diagnostic proves convergence: a mode that neither
family reaches, or a slow mode invisible to the six statistics, escapes it; the
tests therefore check certified chains entry by entry against exact laws
(subset DP, block tables).  If no checkpoint up to ``max_sweeps`` certifies, the
states at ``max_sweeps`` are returned with a :class:`SamplingWarning`.  An
integer ``mcmc_sweeps`` runs exactly that many sweeps and is certified iff the
families agree at ``mcmc_sweeps // 4``, ``mcmc_sweeps // 2`` and
``mcmc_sweeps`` (else the same warning).
``sample(..., diagnostic=True)`` and :class:`Marginal` report the
:class:`Diagnostic`.  A Monte-Carlo marginal uses one draw per independent
chain, so its binomial standard error is its whole Monte-Carlo error and its
effective sample size is the number of chains.

Block tables.  With M = B L and Q = Q_B kron 1_{LxL}, the weight of a
permutation depends only on its table ``n[b, b'] = #{m in block b: pi(m) in
block b'}`` (row and column sums L), and ``(L!)^(2B) / prod n[b, b']!``
permutations share a table, so ``P(n) ~ prod Q_B[b, b']^n[b, b'] / n[b, b']!``
and ``Pbar[m, m'] = E[n[b(m), b(m')]] / L^2``.  :func:`block_marginal` sums over
the tables by a dynamic program over the rows of n, the state being the column
sums still free (forward and backward passes; exact at any M while
``(L + 1)^B <= BLOCK_TABLE_MAX_STATES``); docs/theory.md §4.9.

Random numbers: ``seed`` (int, None or numpy Generator) seeds numpy, which
draws one independent stream per chain; results depend on the seed (and, for
MCMC, on n_edge, whose population sets the length), not on the number of
Numba threads.

Users add kernels by subclassing :class:`Kernel` and defining ``Q(M)`` only,
and name them for :func:`from_spec` (and ``--kernel``) with
:func:`register_kernel_spec`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import itertools
import math
import numbers
import warnings
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching

from fgraph.dtypes import FLOAT, INDEX, FrozenPickle, as_generator, readonly

from . import _perm_kernels as _pk

__all__ = [
    "Kernel",
    "Marginal",
    "Diagnostic",
    "SamplingWarning",
    "Identity",
    "Uniform",
    "CyclicShift",
    "Ring",
    "Block",
    "Band",
    "Directional",
    "FromMatrix",
    "from_spec",
    "register_kernel_spec",
    "unregister_kernel_spec",
    "kernel_spec_names",
    "block_marginal",
    "sinkhorn",
    "permanent",
    "EXACT_MAX_M",
    "PERMANENT_MAX_M",
    "MCMC_SWEEPS",
    "MCMC_MIN_SWEEPS",
    "MCMC_MAX_SWEEPS",
    "MCMC_MIN_CHAINS",
    "Z_CERT",
    "BLOCK_TABLE_MAX_STATES",
    "N_SAMPLES",
    "EPS",
]

#: Largest M sampled (and marginalised) exactly by the subset DP: 2^20 table entries, ~0.1 s.
EXACT_MAX_M = 20
#: Largest M accepted by :func:`permanent` (a table of 2^M float64).
PERMANENT_MAX_M = 24
#: Default ``mcmc_sweeps``: None, the adaptive length certified by the two-start diagnostic.
MCMC_SWEEPS = None
#: First checkpoint of the adaptive chains (sweeps); checkpoints then double.
MCMC_MIN_SWEEPS = 8
#: Default cap on the sweeps of the adaptive chains (``max_sweeps``).
MCMC_MAX_SWEEPS = 4096
#: Smallest diagnostic population: auxiliary chains are added to fewer edges (and discarded).
MCMC_MIN_CHAINS = 512
#: Largest |z| between the cold- and hot-start chains that counts as agreement.
Z_CERT = 3.5
#: Largest number of column-sum states (L + 1)^B of the block-table dynamic program.
BLOCK_TABLE_MAX_STATES = 1 << 20
#: Default number of independent chains behind a Monte-Carlo marginal.
N_SAMPLES = 20000
#: Floor added to the Ring, Band and Directional weights (so every Q > 0).
EPS = 1e-9

METHODS = ("auto", "exact", "mcmc")
CERT_CHECKPOINTS = 3  # consecutive agreeing checkpoints (T / 4, T / 2, T) that certify
BADNESS_CAP = 1e4  # cap of max_c Q[m, c] / Q[m, pi(m)] in the informed proposals (EPS floors reach 1e9)
_BLOCK_TABLE_MAX_WORK = 1 << 28  # (compositions of L) x (states): ~1 s of numpy slicing
_MC_CHUNK = 1 << 21  # entries (samples x M) per chunk of a Monte-Carlo marginal
_CACHE_PER_KERNEL = 8


class SamplingWarning(UserWarning):
    """The MCMC chains could not be certified within the sweep cap (see :class:`Diagnostic`)."""


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


def _check_sweeps(mcmc_sweeps, max_sweeps):
    if mcmc_sweeps is not None:
        mcmc_sweeps = _check_int(mcmc_sweeps, "mcmc_sweeps (None: adaptive)", 1)
    return mcmc_sweeps, _check_int(max_sweeps, "max_sweeps", 2)


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


def _block_table_size(B: int, L: int) -> tuple:
    """(states, compositions) of the block-table DP: (L + 1)^B and C(L + B - 1, B - 1)."""
    return (L + 1) ** B, math.comb(L + B - 1, B - 1)


def _compositions(L: int, B: int) -> np.ndarray:
    """int64 (C(L + B - 1, B - 1), B): every x >= 0 with sum L (stars and bars)."""
    combos = list(itertools.combinations(range(L + B - 1), B - 1))
    bars = np.array(combos, dtype=INDEX).reshape(len(combos), B - 1)
    edges = np.concatenate([np.full((len(bars), 1), -1), bars, np.full((len(bars), 1), L + B - 1)], axis=1)
    return np.diff(edges, axis=1) - 1


def block_marginal(QB, L: int) -> np.ndarray:
    """Exact marginal of the block kernel ``Q = QB kron ones(L, L)`` (M = B L) by its block tables.

    The weight of a permutation depends only on its table ``n[b, b'] = #{m in
    block b: pi(m) in block b'}`` (row and column sums L), which
    ``(L!)^(2B) / prod n[b, b']!`` permutations share, so
    ``P(n) ~ prod QB[b, b']^n[b, b'] / n[b, b']!`` and
    ``Pbar[m, m'] = E[n[b(m), b(m')]] / L^2``.  The tables are summed by a
    dynamic program over the rows b of n whose state is the vector of column
    sums still free (forward and backward passes over dense arrays of
    ``(L + 1)^B`` states, each row's weights ``prod_b' QB[b, b']^x_b' / x_b'!``
    over the compositions x of L, scaled per row so nothing overflows).

    Parameters
    ----------
    QB : array_like, shape (B, B)
        Nonnegative, finite, perm QB > 0.
    L : int >= 1
        Block size.  Needs ``(L + 1)^B <= BLOCK_TABLE_MAX_STATES``.

    Returns
    -------
    ndarray of float64, shape (B, B)
        ``E[n[b, b']] / L^2``, the value of Pbar on block (b, b'):
        ``Pbar = np.kron(block_marginal(QB, L), np.ones((L, L)))`` (doubly stochastic).

    Examples
    --------
    >>> block_marginal([[1.0, 0.5], [0.5, 1.0]], 1).round(12).tolist()   # Pr[id] = 1 / (1 + 0.25)
    [[0.8, 0.2], [0.2, 0.8]]
    >>> Pb = block_marginal([[1.0, 0.05], [0.05, 1.0]], 10)
    >>> bool(np.allclose(10 * Pb.sum(axis=1), 1.0)), float(Pb[0, 1].round(6))
    (True, 0.002185)
    """
    QB = _check_matrix(QB, "QB")
    L = _check_int(L, "L (the block size)", 1)
    B = QB.shape[0]
    states, n_comp = _block_table_size(B, L)
    if states > BLOCK_TABLE_MAX_STATES or states * n_comp > _BLOCK_TABLE_MAX_WORK:
        raise ValueError(
            f"block_marginal: (L + 1)^B = {states} states x {n_comp} row compositions is too large "
            f"(B={B}, L={L}; at most {BLOCK_TABLE_MAX_STATES} states)"
        )
    X = _compositions(L, B)
    lgf = np.array([math.lgamma(k + 1.0) for k in range(L + 1)])
    with np.errstate(divide="ignore"):
        logQB = np.log(QB)
    W = []  # W[b][c]: weight of row b taking composition c (0 where it needs a zero of QB)
    for b in range(B):
        zero = QB[b] == 0
        lw = (X * np.where(zero, 0.0, logQB[b])).sum(axis=1) - lgf[X].sum(axis=1)
        lw[(X[:, zero] > 0).any(axis=1)] = -np.inf
        W.append(np.exp(lw - lw.max()))
    hi = [tuple(slice(xj, L + 1) for xj in x) for x in X]  # states r >= x
    lo = [tuple(slice(0, L + 1 - xj) for xj in x) for x in X]  # states r - x
    shape = (L + 1,) * B
    # backward: G[b][r] ~ total weight of rows b..B-1 filling the free column sums r exactly
    G = [None] * (B + 1)
    G[B] = np.zeros(shape)
    G[B][(0,) * B] = 1.0
    for b in range(B - 1, 0, -1):
        Gb = np.zeros(shape)
        for c in np.flatnonzero(W[b]):
            Gb[hi[c]] += W[b][c] * G[b + 1][lo[c]]
        G[b] = Gb / Gb.max()
    # forward: F[r] ~ total weight of rows 0..b-1 leaving the free column sums r
    F = np.zeros(shape)
    F[(L,) * B] = 1.0
    E = np.zeros((B, B))
    for b in range(B):
        den = 0.0
        Fn = np.zeros(shape)
        for c in np.flatnonzero(W[b]):
            t = W[b][c] * np.sum(F[hi[c]] * G[b + 1][lo[c]])
            E[b] += t * X[c]
            den += t
            if b < B - 1:
                Fn[lo[c]] += W[b][c] * F[hi[c]]
        E[b] /= den
        F = Fn / Fn.sum() if b < B - 1 else F
    return E / L**2


# ----------------------------------------------------------------- results
@dataclass(frozen=True)
class Diagnostic:
    """How permutations were drawn, and whether their Markov chains are certified.

    Attributes
    ----------
    method : str
        ``'direct'`` (closed-form sampler), ``'exact'`` (subset DP) or ``'mcmc'``.
    certified : bool
        True for direct and exact draws; for MCMC, True iff the cold- and
        hot-start chains agreed (every ``|z| < Z_CERT``) at the last three
        checkpoints (see the module notes).
    sweeps : int
        Sweeps (M transposition proposals and one rotation each) every chain
        ran; 0 unless MCMC.
    max_sweeps : int
        The cap of an adaptive run, or the fixed ``mcmc_sweeps``; 0 unless MCMC.
    adaptive : bool
        The length was chosen by the diagnostic (``mcmc_sweeps=None``).
    n_chains : int
        Chains in the diagnostic population (the samples plus auxiliary chains).
    statistics : tuple of str
        Names of the statistics ``sum_m F[m, pi(m)]`` compared between the families.
    z : tuple of float
        Two-sample z of each statistic at the last checkpoint (``inf`` when one
        family is constant and the other differs; 0 for a statistic constant
        over the whole population).
    rhat : tuple of float
        Between-start potential scale reduction of each statistic at the last
        checkpoint: ``sqrt(1 + (mean_cold - mean_hot)^2 / (var_cold + var_hot))``.
    history : tuple of (int, float)
        ``(sweeps, max |z|)`` at every checkpoint.

    Examples
    --------
    >>> perms, diag = Ring(1.0).sample(100, 24, seed=0, diagnostic=True)
    >>> diag.method, diag.certified, diag.adaptive, diag.sweeps >= MCMC_MIN_SWEEPS
    ('mcmc', True, True, True)
    >>> diag.max_z < Z_CERT, diag.n_chains == MCMC_MIN_CHAINS
    (True, True)
    >>> Ring(1.0).sample(100, 8, seed=0, diagnostic=True)[1].method
    'exact'
    """

    method: str
    certified: bool
    sweeps: int = 0
    max_sweeps: int = 0
    adaptive: bool = False
    n_chains: int = 0
    statistics: tuple = ()
    z: tuple = ()
    rhat: tuple = ()
    history: tuple = ()

    @property
    def max_z(self) -> float:
        """Largest |z| at the last checkpoint (0 without statistics)."""
        return max((abs(v) for v in self.z), default=0.0)

    @property
    def max_rhat(self) -> float:
        """Largest R-hat at the last checkpoint (1 without statistics)."""
        return max(self.rhat, default=1.0)


@dataclass(frozen=True, eq=False)
class Marginal(FrozenPickle):  # pickles equal, read-only arrays and proxies kept
    """The marginal Pbar of a kernel at cover degree M: ``P[m, m'] = Pr[pi(m) = m']``.

    Attributes
    ----------
    P : ndarray of float64, shape (M, M), read-only
        Doubly stochastic (up to Monte-Carlo error when not exact).
    stderr : ndarray of float64, shape (M, M), read-only
        Standard error of each entry: zeros when exact, else
        ``sqrt(P (1 - P) / n_samples)`` over independent chains (one draw each).
    exact : bool
        True for closed forms, block tables and the subset DP.
    n_samples : int
        Number of independent samples behind a Monte-Carlo estimate (0 when exact).
    diagnostic : Diagnostic or None
        The MCMC diagnostic of a Monte-Carlo estimate (None when exact).

    Examples
    --------
    >>> mg = Uniform().marginal(3)
    >>> mg.exact, mg.P[0].round(4).tolist(), float(mg.stderr.max()), mg.certified
    (True, [0.3333, 0.3333, 0.3333], 0.0, True)
    >>> mc = Ring(1.0).marginal(24, seed=0, n_samples=2000)
    >>> mc.exact, mc.certified, mc.ess, mc.sweeps == mc.diagnostic.sweeps
    (False, True, 2000, True)
    """

    P: np.ndarray
    stderr: np.ndarray
    exact: bool
    n_samples: int = 0
    diagnostic: Diagnostic | None = None

    def __post_init__(self):
        object.__setattr__(self, "P", readonly(np.asarray(self.P, dtype=FLOAT)))
        object.__setattr__(self, "stderr", readonly(np.asarray(self.stderr, dtype=FLOAT)))

    @property
    def M(self) -> int:
        """Cover degree."""
        return self.P.shape[0]

    @property
    def certified(self) -> bool:
        """True when exact, or when the MCMC diagnostic certified the chains."""
        return self.exact or (self.diagnostic is not None and self.diagnostic.certified)

    @property
    def sweeps(self) -> int:
        """Sweeps of every chain behind the estimate (0 when exact)."""
        return 0 if self.diagnostic is None else self.diagnostic.sweeps

    @property
    def rhat(self) -> float:
        """Largest between-start R-hat of the chains (1 when exact)."""
        return 1.0 if self.diagnostic is None else self.diagnostic.max_rhat

    @property
    def ess(self) -> float:
        """Effective sample size of every entry: ``n_samples`` (independent chains), inf when exact."""
        return math.inf if self.exact else self.n_samples


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


@dataclass(frozen=True, eq=False)
class _ChainTables:
    """Everything the chains of one kernel and M need (cached)."""

    B: np.ndarray  # float64 (M, M): balanced, rows normalised
    logB: np.ndarray  # float64 (M, M): log B, -inf at zeros
    H: np.ndarray  # float64 (M, M): badness min(BADNESS_CAP, rowmax / B), the cap at zeros
    use_log: bool
    start: np.ndarray  # int64 (M,): the maximum-weight permutation
    F: np.ndarray  # float64 (K, M, M): the diagnostic statistics sum_m F[k, m, pi(m)]
    names: tuple


def _chain_tables(Q: np.ndarray) -> _ChainTables:
    B = _balanced(Q)
    M = B.shape[0]
    pos = B > 0
    with np.errstate(divide="ignore"):
        logB = np.log(B)
        badness = B.max(axis=1)[:, None] / np.where(pos, B, 1.0)
    H = np.where(pos, np.minimum(BADNESS_CAP, badness), BADNESS_CAP)
    rows, cols = linear_sum_assignment(-np.where(pos, logB, -1e300))
    start = np.empty(M, dtype=INDEX)
    start[rows] = cols
    use_log = bool(B[pos].min() < 1e-150)  # products of two entries could underflow
    m = np.arange(M)
    names = ["log_weight", "map_overlap", "ring_cos", "ring_sin"]
    overlap = np.zeros((M, M))
    overlap[m, start] = 1.0
    angle = 2.0 * np.pi * ((m[None, :] - m[:, None]) % M) / M
    F = [np.where(pos, logB, 0.0), overlap, np.cos(angle), np.sin(angle)]
    # the leading singular pair of a doubly stochastic B is constant; the next two
    # resolve coarse structure (which block a row's image sits in)
    U, _, Vt = np.linalg.svd(B)
    for k in (1, 2):
        if k < M:
            names.append(f"svd_{k + 1}")
            F.append(np.outer(U[:, k], Vt[k]))
    return _ChainTables(B, logB, H, use_log, start, np.ascontiguousarray(F), tuple(names))


def _two_start_test(S: np.ndarray, group: np.ndarray):
    """z and R-hat of every statistic between the cold (group 0) and hot (group 1) chains.

    S: float64 (n, K) statistics of the chains.  Returns two float64 (K,) arrays.
    """
    K = S.shape[1]
    cold, hot = S[group == 0], S[group == 1]
    if len(cold) < 2 or len(hot) < 2:
        return np.full(K, np.inf), np.full(K, np.inf)
    m0, m1 = cold.mean(axis=0), hot.mean(axis=0)
    v0, v1 = cold.var(axis=0, ddof=1), hot.var(axis=0, ddof=1)
    gap = m0 - m1
    # a statistic constant over the population (to rounding) carries no information
    const = np.ptp(S, axis=0) <= 1e-9 * (1.0 + np.abs(S).max(axis=0))
    se = np.sqrt(v0 / len(cold) + v1 / len(hot))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, gap / np.where(se > 0, se, 1.0), np.where(gap == 0, 0.0, np.inf))
        W = v0 + v1
        rhat = np.where(W > 0, np.sqrt(1.0 + gap**2 / np.where(W > 0, W, 1.0)),
                        np.where(gap == 0, 1.0, np.inf))
    return np.where(const, 0.0, np.abs(z)), np.where(const, 1.0, rhat)


def _checkpoints(mcmc_sweeps, max_sweeps: int) -> list:
    if mcmc_sweeps is not None:
        return sorted({t for t in (mcmc_sweeps // 4, mcmc_sweeps // 2, mcmc_sweeps) if t >= 1})
    cps = [min(MCMC_MIN_SWEEPS, max(1, max_sweeps // 2))]
    while 2 * cps[-1] <= max_sweeps:
        cps.append(2 * cps[-1])
    if cps[-1] < max_sweeps:
        cps.append(max_sweeps)
    return cps


def _run_chains(tabs: _ChainTables, n_edge: int, M: int, rng, mcmc_sweeps, max_sweeps: int):
    """int64 (n_edge, M) chain states and their Diagnostic (see the module notes)."""
    n = max(n_edge, MCMC_MIN_CHAINS)
    state = _edge_states(rng, n)
    perms = np.empty((n, M), dtype=INDEX)
    group = np.empty(n, dtype=INDEX)
    _pk.mcmc_start(tabs.B, tabs.start, state, perms, group)
    K = tabs.F.shape[0]
    S = np.empty((n, K))
    history, z, rhat = [], np.zeros(K), np.ones(K)
    done, agreed, certified = 0, 0, False
    for T in _checkpoints(mcmc_sweeps, max_sweeps):
        _pk.mcmc_advance(tabs.B, tabs.logB, tabs.H, tabs.use_log, T - done, state, perms)
        done = T
        _pk.chain_statistics(tabs.F, perms, S)
        z, rhat = _two_start_test(S, group)
        agreed = agreed + 1 if bool(np.all(z < Z_CERT)) else 0
        history.append((int(T), float(z.max(initial=0.0))))
        certified = agreed >= CERT_CHECKPOINTS
        if certified and mcmc_sweeps is None:
            break
    diag = Diagnostic(
        "mcmc", certified, int(done), int(max_sweeps if mcmc_sweeps is None else mcmc_sweeps),
        mcmc_sweeps is None, int(n), tabs.names, tuple(float(v) for v in z), tuple(float(v) for v in rhat),
        tuple(history),
    )
    return perms[:n_edge], diag


def _warn_uncertified(kernel, M: int, diag: Diagnostic, stacklevel: int) -> None:
    if diag.certified:
        return
    k = int(np.argmax(diag.z)) if diag.z else 0
    worst = f"max |z| = {diag.max_z:.3g} on {diag.statistics[k]}" if diag.z else "no statistics"
    how = (f"within max_sweeps={diag.max_sweeps}" if diag.adaptive
           else f"with mcmc_sweeps={diag.max_sweeps}")
    warnings.warn(
        SamplingWarning(
            f"{kernel.identify()} at M={M}: the Markov chains could not be certified {how} sweeps "
            f"(cold- and hot-start chains still disagree: {worst}, threshold {Z_CERT}); the "
            f"permutations may be biased. Raise max_sweeps (or use mcmc_sweeps=None), or use "
            f"method='exact' for M <= {EXACT_MAX_M}"
        ),
        stacklevel=stacklevel + 1,
    )


def _merge_diagnostics(diags: list) -> Diagnostic:
    """One Diagnostic for the chunks of a Monte-Carlo marginal: the worst of each field."""
    if len(diags) == 1:
        return diags[0]
    d0 = diags[0]
    z = tuple(max(d.z[k] for d in diags) for k in range(len(d0.z)))
    rhat = tuple(max(d.rhat[k] for d in diags) for k in range(len(d0.rhat)))
    return dataclasses.replace(
        d0, certified=all(d.certified for d in diags), sweeps=max(d.sweeps for d in diags),
        n_chains=sum(d.n_chains for d in diags), z=z, rhat=rhat,
        history=tuple(h for d in diags for h in d.history),
    )


# ----------------------------------------------------------------- the base class
class Kernel(FrozenPickle):  # pickles equal, read-only arrays and proxies kept
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

    def _mcmc_tables(self, M: int) -> _ChainTables:
        return _cached(self, ("mcmc", M), lambda: _chain_tables(self.weights(M)))

    # -- hooks for kernels with closed forms
    def _direct_sample(self, n_edge: int, M: int, rng: np.random.Generator):
        return None

    def _direct_marginal(self, M: int):
        return None

    # -- public API
    def sample(self, n_edge: int, M: int, seed=None, *, method: str = "auto", mcmc_sweeps=MCMC_SWEEPS,
               max_sweeps: int = MCMC_MAX_SWEEPS, diagnostic: bool = False):
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
        mcmc_sweeps : None or int >= 1
            None (default): every chain runs until the two-start diagnostic
            certifies the population (checkpoints 8, 16, 32, ... sweeps, at most
            ``max_sweeps``).  An int: exactly that many sweeps (M transposition
            proposals and one rotation each), certified iff the cold and hot
            chains agree after a quarter, half and all of them (so never
            below 4 sweeps).  All sweeps are burn-in: a chain's final state
            is the sample.
        max_sweeps : int >= 2
            Cap of the adaptive length (ignored with an int ``mcmc_sweeps``).
        diagnostic : bool
            Also return the :class:`Diagnostic`.

        Returns
        -------
        perms : ndarray of int64, shape (n_edge, M)
            Row e is a permutation: ``out[e, m] = pi_e(m)``.
        diagnostic : Diagnostic
            Only with ``diagnostic=True``.

        Warns
        -----
        SamplingWarning
            MCMC chains not certified (see :class:`Diagnostic`); the permutations
            are returned all the same.

        Examples
        --------
        >>> perms = Ring(width=1.0).sample(4, 6, seed=0)
        >>> perms.dtype, perms.shape
        (dtype('int64'), (4, 6))
        >>> bool(np.all(np.sort(perms, axis=1) == np.arange(6)))
        True
        >>> bool(np.array_equal(perms, Ring(width=1.0).sample(4, 6, seed=0)))
        True
        >>> perms, diag = Block(4, 0.05).sample(10, 24, seed=0, diagnostic=True)
        >>> diag.method, diag.certified, perms.shape
        ('mcmc', True, (10, 24))
        """
        n_edge = _check_int(n_edge, "n_edge", 0)
        M = _check_M(M)
        method = _check_method(method)
        mcmc_sweeps, max_sweeps = _check_sweeps(mcmc_sweeps, max_sweeps)
        rng = as_generator(seed)
        out, diag = None, None
        if method == "auto":
            out = self._direct_sample(n_edge, M, rng)
            if out is not None:
                diag = Diagnostic("direct", True)
            else:
                method = "exact" if M <= EXACT_MAX_M else "mcmc"
        if out is None:
            out, diag = self._permanental_sample(n_edge, M, rng, method, mcmc_sweeps, max_sweeps)
            _warn_uncertified(self, M, diag, stacklevel=2)
        return (out, diag) if diagnostic else out

    def _permanental_sample(self, n_edge, M, rng, method, mcmc_sweeps, max_sweeps):
        if method == "exact":
            if M > EXACT_MAX_M:
                raise ValueError(f"method='exact' needs M <= EXACT_MAX_M = {EXACT_MAX_M}, got M={M}")
            out = np.empty((n_edge, M), dtype=INDEX)
            B, g = self._dp_tables(M)
            _pk.sample_exact(B, g, _edge_states(rng, n_edge), out)
            return out, Diagnostic("exact", True)
        tabs = self._mcmc_tables(M)
        if n_edge == 0 or M == 1:
            return np.zeros((n_edge, M), dtype=INDEX), Diagnostic("mcmc", True)
        return _run_chains(tabs, n_edge, M, rng, mcmc_sweeps, max_sweeps)

    def marginal(
        self,
        M: int,
        seed=None,
        n_samples: int | None = None,
        *,
        method: str = "auto",
        mcmc_sweeps=MCMC_SWEEPS,
        max_sweeps: int = MCMC_MAX_SWEEPS,
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
            'auto': closed form if the kernel has one (Block: the table DP), else
            the subset DP for ``M <= EXACT_MAX_M``, else Monte Carlo over MCMC
            samples.  'exact': the subset DP (Block beyond ``EXACT_MAX_M``: the
            table DP), an error when neither applies.
        mcmc_sweeps : None or int >= 1
            As in :meth:`sample`: None certifies the chains adaptively.
        max_sweeps : int >= 2
            As in :meth:`sample`.

        Returns
        -------
        Marginal
            ``P`` and ``stderr`` float64 (M, M), ``exact``, and for Monte Carlo
            the ``diagnostic`` (``certified``, ``sweeps``, ``rhat``, ``ess``).

        Warns
        -----
        SamplingWarning
            The chains of a Monte-Carlo estimate were not certified.

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
        mcmc_sweeps, max_sweeps = _check_sweeps(mcmc_sweeps, max_sweeps)
        n = N_SAMPLES if n_samples is None else _check_int(n_samples, "n_samples", 1)
        if method == "auto":
            direct = self._direct_marginal(M)
            if direct is not None:
                return direct
            method = "exact" if M <= EXACT_MAX_M else "mcmc"
        if method == "exact":
            if M > EXACT_MAX_M:
                direct = self._table_marginal(M)
                if direct is not None:
                    return direct
                raise ValueError(f"method='exact' needs M <= EXACT_MAX_M = {EXACT_MAX_M}, got M={M}")
            return _cached(self, ("marginal", M), lambda: self._dp_marginal(M))
        mg = self._mc_marginal(M, as_generator(seed), n, mcmc_sweeps, max_sweeps)
        _warn_uncertified(self, M, mg.diagnostic, stacklevel=2)
        return mg

    def _table_marginal(self, M: int):
        """Exact marginal beyond the subset DP (Block: the table DP), or None."""
        return None

    def _dp_marginal(self, M: int) -> Marginal:
        B, g = self._dp_tables(M)
        f = _pk.f_table(B)
        acc = _pk.marginal_sums(f, g, M)
        return _exact_marginal(B * acc / g[(1 << M) - 1])

    def _mc_marginal(self, M, rng, n, mcmc_sweeps, max_sweeps) -> Marginal:
        counts = np.zeros(M * M, dtype=INDEX)
        chunk = max(MCMC_MIN_CHAINS, _MC_CHUNK // M)
        rows = np.arange(M, dtype=INDEX) * M
        done, diags = 0, []
        while done < n:
            k = min(chunk, n - done)
            perms, diag = self._permanental_sample(k, M, rng, "mcmc", mcmc_sweeps, max_sweeps)
            counts += np.bincount((perms + rows).ravel(), minlength=M * M)
            diags.append(diag)
            done += k
        P = (counts / n).reshape(M, M)
        return Marginal(P, np.sqrt(P * (1.0 - P) / n), False, n, _merge_diagnostics(diags))

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

    def sample(self, n_edge: int, M: int, seed=None, *, method: str = "auto", mcmc_sweeps=MCMC_SWEEPS,
               max_sweeps: int = MCMC_MAX_SWEEPS, diagnostic: bool = False):
        """Draw the shift permutations (see :meth:`Kernel.sample`; always exact and direct)."""
        n_edge = _check_int(n_edge, "n_edge", 0)
        M = _check_M(M)
        _check_method(method)
        _check_sweeps(mcmc_sweeps, max_sweeps)
        s = self.shifts
        if s is None:
            s = as_generator(seed).integers(0, M, size=n_edge, dtype=INDEX)
        elif isinstance(s, np.ndarray):
            if s.size != n_edge:
                raise ValueError(f"CyclicShift has {s.size} shifts but n_edge={n_edge}")
            s = s % M
        else:
            s = np.full(n_edge, s % M, dtype=INDEX)
        out = (np.arange(M, dtype=INDEX)[None, :] + s[:, None]) % M
        return (out, Diagnostic("direct", True)) if diagnostic else out

    def _direct_marginal(self, M):
        return _exact_marginal(self.Q(M))

    def marginal(self, M: int, seed=None, n_samples=None, *, method="auto", mcmc_sweeps=MCMC_SWEEPS,
                 max_sweeps: int = MCMC_MAX_SWEEPS):
        """Closed form (see :meth:`Kernel.marginal`): J/M, the shift matrix, or the edge average.

        Examples
        --------
        >>> CyclicShift(1).P(3).tolist()
        [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
        """
        M = _check_M(M)
        _check_method(method)
        _check_sweeps(mcmc_sweeps, max_sweeps)
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
    across blocks (``p_out = 0``: never).  The marginal is exact at any M by
    the block tables (:func:`block_marginal`, while ``(L + 1)^n_blocks <=
    BLOCK_TABLE_MAX_STATES``); sampling beyond ``EXACT_MAX_M`` uses the
    certified chains.

    Parameters
    ----------
    n_blocks : int >= 1
        Must divide M.
    p_out : float >= 0

    Examples
    --------
    >>> Block(2, 0.1).Q(4).tolist()
    [[1.0, 1.0, 0.1, 0.1], [1.0, 1.0, 0.1, 0.1], [0.1, 0.1, 1.0, 1.0], [0.1, 0.1, 1.0, 1.0]]
    >>> mg = Block(4, 0.05).marginal(64)      # 4 x 4 tables with margins 16: exact
    >>> mg.exact, float(mg.P[0, 16].round(6)), float(mg.P.sum(axis=1).max().round(12))
    (True, 0.002276, 1.0)
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
        return np.kron(self.QB(), np.ones((M // B, M // B)))

    def QB(self) -> np.ndarray:
        """The block weights, float64 (n_blocks, n_blocks): 1 on the diagonal, p_out elsewhere."""
        QB = np.full((int(self.n_blocks),) * 2, float(self.p_out))
        np.fill_diagonal(QB, 1.0)
        return QB

    def _direct_marginal(self, M):
        return self._table_marginal(M)

    def _table_marginal(self, M):
        """Exact by the block tables (:func:`block_marginal`) while they are small enough, else None."""
        self.Q(M)  # M divisible by n_blocks
        B = int(self.n_blocks)
        L = M // B
        states, n_comp = _block_table_size(B, L)
        if states > BLOCK_TABLE_MAX_STATES or states * n_comp > _BLOCK_TABLE_MAX_WORK:
            return None
        return _cached(self, ("table", M),
                       lambda: _exact_marginal(np.kron(block_marginal(self.QB(), L), np.ones((L, L)))))


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
    """Drifting ring kernel (parametrisation ours, docs/theory.md §4.3).

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


# ----------------------------------------------------------------- CLI specs (an open registry)
@dataclass(frozen=True)
class _Spec:
    factory: object
    forms: tuple


_SPECS: dict = {}  # lower-case name -> _Spec, in registration order (built-ins first)
_BUILTIN_SPECS: dict = {}


def _check_spec_name(name) -> str:
    if not isinstance(name, str):
        raise TypeError(f"kernel spec name must be a str, got {type(name).__name__}")
    key = name.strip().lower()
    if not key or ":" in key or any(ch.isspace() for ch in key):
        raise ValueError(f"kernel spec name must be non-empty, without ':' or whitespace, got {name!r}")
    return key


def _default_forms(key: str, factory) -> tuple:
    """``name:ARG1:ARG2`` from the factory's positional parameters (``name:...`` for *args)."""
    try:
        params = list(inspect.signature(factory).parameters.values())
    except (TypeError, ValueError):
        return (f"{key}[:...]",)
    args = []
    for p in params:
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            args.append(p.name.upper() if p.default is p.empty else f"[{p.name.upper()}]")
        elif p.kind is p.VAR_POSITIONAL:
            args.append("...")
    return (":".join([key, *args]),)


def register_kernel_spec(name: str, factory, *, forms=None, overwrite: bool = False) -> None:
    """Make ``from_spec("name:ARG1:ARG2...")`` (and ``--kernel`` on the command line) build a kernel.

    ``from_spec`` splits the spec at ``:``, strips every piece, and calls
    ``factory(*args)`` with the argument **strings** (none for a bare ``name``):
    ``factory(*args: str) -> Kernel``.  The factory parses and checks its
    arguments (raise ValueError or TypeError on bad ones: ``from_spec`` turns
    them into a ValueError naming the spec and listing the valid forms) and
    must return a :class:`Kernel` instance (else ``from_spec`` raises
    TypeError naming the spec).  The built-in specs are registered the same
    way when :mod:`lifts.kernels` is imported, before any user code runs.

    Parameters
    ----------
    name : str
        Case-insensitive (stored lower-case), non-empty, no ``:`` or whitespace.
    factory : callable
        ``factory(*args: str) -> Kernel``.
    forms : str or tuple of str, optional
        How the spec is written, for error messages (e.g. ``"gauss:WIDTH"``);
        default from the factory's positional parameters.
    overwrite : bool
        Needed to replace a registered name (built-ins included; see
        :func:`unregister_kernel_spec` to restore a built-in).

    Raises
    ------
    ValueError
        Bad name, or a registered name without ``overwrite=True``.
    TypeError
        ``factory`` is not callable, or ``forms`` not strings.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Tri(Kernel):
    ...     weight: float
    ...     def Q(self, M):
    ...         return np.eye(M) + self.weight * (np.eye(M, k=1) + np.eye(M, k=1 - M))
    >>> register_kernel_spec("tri", lambda weight: Tri(float(weight)), forms="tri:WEIGHT")
    >>> from_spec("tri:0.5")
    Tri(weight=0.5)
    >>> "tri" in kernel_spec_names()
    True
    >>> unregister_kernel_spec("tri")
    """
    key = _check_spec_name(name)
    if not callable(factory):
        raise TypeError(f"factory of kernel spec {key!r} must be callable, got {type(factory).__name__}")
    if forms is None:
        forms = _default_forms(key, factory)
    elif isinstance(forms, str):
        forms = (forms,)
    else:
        forms = tuple(forms)
    if not forms or not all(isinstance(f, str) and f for f in forms):
        raise TypeError(f"forms of kernel spec {key!r} must be non-empty strings, got {forms!r}")
    if key in _SPECS and not overwrite:
        raise ValueError(f"kernel spec {key!r} is already registered; pass overwrite=True to replace it")
    _SPECS[key] = _Spec(factory, forms)


def unregister_kernel_spec(name: str) -> None:
    """Remove a registered kernel spec; a replaced built-in gets its built-in factory back.

    Raises
    ------
    ValueError
        ``name`` is not registered, or is a built-in that was not replaced.

    Examples
    --------
    >>> register_kernel_spec("same", lambda: Uniform())
    >>> unregister_kernel_spec("same")
    >>> "same" in kernel_spec_names()
    False
    """
    key = _check_spec_name(name)
    if key not in _SPECS:
        raise ValueError(f"kernel spec {key!r} is not registered; registered: {', '.join(_SPECS)}")
    if key in _BUILTIN_SPECS:
        if _SPECS[key] is _BUILTIN_SPECS[key]:
            raise ValueError(f"kernel spec {key!r} is a built-in and cannot be removed")
        _SPECS[key] = _BUILTIN_SPECS[key]
    else:
        del _SPECS[key]


def kernel_spec_names() -> tuple:
    """Names of the registered kernel specs, built-ins first, in registration order.

    Examples
    --------
    >>> kernel_spec_names()[:4]
    ('identity', 'uniform', 'shift', 'ring')
    """
    return tuple(_SPECS)


def _spec_error(text: str, why: str) -> ValueError:
    forms = ", ".join(f for spec in _SPECS.values() for f in spec.forms)
    return ValueError(f"bad kernel spec {text!r}: {why}; valid forms: {forms}")


def from_spec(text: str) -> Kernel:
    """Parse a command-line kernel spec ``name[:ARG[:ARG...]]`` through the registry.

    Built-in forms: ``identity``, ``uniform``, ``shift`` / ``shift:S``,
    ``ring:WIDTH``, ``block:N_BLOCKS:P_OUT``, ``band:W`` / ``band:W:H``,
    ``directional:WIDTH:KAPPA:SHIFT``, ``matrix:PATH`` (``.npy`` by
    :func:`numpy.load`, anything else by :func:`numpy.loadtxt`); users add
    names with :func:`register_kernel_spec`.  Names are case-insensitive.
    Unknown names, wrong argument counts and malformed or out-of-range numbers
    raise ValueError listing the valid forms of every registered spec.

    Parameters
    ----------
    text : str

    Returns
    -------
    Kernel

    Raises
    ------
    ValueError
        Unknown name, or the factory rejected the arguments.
    TypeError
        ``text`` is not a str, or the factory returned something that is not a Kernel.

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
    key = name.strip().lower()
    spec = _SPECS.get(key)
    if spec is None:
        raise _spec_error(text, f"unknown kernel name {key!r} (registered: {', '.join(_SPECS)})")
    args = [a.strip() for a in rest.split(":")] if rest else []
    try:
        kernel = spec.factory(*args)
    except (TypeError, ValueError) as exc:
        raise _spec_error(text, str(exc)) from exc
    if not isinstance(kernel, Kernel):
        raise TypeError(
            f"kernel spec {text!r}: the factory registered for {key!r} returned {type(kernel).__name__}, "
            "not a lifts.kernels.Kernel instance"
        )
    return kernel


# ----------------------------------------------------------------- the built-in specs
def _parse(name: str, args: tuple, types: tuple) -> list:
    if len(args) != len(types):
        raise ValueError(f"{name} takes {len(types)} argument(s), got {len(args)}")
    try:
        return [t(a) for t, a in zip(types, args)]
    except ValueError:
        raise ValueError("malformed number") from None


def _identity_spec(*args):
    return Identity(*_parse("identity", args, ()))


def _uniform_spec(*args):
    return Uniform(*_parse("uniform", args, ()))


def _shift_spec(*args):
    return CyclicShift(*_parse("shift", args, (int,) if args else ()))


def _ring_spec(*args):
    return Ring(*_parse("ring", args, (float,)))


def _block_spec(*args):
    return Block(*_parse("block", args, (int, float)))


def _band_spec(*args):
    return Band(*_parse("band", args, (int, float) if len(args) == 2 else (int,)))


def _directional_spec(*args):
    return Directional(*_parse("directional", args, (float, float, int)))


def _matrix_spec(*parts):
    if not parts:
        raise ValueError("matrix needs a path")
    path = Path(":".join(parts))  # a path may itself contain ':'
    try:
        Q = np.load(path, allow_pickle=False) if path.suffix == ".npy" else np.loadtxt(path, ndmin=2)
    except ValueError as exc:
        raise ValueError(f"cannot read a matrix from {str(path)!r} ({exc})") from None
    return FromMatrix(Q, name=path.name)


for _name, _factory, _forms in (
    ("identity", _identity_spec, ("identity",)),
    ("uniform", _uniform_spec, ("uniform",)),
    ("shift", _shift_spec, ("shift", "shift:S")),
    ("ring", _ring_spec, ("ring:WIDTH",)),
    ("block", _block_spec, ("block:N_BLOCKS:P_OUT",)),
    ("band", _band_spec, ("band:W", "band:W:H")),
    ("directional", _directional_spec, ("directional:WIDTH:KAPPA:SHIFT",)),
    ("matrix", _matrix_spec, ("matrix:PATH.npy", "matrix:PATH.txt")),
):
    register_kernel_spec(_name, _factory, forms=_forms)
    _BUILTIN_SPECS[_name] = _SPECS[_name]
del _name, _factory, _forms
