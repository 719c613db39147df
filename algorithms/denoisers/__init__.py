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
:mod:`algorithms.denoisers.kernels` (``kernel_spec()`` gives the integer code
and parameter array AMP passes to them). State evolution needs, in addition,
the prior as a quadrature (``quadrature``, optionally ``r_rule``) and the law of
y given (omega, V) as a quadrature (``Channel.y_quadrature``, optionally
``features``). ``check_denoiser`` tests all of it
against ``scipy.integrate.quad`` and finite differences of log Z (docs/theory.md
§6.2-6.6).

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

from .channels import Channel, GaussianChannel, NoisySignChannel, SignChannel
from .check import check_denoiser
from .names import from_name
from .priors import BinaryPrior, DiscretePrior, GaussBernoulli, GaussianPrior, Prior
from .quadrature import composite_legendre, gauss_hermite, graded_edges, graded_gauss_rule

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
