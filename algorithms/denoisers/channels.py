"""Output channels P_out(y | z): the output side of the denoiser contract (:mod:`algorithms.denoisers`)."""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from fgraph.dtypes import as_generator

from ._common import _broadcast_flat, _finite, _fmt, _shaped
from .kernels import (
    CHANNEL_GAUSSIAN,
    CHANNEL_NOISY_SIGN,
    CHANNEL_SIGN,
    LOG_2PI,
    _channel_gout_vec,
)
from .quadrature import gauss_hermite


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
