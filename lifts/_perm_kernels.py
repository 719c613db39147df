"""Numba kernels of permutation sampling: subset DP, exact sampling, MCMC swaps, per-edge RNG.

Everything here takes arrays and scalars only (the policy of :mod:`fgraph.jit`);
the public API and all input checks live in :mod:`lifts.kernels`.

Subset DP (SCIENCE.md section 3).  Subsets of the columns are bit masks ``S``.
``g[S]`` is the permanent of rows ``M-|S| .. M-1`` on the columns of ``S`` and
``f[T]`` the permanent of rows ``0 .. |T|-1`` on the columns of ``T``::

    g[0] = 1,   g[S] = sum_{c in S} Q[M-|S|, c] * g[S - {c}]
    f[0] = 1,   f[T] = sum_{c in T} Q[|T|-1, c] * f[T - {c}]
    perm Q = g[full] = f[full]
    Pbar[r, c] = Q[r, c] * sum_{|T| = r, c not in T} f[T] * g[full - T - {c}] / perm Q

Masks are visited in increasing integer order (``S - {c} < S``).  The caller
passes a matrix whose rows sum to 1 (Sinkhorn-balanced, then row-normalised),
so every level sum ``sum_{|S|=k} g[S]`` is at most 1: nothing overflows, and
entries that underflow carry a probability below 1e-300.

Exact sampling walks the table from the full set: row ``r`` takes column ``c``
of ``S`` with probability ``Q[r, c] g[S - {c}] / g[S]``.  The cumulative sum is
accumulated in the same order as the table, so it ends at ``g[S]`` bit for bit.

Random numbers.  Each edge owns a xoshiro128** stream (Blackman & Vigna): its
four 32-bit words of state are row ``e`` of an int64 array ``state`` drawn by
numpy from the user's seed.  All arithmetic stays below 2**63 (32-bit words in
int64, products by 5 and 9), so JIT and pure-Python runs agree, and the result
of edge ``e`` depends on its row only: identical for any number of threads.
``prange`` loops write rows ``e`` of ``out`` and ``state`` only.
"""

from __future__ import annotations

import numpy as np

from fgraph.jit import njit, pjit, prange

MASK32 = 0xFFFFFFFF
INV_2_53 = 1.0 / 9007199254740992.0
INV_2_32 = 1.0 / 4294967296.0


# ----------------------------------------------------------------- per-edge RNG
@njit(inline="always")
def next_u32(state, e):
    """Advance the xoshiro128** stream of edge ``e``; return a uniform 32-bit integer."""
    s0 = state[e, 0]
    s1 = state[e, 1]
    s2 = state[e, 2]
    s3 = state[e, 3]
    x = (s1 * 5) & MASK32
    x = ((x << 7) | (x >> 25)) & MASK32
    result = (x * 9) & MASK32
    t = (s1 << 9) & MASK32
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = ((s3 << 11) | (s3 >> 21)) & MASK32
    state[e, 0] = s0
    state[e, 1] = s1
    state[e, 2] = s2
    state[e, 3] = s3
    return result


@njit(inline="always")
def seed_check(state, e):
    """Replace the all-zero state (the one fixed point of xoshiro) of edge ``e``."""
    if state[e, 0] == 0 and state[e, 1] == 0 and state[e, 2] == 0 and state[e, 3] == 0:
        state[e, 0] = 1


@njit(inline="always")
def uniform53(state, e):
    """A uniform float64 in [0, 1) with 53 random bits (two 32-bit draws)."""
    a = next_u32(state, e) >> 5
    b = next_u32(state, e) >> 6
    return (a * 67108864.0 + b) * INV_2_53


# ----------------------------------------------------------------- subset DP
@njit
def popcount(S):
    """Number of set bits of a non-negative int."""
    k = 0
    while S:
        S &= S - 1
        k += 1
    return k


@njit
def g_table(Q):
    """float64 (2**M,): ``g[S]`` = permanent of rows M-|S|..M-1 on columns S."""
    M = Q.shape[0]
    n = 1 << M
    g = np.empty(n)
    g[0] = 1.0
    for S in range(1, n):
        r = M - popcount(S)
        acc = 0.0
        for c in range(M):
            if (S >> c) & 1:
                acc += Q[r, c] * g[S ^ (1 << c)]
        g[S] = acc
    return g


@njit
def f_table(Q):
    """float64 (2**M,): ``f[T]`` = permanent of rows 0..|T|-1 on columns T."""
    M = Q.shape[0]
    n = 1 << M
    f = np.empty(n)
    f[0] = 1.0
    for T in range(1, n):
        r = popcount(T) - 1
        acc = 0.0
        for c in range(M):
            if (T >> c) & 1:
                acc += Q[r, c] * f[T ^ (1 << c)]
        f[T] = acc
    return f


@njit
def marginal_sums(f, g, M):
    """float64 (M, M): ``acc[r, c] = sum_{|T|=r, c not in T} f[T] g[full - T - {c}]``."""
    full = (1 << M) - 1
    acc = np.zeros((M, M))
    for T in range(full):
        fT = f[T]
        if fT == 0.0:
            continue
        r = popcount(T)
        rest = full ^ T
        for c in range(M):
            if (rest >> c) & 1:
                acc[r, c] += fT * g[rest ^ (1 << c)]
    return acc


