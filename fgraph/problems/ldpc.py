"""LDPC codes: regular parity-check matrices, GF(2) linear algebra, channel decoding problems.

A binary linear code is the null space ``{x : H x = 0 (mod 2)}`` of a
parity-check matrix ``H`` (m checks x n bits).  Decoding a received word is
inference on the factor graph

    p(x | y) ∝ prod_a [ sum_{i in a} x_i = 0 mod 2 ] * prod_i P(y_i | x_i),

with one hard ``parity`` factor per row of ``H`` and the channel log-likelihoods
``log P(y_i | x_i)`` in the variables' evidence ``var_unary`` (float64 (n, 2)).

Channels (memoryless, one use per bit):

======== =================== ======================================================
name     parameter           log P(y_i | x_i = x)
======== =================== ======================================================
``bec``  erasure prob. p     erased: ``(0, 0)``; else ``0`` at ``x = y_i``, ``-inf``
                             at the other bit
``bsc``  crossover prob. p   ``log(1 - p)`` at ``x = y_i``, ``log p`` at the other
``awgn`` noise std sigma     BPSK ``s = 1 - 2x`` (bit 0 -> +1), ``y = s + sigma z``:
                             ``-(y - s)^2 / (2 sigma^2) - log(sigma sqrt(2 pi))``
======== =================== ======================================================

GF(2) elimination packs each row of ``H`` into 64-bit words and eliminates with
vectorised XORs; a random codeword of an ``n = 10^4`` regular code takes a
fraction of a second.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import scipy.sparse as sp

from ..dtypes import FLOAT, INDEX, as_index
from ..graph import FactorGraph
from ._problem import Problem, _seeded

__all__ = ["regular_ldpc", "ldpc", "random_codeword", "gf2_rank", "CHANNELS"]

#: Names of the channels :func:`ldpc` knows, with the parameter each one takes.
CHANNELS = {"bec": "p", "bsc": "p", "awgn": "sigma"}

#: ``ldpc(..., compute_rank=None)`` computes the rank only up to this many bits
#: (elimination is roughly cubic; n = 2 * 10^4 takes about a second).
RANK_AUTO_MAX_N = 20_000


# ------------------------------------------------------------ regular codes
def _positive_int(v, name: str) -> int:
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(v).__name__}")
    if v < 1:
        raise ValueError(f"{name} must be >= 1, got {v}")
    return int(v)


def regular_ldpc(n, dv, dc, seed=None):
    """Random ``(dv, dc)``-regular parity-check matrix without repeated edges.

    Sockets: bit ``i`` has ``dv`` sockets, check ``a`` has ``dc``; a uniformly
    random matching of the ``n dv = m dc`` sockets (the configuration model)
    gives the Tanner graph.  Repeated (bit, check) pairs are then removed by
    random swaps: a repeated edge exchanges its check with that of a uniformly
    chosen partner edge, and the swap is kept only if neither new edge exists
    already; rounds repeat (vectorised) until no repeat remains.  Row and column
    weights are exact; the law is close to, not exactly, uniform over simple
    regular Tanner graphs.

    Parameters
    ----------
    n : int
        Code length (columns), >= 1.
    dv : int
        Column weight (checks per bit), ``1 <= dv <= m``.
    dc : int
        Row weight (bits per check), ``1 <= dc <= n``; ``n dv`` must be
        divisible by ``dc``.
    seed : int, numpy.random.Generator or None

    Returns
    -------
    scipy.sparse.csr_array of uint8, shape (m, n), ``m = n dv / dc``
        Entries are 1; column indices sorted within each row.  The same seed
        gives the same matrix.

    Examples
    --------
    >>> H = regular_ldpc(12, 3, 6, seed=0)
    >>> H.shape, H.sum(axis=0).tolist() == [3] * 12, H.sum(axis=1).tolist() == [6] * 6
    ((6, 12), True, True)
    """
    n = _positive_int(n, "n")
    dv = _positive_int(dv, "dv")
    dc = _positive_int(dc, "dc")
    if (n * dv) % dc:
        raise ValueError(f"n * dv = {n * dv} must be divisible by dc = {dc} (m = n dv / dc checks)")
    m = n * dv // dc
    if dv > m:
        raise ValueError(f"dv = {dv} exceeds the number of checks m = n dv / dc = {m}")
    rng = seed if isinstance(seed, np.random.Generator) else _seeded(seed)[0]
    E = n * dv
    a = np.repeat(np.arange(n, dtype=INDEX), dv)  # bit of edge k: k // dv
    b = rng.permutation(np.repeat(np.arange(m, dtype=INDEX), dc))  # check of edge k
    B = b.reshape(n, dv)  # a view: B[i] are the checks of bit i
    for _ in range(100_000):
        bad = _repeated(B)
        if bad.size == 0:
            break
        part = rng.integers(0, E, size=bad.size)
        # one swap per edge per round: partners distinct, not bad, on another bit
        keep = ~np.isin(part, bad) & (a[part] != a[bad])
        first = np.unique(part, return_index=True)[1]
        uniq = np.zeros(bad.size, dtype=bool)
        uniq[first] = True
        k, l = bad[keep & uniq], part[keep & uniq]
        bk, bl = b[k], b[l]
        # the new edges (a_k, b_l) and (a_l, b_k) must not exist yet
        ok = ~np.any(B[a[k]] == bl[:, None], axis=1) & ~np.any(B[a[l]] == bk[:, None], axis=1)
        b[k[ok]], b[l[ok]] = bl[ok], bk[ok]
    else:  # pragma: no cover - practically unreachable
        raise RuntimeError(f"could not remove repeated edges of a ({dv}, {dc})-regular code of length {n}")
    order = np.argsort(b, kind="stable")  # edges grouped by check, bits increasing within a check
    idx_dtype = np.int32 if n < 2**31 - 1 and E < 2**31 - 1 else np.int64
    indices = a[order].astype(idx_dtype)
    indptr = (np.arange(m + 1, dtype=INDEX) * dc).astype(idx_dtype)
    H = sp.csr_array((np.ones(E, dtype=np.uint8), indices, indptr), shape=(m, n))
    H.has_sorted_indices = True
    return H


def _repeated(B: np.ndarray) -> np.ndarray:
    """Edges ``k = i * dv + s`` whose check repeats an earlier one of bit ``i``; int64, sorted."""
    n, dv = B.shape
    if dv < 2:
        return np.zeros(0, dtype=INDEX)
    if dv <= 4:  # all pairs: cheaper than a sort for small degrees
        mask = np.zeros(B.shape, dtype=bool)
        for s in range(1, dv):
            mask[:, s] = np.any(B[:, :s] == B[:, s : s + 1], axis=1)
        return np.flatnonzero(mask.ravel()).astype(INDEX)
    order = np.argsort(B, axis=1, kind="stable")
    Bs = np.take_along_axis(B, order, axis=1)
    dup = Bs[:, 1:] == Bs[:, :-1]
    rows = np.nonzero(dup)[0]
    return np.sort(rows * dv + order[:, 1:][dup]).astype(INDEX)


# ------------------------------------------------------------ GF(2) algebra
def _check_matrix(H, name: str = "H"):
    """Validate a 0/1 parity-check matrix; return a canonical CSR uint8 copy."""
    if sp.issparse(H):
        Hc = sp.csr_array(H, copy=True)
        if Hc.dtype.kind not in "biuf":
            raise TypeError(f"{name} must be numeric, got dtype {Hc.dtype}")
        Hc.sum_duplicates()
        Hc.eliminate_zeros()
    else:
        arr = np.asarray(H)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{name} must be a 0/1 array or scipy sparse matrix, got dtype {arr.dtype}")
        if arr.ndim != 2:
            raise ValueError(f"{name} must be 2-dimensional (m checks x n bits), got shape {arr.shape}")
        Hc = sp.csr_array(arr)
        Hc.eliminate_zeros()
    if Hc.ndim != 2:
        raise ValueError(f"{name} must be 2-dimensional, got shape {Hc.shape}")
    bad = Hc.data != 1
    if np.any(bad):
        k = int(np.flatnonzero(bad)[0])
        row = int(np.searchsorted(Hc.indptr, k, side="right") - 1)
        raise ValueError(
            f"{name} must hold only 0 and 1, got {Hc.data[k]!r} at ({row}, {int(Hc.indices[k])})"
        )
    if Hc.shape[1] < 1:
        raise ValueError(f"{name} has no columns (bits)")
    Hc.sort_indices()
    return sp.csr_array(
        (np.ones(Hc.nnz, dtype=np.uint8), Hc.indices.copy(), Hc.indptr.copy()), shape=Hc.shape
    )


def _pack(Hc) -> np.ndarray:
    """Rows of a CSR 0/1 matrix as bits: uint64 (m, ceil(n / 64)), column c in word c // 64, bit c % 64."""
    m, n = Hc.shape
    nw = (n + 63) // 64
    W = np.zeros(m * nw, dtype=np.uint64)
    rows = np.repeat(np.arange(m, dtype=INDEX), np.diff(Hc.indptr))
    cols = Hc.indices.astype(INDEX)
    np.bitwise_or.at(W, rows * nw + (cols >> 6), np.left_shift(np.uint64(1), (cols & 63).astype(np.uint64)))
    return W.reshape(m, nw)


