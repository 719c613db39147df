"""Priors P_X: the input side of the denoiser contract (see :mod:`algorithms.denoisers`)."""

from __future__ import annotations

import math

import numpy as np

from fgraph.dtypes import FrozenPickle, as_generator

from ._common import _broadcast_flat, _finite, _fmt, _shaped
from .kernels import (
    LOG_2PI,
    PRIOR_BINARY,
    PRIOR_DISCRETE,
    PRIOR_GAUSS_BERNOULLI,
    PRIOR_GAUSSIAN,
    _prior_fin_vec,
)
from .quadrature import (
    _DEFAULT_NODES,
    _r_rule,
    gauss_hermite,
)


class Prior(FrozenPickle):  # pickles equal, read-only arrays and proxies kept
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
