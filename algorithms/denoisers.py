"""Priors and output channels: one mathematical contract for AMP and state evolution.

A **prior** P_X is seen through a Gaussian cavity ``r = x + sqrt(Sigma) z``::

    Z_in(r, Sigma) = int P_X(x) N(x; r, Sigma) dx
    f_in = E[x | r]   = r + Sigma d_r log Z_in
    v_in = Var[x | r] = Sigma d_r f_in

An **output channel** P_out(y | z) is seen through ``z ~ N(omega, V)``::

    Z_out(y, omega, V) = int P_out(y | z) N(z; omega, V) dz
    g_out  = d_omega log Z_out     = (E[z | y] - omega) / V
    dg_out = d_omega^2 log Z_out   = (Var[z | y] - V) / V^2

The built-in priors and channels evaluate these with the Numba kernels of
:mod:`algorithms._denoise_kernels` (``kernel_spec()`` gives the integer code
and parameter array AMP passes to them). State evolution needs, in addition,
the prior as a quadrature (``quadrature``, optionally ``r_rule``) and the law of
y given (omega, V) as a quadrature (``Channel.y_quadrature``, optionally
``features``). ``check_denoiser`` tests all of it
against ``scipy.integrate.quad`` and finite differences of log Z (SCIENCE.md
section 5).

Closed forms (used as test oracles): Rademacher prior ``f_in = tanh(r/Sigma)``,
``v_in = 1 - f_in^2``; N(0, rho) prior ``f_in = rho r / (rho + Sigma)``,
``v_in = rho Sigma / (rho + Sigma)``; Gaussian channel ``g_out = (y - omega)/(Delta + V)``,
``dg_out = -1/(Delta + V)``; sign channel with ``u = y omega / sqrt V``:
``g_out = y phi(u) / (sqrt V Phi(u))``, ``dg_out = -g_out (g_out + omega / V)``.

Users add a prior (channel) by subclassing :class:`Prior` (:class:`Channel`) and
overriding ``f_in`` (``g_out``) and the quadrature/sampling methods; only
priors with a ``kernel_spec`` run inside the compiled AMP loop.

Examples
--------
>>> import numpy as np
>>> prior, channel = BinaryPrior(), SignChannel()
>>> f, v, logz = prior.f_in(np.array([0.3, -1.0]), 0.5)
>>> bool(np.allclose(f, np.tanh([0.6, -2.0])))
True
>>> g, dg, logz = channel.g_out(1.0, -40.0, 1.0)
>>> bool(np.isfinite(g) and np.isfinite(dg))
True
>>> from_name("levels:-1,0,1@0.25,0.5,0.25").identify()
'levels:-1,0,1@0.25,0.5,0.25'
>>> from_name("noisy_sign:0.1").identify()
'noisy_sign:0.1'
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
from scipy import integrate, special

from fgraph.dtypes import as_generator

from ._denoise_kernels import (
    CHANNEL_GAUSSIAN,
    CHANNEL_NOISY_SIGN,
    CHANNEL_SIGN,
    PRIOR_BINARY,
    PRIOR_DISCRETE,
    PRIOR_GAUSS_BERNOULLI,
    PRIOR_GAUSSIAN,
    _channel_gout_vec,
    _prior_fin_vec,
)

__all__ = [
    "Prior",
    "GaussianPrior",
    "BinaryPrior",
    "DiscretePrior",
    "GaussBernoulli",
    "Channel",
    "GaussianChannel",
    "SignChannel",
    "NoisySignChannel",
    "from_name",
    "check_denoiser",
    "gauss_hermite",
    "graded_gauss_rule",
    "graded_edges",
    "composite_legendre",
]

LOG_2PI = math.log(2.0 * math.pi)
_DEFAULT_NODES = 100


def gauss_hermite(n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilists' Gauss–Hermite rule: ``E f(xi) ~ sum_k w_k f(t_k)`` for xi ~ N(0, 1).

    Parameters
    ----------
    n_nodes : int
        Number of nodes, >= 1.

    Returns
    -------
    t : float64 (n_nodes,)
        Nodes (sorted).
    w : float64 (n_nodes,)
        Weights, summing to 1.

    Examples
    --------
    >>> t, w = gauss_hermite(20)
    >>> round(float(w.sum()), 12), round(float((w * t**4).sum()), 10)
    (1.0, 3.0)
    """
    n = int(n_nodes)
    if n < 1:
        raise ValueError(f"n_nodes must be >= 1, got {n_nodes}")
    t, w = np.polynomial.hermite_e.hermegauss(n)
    return t.astype(np.float64), (w / w.sum()).astype(np.float64)


@functools.lru_cache(maxsize=16)
def _legendre(order):
    x, w = np.polynomial.legendre.leggauss(order)
    x.setflags(write=False)
    w.setflags(write=False)
    return x, w


def graded_edges(center: float, width: float, reach: float) -> np.ndarray:
    """Panel ends ``center``, ``center +- width 2^k`` (while < reach) and ``center +- reach``.

    Parameters
    ----------
    center, width, reach : float
        Center, finest panel width (> 0) and half-width of the graded region.

    Returns
    -------
    float64 (k,)
        Unsorted panel ends (``composite_legendre`` sorts them).

    Examples
    --------
    >>> np.sort(graded_edges(0.0, 0.25, 1.0)).tolist()
    [-1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0]
    """
    if not (width > 0 and reach > 0):
        return np.array([center], dtype=np.float64)
    k = max(0, int(math.ceil(math.log2(reach / width))))
    st = np.minimum(width * 2.0 ** np.arange(k + 1), reach)
    return np.concatenate([[center], center - st, center + st])


