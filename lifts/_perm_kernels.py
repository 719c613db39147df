"""Numba kernels of permutation sampling: subset DP, exact sampling, Metropolis chains, per-edge RNG.

Everything here takes arrays and scalars only (the policy of :mod:`fgraph.jit`);
the public API and all input checks live in :mod:`lifts.kernels`.

Subset DP (docs/theory.md §4.5, §4.6).  Subsets of the columns are bit masks ``S``.
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
def mcmc_start(Q, start, state, perms, group):
    """Start one Metropolis chain per row of ``perms`` (int64 (n, M)).

    A fair coin from the chain's own stream picks its start family, written to
    ``group`` (int64 (n,)):

    * 0, "cold": ``start`` (int64 (M,)), the maximum-weight permutation;
    * 1, "hot": a uniform random permutation (Fisher-Yates).  If that has
      weight 0 (``Q``, float64 (M, M), has zeros), the chain instead starts at
      ``start`` and takes 4 M uniform random transpositions, each kept iff both
      new entries of Q are positive: a walk towards the uniform law on the
      support of Q.
    """
    n, M = perms.shape
    for e in prange(n):
        seed_check(state, e)
        hot = next_u32(state, e) & 1
        group[e] = hot
        if hot:
            for m in range(M):
                perms[e, m] = m
            for i in range(M - 1, 0, -1):
                j = int(uniform53(state, e) * (i + 1))
                if j > i:
                    j = i
                tmp = perms[e, i]
                perms[e, i] = perms[e, j]
                perms[e, j] = tmp
            positive = True
            for m in range(M):
                if not Q[m, perms[e, m]] > 0.0:
                    positive = False
            if positive:
                continue
        for m in range(M):
            perms[e, m] = start[m]
        if hot and M > 1:
            for _ in range(4 * M):
                a = (next_u32(state, e) * M) >> 32
                b = (next_u32(state, e) * (M - 1)) >> 32
                b += b >= a
                pa = perms[e, a]
                pb = perms[e, b]
                if Q[a, pb] > 0.0 and Q[b, pa] > 0.0:
                    perms[e, a] = pb
                    perms[e, b] = pa


@njit(inline="always")
def _draw_weighted(h, total, skip, u, M):
    """Index i != skip drawn with probability ``h[i] / total`` (``total`` = the sum of h without skip)."""
    target = u * total
    cum = 0.0
    pick = -1
    for i in range(M):
        if i == skip:
            continue
        hi = h[i]
        if hi > 0.0:
            cum += hi
            pick = i  # rounding: the scan may end below target; keep the last positive entry
            if cum > target:
                break
    return pick


@pjit
def mcmc_advance(Q, logQ, H, use_log, n_sweeps, state, perms):
    """Advance the Metropolis chains in ``perms`` (int64 (n, M), row e = chain e) by ``n_sweeps`` sweeps.

    Target: the permanental law ``w(pi) = prod_m Q[m, pi(m)]``.  ``Q`` is the
    balanced weight matrix and ``logQ`` its log (``-inf`` at zeros), float64
    (M, M); ``H`` (float64 (M, M), >= 1 where Q > 0) the badness
    ``min(cap, max_c Q[m, c] / Q[m, c'])`` of row m sitting on column c';
    ``use_log`` compares acceptance ratios as sums of logs (the caller sets it
    when products of two entries of Q could underflow).

    A sweep is M transposition proposals and one rotation.  A transposition
    swaps the images of rows a != b; each proposal picks its kind from two bits
    of the stream, independently of the state (a mixture of kernels, each in
    detailed balance):

    * 1/4 ring neighbours (a, a+1 mod M), 1/4 a uniform pair: symmetric
      proposals, accepted with probability ``min(1, w(new) / w(old))``;
    * 1/2 informed pair: a, then b != a, each drawn with probability
      proportional to the badness ``h[m] = H[m, pi(m)]`` (O(M) scans), so rows
      stuck on poor columns (e.g. off their block) are picked together and
      repaired.  The unordered pair has proposal probability
      ``q = h_a h_b / Ht (1 / (Ht - h_a) + 1 / (Ht - h_b))`` (Ht: the sum of
      h), and the move is accepted with the Metropolis-Hastings probability
      ``min(1, w(new) q_rev / (w(old) q))``, q_rev from the badness after the
      swap, so the law stays exact.  Without the cap, ``w(new) / w(old)``
      cancels against the h factors and only the normalisers remain.

    The rotation ``pi(m) -> pi(m) + d mod M`` (d = +1 or -1, symmetric) moves
    between the winding classes of circulant kernels, which transpositions
    cross only through states of negligible weight.  Entries where Q is 0 are
    never entered.  Every draw comes from the chain's own stream; rows of
    ``perms`` and ``state`` are written by their own thread only.
    """
    n, M = perms.shape
    if M < 2:
        return
    for e in prange(n):
        h = np.empty(M)
        for _ in range(n_sweeps):
            htot = 0.0  # recomputed every sweep: no drift of the running sum
            for m in range(M):
                h[m] = H[m, perms[e, m]]
                htot += h[m]
            for _step in range(M):
                kind = next_u32(state, e) & 3
                if kind < 2:
                    a = (next_u32(state, e) * M) >> 32
                    if kind == 0:
                        b = a + 1 - M * (a + 1 == M)
                    else:
                        b = (next_u32(state, e) * (M - 1)) >> 32
                        b += b >= a
                else:
                    a = _draw_weighted(h, htot, -1, uniform53(state, e), M)
                    b = _draw_weighted(h, htot - h[a], a, uniform53(state, e), M)
                pa = perms[e, a]
                pb = perms[e, b]
                if not (Q[a, pb] > 0.0 and Q[b, pa] > 0.0):
                    continue
                ha = H[a, pb]
                hb = H[b, pa]
                qratio = 1.0
                if kind >= 2:
                    h2 = htot - h[a] - h[b] + ha + hb
                    q_fwd = h[a] * h[b] / htot * (1.0 / (htot - h[a]) + 1.0 / (htot - h[b]))
                    q_rev = ha * hb / h2 * (1.0 / (h2 - ha) + 1.0 / (h2 - hb))
                    qratio = q_rev / q_fwd
                if use_log:
                    u = (next_u32(state, e) + 1) * INV_2_32
                    accept = (np.log(u) + logQ[a, pa] + logQ[b, pb]
                              < logQ[a, pb] + logQ[b, pa] + np.log(qratio))
                else:
                    u = next_u32(state, e) * INV_2_32
                    accept = u * (Q[a, pa] * Q[b, pb]) < Q[a, pb] * Q[b, pa] * qratio
                if accept:
                    perms[e, a] = pb
                    perms[e, b] = pa
                    htot += ha + hb - h[a] - h[b]
                    h[a] = ha
                    h[b] = hb
            d = 1 if next_u32(state, e) & 1 else M - 1
            delta = 0.0
            for m in range(M):
                p = perms[e, m]
                q = p + d
                if q >= M:
                    q -= M
                delta += logQ[m, q] - logQ[m, p]
            if np.log((next_u32(state, e) + 1) * INV_2_32) < delta:
                for m in range(M):
                    q = perms[e, m] + d
                    if q >= M:
                        q -= M
                    perms[e, m] = q


@pjit
def chain_statistics(F, perms, out):
    """``out[e, k] = sum_m F[k, m, perms[e, m]]``: linear statistics of the chains' permutations.

    ``F`` float64 (K, M, M), ``perms`` int64 (n, M), ``out`` float64 (n, K).
    """
    n, M = perms.shape
    K = F.shape[0]
    for e in prange(n):
        for k in range(K):
            acc = 0.0
            for m in range(M):
                acc += F[k, m, perms[e, m]]
            out[e, k] = acc