# ----------------------------------------------------------------- samplers
@pjit
def sample_exact(Q, g, state, out):
    """Exact permanental samples: row ``e`` of ``out`` (int64 (n_edge, M)) gets pi_e.

    ``Q`` is the (row-normalised) weight matrix and ``g`` its table from
    :func:`g_table`; ``state`` (int64 (n_edge, 4)) holds the per-edge streams.
    """
    n_edge, M = out.shape
    full = (1 << M) - 1
    for e in prange(n_edge):
        seed_check(state, e)
        S = full
        for r in range(M):
            target = uniform53(state, e) * g[S]
            cum = 0.0
            pick = -1
            for c in range(M):
                if (S >> c) & 1:
                    w = Q[r, c] * g[S ^ (1 << c)]
                    if w > 0.0:
                        cum += w
                        pick = c
                        if cum > target:
                            break
            out[e, r] = pick
            S ^= 1 << pick


@pjit
def sample_uniform(state, out):
    """Uniform permutations by Fisher-Yates, one per row of ``out`` (int64 (n_edge, M))."""
    n_edge, M = out.shape
    for e in prange(n_edge):
        seed_check(state, e)
        for m in range(M):
            out[e, m] = m
        for i in range(M - 1, 0, -1):
            j = int(uniform53(state, e) * (i + 1))
            if j > i:
                j = i
            tmp = out[e, i]
            out[e, i] = out[e, j]
            out[e, j] = tmp


@pjit
def sample_mcmc(Q, logQ, use_log, floor, start, n_sweeps, state, out):
    """Metropolis chains on permutations, one per row of ``out`` (int64 (n_edge, M)).

    ``Q`` is the balanced weight matrix and ``logQ`` its log (``-inf`` at zeros),
    both float64 (M, M).

    Start: sequential row sampling (row r takes an unused column c with
    probability proportional to ``Q[r, c]``: an approximation of the law that
    spreads the chains over its modes), or ``start`` (int64 (M,), the
    maximum-weight permutation) when that is forced onto an entry below
    ``floor[r]`` (float64 (M,); the caller passes 1e-6 times the row maximum),
    as happens at the end of the rows for local kernels with an EPS floor, or
    finds only zero weights.

    Each of the ``n_sweeps`` sweeps makes M transposition proposals and one
    rotation proposal, all symmetric, each accepted with probability
    ``min(1, w(new) / w(old))``, ``w(pi) = prod_m Q[m, pi(m)]`` (zeros of Q are
    never entered):

    * transposition: a pair of rows (a, b), with probability 1/2 ring neighbours
      (a, a+1 mod M), else a uniform pair a != b; their images are swapped.  The
      ratio is ``Q[a, pi(b)] Q[b, pi(a)] / (Q[a, pi(a)] Q[b, pi(b)])``, compared
      as products of Q (branch-free), or of sums of ``logQ`` when ``use_log``
      (the caller sets it when products of two entries could underflow);
    * rotation: ``pi(m) -> pi(m) + d mod M`` for every m, d = +1 or -1 (ratio
      from ``logQ``).  It moves between the winding classes of circulant
      kernels (e.g. a directional kernel's shifts s and s + 1), which
      transpositions cross only through states of negligible weight.
    """
    n_edge, M = out.shape
    for e in prange(n_edge):
        seed_check(state, e)
        # -- start: sequential row sampling; out[e, r:] holds the unused columns
        for m in range(M):
            out[e, m] = m
        ok = True
        for r in range(M):
            total = 0.0
            for j in range(r, M):
                total += Q[r, out[e, j]]
            if not total > 0.0:
                ok = False
                break
            target = uniform53(state, e) * total
            cum = 0.0
            pick = -1
            for j in range(r, M):
                w = Q[r, out[e, j]]
                if w > 0.0:
                    cum += w
                    pick = j
                    if cum > target:
                        break
            tmp = out[e, r]
            out[e, r] = out[e, pick]
            out[e, pick] = tmp
            if Q[r, out[e, r]] < floor[r]:
                ok = False
                break
        if not ok:
            for m in range(M):
                out[e, m] = start[m]
        if M < 2:
            continue
        for _ in range(n_sweeps):
            for _step in range(M):
                x = next_u32(state, e)
                y = next_u32(state, e)
                a = ((x >> 1) * M) >> 31
                b_local = a + 1 - M * (a + 1 == M)
                b_any = (y * (M - 1)) >> 32
                b_any += b_any >= a
                b = b_local if x & 1 else b_any
                pa = out[e, a]
                pb = out[e, b]
                if use_log:
                    u = (next_u32(state, e) + 1) * INV_2_32
                    accept = np.log(u) + logQ[a, pa] + logQ[b, pb] < logQ[a, pb] + logQ[b, pa]
                else:
                    u = next_u32(state, e) * INV_2_32
                    accept = u * (Q[a, pa] * Q[b, pb]) < Q[a, pb] * Q[b, pa]
                out[e, a] = pb if accept else pa
                out[e, b] = pa if accept else pb
            d = 1 if next_u32(state, e) & 1 else M - 1
            delta = 0.0
            for m in range(M):
                p = out[e, m]
                q = p + d
                if q >= M:
                    q -= M
                delta += logQ[m, q] - logQ[m, p]
            if np.log((next_u32(state, e) + 1) * INV_2_32) < delta:
                for m in range(M):
                    q = out[e, m] + d
                    if q >= M:
                        q -= M
                    out[e, m] = q