def composite_legendre(edges, order: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Legendre nodes and weights (Lebesgue measure) on the panels between sorted unique ``edges``.

    Parameters
    ----------
    edges : array_like of float
        Panel ends (sorted and de-duplicated here; at least two distinct values).
    order : int
        Nodes per panel.

    Returns
    -------
    t, w : float64 (n,), (n,)

    Examples
    --------
    >>> t, w = composite_legendre([0.0, 1.0, 3.0])
    >>> round(float(w @ t**2), 12)                      # int_0^3 t^2 dt
    9.0
    """
    e = np.unique(np.asarray(edges, dtype=np.float64))
    e = e[np.concatenate([[True], np.diff(e) > 1e-14 * np.maximum(1.0, np.abs(e[1:]))])]
    x, wl = _legendre(int(order))
    a, b = e[:-1, None], e[1:, None]
    return (0.5 * (a + b) + 0.5 * (b - a) * x[None, :]).ravel(), (0.5 * (b - a) * wl[None, :]).ravel()


def graded_gauss_rule(centers, widths, order: int = 12, L: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss–Legendre rule for ``E h(xi)``, xi ~ N(0, 1), graded towards ``centers``.

    Panels of width <= 1 cover [-L, L]; around each center c of width d the panel
    ends ``c +- d 2^k`` resolve features of width d (down to 1e-8 and below) that
    Gauss–Hermite misses (state evolution uses it for the sign channel as q -> rho).

    Parameters
    ----------
    centers : array_like of float, (k,)
        Feature locations in xi.
    widths : float or array_like of float, (k,)
        Feature widths in xi (> 0).
    order : int
        Gauss–Legendre nodes per panel.
    L : float
        Half-width of the truncated line (``Phi(-10) ~ 8e-24``).

    Returns
    -------
    t, w : float64 (n,), (n,)
        Nodes and weights (weights include the Gaussian density and sum to 1 - 2 Phi(-L)).

    Examples
    --------
    >>> t, w = graded_gauss_rule([0.0], 1e-6)
    >>> round(float(w.sum()), 12), round(float(w @ (t > 0)), 12)
    (1.0, 0.5)
    """
    centers = np.asarray(centers, dtype=np.float64).ravel()
    widths = np.broadcast_to(np.asarray(widths, dtype=np.float64), centers.shape)
    cuts = [np.linspace(-L, L, int(round(2 * L)) + 1)]
    for c, d in zip(centers, widths):
        if -L < c < L and 0 < d < 1:
            cuts.append(graded_edges(c, d, 1.0))
    t, w = composite_legendre(np.clip(np.concatenate(cuts), -L, L), order)
    return t, w * np.exp(-0.5 * t * t) / math.sqrt(2.0 * math.pi)


def _r_rule(atoms, slabs, features, Sigma):
    """Rule in r for ``int Z_in(r, Sigma) h(r) dr`` of a prior made of point masses and Gaussian parts.

    ``atoms``: locations (bumps N(a, Sigma), graded from sqrt(Sigma)/8 to 12 sqrt(Sigma));
    ``slabs``: (mean, var) pairs (panels of width sqrt(var + Sigma)/4 over 12 standard
    deviations); ``features``: (locations, widths) of the posterior's decision boundaries.
    """
    s0 = math.sqrt(Sigma)
    cuts = [graded_edges(a, s0 / 8.0, 12.0 * s0) for a in atoms]
    for m, v in slabs:
        cuts.append(m + math.sqrt(v + Sigma) * np.linspace(-12.0, 12.0, 97))
    for c, d in zip(*features):
        cuts.append(graded_edges(c, d / 4.0, 12.0 * s0))
    return composite_legendre(np.concatenate(cuts))


def _fmt(x: float) -> str:
    return f"{float(x):.12g}"


def _finite(name: str, value) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return x


def _broadcast_flat(*arrays):
    arrs = np.broadcast_arrays(*[np.asarray(a, dtype=np.float64) for a in arrays])
    shape = arrs[0].shape
    return shape, [np.ascontiguousarray(a).ravel() for a in arrs]


def _shaped(shape, *flat):
    if shape == ():
        return tuple(float(a[0]) for a in flat)
    return tuple(a.reshape(shape) for a in flat)


# ============================================================================ priors
class Prior:
    """A prior P_X on a scalar weight: the input side of the denoiser contract.

    Subclasses define ``kernel_spec`` (then ``f_in`` runs the Numba kernel) or
    override ``f_in``; and ``mean``, ``var``, ``sample``, ``quadrature``,
    ``identify``. ``atoms`` and ``log_density`` describe P_X for
    ``check_denoiser`` (point masses plus a continuous part).
    """

    def kernel_spec(self) -> tuple[int, np.ndarray]:
        """``(code, params)`` of the Numba kernel ``prior_fin`` (see ``_denoise_kernels``)."""
        raise NotImplementedError(
            f"{type(self).__name__} has no Numba kernel: define kernel_spec() -> (code, params) "
            "or override f_in(r, Sigma) -> (f, v, logZ)"
        )

    def f_in(self, r, Sigma):
        """Posterior mean, variance and log Z_in at cavity ``r = x + sqrt(Sigma) z``.

        Parameters
        ----------
        r : array_like of float
            Cavity means.
        Sigma : array_like of float
            Cavity variances (> 0), broadcast against ``r``.

        Returns
        -------
        f, v, logz : float64 arrays of the broadcast shape (floats for scalar input)
            ``E[x|r]``, ``Var[x|r]`` and ``log int P_X(x) N(x; r, Sigma) dx``.
        """
        code, params = self.kernel_spec()
        shape, (r, S) = _broadcast_flat(r, Sigma)
        if np.any(~(S > 0.0)):
            raise ValueError(f"Sigma must be > 0, got min {S.min() if S.size else S!r}")
        f, v, lz = np.empty_like(r), np.empty_like(r), np.empty_like(r)
        _prior_fin_vec(code, params, r, S, f, v, lz)
        return _shaped(shape, f, v, lz)

    @property
    def mean(self) -> float:
        """E x."""
        raise NotImplementedError

    @property
    def var(self) -> float:
        """Var x."""
        raise NotImplementedError

    @property
    def second_moment(self) -> float:
        """rho = E x^2 (the variance of z = Fx per unit row norm)."""
        return self.var + self.mean**2

    def sample(self, n: int, seed=None) -> np.ndarray:
        """``n`` i.i.d. draws, float64 (n,)."""
        raise NotImplementedError

    def quadrature(self, n_nodes: int = _DEFAULT_NODES) -> tuple[np.ndarray, np.ndarray]:
        """Points and weights with ``E h(x) ~ sum_k w_k h(x_k)``: float64 (k,), (k,)."""
        raise NotImplementedError

    def atoms(self) -> tuple[np.ndarray, np.ndarray]:
        """Point masses of P_X: locations and masses, float64 (k,), (k,) (default none)."""
        return np.zeros(0), np.zeros(0)

    def log_density(self, x):
        """Log density of the continuous part of P_X (``-inf`` if none), float64 like ``x``."""
        return np.full(np.shape(x), -np.inf)

    def features(self, Sigma: float) -> tuple[np.ndarray, np.ndarray]:
        """Where ``f_in(., Sigma)`` jumps in r (decision boundaries): locations and widths, (k,), (k,)."""
        return np.zeros(0), np.zeros(0)

    def r_rule(self, Sigma: float):
        """A quadrature rule ``(r, w)`` (float64 (n,), (n,)) for ``int Z_in(r, Sigma) h(r) dr``, or None.

        Priors whose posterior has sharp features (point masses, decision boundaries)
        return one graded at them; state evolution then evaluates
        ``q' = int Z_in(r) f_in(r)^2 dr`` (equal to ``E[x f_in]`` by the Nishimori
        identity). None (the default): Gauss–Hermite over ``quadrature`` and xi.
        """
        return None

    def identify(self) -> str:
        """One-line description, parsed back by ``from_name(text, kind="prior")``."""
        return type(self).__name__

    def __repr__(self) -> str:
        return f"{type(self).__name__}<{self.identify()}>"


class GaussianPrior(Prior):
    """x ~ N(mean, var).

    Parameters
    ----------
    var : float
        Variance, > 0.
    mean : float
        Mean.

    Examples
    --------
    >>> p = GaussianPrior(2.0)
    >>> f, v, _ = p.f_in(1.0, 0.5)
    >>> f, v                                # rho r / (rho + Sigma), rho Sigma / (rho + Sigma)
    (0.8, 0.4)
    >>> p.identify(), p.second_moment
    ('gaussian:2,0', 2.0)
    """

    def __init__(self, var: float = 1.0, mean: float = 0.0):
        self._var = _finite("GaussianPrior var", var)
        self._mean = _finite("GaussianPrior mean", mean)
        if self._var <= 0:
            raise ValueError(f"GaussianPrior var must be > 0, got {var!r}")

    def kernel_spec(self):
        return PRIOR_GAUSSIAN, np.array([self._mean, self._var])

    @property
    def mean(self):
        return self._mean

    @property
    def var(self):
        return self._var

    def sample(self, n, seed=None):
        return self._mean + math.sqrt(self._var) * as_generator(seed).standard_normal(int(n))

    def quadrature(self, n_nodes=_DEFAULT_NODES):
        t, w = gauss_hermite(n_nodes)
        return self._mean + math.sqrt(self._var) * t, w

    def log_density(self, x):
        x = np.asarray(x, dtype=np.float64)
        return -0.5 * (x - self._mean) ** 2 / self._var - 0.5 * (LOG_2PI + math.log(self._var))

    def identify(self):
        if self._mean == 0.0 and self._var == 1.0:
            return "gaussian"
        return f"gaussian:{_fmt(self._var)},{_fmt(self._mean)}"  # two numbers: never read as the channel


class DiscretePrior(Prior):
    """x = levels[k] with probability weights[k].

    Parameters
    ----------
    levels : array_like of float, (K,)
        Finite, strictly increasing levels.
    weights : array_like of float, (K,), optional
        Nonnegative, normalised to sum 1 (default uniform).

    Examples
    --------
    >>> p = DiscretePrior([-1, 0, 1], [0.25, 0.5, 0.25])
    >>> p.mean, p.var
    (0.0, 0.5)
    >>> f, v, _ = p.f_in(0.0, 1e-12)            # stable for tiny Sigma
    >>> f, v
    (0.0, 0.0)
    """

    def __init__(self, levels, weights=None):
        lv = np.asarray(levels, dtype=np.float64).ravel()
        if lv.size == 0:
            raise ValueError("DiscretePrior needs at least one level")
        if not np.all(np.isfinite(lv)):
            raise ValueError(f"DiscretePrior levels must be finite, got {lv.tolist()}")
        if lv.size > 1 and np.any(np.diff(lv) <= 0):
            raise ValueError(f"DiscretePrior levels must be sorted and unique, got {lv.tolist()}")
        if weights is None:
            w = np.full(lv.size, 1.0 / lv.size)
        else:
            w = np.asarray(weights, dtype=np.float64).ravel()
            if w.shape != lv.shape:
                raise ValueError(f"DiscretePrior got {lv.size} levels but {w.size} weights")
            if not np.all(np.isfinite(w)) or np.any(w < 0):
                raise ValueError(f"DiscretePrior weights must be finite and >= 0, got {w.tolist()}")
            if w.sum() <= 0:
                raise ValueError(f"DiscretePrior weights must not all be zero, got {w.tolist()}")
            w = w / w.sum()
        self.levels = lv
        self.weights = w
        self.levels.setflags(write=False)
        self.weights.setflags(write=False)

    def kernel_spec(self):
        K = self.levels.size
        return PRIOR_DISCRETE, np.concatenate([[float(K)], self.levels, self.weights])

    @property
    def mean(self):
        return float(self.weights @ self.levels)

    @property
    def var(self):
        return float(self.weights @ (self.levels - self.mean) ** 2)

    @property
    def second_moment(self):
        return float(self.weights @ self.levels**2)

    def sample(self, n, seed=None):
        rng = as_generator(seed)
        return self.levels[rng.choice(self.levels.size, size=int(n), p=self.weights)].astype(np.float64)

    def quadrature(self, n_nodes=_DEFAULT_NODES):
        keep = self.weights > 0
        return self.levels[keep].copy(), self.weights[keep].copy()

    def atoms(self):
        return self.quadrature()

    def features(self, Sigma):
        """Decision boundaries between consecutive levels and their widths.

        ``b_k = (l_k + l_k+1)/2 + Sigma ln(w_k / w_k+1) / (l_k+1 - l_k)``, width ``Sigma / (l_k+1 - l_k)``.
        """
        lv, w = self.quadrature()
        if lv.size < 2:
            return np.zeros(0), np.zeros(0)
        gap = np.diff(lv)
        b = 0.5 * (lv[1:] + lv[:-1]) + Sigma * (np.log(w[:-1]) - np.log(w[1:])) / gap
        return b, Sigma / gap

    def r_rule(self, Sigma):
        return _r_rule(self.quadrature()[0], [], self.features(Sigma), Sigma)

    def identify(self):
        text = "levels:" + ",".join(_fmt(x) for x in self.levels)
        if np.allclose(self.weights, 1.0 / self.levels.size, rtol=0, atol=1e-15):
            return text
        return text + "@" + ",".join(_fmt(x) for x in self.weights)


class BinaryPrior(DiscretePrior):
    """x = +1 with probability p_plus, else -1 (Rademacher for p_plus = 1/2).

    ``f_in = tanh(r / Sigma + atanh(2 p_plus - 1))``, ``v_in = 1 - f_in^2`` (computed without cancellation).

    Parameters
    ----------
    p_plus : float
        P(x = +1), in [0, 1].

    Examples
    --------
    >>> f, v, _ = BinaryPrior().f_in(1e3, 1e-12)
    >>> f, v
    (1.0, 0.0)
    """

    def __init__(self, p_plus: float = 0.5):
        p = _finite("BinaryPrior p_plus", p_plus)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"BinaryPrior p_plus must be in [0, 1], got {p_plus!r}")
        super().__init__([-1.0, 1.0], [1.0 - p, p])
        self.p_plus = p

    def kernel_spec(self):
        return PRIOR_BINARY, np.array([self.p_plus])

    def sample(self, n, seed=None):
        u = as_generator(seed).random(int(n))
        return np.where(u < self.p_plus, 1.0, -1.0)

    def identify(self):
        return "binary" if self.p_plus == 0.5 else f"binary:{_fmt(self.p_plus)}"


