"""Quadrature rules of the denoiser contract: Gauss-Hermite and graded composite Gauss-Legendre.

State evolution and :func:`check_denoiser` integrate against the Gaussian measure and
against posteriors whose integrands have kinks or narrow bumps; these rules put the
nodes where the integrands change.
"""

from __future__ import annotations

import functools
import math

import numpy as np

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