def _echelon(W: np.ndarray, n: int) -> np.ndarray:
    """Row-reduce packed rows in place to echelon form; return the pivot columns (int64).

    After the call, row ``r < rank`` has its leading 1 in column ``pivots[r]`` and
    zeros before it; rows ``>= rank`` are zero.
    """
    m = W.shape[0]
    one = np.uint64(1)
    r = 0
    piv = []
    for c in range(n):
        if r == m:
            break
        w = c >> 6
        nz = np.flatnonzero((W[r:, w] >> np.uint64(c & 63)) & one)
        if nz.size == 0:
            continue
        p = r + int(nz[0])
        if p != r:  # rows r..p-1 have a 0 here, so after the swap row p does too
            W[[r, p], w:] = W[[p, r], w:]
        if nz.size > 1:
            rows = r + nz[1:]
            W[rows, w:] ^= W[r, w:]
        piv.append(c)
        r += 1
    return np.array(piv, dtype=INDEX)


def gf2_rank(H) -> int:
    """Rank of a 0/1 matrix over GF(2).

    Parameters
    ----------
    H : array_like or scipy.sparse matrix, shape (m, n)
        Entries 0 or 1.

    Returns
    -------
    int

    Examples
    --------
    >>> gf2_rank([[1, 1, 0], [0, 1, 1], [1, 0, 1]])   # the rows sum to 0
    2
    """
    Hc = _check_matrix(H)
    return int(_echelon(_pack(Hc), Hc.shape[1]).size)