class GaussBernoulli(Prior):
    """x = 0 with probability 1 - rho, else x ~ N(mean, var) (sparse prior).

    Parameters
    ----------
    rho : float
        Density of nonzeros, in [0, 1].
    var, mean : float
        Variance (> 0) and mean of the nonzero part.

    Examples
    --------
    >>> p = GaussBernoulli(0.1)
    >>> p.mean, p.var, p.identify()
    (0.0, 0.1, 'gauss-bernoulli:0.1')
    """

    def __init__(self, rho: float, var: float = 1.0, mean: float = 0.0):
        self.rho = _finite("GaussBernoulli rho", rho)
        self._var = _finite("GaussBernoulli var", var)
        self._mean = _finite("GaussBernoulli mean", mean)
        if not 0.0 <= self.rho <= 1.0:
            raise ValueError(f"GaussBernoulli rho must be in [0, 1], got {rho!r}")
        if self._var <= 0:
            raise ValueError(f"GaussBernoulli var must be > 0, got {var!r}")

    def kernel_spec(self):
        return PRIOR_GAUSS_BERNOULLI, np.array([self.rho, self._mean, self._var])

    @property
    def mean(self):
        return self.rho * self._mean

    @property
    def var(self):
        return self.second_moment - self.mean**2

    @property
    def second_moment(self):
        return self.rho * (self._var + self._mean**2)

    def sample(self, n, seed=None):
        rng = as_generator(seed)
        n = int(n)
        on = rng.random(n) < self.rho
        return np.where(on, self._mean + math.sqrt(self._var) * rng.standard_normal(n), 0.0)

    def quadrature(self, n_nodes=_DEFAULT_NODES):
        t, w = gauss_hermite(n_nodes)
        pts = np.concatenate([[0.0], self._mean + math.sqrt(self._var) * t])
        wts = np.concatenate([[1.0 - self.rho], self.rho * w])
        keep = wts > 0
        return pts[keep], wts[keep]

    def atoms(self):
        if self.rho >= 1.0:
            return np.zeros(0), np.zeros(0)
        return np.zeros(1), np.array([1.0 - self.rho])

    def features(self, Sigma):
        """Where spike and slab are equally likely: roots of the quadratic log-odds, widths 1/|slope|."""
        if not 0.0 < self.rho < 1.0:
            return np.zeros(0), np.zeros(0)
        s = self._var + Sigma
        a = 0.5 / Sigma - 0.5 / s
        b = self._mean / s
        c = math.log(self.rho / (1.0 - self.rho)) - 0.5 * self._mean**2 / s - 0.5 * math.log(s / Sigma)
        disc = b * b - 4.0 * a * c
        if disc <= 0:
            return np.zeros(0), np.zeros(0)
        roots = (-b + np.array([-1.0, 1.0]) * math.sqrt(disc)) / (2.0 * a)
        return roots, 1.0 / np.abs(2.0 * a * roots + b)

    def r_rule(self, Sigma):
        atoms = [0.0] if self.rho < 1.0 else []
        slabs = [(self._mean, self._var)] if self.rho > 0.0 else []
        return _r_rule(atoms, slabs, self.features(Sigma), Sigma)

    def log_density(self, x):
        x = np.asarray(x, dtype=np.float64)
        if self.rho <= 0.0:
            return np.full(x.shape, -np.inf)
        return (
            math.log(self.rho)
            - 0.5 * (x - self._mean) ** 2 / self._var
            - 0.5 * (LOG_2PI + math.log(self._var))
        )

    def identify(self):
        text = f"gauss-bernoulli:{_fmt(self.rho)}"
        if self._mean != 0.0:
            return text + f",{_fmt(self._var)},{_fmt(self._mean)}"
        return text if self._var == 1.0 else text + f",{_fmt(self._var)}"


