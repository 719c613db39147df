"""Learning dynamics of a quantized linear model trained online with the straight-through estimator.

The setting of docs/theory.md §9. A teacher labels Gaussian inputs ``x_i ~ N(0, 1)`` as
``y = d^(-1/2) sum_i w*_i x_i + sqrt(Δ) ξ``; the student predicts
``ŷ = d^(-1/2) sum_i φ(ŵ_i) ψ(x_i)``, where φ rounds the latent weights to the weight levels and
ψ rounds the inputs to the input levels (:func:`~algorithms.theory.quantizers.quantize`). One fresh
example per step, the straight-through (STE) update is

    ŵ_i <- ŵ_i + (η / sqrt(d)) (y - ŷ) ψ(x_i) φ̃'(ŵ_i),

with ``φ̃' = 1`` (plain STE) or ``φ̃'(ŵ) = 1[|ŵ| <= ω]`` (clipped STE); time is ``τ = t / d``.

**Constants and error (§9.1).** With ``κ₁ = E[x ψ(x)]`` and ``κ₂ = E[ψ(x)²]`` (:func:`kappas`, in
closed form over the cells of ψ) and a symmetric input quantizer (so ``E ψ = 0``), the error on a
fresh example is ``ε = ρ* - 2 κ₁ m + κ₂ q + Δ`` with ``ρ* = |w*|²/d``, ``m = w*·φ(ŵ)/d`` and
``q = |φ(ŵ)|²/d``: expanding the square, the diagonal terms give ``w*_i² - 2 κ₁ w*_i φ_i + κ₂ φ_i²``
and the cross terms ``i != j`` vanish because ``E x = E ψ = 0`` and the coordinates are
independent. :func:`simulate` runs the online dynamics (§9.2) and records this exact error.

**Mean-field limit (§9.3).** Averaging one step over x gives the drift ``(η/d)(κ₁ w*_i - κ₂ φ_i)``
and a fluctuation of order ``η/sqrt(d)``, so in τ each weight follows

    dŵ/dτ = η φ̃'(ŵ) [κ₁ w* - κ₂ φ(ŵ)] + O(η) noise (diffusion coefficient η² κ₂ ε),

and as η -> 0 the noise is negligible on the time scale 1/η of the drift: the weights follow a
deterministic ODE, independently of each other given ``(w*_i, ŵ_i(0))``. The drift is constant on
each cell of φ, so a trajectory is piecewise linear in τ and is integrated exactly by events
(:func:`ode`): the weight crosses thresholds until it reaches a threshold across which the drift
changes sign, where it stays (a Filippov sliding mode) while φ chatters between the two neighbour
levels ``c_k < c_{k+1}`` with the time fraction ``p = (κ₁ w* - κ₂ c_k) / (κ₂ (c_{k+1} - c_k))`` on the
upper level, which makes the effective drift zero.

**Fixed points (§9.4).** Sliding gives ``E[φ] = κ₁ w* / κ₂`` and

    ε_∞ = ρ* (1 - κ₁²/κ₂) + κ₂ E[(φ - κ₁ w*/κ₂)²] + Δ,

the optimum of an unquantized student plus the cost of the chattering, ``κ₂ p (1 - p)(c_{k+1} -
c_k)²`` (:func:`fixed_point`). When κ₁ w*/κ₂ lies beyond the outer levels the weight runs away and
φ sticks to the outer level; with the clipped STE, weights that start beyond ±ω never move.

**Plateau (§9.5).** Under a mid-tread φ (a zero level) and weights starting near 0, φ = 0 and the
error stays at ``ρ* + Δ`` until the weights drift out of the zero cell, after
``τ_p ≈ s / (2 η κ₁ |w*|)`` (s the level step). :func:`plateau_length` reads τ_p off the ODE as the
median time at which the weights starting in the zero cell leave it.

Examples
--------
>>> from algorithms.theory.quantizers import uniform_levels
>>> k1, k2 = kappas(uniform_levels(2, 2.0, kind="midtread"))
>>> round(k1, 4), round(k2, 4)
(0.9679, 1.2692)
>>> c = uniform_levels(2, 2.0, kind="midrise")
>>> round(fixed_point(c, c, teacher=1.0).gen_error, 3)
0.408
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from scipy.special import ndtr, ndtri

from fgraph.jit import njit

from ._fastrng import _TWO_M53, ZIG_F, ZIG_X, new_state, next_u64, std_normal, zig_rest
from ._ste_common import _clip, _int, _levels, _real, _teacher, kappas
from ._ste_pde import MeanFieldResult, mean_field, stationary_density

__all__ = [
    "FixedPoint",
    "MeanFieldResult",
    "ODEResult",
    "STESimulation",
    "fixed_point",
    "mean_field",
    "stationary_density",
    "kappas",
    "ode",
    "plateau_length",
    "simulate",
]

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


# ----------------------------------------------------------------------------------------------
# online simulation
# ----------------------------------------------------------------------------------------------


@njit(inline="always")
def _cell(x, thr):
    """Index of the nearest level: the number of thresholds <= x (ties go up)."""
    n = thr.shape[0]
    if n <= 8:  # few levels: a branch-free count
        k = 0
        for j in range(n):
            k += thr[j] <= x
        return k
    lo = 0
    hi = n
    while lo < hi:
        mid = (lo + hi) // 2
        if thr[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


class _Tables(NamedTuple):
    """What the simulation kernel reads but never writes: quantizer and ziggurat tables."""

    wlev: np.ndarray   # float64 (L,)   weight levels
    wthr: np.ndarray   # float64 (L-1,) their thresholds (midpoints)
    ilev: np.ndarray   # float64 (L',)  input levels
    ithr: np.ndarray   # float64 (L'-1,)
    zx: np.ndarray     # float64 (257,) ziggurat layer edges
    zf: np.ndarray     # float64 (257,) exp(-x²/2) at the edges


@njit
def _ste_steps(w, phi, wstar, state, psi, n_steps, tab, eta, sqrt_delta, clipped, clip):
    """Run ``n_steps`` online STE steps of one run, in place.

    w, phi, wstar : float64 (d,) latent weights, their rounding, teacher; state : uint64 (4,) the
    run's xoshiro256** stream (advanced); psi : float64 (d,) scratch. Each step draws the d inputs
    x_i ~ N(0, 1) in order, then the label noise ξ when ``sqrt_delta > 0``.
    """
    d = w.shape[0]
    scale = 1.0 / math.sqrt(d)
    zx = tab.zx
    zf = tab.zf
    ilev = tab.ilev
    ithr = tab.ithr
    wlev = tab.wlev
    wthr = tab.wthr
    for _ in range(n_steps):
        y = 0.0
        yh = 0.0
        for i in range(d):
            # ziggurat fast path inline (see _fastrng.std_normal): a call per draw costs 10x
            u = next_u64(state)
            j = np.int64(u & np.uint64(255))
            x = float(u >> np.uint64(11)) * _TWO_M53 * zx[j]
            if x >= zx[j + 1]:
                x = zig_rest(state, zx, zf, u)
            else:
                x *= 1.0 - 2.0 * float((u >> np.uint64(8)) & np.uint64(1))
            p = ilev[_cell(x, ithr)]
            psi[i] = p
            y += wstar[i] * x
            yh += phi[i] * p
        r = (y - yh) * scale
        if sqrt_delta > 0.0:
            r += sqrt_delta * std_normal(state, zx, zf)
        g = eta * scale * r
        for i in range(d):
            wi = w[i]
            if clipped and abs(wi) > clip:
                continue
            wi += g * psi[i]
            w[i] = wi
            phi[i] = wlev[_cell(wi, wthr)]


@dataclass(frozen=True)
class STESimulation:
    """Result of :func:`simulate`.

    Attributes
    ----------
    tau : float64 (T,)
        Recording times τ = t/d (t rounded to whole steps).
    gen_error : float64 (T,)
        Mean over seeds of the exact generalization error.
    gen_error_seeds : float64 (S, T)
        The error per seed.
    snapshots : dict[float, float64 (S, d)]
        Requested τ -> latent weights ŵ at that time (τ rounded to whole steps).
    teacher : float64 (S, d)
        The teacher weights w*.
    kappa1, kappa2 : float
        The input-quantizer constants.
    settings : dict
        d, eta, tau, delta, clipped, clip, init_std, seeds, seed.
    """

    tau: np.ndarray
    gen_error: np.ndarray
    gen_error_seeds: np.ndarray
    snapshots: dict
    teacher: np.ndarray
    kappa1: float
    kappa2: float
    settings: dict = field(default_factory=dict)


def _exact_error(w_star, phi, k1, k2, delta):
    d = w_star.shape[1]
    return (
        np.sum(w_star**2, axis=1) / d
        - 2.0 * k1 * np.sum(w_star * phi, axis=1) / d
        + k2 * np.sum(phi**2, axis=1) / d
        + delta
    )


def simulate(
    weight_levels,
    input_levels,
    *,
    d: int,
    eta: float,
    tau: float,
    teacher="gaussian",
    delta: float = 0.0,
    clipped: bool = False,
    clip=None,
    init_std: float = 1.0,
    seeds: int = 1,
    seed=None,
    snapshots=(),
    n_points: int = 200,
) -> STESimulation:
    """Online STE training of the quantized linear student, one fresh example per step (§9.2).

    Runs ``t = 0 .. round(τ d)`` steps for ``seeds`` independent runs, one Numba kernel call per
    run and recording time, the runs spread over the cores (one thread per run, at most one per
    core). The kernel draws its own inputs (a xoshiro256** stream per run and a ziggurat, seeded
    from ``seed``): at d = 3000 and τ = 100 that is 9·10⁸ normals, which NumPy would draw more
    slowly than the kernel runs the dynamics. A run's result depends only on ``seed`` and its
    index, not on the number of runs or threads. The error recorded is exact for the current
    weights: ``ε = |w*|²/d - 2 κ₁ w*·φ(ŵ)/d + κ₂ |φ(ŵ)|²/d + Δ``, the expectation over a fresh
    example (no test set).

    Parameters
    ----------
    weight_levels, input_levels : array_like, float (L,), (L',)
        Levels of φ and ψ (ψ must give E ψ = 0, see :func:`kappas`).
    d : int
        Dimension, >= 1.
    eta : float
        Learning rate η > 0.
    tau : float
        Horizon τ > 0 (``round(τ d)`` steps).
    teacher : "gaussian" or float
        w*_i ~ N(0, 1) i.i.d. (drawn per run), or the constant w*_i = teacher.
    delta : float
        Label-noise variance Δ >= 0.
    clipped : bool
        Clipped STE ``φ̃'(ŵ) = 1[|ŵ| <= ω]`` instead of ``φ̃' = 1``.
    clip : float or None
        ω for the clipped STE; default the outer weight level.
    init_std : float
        ŵ_i(0) ~ N(0, init_std²), init_std >= 0.
    seeds : int
        Number of independent runs S >= 1.
    seed : int, SeedSequence or None
        Seed of the run streams.
    snapshots : sequence of float
        Times τ in [0, tau] at which to keep the latent weights.
    n_points : int
        Number of recording times (>= 2), equally spaced over [0, tau].

    Returns
    -------
    STESimulation

    Examples
    --------
    >>> from algorithms.theory.quantizers import uniform_levels
    >>> c = uniform_levels(2, 2.0, kind="midrise")
    >>> r = simulate(c, c, d=50, eta=0.5, tau=2.0, seeds=2, seed=0, n_points=5, snapshots=(1.0,))
    >>> r.tau.tolist(), r.gen_error_seeds.shape, r.snapshots[1.0].shape
    ([0.0, 0.5, 1.0, 1.5, 2.0], (2, 5), (2, 50))
    >>> bool(r.gen_error[-1] < r.gen_error[0])
    True
    """
    wl = _levels(weight_levels, "weight_levels")
    il = _levels(input_levels, "input_levels")
    d = _int(d, "d", 1)
    eta = _real(eta, "eta", positive=True)
    tau = _real(tau, "tau", positive=True)
    w_const = _teacher(teacher)
    delta = _real(delta, "delta", nonneg=True)
    omega = _clip(clipped, clip, wl)
    init_std = _real(init_std, "init_std", nonneg=True)
    seeds = _int(seeds, "seeds", 1)
    n_points = _int(n_points, "n_points", 2)
    snaps = [_real(s, "snapshots", nonneg=True) for s in snapshots]
    if any(s > tau for s in snaps):
        raise ValueError(f"snapshots must lie in [0, tau], got {snaps}")
    k1, k2 = kappas(il)

    n_steps = max(1, int(round(tau * d)))
    rec_steps = np.unique(np.rint(np.linspace(0.0, n_steps, n_points)).astype(np.int64))
    snap_steps = {s: int(round(s * d)) for s in snaps}
    stops = np.unique(np.concatenate([rec_steps, np.array(list(snap_steps.values()), dtype=np.int64)]))

    # one SeedSequence child per run: a NumPy generator for the teacher and the start, and a
    # xoshiro256** stream for the inputs, so the runs are independent of how many run at once
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    children = ss.spawn(seeds)
    w_star = np.empty((seeds, d))
    w = np.empty((seeds, d))
    states = np.empty((seeds, 4), dtype=np.uint64)
    for k, child in enumerate(children):
        init_seq, input_seq = child.spawn(2)
        r = np.random.default_rng(init_seq)
        w_star[k] = r.standard_normal(d) if w_const is None else w_const
        w[k] = init_std * r.standard_normal(d)
        states[k] = new_state(input_seq)
    tab = _Tables(wl, 0.5 * (wl[1:] + wl[:-1]), il, 0.5 * (il[1:] + il[:-1]), ZIG_X, ZIG_F)
    phi = wl[np.searchsorted(tab.wthr, w, side="right")]
    errors = np.empty((seeds, stops.size))
    snap_w = {s_tau: np.empty((seeds, d)) for s_tau in snap_steps}

    def one_run(k):
        # each thread owns row k of w, phi, states, errors and of every snapshot. The stream
        # state is written at every draw: it lives in a buffer of its own, 128 bytes long, so
        # that no two threads write to one cache line (rows of ``states`` are 32 bytes apart,
        # and sharing a line halved the speed of two threads)
        state = np.zeros(16, dtype=np.uint64)[:4]
        state[:] = states[k]
        psi = np.empty(d)
        t = 0
        with np.errstate(over="ignore"):  # plain-Python runs wrap the uint64 arithmetic
            for j, stop in enumerate(stops):
                _ste_steps(w[k], phi[k], w_star[k], state, psi, int(stop - t), tab, eta,
                           math.sqrt(delta), bool(clipped), omega)
                t = int(stop)
                errors[k, j] = _exact_error(w_star[k:k + 1], phi[k:k + 1], k1, k2, delta)[0]
                for s_tau, s_step in snap_steps.items():
                    if s_step == t:
                        snap_w[s_tau][k] = w[k]

    # the kernel releases the GIL: runs go to threads, one core each
    n_threads = max(1, min(seeds, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        list(pool.map(one_run, range(seeds)))
    errors = dict(zip(stops.tolist(), errors.T))
    err = np.stack([errors[int(s_)] for s_ in rec_steps], axis=1)
    settings = dict(d=d, eta=eta, tau=tau, delta=delta, clipped=bool(clipped), clip=omega,
                    init_std=init_std, seeds=seeds, seed=seed)
    return STESimulation(
        tau=rec_steps / d, gen_error=err.mean(axis=0), gen_error_seeds=err, snapshots=snap_w,
        teacher=w_star, kappa1=k1, kappa2=k2, settings=settings,
    )


# ----------------------------------------------------------------------------------------------
# eta -> 0: the event-driven ODE
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ODEResult:
    """Result of :func:`ode`: the η -> 0 error curve and its order parameters.

    Attributes
    ----------
    tau : float64 (T,)
        Times τ (not rescaled by η).
    gen_error : float64 (T,)
        ``ρ* - 2 κ₁ m + κ₂ q + Δ``.
    m : float64 (T,)
        ``E[w* φ(ŵ)]`` (sliding weights count with their time-averaged φ).
    q : float64 (T,)
        ``E[φ(ŵ)²]``.
    """

    tau: np.ndarray
    gen_error: np.ndarray
    m: np.ndarray
    q: np.ndarray


def _nodes(std: float, n: int) -> np.ndarray:
    """Quantile midpoints of N(0, std²): equal weights 1/n."""
    return std * ndtri((np.arange(n) + 0.5) / n)


def _events(c, ws, w0, k1, k2, eta, clipped, omega):
    """Exact piecewise-linear trajectories of ``dŵ/dτ = η φ̃'(ŵ)(κ₁ w* - κ₂ φ(ŵ))``.

    Returns the initial ``(φ, φ²)`` per node and the events ``(time, node, Δφ, Δφ²)``: threshold
    crossings and the entries into sliding modes (where φ becomes the mixture with mean κ₁w*/κ₂).
    """
    thr = 0.5 * (c[1:] + c[:-1])
    L = c.size
    k = np.searchsorted(thr, w0, side="right")
    pos = w0.astype(np.float64).copy()
    time = np.zeros_like(pos)
    f = c[k].astype(np.float64)
    f2 = f**2
    phi0, phi20 = f.copy(), f2.copy()
    active = np.ones(pos.shape, dtype=bool)
    if clipped:
        active &= np.abs(pos) <= omega
    ev_t, ev_i, ev_df, ev_df2 = [], [], [], []
    for _ in range(L + 1):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        kk = k[idx]
        b = k1 * ws[idx] - k2 * c[kk]
        up = b > 0
        down = b < 0
        still = ~(up | down)
        active[idx[still]] = False
        for sgn, sel in ((1, up), (-1, down)):
            ii = idx[sel]
            if ii.size == 0:
                continue
            kc = k[ii]
            nxt = kc + (1 if sgn > 0 else -1)  # neighbour cell
            inside = (nxt >= 0) & (nxt < L)
            target = np.full(ii.size, np.inf * sgn)
            tb = thr[np.where(sgn > 0, np.minimum(kc, L - 2), np.maximum(kc - 1, 0))]
            target[inside] = tb[inside]
            if clipped:
                hit_clip = sgn * target >= omega
                target = np.where(hit_clip, sgn * omega, target)
            else:
                hit_clip = np.zeros(ii.size, dtype=bool)
            runaway = ~np.isfinite(target)
            stop = runaway | hit_clip
            bb = b[sel]
            go = ~stop
            jj = ii[go]
            arrive = time[jj] + (target[go] - pos[jj]) / (eta * bb[go])
            nk = nxt[go]
            bn = k1 * ws[jj] - k2 * c[nk]
            slide = bn * sgn < 0
            # crossings
            cr = ~slide
            jc = jj[cr]
            newf = c[nk[cr]]
            ev_t.append(arrive[cr])
            ev_i.append(jc)
            ev_df.append(newf - f[jc])
            ev_df2.append(newf**2 - f2[jc])
            f[jc] = newf
            f2[jc] = newf**2
            k[jc] = nk[cr]
            pos[jc] = target[go][cr]
            time[jc] = arrive[cr]
            # sliding: φ becomes the mixture of the two neighbour levels with mean κ₁ w*/κ₂
            js = jj[slide]
            lo = np.minimum(k[js], nk[slide])
            clo, chi = c[lo], c[lo + 1]
            a = k1 * ws[js] / k2
            p = (a - clo) / (chi - clo)
            mf = a
            mf2 = clo**2 + p * (chi**2 - clo**2)
            ev_t.append(arrive[slide])
            ev_i.append(js)
            ev_df.append(mf - f[js])
            ev_df2.append(mf2 - f2[js])
            f[js], f2[js] = mf, mf2
            active[js] = False
            active[ii[stop]] = False
    if ev_t:
        et = np.concatenate(ev_t)
        ei = np.concatenate(ev_i)
        edf = np.concatenate(ev_df)
        edf2 = np.concatenate(ev_df2)
    else:
        et = np.zeros(0)
        ei = np.zeros(0, dtype=np.int64)
        edf = np.zeros(0)
        edf2 = np.zeros(0)
    return phi0, phi20, et, ei, edf, edf2


def _ode_curve(weight_levels, input_levels, *, eta, teacher, delta, clipped, clip, init_std, n_nodes):
    """Sorted event times and the error after each event (index 0: the initial error)."""
    c = _levels(weight_levels, "weight_levels")
    il = _levels(input_levels, "input_levels")
    eta = _real(eta, "eta", positive=True)
    w_const = _teacher(teacher)
    delta = _real(delta, "delta", nonneg=True)
    omega = _clip(clipped, clip, c)
    init_std = _real(init_std, "init_std", nonneg=True)
    if n_nodes is None:  # the Gaussian teacher with init_std > 0 uses n_nodes² trajectories
        n_nodes = 500 if (w_const is None and init_std > 0.0) else 2000
    n_nodes = _int(n_nodes, "n_nodes", 1)
    k1, k2 = kappas(il)
    w0n = _nodes(init_std, n_nodes) if init_std > 0.0 else np.zeros(1)
    if w_const is None:
        wsn = _nodes(1.0, n_nodes)
        ws = np.repeat(wsn, w0n.size)
        w0 = np.tile(w0n, n_nodes)
        rho = 1.0
    else:
        ws = np.full(w0n.size, w_const)
        w0 = w0n
        rho = w_const**2
    weight = 1.0 / ws.size
    phi0, phi20, et, ei, edf, edf2 = _events(c, ws, w0, k1, k2, eta, bool(clipped), omega)
    first = np.full(ws.size, np.inf)  # time each trajectory leaves its initial cell
    np.minimum.at(first, ei, et)
    # the cell that ŵ = 0 rounds to (ties go up): the zero level, else the smallest positive one
    zero_cell = phi0 == c[np.searchsorted(0.5 * (c[1:] + c[:-1]), 0.0, side="right")]
    order = np.argsort(et, kind="stable")
    et = et[order]
    dm = weight * ws[ei[order]] * edf[order]
    dq = weight * edf2[order]
    m = np.concatenate([[weight * np.sum(ws * phi0)], weight * np.sum(ws * phi0) + np.cumsum(dm)])
    q = np.concatenate([[weight * np.sum(phi20)], weight * np.sum(phi20) + np.cumsum(dq)])
    err = rho - 2.0 * k1 * m + k2 * q + delta
    return et, m, q, err, first[zero_cell]


def _ode_cohorts(weight_levels, input_levels, times, *, eta, teacher, delta, clipped, clip, init_std,
                 n_nodes):
    """m, q, error at ``times``, exact in ŵ(0) ~ N(0, init_std²) (init_std > 0).

    All weights starting in the same cell (and inside ±ω for the clipped STE) meet the same events,
    at times shifted by ``(rep - ŵ(0)) / (η b)`` from those of a representative start ``rep`` (b the
    drift of the cell), so the fraction that has met an event by τ is a Gaussian mass of an interval.
    """
    c = _levels(weight_levels, "weight_levels")
    il = _levels(input_levels, "input_levels")
    eta = _real(eta, "eta", positive=True)
    w_const = _teacher(teacher)
    delta = _real(delta, "delta", nonneg=True)
    omega = _clip(clipped, clip, c)
    if n_nodes is None:
        n_nodes = 2000
    n_nodes = _int(n_nodes, "n_nodes", 1)
    k1, k2 = kappas(il)
    thr = 0.5 * (c[1:] + c[:-1])
    lo = np.concatenate([[-np.inf], thr])
    hi = np.concatenate([thr, [np.inf]])
    cell_mass = ndtr(hi / init_std) - ndtr(lo / init_std)
    if clipped:
        lo, hi = np.maximum(lo, -omega), np.minimum(hi, omega)
    movable = lo < hi
    rep = np.where(np.isfinite(lo) & np.isfinite(hi), 0.5 * (lo + hi),
                   np.where(np.isfinite(lo), lo + 1.0, hi - 1.0))  # a start inside each cell
    if w_const is None:
        wsn, rho = _nodes(1.0, n_nodes), 1.0
    else:
        wsn, rho = np.array([w_const]), w_const**2
    weight = 1.0 / wsn.size
    cells = np.flatnonzero(movable)
    ws = np.repeat(wsn, cells.size)
    kk = np.tile(cells, wsn.size)
    _, _, et, ei, edf, edf2 = _events(c, ws, rep[kk], k1, k2, eta, bool(clipped), omega)
    m0 = weight * np.sum(wsn) * np.sum(cell_mass * c)
    q0 = np.sum(cell_mass * c**2)
    ke = kk[ei]
    b = k1 * ws[ei] - k2 * c[ke]
    lo_e, hi_e = lo[ke][:, None], hi[ke][:, None]
    up = (b > 0)[:, None]
    m = np.full(times.size, m0)
    q = np.full(times.size, q0)
    step = max(1, (1 << 21) // max(1, et.size))  # times per block of the (events, times) arrays
    for j in range(0, times.size, step):
        tj = times[None, j:j + step]
        # the starts that have met event e by time tau: w0 > bound (b > 0) or w0 < bound (b < 0)
        bound = rep[ke][:, None] - eta * b[:, None] * (tj - et[:, None])
        a = np.where(up, np.maximum(lo_e, bound), lo_e)
        z = np.where(up, hi_e, np.minimum(hi_e, bound))
        frac = np.clip(ndtr(z / init_std) - ndtr(a / init_std), 0.0, None)
        m[j:j + step] += weight * ((ws[ei] * edf) @ frac)
        q[j:j + step] += weight * (edf2 @ frac)
    err = rho - 2.0 * k1 * m + k2 * q + delta
    return m, q, err


def ode(
    weight_levels,
    input_levels,
    *,
    tau,
    eta: float,
    teacher="gaussian",
    delta: float = 0.0,
    clipped: bool = False,
    clip=None,
    init_std: float = 1.0,
    n_points: int = 200,
    n_nodes=None,
) -> ODEResult:
    """The η -> 0 mean-field limit ``dŵ/dτ = η φ̃'(ŵ)[κ₁ w* - κ₂ φ(ŵ)]``, integrated exactly (§9.3).

    Every trajectory is piecewise linear in τ (the drift is constant on each cell of φ) and is
    integrated event by event, threshold crossing after threshold crossing, until it enters a
    sliding mode (the drift changes sign across the threshold: the weight stays there and φ is the
    mixture of the two neighbour levels with mean κ₁w*/κ₂), runs off beyond the outer levels, or
    stops at ±ω under the clipped STE. The average over ŵ(0) ~ N(0, init_std²) is exact: the weights
    starting in one cell meet the same events at times shifted by an affine function of ŵ(0), so
    the fraction that has met each event is a Gaussian mass of an interval. The Gaussian teacher
    w* ~ N(0, 1) is averaged over ``n_nodes`` equal-weight quantile midpoints (error O(1/n_nodes),
    as the events jump with w*); ρ* is exact (1 or w*²). With ``init_std = 0`` the single
    trajectory from 0 is used.

    Parameters
    ----------
    weight_levels, input_levels : array_like, float (L,), (L',)
        Levels of φ and ψ.
    tau : float or array_like, float (T,)
        Horizon (then ``n_points`` equally spaced times over [0, tau]) or the times themselves.
    eta : float
        Learning rate η > 0 (the time scale: the curve depends on ητ only).
    teacher : "gaussian" or float
        w* ~ N(0, 1) or a constant.
    delta : float
        Label-noise variance Δ >= 0.
    clipped, clip, init_std
        As in :func:`simulate`.
    n_points : int
        Number of times when ``tau`` is a scalar.
    n_nodes : int or None
        Quadrature nodes in w* for the Gaussian teacher (default 2000; unused for a constant
        teacher).

    Returns
    -------
    ODEResult

    Examples
    --------
    >>> from algorithms.theory.quantizers import uniform_levels
    >>> c = uniform_levels(2, 2.0, kind="midtread")
    >>> r = ode(c, c, tau=[0.0, 50.0, 200.0], eta=0.01, teacher=1.0, init_std=0.0)
    >>> np.round(r.gen_error, 3).tolist()   # plateau at rho* = 1 until s/(2 eta kappa1) = 103.3
    [1.0, 1.0, 1.46]
    """
    if np.ndim(tau) == 0:
        horizon = _real(tau, "tau", positive=True)
        n_points = _int(n_points, "n_points", 2)
        times = np.linspace(0.0, horizon, n_points)
    else:
        times = np.asarray(tau, dtype=np.float64)
        if times.ndim != 1 or times.size == 0 or not np.all(np.isfinite(times)) or np.any(times < 0):
            raise ValueError("tau must be a positive number or a 1-D array of finite times >= 0")
    std = _real(init_std, "init_std", nonneg=True)
    if std > 0.0:
        m, q, err = _ode_cohorts(weight_levels, input_levels, times, eta=eta, teacher=teacher, delta=delta,
                                 clipped=clipped, clip=clip, init_std=std, n_nodes=n_nodes)
        return ODEResult(tau=times, gen_error=err, m=m, q=q)
    et, m, q, err, _ = _ode_curve(weight_levels, input_levels, eta=eta, teacher=teacher, delta=delta,
                                  clipped=clipped, clip=clip, init_std=init_std, n_nodes=n_nodes)
    j = np.searchsorted(et, times, side="right")
    return ODEResult(tau=times, gen_error=err[j], m=m[j], q=q[j])


# ----------------------------------------------------------------------------------------------
# fixed points
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FixedPoint:
    """Result of :func:`fixed_point`.

    Attributes
    ----------
    gen_error : float
        ε_∞ of the η -> 0 dynamics.
    mean_phi : float
        E[φ] at the fixed point for the constant teacher (NaN for the Gaussian teacher).
    sliding : bool
        The moving weights end in a sliding mode (constant teacher), or some w* do (Gaussian).
    p : float
        Time fraction on the upper level of the sliding mode (NaN when not sliding or for the
        Gaussian teacher).
    kappa1, kappa2 : float
        The input-quantizer constants.
    """

    gen_error: float
    mean_phi: float
    sliding: bool
    p: float
    kappa1: float
    kappa2: float


def _limit_pieces(c, clipped, omega):
    """Pieces of the a = r w* axis with the limit of a weight starting inside the moving region.

    Returns a list of ``(a_lo, a_hi, kind, value)``: kind "slide" (value = lower level index) or
    "level" (value = the level φ settles on).
    """
    L = c.size
    thr = 0.5 * (c[1:] + c[:-1])
    qz = c[np.searchsorted(thr, np.array([-omega, omega]), side="right")]
    pieces = [(-np.inf, c[0], "level", qz[0] if clipped else c[0])]
    for k in range(L - 1):
        if clipped and thr[k] > omega:
            pieces.append((c[k], c[k + 1], "level", qz[1]))
        elif clipped and thr[k] < -omega:
            pieces.append((c[k], c[k + 1], "level", qz[0]))
        else:
            pieces.append((c[k], c[k + 1], "slide", k))
    pieces.append((c[-1], np.inf, "level", qz[1] if clipped else c[-1]))
    return pieces


def _tmoments(lo, hi):
    """E[1; w in (lo, hi)], E[w; ...], E[w²; ...] for w ~ N(0, 1)."""
    def pdf(x):
        return 0.0 if not math.isfinite(x) else _INV_SQRT_2PI * math.exp(-0.5 * x * x)

    def xpdf(x):
        return 0.0 if not math.isfinite(x) else x * _INV_SQRT_2PI * math.exp(-0.5 * x * x)

    m0 = float(ndtr(hi) - ndtr(lo))
    m1 = pdf(lo) - pdf(hi)
    m2 = m0 + xpdf(lo) - xpdf(hi)
    return m0, m1, m2


def fixed_point(
    weight_levels,
    input_levels,
    *,
    teacher="gaussian",
    delta: float = 0.0,
    clipped: bool = False,
    clip=None,
    init_std: float = 1.0,
) -> FixedPoint:
    """The limiting error ε_∞ of the η -> 0 dynamics, with its Filippov sliding modes (§9.4).

    For a = κ₁ w*/κ₂ strictly between two levels ``c_k < a < c_{k+1}`` the moving weights slide on
    the threshold between them with E[φ] = a and ``E[φ²] = c_k² + p (c_{k+1}² - c_k²)``,
    ``p = (a - c_k)/(c_{k+1} - c_k)``; beyond the outer levels φ settles on the outer level. Under the
    clipped STE the weights starting beyond ±ω keep φ(ŵ(0)) (exact Gaussian cell masses of
    N(0, init_std²)), the others slide as above or, if the sliding threshold lies beyond ±ω, stop
    at ±ω. The error ``E[w*²] - 2 κ₁ E[w* φ] + κ₂ E[φ²] + Δ`` is then exact: for the Gaussian
    teacher it is piecewise quadratic in w* and integrated with truncated Gaussian moments.
    (When a equals a level exactly, φ settles on that level.)

    Parameters
    ----------
    weight_levels, input_levels : array_like, float (L,), (L',)
        Levels of φ and ψ.
    teacher : "gaussian" or float
        w* ~ N(0, 1) or a constant.
    delta : float
        Label-noise variance Δ >= 0.
    clipped, clip, init_std
        As in :func:`simulate` (init_std matters only for the clipped STE).

    Returns
    -------
    FixedPoint

    Examples
    --------
    >>> from algorithms.theory.quantizers import uniform_levels
    >>> c = uniform_levels(2, 2.0, kind="midtread")
    >>> fp = fixed_point(c, c, teacher=1.0)
    >>> round(fp.gen_error, 3), round(fp.mean_phi, 4), fp.sliding, round(fp.p, 4)
    (1.46, 0.7626, True, 0.3813)
    """
    c = _levels(weight_levels, "weight_levels")
    il = _levels(input_levels, "input_levels")
    w_const = _teacher(teacher)
    delta = _real(delta, "delta", nonneg=True)
    omega = _clip(clipped, clip, c)
    init_std = _real(init_std, "init_std", nonneg=True)
    k1, k2 = kappas(il)
    if not k1 > 0:
        raise ValueError(f"input_levels must give kappa1 = E[x psi(x)] > 0, got {k1}")
    r = k1 / k2
    thr = 0.5 * (c[1:] + c[:-1])
    # weights that never move (clipped STE, |w(0)| > omega): their phi(w(0)) law
    if clipped:
        if init_std > 0:
            edges = np.concatenate([[-np.inf], thr, [np.inf]]) / init_std
            lo_b, hi_b = -omega / init_std, omega / init_std
            out_mass = np.clip(ndtr(np.minimum(edges[1:], lo_b)) - ndtr(edges[:-1]), 0.0, None)
            out_mass += np.clip(ndtr(edges[1:]) - ndtr(np.maximum(edges[:-1], hi_b)), 0.0, None)
        else:
            out_mass = np.zeros(c.size)
    else:
        out_mass = np.zeros(c.size)
    p_in = 1.0 - float(out_mass.sum())
    s_f, s_f2 = float(np.sum(out_mass * c)), float(np.sum(out_mass * c**2))
    pieces = _limit_pieces(c, bool(clipped), omega)

    if w_const is not None:
        a = r * w_const
        mean_phi, mean_phi2, sliding, p = None, None, False, math.nan
        for lo, hi, kind, val in pieces:
            if lo < a < hi:
                if kind == "slide":
                    clo, chi = c[val], c[val + 1]
                    p = (a - clo) / (chi - clo)
                    mean_phi, mean_phi2, sliding = a, clo**2 + p * (chi**2 - clo**2), True
                else:
                    mean_phi, mean_phi2 = float(val), float(val) ** 2
        if mean_phi is None:  # a is exactly a level
            lev = c[np.argmin(np.abs(c - a))]
            mean_phi, mean_phi2 = float(lev), float(lev) ** 2
        ef = s_f + p_in * mean_phi
        ef2 = s_f2 + p_in * mean_phi2
        err = w_const**2 - 2.0 * k1 * w_const * ef + k2 * ef2 + delta
        return FixedPoint(gen_error=float(err), mean_phi=float(ef), sliding=bool(sliding and p_in > 0),
                          p=float(p), kappa1=k1, kappa2=k2)

    # Gaussian teacher: the stuck weights are independent of w*, E[w*] = 0, E[w*^2] = 1
    err = 1.0 + k2 * s_f2 + delta
    sliding = False
    for lo, hi, kind, val in pieces:
        m0, m1, m2 = _tmoments(lo / r, hi / r)
        if kind == "slide":
            clo, chi = c[val], c[val + 1]
            # E[w* phi] = r w*^2, E[phi^2] = c_lo^2 + (r w* - c_lo)(c_lo + c_hi)
            e_wphi = r * m2
            e_phi2 = clo**2 * m0 + (r * m1 - clo * m0) * (clo + chi)
            sliding = sliding or m0 > 0
        else:
            e_wphi = val * m1
            e_phi2 = val**2 * m0
        err += p_in * (-2.0 * k1 * e_wphi + k2 * e_phi2)
    return FixedPoint(gen_error=float(err), mean_phi=math.nan, sliding=bool(sliding and p_in > 0),
                      p=math.nan, kappa1=k1, kappa2=k2)


# ----------------------------------------------------------------------------------------------
# plateau
# ----------------------------------------------------------------------------------------------


def plateau_length(
    weight_levels,
    input_levels,
    *,
    eta: float,
    teacher=1.0,
    delta: float = 0.0,
    clipped: bool = False,
    clip=None,
    init_std: float = 0.0,
    n_nodes=None,
) -> float:
    """The plateau length τ_p of the η -> 0 dynamics (§9.5).

    Read off the exact event-driven ODE (:func:`ode`): τ_p is the median time at which the weights
    that start in the cell of the level nearest 0 (φ = 0 for a mid-tread φ) leave that cell, by a
    threshold crossing or by entering a sliding mode on its boundary; weights that never leave
    count as τ = inf. With a mid-tread φ, a constant teacher w* and ``init_std = 0`` (the default)
    all weights leave together, at exactly ``s / (2 η κ₁ |w*|)`` (s the level step); with a
    Gaussian initial law it is the time the bulk of the zero-cell weights has left. Without a zero
    level (mid-rise, cells) the same definition applies to the cell of the smallest positive level
    (ŵ = 0 rounds up).

    Parameters
    ----------
    weight_levels, input_levels : array_like, float (L,), (L',)
        Levels of φ and ψ.
    eta : float
        Learning rate η > 0.
    teacher : "gaussian" or float
        w* (default 1.0).
    delta, clipped, clip, init_std, n_nodes
        As in :func:`ode` (``init_std`` defaults to 0: weights starting at 0).

    Returns
    -------
    float
        τ_p (in τ = t/d, not rescaled by η); ``inf`` if the bulk never leaves (or no weight starts
        in that cell).

    Examples
    --------
    >>> from algorithms.theory.quantizers import uniform_levels
    >>> c = uniform_levels(2, 2.0, kind="midtread")
    >>> k1, _ = kappas(c)
    >>> bool(np.isclose(plateau_length(c, c, eta=0.01), 2.0 / (2 * 0.01 * k1)))
    True
    >>> round(plateau_length(c, c, eta=0.01, init_std=0.3), 1)   # the median start is 0
    103.3
    """
    *_, exits = _ode_curve(weight_levels, input_levels, eta=eta, teacher=teacher, delta=delta,
                           clipped=clipped, clip=clip, init_std=init_std, n_nodes=n_nodes)
    if exits.size == 0:
        return math.inf
    return float(np.quantile(exits, 0.5, method="inverted_cdf"))