def _solve_codeword(W: np.ndarray, piv: np.ndarray, n: int, rng) -> np.ndarray:
    """Uniform random element of the null space from an echelon form (see :func:`random_codeword`)."""
    x = np.zeros(n, dtype=INDEX)
    free = np.ones(n, dtype=bool)
    free[piv] = False
    free = np.flatnonzero(free)
    x[free] = rng.integers(0, 2, size=free.size)
    nw = W.shape[1]
    X = np.zeros(nw, dtype=np.uint64)
    on = free[x[free] == 1]
    np.bitwise_or.at(X, on >> 6, np.left_shift(np.uint64(1), (on & 63).astype(np.uint64)))
    # back substitution, last pivot first: x_p = <row r, x> over the columns after p
    for r in range(piv.size - 1, -1, -1):
        c = int(piv[r])
        w = c >> 6
        acc = int(np.bitwise_xor.reduce(W[r, w:] & X[w:]))
        if acc.bit_count() & 1:
            x[c] = 1
            X[w] |= np.uint64(1) << np.uint64(c & 63)
    return x


def random_codeword(H, seed=None) -> np.ndarray:
    """Uniformly random codeword ``x`` with ``H x = 0 (mod 2)``.

    Gaussian elimination over GF(2) (rows packed in uint64 words) gives an
    echelon form with ``rank`` pivot columns; the ``n - rank`` free bits are
    drawn uniformly and the pivot bits solved by back substitution, which maps
    the free bits one-to-one onto the code.

    Parameters
    ----------
    H : array_like or scipy.sparse matrix, shape (m, n)
        0/1 parity-check matrix.
    seed : int, numpy.random.Generator or None

    Returns
    -------
    ndarray of int64, shape (n,)
        Entries 0 or 1.

    Examples
    --------
    >>> H = regular_ldpc(20, 3, 6, seed=1)
    >>> x = random_codeword(H, seed=2)
    >>> x.shape, bool(np.all(H @ x % 2 == 0))
    ((20,), True)
    """
    Hc = _check_matrix(H)
    rng = seed if isinstance(seed, np.random.Generator) else _seeded(seed)[0]
    W = _pack(Hc)
    piv = _echelon(W, Hc.shape[1])
    return _solve_codeword(W, piv, Hc.shape[1], rng)