# ============================================================================ channels
class Channel:
    """An output channel P_out(y | z): the output side of the denoiser contract.

    Subclasses define ``kernel_spec`` (then ``g_out`` runs the Numba kernel) or
    override ``g_out``; and ``sample``, ``y_quadrature``, ``identify``.
    ``log_likelihood`` and ``features`` describe P_out for ``check_denoiser`` (and ``features``
    refines the SE quadrature);
    ``gen_error`` maps an overlap to the Bayes generalisation error (None if undefined).
    """

    def kernel_spec(self) -> tuple[int, np.ndarray]:
        """``(code, params)`` of the Numba kernel ``channel_gout`` (see ``_denoise_kernels``)."""
        raise NotImplementedError(
            f"{type(self).__name__} has no Numba kernel: define kernel_spec() -> (code, params) "
            "or override g_out(y, omega, V) -> (g, dg, logZ)"
        )

    def g_out(self, y, omega, V):
        """Output function, its omega-derivative and log Z_out at ``z ~ N(omega, V)``.

        Parameters
        ----------
        y, omega : array_like of float
            Observations and means of z.
        V : array_like of float
            Variances of z (> 0); the three arguments broadcast.

        Returns
        -------
        g, dg, logz : float64 arrays of the broadcast shape (floats for scalar input)
            ``d_omega log Z_out``, ``d_omega^2 log Z_out`` and ``log Z_out``.
        """
        code, params = self.kernel_spec()
        shape, (y, w, V) = _broadcast_flat(y, omega, V)
        if np.any(~(V > 0.0)):
            raise ValueError(f"V must be > 0, got min {V.min() if V.size else V!r}")
        g, dg, lz = np.empty_like(y), np.empty_like(y), np.empty_like(y)
        _channel_gout_vec(code, params, y, w, V, g, dg, lz)
        return _shaped(shape, g, dg, lz)

    def sample(self, z, seed=None) -> np.ndarray:
        """Draw y ~ P_out(. | z), float64 shaped like ``z``."""
        raise NotImplementedError

    def y_quadrature(self, omega, V, n_nodes: int = 32) -> tuple[np.ndarray, np.ndarray]:
        """The law of y when z ~ N(omega, V), as a quadrature.

        Parameters
        ----------
        omega : float64 (n,)
            Means of z.
        V : float or float64 (n,)
            Variances of z (> 0).
        n_nodes : int
            Nodes for continuous y (ignored by discrete channels).

        Returns
        -------
        y, w : float64 (n, k), (n, k)
            Points and weights (rows sum to 1): ``E[h(y)] ~ sum_k w[:, k] h(y[:, k])``.
        """
        raise NotImplementedError

    def log_likelihood(self, y, z):
        """log P_out(y | z) (density in y for continuous channels), float64 like ``z``."""
        raise NotImplementedError

    def features(self) -> np.ndarray:
        """Values of z near which P_out(y | z) varies sharply (jumps), float64 (k,) (default none).

        State evolution refines its quadrature in xi around them (``Z_out`` has width ``sqrt V``
        there, which Gauss–Hermite cannot resolve as V -> 0); ``check_denoiser`` uses them as
        hints for ``quad``. A user channel with sharp features should declare them.
        """
        return np.zeros(0)

    def gen_error(self, q, rho):
        """Bayes generalisation error at overlap q (None if the channel defines none)."""
        return None

    def identify(self) -> str:
        """One-line description, parsed back by ``from_name(text, kind="channel")``."""
        return type(self).__name__

    def __repr__(self) -> str:
        return f"{type(self).__name__}<{self.identify()}>"


