"""Small classification data sets for the MLP: handwritten digits and a synthetic teacher.

* :func:`digits` -- the 8x8 handwritten digits bundled with scikit-learn
  (1797 images, 10 classes; read from the installed package, no download);
* :func:`teacher_classification` -- Gaussian inputs labelled by a random
  teacher MLP (no dependency);
* :func:`digits_or_teacher` -- the digits when scikit-learn is importable,
  otherwise teacher data of the same sizes.

All return a :class:`ClassificationData`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from fgraph.dtypes import FLOAT, INDEX, as_generator

from ._base import check_positive_int, check_real

__all__ = ["ClassificationData", "digits", "digits_or_teacher", "teacher_classification"]

DIGITS_P = 1797


class ClassificationData(NamedTuple):
    """A train/test split of a classification data set.

    Attributes
    ----------
    X_train : ndarray of float64, shape (P, D)
    y_train : ndarray of int64, shape (P,)
        Class indices 0..n_classes-1.
    X_test : ndarray of float64, shape (P_test, D)
    y_test : ndarray of int64, shape (P_test,)
    n_classes : int
    source : str
        ``'sklearn-digits'`` or ``'teacher-mlp'``.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    source: str

    @property
    def train(self) -> tuple[np.ndarray, np.ndarray]:
        """``(X_train, y_train)``, a problem :func:`~algorithms.learning.train` accepts."""
        return self.X_train, self.y_train

    @property
    def test(self) -> tuple[np.ndarray, np.ndarray]:
        """``(X_test, y_test)``."""
        return self.X_test, self.y_test


def _check_fraction(test_fraction) -> float:
    tf = check_real(test_fraction, "test_fraction", lo=0.0, lo_open=True)
    if tf >= 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {tf}")
    return tf