# ------------------------------------------------------------ channels
def _probability(p, channel: str) -> float:
    if p is None:
        raise ValueError(f"channel {channel!r} needs the parameter p (a probability in [0, 1])")
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"p must be a real number, got {type(p).__name__}")
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must lie in [0, 1], got {p}")
    return p


def _sigma(sigma) -> float:
    if sigma is None:
        raise ValueError("channel 'awgn' needs the parameter sigma (noise standard deviation > 0)")
    if isinstance(sigma, bool) or not isinstance(sigma, numbers.Real):
        raise TypeError(f"sigma must be a real number, got {type(sigma).__name__}")
    sigma = float(sigma)
    if not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be finite and > 0, got {sigma}")
    return sigma


def _transmit(x: np.ndarray, channel: str, p, sigma, rng) -> tuple[np.ndarray, np.ndarray, dict]:
    """Channel output y and log-likelihoods float64 (n, 2) of codeword ``x``."""
    n = x.size
    L = np.empty((n, 2), dtype=FLOAT)
    if channel == "bec":
        erased = rng.random(n) < p
        y = np.where(erased, -1, x).astype(INDEX)
        L[:] = -np.inf
        L[np.arange(n), x] = 0.0
        L[erased] = 0.0
        return y, L, {"n_erased": int(erased.sum())}
    if channel == "bsc":
        flips = rng.random(n) < p
        y = (x ^ flips).astype(INDEX)
        good = math.log1p(-p) if p < 1 else -math.inf  # log(1 - p); p = 1 flips every bit
        bad = math.log(p) if p > 0 else -math.inf
        L[:] = bad
        L[np.arange(n), y] = good
        return y, L, {"n_flipped": int(flips.sum())}
    s = 1.0 - 2.0 * x
    y = s + sigma * rng.standard_normal(n)
    c = math.log(sigma * math.sqrt(2.0 * math.pi))
    L[:, 0] = -((y - 1.0) ** 2) / (2.0 * sigma**2) - c
    L[:, 1] = -((y + 1.0) ** 2) / (2.0 * sigma**2) - c
    return y, L, {}