def _noise(name, noise):
    d = _finite(f"{name} noise", noise)
    if d < 0:
        raise ValueError(f"{name} noise must be >= 0, got {noise!r}")
    return d


class GaussianChannel(Channel):
    """y = z + sqrt(noise) xi: ``g_out = (y - omega)/(noise + V)``, ``dg_out = -1/(noise + V)``.

    Parameters
    ----------
    noise : float
        Noise variance Delta, >= 0.

    Examples
    --------
    >>> GaussianChannel(0.5).g_out(1.0, 0.0, 1.5)[:2]
    (0.5, -0.5)
    """

    def __init__(self, noise: float):
        self.noise = _noise("GaussianChannel", noise)

    def kernel_spec(self):
        return CHANNEL_GAUSSIAN, np.array([self.noise])

    def sample(self, z, seed=None):
        z = np.asarray(z, dtype=np.float64)
        return z + math.sqrt(self.noise) * as_generator(seed).standard_normal(z.shape)

    def y_quadrature(self, omega, V, n_nodes=32):
        omega = np.asarray(omega, dtype=np.float64).reshape(-1, 1)
        s = np.sqrt(np.asarray(V, dtype=np.float64).reshape(-1, 1) + self.noise)
        t, w = gauss_hermite(n_nodes)
        y = omega + s * t[None, :]
        return y, np.broadcast_to(w, y.shape).copy()

    def log_likelihood(self, y, z):
        if self.noise <= 0:
            raise ValueError("GaussianChannel with noise 0 has no likelihood density")
        z = np.asarray(z, dtype=np.float64)
        return -0.5 * (y - z) ** 2 / self.noise - 0.5 * (LOG_2PI + math.log(self.noise))

    def identify(self):
        return f"gaussian:{_fmt(self.noise)}"


