"""Permutations for M-covers of dense learning problems (lifted AMP).

The factor graph of a generalised linear model is complete bipartite: factor
mu (an example) meets every weight i.  Its M-cover is fixed by one
permutation per edge (mu, i): factor copy (mu, m) reads weight copy
(i, pi_mu,i(m)) (docs/theory.md §6.9).
:func:`glm_perms` draws those permutations from a kernel Q, in the edge order
``algorithms.run_amp(..., lift=perms)`` reads, without building the graph
(problems with a continuous prior have none).
"""

from __future__ import annotations

import numbers

import numpy as np

from .kernels import Kernel, from_spec

__all__ = ["glm_perms"]


def _shape(problem) -> tuple[int, int]:
    F = getattr(problem, "F", None)
    if F is None and isinstance(problem, (tuple, list)) and len(problem) == 2:
        if all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in problem):
            P, N = int(problem[0]), int(problem[1])
            if P < 1 or N < 1:
                raise ValueError(f"problem shape (P, N) must be positive, got {(P, N)}")
            return P, N
        F = problem[0]
    if F is None:
        raise TypeError(
            "problem must be a learning problem with a data matrix F, an (F, y) pair or a shape (P, N), "
            f"got {type(problem).__name__}"
        )
    F = np.asarray(F)
    if F.ndim != 2:
        raise ValueError(f"the data matrix F must be 2-D (P, N), got shape {F.shape}")
    return int(F.shape[0]), int(F.shape[1])


def glm_perms(problem, M: int, kernel, seed=None) -> np.ndarray:
    """Draw the permutations of an M-cover of a dense learning problem from a kernel Q.

    Parameters
    ----------
    problem : Problem, (F, y) or (P, N)
        A learning problem (``fgraph.problems.perceptron`` ...: its data matrix
        ``F`` of shape (P, N) fixes the graph), a data pair, or the shape itself.
    M : int >= 1
        Cover degree.
    kernel : Kernel or str
        The kernel Q (an instance, or a spec such as ``"ring:1.0"``, see
        :func:`lifts.from_spec`).
    seed : int, None or numpy Generator

    Returns
    -------
    ndarray of int64, shape (P N, M)
        Row ``mu N + i`` is the permutation ``m -> pi_mu,i(m)`` of edge (mu, i),
        the layout ``algorithms.run_amp(..., lift=perms)`` reads.

    Examples
    --------
    >>> import numpy as np, algorithms
    >>> from fgraph.problems import perceptron
    >>> prob = perceptron(200, 2.0, seed=0, graph=False)
    >>> perms = glm_perms(prob, 4, "ring:1.0", seed=1)
    >>> perms.shape, perms.dtype
    ((80000, 4), dtype('int64'))
    >>> r = algorithms.run_amp(prob, "binary", "sign", lift=perms, max_iter=30)
    >>> r.estimate.shape
    (200, 4)
    """
    P, N = _shape(problem)
    if isinstance(M, bool) or not isinstance(M, numbers.Integral) or M < 1:
        raise ValueError(f"M (the cover degree) must be an int >= 1, got {M!r}")
    if isinstance(kernel, str):
        kernel = from_spec(kernel)
    if not isinstance(kernel, Kernel):
        raise TypeError(f"kernel must be a lifts.Kernel or a spec string, got {type(kernel).__name__}")
    return np.ascontiguousarray(kernel.sample(P * N, int(M), seed), dtype=np.int64)