def _stratified_split(y: np.ndarray, n_test: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Sorted train and test indices, int64, with every class split in proportion.

    Class c gets ``floor(n_c n_test / P)`` test examples, and the remaining
    ones go to the classes with the largest fractional parts (ties: lower
    class first), so the total is exactly ``n_test``.
    """
    classes, counts = np.unique(y, return_counts=True)
    quota = counts * n_test / y.size
    take = np.floor(quota).astype(INDEX)
    extra = n_test - int(take.sum())
    if extra:
        rank = np.lexsort((classes, -(quota - take)))      # largest remainder first, then class
        take[rank[:extra]] += 1
    test = []
    for c, k in zip(classes, take):
        members = np.flatnonzero(y == c)
        test.append(members[rng.permutation(members.size)[:k]])
    test = np.sort(np.concatenate(test)).astype(INDEX)
    train = np.setdiff1d(np.arange(y.size, dtype=INDEX), test)
    return train, test


def _standardize(X_train: np.ndarray, X_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Zero mean, unit variance per column with train statistics; constant columns become 0."""
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    const = std == 0.0
    scale = np.where(const, 1.0, std)                      # no division by zero
    Xtr = (X_train - mean) / scale
    Xte = (X_test - mean) / scale
    Xtr[:, const] = 0.0
    Xte[:, const] = 0.0
    return Xtr, Xte


def digits(seed=None, test_fraction: float = 0.25, standardize: bool = True) -> ClassificationData:
    """The scikit-learn 8x8 digits, split into train and test sets stratified by class.

    Parameters
    ----------
    seed : int, numpy Generator or None
        Draws the split (the same seed gives the same split).
    test_fraction : float in (0, 1)
        ``ceil(1797 test_fraction)`` images go to the test set (450 for 0.25).
    standardize : bool
        Center and scale every pixel with the training set's mean and standard
        deviation; pixels constant on the training set are set to 0.

    Returns
    -------
    ClassificationData
        ``X`` float64 (P, 64) (pixel values 0..16 when not standardized),
        ``y`` int64 digits 0..9, ``n_classes = 10``, ``source = 'sklearn-digits'``.

    Raises
    ------
    ImportError
        When scikit-learn is not installed.

    Examples
    --------
    >>> data = digits(seed=0)
    >>> data.X_train.shape, data.X_test.shape
    ((1347, 64), (450, 64))
    """
    tf = _check_fraction(test_fraction)
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise ImportError(
            "digits() needs scikit-learn (it reads the digits bundled with it): "
            "pip install scikit-learn, or use teacher_classification() for synthetic data"
        ) from exc
    raw = load_digits()
    X = np.ascontiguousarray(raw.data, dtype=FLOAT)
    y = np.asarray(raw.target, dtype=INDEX)
    n_test = math.ceil(y.size * tf)
    if not 1 <= n_test < y.size:
        raise ValueError(f"test_fraction={tf} leaves an empty train or test set")
    train, test = _stratified_split(y, n_test, as_generator(seed))
    Xtr, Xte = X[train], X[test]
    if standardize:
        Xtr, Xte = _standardize(Xtr, Xte)
    return ClassificationData(
        np.ascontiguousarray(Xtr), y[train], np.ascontiguousarray(Xte), y[test], 10, "sklearn-digits"
    )


def teacher_classification(n_train: int, n_test: int, d: int = 64, n_classes: int = 10, hidden: int = 32,
                           seed=None) -> ClassificationData:
    """Gaussian inputs labelled by a random one-hidden-layer tanh teacher.

    Inputs are i.i.d. ``N(0, 1)``; the teacher computes
    ``z = W2 tanh(W1 x) + b2`` with ``W1`` i.i.d. ``N(0, 1/d)`` (hidden, d),
    ``W2`` i.i.d. ``N(0, 1/hidden)`` (n_classes, hidden), and the label is
    ``argmax z``.  The biases ``b2`` are minus the mean logits over a separate
    reference sample, which keeps the classes about equally frequent.

    Parameters
    ----------
    n_train, n_test : int >= 1
    d : int >= 1
        Input dimension.
    n_classes : int >= 2
    hidden : int >= 1
        Teacher hidden units.
    seed : int, numpy Generator or None

    Returns
    -------
    ClassificationData
        ``X`` float64 (n, d), ``y`` int64 (n,), ``source = 'teacher-mlp'``.

    Examples
    --------
    >>> data = teacher_classification(300, 100, d=16, n_classes=3, hidden=8, seed=0)
    >>> data.X_train.shape, data.y_test.shape, data.source
    ((300, 16), (100,), 'teacher-mlp')
    >>> sorted(set(data.y_train.tolist()))
    [0, 1, 2]
    """
    n_train = check_positive_int(n_train, "n_train")
    n_test = check_positive_int(n_test, "n_test")
    d = check_positive_int(d, "d")
    n_classes = check_positive_int(n_classes, "n_classes", lo=2)
    hidden = check_positive_int(hidden, "hidden")
    rng = as_generator(seed)
    W1 = rng.standard_normal((hidden, d)) / math.sqrt(d)
    W2 = rng.standard_normal((n_classes, hidden)) / math.sqrt(hidden)

    def logits(X):
        return np.tanh(X @ W1.T) @ W2.T

    b2 = -logits(rng.standard_normal((4096, d))).mean(axis=0)
    X = rng.standard_normal((n_train + n_test, d))
    y = (logits(X) + b2).argmax(axis=1).astype(INDEX)
    return ClassificationData(
        np.ascontiguousarray(X[:n_train]), y[:n_train], np.ascontiguousarray(X[n_train:]), y[n_train:],
        n_classes, "teacher-mlp",
    )


def digits_or_teacher(seed=None, test_fraction: float = 0.25, standardize: bool = True) -> ClassificationData:
    """:func:`digits` when scikit-learn is importable, else :func:`teacher_classification` of the same sizes.

    The fallback has d = 64, 10 classes, a 32-unit teacher and the digits'
    split sizes (1347 train, 450 test for ``test_fraction=0.25``); check
    ``source`` to see which one you got.

    Examples
    --------
    >>> data = digits_or_teacher(seed=0)
    >>> data.X_train.shape, data.X_test.shape, data.n_classes
    ((1347, 64), (450, 64), 10)
    """
    tf = _check_fraction(test_fraction)
    try:
        import sklearn.datasets  # noqa: F401
    except ImportError:
        n_test = math.ceil(DIGITS_P * tf)
        return teacher_classification(DIGITS_P - n_test, n_test, d=64, n_classes=10, hidden=32, seed=seed)
    return digits(seed=seed, test_fraction=tf, standardize=standardize)