class NoisySignChannel(Channel):
    """y = sign(z + sqrt(noise) xi): the sign channel with V -> V + noise.

    Parameters
    ----------
    noise : float
        Variance of the pre-activation noise, >= 0.

    Examples
    --------
    >>> import numpy as np
    >>> g1 = NoisySignChannel(0.5).g_out(1.0, 0.2, 1.0)
    >>> g2 = SignChannel().g_out(1.0, 0.2, 1.5)
    >>> bool(np.allclose(g1, g2))
    True
    """

    def __init__(self, noise: float):
        self.noise = _noise("NoisySignChannel", noise)

    def kernel_spec(self):
        return CHANNEL_NOISY_SIGN, np.array([self.noise])

    def sample(self, z, seed=None):
        z = np.asarray(z, dtype=np.float64)
        if self.noise > 0:
            z = z + math.sqrt(self.noise) * as_generator(seed).standard_normal(z.shape)
        return np.where(z >= 0, 1.0, -1.0)

    def y_quadrature(self, omega, V, n_nodes=32):
        omega = np.asarray(omega, dtype=np.float64).reshape(-1, 1)
        u = omega / np.sqrt(np.asarray(V, dtype=np.float64).reshape(-1, 1) + self.noise)
        y = np.broadcast_to(np.array([-1.0, 1.0]), (omega.shape[0], 2)).copy()
        w = np.concatenate([special.ndtr(-u), special.ndtr(u)], axis=1)
        return y, w

    def log_likelihood(self, y, z):
        z = np.asarray(z, dtype=np.float64)
        s = 1.0 if y >= 0 else -1.0
        if self.noise == 0.0:
            return np.where(s * z > 0, 0.0, -np.inf)
        return special.log_ndtr(s * z / math.sqrt(self.noise))

    def features(self):
        return np.zeros(1)

    def gen_error(self, q, rho):
        """``arccos(sqrt(q / rho)) / pi``: disagreement of the Bayes prediction with the teacher's sign(z)."""
        c = np.sqrt(np.clip(np.asarray(q, dtype=np.float64) / rho, 0.0, 1.0))
        out = np.arccos(c) / np.pi
        return float(out) if out.ndim == 0 else out

    def identify(self):
        return f"noisy_sign:{_fmt(self.noise)}"


class SignChannel(NoisySignChannel):
    """y = sign(z): ``Z_out = Phi(u)``, ``u = y omega / sqrt V`` (log Phi computed stably).

    Examples
    --------
    >>> import numpy as np
    >>> g, dg, logz = SignChannel().g_out(-1.0, 40.0, 1.0)     # u = -40
    >>> bool(np.isclose(g, -40.02496884720726)), bool(np.isclose(logz, -804.6084420137538))
    (True, True)
    >>> SignChannel().gen_error(1.0, 1.0)
    0.0
    """

    def __init__(self):
        super().__init__(0.0)

    def kernel_spec(self):
        return CHANNEL_SIGN, np.zeros(1)

    def identify(self):
        return "sign"


# ============================================================================ parsing
_PRIOR_FORMS = (
    "gaussian[:var[,mean]]",
    "binary[:p_plus]",
    "levels:l0,l1,...[@w0,w1,...]",
    "gauss-bernoulli:rho[,var[,mean]]",
)
_CHANNEL_FORMS = ("gaussian:noise", "sign", "noisy_sign:noise")


