"""Scoring copies and ensembles on fresh data (docs/theory.md §7.6)."""

from __future__ import annotations

import math

import numpy as np

from fgraph.dtypes import FLOAT, as_generator

from ._base import check_positive_int
from .perceptron import sign_labels

__all__ = ["teacher_test_set", "copy_and_ensemble_errors", "mean_sem"]

N_TEST = 10_000


def teacher_test_set(problem, n_test: int = N_TEST, seed=None):
    """Fresh labelled examples from the teacher of a teacher-student problem, or None.

    Parameters
    ----------
    problem : Problem
        From :func:`fgraph.problems.perceptron` or :func:`~fgraph.problems.committee`
        (inputs i.i.d. ``N(0, 1/N)``); other problems have no teacher.
    n_test : int >= 1
    seed : int, numpy Generator or None

    Returns
    -------
    (X, y) or None
        ``X`` float64 (n_test, N), ``y`` float64 (n_test,): the teacher's
        noiseless labels ``sign(X w*)`` or ``sign(sum_k sign(X W*_k))``.

    Examples
    --------
    >>> from fgraph.problems import perceptron
    >>> prob = perceptron(50, 1.0, seed=0, graph=False)
    >>> X, y = teacher_test_set(prob, 100, seed=1)
    >>> X.shape, sorted(set(y.tolist()))
    ((100, 50), [-1.0, 1.0])
    """
    n_test = check_positive_int(n_test, "n_test")
    meta = getattr(problem, "meta", {})
    kind = meta.get("kind")
    if kind not in ("perceptron", "committee"):
        return None
    teacher = np.asarray(meta["teacher"], dtype=FLOAT)
    n = teacher.shape[-1]
    rng = as_generator(seed)
    X = rng.standard_normal((n_test, n)) / math.sqrt(n)
    if kind == "perceptron":
        return X, sign_labels(X @ teacher)
    return X, sign_labels(sign_labels(X @ teacher.T).sum(axis=1))


def copy_and_ensemble_errors(model, params, X, y) -> tuple[np.ndarray, float]:
    """Test error of each copy, float64 (M,), and of their ensemble (majority vote or mean logits)."""
    y = np.asarray(y)
    errs = model.errors(params, X, y) / y.size
    ens = float(np.mean(model.vote(params, X) != y))
    return np.asarray(errs, dtype=FLOAT), ens


def mean_sem(x, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Mean over ``axis`` (the seeds) and its standard error ``std(ddof=1) / sqrt(n)`` (0 for n = 1).

    Examples
    --------
    >>> m, se = mean_sem([[0.1, 0.3], [0.2, 0.2]])
    >>> m.tolist(), se.round(6).tolist()
    ([0.2, 0.2], [0.1, 0.0])
    """
    x = np.asarray(x, dtype=FLOAT)
    n = x.shape[axis]
    mean = x.mean(axis=axis)
    if n < 2:
        return mean, np.zeros_like(mean)
    return mean, x.std(axis=axis, ddof=1) / math.sqrt(n)