# ------------------------------------------------------------ the problem
def ldpc(H, channel="bec", p=None, sigma=None, seed=None, codeword="random", *, compute_rank=None) -> Problem:
    """Decoding problem: a codeword of ``H`` sent through a noisy channel.

    Parameters
    ----------
    H : array_like or scipy.sparse matrix, shape (m, n)
        0/1 parity-check matrix (dense or sparse), e.g. from :func:`regular_ldpc`.
        Every row needs at least one 1.
    channel : {'bec', 'bsc', 'awgn'}
        Binary erasure channel, binary symmetric channel, or BPSK over additive
        white Gaussian noise (module docstring).
    p : float
        Erasure (BEC) or crossover (BSC) probability in [0, 1].  ``p = 0``
        (and ``p = 1`` for the BSC) give ``-inf`` log-likelihoods, i.e. hard
        evidence.
    sigma : float
        AWGN noise standard deviation, > 0.
    seed : int, numpy.random.Generator or None
        Draws, in order: the codeword (if random), then the channel noise.
    codeword : {'random', 'zero'} or array_like of int, shape (n,)
        ``'random'``: uniform over the code (GF(2) elimination);
        ``'zero'``: the all-zero word (no elimination, fine for n = 10^6);
        or a given codeword (checked against ``H``).
    compute_rank : bool or None
        Compute ``rank(H)`` over GF(2) for ``meta``.  ``None``: whenever the
        codeword is random (it comes for free) or ``n <= RANK_AUTO_MAX_N``;
        otherwise ``meta['rank']`` and ``meta['rate']`` are None.

    Returns
    -------
    Problem
        ``graph``: n binary variables, one hard ``parity`` factor per row of H
        (in row order), channel log-likelihoods in ``var_unary`` float64
        (n, 2).  ``truth``: the codeword, int64 (n,).  ``meta``: ``kind='ldpc'``,
        ``channel``, ``p``, ``sigma``, ``codeword`` ('random', 'zero' or
        'given'), ``seed``, ``y`` (channel output: int64 (n,) bits with -1 for
        erasures for BEC/BSC, float64 (n,) for AWGN), ``H`` (read-only CSR
        uint8 (m, n)), ``n``, ``m``, ``rank``, ``design_rate = 1 - m/n``,
        ``rate = (n - rank)/n``, and ``n_erased`` (BEC) or ``n_flipped`` (BSC).

    Examples
    --------
    >>> H = regular_ldpc(12, 3, 6, seed=0)
    >>> prob = ldpc(H, "bsc", p=0.1, seed=1)
    >>> prob.graph.n_var, prob.graph.n_fac, prob.graph.types
    (12, 6, ('parity',))
    >>> bool(np.all(H @ prob.truth % 2 == 0)), prob.meta["design_rate"]
    (True, 0.5)
    >>> ldpc(H, "awgn", p=0.1)
    Traceback (most recent call last):
    ...
    ValueError: channel 'awgn' takes sigma, not p
    """
    if not isinstance(channel, str) or channel.lower() not in CHANNELS:
        valid = ", ".join(repr(c) for c in CHANNELS)
        raise ValueError(f"unknown channel {channel!r}; valid channels: {valid}")
    channel = channel.lower()
    if CHANNELS[channel] == "p":
        if sigma is not None:
            raise ValueError(f"channel {channel!r} takes p, not sigma")
        p = _probability(p, channel)
    else:
        if p is not None:
            raise ValueError(f"channel {channel!r} takes sigma, not p")
        sigma = _sigma(sigma)
    Hc = _check_matrix(H)
    m, n = Hc.shape
    empty = np.flatnonzero(np.diff(Hc.indptr) == 0)
    if empty.size:
        raise ValueError(f"H row {int(empty[0])} is empty (a check on no bits); remove empty rows")
    rng, recorded = _seeded(seed)

    rank = None
    if isinstance(codeword, str):
        if codeword not in ("random", "zero"):
            raise ValueError(f"codeword must be 'random', 'zero' or an array of {n} bits, got {codeword!r}")
        kind = codeword
        if codeword == "random":
            W = _pack(Hc)
            piv = _echelon(W, n)
            rank = int(piv.size)
            x = _solve_codeword(W, piv, n, rng)
        else:
            x = np.zeros(n, dtype=INDEX)
    else:
        kind = "given"
        x = as_index(codeword, "codeword")
        if x.shape != (n,):
            raise ValueError(f"codeword must have shape ({n},), got {x.shape}")
        if np.any((x != 0) & (x != 1)):
            raise ValueError("codeword must hold only 0 and 1")
        x = x.copy()
        syn = (Hc @ x) % 2
        if np.any(syn):
            raise ValueError(f"codeword is not in the code: check {int(np.flatnonzero(syn)[0])} fails")
    if rank is None and (compute_rank or (compute_rank is None and n <= RANK_AUTO_MAX_N)):
        rank = int(_echelon(_pack(Hc), n).size)

    y, L, facts = _transmit(x, channel, p, sigma, rng)

    g = FactorGraph()
    g.add_variables(n)
    g.add_parity_checks(Hc.copy())
    g.add_log_evidence(np.arange(n, dtype=INDEX), L)
    meta = {
        "kind": "ldpc",
        "channel": channel,
        "p": p,
        "sigma": sigma,
        "codeword": kind,
        "seed": recorded,
        "n": n,
        "m": m,
        "rank": rank,
        "design_rate": 1.0 - m / n,
        "rate": None if rank is None else (n - rank) / n,
        **facts,
        "y": y,
        "H": Hc,
    }
    return Problem(graph=g.compile(), truth=x, meta=meta)