def _numbers(text: str, where: str) -> list[float]:
    try:
        return [float(t) for t in text.split(",") if t.strip() != ""]
    except ValueError:
        raise ValueError(f"cannot read numbers in {where!r}") from None


def from_name(text: str, kind: str | None = None):
    """Parse a prior or channel from its one-line form (the CLI syntax; ``identify()`` round-trips).

    Parameters
    ----------
    text : str
        Priors: ``gaussian[:var[,mean]]``, ``binary[:p_plus]``, ``levels:-1,0,1`` (uniform
        weights) or ``levels:-1,0,1@0.25,0.5,0.25``, ``gauss-bernoulli:rho[,var[,mean]]``.
        Channels: ``gaussian:noise``, ``sign``, ``noisy_sign:noise``.
    kind : {"prior", "channel", None}
        Restrict the parse. With None, ``gaussian`` alone (or with two numbers) is the prior
        and ``gaussian:noise`` is the channel.

    Returns
    -------
    Prior or Channel

    Examples
    --------
    >>> from_name("gaussian"), from_name("gaussian:0.01")
    (GaussianPrior<gaussian>, GaussianChannel<gaussian:0.01>)
    >>> from_name("gaussian:2", kind="prior").var
    2.0
    >>> from_name("gauss-bernoulli:0.1").rho
    0.1
    """
    if kind not in (None, "prior", "channel"):
        raise ValueError(f"kind must be 'prior', 'channel' or None, got {kind!r}")
    raw = str(text).strip()
    name, _, arg = raw.partition(":")
    name = name.strip().lower().replace("_", "-")
    valid = (
        f"valid priors: {', '.join(_PRIOR_FORMS)}; valid channels: {', '.join(_CHANNEL_FORMS)}"
    )
    try:
        if name == "gaussian":
            nums = _numbers(arg, raw)
            as_channel = kind == "channel" or (kind is None and len(nums) == 1)
            if as_channel:
                if len(nums) != 1:
                    raise ValueError(f"channel {raw!r} needs exactly one noise value")
                return GaussianChannel(nums[0])
            if len(nums) > 2:
                raise ValueError(f"prior {raw!r} takes at most var,mean")
            return GaussianPrior(*nums)
        if kind != "channel":
            if name == "binary":
                nums = _numbers(arg, raw)
                if len(nums) > 1:
                    raise ValueError(f"prior {raw!r} takes at most p_plus")
                return BinaryPrior(*nums)
            if name == "levels":
                lv, _, wt = arg.partition("@")
                levels = _numbers(lv, raw)
                weights = _numbers(wt, raw) if wt.strip() else None
                return DiscretePrior(levels, weights)
            if name == "gauss-bernoulli":
                nums = _numbers(arg, raw)
                if not 1 <= len(nums) <= 3:
                    raise ValueError(f"prior {raw!r} needs rho[,var[,mean]]")
                return GaussBernoulli(*nums)
        if kind != "prior":
            if name == "sign":
                if arg.strip():
                    raise ValueError(f"channel {raw!r} takes no parameter (use noisy_sign:noise)")
                return SignChannel()
            if name == "noisy-sign":
                nums = _numbers(arg, raw)
                if len(nums) != 1:
                    raise ValueError(f"channel {raw!r} needs exactly one noise value")
                return NoisySignChannel(nums[0])
    except ValueError as err:
        raise ValueError(f"{err} ({valid})") from None
    raise ValueError(f"unknown {kind or 'prior or channel'} {raw!r}; {valid}")


# ============================================================================ checking
def _fd(fun, x, h):
    """Five-point central difference of a vectorised function."""
    return (-fun(x + 2 * h) + 8 * fun(x + h) - 8 * fun(x - h) + fun(x - 2 * h)) / (12 * h)


def _posterior_moments(atoms, log_atoms, log_cont, lo, hi, hints, c):
    """log Z, mean - c and variance of (point masses + continuous part on [lo, hi]), by quad."""
    grid = np.concatenate([np.linspace(lo, hi, 2001), [h for h in hints if lo < h < hi]])
    lc = log_cont(grid)
    shift = max(np.max(lc), np.max(log_atoms) if len(log_atoms) else -np.inf)
    pts = sorted({float(h) for h in hints if lo < h < hi})
    opts = dict(points=pts or None, limit=200, epsabs=0.0, epsrel=1e-10)
    has_cont = bool(np.isfinite(np.max(lc)))

    def moment(k, c):
        if not has_cont:
            return 0.0

        def fun(x):
            return float(np.exp(log_cont(np.array([x]))[0] - shift)) * (x - c) ** k

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", integrate.IntegrationWarning)
            return integrate.quad(fun, lo, hi, **opts)[0]

    wa = np.exp(np.asarray(log_atoms) - shift) if len(log_atoms) else np.zeros(0)
    z = wa.sum() + moment(0, c)
    d = ((wa * (atoms - c)).sum() + moment(1, c)) / z
    v = ((wa * (atoms - c - d) ** 2).sum() + moment(2, c + d)) / z
    return shift + math.log(z), d, v


def _err(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b)) / (1.0 + np.abs(np.asarray(b)))))


