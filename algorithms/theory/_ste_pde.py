"""Finite-η mean-field (McKean–Vlasov) limit of online STE training (docs/theory.md §9.3).

In the mean-field limit every student weight ŵ follows, given its teacher weight w*,

    dŵ = η g(ŵ) [κ₁ w* − κ₂ φ(ŵ)] dτ + η g(ŵ) √(κ₂ ε(τ)) dB_τ,

with g = φ̃' the STE surrogate derivative (1, or 1[|ŵ| <= clip] for the clipped STE), φ the
weight quantizer and ψ the input quantizer entering through κ₁ = E[xψ(x)], κ₂ = E[ψ(x)²]
(x ~ N(0, 1)). The noise level is the generalization error itself,
ε = ρ* − 2κ₁ m + κ₂ q + Δ with m = E[w* φ(ŵ)], q = E[φ(ŵ)²], so the law μ_τ of ŵ obeys a
nonlinear Fokker–Planck equation, closed through ε.

Scheme
------
* **Grid.** A range [lo, hi] (default ±(outer level + 6·max(init_std, 1))) is cut into cells
  of (nearly) uniform width whose faces include every threshold of φ (level midpoints) and,
  for the clipped STE, the clip points. Inside a cell φ and g are therefore constant, hence
  so are the drift b = η g (κ₁w* − κ₂φ) and the variance a = η² g² κ₂ ε.
* **Fluxes.** The unknowns are cell masses M. Inside a cell of constant drift b and
  variance a = 2D the zero-flux density is ``∝ exp(bŵ/D)``; the density such a profile puts
  on the cell's right face is ``(M/h) B(−z)`` and on its left face ``(M/h) B(z)``, with
  ``z = bh/D`` and ``B(z) = z/(e^z − 1)``. The flux through a face is ``D/d`` (d the distance
  of the centres) times the jump of these face densities, i.e. ``F = α M_L − β M_R`` with
  ``α = ρ(−b_L)/d``, ``β = ρ(b_R)/d`` and ``ρ(b) = (D/h) B(bh/D)``: exponential fitting
  (Scharfetter–Gummel on a uniform stretch), each side with its own cell's b and D. Zero flux
  means continuous face densities, so the discrete stationary law is the *exact* cell average
  of the piecewise-exponential density, on any grid: on an interval of constant drift, and at
  a sliding threshold, where the masses split in the Filippov proportion ``b_L : |b_R|`` as
  D -> 0. For D -> 0 the rates tend to upwinding (``ρ -> max(−b, 0)``); for b = 0 to central
  diffusion. A cell beyond the clip points (g = 0) has b = D = 0: it receives mass and never
  returns it, as the frozen particles do. The two outer faces carry no flux (reflecting walls
  far away).
* **Time step.** Backward Euler for drift and diffusion together: each step solves one
  tridiagonal system per teacher node (Thomas elimination in a Numba kernel). The matrix
  ``I − dt L`` has unit column sums (mass is conserved to round-off) and is a
  column-diagonally-dominant M-matrix, so elimination needs no pivoting, its inverse is
  nonnegative and the density stays nonnegative for any step. The step is set by a Courant
  number on the drift (accuracy, not stability); transients are first-order accurate in the
  step and the cell width.
* **Closure.** ε is recomputed from the current cell masses after every step and sets the
  diffusion of the next one (a lagged, first-order closure).
* **Teacher.** A constant w* evolves one density (ρ* = w*²). A Gaussian teacher w* ~ N(0, 1)
  is a Gauss–Hermite quadrature variable: one density per node, ρ* = 1. Nodes with
  κ₁|w*| > κ₂ · outer level drift without bound and pile up at the wall; this does not
  change ε, since φ is constant beyond the outer threshold.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy.linalg import solve_banded
from scipy.special import ndtr

from fgraph.jit import jit_disabled, njit

from ._ste_common import _int, _real, _teacher, kappas
from .quantizers import check_levels, thresholds

__all__ = ["MeanFieldResult", "input_kappas", "mean_field", "stationary_density"]



@dataclass(frozen=True)
class MeanFieldResult:
    """Solution of the mean-field Fokker–Planck equation of STE training.

    Attributes
    ----------
    tau : float64 (T,)
        Output times (uniform on [0, tau]).
    gen_error : float64 (T,)
        ε(τ) = ρ* − 2κ₁m + κ₂q + Δ at those times.
    densities : dict float -> (float64 (G,), float64 (G,))
        Snapshot time -> (cell centres, density). For a constant w* the density of ŵ; for a
        Gaussian teacher the marginal density of ŵ (averaged over w*).
    conditional_densities : dict float -> float64 (n_teacher, G)
        Gaussian teacher only (else empty): the density of ŵ given w* = ``teacher_nodes[j]``.
    edges : float64 (G + 1,)
        Cell faces; ``density * diff(edges)`` are the cell masses.
    teacher_nodes, teacher_weights : float64 (n_teacher,)
        Quadrature nodes and weights of w* (one node of weight 1 for a constant w*).
    settings : dict
        The arguments, κ₁, κ₂, ρ*, the number of time steps and the step size.
    """

    tau: np.ndarray
    gen_error: np.ndarray
    densities: dict
    conditional_densities: dict
    edges: np.ndarray
    teacher_nodes: np.ndarray
    teacher_weights: np.ndarray
    settings: dict = field(default_factory=dict)


def _frozen(a) -> np.ndarray:
    a = np.array(a, dtype=np.float64)
    a.setflags(write=False)
    return a


def input_kappas(input_levels) -> tuple[float, float]:
    """κ₁ = E[xψ(x)] and κ₂ = E[ψ(x)²] for x ~ N(0, 1), ψ = round to the nearest input level.

    Parameters
    ----------
    input_levels : None or array_like, float (L,)
        Strictly increasing levels; None for unquantized inputs (ψ = identity, κ₁ = κ₂ = 1).

    Returns
    -------
    (float, float)
        (κ₁, κ₂), in closed form cell by cell.

    Examples
    --------
    >>> k1, k2 = input_kappas([-2.0, 0.0, 2.0])
    >>> round(k1, 4), round(k2, 4)
    (0.9679, 1.2692)
    """
    if input_levels is None:
        return 1.0, 1.0
    return kappas(input_levels)


def _rate(drift, half_var, widths):
    """``ρ(b, h, D) = (D/h) B(bh/D)`` per cell, with ``B(z) = z / (e^z − 1)`` (Bernoulli function).

    ``ρ(b)`` is the per-unit-mass outflow speed of a cell through its *left* face and
    ``ρ(−b) = ρ(b) + b`` through its right face (divide by the distance of the centres for a
    rate). D = 0 gives the upwind limit ``ρ = max(−b, 0)``. Arrays broadcast; D >= 0.
    """
    b, d, h = np.broadcast_arrays(np.asarray(drift, dtype=np.float64), np.asarray(half_var, dtype=np.float64),
                                  np.asarray(widths, dtype=np.float64))
    out = np.maximum(-b, 0.0)
    pos = d > 0.0
    if np.any(pos):
        bp, dp, hp = b[pos], d[pos], h[pos]
        z = bp * hp / dp
        with np.errstate(over="ignore"):          # e^z = inf for z > 709: B(z) = 0, as it should
            bern = np.where(np.abs(z) < 1e-10, 1.0 - 0.5 * z, z / np.expm1(np.where(z == 0.0, 1.0, z)))
        out[pos] = dp / hp * bern
    return out


def _face_coefficients(drift, variance, widths):
    """Per-unit-mass rates through the interior faces: ``F = alpha M_L − beta M_R``.

    drift, variance: (..., G) per cell; widths: (G,). Returns alpha, beta of shape (..., G − 1).
    Each side uses its own cell's drift and variance (see the module notes on the scheme).
    """
    d = 0.5 * (widths[1:] + widths[:-1])
    rho = _rate(drift, 0.5 * np.asarray(variance), widths)
    alpha = (rho[..., :-1] + drift[..., :-1]) / d          # ρ(−b) = ρ(b) + b, out of the right face
    beta = rho[..., 1:] / d
    return np.maximum(alpha, 0.0), beta


def stationary_density(drift, variance, edges) -> np.ndarray:
    """Stationary density of the discretised operator (zero flux through every face).

    With ``F = alpha_i M_i − beta_{i+1} M_{i+1}`` at each interior face, the null vector has
    ``M_{i+1} / M_i = alpha_i / beta_{i+1}``. The fluxes are fitted to the exponential profile
    of each cell, so on cells of constant drift b and variance a the ratio of the cell masses is
    ``exp(2bh/a)`` for width h: the exact law ∝ exp(2bŵ/a), on any grid.

    Parameters
    ----------
    drift, variance : array_like, float (G,)
        Per-cell drift and variance (variance > 0).
    edges : array_like, float (G + 1,)
        Strictly increasing cell faces.

    Returns
    -------
    float64 (G,)
        Density (cell mass / width) normalised to unit mass.

    Examples
    --------
    >>> u = stationary_density(np.ones(4), np.full(4, 2.0), np.linspace(0.0, 4.0, 5))
    >>> np.round(u[1:] / u[:-1], 6).tolist()    # exp(2 * 1 * 1 / 2) = e
    [2.718282, 2.718282, 2.718282]
    """
    b = np.asarray(drift, dtype=np.float64)
    a = np.asarray(variance, dtype=np.float64)
    e = np.asarray(edges, dtype=np.float64)
    if b.ndim != 1 or a.shape != b.shape or e.shape != (b.size + 1,):
        raise ValueError(f"need drift, variance of shape (G,) and edges (G + 1,), got {b.shape}, {a.shape}, "
                         f"{e.shape}")
    h = np.diff(e)
    if not np.all(h > 0):
        raise ValueError("edges must be strictly increasing")
    if not np.all(a > 0):
        raise ValueError(f"variance must be > 0 in every cell (the law is not unique otherwise), "
                         f"got minimum {a.min()!r}")
    alpha, beta = _face_coefficients(b, a, h)
    with np.errstate(divide="ignore"):
        logm = np.concatenate(([0.0], np.cumsum(np.log(alpha) - np.log(beta))))
    m = np.exp(logm - logm.max())
    return m / h / np.sum(m)


def _build_edges(lo: float, hi: float, n_cells: int, breaks) -> np.ndarray:
    """Faces on [lo, hi] including every break point; uniform whenever the breaks allow it.

    If the breaks lie on a lattice of step s (uniform quantizers), the width is s / k with k
    even (so half-steps, e.g. the outer levels as clip points, are faces too) and the range is
    widened to whole cells; otherwise each gap between breaks is cut into equal cells.
    """
    pts = np.unique(np.asarray(breaks, dtype=np.float64))
    h = (hi - lo) / n_cells
    step = float(np.min(np.diff(pts))) if pts.size > 1 else 2.0 * h
    k = 2 * max(1, int(math.ceil(step / h / 2.0)))
    hh = step / k
    j = (pts - pts[0]) / hh
    if np.all(np.abs(j - np.round(j)) < 1e-9 * max(1.0, float(j.max()))):
        j_lo = int(math.floor((lo - pts[0]) / hh + 1e-9))
        j_hi = int(math.ceil((hi - pts[0]) / hh - 1e-9))
        e = pts[0] + hh * np.arange(j_lo, j_hi + 1)
        e[np.abs(e) < 1e-12 * hh] = 0.0
        return e
    pts = np.unique(np.concatenate(([lo], pts[(pts > lo) & (pts < hi)], [hi])))
    pieces = []
    for a, b in zip(pts[:-1], pts[1:], strict=True):
        n = max(1, int(round((b - a) / h)))
        pieces.append(np.linspace(a, b, n + 1)[:-1])
    pieces.append([hi])
    return np.concatenate(pieces)


@njit
def _thomas(ka, kb, rhs, out):
    """Solve ``(I − dt L) x = rhs`` for every row j: tridiagonal with sub-diagonal ``−ka[j]``,
    super-diagonal ``−kb[j]`` and diagonal ``1 + ka_i + kb_{i−1}`` (unit column sums).

    ka, kb : float64 (J, G − 1) >= 0; rhs, out : float64 (J, G). The matrix is a column
    diagonally dominant M-matrix, for which elimination without pivoting is stable.
    """
    n_rows, g = rhs.shape
    c = np.empty(g)
    for j in range(n_rows):
        # forward sweep: row i reads -kb_{i-1} x_{i-1} + d_i x_i - kb_i x_{i+1}, with the
        # sub-diagonal entry of row i being -ka_{i-1}
        d0 = 1.0 + (ka[j, 0] if g > 1 else 0.0)
        c[0] = -kb[j, 0] / d0 if g > 1 else 0.0
        out[j, 0] = rhs[j, 0] / d0
        for i in range(1, g):
            di = 1.0 + kb[j, i - 1]
            if i < g - 1:
                di += ka[j, i]
            low = -ka[j, i - 1]
            den = di - low * c[i - 1]
            if i < g - 1:
                c[i] = -kb[j, i] / den
            out[j, i] = (rhs[j, i] - low * out[j, i - 1]) / den
        for i in range(g - 2, -1, -1):
            out[j, i] -= c[i] * out[j, i + 1]


class _Stepper:
    """Backward-Euler steps ``(I − dt L) M_new = M_old`` for all teacher nodes at once.

    The face rates depend on ε through the variance: with ``D = ε v / 2`` (v the variance per
    unit ε) the Péclet number of a cell is ``z = b h / D = z₀ / ε``, so z₀ and ``v / (2h)`` are
    computed once and each step costs one ``expm1`` per cell (same values as
    :func:`_face_coefficients`). The (J, G) problems are stacked into one tridiagonal system of
    size J·G whose blocks do not couple (the entries between blocks are zero).
    """

    def __init__(self, drift, var_per_eps, widths):
        self.drift = drift                                         # (J, G)
        self.var_per_eps = var_per_eps                             # (G,)
        self.widths = widths
        half = 0.5 * var_per_eps
        active = half > 0.0                                        # frozen cells: b = v = 0
        self.z0 = np.where(active, drift * widths / np.where(active, half, 1.0), 0.0)
        self.zero = self.z0 == 0.0
        self.dh = half / widths                                    # D / h per unit ε, (G,)
        self.dist = 0.5 * (widths[1:] + widths[:-1])
        self.shape = drift.shape
        self.ab = np.zeros((3, drift.size))

    def rates(self, eps):
        """(alpha, beta) per unit mass, (J, G − 1): :func:`_face_coefficients` at variance ε v."""
        if eps <= 0.0:
            return _face_coefficients(self.drift, eps * self.var_per_eps, self.widths)
        z = self.z0 / eps
        with np.errstate(over="ignore"):                           # e^z = inf: B(z) = 0, as it should
            bern = np.where(self.zero, 1.0, z / np.expm1(np.where(self.zero, 1.0, z)))
        rho = eps * self.dh * bern                                 # ρ(b) = (D/h) B(bh/D)
        alpha = (rho[:, :-1] + self.drift[:, :-1]) / self.dist
        return np.maximum(alpha, 0.0), rho[:, 1:] / self.dist

    def step(self, mass, dt, eps):
        n_nodes, g = self.shape
        alpha, beta = self.rates(eps)
        ka = dt * alpha                                # outflow of cell i to the right, per unit mass
        kb = dt * beta                                 # outflow of cell i+1 to the left, per unit mass
        if not jit_disabled():
            out = np.empty_like(mass)
            _thomas(ka, kb, mass, out)
            return np.maximum(out, 0.0)
        ab = self.ab
        upper = ab[0].reshape(n_nodes, g)              # A[i, i+1] = -kb_i, stored at column i+1
        diag = ab[1].reshape(n_nodes, g)
        lower = ab[2].reshape(n_nodes, g)              # A[i+1, i] = -ka_i, stored at column i
        upper[:, 0] = 0.0
        upper[:, 1:] = -kb
        lower[:, -1] = 0.0
        lower[:, :-1] = -ka
        diag.fill(1.0)
        diag[:, :-1] += ka
        diag[:, 1:] += kb
        out = solve_banded((1, 1), ab, mass.ravel(), check_finite=False)
        return np.maximum(out.reshape(n_nodes, g), 0.0)


def mean_field(
    weight_levels,
    input_levels,
    *,
    eta: float,
    tau: float,
    teacher="gaussian",
    delta: float = 0.0,
    clipped: bool = False,
    clip=None,
    init_std: float = 1.0,
    init_mean: float = 0.0,
    grid=None,
    n_teacher: int = 30,
    n_points: int = 200,
    snapshots=(),
    courant=None,
) -> MeanFieldResult:
    """Solve the finite-η mean-field Fokker–Planck equation of online STE training.

    Parameters
    ----------
    weight_levels : array_like, float (L,)
        Levels of the weight quantizer φ (strictly increasing).
    input_levels : None or array_like, float (L',)
        Levels of the input quantizer ψ, or None for unquantized inputs (κ₁ = κ₂ = 1).
    eta : float
        Learning rate η > 0.
    tau : float
        Final time τ > 0 (τ = t/d).
    teacher : "gaussian" or float
        w* ~ N(0, 1) (Gauss–Hermite nodes, ρ* = 1) or a constant w* (ρ* = w*²).
    delta : float
        Label-noise variance Δ >= 0.
    clipped : bool
        Clipped STE: φ̃' = 1[|ŵ| <= clip], else φ̃' = 1.
    clip : None or float
        Clip point ω > 0 (None: the range of the weight levels).
    init_std, init_mean : float
        μ₀ = N(init_mean, init_std²), as cell averages.
    grid : None or (float, float, int)
        (lo, hi, number of cells). The range must contain every threshold (and clip point);
        at least 20 cells. Default: ±(outer level + |init_mean| + 6·max(init_std, 1)) with
        cells of width about 0.02.
    n_teacher : int
        Gauss–Hermite nodes for a Gaussian teacher.
    n_points : int
        Number of output times, uniform on [0, tau] (>= 2).
    snapshots : sequence of float
        Times in [0, tau] at which the density is stored.
    courant : None or float
        Time step ``courant · min cell width / max |drift|`` (the scheme is stable for any
        step; this sets the accuracy of the transient, which is first order in the step).
        Default 0.25 for a constant teacher (about 7000 steps at η = 0.1, τ = 100; the error
        of the transient is then below 0.003) and 1.0 for a Gaussian teacher, whose largest
        drift comes from the outer quadrature nodes, so that the step is already about half
        as large relative to the bulk of the nodes.

    Returns
    -------
    MeanFieldResult

    Examples
    --------
    >>> from algorithms.theory.quantizers import uniform_levels
    >>> c = uniform_levels(2, 2.0, kind="midrise")
    >>> r = mean_field(c, c, eta=0.1, tau=20.0, teacher=1.0, n_points=5, snapshots=(20.0,))
    >>> r.gen_error.shape
    (5,)
    >>> w, dens = r.densities[20.0]
    >>> bool(abs(np.sum(dens * np.diff(r.edges)) - 1.0) < 1e-12)
    True
    """
    c = check_levels(weight_levels)
    k1, k2 = input_kappas(input_levels)
    eta = _real(eta, "eta", positive=True)
    tau = _real(tau, "tau", positive=True)
    init_std = _real(init_std, "init_std", positive=True)
    w_const = _teacher(teacher)
    if courant is None:
        courant = 1.0 if w_const is None else 0.25
    courant = _real(courant, "courant", positive=True)
    delta = _real(delta, "delta", nonneg=True)
    init_mean = _real(init_mean, "init_mean")
    n_points = _int(n_points, "n_points", 2)

    if w_const is None:
        nodes, weights = hermegauss(_int(n_teacher, "n_teacher", 2))
        weights = weights / weights.sum()
        rho = 1.0
    else:
        nodes, weights = np.array([w_const]), np.array([1.0])
        rho = w_const**2

    t = thresholds(c)
    breaks = list(t)
    if clipped:
        if clip is None:
            clo, chi = float(c[0]), float(c[-1])
        else:
            w = _real(clip, "clip", positive=True)
            clo, chi = -w, w
        breaks += [clo, chi]
    elif clip is not None:
        raise ValueError("clip is only used with clipped=True")

    if grid is None:
        half = max(abs(c[0]), abs(c[-1])) + abs(float(init_mean)) + 6.0 * max(init_std, 1.0)
        lo, hi, n_cells = -half, half, int(math.ceil(2.0 * half / 0.02))
    else:
        try:
            lo, hi, n_cells = float(grid[0]), float(grid[1]), grid[2]
        except (TypeError, IndexError, ValueError) as exc:
            raise ValueError(f"grid must be (lo, hi, n_cells), got {grid!r}") from exc
        if isinstance(n_cells, bool) or not isinstance(n_cells, numbers.Integral) or n_cells < 20:
            raise ValueError(f"grid needs an int number of cells >= 20, got {n_cells!r}")
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"grid range must be finite with lo < hi, got ({lo}, {hi})")
        n_cells = int(n_cells)
    if not (lo < min(breaks) and max(breaks) < hi):
        raise ValueError(f"grid range ({lo}, {hi}) too small: it must contain every threshold and clip point "
                         f"(from {min(breaks)} to {max(breaks)})")
    edges = _build_edges(lo, hi, n_cells, breaks)
    widths = np.diff(edges)
    centres = 0.5 * (edges[1:] + edges[:-1])
    phi = c[np.searchsorted(t, centres)]                           # constant in each cell
    if clipped:
        g = ((centres >= clo) & (centres <= chi)).astype(np.float64)
    else:
        g = np.ones_like(centres)

    snaps = sorted({float(s) for s in snapshots})
    for s in snaps:
        if not (0.0 <= s <= tau):
            raise ValueError(f"snapshot times must lie in [0, tau={tau}], got {s}")
    out_times = np.linspace(0.0, tau, int(n_points))
    stops = np.unique(np.concatenate((out_times, snaps)))

    cdf = ndtr((edges - float(init_mean)) / init_std)
    cdf[0], cdf[-1] = 0.0, 1.0                                     # tails go to the end cells
    mass = np.tile(np.diff(cdf), (nodes.size, 1))
    mass /= mass.sum(axis=1, keepdims=True)

    drift = eta * g[None, :] * (k1 * nodes[:, None] - k2 * phi[None, :])   # (J, G)
    g2 = (eta * g) ** 2 * k2                                                # variance / ε, (G,)
    bmax = float(np.max(np.abs(drift)))
    dt_max = courant * float(widths.min()) / bmax if bmax > 0 else tau

    def error(m_):
        per_node = m_ @ phi, m_ @ phi**2
        mm = float(np.sum(weights * nodes * per_node[0]))
        qq = float(np.sum(weights * per_node[1]))
        return max(rho - 2.0 * k1 * mm + k2 * qq + float(delta), 0.0)

    def record(time, m_):
        if time in snap_set:
            marg = weights @ m_
            densities[time] = (_frozen(centres), _frozen(marg / widths))
            if nodes.size > 1:
                conditional[time] = _frozen(m_ / widths)

    snap_set = set(snaps)
    densities, conditional = {}, {}
    eps = error(mass)
    errs = {0.0: eps}
    record(0.0, mass)
    now, n_steps = 0.0, 0
    stepper = _Stepper(drift, g2, widths)
    for stop in stops[1:]:
        n_sub = max(1, int(math.ceil((stop - now) / dt_max - 1e-9)))
        dt = (stop - now) / n_sub
        for _ in range(n_sub):
            mass = stepper.step(mass, dt, eps)
            eps = error(mass)
        n_steps += n_sub
        now = float(stop)
        errs[now] = eps
        record(now, mass)

    gen = np.array([errs[float(s)] for s in out_times])
    settings = dict(eta=eta, tau=tau, teacher=teacher, delta=float(delta), clipped=bool(clipped), clip=clip,
                    init_std=init_std, init_mean=float(init_mean), grid=(lo, hi, n_cells),
                    n_teacher=int(nodes.size), n_points=int(n_points), courant=courant,
                    kappa1=k1, kappa2=k2, rho=rho, n_steps=n_steps, dt_max=dt_max)
    return MeanFieldResult(tau=_frozen(out_times), gen_error=_frozen(gen), densities=densities,
                           conditional_densities=conditional, edges=_frozen(edges),
                           teacher_nodes=_frozen(nodes), teacher_weights=_frozen(weights), settings=settings)
