"""Numba kernels of GAMP: the fused dense sweep, the lifted sweeps and the prior step.

One iteration of GAMP (docs/theory.md §6.4) is two kernel calls:

1. a **sweep over the rows** mu of F that reads every entry of F once::

       V_mu     = sum_i F_mu,i^2 v_i                      (floored at V_MIN)
       omega_mu = sum_i F_mu,i xhat_i - V_mu g_mu          (Onsager term: the previous g)
       g_mu, dg_mu = g_out, dg_out(y_mu, omega_mu, V_mu)
       a_i += F_mu,i g_mu ;  b_i += F_mu,i^2 (-dg_mu)      (while row mu is in cache)

   Rows are taken in blocks of ``ROW_BLOCK`` = 8: the first pass over a block
   forms its 16 dot products (x and v are loaded once per 8 rows), the channel
   runs on the 8 rows, and the second pass adds the 8 rows into ``a, b`` from
   the L2 cache (one read-modify-write of ``a, b`` per 8 rows).  Threads own
   contiguous ranges of rows and accumulate into their own partial vectors
   ``A[c], B[c]``, which the prior step sums.
2. the **prior step** over the variables (one thread per block of i)::

       a_i = sum_c A[c, i] ;  b_i = sum_c B[c, i]
       Sigma_i = 1 / b_i ;  r_i = xhat_i + Sigma_i a_i
       xhat_i, v_i <- (1 - damping) (f_in, v_in)(r_i, Sigma_i) + damping (xhat_i, v_i)

   Where ``b_i <= b_min`` (the driver passes ``b_min = INFO_MIN / Var x``: the
   message on i is weaker than 1e-10 of the prior's own precision, or b_i is not
   positive because of a channel that is not log-concave) ``xhat_i, v_i`` keep
   their values.  Without this guard, noiseless channels break down at finite N
   once the weights are recovered: v_i underflows, V_mu drops far below the
   smallest margin z_mu^2, every g_mu underflows and the next iteration returns
   the prior mean (the perceptron at N = 1000, alpha = 2.5 cycles with period 6
   between overlap 1 and 0).

``variance='scalar'`` replaces every F_mu,i^2 by ``sbar = |F|_F^2 / (P N)``
(uniform-variance GAMP): ``V = sbar sum_i v_i`` and ``b = sbar sum_mu (-dg_mu)``
are then scalars and the sweep skips the squares.

**Lifted operator** (an M-cover of the dense graph).  Factor copy (mu, m) reads
weight copy (i, pi_mu,i(m))::

    omega_mu,m = sum_i F_mu,i xhat[i, pi_mu,i(m)] - V_mu,m g_mu,m
    V_mu,m     = sum_i F_mu,i^2 v[i, pi_mu,i(m)]
    a[i, m']   = sum_mu F_mu,i g[mu, pi_mu,i^-1(m')]

:func:`lifted_sweep` (the fused operator) reads F and the permutations once:
row mu scatters ``F g[mu, m]`` into ``A[c, i, pi_mu,i(m)]`` of its thread's own
partial array, which is the inverse-permutation gather written from the row's
side.  :func:`lifted_rows` and :func:`lifted_cols` are the two-pass reference:
the gathers through ``pi`` over rows, then the transpose as gathers through
the precomputed inverse permutations, one thread per block of variables i.

Kernels take arrays and scalars only (denoisers are dispatched by their integer
codes inside :mod:`algorithms.denoisers.kernels`); the sweeps and the prior step,
which need many of them, take them grouped in NamedTuples: one of the problem
(read only: F, y, the channel; the permutations of a lift) and one of the state
and scratch buffers (read and written: xhat, v over the weights i; g, dg, omega,
V over the examples mu; the per-thread partial sums), :class:`DenseData` and
:class:`DenseState` for :func:`dense_sweep`, :class:`LiftedData` and
:class:`LiftedState` (copies m as the last axis) for :func:`lifted_sweep`, and
:class:`PriorUpdate` for :func:`prior_step`.  The dot products use
``fastmath={'reassoc', 'contract'}`` so that LLVM vectorises the reductions;
no finiteness is assumed.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from fgraph.jit import njit, pjit, prange

from ..denoisers.kernels import channel_gout, prior_fin

__all__ = [
    "ROW_BLOCK",
    "V_MIN",
    "INFO_MIN",
    "DenseData",
    "DenseState",
    "LiftedData",
    "LiftedState",
    "PriorUpdate",
    "dense_sweep",
    "prior_step",
    "lifted_sweep",
    "lifted_rows",
    "lifted_cols",
    "check_perms",
    "compact_perms",
    "invert_perms",
]

#: Rows per block of the fused dense sweep.
ROW_BLOCK = 8
#: Floor on the channel variance V (the sign channel divides by sqrt V).
V_MIN = 1e-30
#: A variable keeps its estimate where its precision b_i is below INFO_MIN / Var x.
INFO_MIN = 1e-10

FASTMATH = {"reassoc", "contract"}


# ----------------------------------------------------------------------------- argument tuples
class DenseData(NamedTuple):
    """The problem a dense sweep reads: the P examples mu (rows of F), their labels and the channel.

    Attributes
    ----------
    F : float64 or float32 (P, N), C-contiguous
        Data matrix in the working dtype (row mu: example mu, column i: weight i).
    y : float64 (P,)
        Labels y_mu.
    ch_code : int
        Channel code (:mod:`algorithms.denoisers.kernels`).
    ch_params : float64 (k,)
        Channel parameters.
    full : bool
        True: the full variances (F_mu,i^2).  False: the scalar variance
        (``variance='scalar'``: every F_mu,i^2 replaced by ``sbar``).
    """

    F: np.ndarray
    y: np.ndarray
    ch_code: int
    ch_params: np.ndarray
    full: bool


class DenseState(NamedTuple):
    """The buffers a dense sweep reads and writes: the weight state (i), the factor state (mu), partial sums.

    Attributes
    ----------
    xhat, v : working dtype (N,)
        Means and variances of the weights x_i (read by the sweep, updated by
        :func:`prior_step`).
    g, dg : working dtype (P,)
        In: the previous g_mu (Onsager term).  Out: the new g_out, dg_out.
    omega, V : float64 (P,)
        Out: the channel inputs omega_mu, V_mu of this iteration.
    A, B : working dtype (C, N)
        Out: the partial sums of ``F^T g`` and ``(F^2)^T (-dg)`` of the C row
        chunks (one per thread; B is untouched in scalar mode).
    bsum : float64 (C,)
        Out (scalar mode): the partial sums of ``-dg_mu`` of the chunks (0 in full mode).
    """

    xhat: np.ndarray
    v: np.ndarray
    g: np.ndarray
    dg: np.ndarray
    omega: np.ndarray
    V: np.ndarray
    A: np.ndarray
    B: np.ndarray
    bsum: np.ndarray


class LiftedData(NamedTuple):
    """The problem a lifted sweep reads: the dense F, the M-cover's permutations, labels and channel.

    Attributes
    ----------
    F : float64 or float32 (P, N)
        Data matrix of the base graph (shared by the M copies of every edge).
    perm : unsigned int (P, N, M)
        ``perm[mu, i, m] = pi_mu,i(m)``: factor copy (mu, m) reads weight copy
        (i, perm[mu, i, m]).
    y : float64 (P,)
        Labels y_mu, shared by the M copies of factor mu.
    ch_code : int
    ch_params : float64 (k,)
    full : bool
        True: F_mu,i^2.  False: every F_mu,i^2 replaced by ``sbar`` (scalar variance).
    sbar : float
        The mean square entry of F (unused when ``full``).
    """

    F: np.ndarray
    perm: np.ndarray
    y: np.ndarray
    ch_code: int
    ch_params: np.ndarray
    full: bool
    sbar: float


class LiftedState(NamedTuple):
    """The buffers a lifted sweep reads and writes: weight copies (i, m), factor copies (mu, m), partials.

    Attributes
    ----------
    xhat, v : working dtype (N, M)
        Means and variances of the weight copies.
    g, dg : float64 (P, M)
        In: the previous g of each factor copy (Onsager term).  Out: the new g_out, dg_out.
    omega, V : float64 (P, M)
        Out: the channel inputs of the factor copies.
    A, B : float64 (C, N, M)
        Out: the partial sums of ``F~^T g`` and ``(F~^2)^T (-dg)`` of the C row chunks.
    S : float64 (C, 2, M)
        Scratch: the M running sums of omega and V of the current row, per chunk.
    """

    xhat: np.ndarray
    v: np.ndarray
    g: np.ndarray
    dg: np.ndarray
    omega: np.ndarray
    V: np.ndarray
    A: np.ndarray
    B: np.ndarray
    S: np.ndarray


class PriorUpdate(NamedTuple):
    """The constants of the prior step: the prior denoiser, the damping, the guard and the variance mode.

    Attributes
    ----------
    pr_code : int
        Prior code (:mod:`algorithms.denoisers.kernels`).
    pr_params : float64 (k,)
        Prior parameters.
    damping : float in [0, 1)
        Weight of the old ``xhat_i, v_i`` in the update.
    b_min : float
        Weights whose precision ``b_i`` is not above ``b_min`` keep their
        ``xhat_i, v_i`` (see the module docstring).
    scalar_b : bool
        Use the one precision ``b_scalar`` passed to :func:`prior_step` for
        every weight (``variance='scalar'``, dense operator) instead of the
        partial sums B.
    """

    pr_code: int
    pr_params: np.ndarray
    damping: float
    b_min: float
    scalar_b: bool


# ----------------------------------------------------------------------------- channel
@njit
def _channel_rows(data, state, lo, hi):
    """Rows lo..hi-1: omega, V hold the raw sums on entry; apply floor, Onsager term, channel."""
    code, params, y = data.ch_code, data.ch_params, data.y
    g, dg, omega, V = state.g, state.dg, state.omega, state.V
    for mu in range(lo, hi):
        Vm = V[mu]
        if not Vm > V_MIN:
            Vm = V_MIN
        om = omega[mu] - Vm * g[mu]
        gg, dd, _ = channel_gout(code, params, y[mu], om, Vm)
        omega[mu] = om
        V[mu] = Vm
        g[mu] = gg
        dg[mu] = dd


# ----------------------------------------------------------------------------- dense
@njit(fastmath=FASTMATH)
def _dense_rows_full(data, state, c, lo, hi):
    """Chunk c: fused sweep over rows lo..hi-1 with the full variances; adds into A[c], B[c] (zeroed here)."""
    F = data.F
    xhat, v, g, dg, omega, V = state.xhat, state.v, state.g, state.dg, state.omega, state.V
    a = state.A[c]
    b = state.B[c]
    N = F.shape[1]
    for i in range(N):
        a[i] = 0.0
        b[i] = 0.0
    zero = a[0]  # 0 in the working dtype (float32 stays float32)
    mu = lo
    while mu + 8 <= hi:
        # one 2-D view of the 8 rows: a single base pointer, so the loops below need
        # no run-time alias checks against a and b and stay vectorised
        blk = F[mu : mu + 8]
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = zero
        t0 = t1 = t2 = t3 = t4 = t5 = t6 = t7 = zero
        for i in range(N):
            xi = xhat[i]
            vi = v[i]
            f = blk[0, i]
            s0 += f * xi
            t0 += f * f * vi
            f = blk[1, i]
            s1 += f * xi
            t1 += f * f * vi
            f = blk[2, i]
            s2 += f * xi
            t2 += f * f * vi
            f = blk[3, i]
            s3 += f * xi
            t3 += f * f * vi
            f = blk[4, i]
            s4 += f * xi
            t4 += f * f * vi
            f = blk[5, i]
            s5 += f * xi
            t5 += f * f * vi
            f = blk[6, i]
            s6 += f * xi
            t6 += f * f * vi
            f = blk[7, i]
            s7 += f * xi
            t7 += f * f * vi
        omega[mu] = s0
        omega[mu + 1] = s1
        omega[mu + 2] = s2
        omega[mu + 3] = s3
        omega[mu + 4] = s4
        omega[mu + 5] = s5
        omega[mu + 6] = s6
        omega[mu + 7] = s7
        V[mu] = t0
        V[mu + 1] = t1
        V[mu + 2] = t2
        V[mu + 3] = t3
        V[mu + 4] = t4
        V[mu + 5] = t5
        V[mu + 6] = t6
        V[mu + 7] = t7
        _channel_rows(data, state, mu, mu + 8)
        g0 = g[mu]
        g1 = g[mu + 1]
        g2 = g[mu + 2]
        g3 = g[mu + 3]
        g4 = g[mu + 4]
        g5 = g[mu + 5]
        g6 = g[mu + 6]
        g7 = g[mu + 7]
        d0 = -dg[mu]
        d1 = -dg[mu + 1]
        d2 = -dg[mu + 2]
        d3 = -dg[mu + 3]
        d4 = -dg[mu + 4]
        d5 = -dg[mu + 5]
        d6 = -dg[mu + 6]
        d7 = -dg[mu + 7]
        for i in range(N):
            e0 = blk[0, i]
            e1 = blk[1, i]
            e2 = blk[2, i]
            e3 = blk[3, i]
            e4 = blk[4, i]
            e5 = blk[5, i]
            e6 = blk[6, i]
            e7 = blk[7, i]
            a[i] += e0 * g0 + e1 * g1 + e2 * g2 + e3 * g3 + e4 * g4 + e5 * g5 + e6 * g6 + e7 * g7
            b[i] += (e0 * e0 * d0 + e1 * e1 * d1 + e2 * e2 * d2 + e3 * e3 * d3
                     + e4 * e4 * d4 + e5 * e5 * d5 + e6 * e6 * d6 + e7 * e7 * d7)
        mu += 8
    while mu < hi:  # the last hi - lo mod 8 rows, one at a time
        r0 = F[mu]
        s0 = zero
        t0 = zero
        for i in range(N):
            f = r0[i]
            s0 += f * xhat[i]
            t0 += f * f * v[i]
        omega[mu] = s0
        V[mu] = t0
        _channel_rows(data, state, mu, mu + 1)
        g0 = g[mu]
        d0 = -dg[mu]
        for i in range(N):
            e0 = r0[i]
            a[i] += e0 * g0
            b[i] += e0 * e0 * d0
        mu += 1


@njit(fastmath=FASTMATH)
def _dense_rows_scalar(data, state, Vs, c, lo, hi):
    """Chunk c: fused sweep over rows lo..hi-1 with the scalar variance Vs into A[c]; returns sum of -dg."""
    F = data.F
    xhat, g, dg, omega, V = state.xhat, state.g, state.dg, state.omega, state.V
    a = state.A[c]
    N = F.shape[1]
    for i in range(N):
        a[i] = 0.0
    zero = a[0]
    nd = 0.0
    mu = lo
    while mu + 8 <= hi:
        blk = F[mu : mu + 8]  # one base pointer (see _dense_rows_full)
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = zero
        for i in range(N):
            xi = xhat[i]
            s0 += blk[0, i] * xi
            s1 += blk[1, i] * xi
            s2 += blk[2, i] * xi
            s3 += blk[3, i] * xi
            s4 += blk[4, i] * xi
            s5 += blk[5, i] * xi
            s6 += blk[6, i] * xi
            s7 += blk[7, i] * xi
        omega[mu] = s0
        omega[mu + 1] = s1
        omega[mu + 2] = s2
        omega[mu + 3] = s3
        omega[mu + 4] = s4
        omega[mu + 5] = s5
        omega[mu + 6] = s6
        omega[mu + 7] = s7
        for r in range(8):
            V[mu + r] = Vs
        _channel_rows(data, state, mu, mu + 8)
        for r in range(8):
            nd -= dg[mu + r]
        g0 = g[mu]
        g1 = g[mu + 1]
        g2 = g[mu + 2]
        g3 = g[mu + 3]
        g4 = g[mu + 4]
        g5 = g[mu + 5]
        g6 = g[mu + 6]
        g7 = g[mu + 7]
        for i in range(N):
            a[i] += (blk[0, i] * g0 + blk[1, i] * g1 + blk[2, i] * g2 + blk[3, i] * g3
                     + blk[4, i] * g4 + blk[5, i] * g5 + blk[6, i] * g6 + blk[7, i] * g7)
        mu += 8
    while mu < hi:
        r0 = F[mu]
        s0 = zero
        for i in range(N):
            s0 += r0[i] * xhat[i]
        omega[mu] = s0
        V[mu] = Vs
        _channel_rows(data, state, mu, mu + 1)
        nd -= dg[mu]
        g0 = g[mu]
        for i in range(N):
            a[i] += r0[i] * g0
        mu += 1
    return nd


@pjit
def dense_sweep(data, state, Vs):
    """One fused pass over the rows of a dense F (step 1 of the module docstring).

    Parameters
    ----------
    data : DenseData
        F, y, the channel and the variance mode (read only).
    state : DenseState
        Reads ``xhat, v`` and the previous ``g``; writes ``g, dg, omega, V`` and
        the partial sums ``A, B`` (full mode) or ``A, bsum`` (scalar mode) of the
        ``C = A.shape[0]`` row chunks, one per thread.
    Vs : float
        Scalar variance ``sbar sum_i v_i`` (``variance='scalar'``; unused when ``data.full``).
    """
    P = data.F.shape[0]
    C = state.A.shape[0]
    bsum = state.bsum
    for c in prange(C):
        lo = c * P // C
        hi = (c + 1) * P // C
        if data.full:
            _dense_rows_full(data, state, c, lo, hi)
            bsum[c] = 0.0
        else:
            bsum[c] = _dense_rows_scalar(data, state, Vs, c, lo, hi)


# ----------------------------------------------------------------------------- prior step
@pjit
def prior_step(prior, A, B, xhat, v, b_scalar):
    """Prior denoiser over every variable, with damping (step 2 of the module docstring).

    Parameters
    ----------
    prior : PriorUpdate
        The prior denoiser, damping, guard ``b_min`` and the switch ``scalar_b``.
    A, B : float (C, n)
        Partial sums of ``F^T g`` and ``(F^2)^T (-dg)`` (B unused when
        ``prior.scalar_b``).  For a lifted state ``n = N M`` (flattened (N, M)).
    xhat, v : working dtype (n,)
        Updated in place.
    b_scalar : float
        ``sbar sum_mu (-dg_mu)``, the precision of every variable when
        ``prior.scalar_b`` (unused otherwise).

    Returns
    -------
    float
        ``sum_i (xhat_i(new) - xhat_i(old))^2`` (as stored).
    """
    pr_code, pr_params, damping = prior.pr_code, prior.pr_params, prior.damping
    scalar_b, b_min = prior.scalar_b, prior.b_min
    C, n = A.shape
    acc = 0.0
    for i in prange(n):
        a = 0.0
        b = 0.0
        for c in range(C):
            a += A[c, i]
        if scalar_b:
            b = b_scalar
        else:
            for c in range(C):
                b += B[c, i]
        xo = xhat[i] + 0.0
        vo = v[i] + 0.0
        if b > b_min:
            Sigma = 1.0 / b
            f, vv, _ = prior_fin(pr_code, pr_params, xo + Sigma * a, Sigma)
            xhat[i] = (1.0 - damping) * f + damping * xo
            v[i] = (1.0 - damping) * vv + damping * vo
        d = xhat[i] - xo
        acc += d * d
    return acc


# ----------------------------------------------------------------------------- lifted
@njit
def _channel_row_lifted(code, params, y_mu, g, dg, omega, V):
    """The M copies of one factor: floor, Onsager term and channel (shared label y_mu)."""
    for m in range(g.shape[0]):
        Vm = V[m]
        if not Vm > V_MIN:
            Vm = V_MIN
        om = omega[m] - Vm * g[m]
        gg, dd, _ = channel_gout(code, params, y_mu, om, Vm)
        omega[m] = om
        V[m] = Vm
        g[m] = gg
        dg[m] = dd


@njit
def _lifted_rows(data, state, c, lo, hi):
    """Chunk c, rows lo..hi-1 of the fused lifted operator: gathers, channel, scatter into A[c], B[c].

    A[c], B[c] are zeroed here; S[c] holds the M running sums of the current row.
    """
    F, perm, y, ch_code, ch_params = data.F, data.perm, data.y, data.ch_code, data.ch_params
    full, sbar = data.full, data.sbar
    xhat, v, g, dg, omega, V = state.xhat, state.v, state.g, state.dg, state.omega, state.V
    A = state.A[c]
    B = state.B[c]
    s1 = state.S[c, 0]
    s2 = state.S[c, 1]
    N = F.shape[1]
    M = xhat.shape[1]
    for i in range(N):
        for m in range(M):
            A[i, m] = 0.0
            B[i, m] = 0.0
    for mu in range(lo, hi):
        for m in range(M):
            s1[m] = 0.0
            s2[m] = 0.0
        for i in range(N):
            f = F[mu, i] + 0.0
            f2 = f * f if full else sbar
            p = perm[mu, i]
            xi = xhat[i]
            vi = v[i]
            for m in range(M):
                k = p[m]
                s1[m] += f * xi[k]
                s2[m] += f2 * vi[k]
        for m in range(M):
            omega[mu, m] = s1[m]
            V[mu, m] = s2[m]
        _channel_row_lifted(ch_code, ch_params, y[mu], g[mu], dg[mu], omega[mu], V[mu])
        gm = g[mu]
        dm = dg[mu]
        for i in range(N):
            f = F[mu, i] + 0.0
            f2 = f * f if full else sbar
            p = perm[mu, i]
            Ai = A[i]
            Bi = B[i]
            for m in range(M):
                k = p[m]
                Ai[k] += f * gm[m]
                Bi[k] -= f2 * dm[m]


@pjit
def lifted_sweep(data, state):
    """Fused lifted operator: gathers through ``perm``, channel, scatter into per-thread partials.

    Parameters
    ----------
    data : LiftedData
        F, the permutations, y, the channel and the variance mode (read only).
    state : LiftedState
        Reads ``xhat, v`` and the previous ``g``; writes ``g, dg, omega, V`` and
        the partial sums ``A, B`` of the ``C = A.shape[0]`` row chunks (one per
        thread), using ``S`` as scratch.
    """
    P = data.F.shape[0]
    C = state.A.shape[0]
    for c in prange(C):
        lo = c * P // C
        hi = (c + 1) * P // C
        _lifted_rows(data, state, c, lo, hi)


@pjit
def lifted_rows(F, perm, xhat, v, full, sbar, omega, V, n_chunks):
    """Reference gathers: raw ``omega`` (before the Onsager term) and ``V`` (before the floor).

    Parameters
    ----------
    F : float (P, N)
    perm : unsigned int (P, N, M)
    xhat, v : float (N, M)
    full : bool
        True: F^2; False: every F^2 replaced by ``sbar``.
    sbar : float
    omega, V : float64 (P, M)
        Out: ``sum_i F xhat[i, pi(m)]`` and ``sum_i F^2 v[i, pi(m)]``.
    n_chunks : int
        Row chunks (one per thread).
    """
    P, N = F.shape
    M = xhat.shape[1]
    for c in prange(n_chunks):
        lo = c * P // n_chunks
        hi = (c + 1) * P // n_chunks
        for mu in range(lo, hi):
            for m in range(M):
                omega[mu, m] = 0.0
                V[mu, m] = 0.0
            for i in range(N):
                f = F[mu, i] + 0.0
                f2 = f * f if full else sbar
                for m in range(M):
                    k = perm[mu, i, m]
                    omega[mu, m] += f * xhat[i, k]
                    V[mu, m] += f2 * v[i, k]


@pjit
def lifted_cols(FT, iperm, g, dg, full, sbar, A, B):
    """Reference transpose, one thread per block of variables: gathers through the inverse permutations.

    Parameters
    ----------
    FT : float (N, P), C-contiguous
        The transpose of F.
    iperm : unsigned int (N, P, M)
        ``iperm[i, mu, m'] = pi_mu,i^-1(m')``.
    g, dg : float64 (P, M)
    full : bool
        True: F^2; False: every F^2 replaced by ``sbar``.
    sbar : float
    A, B : float64 (N, M)
        Out: ``A[i, m'] = sum_mu F_mu,i g[mu, pi^-1(m')]``, ``B`` likewise with
        ``F^2`` and ``-dg``.
    """
    N, P = FT.shape
    M = A.shape[1]
    for i in prange(N):
        for m in range(M):
            A[i, m] = 0.0
            B[i, m] = 0.0
        for mu in range(P):
            f = FT[i, mu] + 0.0
            f2 = f * f if full else sbar
            for m in range(M):
                k = iperm[i, mu, m]
                A[i, m] += f * g[mu, k]
                B[i, m] -= f2 * dg[mu, k]


# ----------------------------------------------------------------------------- permutations
@njit
def check_perms(perms, M):
    """First row of ``perms`` (E, M) that is not a permutation of 0..M-1, or -1.

    Examples
    --------
    >>> import numpy as np
    >>> check_perms(np.array([[0, 1], [1, 0]]), 2), check_perms(np.array([[0, 1], [1, 1]]), 2)
    (-1, 1)
    """
    E = perms.shape[0]
    seen = np.zeros(M, dtype=np.bool_)
    for e in range(E):
        for m in range(M):
            seen[m] = False
        for m in range(M):
            k = perms[e, m]
            if k < 0 or k >= M or seen[k]:
                return e
            seen[k] = True
    return -1


@njit
def compact_perms(perms, out):
    """Copy ``perms`` (E, M) into ``out`` (E, M) of a smaller integer dtype (values already checked)."""
    E, M = perms.shape
    for e in range(E):
        for m in range(M):
            out[e, m] = perms[e, m]


@pjit
def invert_perms(perm, out):
    """``out[i, mu, perm[mu, i, m]] = m``: the inverse permutations, variable-major.

    Parameters
    ----------
    perm : unsigned int (P, N, M)
    out : same dtype (N, P, M)

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([[[1, 2, 0]]], dtype=np.uint8)
    >>> out = np.empty_like(p); invert_perms(p, out); out.tolist()
    [[[2, 0, 1]]]
    """
    P, N, M = perm.shape
    for i in prange(N):
        for mu in range(P):
            for m in range(M):
                out[i, mu, perm[mu, i, m]] = m