def check_denoiser(den, n_points: int = 20, seed=0) -> dict:
    """Compare a prior's or channel's outputs with numerical integration and finite differences.

    For a prior, random cavities ``(r, Sigma)`` (``Sigma`` log-uniform in [1e-2, 10],
    ``r = x + sqrt(Sigma) z`` with x from the prior); for a channel, random ``(y, omega, V)``
    (``V`` log-uniform in [1e-2, 3], y drawn from the channel at z ~ N(omega, V)).
    Quadrature: ``scipy.integrate.quad`` of P_X(x) N(x; r, Sigma) (point masses summed
    exactly), resp. P_out(y|z) N(z; omega, V). Finite differences (five-point) of the
    kernel's log Z: ``f_in = r + Sigma d_r log Z``, ``v_in = Sigma d_r f_in``, resp.
    ``g = d_omega log Z``, ``dg = d_omega g``.

    Parameters
    ----------
    den : Prior or Channel
        The denoiser to check.
    n_points : int
        Number of random points.
    seed : None, int or numpy Generator
        Seed of the random points.

    Returns
    -------
    dict
        Max errors ``|a - b| / (1 + |b|)``: for a prior keys ``f_quad``, ``v_quad``,
        ``logz_quad``, ``f_fd``, ``v_fd``; for a channel ``g_quad``, ``dg_quad``,
        ``logz_quad``, ``g_fd``, ``dg_fd``; plus ``quad`` and ``fd`` (the maxima) and ``n_points``.

    Examples
    --------
    >>> err = check_denoiser(BinaryPrior(), n_points=5)
    >>> err["quad"] < 1e-9, err["fd"] < 1e-7
    (True, True)
    >>> err = check_denoiser(SignChannel(), n_points=5)
    >>> err["quad"] < 1e-9, err["fd"] < 1e-7
    (True, True)
    """
    rng = as_generator(seed)
    n = int(n_points)
    if n < 1:
        raise ValueError(f"n_points must be >= 1, got {n_points}")
    if isinstance(den, Prior):
        return _check_prior(den, n, rng)
    if isinstance(den, Channel):
        return _check_channel(den, n, rng)
    raise TypeError(f"check_denoiser needs a Prior or a Channel, got {type(den).__name__}")


def _check_prior(prior, n, rng):
    Sigma = 10.0 ** rng.uniform(-2.0, 1.0, n)
    r = prior.sample(n, rng) + np.sqrt(Sigma) * rng.standard_normal(n)
    f, v, lz = prior.f_in(r, Sigma)
    atoms, masses = prior.atoms()
    keep = masses > 0
    atoms, masses = atoms[keep], masses[keep]
    fq, vq, lq = np.empty(n), np.empty(n), np.empty(n)
    for k in range(n):
        s, rk = Sigma[k], r[k]
        log_atoms = np.log(masses) - 0.5 * (atoms - rk) ** 2 / s - 0.5 * (LOG_2PI + math.log(s))

        def log_cont(x, rk=rk, s=s):
            return prior.log_density(x) - 0.5 * (x - rk) ** 2 / s - 0.5 * (LOG_2PI + math.log(s))

        w = 40.0 * math.sqrt(s)
        lq[k], d, vq[k] = _posterior_moments(
            atoms, log_atoms, log_cont, rk - w, rk + w, [rk, prior.mean], rk
        )
        fq[k] = rk + d
    h = 1e-3 * np.sqrt(Sigma)

    def logz(x):
        return prior.f_in(x, Sigma)[2]

    def fin(x):
        return prior.f_in(x, Sigma)[0]

    f_fd = r + Sigma * _fd(logz, r, h)
    v_fd = Sigma * _fd(fin, r, h)
    out = dict(
        f_quad=_err(f, fq), v_quad=_err(v, vq), logz_quad=_err(lz, lq),
        f_fd=_err(f, f_fd), v_fd=_err(v, v_fd),
    )
    out["quad"] = max(out["f_quad"], out["v_quad"], out["logz_quad"])
    out["fd"] = max(out["f_fd"], out["v_fd"])
    out["n_points"] = n
    return out


def _check_channel(channel, n, rng):
    V = 10.0 ** rng.uniform(-2.0, math.log10(3.0), n)
    omega = rng.standard_normal(n)
    y = channel.sample(omega + np.sqrt(V) * rng.standard_normal(n), rng)
    g, dg, lz = channel.g_out(y, omega, V)
    gq, dgq, lq = np.empty(n), np.empty(n), np.empty(n)
    for k in range(n):
        vk, wk, yk = V[k], omega[k], y[k]

        def log_cont(zz, vk=vk, wk=wk, yk=yk):
            return channel.log_likelihood(yk, zz) - 0.5 * (zz - wk) ** 2 / vk - 0.5 * (LOG_2PI + math.log(vk))

        w = 40.0 * math.sqrt(vk)
        hints = [wk, *channel.features().tolist()]
        lq[k], d, var = _posterior_moments(np.zeros(0), np.zeros(0), log_cont, wk - w, wk + w, hints, wk)
        gq[k] = d / vk
        dgq[k] = (var - vk) / vk**2
    h = 1e-3 * np.sqrt(V)

    def logz(x):
        return channel.g_out(y, x, V)[2]

    def gout(x):
        return channel.g_out(y, x, V)[0]

    g_fd = _fd(logz, omega, h)
    dg_fd = _fd(gout, omega, h)
    out = dict(
        g_quad=_err(g, gq), dg_quad=_err(dg, dgq), logz_quad=_err(lz, lq),
        g_fd=_err(g, g_fd), dg_fd=_err(dg, dg_fd),
    )
    out["quad"] = max(out["g_quad"], out["dg_quad"], out["logz_quad"])
    out["fd"] = max(out["g_fd"], out["dg_fd"])
    out["n_points"] = n
    return out
